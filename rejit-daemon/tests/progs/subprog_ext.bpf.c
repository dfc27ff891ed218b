// SPDX-License-Identifier: GPL-2.0
/* What libbpf cannot prepare without a kernel next to what it can: an
 * freplace program needs the program it replaces, so offline it stays as
 * clang wrote it, which is complete only if it calls nothing.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* A map before .rodata in libbpf's list: offline, .rodata is still map 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

const volatile int factor = 2;

static __noinline int twice(int x)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&calls, &key);

	if (n)
		(*n)++;
	return x * factor;
}

SEC("freplace/target")
int ext_calls(struct xdp_md *ctx)
{
	return twice(ctx->ingress_ifindex) & 3;
}

SEC("freplace/target")
int ext_alone(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex & 3;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	return twice(ctx->rx_queue_index) & 3;
}

char _license[] SEC("license") = "GPL";
