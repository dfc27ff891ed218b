// SPDX-License-Identifier: GPL-2.0
/* abs, sign and conditional selects over signed packet fields (deltas,
 * jitter, error terms): data-dependent, hard to predict branches that a
 * compiler with cmov/neg tricks makes branch-free.
 */
#include "bench.h"

#define N 32

BENCH_INLINE s64 sabs(s64 x)
{
	return x < 0 ? -x : x;
}

BENCH_INLINE s32 sign(s32 x)
{
	return x > 0 ? 1 : x < 0 ? -1 : 0;
}

BENCH_XDP(select_abs)
{
	const s32 *v = (const void *)in;
	s64 dev = 0, sgn = 0, sel = 0, prev = 0;
	u32 flips = 0;

	if ((const u8 *)(v + N) > end)
		return 0;
	for (int i = 0; i < N; i++) {
		s32 x = v[i];
		s64 d = (s64)x - prev;

		dev += sabs(d);
		sgn += sign(x);
		/* pick by the low bit, then keep the larger magnitude */
		sel += (x & 1) ? x >> 3 : -(x >> 5);
		sel = sabs(sel) > sabs(d) ? sel : d;
		flips += (x ^ (s32)prev) < 0;
		prev = x;
	}
	return (u64)dev ^ (u64)sgn << 48 ^ (u64)sel << 8 ^ flips;
}

BENCH_INPUT(select_abs)
{
	return bench_fill(buf, N * 4, 0x5e1 + k);
}
