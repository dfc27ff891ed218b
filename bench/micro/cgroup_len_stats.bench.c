// SPDX-License-Identifier: GPL-2.0
/* Per-packet length statistics in a cgroup_skb program (the packet from
 * its IPv4 header): header and payload lengths checked against the
 * packet, a log2 size bucket found by a shift loop, and a byte-class
 * census (zero, ASCII text, high-bit) of up to 256 payload bytes.
 */
#include "net_hdr.h"

#define MAX_SCAN 256

BENCH_CGROUP_SKB(cgroup_len_stats)
{
	const struct ipv4_hdr *ip = (const void *)in;
	const u8 *pl;
	u32 pkt_len = end - in, tot_len, hdr_len, bucket = 0, i;
	u32 zeros = 0, text = 0, high = 0, trunc;

	if ((const u8 *)(ip + 1) > end)
		return 0;
	if ((ip->ver_ihl >> 4) != 4 || (ip->ver_ihl & 0xf) < 5)
		return 0;
	tot_len = bench_ntohs(ip->tot_len);
	hdr_len = (ip->ver_ihl & 0xf) * 4;
	if (ip->protocol == IPPROTO_TCP_)
		hdr_len += 20;
	else if (ip->protocol == IPPROTO_UDP_)
		hdr_len += 8;
	trunc = tot_len > pkt_len;
	for (u32 v = tot_len; v > 1 && bucket < 16; v >>= 1)
		bucket++;

	pl = in + (hdr_len & 0xff);
	for (i = 0; i < MAX_SCAN; i++) {
		u32 c;

		if (pl + i + 1 > end)
			break;
		c = pl[i];
		if (c == 0)
			zeros++;
		else if (c >= 0x20 && c < 0x7f)
			text++;
		else if (c & 0x80)
			high++;
	}
	return (u64)bucket << 56 | (u64)trunc << 55 | (u64)(hdr_len & 0x7f) << 48 |
	       (u64)i << 36 | (u64)zeros << 24 | text << 12 | high;
}

/* TCP/UDP packets of 60-400 bytes with text, binary and zero-padded
 * payloads; 7 claims more than it carries
 */
BENCH_INPUT(cgroup_len_stats)
{
	u64 seed = 0x1a00 + k;
	u32 plen = 40 + 50 * k, n;

	(void)cap;
	n = gen_ipv4(buf, k % 3 == 2 ? IPPROTO_UDP_ : IPPROTO_TCP_, 0x0a000002,
		     0x0a000003, (k % 3 == 2 ? 8 : 20) + plen + (k == 7 ? 100 : 0));
	if (k % 3 == 2)
		n += gen_udp(buf + n, 1111, 2222, plen);
	else
		n += gen_tcp(buf + n, 1111, 2222, 0x18, seed);
	for (u32 i = 0; i < plen; i++) {
		u64 r = bench_rand(&seed);

		if (k & 1)
			buf[n + i] = (u8)(' ' + r % 95);
		else
			buf[n + i] = r % 4 == 0 ? 0 : (u8)r;
	}
	return n + plen;
}
