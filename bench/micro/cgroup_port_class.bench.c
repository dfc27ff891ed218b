// SPDX-License-Identifier: GPL-2.0
/* Traffic classes by destination port in a cgroup_skb program: IPv4 or
 * IPv6 (from the version nibble, the packet starts at L3), then a linear
 * scan of a static const table of port ranges with an early exit, and a
 * priority and byte cost from the class.
 */
#include "net_hdr.h"

struct port_range {
	u16 lo;
	u16 hi;
	u8 class;
	u8 prio;
};

static const struct port_range ranges[] = {
	{ 443, 443, 1, 2 },	{ 80, 80, 1, 2 },	{ 53, 53, 2, 0 },
	{ 8000, 8999, 1, 3 },	{ 22, 22, 3, 1 },	{ 123, 123, 2, 0 },
	{ 5060, 5061, 4, 0 },	{ 10000, 20000, 4, 1 },	{ 3306, 3306, 5, 4 },
	{ 5432, 5432, 5, 4 },	{ 6379, 6379, 5, 4 },	{ 9092, 9094, 6, 5 },
	{ 1024, 4999, 7, 6 },	{ 49152, 65535, 7, 7 },
};

#define NRANGES (sizeof(ranges) / sizeof(ranges[0]))

BENCH_CGROUP_SKB(cgroup_port_class)
{
	const u8 *l4;
	u32 proto, len, dport, class = 0, prio = 7, i;

	if (in + 1 > end)
		return 0;
	if ((in[0] >> 4) == 4) {
		const struct ipv4_hdr *ip = (const void *)in;

		if ((const u8 *)(ip + 1) > end || (ip->ver_ihl & 0xf) < 5)
			return 0;
		proto = ip->protocol;
		len = bench_ntohs(ip->tot_len);
		l4 = in + (ip->ver_ihl & 0xf) * 4;
	} else if ((in[0] >> 4) == 6) {
		const struct ipv6_hdr *ip6 = (const void *)in;

		if ((const u8 *)(ip6 + 1) > end)
			return 0;
		proto = ip6->nexthdr;
		len = bench_ntohs(ip6->payload_len) + 40;
		l4 = (const u8 *)(ip6 + 1);
	} else {
		return 0;
	}
	if (proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_)
		return (u64)proto << 40;
	if (l4 + 4 > end)
		return 0;
	dport = (u32)l4[2] << 8 | l4[3];
	for (i = 0; i < NRANGES; i++) {
		if (dport >= ranges[i].lo && dport <= ranges[i].hi) {
			class = ranges[i].class;
			prio = ranges[i].prio;
			break;
		}
	}
	/* cost: bytes scaled by priority, at least one unit */
	return (u64)proto << 40 | (u64)class << 32 | prio << 24 | i << 16 |
	       (len << prio >> 4 | 1);
}

/* 0-4: IPv4 web / DNS / alt-HTTP, 5: IPv6 HTTPS, 6: IPv4 database, 7:
 * IPv6 port in no range
 */
BENCH_INPUT(cgroup_port_class)
{
	static const u16 dports[] = { 443, 80, 443, 53, 8080, 443, 5432, 999 };
	u64 seed = 0x1900 + k;
	u32 n, plen = 20 + 10 * k;

	(void)cap;
	if (k == 5 || k == 7)
		n = gen_ipv6(buf, IPPROTO_TCP_, seed, 20 + plen);
	else
		n = gen_ipv4(buf, k == 3 ? IPPROTO_UDP_ : IPPROTO_TCP_,
			     0x0a000002, 0x5db8d822 + k, 20 + plen);
	if (k == 3)
		n += gen_udp(buf + n, 33333, dports[k], plen + 12);
	else
		n += gen_tcp(buf + n, 33333 + k, dports[k], 0x18, seed);
	return n + bench_fill(buf + n, plen, seed);
}
