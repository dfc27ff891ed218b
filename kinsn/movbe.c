// SPDX-License-Identifier: GPL-2.0
/*
 * kinsn_movbe: big-endian loads as one x86 movbe, the byte swap folded
 * into the load. Network headers are big-endian, so parsers load and swap
 * (ldx + be16/be32/be64) at every field.
 *
 *   u32 bpf_load_be16(const u16 *p) __ksym;
 *   u32 bpf_load_be32(const u32 *p) __ksym;
 *   u64 bpf_load_be64(const u64 *p) __ksym;
 *
 * The verifier checks p as for any kfunc memory argument: the 2, 4 or 8
 * bytes must be program memory (packet after a bounds check, map value,
 * stack; kernel objects are refused), and, as it checks for writes too,
 * writable. KF_TRUSTED_ARGS refuses NULL and maybe-NULL pointers, which
 * memory arguments otherwise let through, so the load cannot fault. Any
 * alignment.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "kinsn_module.h"

static bool native = true;
module_param(native, bool, 0444);
MODULE_PARM_DESC(native, "emit native instructions (default); 0: the JIT calls the C bodies");

__bpf_kfunc_start_defs();

__bpf_kfunc u32 bpf_load_be16(const u16 *p)
{
	return kinsn_load_be16((unsigned long)p, 0, 0);
}

__bpf_kfunc u32 bpf_load_be32(const u32 *p)
{
	return kinsn_load_be32((unsigned long)p, 0, 0);
}

__bpf_kfunc u64 bpf_load_be64(const u64 *p)
{
	return kinsn_load_be64((unsigned long)p, 0, 0);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(movbe_ids)
BTF_ID_FLAGS(func, bpf_load_be16, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_load_be32, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, bpf_load_be64, KF_TRUSTED_ARGS)
BTF_KFUNCS_END(movbe_ids)

static const struct btf_kfunc_id_set movbe_set = {
	.owner = THIS_MODULE,
	.set = &movbe_ids,
};

/* In the order of kinsn_movbe_defs. */
static void *const movbe_funcs[] = {
	bpf_load_be16, bpf_load_be32, bpf_load_be64,
};

static struct kinsn_entry movbe_kinsns[ARRAY_SIZE(kinsn_movbe_defs)];

static int __init movbe_init(void)
{
	BUILD_BUG_ON(ARRAY_SIZE(movbe_funcs) != ARRAY_SIZE(kinsn_movbe_defs));
	return kinsn_module_init(movbe_kinsns, kinsn_movbe_defs, movbe_funcs,
				 ARRAY_SIZE(movbe_funcs), &movbe_set, native);
}

static void __exit movbe_exit(void)
{
	kinsn_module_exit(movbe_kinsns, ARRAY_SIZE(movbe_kinsns));
}

module_init(movbe_init);
module_exit(movbe_exit);
MODULE_DESCRIPTION("kinsn: big-endian loads (movbe) as BPF instructions");
MODULE_LICENSE("GPL");
