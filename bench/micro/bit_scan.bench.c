// SPDX-License-Identifier: GPL-2.0
/* Bit scans over words from the packet: trailing and leading zero counts
 * with __builtin_ctzll/clzll (for BPF clang makes ctz a de Bruijn multiply
 * and table load, clz a smear and popcount; tzcnt/lzcnt natively), and a
 * find-highest-set loop over a halfword as hand-written code does.
 */
#include "bench.h"

#define N 16

BENCH_INLINE u32 ctz64(u64 x)
{
	return x ? __builtin_ctzll(x) : 64;
}

BENCH_INLINE u32 clz64(u64 x)
{
	return x ? __builtin_clzll(x) : 64;
}

BENCH_XDP(bit_scan)
{
	const u64 *w = (const void *)in;
	u64 acc = 0, lowest = 64, highest = 0;

	if ((const u8 *)(w + N) > end)
		return 0;
	for (int i = 0; i < N; i++) {
		u64 x = w[i];
		u32 tz = ctz64(x), lz = clz64(x);
		u32 h = x >> 48, top = 0;

		/* index of the top set bit of h, 0 if none */
		for (int b = 15; b > 0; b--) {
			if (h >> b) {
				top = b;
				break;
			}
		}
		if (tz < lowest)
			lowest = tz;
		if (64 - lz > highest)
			highest = 64 - lz;
		acc = acc * 67 + (tz << 8 | lz) + top;
	}
	return acc ^ lowest << 56 ^ highest << 48;
}

BENCH_INPUT(bit_scan)
{
	u32 len = bench_fill(buf, N * 8, 0xb175 + k);

	/* words with zeros at both ends, and one all-zero word */
	for (u32 i = 0; i < N; i++) {
		u8 *p = buf + 8 * i;
		u32 lo = p[0] % 6, hi = p[7] % 7;

		for (u32 j = 0; j < lo; j++)
			p[j] = 0;
		for (u32 j = 0; j < hi; j++)
			p[7 - j] = 0;
		if (i == (k % N))
			for (u32 j = 0; j < 8; j++)
				p[j] = 0;
	}
	return len;
}
