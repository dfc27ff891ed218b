// SPDX-License-Identifier: GPL-2.0
/* Ethernet + IPv4 + UDP parsed through packed header structs (every
 * multi-byte field a byte-wise load on BPF), the IHL honoured, and the
 * 5-tuple folded into a flow hash: the common XDP front end.
 */
#include "bits.h"
#include "net_hdr.h"

BENCH_XDP(eth_ipv4_udp)
{
	const struct eth_hdr_p *eth = (const void *)in;
	const struct ipv4_hdr_p *ip;
	const struct udp_hdr_p *udp;
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
