// SPDX-License-Identifier: GPL-2.0
/*
 * kinsn_crc32c: CRC32C of 1, 2, 4 or 8 bytes (little-endian) as one x86
 * crc32 instruction. No inversion: callers start from ~0 and invert at the
 * end, as usual for CRC32C.
 *
 *   u32 bpf_crc32c_u64(u32 crc, u64 v) __ksym;
 *
 * bpf_crc32c_u8 has an operand form (kinsn_defs.h) for rewriters: the step
 * of a byte on the registers the program uses, one crc32 instruction.
 *
 * And of a buffer, a function-like kinsn (kinsn_mem.h): the call stays a
 * call, its body runs crc32 over 8 bytes at a time where the CPU has it.
 *
 *   u32 bpf_crc32c(u32 crc, const void *buf, u32 buf__sz) __ksym;
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "kinsn_mem.h"
#include "kinsn_module.h"

static bool native = true;
module_param(native, bool, 0444);
MODULE_PARM_DESC(native, "emit native instructions (default); 0: the JIT calls the C bodies");

__bpf_kfunc_start_defs();

__bpf_kfunc u32 bpf_crc32c_u8(u32 crc, u8 v)
{
	return kinsn_crc32c_u8(crc, v, 0);
}

__bpf_kfunc u32 bpf_crc32c_u16(u32 crc, u16 v)
{
	return kinsn_crc32c_u16(crc, v, 0);
}

__bpf_kfunc u32 bpf_crc32c_u32(u32 crc, u32 v)
{
	return kinsn_crc32c_u32(crc, v, 0);
}

__bpf_kfunc u32 bpf_crc32c_u64(u32 crc, u64 v)
{
	return kinsn_crc32c_u64(crc, v, 0);
}

__bpf_kfunc u32 bpf_crc32c(u32 crc, const void *buf, u32 buf__sz)
{
#ifdef CONFIG_X86_64
	if (native && boot_cpu_has(X86_FEATURE_XMM4_2))
		return kinsn_crc32c_buf_x86(crc, buf, buf__sz);
#endif
	return kinsn_crc32c_buf(crc, buf, buf__sz);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(crc32c_ids)
BTF_ID_FLAGS(func, bpf_crc32c_u8)
BTF_ID_FLAGS(func, bpf_crc32c_u16)
BTF_ID_FLAGS(func, bpf_crc32c_u32)
BTF_ID_FLAGS(func, bpf_crc32c_u64)
BTF_ID_FLAGS(func, bpf_crc32c)
BTF_KFUNCS_END(crc32c_ids)

static const struct btf_kfunc_id_set crc32c_set = {
	.owner = THIS_MODULE,
	.set = &crc32c_ids,
};

/* In the order of kinsn_crc32c_defs. */
static void *const crc32c_funcs[] = {
	bpf_crc32c_u8, bpf_crc32c_u16, bpf_crc32c_u32, bpf_crc32c_u64,
};

static struct kinsn_entry crc32c_kinsns[ARRAY_SIZE(kinsn_crc32c_defs)];

static const char *const crc32c_buf_names[] = { "bpf_crc32c" };
static void *const crc32c_buf_funcs[] = { bpf_crc32c };
static struct bpf_kinsn crc32c_buf_kinsns[ARRAY_SIZE(crc32c_buf_funcs)];

static int __init crc32c_init(void)
{
	int err;

	BUILD_BUG_ON(ARRAY_SIZE(crc32c_funcs) != ARRAY_SIZE(kinsn_crc32c_defs));
	err = kinsn_register_bodies(crc32c_buf_kinsns, crc32c_buf_names,
				    crc32c_buf_funcs, ARRAY_SIZE(crc32c_buf_funcs));
	if (err)
		return err;
	err = kinsn_module_init(crc32c_kinsns, kinsn_crc32c_defs, crc32c_funcs,
				ARRAY_SIZE(crc32c_funcs), &crc32c_set, native);
	if (err)
		kinsn_unregister_bodies(crc32c_buf_kinsns,
					ARRAY_SIZE(crc32c_buf_kinsns));
	return err;
}

static void __exit crc32c_exit(void)
{
	kinsn_module_exit(crc32c_kinsns, ARRAY_SIZE(crc32c_kinsns));
	kinsn_unregister_bodies(crc32c_buf_kinsns, ARRAY_SIZE(crc32c_buf_kinsns));
}

module_init(crc32c_init);
module_exit(crc32c_exit);
MODULE_DESCRIPTION("kinsn: CRC32C as a BPF instruction");
MODULE_LICENSE("GPL");
