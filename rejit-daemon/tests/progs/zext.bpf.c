// SPDX-License-Identifier: GPL-2.0
/* Test input for the zext pass: clang extends 32-bit values with shift
 * pairs (sign: int -> long; zero: masking the low half).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_zext(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	volatile int narrow;
	volatile unsigned long wide;
	long a;
	unsigned long b;

	if (p + 8 > end)
		return XDP_PASS;
	narrow = (signed char)p[0] * 100000 - p[1];
	wide = *(unsigned long *)p * 0x9e3779b97f4a7c15ULL;
	a = narrow;			/* sign-extend */
	b = wide & 0xffffffff;		/* zero-extend */
	return (int)((a ^ b) % 7);
}

char LICENSE[] SEC("license") = "GPL";
