// SPDX-License-Identifier: GPL-2.0
/* VLAN handling as an edge XDP program does it: peel 0-2 tags (802.1Q,
 * 802.1ad) in a two-step loop, then map the IPv4 DSCP to a priority
 * through a static const table and build the tag the frame would leave
 * with. Short, branchy; most frames are untagged.
 */
#include "net_hdr.h"

#define VLAN_MAX_DEPTH 2

/* DSCP -> 802.1p priority (class selector = top three bits, EF -> 5) */
static const u8 dscp_to_pcp[64] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
	2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
	4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
	6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7,
};

BENCH_INLINE int proto_is_vlan(u16 proto)
{
	return proto == bench_htons(ETH_P_8021Q_) ||
	       proto == bench_htons(ETH_P_8021AD_);
}

BENCH_XDP(vlan_stack)
{
	const struct eth_hdr *eth = (const void *)in;
	const u8 *p;
	const struct ipv4_hdr *ip;
	u32 vids[VLAN_MAX_DEPTH] = { 0, 0 };
	u32 depth = 0, pcp, dscp, tci;
	u16 proto;

	if ((const u8 *)(eth + 1) > end)
		return 0;
	proto = eth->proto;
	p = (const u8 *)(eth + 1);
#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		const struct vlan_hdr *vh = (const void *)p;

		if (!proto_is_vlan(proto))
			break;
		if ((const u8 *)(vh + 1) > end)
			return 0;
		vids[i] = bench_ntohs(vh->tci) & 0x0fff;
		proto = vh->proto;
		p = (const u8 *)(vh + 1);
		depth++;
	}
	if (proto != bench_htons(ETH_P_IP_))
		return (u64)depth << 60 | bench_ntohs(proto);
	ip = (const void *)p;
	if ((const u8 *)(ip + 1) > end)
		return 0;
	dscp = ip->tos >> 2;
	pcp = dscp_to_pcp[dscp];
	if (ip->ttl <= 1)
		pcp = 0;
	/* the tag on the way out: the inner VLAN, or the untagged default */
	tci = pcp << 13 | (depth ? vids[depth - 1] : 1);
	return (u64)depth << 60 | (u64)vids[0] << 48 | (u64)vids[1] << 36 |
	       (u64)tci << 16 | (bench_ntohl(ip->daddr) & 0xffff);
}

/* 0-4: untagged, 5-6: one 802.1Q tag, 7: 802.1ad + 802.1Q */
BENCH_INPUT(vlan_stack)
{
	u64 seed = 0x700 + k;
	u32 n, tags = k < 5 ? 0 : k < 7 ? 1 : 2;

	(void)cap;
	n = gen_eth(buf, tags == 2 ? ETH_P_8021AD_ : tags ? ETH_P_8021Q_ : ETH_P_IP_,
		    seed);
	for (u32 t = 0; t < tags; t++) {
		gen_put16(buf + n, (u16)(t * 1000 + 10 + k) | 3 << 13);
		gen_put16(buf + n + 2, t + 1 < tags ? ETH_P_8021Q_ : ETH_P_IP_);
		n += 4;
	}
	n += gen_ipv4(buf + n, IPPROTO_UDP_, 0x0a000001 + k, 0x0a010000 + k * 77, 8 + 32);
	buf[n - 19] = (u8)((k * 11) << 2);	/* DSCP */
	n += gen_udp(buf + n, 5000, 5001, 32);
	return n + bench_fill(buf + n, 32, seed);
}
