// SPDX-License-Identifier: GPL-2.0
/* Programs attached to programs of rejit.bpf.c, for BPF_PROG_REJIT on both
 * ends: fentry and fexit on an XDP program and freplace of it, in pairs
 * that differ observably. The test sets their targets before loading.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

enum { ON_ENTRY, ON_EXIT, LAST_RET };

static __always_inline void add(__u32 key, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &key);

	if (v)
		__sync_fetch_and_add(v, by);
}

static __always_inline void set(__u32 key, __u64 val)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &key);

	if (v)
		*v = val;
}

SEC("fentry")
int entry1(void *ctx)
{
	add(ON_ENTRY, 1);
	return 0;
}

SEC("fentry")
int entry100(void *ctx)
{
	add(ON_ENTRY, 100);
	return 0;
}

/* ctx[1] is the return value of the traced program */
SEC("fexit")
int exit1(__u64 *ctx)
{
	add(ON_EXIT, 1);
	set(LAST_RET, ctx[1]);
	return 0;
}

SEC("fexit")
int exit100(__u64 *ctx)
{
	add(ON_EXIT, 100);
	set(LAST_RET, ctx[1]);
	return 0;
}

SEC("freplace")
int ext_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("freplace")
int ext_aborted(struct xdp_md *ctx)
{
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
