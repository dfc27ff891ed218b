// SPDX-License-Identifier: GPL-2.0
/* Population counts over bitmaps from the packet: __builtin_popcountll
 * (which clang expands for BPF into the mask-and-add sequence, a single
 * popcnt natively), Hamming distances and a Kernighan clear-lowest-bit
 * loop on the low halfword.
 */
#include "bench.h"

#define N 16

BENCH_XDP(popcount_bits)
{
	const u64 *w = (const void *)in;
	u64 total = 0, ham = 0, loops = 0, prev = 0;

	if ((const u8 *)(w + N) > end)
		return 0;
	for (int i = 0; i < N; i++) {
		u64 x = w[i];
		u32 v = x & 0xffff;

		total += __builtin_popcountll(x);
		ham += __builtin_popcountll(x ^ prev) << (i & 7);
		for (int j = 0; j < 16 && v; j++) {
			v &= v - 1;
			loops++;
		}
		prev = x;
	}
	return total << 40 ^ ham << 16 ^ loops;
}

BENCH_INPUT(popcount_bits)
{
	u32 len = bench_fill(buf, N * 8, 0x9090 + k);

	/* sparse and dense words as well as random ones */
	for (u32 i = 0; i < N * 8; i++) {
		if (i % 24 < 8)
			buf[i] &= buf[i] >> 3;
		else if (i % 24 < 16)
			buf[i] |= buf[i] << 2;
	}
	return len;
}
