// SPDX-License-Identifier: GPL-2.0
/* Fields extracted from packed flag words with (x >> shift) & mask, 32-
 * and 64-bit: descriptor rings and hardware metadata look like this;
 * each extraction a shift/and pair (one BEXTR on x86 with BMI).
 */
#include "bench.h"

#define N 16

struct desc {
	u32 ctl;	/* 4 type, 3 prio, 1 valid, 8 queue, 10 len, 6 tag */
	u32 pad;
	u64 meta;	/* 12 vlan, 3 pcp, 1 dei, 20 flow, 16 csum, 12 hash */
};

BENCH_XDP(bitfield_extract)
{
	const struct desc *d = (const void *)in;
	u64 acc = 0;
	u32 valid = 0, bytes = 0, prio_mask = 0;

	if ((const u8 *)(d + N) > end)
		return 0;
	for (int i = 0; i < N; i++) {
		u32 ctl = d[i].ctl;
		u64 meta = d[i].meta;
		u32 type = ctl & 0xf;
		u32 prio = (ctl >> 4) & 0x7;
		u32 queue = (ctl >> 8) & 0xff;
		u32 len = (ctl >> 16) & 0x3ff;
		u32 tag = ctl >> 26;
		u64 vlan = meta & 0xfff;
		u64 pcp = (meta >> 12) & 0x7;
		u64 flow = (meta >> 16) & 0xfffff;
		u64 csum = (meta >> 36) & 0xffff;
		u64 hash = meta >> 52;

		if (!((ctl >> 7) & 1))
			continue;
		valid++;
		bytes += len;
		prio_mask |= 1u << prio;
		acc += (flow ^ hash << 20) * (type + 1);
		acc ^= (vlan | pcp << 12 | ((meta >> 15) & 1) << 15)
		       << queue % 48;
		acc += csum + tag;
	}
	return acc ^ (u64)valid << 56 ^ (u64)bytes << 32 ^ prio_mask;
}

BENCH_INPUT(bitfield_extract)
{
	return bench_fill(buf, N * sizeof(struct desc), 0xbf + k);
}
