// SPDX-License-Identifier: GPL-2.0
/* Test input for the be_load pass: header fields read in network order
 * (bpf_ntohs/ntohl on aligned fields: a load and a swap each), and one
 * through the context, which must stay. Pure computation on the packet,
 * so the interpreter can run it before and after the rewrite.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_be_load(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	__u64 h;

	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_DROP;
	h = bpf_ntohl(ip->saddr) * 31 + bpf_ntohl(ip->daddr);
	h ^= (__u64)bpf_ntohs(udp->source) << 16 | bpf_ntohs(udp->dest);
	h += bpf_ntohs(ip->tot_len);
	h += bpf_ntohl(ctx->rx_queue_index);
	return (h * 0x9e3779b97f4a7c15ull) >> 62; /* every bit of h counts */
}

char LICENSE[] SEC("license") = "GPL";
