// SPDX-License-Identifier: GPL-2.0
/* Extensions of the global functions of rejit_ext_tgt.bpf.c: one that
 * keeps packet data and one that may change it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace")
int ext_keeps(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("freplace")
int ext_changes(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, 0) ? XDP_ABORTED : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
