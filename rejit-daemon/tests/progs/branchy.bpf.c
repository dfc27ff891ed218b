// SPDX-License-Identifier: GPL-2.0
/* Branches whose common case jumps: clang lays out the body of an
 * "if (rare) { ... }" as the fall-through, so on usual traffic the jump
 * over it is taken. The layout pass, given an edge profile, moves the rare
 * bodies out of the way.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_branchy(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	__u64 acc = 0;

	if (data + 16 > end)
		return XDP_ABORTED;
	if (p[0] == 0xff) {	/* rare: a marked packet */
		acc = p[1] * 7 + p[2];
		acc ^= acc << 13;
		acc += p[3];
	}
	if (p[4] & 0x80) {	/* rare: an option present */
		acc += p[5] * 3;
		acc ^= (__u64)p[6] << 9;
	}
	acc += p[7] + p[8];
	if (acc > 5000)		/* rare */
		return XDP_DROP;
	return acc & 1 ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
