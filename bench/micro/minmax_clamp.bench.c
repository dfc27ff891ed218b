// SPDX-License-Identifier: GPL-2.0
/* Signed and unsigned min/max/clamp over arrays of packet fields (rate
 * limits, window sizes, scores): branches a compiler for a CPU with
 * conditional moves turns into cmov, compares of both signednesses.
 */
#include "bench.h"

#define N 8

struct rec {
	s32 a[N];	/* signed samples */
	u32 b[N];	/* unsigned counters */
};

BENCH_INLINE s32 smin(s32 x, s32 y)
{
	return x < y ? x : y;
}

BENCH_INLINE s32 smax(s32 x, s32 y)
{
	return x > y ? x : y;
}

BENCH_INLINE u32 umin(u32 x, u32 y)
{
	return x < y ? x : y;
}

BENCH_INLINE u32 umax(u32 x, u32 y)
{
	return x > y ? x : y;
}

BENCH_INLINE s32 sclamp(s32 x, s32 lo, s32 hi)
{
	return smin(smax(x, lo), hi);
}

BENCH_XDP(minmax_clamp)
{
	const struct rec *r = (const void *)in;
	s32 lo = 0x7fffffff, hi = -0x7fffffff - 1;
	u32 ulo = 0xffffffff, uhi = 0, cap;
	s64 ssum = 0;
	u64 usum = 0;

	if ((const u8 *)(r + 1) > end)
		return 0;
	/* the first counter is the cap the others are clamped to */
	cap = r->b[0] | 0x1000;
	for (int i = 0; i < N; i++) {
		s32 a = r->a[i];

		lo = smin(lo, a);
		hi = smax(hi, a);
		ssum += sclamp(a, -100000, 100000);
		ssum += smax(a, r->a[(i + 1) % N]) - smin(a, r->a[(i + 3) % N]);
	}
	for (int i = 0; i < N; i++) {
		u32 b = r->b[i];

		ulo = umin(ulo, b);
		uhi = umax(uhi, b);
		usum += umin(b, cap) + umax(b >> 4, 4096);
	}
	return (u64)ssum ^ usum << 1 ^ ((u64)(u32)lo << 32 | (u32)hi) ^
	       ((u64)ulo << 32 | uhi) * 3;
}

BENCH_INPUT(minmax_clamp)
{
	u32 len = bench_fill(buf, sizeof(struct rec), 0x3a3a + k);

	/* small magnitudes in half the samples so the clamp goes both ways */
	for (u32 i = 0; i < N; i += 2)
		buf[4 * i + 2] = buf[4 * i + 3] = (buf[4 * i] & 1) ? 0xff : 0;
	return len;
}
