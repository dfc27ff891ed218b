// SPDX-License-Identifier: GPL-2.0
/* Reads at data-dependent offsets: each step takes an offset from the
 * input, masks it into range and re-checks the packet bound before the
 * 4-byte read, as TLV and option walkers do. Variable-offset packet
 * pointers with one bounds check per access.
 */
#include "bench.h"

#define STEPS 24
#define WINDOW 128

BENCH_XDP(bounds_var_offset)
{
	u64 acc = 0;
	u32 off = 0;

	if (in + 4 > end)
		return 0;
	for (int i = 0; i < STEPS; i++) {
		const u8 *p;
		u32 w;

		off = (off + in[i & 3] + i * 7) & (WINDOW - 1);
		p = in + off;
		if (p + 4 > end)
			return acc | 1ULL << 63;
		w = p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
		acc = acc * 0x100000001b3ULL ^ w;
		off ^= w & 0x3f;
	}
	return acc;
}

/* 0-6: long enough for every offset; 7: short, stops at an offset past
 * its end
 */
BENCH_INPUT(bounds_var_offset)
{
	(void)cap;
	return bench_fill(buf, k == 7 ? 60 : WINDOW + 4, 0x900 + k);
}
