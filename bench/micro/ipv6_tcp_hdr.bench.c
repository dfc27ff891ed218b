// SPDX-License-Identifier: GPL-2.0
/* Ethernet + IPv6 + TCP through packed header structs: 128-bit addresses,
 * ports, sequence numbers and the flags/data-offset word, all read
 * byte-wise on BPF and byte-swapped, then folded into a flow key.
 */
#include "bits.h"
#include "net_hdr.h"

struct tcp_h {
	u16 source;
	u16 dest;
	u32 seq;
	u32 ack_seq;
	u16 doff_flags;
	u16 window;
	u16 check;
	u16 urg_ptr;
} __attribute__((packed));

BENCH_XDP(ipv6_tcp_hdr)
{
	const struct eth_hdr_p *eth = (const void *)in;
	const struct ipv6_hdr_p *ip6 = (const void *)(eth + 1);
	const struct tcp_h *tcp = (const void *)(ip6 + 1);
	u64 h = 0x243f6a8885a308d3ULL;
	u32 flow, doff;
	u16 fl;

	if ((const u8 *)(tcp + 1) > end)
		return 1;
	if (eth->proto != __builtin_bswap16(0x86dd))
		return 2;
	if ((__builtin_bswap32(ip6->ver_tc_flow) >> 28) != 6)
		return 3;
	if (ip6->nexthdr != 6)
		return 4;
	flow = __builtin_bswap32(ip6->ver_tc_flow) & 0xfffff;
	for (int i = 0; i < 4; i++) {
		h ^= __builtin_bswap32(ip6->saddr[i]);
		h = rol64(h, 23) * 0x9e3779b97f4a7c15ULL;
		h ^= __builtin_bswap32(ip6->daddr[i]);
		h = rol64(h, 29) * 0xc2b2ae3d27d4eb4fULL;
	}
	fl = __builtin_bswap16(tcp->doff_flags);
	doff = (fl >> 12) * 4;
	h ^= (u64)__builtin_bswap16(tcp->source) << 48 |
	     (u64)__builtin_bswap16(tcp->dest) << 32 | flow;
	h = rol64(h, 31) * 0x9e3779b97f4a7c15ULL;
	h += (u64)__builtin_bswap32(tcp->seq) << 32 |
	     __builtin_bswap32(tcp->ack_seq);
	if (fl & 0x02)		/* SYN */
		h ^= __builtin_bswap16(tcp->window);
	if (fl & 0x01)		/* FIN */
		h = ~h;
	return h ^ (u64)(fl & 0x1ff) << 56 ^ doff ^
	       (u64)__builtin_bswap16(ip6->payload_len) << 8;
}

BENCH_INPUT(ipv6_tcp_hdr)
{
	u32 len = 14 + 40 + 20 + 16;
	u8 *ip6 = buf + 14, *tcp = ip6 + 40;

	bench_fill(buf, len, 0x6 + k);
	buf[12] = 0x86;
	buf[13] = 0xdd;
	ip6[0] = 0x60 | (ip6[0] & 0x0f);
	ip6[6] = k == 6 ? 17 : 6;	/* one UDP datagram */
	tcp[12] = 5 << 4;
	tcp[13] = k == 0 ? 0x02 : k == 4 ? 0x11 : 0x10;	/* SYN, FIN|ACK, ACK */
	return len;
}
