// SPDX-License-Identifier: GPL-2.0
/* Ethernet + IPv4 + UDP parsed through packed header structs (every
 * multi-byte field a byte-wise load on BPF), the IHL honoured, and the
 * 5-tuple folded into a flow hash: the common XDP front end.
 */
#include "bench.h"

struct eth_h {
	u8 dst[6];
	u8 src[6];
	u16 proto;
} __attribute__((packed));

struct ip4_h {
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
} __attribute__((packed));

struct udp_h {
	u16 source;
	u16 dest;
	u16 len;
	u16 check;
} __attribute__((packed));

BENCH_INLINE u32 rol32(u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

BENCH_XDP(eth_ipv4_udp)
{
	const struct eth_h *eth = (const void *)in;
	const struct ip4_h *ip;
	const struct udp_h *udp;
	u32 ihl, h;

	if (in + sizeof(*eth) + sizeof(*ip) > end)
		return 1;
	if (eth->proto != __builtin_bswap16(0x0800))
		return 2;
	ip = (const void *)(eth + 1);
	if ((ip->ver_ihl >> 4) != 4)
		return 3;
	ihl = (ip->ver_ihl & 0xf) * 4;
	if (ihl < sizeof(*ip))
		return 3;
	if (ip->protocol != 17)
		return 4;
	udp = (const void *)((const u8 *)ip + ihl);
	if ((const u8 *)(udp + 1) > end)
		return 5;

	h = 0x9747b28c;
	h ^= __builtin_bswap32(ip->saddr);
	h = rol32(h, 13) * 5 + 0xe6546b64;
	h ^= __builtin_bswap32(ip->daddr);
	h = rol32(h, 13) * 5 + 0xe6546b64;
	h ^= (u32)__builtin_bswap16(udp->source) << 16 |
	     __builtin_bswap16(udp->dest);
	h = rol32(h, 13) * 5 + 0xe6546b64;
	h ^= ip->protocol;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	return (u64)h << 32 | __builtin_bswap16(udp->len) |
	       (u64)(ip->ttl) << 16;
}

BENCH_INPUT(eth_ipv4_udp)
{
	u32 opt = k == 5 ? 8 : 0;	/* one input with IP options */
	u32 len = 14 + 20 + opt + 8 + 32;
	u8 *ip = buf + 14;

	bench_fill(buf, len, 0xe4 + k);
	buf[12] = 0x08;
	buf[13] = k == 7 ? 0xdd : 0x00;	/* one IPv6 frame */
	ip[0] = 0x40 | (5 + opt / 4);
	ip[9] = k == 3 ? 6 : 17;	/* one TCP segment */
	return len;
}
