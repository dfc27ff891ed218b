// SPDX-License-Identifier: GPL-2.0
/* A tc flow hash for steering: parse Ethernet / IPv4 or IPv6 / TCP or
 * UDP, then mix the 5-tuple words with add-rotate-xor rounds written in C
 * (32-bit rotates by constants, the kind the rotate kinsn replaces).
 */
#include "bits.h"
#include "net_hdr.h"

BENCH_INLINE u32 hash_words(u32 a, u32 b, u32 c, u32 d, u32 e)
{
	u32 x = a + 0xdeadbeef, y = b + 0xdeadbeef, z = c + 0xdeadbeef;

	LOOKUP3_MIX(x, y, z);
	x += d;
	y += e;
	LOOKUP3_MIX(x, y, z);
	z ^= y;
	z -= rol32(y, 14);
	x ^= z;
	x -= rol32(z, 11);
	y ^= x;
	y -= rol32(x, 25);
	return y;
}

BENCH_TC(tc_flow_hash)
{
	const struct eth_hdr *eth = (const void *)in;
	const u8 *l4;
	u32 src, dst, proto, ports;

	if ((const u8 *)(eth + 1) > end)
		return 0;
	if (eth->proto == bench_htons(ETH_P_IP_)) {
		const struct ipv4_hdr *ip = (const void *)(eth + 1);

		if ((const u8 *)(ip + 1) > end)
			return 0;
		if ((ip->ver_ihl & 0xf) < 5)
			return 0;
		src = ip->saddr;
		dst = ip->daddr;
		proto = ip->protocol;
		l4 = (const u8 *)ip + (ip->ver_ihl & 0xf) * 4;
	} else if (eth->proto == bench_htons(ETH_P_IPV6_)) {
		const struct ipv6_hdr *ip6 = (const void *)(eth + 1);

		if ((const u8 *)(ip6 + 1) > end)
			return 0;
		src = hash_words(ip6->saddr[0], ip6->saddr[1], ip6->saddr[2],
				 ip6->saddr[3], 0);
		dst = hash_words(ip6->daddr[0], ip6->daddr[1], ip6->daddr[2],
				 ip6->daddr[3], 0);
		proto = ip6->nexthdr;
		l4 = (const u8 *)(ip6 + 1);
	} else {
		return 0;
	}
	ports = 0;
	if (proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_) {
		if (l4 + 4 > end)
			return 0;
		ports = *(const u32 *)l4;
	}
	return (u64)proto << 32 | hash_words(src, dst, ports, proto, 0x9747b28c);
}

/* 0-5: IPv4 TCP / UDP, 6: IPv6 TCP, 7: IPv4 ICMP (no ports) */
BENCH_INPUT(tc_flow_hash)
{
	u64 seed = 0x1600 + k;
	u32 n;
	u16 sport = 1024 + (u16)bench_rand(&seed) % 60000;

	(void)cap;
	n = gen_eth(buf, k == 6 ? ETH_P_IPV6_ : ETH_P_IP_, seed);
	if (k == 6) {
		n += gen_ipv6(buf + n, IPPROTO_TCP_, seed, 20 + 16);
		n += gen_tcp(buf + n, sport, 443, 0x10, seed);
		return n + bench_fill(buf + n, 16, seed);
	}
	n += gen_ipv4(buf + n,
		      k == 7 ? IPPROTO_ICMP_ : k & 1 ? IPPROTO_UDP_ : IPPROTO_TCP_,
		      0x0a000000 | (u32)bench_rand(&seed) >> 12,
		      0xc0a80000 | (u32)bench_rand(&seed) >> 16, 20 + 16);
	if (k & 1)
		n += gen_udp(buf + n, sport, 4789, 12 + 16);
	else
		n += gen_tcp(buf + n, sport, 80, 0x10, seed);
	return n + bench_fill(buf + n, 16, seed);
}
