// SPDX-License-Identifier: GPL-2.0
/* IPv6 source and destination addresses (packed header) matched against a
 * small static prefix table: masks built from prefix lengths with shifts,
 * 32-bit words byte-swapped from network order, first match wins; an ACL
 * a BPF firewall keeps in .rodata rather than in an LPM map.
 */
#include "net_hdr.h"

struct prefix {
	u32 addr[4];	/* host order */
	u32 len;
	u32 verdict;
};

#define NPFX 6

static const struct prefix pfx[NPFX] = {
	{ { 0x20010db8, 0x00010000, 0, 0 }, 48, 1 },
	{ { 0x20010db8, 0x00020000, 0, 0 }, 48, 2 },
	{ { 0xfd000000, 0, 0, 0 }, 8, 3 },
	{ { 0x20010db8, 0x000a0000, 0x12340000, 0 }, 80, 4 },
	{ { 0xfe800000, 0, 0, 0 }, 10, 5 },
	{ { 0x20010db8, 0, 0, 0 }, 32, 6 },
};

/* mask of word w (0..3) for a prefix of len bits */
BENCH_INLINE u32 word_mask(u32 len, u32 w)
{
	u32 bits = len > 32 * w ? len - 32 * w : 0;

	if (bits >= 32)
		return 0xffffffff;
	return bits ? ~0u << (32 - bits) : 0;
}

BENCH_INLINE u32 match(const u32 *a)
{
	for (int p = 0; p < NPFX; p++) {
		u32 diff = 0;

		for (int w = 0; w < 4; w++)
			diff |= (a[w] ^ pfx[p].addr[w]) &
				word_mask(pfx[p].len, w);
		if (!diff)
			return pfx[p].verdict;
	}
	return 0;
}

BENCH_XDP(ipv6_prefix_match)
{
	const struct ipv6_hdr_p *ip6 = (const void *)in;
	u32 s[4], d[4];

	if ((const u8 *)(ip6 + 1) > end)
		return 0;
	for (int w = 0; w < 4; w++) {
		s[w] = __builtin_bswap32(ip6->saddr[w]);
		d[w] = __builtin_bswap32(ip6->daddr[w]);
	}
	return (u64)match(s) << 32 | match(d) << 8 | ip6->nexthdr;
}

BENCH_INPUT(ipv6_prefix_match)
{
	/* addresses mostly inside a prefix, the common allow path; some
	 * matching only a late or no entry
	 */
	static const u32 hi[8][2] = {
		{ 0x20010db8, 0x00010000 }, { 0x20010db8, 0x00027700 },
		{ 0xfd12abcd, 0x1 }, { 0x20010db8, 0x000a0000 },
		{ 0xfe80ffff, 0 }, { 0x20010db8, 0x00990000 },
		{ 0x3ffe0000, 0 }, { 0x20010db8, 0x00010000 },
	};
	u32 len = bench_fill(buf, 40 + 16, 0x6fa + k);
	u8 *sa = buf + 8, *da = buf + 24;

	for (int i = 0; i < 4; i++) {
		sa[i] = hi[k & 7][0] >> (24 - 8 * i);
		sa[4 + i] = hi[k & 7][1] >> (24 - 8 * i);
		da[i] = hi[(k + 3) & 7][0] >> (24 - 8 * i);
		da[4 + i] = hi[(k + 3) & 7][1] >> (24 - 8 * i);
	}
	if (k == 3)	/* the /80 entry: word 2 too */
		sa[8] = 0x12, sa[9] = 0x34;
	return len;
}
