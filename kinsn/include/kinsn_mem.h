/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Function-like kinsns: kfuncs that work on memory (buffer CRC32C, int8
 * dot product, small int8 and bf16 GEMM). They have no emitter: the call stays a
 * call and the body picks the fastest tier the CPU (and the calling
 * context) allows. This header holds their meaning, in portable C, and
 * the vector tiers, shared by the modules and by the host tests, which
 * run the tiers on the real CPU against the meaning.
 */
#ifndef KINSN_MEM_H
#define KINSN_MEM_H

#ifdef __KERNEL__
#include <linux/string.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <string.h>
typedef int8_t s8;
typedef uint8_t u8;
typedef uint16_t u16;
typedef int32_t s32;
typedef uint32_t u32;
typedef int64_t s64;
typedef uint64_t u64;
#endif

/* ---- CRC32C of a buffer, no inversion (as kinsn_crc32c() per value) ---- */

static inline u32 kinsn_crc32c_buf(u32 crc, const u8 *p, u32 len)
{
	int k;

	for (; len; p++, len--) {
		crc ^= *p;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78 & (0u - (crc & 1)));
	}
	return crc;
}

#ifdef __x86_64__
/* SSE4.2 crc32: 8 bytes per instruction, then the tail byte by byte. */
static inline u32 kinsn_crc32c_buf_x86(u32 crc, const u8 *p, u32 len)
{
	u64 c = crc, v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, 8);
		asm("crc32q %1, %0" : "+r"(c) : "rm"(v));
	}
	for (; len; p++, len--)
		asm("crc32b %1, %k0" : "+r"(c) : "rm"(*p));
	return c;
}
#endif

/* ---- int8 dot product and GEMM ---- */

/* sum of a[i] * b[i] for i < n */
static inline s64 kinsn_dot_i8(const s8 *a, const s8 *b, u32 n)
{
	s64 sum = 0;
	u32 i;

	for (i = 0; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

/*
 * bpf_gemm_i8's shape argument: C (m x n, s32) = A (m x k) * B (k x n),
 * all row-major, A and B int8 and next to each other in one buffer.
 * Bounded so that one call stays short and no s32 sum can overflow
 * (|sum| <= k * 2^14 < 2^31).
 */
#define KINSN_GEMM_SHAPE(m, n, k) ((m) | (n) << 8 | (u32)(k) << 16)
#define KINSN_GEMM_MAX_K 4096

struct kinsn_gemm_dims {
	u32 m, n, k;
};

/*
 * 0 if @shape is valid and the buffers are large enough for A and B of
 * @elem bytes per element and a 4-byte C, else -22 (EINVAL).
 */
static inline int kinsn_gemm_check_elem(u32 shape, u32 c_size, u32 ab_size,
					u32 elem, struct kinsn_gemm_dims *d)
{
	d->m = shape & 0xff;
	d->n = shape >> 8 & 0xff;
	d->k = shape >> 16;
	if (!d->m || !d->n || !d->k || d->k > KINSN_GEMM_MAX_K)
		return -22;
	if (c_size < 4 * d->m * d->n ||
	    ab_size < elem * (d->m * d->k + d->k * d->n))
		return -22;
	return 0;
}

static inline int kinsn_gemm_check(u32 shape, u32 c_size, u32 ab_size,
				   struct kinsn_gemm_dims *d)
{
	return kinsn_gemm_check_elem(shape, c_size, ab_size, 1, d);
}

/* Columns [j0, n) of row i of C. */
static inline void kinsn_gemm_i8_cols(s32 *c, const s8 *a, const s8 *b,
				      const struct kinsn_gemm_dims *d, u32 i,
				      u32 j0)
{
	u32 j, p;

	for (j = j0; j < d->n; j++) {
		s32 sum = 0;

		for (p = 0; p < d->k; p++)
			sum += a[i * d->k + p] * b[p * d->n + j];
		c[i * d->n + j] = sum;
	}
}

static inline void kinsn_gemm_i8(s32 *c, const s8 *a, const s8 *b,
				 const struct kinsn_gemm_dims *d)
{
	u32 i;

	for (i = 0; i < d->m; i++)
		kinsn_gemm_i8_cols(c, a, b, d, i, 0);
}

#ifdef __x86_64__
/*
 * AVX2 tier (kinsn/matrix_avx2.S). Callers own the vector registers
 * (kernel_fpu_begin() in the kernel) and keep within the bounds below.
 */
#ifdef __cplusplus
extern "C" {
#endif
/* n a multiple of 16, at most KINSN_DOT_AVX2_CHUNK: s32 lanes cannot overflow */
s32 kinsn_dot_i8_avx2(const s8 *a, const s8 *b, u32 n);
/* c[j] = sum over p < k of a[p] * b[p * ldb + j], for j < 8 */
void kinsn_gemm8_avx2(s32 *c, const s8 *a, const s8 *b, u32 k, u32 ldb);
/* bf16 (kinsn_gemm_bf16_ref): one element of C over an SSE register... */
u32 kinsn_dot_bf16_sse(const u16 *a, const u16 *b, u32 k, u32 ldb);
/* ...and 8 columns at a time in AVX2, with the same operations */
void kinsn_gemm8_bf16_avx2(u32 *c, const u16 *a, const u16 *b, u32 k, u32 ldb);
#ifdef __cplusplus
}
#endif

#define KINSN_DOT_AVX2_CHUNK 65536u

#ifndef KINSN_FPU_BEGIN
#define KINSN_FPU_BEGIN()
#define KINSN_FPU_END()
#endif

/*
 * The vector dot product: 16-byte blocks in chunks, one FPU section per
 * chunk (so that preemption is never off for long), the tail scalar.
 */
static inline s64 kinsn_dot_i8_x86(const s8 *a, const s8 *b, u32 n)
{
	s64 sum = 0;
	u32 chunk;

	while (n >= 16) {
		chunk = (n < KINSN_DOT_AVX2_CHUNK ? n : KINSN_DOT_AVX2_CHUNK) & ~15u;
		KINSN_FPU_BEGIN();
		sum += kinsn_dot_i8_avx2(a, b, chunk);
		KINSN_FPU_END();
		a += chunk, b += chunk, n -= chunk;
	}
	return sum + kinsn_dot_i8(a, b, n);
}

/* The vector GEMM: 8 columns at a time, one FPU section per row of C. */
static inline void kinsn_gemm_i8_x86(s32 *c, const s8 *a, const s8 *b,
				     const struct kinsn_gemm_dims *d)
{
	u32 i, j;

	for (i = 0; i < d->m; i++) {
		KINSN_FPU_BEGIN();
		for (j = 0; j + 8 <= d->n; j += 8)
			kinsn_gemm8_avx2(&c[i * d->n + j], &a[i * d->k], &b[j],
					 d->k, d->n);
		KINSN_FPU_END();
		kinsn_gemm_i8_cols(c, a, b, d, i, j);
	}
}

/*
 * bf16 GEMM: C (m x n, fp32 bits) = A (m x k) * B (k x n), A and B bf16
 * (the high half of an fp32), row-major, next to each other in one
 * buffer; the shape argument as for int8. There is no integer tier: even
 * scalar, bf16 needs the SSE unit, so the caller must be able to use the
 * FPU. One FPU section per 8 columns of a row (<= 32768 multiply-adds).
 */
static inline void kinsn_gemm_bf16_x86(u32 *c, const u16 *a, const u16 *b,
				       const struct kinsn_gemm_dims *d,
				       int avx2)
{
	u32 i, j, q;

	for (i = 0; i < d->m; i++)
		for (j = 0; j < d->n; j += 8) {
			u32 *cj = &c[i * d->n + j];
			const u16 *ai = &a[i * d->k];

			KINSN_FPU_BEGIN();
			if (avx2 && j + 8 <= d->n)
				kinsn_gemm8_bf16_avx2(cj, ai, &b[j], d->k, d->n);
			else
				for (q = 0; q < 8 && j + q < d->n; q++)
					cj[q] = kinsn_dot_bf16_sse(ai, &b[j + q],
								   d->k, d->n);
			KINSN_FPU_END();
		}
}
#endif

#ifndef __KERNEL__
/*
 * The meaning of bf16 GEMM, in C for the tests (the kernel builds without
 * floating point): each element of C starts at +0.0f and adds a * b for
 * p = 0, 1, ..., k - 1, the product and the sum each rounded to nearest
 * fp32 (no fused multiply-add, no flush to zero), so every tier gives the
 * same bits; only a NaN's payload may differ. Build with -ffp-contract=off.
 */
static inline float kinsn_bf16_float(u16 v)
{
	u32 bits = (u32)v << 16;
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

static inline void kinsn_gemm_bf16_ref(u32 *c, const u16 *a, const u16 *b,
				       const struct kinsn_gemm_dims *d)
{
	u32 i, j, p;

	for (i = 0; i < d->m; i++)
		for (j = 0; j < d->n; j++) {
			float sum = 0.0f;

			for (p = 0; p < d->k; p++) {
				float prod = kinsn_bf16_float(a[i * d->k + p]) *
					     kinsn_bf16_float(b[p * d->n + j]);

				sum = sum + prod;
			}
			memcpy(&c[i * d->n + j], &sum, sizeof(sum));
		}
}
#endif

#endif /* KINSN_MEM_H */
