// SPDX-License-Identifier: GPL-2.0
/* IPv4 header bit fields: version/IHL nibbles, DSCP/ECN from the TOS
 * byte, DF/MF and the 13-bit fragment offset from a big-endian word,
 * over a batch of headers (a defragmenter's or a QoS classifier's view).
 */
#include "net_hdr.h"

#define N 6

BENCH_XDP(ipv4_flags_frag)
{
	const struct ipv4_hdr *ip = (const void *)in;
	u32 df = 0, frags = 0, first = 0, last = 0, ce = 0, bad = 0;
	u64 dscp_mask = 0, acc = 0;

	if ((const u8 *)(ip + N) > end)
		return 0;
	for (int i = 0; i < N; i++) {
		u16 fo = __builtin_bswap16(ip[i].frag_off);
		u32 off = (fo & 0x1fff) * 8;
		u32 mf = (fo >> 13) & 1;
		u32 dscp = ip[i].tos >> 2;
		u32 ecn = ip[i].tos & 3;
		u32 ihl = ip[i].ver_ihl & 0xf;

		if ((ip[i].ver_ihl >> 4) != 4 || ihl < 5 || (fo & 0x8000)) {
			bad++;
			continue;
		}
		df += (fo >> 14) & 1;
		dscp_mask |= 1ULL << dscp;
		ce += ecn == 3;
		if (mf || off) {
			frags++;
			first += !off;
			last += !mf;
			acc += (u64)__builtin_bswap16(ip[i].id) << 16 | off;
		}
		acc ^= (u64)(ihl * 4) << 40 | (u64)ecn << 38;
	}
	return acc ^ dscp_mask ^ (u64)df << 48 ^ (u64)frags << 52 ^
	       (u64)first << 56 ^ (u64)last << 60 ^ (u64)ce << 44 ^ bad;
}

BENCH_INPUT(ipv4_flags_frag)
{
	u32 len = bench_fill(buf, N * sizeof(struct ipv4_hdr), 0xf4a9 + k);

	for (u32 i = 0; i < N; i++) {
		u8 *h = buf + i * sizeof(struct ipv4_hdr);
		u8 r = h[12];

		h[0] = (k == 2 && i == 1) ? 0x65 : 0x45;	/* one bad */
		/* most packets whole (DF), some fragments */
		if (r < 160) {
			h[6] = 0x40;
			h[7] = 0;
		} else {
			h[6] = (r & 0x20) | (h[6] & 0x1f);
		}
	}
	return len;
}
