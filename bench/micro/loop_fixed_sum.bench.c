// SPDX-License-Identifier: GPL-2.0
/* A Fletcher-style running sum over 256 bytes: a loop with a fixed trip
 * count that clang may unroll (and natively vectorize), the loop-carried
 * dependency kept in two accumulators.
 */
#include "bench.h"

#define LEN 256

BENCH_XDP(loop_fixed_sum)
{
	u32 s1 = 1, s2 = 0;

	if (in + LEN > end)
		return 0;
	for (int i = 0; i < LEN; i++) {
		s1 += in[i];
		s2 += s1;
	}
	return (u64)s2 << 32 | s1;
}

BENCH_INPUT(loop_fixed_sum)
{
	(void)cap;
	return bench_fill(buf, LEN, 0xd00 + k);
}
