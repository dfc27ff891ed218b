/* SPDX-License-Identifier: GPL-2.0 */
/* Protocol headers as BPF programs declare them (natural alignment, fields
 * in network order; some also packed, NET_HDR), for the parser benchmarks,
 * and what their input generators use to build frames. Both builds: no
 * kernel or libc headers.
 */
#ifndef NET_HDR_H
#define NET_HDR_H

#include "bench.h"

/* Network order on a little-endian target (bpfel, x86-64). */
#define bench_htons(x) ((u16)__builtin_bswap16(x))
#define bench_ntohs(x) ((u16)__builtin_bswap16(x))
#define bench_htonl(x) ((u32)__builtin_bswap32(x))
#define bench_ntohl(x) ((u32)__builtin_bswap32(x))

#define ETH_P_IP_ 0x0800
#define ETH_P_ARP_ 0x0806
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8
#define ETH_P_IPV6_ 0x86dd
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

/* NET_HDR(name, { fields }) declares struct name, naturally aligned, and
 * struct name_p, the same fields packed (alignment 1): BPF reads every
 * multi-byte field of a packed header byte by byte, which is what the
 * packed-struct benchmarks (eth_ipv4_udp, gre_hdr, ...) measure.
 */
#define NET_HDR(name, fields)						\
	struct name fields;						\
	struct name##_p fields __attribute__((packed))

NET_HDR(eth_hdr, {
	u8 dst[6];
	u8 src[6];
	u16 proto;
});

struct vlan_hdr {
	u16 tci;
	u16 proto;
};

NET_HDR(ipv4_hdr, {
	u8 ver_ihl;
	u8 tos;
	u16 tot_len;
	u16 id;
	u16 frag_off;
	u8 ttl;
	u8 protocol;
	u16 check;
	u32 saddr;
	u32 daddr;
});

NET_HDR(ipv6_hdr, {
	u32 ver_tc_flow;
	u16 payload_len;
	u8 nexthdr;
	u8 hop_limit;
	u32 saddr[4];
	u32 daddr[4];
});

struct tcp_hdr {
	u16 source;
	u16 dest;
	u32 seq;
	u32 ack_seq;
	u8 doff;	/* data offset << 4 */
	u8 flags;
	u16 window;
	u16 check;
	u16 urg_ptr;
};

NET_HDR(udp_hdr, {
	u16 source;
	u16 dest;
	u16 len;
	u16 check;
});

struct icmp_hdr {
	u8 type;
	u8 code;
	u16 check;
	u32 rest;
};

struct arp_hdr {
	u16 htype;
	u16 ptype;
	u8 hlen;
	u8 plen;
	u16 oper;
	u8 sha[6];
	u8 spa[4];
	u8 tha[6];
	u8 tpa[4];
};

/* Frame building for the input generators (plain C, no libc). */

BENCH_INLINE BENCH_UNUSED void gen_put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = (u8)v;
}

BENCH_INLINE BENCH_UNUSED void gen_put32(u8 *p, u32 v)
{
	gen_put16(p, v >> 16);
	gen_put16(p + 2, (u16)v);
}

BENCH_INLINE BENCH_UNUSED void gen_zero(u8 *p, u32 len)
{
	for (u32 i = 0; i < len; i++)
		p[i] = 0;
}

/* Ethernet header with made-up unicast MACs; returns its length. */
BENCH_INLINE BENCH_UNUSED u32 gen_eth(u8 *p, u16 proto, u64 seed)
{
	for (int i = 0; i < 12; i++)
		p[i] = (u8)bench_rand(&seed);
	p[0] &= 0xfe;	/* unicast */
	p[6] &= 0xfe;
	gen_put16(p + 12, proto);
	return 14;
}

BENCH_INLINE BENCH_UNUSED u16 gen_csum(const u8 *p, u32 len)
{
	u32 sum = 0;

	for (u32 i = 0; i + 1 < len; i += 2)
		sum += (u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

/* IPv4 header without options, valid checksum; returns 20. */
BENCH_INLINE BENCH_UNUSED u32 gen_ipv4(u8 *p, u8 proto, u32 saddr, u32 daddr,
				       u16 payload_len)
{
	gen_zero(p, 20);
	p[0] = 0x45;
	gen_put16(p + 2, 20 + payload_len);
	gen_put16(p + 4, (u16)(saddr ^ daddr));
	gen_put16(p + 6, 0x4000);	/* DF */
	p[8] = 64;
	p[9] = proto;
	gen_put32(p + 12, saddr);
	gen_put32(p + 16, daddr);
	gen_put16(p + 10, gen_csum(p, 20));
	return 20;
}

BENCH_INLINE BENCH_UNUSED u32 gen_ipv6(u8 *p, u8 nexthdr, u64 seed,
				       u16 payload_len)
{
	gen_zero(p, 40);
	p[0] = 0x60;
	gen_put16(p + 4, payload_len);
	p[6] = nexthdr;
	p[7] = 64;
	p[8] = 0x20;
	p[9] = 0x01;
	p[24] = 0x20;
	p[25] = 0x01;
	for (int i = 10; i < 24; i++)
		p[i] = (u8)bench_rand(&seed);
	for (int i = 26; i < 40; i++)
		p[i] = (u8)bench_rand(&seed);
	return 40;
}

BENCH_INLINE BENCH_UNUSED u32 gen_tcp(u8 *p, u16 sport, u16 dport, u8 flags,
				      u64 seed)
{
	gen_zero(p, 20);
	gen_put16(p, sport);
	gen_put16(p + 2, dport);
	gen_put32(p + 4, (u32)bench_rand(&seed));
	gen_put32(p + 8, (u32)bench_rand(&seed));
	p[12] = 5 << 4;
	p[13] = flags;
	gen_put16(p + 14, 64240);
	return 20;
}

BENCH_INLINE BENCH_UNUSED u32 gen_udp(u8 *p, u16 sport, u16 dport,
				      u16 payload_len)
{
	gen_put16(p, sport);
	gen_put16(p + 2, dport);
	gen_put16(p + 4, 8 + payload_len);
	gen_put16(p + 6, 0);
	return 8;
}

#endif /* NET_HDR_H */
