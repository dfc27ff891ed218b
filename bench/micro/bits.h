/* SPDX-License-Identifier: GPL-2.0 */
/* Byte-order loads, rotates and lookup3's mix as BPF programs write them in
 * C: byte by byte, shifts and ors (what BpfReJIT's passes and the rotate
 * and movbe kinsns find). Both builds: no kernel or libc headers.
 */
#ifndef BITS_H
#define BITS_H

#include "bench.h"

BENCH_INLINE BENCH_UNUSED u16 le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

BENCH_INLINE BENCH_UNUSED u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

BENCH_INLINE BENCH_UNUSED u32 le32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

BENCH_INLINE BENCH_UNUSED u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

BENCH_INLINE BENCH_UNUSED u64 le64(const u8 *p)
{
	return (u64)p[0] | (u64)p[1] << 8 | (u64)p[2] << 16 |
	       (u64)p[3] << 24 | (u64)p[4] << 32 | (u64)p[5] << 40 |
	       (u64)p[6] << 48 | (u64)p[7] << 56;
}

/* le64 from two 32-bit halves: the same value, but clang combines the
 * loads differently (xxhash64 and mixed_endian_record were measured so)
 */
BENCH_INLINE BENCH_UNUSED u64 le64_halves(const u8 *p)
{
	return le32(p) | (u64)le32(p + 4) << 32;
}

BENCH_INLINE BENCH_UNUSED u64 be64(const u8 *p)
{
	return (u64)be32(p) << 32 | be32(p + 4);
}

/* r in 1..31 (1..63): no shift by the full width */
BENCH_INLINE BENCH_UNUSED u32 rol32(u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

BENCH_INLINE BENCH_UNUSED u64 rol64(u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Bob Jenkins' lookup3 mix of three 32-bit lanes (subtract, xor, rotate) */
#define LOOKUP3_MIX(a, b, c)					\
	do {							\
		a -= c; a ^= rol32(c, 4); c += b;		\
		b -= a; b ^= rol32(a, 6); a += c;		\
		c -= b; c ^= rol32(b, 8); b += a;		\
		a -= c; a ^= rol32(c, 16); c += b;		\
		b -= a; b ^= rol32(a, 19); a += c;		\
		c -= b; c ^= rol32(b, 4); b += a;		\
	} while (0)

#endif /* BITS_H */
