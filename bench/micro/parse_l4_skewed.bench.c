// SPDX-License-Identifier: GPL-2.0
/* An XDP flow classifier: Ethernet (+ one VLAN tag) -> IPv4 / IPv6 / ARP ->
 * TCP / UDP / ICMP, then a flow key. Branchy code with a skewed mix: most
 * inputs are plain IPv4 TCP, so branch layout and bounds checks dominate.
 */
#include "net_hdr.h"

enum { CLASS_OTHER, CLASS_ARP, CLASS_TCP, CLASS_UDP, CLASS_ICMP, CLASS_BAD };

BENCH_INLINE u64 flow_key(u32 class, u32 src, u32 dst, u32 ports, u32 extra)
{
	u64 h = (u64)src * 0x9e3779b97f4a7c15ULL;

	h ^= dst;
	h *= 0xff51afd7ed558ccdULL;
	h ^= ports;
	h ^= h >> 32;
	h ^= extra;
	return (h & 0x00ffffffffffffffULL) | (u64)class << 56;
}

BENCH_XDP(parse_l4_skewed)
{
	const struct eth_hdr *eth = (const void *)in;
	const u8 *l3, *l4;
	u32 src, dst, l4proto, vlan = 0;
	u16 proto;

	if ((const u8 *)(eth + 1) > end)
		return CLASS_BAD;
	proto = eth->proto;
	l3 = (const u8 *)(eth + 1);
	if (proto == bench_htons(ETH_P_8021Q_) || proto == bench_htons(ETH_P_8021AD_)) {
		const struct vlan_hdr *vh = (const void *)l3;

		if ((const u8 *)(vh + 1) > end)
			return CLASS_BAD;
		vlan = bench_ntohs(vh->tci) & 0xfff;
		proto = vh->proto;
		l3 = (const u8 *)(vh + 1);
	}

	if (proto == bench_htons(ETH_P_IP_)) {
		const struct ipv4_hdr *ip = (const void *)l3;
		u32 ihl;

		if ((const u8 *)(ip + 1) > end)
			return CLASS_BAD;
		ihl = ip->ver_ihl & 0xf;
		if ((ip->ver_ihl >> 4) != 4 || ihl < 5)
			return CLASS_BAD;
		/* later fragments carry no L4 header */
		if (ip->frag_off & bench_htons(0x1fff))
			return flow_key(CLASS_OTHER, ip->saddr, ip->daddr, 0, vlan);
		src = ip->saddr;
		dst = ip->daddr;
		l4proto = ip->protocol;
		l4 = l3 + ihl * 4;
	} else if (proto == bench_htons(ETH_P_IPV6_)) {
		const struct ipv6_hdr *ip6 = (const void *)l3;

		if ((const u8 *)(ip6 + 1) > end)
			return CLASS_BAD;
		src = ip6->saddr[0] ^ ip6->saddr[1] ^ ip6->saddr[2] ^ ip6->saddr[3];
		dst = ip6->daddr[0] ^ ip6->daddr[1] ^ ip6->daddr[2] ^ ip6->daddr[3];
		l4proto = ip6->nexthdr;
		if (l4proto == IPPROTO_ICMPV6_)
			l4proto = IPPROTO_ICMP_;
		l4 = (const u8 *)(ip6 + 1);
	} else if (proto == bench_htons(ETH_P_ARP_)) {
		const struct arp_hdr *arp = (const void *)l3;

		if ((const u8 *)(arp + 1) > end)
			return CLASS_BAD;
		return flow_key(CLASS_ARP, arp->spa[0] | (u32)arp->spa[3] << 24,
				arp->tpa[0] | (u32)arp->tpa[3] << 24,
				bench_ntohs(arp->oper), vlan);
	} else {
		return flow_key(CLASS_OTHER, 0, 0, proto, vlan);
	}

	if (l4proto == IPPROTO_TCP_) {
		const struct tcp_hdr *th = (const void *)l4;

		if ((const u8 *)(th + 1) > end)
			return CLASS_BAD;
		if ((th->doff >> 4) < 5)
			return CLASS_BAD;
		return flow_key(CLASS_TCP, src, dst,
				(u32)th->source << 16 | th->dest,
				vlan | (u32)th->flags << 16);
	} else if (l4proto == IPPROTO_UDP_) {
		const struct udp_hdr *uh = (const void *)l4;

		if ((const u8 *)(uh + 1) > end)
			return CLASS_BAD;
		return flow_key(CLASS_UDP, src, dst,
				(u32)uh->source << 16 | uh->dest, vlan);
	} else if (l4proto == IPPROTO_ICMP_) {
		const struct icmp_hdr *ic = (const void *)l4;

		if ((const u8 *)(ic + 1) > end)
			return CLASS_BAD;
		return flow_key(CLASS_ICMP, src, dst,
				(u32)ic->type << 8 | ic->code, vlan);
	}
	return flow_key(CLASS_OTHER, src, dst, l4proto, vlan);
}

/* 0-3: IPv4 TCP, 4: IPv4 UDP, 5: VLAN IPv4 TCP, 6: IPv6 UDP, 7: IPv4 ICMP */
BENCH_INPUT(parse_l4_skewed)
{
	u64 seed = 0x400 + k;
	u32 saddr = 0x0a000000 | ((u32)bench_rand(&seed) & 0xffff);
	u32 daddr = 0xc0a80001 + k;
	u32 n;

	(void)cap;
	if (k == 5) {
		n = gen_eth(buf, ETH_P_8021Q_, seed);
		gen_put16(buf + n, 100 + k);
		gen_put16(buf + n + 2, ETH_P_IP_);
		n += 4;
	} else {
		n = gen_eth(buf, k == 6 ? ETH_P_IPV6_ : ETH_P_IP_, seed);
	}
	if (k == 6) {
		n += gen_ipv6(buf + n, IPPROTO_UDP_, seed, 8 + 16);
		n += gen_udp(buf + n, 40000 + k, 443, 16);
		return n + bench_fill(buf + n, 16, seed);
	}
	if (k == 4) {
		n += gen_ipv4(buf + n, IPPROTO_UDP_, saddr, daddr, 8 + 32);
		n += gen_udp(buf + n, 53000 + k, 53, 32);
		return n + bench_fill(buf + n, 32, seed);
	}
	if (k == 7) {
		n += gen_ipv4(buf + n, IPPROTO_ICMP_, saddr, daddr, 8 + 24);
		buf[n] = 8;	/* echo request */
		gen_zero(buf + n + 1, 7);
		n += 8;
		return n + bench_fill(buf + n, 24, seed);
	}
	n += gen_ipv4(buf + n, IPPROTO_TCP_, saddr, daddr, 20 + 40);
	n += gen_tcp(buf + n, 32768 + (u16)bench_rand(&seed) % 20000,
		     k & 1 ? 443 : 80, k == 0 ? 0x02 : 0x10, seed);
	return n + bench_fill(buf + n, 40, seed);
}
