// SPDX-License-Identifier: GPL-2.0
/* Targets of the extensions in rejit_ext.bpf.c: two XDP programs whose
 * global functions differ in whether they may change packet data. The
 * caller of sub_keeps trusts a packet pointer checked before the call.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int sub_changes(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, 0) ? XDP_ABORTED : XDP_PASS;
}

SEC("xdp")
int tgt_changes(struct xdp_md *ctx)
{
	return sub_changes(ctx);
}

__noinline int sub_keeps(struct xdp_md *ctx)
{
	return ctx->rx_queue_index ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int tgt_keeps(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if ((void *)(data + 1) > end)
		return XDP_ABORTED;
	if (sub_keeps(ctx) != XDP_PASS)
		return XDP_DROP;
	return data[0] == 0x02 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
