// SPDX-License-Identifier: GPL-2.0
/* Test input for the popcount pass: population counts the usual C way,
 * which clang expands into shifts, masks and a multiplication, of 32- and
 * 64-bit packet words (flag words, bitmaps).
 */
#include <linux/bpf.h>
#define SEC(name) __attribute__((section(name), used))

typedef unsigned long long u64;
typedef unsigned int u32;

SEC("xdp")
int xdp_popcount(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	u64 a, b, n;
	u32 m;

	if (p + 24 > end)
		return XDP_PASS;
	a = *(u64 *)p;
	b = *(u64 *)(p + 8);
	n = __builtin_popcountll(a);
	if (n > 40)
		return XDP_DROP;
	m = __builtin_popcount(*(u32 *)(p + 16));
	if (m == 3)
		return XDP_TX;
	/* b is used after its count: not every window can clobber its input */
	n ^= __builtin_popcountll(b ^ a) << 16;
	return (int)(n ^ m ^ b);
}

char LICENSE[] SEC("license") = "GPL";
