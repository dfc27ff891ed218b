// SPDX-License-Identifier: GPL-2.0
/* An egress firewall as a cgroup_skb program (the packet from its IPv4
 * header): first match over a static const rule table of prefix, mask,
 * protocol and port range. A loop of compares with an early exit; most
 * packets match a rule near the top.
 */
#include "net_hdr.h"

struct rule {
	u32 prefix;	/* host order */
	u32 mask;
	u8 proto;	/* 0: any */
	u8 verdict;
	u16 port_lo;
	u16 port_hi;
};

static const struct rule rules[] = {
	{ 0x0a000000, 0xff000000, IPPROTO_TCP_, 1, 443, 443 },
	{ 0x0a000000, 0xff000000, IPPROTO_TCP_, 1, 80, 80 },
	{ 0xc0a80000, 0xffff0000, IPPROTO_UDP_, 1, 53, 53 },
	{ 0xac100000, 0xfff00000, 0, 1, 0, 65535 },
	{ 0x0a000000, 0xff000000, IPPROTO_TCP_, 0, 0, 1023 },
	{ 0x0a000000, 0xff000000, IPPROTO_UDP_, 1, 1024, 65535 },
	{ 0x08080808, 0xffffffff, IPPROTO_UDP_, 1, 53, 53 },
	{ 0x00000000, 0x00000000, IPPROTO_ICMP_, 1, 0, 65535 },
	{ 0x7f000000, 0xff000000, 0, 1, 0, 65535 },
	{ 0x00000000, 0x00000000, IPPROTO_TCP_, 0, 0, 65535 },
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))

BENCH_CGROUP_SKB(cgroup_ipv4_filter)
{
	const struct ipv4_hdr *ip = (const void *)in;
	u32 daddr, proto, ihl, dport = 0;

	if ((const u8 *)(ip + 1) > end)
		return 0;
	if ((ip->ver_ihl >> 4) != 4)
		return 0;
	ihl = ip->ver_ihl & 0xf;
	if (ihl < 5)
		return 0;
	daddr = bench_ntohl(ip->daddr);
	proto = ip->protocol;
	if (proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_) {
		const u8 *l4 = in + ihl * 4;

		if (l4 + 4 > end)
			return 0;
		dport = (u32)l4[2] << 8 | l4[3];
	}
	for (u32 i = 0; i < NRULES; i++) {
		const struct rule *r = &rules[i];

		if ((daddr & r->mask) != r->prefix)
			continue;
		if (r->proto && r->proto != proto)
			continue;
		if (dport < r->port_lo || dport > r->port_hi)
			continue;
		return (u64)r->verdict << 32 | i << 16 | dport;
	}
	/* default: allow, no rule */
	return 1ULL << 32 | 0xffff0000 | dport;
}

/* 0-3: web and DNS traffic to the first rules, 4: a high UDP port, 5:
 * ssh to 10/8 (denied), 6: ICMP, 7: nothing matches
 */
BENCH_INPUT(cgroup_ipv4_filter)
{
	static const u32 daddrs[] = { 0x0a010203, 0x0a000009, 0xc0a80101, 0x0a0a0a0a,
				      0x0a000063, 0x0a000001, 0xc0000201, 0xcb007101 };
	static const u8 protos[] = { 6, 6, 17, 6, 17, 6, 1, 17 };
	static const u16 dports[] = { 443, 80, 53, 443, 5000, 22, 0, 9999 };
	u64 seed = 0x1800 + k;
	u32 n;

	(void)cap;
	n = gen_ipv4(buf, protos[k], 0x0a000002, daddrs[k], 20 + 24);
	if (protos[k] == IPPROTO_TCP_)
		n += gen_tcp(buf + n, 40000 + k, dports[k], 0x02, seed);
	else
		n += gen_udp(buf + n, 40000 + k, dports[k], 12);
	return n + bench_fill(buf + n, k == 6 ? 24 : 12, seed);
}
