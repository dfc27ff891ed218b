// SPDX-License-Identifier: GPL-2.0
/* Test input for the wide-load pass: packed headers that clang must read
 * byte by byte (it may not assume alignment on BPF). Pure computation on the
 * packet, so the interpreter can run it before and after the rewrite.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct tunnel_hdr {
	__u8 flags;
	__be32 vni;	/* big-endian, unaligned */
	__u64 cookie;	/* little-endian, unaligned */
	__u16 len;	/* little-endian, unaligned */
} __attribute__((packed));

SEC("xdp")
int xdp_packed(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tunnel_hdr *t = data + sizeof(*eth);
	__u64 h;

	if ((void *)(t + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(0x88b5))	/* local experimental */
		return XDP_DROP;
	h = bpf_ntohl(t->vni) * 31 + t->cookie;
	h ^= t->len;
	if (t->flags & 1)
		h += eth->h_source[5];
	return (__u32)(h ^ h >> 32) % 4;
}

/* Bytes put together by hand in network order, the other common idiom. */
SEC("xdp")
int xdp_bytes(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u32 v;

	if (p + 8 > end)
		return XDP_PASS;
	v = (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
	/* p[4] is also used alone: that byte load must survive */
	return (v + p[4] + (p[5] | p[6] << 8)) % 5;
}

char LICENSE[] SEC("license") = "GPL";
