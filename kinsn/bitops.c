// SPDX-License-Identifier: GPL-2.0
/*
 * kinsn_bitops: rotate, popcount, leading/trailing zero count, select and
 * bit-field extract, each one or a few x86 instructions.
 *
 *   u64 bpf_rol64(u64 x, u32 n) __ksym;          rotate left by n % 64
 *   u64 bpf_ror64(u64 x, u32 n) __ksym;
 *   u32 bpf_rol32(u32 x, u32 n) __ksym;          rotate left by n % 32
 *   u32 bpf_ror32(u32 x, u32 n) __ksym;
 *   u64 bpf_popcnt64(u64 x) __ksym;
 *   u64 bpf_clz64(u64 x) __ksym;                 64 for 0
 *   u64 bpf_ctz64(u64 x) __ksym;                 64 for 0
 *   u64 bpf_select64(u64 cond, u64 a, u64 b) __ksym;   cond ? a : b
 *   u64 bpf_bextr64(u64 x, u32 start, u32 len) __ksym;
 *
 * Operand forms (kinsn_defs.h), for rewriters of compiled code: bpf_rol64
 * and bpf_rol32 rotate a register by an immediate in place, bpf_select64
 * is a conditional move, bpf_bextr64 a bit-field extract and bpf_popcnt64
 * a 32- or 64-bit population count.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "kinsn_module.h"

static bool native = true;
module_param(native, bool, 0444);
MODULE_PARM_DESC(native, "emit native instructions (default); 0: the JIT calls the C bodies");

__bpf_kfunc_start_defs();

__bpf_kfunc u64 bpf_rol64(u64 x, u32 n)
{
	return kinsn_rol64(x, n, 0);
}

__bpf_kfunc u64 bpf_ror64(u64 x, u32 n)
{
	return kinsn_ror64(x, n, 0);
}

__bpf_kfunc u32 bpf_rol32(u32 x, u32 n)
{
	return kinsn_rol32(x, n, 0);
}

__bpf_kfunc u32 bpf_ror32(u32 x, u32 n)
{
	return kinsn_ror32(x, n, 0);
}

__bpf_kfunc u64 bpf_popcnt64(u64 x)
{
	return kinsn_popcnt64(x, 0, 0);
}

__bpf_kfunc u64 bpf_clz64(u64 x)
{
	return kinsn_clz64(x, 0, 0);
}

__bpf_kfunc u64 bpf_ctz64(u64 x)
{
	return kinsn_ctz64(x, 0, 0);
}

__bpf_kfunc u64 bpf_select64(u64 cond, u64 a, u64 b)
{
	return kinsn_select64(cond, a, b);
}

__bpf_kfunc u64 bpf_bextr64(u64 x, u32 start, u32 len)
{
	return kinsn_bextr64(x, start, len);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(bitops_ids)
BTF_ID_FLAGS(func, bpf_rol64)
BTF_ID_FLAGS(func, bpf_ror64)
BTF_ID_FLAGS(func, bpf_rol32)
BTF_ID_FLAGS(func, bpf_ror32)
BTF_ID_FLAGS(func, bpf_popcnt64)
BTF_ID_FLAGS(func, bpf_clz64)
BTF_ID_FLAGS(func, bpf_ctz64)
BTF_ID_FLAGS(func, bpf_select64)
BTF_ID_FLAGS(func, bpf_bextr64)
BTF_KFUNCS_END(bitops_ids)

static const struct btf_kfunc_id_set bitops_set = {
	.owner = THIS_MODULE,
	.set = &bitops_ids,
};

/* In the order of kinsn_bitops_defs. */
static void *const bitops_funcs[] = {
	bpf_rol64, bpf_ror64, bpf_rol32, bpf_ror32, bpf_popcnt64,
	bpf_clz64, bpf_ctz64, bpf_select64, bpf_bextr64,
};

static struct kinsn_entry bitops_kinsns[ARRAY_SIZE(kinsn_bitops_defs)];

static int __init bitops_init(void)
{
	BUILD_BUG_ON(ARRAY_SIZE(bitops_funcs) != ARRAY_SIZE(kinsn_bitops_defs));
	return kinsn_module_init(bitops_kinsns, kinsn_bitops_defs, bitops_funcs,
				 ARRAY_SIZE(bitops_funcs), &bitops_set, native);
}

static void __exit bitops_exit(void)
{
	kinsn_module_exit(bitops_kinsns, ARRAY_SIZE(bitops_kinsns));
}

module_init(bitops_init);
module_exit(bitops_exit);
MODULE_DESCRIPTION("kinsn: rotate, popcount, clz/ctz, select, bit-field extract");
MODULE_LICENSE("GPL");
