/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AVX2 tier of the kinsn matrix family (prototypes and bounds in
 * include/kinsn_mem.h). Assembled into the module and, for the host
 * tests, into user space: the callers own the vector registers.
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
