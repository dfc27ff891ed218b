// SPDX-License-Identifier: GPL-2.0
/*
 * kinsn_matrix: int8 dot product and small int8 and bf16 GEMM for BPF
 * programs.
 *
 *   s64 bpf_dot_i8(const s8 *a, u32 a__sz, const s8 *b, u32 b__sz) __ksym;
 *	sum of a[i] * b[i] over the first min(a__sz, b__sz) elements
 *   int bpf_gemm_i8(s32 *c, u32 c__sz, const s8 *ab, u32 ab__sz,
 *		     u32 shape) __ksym;
 *	C = A * B for KINSN_GEMM_SHAPE(m, n, k), A and B in ab; -EINVAL
 *	(C untouched) for a bad shape or buffers too small
 *   int bpf_gemm_bf16(u32 *c, u32 c__sz, const u16 *ab, u32 ab__sz,
 *		       u32 shape) __ksym;
 *	the same with bf16 A and B and fp32 C (bits), summed in order
 *	(kinsn_mem.h); -EBUSY (C untouched) where the FPU is not usable,
 *	as bf16 has no integer tier
 *
 * The verifier checks the memory arguments against their sizes (BTF
 * "__sz"); the body is the kinsn. Tiers: scalar always (C; for bf16,
 * SSE one element at a time); AVX2 where the CPU and the kernel's FPU
 * state allow it and the caller's context may use the FPU (not in every
 * NMI or hard irq). "auto" takes AVX2 from
 * vector_min multiply-adds on: below that, kernel_fpu_begin()/end() and
 * the horizontal sum cost more than the vector loop saves (int8 only:
 * bf16 pays for the FPU in both tiers).
 *
 * AMX (AMX-INT8, AMX-BF16): 6.12 gives kernel code no tile state:
 * kernel_fpu_begin() neither saves nor enables XTILEDATA (a per-task,
 * XFD-armed feature for user space), so an AMX tier would fault or
 * corrupt a task's tiles. The
 * "amx" tier is therefore refused, with the reason, on every machine.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/fpu/api.h>
#include <asm/fpu/xstate.h>

#include "kinsn_module.h"

#define KINSN_FPU_BEGIN() kernel_fpu_begin()
#define KINSN_FPU_END() kernel_fpu_end()
#include "kinsn_mem.h"

enum tier { TIER_AUTO, TIER_SCALAR, TIER_AVX2, TIER_AMX };
static const char *const tier_names[] = { "auto", "scalar", "avx2", "amx" };

static int tier = TIER_AUTO;
static bool have_avx2;
static unsigned int vector_min = 256;
module_param(vector_min, uint, 0644);
MODULE_PARM_DESC(vector_min, "tier auto: multiply-adds from which AVX2 is used (default 256)");

static atomic_long_t vector_calls = ATOMIC_LONG_INIT(0);

static const char *amx_missing(void)
{
	if (!boot_cpu_has(X86_FEATURE_AMX_TILE) || !boot_cpu_has(X86_FEATURE_AMX_INT8))
		return "CPU lacks AMX-TILE/AMX-INT8";
	return "kernel code has no AMX tile state in this kernel (kernel_fpu_begin() leaves XTILEDATA to user space)";
}

static int tier_set(const char *val, const struct kernel_param *kp)
{
	int t = sysfs_match_string(tier_names, val);

	if (t < 0)
		return -EINVAL;
	if (t == TIER_AVX2 && !have_avx2) {
		pr_warn("tier avx2: CPU or kernel lacks AVX2 state\n");
		return -EOPNOTSUPP;
	}
	if (t == TIER_AMX) {
		pr_warn("tier amx: %s\n", amx_missing());
		return -EOPNOTSUPP;
	}
	WRITE_ONCE(tier, t);
	return 0;
}

static int tier_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", tier_names[READ_ONCE(tier)]);
}

static const struct kernel_param_ops tier_ops = { .set = tier_set, .get = tier_get };
module_param_cb(tier, &tier_ops, NULL, 0644);
MODULE_PARM_DESC(tier, "auto (default), scalar or avx2; amx is refused (see dmesg)");

static int vector_calls_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&vector_calls));
}

static const struct kernel_param_ops vector_calls_ops = { .get = vector_calls_get };
module_param_cb(vector_calls, &vector_calls_ops, NULL, 0444);
MODULE_PARM_DESC(vector_calls, "calls that ran the AVX2 tier");

/* Vector tier for @work multiply-adds here and now? */
static bool use_avx2(u64 work)
{
	int t = READ_ONCE(tier);

	if (t == TIER_SCALAR || !have_avx2)
		return false;
	if (t == TIER_AUTO && work < READ_ONCE(vector_min))
		return false;
	if (!irq_fpu_usable())
		return false;
	atomic_long_inc(&vector_calls);
	return true;
}

__bpf_kfunc_start_defs();

__bpf_kfunc s64 bpf_dot_i8(const s8 *a, u32 a__sz, const s8 *b, u32 b__sz)
{
	u32 n = min(a__sz, b__sz);

	if (n >= 16 && use_avx2(n))
		return kinsn_dot_i8_x86(a, b, n);
	return kinsn_dot_i8(a, b, n);
}

__bpf_kfunc int bpf_gemm_i8(s32 *c, u32 c__sz, const s8 *ab, u32 ab__sz,
			    u32 shape)
{
	struct kinsn_gemm_dims d;

	if (kinsn_gemm_check(shape, c__sz, ab__sz, &d))
		return -EINVAL;
	if (d.n >= 8 && use_avx2((u64)d.m * d.n * d.k))
		kinsn_gemm_i8_x86(c, ab, ab + d.m * d.k, &d);
	else
		kinsn_gemm_i8(c, ab, ab + d.m * d.k, &d);
	return 0;
}

__bpf_kfunc int bpf_gemm_bf16(u32 *c, u32 c__sz, const u16 *ab, u32 ab__sz,
			      u32 shape)
{
	struct kinsn_gemm_dims d;
	bool avx2;

	if (kinsn_gemm_check_elem(shape, c__sz, ab__sz, 2, &d))
		return -EINVAL;
	if (!irq_fpu_usable())
		return -EBUSY;
	/* Both tiers pay for the FPU section here, so size does not decide. */
	avx2 = d.n >= 8 && use_avx2(U64_MAX);
	kinsn_gemm_bf16_x86(c, ab, ab + d.m * d.k, &d, avx2);
	return 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(matrix_ids)
BTF_ID_FLAGS(func, bpf_dot_i8)
BTF_ID_FLAGS(func, bpf_gemm_i8)
BTF_ID_FLAGS(func, bpf_gemm_bf16)
BTF_KFUNCS_END(matrix_ids)

static const struct btf_kfunc_id_set matrix_set = {
	.owner = THIS_MODULE,
	.set = &matrix_ids,
};

static const char *const matrix_names[] = { "bpf_dot_i8", "bpf_gemm_i8", "bpf_gemm_bf16" };
static void *const matrix_funcs[] = { bpf_dot_i8, bpf_gemm_i8, bpf_gemm_bf16 };
static struct bpf_kinsn matrix_kinsns[ARRAY_SIZE(matrix_funcs)];

static int __init matrix_init(void)
{
	int err;

	have_avx2 = boot_cpu_has(X86_FEATURE_AVX2) &&
		    cpu_has_xfeatures(XFEATURE_MASK_SSE | XFEATURE_MASK_YMM, NULL);
	pr_info("tiers: scalar%s; amx: %s\n", have_avx2 ? ", avx2" : " (CPU lacks AVX2)",
		amx_missing());
	err = kinsn_register_bodies(matrix_kinsns, matrix_names, matrix_funcs,
				    ARRAY_SIZE(matrix_funcs));
	if (err)
		return err;
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_UNSPEC, &matrix_set);
	if (err)
		kinsn_unregister_bodies(matrix_kinsns, ARRAY_SIZE(matrix_kinsns));
	return err;
}

static void __exit matrix_exit(void)
{
	kinsn_unregister_bodies(matrix_kinsns, ARRAY_SIZE(matrix_kinsns));
}

module_init(matrix_init);
module_exit(matrix_exit);
MODULE_DESCRIPTION("kinsn: int8 dot product, int8 and bf16 GEMM for BPF, AVX2 or scalar");
MODULE_LICENSE("GPL");
