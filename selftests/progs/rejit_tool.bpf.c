// SPDX-License-Identifier: GPL-2.0
/* Programs for the bpftool prog rejit tests, built several times from this
 * one source: the XDP (-DNO_TRACE) and tracing (-DNO_XDP) programs as
 * loaded, modified code (-DVARIANT_B: drop instead of pass, count 100 per
 * event) and an incompatible map (-DVARIANT_C). No global variables:
 * internal map names depend on the object's name.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifdef VARIANT_B
#define STEP 100
#define VERDICT XDP_DROP
#else
#define STEP 1
#define VERDICT XDP_PASS
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
#ifdef VARIANT_C
	__uint(max_entries, 8);
#else
	__uint(max_entries, 4);
#endif
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void bump(__u32 key, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	if (v)
		__sync_fetch_and_add(v, by);
}

#ifndef NO_XDP
SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	bump(0, 1);
	return VERDICT;
}
#endif

#ifndef NO_TRACE
SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_prog(void *ctx)
{
	bump(1, STEP);
	return 0;
}

SEC("kprobe/__x64_sys_getppid")
int kp_prog(void *ctx)
{
	bump(2, STEP);
	return 0;
}
#endif

char LICENSE[] SEC("license") = "GPL";
