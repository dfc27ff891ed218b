// SPDX-License-Identifier: GPL-2.0
/* A DNS query filter: Ethernet / IPv4 / UDP port 53, the DNS header, then
 * a bounded walk over the question's labels (lower-cased FNV-1a of the
 * name, label count, QTYPE). A byte loop with a bounds check per byte and
 * a data-dependent exit; most inputs are well-formed queries.
 */
#include "net_hdr.h"

#define MAX_NAME 128
#define DNS_BAD 0xbad

struct dns_hdr {
	u16 id;
	u16 flags;
	u16 qdcount;
	u16 ancount;
	u16 nscount;
	u16 arcount;
};

BENCH_XDP(parse_dns_query)
{
	const struct eth_hdr *eth = (const void *)in;
	const struct ipv4_hdr *ip;
	const struct udp_hdr *uh;
	const struct dns_hdr *dns;
	const u8 *q;
	u32 hash = 2166136261u, labels = 0, remaining = 0, i;

	if ((const u8 *)(eth + 1) > end)
		return DNS_BAD;
	if (eth->proto != bench_htons(ETH_P_IP_))
		return 0;
	ip = (const void *)(eth + 1);
	if ((const u8 *)(ip + 1) > end)
		return DNS_BAD;
	if (ip->protocol != IPPROTO_UDP_ || (ip->ver_ihl & 0xf) < 5)
		return 0;
	uh = (const void *)((const u8 *)ip + (ip->ver_ihl & 0xf) * 4);
	if ((const u8 *)(uh + 1) > end)
		return DNS_BAD;
	if (uh->dest != bench_htons(53))
		return 0;
	dns = (const void *)(uh + 1);
	if ((const u8 *)(dns + 1) > end)
		return DNS_BAD;
	/* queries only, one question */
	if ((dns->flags & bench_htons(0x8000)) || dns->qdcount != bench_htons(1))
		return 1;

	q = (const u8 *)(dns + 1);
	for (i = 0; i < MAX_NAME; i++) {
		u32 c;

		if (q + i + 1 > end)
			return DNS_BAD;
		c = q[i];
		if (remaining == 0) {
			if (c == 0)
				break;
			if (c > 63)	/* no compression in a question */
				return DNS_BAD;
			remaining = c;
			labels++;
			hash = (hash ^ '.') * 16777619u;
		} else {
			if (c >= 'A' && c <= 'Z')
				c |= 0x20;
			hash = (hash ^ c) * 16777619u;
			remaining--;
		}
	}
	if (i == MAX_NAME || q + i + 5 > end)
		return DNS_BAD;
	/* QTYPE follows the root label */
	return hash | (u64)labels << 32 | (u64)(q[i + 1] << 8 | q[i + 2]) << 40 |
	       (u64)i << 56;
}

static const char *const dns_names[] = {
	"www.example.com", "api.Service.internal", "cdn-7.static.example.net",
	"mail.example.org", "a.b.c.d.e.f.example.com", "time.cloudflare.com",
	"reply.example.com", "bad.example.com",
};

/* 0-5: queries, 6: a response (not filtered), 7: a compression pointer */
BENCH_INPUT(parse_dns_query)
{
	u64 seed = 0x500 + k;
	const char *name = dns_names[k & 7];
	u8 qname[MAX_NAME];
	u32 n = 0, qn = 0, label = 0;

	(void)cap;
	/* "a.bc" -> 1 'a' 2 'b' 'c' 0 */
	for (u32 i = 0;; i++) {
		if (name[i] == '.' || name[i] == 0) {
			qname[label] = (u8)(qn - label);
			qn++;
			if (name[i] == 0)
				break;
			label = qn;
			continue;
		}
		qname[++qn] = (u8)name[i];
		if (i == 0)
			label = 0;
	}
	/* the loop above leaves qn at the root label's index */
	qname[qn] = 0;
	if (k == 7)
		qname[4] = 0xc0;
	qn++;

	n = gen_eth(buf, ETH_P_IP_, seed);
	n += gen_ipv4(buf + n, IPPROTO_UDP_, 0x0a000002, 0x08080808,
		      8 + 12 + qn + 4);
	n += gen_udp(buf + n, 30000 + (u16)seed, 53, 12 + qn + 4);
	gen_put16(buf + n, (u16)bench_rand(&seed));
	gen_put16(buf + n + 2, k == 6 ? 0x8180 : 0x0100);
	gen_put16(buf + n + 4, 1);
	gen_zero(buf + n + 6, 6);
	n += 12;
	for (u32 i = 0; i < qn; i++)
		buf[n++] = qname[i];
	gen_put16(buf + n, k & 1 ? 28 : 1);	/* AAAA / A */
	gen_put16(buf + n + 2, 1);
	return n + 4;
}
