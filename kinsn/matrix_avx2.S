/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Vector code of the kinsn matrix family: the AVX2 tier, and bf16 GEMM's
 * scalar SSE code (prototypes and bounds in include/kinsn_mem.h).
 * Assembled into the module and, for the host tests, into user space: the
 * callers own the vector registers.
 */
#ifdef __KERNEL__
#include <linux/linkage.h>
#else
#define SYM_FUNC_START(name) .globl name; .type name, @function; name:
#define SYM_FUNC_END(name) .size name, . - name
#define RET ret
	.section .note.GNU-stack, "", @progbits
#endif

	.text

/* s32 kinsn_dot_i8_avx2(const s8 *a, const s8 *b, u32 n) */
SYM_FUNC_START(kinsn_dot_i8_avx2)
	vpxor		%ymm0, %ymm0, %ymm0
	shr		$4, %edx
	jz		2f
1:	vpmovsxbw	(%rdi), %ymm1		/* 16 x s8 -> s16 */
	vpmovsxbw	(%rsi), %ymm2
	vpmaddwd	%ymm2, %ymm1, %ymm1	/* pairwise products -> 8 x s32 */
	vpaddd		%ymm1, %ymm0, %ymm0
	add		$16, %rdi
	add		$16, %rsi
	dec		%edx
	jnz		1b
2:	vextracti128	$1, %ymm0, %xmm1	/* horizontal sum of 8 lanes */
	vpaddd		%xmm1, %xmm0, %xmm0
	vpshufd		$0x4e, %xmm0, %xmm1
	vpaddd		%xmm1, %xmm0, %xmm0
	vpshufd		$0xb1, %xmm0, %xmm1
	vpaddd		%xmm1, %xmm0, %xmm0
	vmovd		%xmm0, %eax
	vzeroupper
	RET
SYM_FUNC_END(kinsn_dot_i8_avx2)

/* void kinsn_gemm8_avx2(s32 *c, const s8 *a, const s8 *b, u32 k, u32 ldb) */
SYM_FUNC_START(kinsn_gemm8_avx2)
	vpxor		%ymm0, %ymm0, %ymm0
	mov		%r8d, %r8d		/* ldb as a 64-bit stride */
	test		%ecx, %ecx
	jz		2f
1:	movsbl		(%rsi), %eax
	vmovd		%eax, %xmm1
	vpbroadcastd	%xmm1, %ymm1		/* a[p] in every lane */
	vpmovsxbd	(%rdx), %ymm2		/* b[p * ldb + 0..7] -> s32 */
	vpmulld		%ymm1, %ymm2, %ymm2
	vpaddd		%ymm2, %ymm0, %ymm0
	inc		%rsi
	add		%r8, %rdx
	dec		%ecx
	jnz		1b
2:	vmovdqu		%ymm0, (%rdi)
	vzeroupper
	RET
SYM_FUNC_END(kinsn_gemm8_avx2)

/*
 * bf16 GEMM, one element: a * b in fp32 (a bf16 is an fp32's high half),
 * then sum + product, each rounded; operands in the order of the meaning.
 *
 * u32 kinsn_dot_bf16_sse(const u16 *a, const u16 *b, u32 k, u32 ldb)
 */
SYM_FUNC_START(kinsn_dot_bf16_sse)
	xorps		%xmm0, %xmm0		/* sum = +0.0 */
	mov		%ecx, %ecx
	add		%rcx, %rcx		/* ldb in bytes */
	test		%edx, %edx
	jz		2f
1:	movzwl		(%rdi), %eax
	shl		$16, %eax
	movd		%eax, %xmm1		/* a[p] */
	movzwl		(%rsi), %eax
	shl		$16, %eax
	movd		%eax, %xmm2		/* b[p * ldb] */
	mulss		%xmm2, %xmm1
	addss		%xmm1, %xmm0
	add		$2, %rdi
	add		%rcx, %rsi
	dec		%edx
	jnz		1b
2:	movd		%xmm0, %eax
	RET
SYM_FUNC_END(kinsn_dot_bf16_sse)

/* void kinsn_gemm8_bf16_avx2(u32 *c, const u16 *a, const u16 *b, u32 k, u32 ldb) */
SYM_FUNC_START(kinsn_gemm8_bf16_avx2)
	vxorps		%ymm0, %ymm0, %ymm0
	mov		%r8d, %r8d
	add		%r8, %r8		/* ldb in bytes */
	test		%ecx, %ecx
	jz		2f
1:	movzwl		(%rsi), %eax
	shl		$16, %eax
	vmovd		%eax, %xmm1
	vbroadcastss	%xmm1, %ymm1		/* a[p] in every lane */
	vpmovzxwd	(%rdx), %ymm2		/* b[p * ldb + 0..7] */
	vpslld		$16, %ymm2, %ymm2	/* bf16 -> fp32 */
	vmulps		%ymm2, %ymm1, %ymm1	/* a * b */
	vaddps		%ymm1, %ymm0, %ymm0	/* sum + product */
	add		$2, %rsi
	add		%r8, %rdx
	dec		%ecx
	jnz		1b
2:	vmovdqu		%ymm0, (%rdi)
	vzeroupper
	RET
SYM_FUNC_END(kinsn_gemm8_bf16_avx2)
