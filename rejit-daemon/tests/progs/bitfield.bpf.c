// SPDX-License-Identifier: GPL-2.0
/* Test input for the select and bextr passes: header fields taken apart
 * with shifts and masks, and min/max/clamp selects, the usual C way.
 */
#include <linux/bpf.h>
#define SEC(name) __attribute__((section(name), used))

typedef unsigned long long u64;
typedef unsigned int u32;

static inline u64 min64(u64 a, u64 b)
{
	return a < b ? a : b;
}

static inline long long smax64(long long a, long long b)
{
	return a > b ? a : b;
}

SEC("xdp")
int xdp_bitfield(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	u64 w, a, b, c, lo, hi;
	u32 v;

	if (p + 16 > end)
		return XDP_PASS;
	w = *(u64 *)p;
	v = *(u32 *)(p + 8);
	/* IPv4-like fields of one word, each kept next to the word */
	a = (w >> 4) & 0xf;
	b = (w >> 12) & 0xfff;
	c = (w >> 40) & 0xffff;
	lo = (v >> 3) & 0x1f;
	hi = (v >> 19) & 0x3ff;
	/* selects: min, signed max, a clamp */
	a = min64(a, b);
	b = smax64((long long)b, (long long)c);
	c = c > 1000 ? c : lo;
	lo = min64(lo + w, hi ^ w);
	return (int)(a ^ b ^ c ^ lo ^ hi ^ w);
}

char LICENSE[] SEC("license") = "GPL";
