// SPDX-License-Identifier: GPL-2.0
/* An HTTP request classifier: Ethernet / IPv4 / TCP to port 80, the method
 * found by comparing the payload's first bytes against GET, POST, PUT,
 * DELETE, HEAD, OPTIONS, PATCH, CONNECT, then a bounded scan of the path
 * (hash, segment count). Byte compares in a decision tree; mostly GET.
 */
#include "net_hdr.h"

enum {
	M_NONE, M_GET, M_POST, M_PUT, M_DELETE, M_HEAD, M_OPTIONS, M_PATCH,
	M_CONNECT,
};

#define MAX_PATH 64

BENCH_XDP(parse_http_method)
{
	const struct eth_hdr *eth = (const void *)in;
	const struct ipv4_hdr *ip;
	const struct tcp_hdr *th;
	const u8 *p;
	u32 method = M_NONE, off = 0, hash = 5381, segs = 0, i;

	if ((const u8 *)(eth + 1) > end)
		return 0;
	if (eth->proto != bench_htons(ETH_P_IP_))
		return 0;
	ip = (const void *)(eth + 1);
	if ((const u8 *)(ip + 1) > end)
		return 0;
	if (ip->protocol != IPPROTO_TCP_ || (ip->ver_ihl & 0xf) < 5)
		return 0;
	th = (const void *)((const u8 *)ip + (ip->ver_ihl & 0xf) * 4);
	if ((const u8 *)(th + 1) > end)
		return 0;
	if (th->dest != bench_htons(80) || (th->doff >> 4) < 5)
		return 0;
	p = (const u8 *)th + (th->doff >> 4) * 4;
	if (p + 8 > end)
		return 0;

	switch (p[0]) {
	case 'G':
		if (p[1] == 'E' && p[2] == 'T' && p[3] == ' ')
			method = M_GET, off = 4;
		break;
	case 'P':
		if (p[1] == 'O' && p[2] == 'S' && p[3] == 'T' && p[4] == ' ')
			method = M_POST, off = 5;
		else if (p[1] == 'U' && p[2] == 'T' && p[3] == ' ')
			method = M_PUT, off = 4;
		else if (p[1] == 'A' && p[2] == 'T' && p[3] == 'C' &&
			 p[4] == 'H' && p[5] == ' ')
			method = M_PATCH, off = 6;
		break;
	case 'D':
		if (p[1] == 'E' && p[2] == 'L' && p[3] == 'E' && p[4] == 'T' &&
		    p[5] == 'E' && p[6] == ' ')
			method = M_DELETE, off = 7;
		break;
	case 'H':
		if (p[1] == 'E' && p[2] == 'A' && p[3] == 'D' && p[4] == ' ')
			method = M_HEAD, off = 5;
		break;
	case 'O':
		if (p[1] == 'P' && p[2] == 'T' && p[3] == 'I' && p[4] == 'O' &&
		    p[5] == 'N' && p[6] == 'S' && p[7] == ' ')
			method = M_OPTIONS, off = 8;
		break;
	case 'C':
		if (p[1] == 'O' && p[2] == 'N' && p[3] == 'N' && p[4] == 'E' &&
		    p[5] == 'C' && p[6] == 'T' && p[7] == ' ')
			method = M_CONNECT, off = 8;
		break;
	}
	if (method == M_NONE)
		return 1;

	p += off;
	for (i = 0; i < MAX_PATH; i++) {
		u32 c;

		if (p + i + 1 > end)
			break;
		c = p[i];
		if (c == ' ' || c == '?')
			break;
		if (c == '/')
			segs++;
		hash = hash * 33 + c;
	}
	return method | (u64)segs << 8 | (u64)i << 16 | (u64)hash << 32;
}

static const char *const http_requests[] = {
	"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET /api/v2/users/1234/profile?fields=name HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /static/js/app.3f9a1c.min.js HTTP/1.1\r\nAccept: */*\r\n\r\n",
	"GET /images/2024/05/banner-wide.png HTTP/1.1\r\n\r\n",
	"POST /api/v2/orders HTTP/1.1\r\nContent-Length: 17\r\n\r\n",
	"PUT /objects/bucket-1/key-77 HTTP/1.1\r\n\r\n",
	"\x16\x03\x01\x02\x10\x01\x02\x0c\xfc\x03\x03 not http at all",
};

/* 0-4: GET, 5: POST, 6: PUT, 7: not HTTP (a TLS hello on port 80) */
BENCH_INPUT(parse_http_method)
{
	u64 seed = 0x600 + k;
	const char *req = http_requests[k & 7];
	u32 n, len = 0;

	(void)cap;
	while (req[len])
		len++;
	n = gen_eth(buf, ETH_P_IP_, seed);
	n += gen_ipv4(buf + n, IPPROTO_TCP_, 0x0a000102, 0x0a0000fe, 20 + len);
	n += gen_tcp(buf + n, 40000 + k * 7, 80, 0x18, seed);
	for (u32 i = 0; i < len; i++)
		buf[n++] = (u8)req[i];
	return n;
}
