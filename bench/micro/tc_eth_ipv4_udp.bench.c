// SPDX-License-Identifier: GPL-2.0
/* The tc flavour of an Ethernet / IPv4 / UDP parser: header sanity
 * checks (version, IHL, total length against the packet, fragment bits,
 * UDP length), a port class and the flow fields folded into the result,
 * through __sk_buff's data/data_end. Mostly well-formed UDP.
 */
#include "net_hdr.h"

enum { V_OK = 1, V_NOT_IP, V_BAD_IP, V_NOT_UDP, V_BAD_UDP, V_FRAG };

BENCH_TC(tc_eth_ipv4_udp)
{
	const struct eth_hdr *eth = (const void *)in;
	const struct ipv4_hdr *ip;
	const struct udp_hdr *uh;
	u32 ihl, tot_len, ulen, sport, dport, class;

	if ((const u8 *)(eth + 1) > end)
		return V_BAD_IP;
	if (eth->proto != bench_htons(ETH_P_IP_))
		return V_NOT_IP;
	ip = (const void *)(eth + 1);
	if ((const u8 *)(ip + 1) > end)
		return V_BAD_IP;
	ihl = ip->ver_ihl & 0xf;
	tot_len = bench_ntohs(ip->tot_len);
	if ((ip->ver_ihl >> 4) != 4 || ihl < 5 || tot_len < ihl * 4 ||
	    (const u8 *)ip + tot_len > end)
		return V_BAD_IP;
	if (ip->frag_off & bench_htons(0x3fff))
		return V_FRAG;
	if (ip->protocol != IPPROTO_UDP_)
		return (u64)V_NOT_UDP << 56 | ip->protocol;
	uh = (const void *)((const u8 *)ip + ihl * 4);
	if ((const u8 *)(uh + 1) > end)
		return V_BAD_UDP;
	ulen = bench_ntohs(uh->len);
	if (ulen < 8 || ulen > tot_len - ihl * 4)
		return V_BAD_UDP;
	sport = bench_ntohs(uh->source);
	dport = bench_ntohs(uh->dest);
	if (dport == 53 || sport == 53)
		class = 1;
	else if (dport == 443 || dport == 4433)
		class = 2;	/* QUIC */
	else if (dport >= 49152)
		class = 3;
	else
		class = 4;
	return (u64)V_OK << 56 | (u64)class << 52 | (u64)(ulen - 8) << 36 |
	       (u64)(bench_ntohl(ip->daddr) & 0xfffff) << 16 | dport;
}

/* 0-5: UDP (DNS, QUIC, high ports), 6: TCP, 7: UDP length too large */
BENCH_INPUT(tc_eth_ipv4_udp)
{
	static const u16 dports[] = { 443, 53, 443, 51000, 8125, 4433 };
	u64 seed = 0x1500 + k;
	u32 plen = 16 + 8 * k, n;

	(void)cap;
	n = gen_eth(buf, ETH_P_IP_, seed);
	if (k == 6) {
		n += gen_ipv4(buf + n, IPPROTO_TCP_, 0x0a000001, 0x0a000002, 20 + plen);
		n += gen_tcp(buf + n, 40000, 22, 0x18, seed);
		return n + bench_fill(buf + n, plen, seed);
	}
	n += gen_ipv4(buf + n, IPPROTO_UDP_, 0x0a000001 + k, 0xac100000 + k * 1031,
		      8 + plen);
	n += gen_udp(buf + n, 30000 + k, dports[k % 6], plen + (k == 7 ? 64 : 0));
	return n + bench_fill(buf + n, plen, seed);
}
