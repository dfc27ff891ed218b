// SPDX-License-Identifier: GPL-2.0
/* GRE (RFC 2890) behind Ethernet/IPv4: the checksum, key and sequence
 * fields are present or not by the flag bits, so the inner header sits at
 * a data-dependent offset; packed structs, flag tests, variable-offset
 * packet pointers and their bounds checks.
 */
#include "net_hdr.h"

struct gre_h {
	u16 flags;
	u16 proto;
} __attribute__((packed));

struct gre_word {
	u32 v;
} __attribute__((packed));

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_VER 0x0007

BENCH_XDP(gre_hdr)
{
	const struct eth_hdr_p *eth = (const void *)in;
	const struct ipv4_hdr_p *ip = (const void *)(eth + 1);
	const struct gre_h *gre = (const void *)(ip + 1);
	const u8 *p = (const u8 *)(gre + 1);
	u64 r = 0;
	u16 flags;

	if ((const u8 *)(gre + 1) > end)
		return 1;
	if (eth->proto != __builtin_bswap16(0x0800) || ip->ver_ihl != 0x45 ||
	    ip->protocol != 47)
		return 2;
	flags = __builtin_bswap16(gre->flags);
	if (flags & GRE_VER)
		return 3;
	if (flags & GRE_C) {
		const struct gre_word *w = (const void *)p;

		if ((const u8 *)(w + 1) > end)
			return 4;
		r += __builtin_bswap32(w->v) >> 16;
		p += 4;
	}
	if (flags & GRE_K) {
		const struct gre_word *w = (const void *)p;

		if ((const u8 *)(w + 1) > end)
			return 4;
		r ^= (u64)__builtin_bswap32(w->v) << 24;
		p += 4;
	}
	if (flags & GRE_S) {
		const struct gre_word *w = (const void *)p;

		if ((const u8 *)(w + 1) > end)
			return 4;
		r += (u64)__builtin_bswap32(w->v) * 3;
		p += 4;
	}
	if (gre->proto == __builtin_bswap16(0x0800)) {
		const struct ipv4_hdr_p *iip = (const void *)p;

		if ((const u8 *)(iip + 1) > end)
			return 5;
		r ^= (u64)__builtin_bswap32(iip->saddr) << 32 |
		     __builtin_bswap32(iip->daddr);
		r += iip->protocol;
	} else if (gre->proto == __builtin_bswap16(0x6558)) {
		const struct eth_hdr_p *ieth = (const void *)p;

		if ((const u8 *)(ieth + 1) > end)
			return 5;
		r ^= (u64)__builtin_bswap16(ieth->proto) << 48 |
		     ieth->dst[5] | (u64)ieth->src[5] << 8;
	}
	return r ^ (u64)flags << 32 ^ __builtin_bswap32(ip->saddr);
}

BENCH_INPUT(gre_hdr)
{
	/* flags by input: mostly key only (the common tunnel), some key +
	 * sequence, one checksum + key + sequence, one bare
	 */
	static const u16 flags[8] = { GRE_K, GRE_K, GRE_K | GRE_S, GRE_K,
				      GRE_C | GRE_K | GRE_S, GRE_K, 0, GRE_K };
	u32 len = 14 + 20 + 4 + 12 + 20 + 8;
	u8 *ip = buf + 14, *gre = ip + 20;

	bench_fill(buf, len, 0x47 + k);
	buf[12] = 0x08;
	buf[13] = 0x00;
	ip[0] = 0x45;
	ip[9] = 47;
	gre[0] = flags[k & 7] >> 8;
	gre[1] = flags[k & 7] & 0xff;
	gre[2] = k == 5 ? 0x65 : 0x08;	/* one transparent Ethernet bridging */
	gre[3] = k == 5 ? 0x58 : 0x00;
	return len;
}
