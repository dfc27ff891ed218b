// SPDX-License-Identifier: GPL-2.0
/* The workload's xdp_flow behind a tail call, as dispatchers (libxdp's,
 * Cilium's) run programs: xdp_dispatch jumps to slot 0 of `jmp`. Tail
 * calls carry no run statistics, so bpfrejitd measures xdp_flow through
 * xdp_dispatch's (test_40_bpfrejitd.sh).
 */
#include "workload.bpf.c"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}
