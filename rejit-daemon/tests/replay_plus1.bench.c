// SPDX-License-Identifier: GPL-2.0
/* A one-benchmark native build for replay_test (NativeLib): the slot gets
 * the input's first 8 bytes plus one.
 */
#include "bench.h"

BENCH_XDP(replay_plus1)
{
	u64 v = 0;

	if (in + 8 <= end)
		__builtin_memcpy(&v, in, 8);
	return v + 1;
}

BENCH_INPUT(replay_plus1)
{
	return bench_fill(buf, cap < 16 ? cap : 16, k);
}
