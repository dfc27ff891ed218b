// SPDX-License-Identifier: GPL-2.0
/* Programs for the BPF_PROG_REJIT tests. Pairs of programs that differ
 * observably (add 1 vs add 100, pass vs drop) so that a test can re-JIT the
 * live one with the other's original bytecode and see the switch.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

/* tracepoint programs tail-called from tp_tail */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tp_jmp SEC(".maps");

__u32 target_tgid;

#define GETPPID_NR 110 /* x86-64 */

enum {
	TP_EVENTS, XDP_PACKETS, KPROBE_EVENTS, RAW_TP_EVENTS,
	FENTRY_EVENTS, FEXIT_EVENTS, FENTRY_S_EVENTS, TC_PACKETS, CGROUP_PACKETS,
};

static __always_inline void bump(__u32 key, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		__sync_fetch_and_add(v, by);
}

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

/* Two programs on one hook that differ observably: NAME##1 adds 1 per
 * getppid() of ours, NAME##100 adds 100.
 */
#define COUNTING_PAIR(SEC_NAME, NAME, CTX, KEY, COND)				\
	static __always_inline int NAME##_count(CTX ctx, __u64 by)		\
	{									\
		if ((COND) && mine())						\
			bump(KEY, by);						\
		return 0;							\
	}									\
	SEC(SEC_NAME) int NAME##1(CTX ctx) { return NAME##_count(ctx, 1); }	\
	SEC(SEC_NAME) int NAME##100(CTX ctx) { return NAME##_count(ctx, 100); }

COUNTING_PAIR("tracepoint/syscalls/sys_enter_getppid", tp_add, void *, TP_EVENTS, 1)
COUNTING_PAIR("kprobe/__x64_sys_getppid", kp_add, void *, KPROBE_EVENTS, 1)
COUNTING_PAIR("raw_tp/sys_enter", raw_add, struct bpf_raw_tracepoint_args *,
	      RAW_TP_EVENTS, ctx->args[1] == GETPPID_NR)
/* called through BPF trampolines; fentry.s under tasks trace RCU */
COUNTING_PAIR("fentry/__do_sys_getppid", fe_add, void *, FENTRY_EVENTS, 1)
COUNTING_PAIR("fexit/__do_sys_getppid", fx_add, void *, FEXIT_EVENTS, 1)
COUNTING_PAIR("fentry.s/__do_sys_getppid", fs_add, void *, FENTRY_S_EVENTS, 1)

/* Socket filters: keep the whole packet, or drop it. */
SEC("socket")
int sock_accept(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("socket")
int sock_drop(struct __sk_buff *skb)
{
	return 0;
}

/* Programs that count their packets in KEY: NAME##_pass returns PASS,
 * NAME##_drop returns DROP.
 */
#define VERDICT_PAIR(SEC_NAME, NAME, CTX, KEY, PASS, DROP)			\
	SEC(SEC_NAME)								\
	int NAME##_pass(CTX ctx)						\
	{									\
		bump(KEY, 1);							\
		return PASS;							\
	}									\
	SEC(SEC_NAME)								\
	int NAME##_drop(CTX ctx)						\
	{									\
		bump(KEY, 1);							\
		return DROP;							\
	}

VERDICT_PAIR("xdp", xdp, struct xdp_md *, XDP_PACKETS, XDP_PASS, XDP_DROP)
/* TC_ACT_OK, TC_ACT_SHOT */
VERDICT_PAIR("tc", tc, struct __sk_buff *, TC_PACKETS, 0, 2)
VERDICT_PAIR("cgroup_skb/egress", cg, struct __sk_buff *, CGROUP_PACKETS, 1, 0)

/* A constant key: the verifier makes it a direct jump, poked on updates. */
SEC("xdp")
int xdp_tail(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_ABORTED;
}

/* A key the verifier does not know: an indirect jump through the slot. */
SEC("xdp")
int xdp_tail_var(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, ctx->rx_queue_index);
	return XDP_ABORTED;
}

/* Targets of the programs in rejit_on_prog.bpf.c */
SEC("xdp")
int xdp_tgt(struct xdp_md *ctx)
{
	return XDP_PASS;
}

__noinline int tgt_sub(struct xdp_md *ctx)
{
	return ctx->rx_queue_index ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_tgt_sub(struct xdp_md *ctx)
{
	return tgt_sub(ctx);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_tail(void *ctx)
{
	bpf_tail_call(ctx, &tp_jmp, 0);
	return 0;
}

/* A bpf_timer whose callback is set by the running code: the timer holds a
 * reference to that code (a re-JIT's hidden program) until it is freed.
 */
struct timer_elem {
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct timer_elem);
} timers SEC(".maps");

static int timer_cb(void *map, __u32 *key, struct timer_elem *e)
{
	return 0;
}

SEC("xdp")
int xdp_timer(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct timer_elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return XDP_ABORTED;
	bpf_timer_init(&e->t, &timers, 1 /* CLOCK_MONOTONIC */);
	bpf_timer_set_callback(&e->t, timer_cb);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
