// SPDX-License-Identifier: GPL-2.0
/* A two-level loop: a 1-D FIR filter, 8 taps slid over 120 positions of
 * the input, the taps in a static const table (folded into immediates
 * when clang unrolls the inner loop). Inner loop of fixed length, outer
 * loop carrying the state.
 */
#include "bench.h"

#define TAPS 8
#define OUTPUTS 120

static const s32 fir[TAPS] = { -3, 5, 17, 31, 31, 17, 5, -3 };

BENCH_XDP(loop_nested)
{
	u64 acc = 0;
	s32 peak = 0;

	if (in + OUTPUTS + TAPS > end)
		return 0;
	for (int i = 0; i < OUTPUTS; i++) {
		s32 y = 0;

		for (int j = 0; j < TAPS; j++)
			y += fir[j] * (s32)in[i + j];
		if (y > peak)
			peak = y;
		acc = acc * 31 + (u32)y;
	}
	return acc ^ (u64)(u32)peak << 40;
}

BENCH_INPUT(loop_nested)
{
	(void)cap;
	return bench_fill(buf, OUTPUTS + TAPS, 0xe00 + k);
}
