// SPDX-License-Identifier: GPL-2.0
/* Ones-complement checksums in tc, as a checksum-fixing program computes
 * them: verify the IPv4 header checksum (IHL words), then the UDP
 * checksum over the pseudo-header and up to 256 bytes of datagram in a
 * bounded 16-bit word loop, folding carries at the end.
 */
#include "net_hdr.h"

#define MAX_WORDS 128

BENCH_INLINE u32 fold16(u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (u32)((sum & 0xffff) + (sum >> 16));
}

BENCH_TC(tc_checksum)
{
	const struct eth_hdr *eth = (const void *)in;
	const struct ipv4_hdr *ip;
	const u8 *l4;
	u64 sum = 0;
	u32 ihl, ip_ok, ulen, words, i;

	if ((const u8 *)(eth + 1) > end)
		return 0;
	if (eth->proto != bench_htons(ETH_P_IP_))
		return 0;
	ip = (const void *)(eth + 1);
	if ((const u8 *)(ip + 1) > end)
		return 0;
	ihl = ip->ver_ihl & 0xf;
	if (ihl < 5)
		return 0;
	/* the IPv4 header checksum, options included */
	for (i = 0; i < 30; i++) {
		const u16 *w = (const u16 *)((const u8 *)ip + i * 2);

		if (i >= ihl * 2)
			break;
		if ((const u8 *)(w + 1) > end)
			return 0;
		sum += *w;
	}
	ip_ok = fold16(sum) == 0xffff;
	if (ip->protocol != IPPROTO_UDP_)
		return ip_ok;

	l4 = (const u8 *)ip + ihl * 4;
	if (l4 + 8 > end)
		return ip_ok;
	ulen = bench_ntohs(((const struct udp_hdr *)l4)->len);
	/* pseudo-header: addresses, protocol, UDP length */
	sum = (u64)ip->saddr + ip->daddr + bench_htons(IPPROTO_UDP_) +
	      bench_htons(ulen);
	words = ulen / 2;
	for (i = 0; i < MAX_WORDS; i++) {
		const u16 *w = (const u16 *)(l4 + i * 2);

		if (i >= words || (const u8 *)(w + 1) > end)
			break;
		/* the checksum field counts as zero */
		if (i != 3)
			sum += *w;
	}
	if ((ulen & 1) && i == words && ulen < MAX_WORDS * 2 && l4 + ulen <= end)
		sum += l4[ulen - 1];
	return (u64)ip_ok << 32 | (u16)~fold16(sum) | (u64)i << 16;
}

/* 0-6: UDP with payloads of 60-240 bytes (6 odd-sized), 7: a bad IPv4
 * checksum
 */
BENCH_INPUT(tc_checksum)
{
	u64 seed = 0x1700 + k;
	u32 plen = k == 6 ? 101 : 60 + 30 * k, n, ip;

	(void)cap;
	n = gen_eth(buf, ETH_P_IP_, seed);
	ip = n;
	n += gen_ipv4(buf + n, IPPROTO_UDP_, 0x0a000001 + k, 0x0a000101, 8 + plen);
	if (k == 7)
		buf[ip + 10] ^= 0x5a;
	n += gen_udp(buf + n, 12345, 9999, plen);
	return n + bench_fill(buf + n, plen, seed);
}
