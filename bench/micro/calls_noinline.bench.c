// SPDX-License-Identifier: GPL-2.0
/* bpf-to-bpf calls in a loop: three static __noinline helpers (a checked
 * 32-bit read taking packet pointers, a 32-bit mixer, an accumulator
 * step) called 16 times each. Call and return overhead, argument moves,
 * callee-saved registers across calls.
 */
#include "bench.h"

#define WORDS 16

BENCH_NOINLINE u32 read32(const u8 *p, const u8 *end)
{
	if (p + 4 > end)
		return 0;
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

BENCH_NOINLINE u32 mix32(u32 h, u32 v)
{
	h ^= v;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ h >> 16;
}

BENCH_NOINLINE u64 step(u64 acc, u32 h, u32 i)
{
	return acc * 31 + ((u64)h << (i & 15)) + i;
}

BENCH_XDP(calls_noinline)
{
	u64 acc = 0;
	u32 h = 0x12345678;

	for (u32 i = 0; i < WORDS; i++) {
		u32 v = read32(in + i * 4, end);

		h = mix32(h, v);
		acc = step(acc, h, i);
	}
	return acc;
}

/* 0-6: all words present; 7: short, the last reads return 0 */
BENCH_INPUT(calls_noinline)
{
	(void)cap;
	return bench_fill(buf, k == 7 ? 40 : WORDS * 4, 0x1300 + k);
}
