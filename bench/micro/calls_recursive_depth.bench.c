// SPDX-License-Identifier: GPL-2.0
/* A call chain four deep (BPF allows no recursion, so a parser written
 * recursively becomes a chain): record -> L3 -> L4 -> port hash, each a
 * static __noinline function with its own checks, run on four records.
 * Nested frames, packet pointers passed down, results passed up.
 */
#include "net_hdr.h"

#define RECORDS 4
#define RECORD_LEN 48

BENCH_NOINLINE u32 hash_ports(u32 ports, u32 seed)
{
	u32 h = seed ^ ports;

	h *= 0x9e3779b1;
	h ^= h >> 15;
	h *= 0x85ebca77;
	return h ^ h >> 13;
}

BENCH_NOINLINE u64 parse_l4(const u8 *p, const u8 *end, u32 proto, u32 seed)
{
	if (proto == IPPROTO_TCP_) {
		const struct tcp_hdr *th = (const void *)p;

		if ((const u8 *)(th + 1) > end)
			return 1;
		return (u64)th->flags << 32 |
		       hash_ports((u32)th->source << 16 | th->dest, seed);
	}
	if (proto == IPPROTO_UDP_) {
		const struct udp_hdr *uh = (const void *)p;

		if ((const u8 *)(uh + 1) > end)
			return 1;
		return (u64)bench_ntohs(uh->len) << 40 |
		       hash_ports((u32)uh->source << 16 | uh->dest, seed);
	}
	return 2;
}

BENCH_NOINLINE u64 parse_l3(const u8 *p, const u8 *end, u32 seed)
{
	const struct ipv4_hdr *ip = (const void *)p;
	u32 ihl;

	if ((const u8 *)(ip + 1) > end)
		return 3;
	ihl = ip->ver_ihl & 0xf;
	if ((ip->ver_ihl >> 4) != 4 || ihl < 5)
		return 4;
	return parse_l4(p + ihl * 4, end, ip->protocol,
			seed ^ ip->saddr ^ ip->daddr) ^
	       (u64)ip->ttl << 48;
}

BENCH_NOINLINE u64 parse_record(const u8 *p, const u8 *end, u32 seed)
{
	u64 r = parse_l3(p, end, seed);

	return r * 0x100000001b3ULL + seed;
}

BENCH_XDP(calls_recursive_depth)
{
	u64 acc = 0;

	for (u32 i = 0; i < RECORDS; i++)
		acc ^= parse_record(in + i * RECORD_LEN, end, i + 1) << i;
	return acc;
}

/* four IPv4 records: mostly TCP, some UDP */
BENCH_INPUT(calls_recursive_depth)
{
	u64 seed = 0x1400 + k;

	(void)cap;
	for (u32 i = 0; i < RECORDS; i++) {
		u8 *p = buf + i * RECORD_LEN;
		u32 saddr = 0x0a000000 | (u32)bench_rand(&seed) >> 16;
		u32 daddr = 0xc0a80000 | (u32)bench_rand(&seed) >> 16;
		u16 sport = 1024 + (u16)bench_rand(&seed) % 60000;

		if ((i + k) % 4 == 3) {
			gen_ipv4(p, IPPROTO_UDP_, saddr, daddr, 8 + 20);
			gen_udp(p + 20, sport, 53, 20);
			bench_fill(p + 28, 20, seed);
		} else {
			gen_ipv4(p, IPPROTO_TCP_, saddr, daddr, 28);
			gen_tcp(p + 20, sport, 443, 0x10, seed);
			bench_fill(p + 40, 8, seed);
		}
	}
	return RECORDS * RECORD_LEN;
}
