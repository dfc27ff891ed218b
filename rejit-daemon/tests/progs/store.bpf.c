// SPDX-License-Identifier: GPL-2.0
/* Test input for the wide-store pass: a packed header written field by
 * field and an address written in network order byte by byte, the way
 * clang stores to memory it may not assume aligned.
 */
#include <linux/bpf.h>
#define SEC(name) __attribute__((section(name), used))

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

struct __attribute__((packed)) hdr {
	u8 kind;
	u32 addr;
	u16 port;
	u64 cookie;
	u8 pad;
	u32 seq;
	u16 len;
};

SEC("xdp")
int xdp_store(struct xdp_md *ctx)
{
	u8 *p = (void *)(long)ctx->data;
	u8 *end = (void *)(long)ctx->data_end;
	struct hdr *h = (void *)p;
	u64 c, s;
	u32 a;

	if (p + 32 > end)
		return XDP_PASS;
	a = *(u32 *)(p + 20) * 3 + 1;
	c = *(u64 *)(p + 24) ^ 0x1234;
	s = *(u64 *)(p + 24) * 0x9e3779b97f4a7c15ull;
	h->addr = a;
	h->port = __builtin_bswap16((u16)a);
	h->cookie = c;
	h->seq = (u32)s;
	h->len = (u16)(s >> 32);
	/* network order, byte by byte */
	p[24] = a >> 24;
	p[25] = a >> 16;
	p[26] = a >> 8;
	p[27] = a;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
