// SPDX-License-Identifier: GPL-2.0
/* Two TCP congestion controls (Reno) as struct_ops that count the
 * connections they are set up on, by 1 and by 100, for BPF_PROG_REJIT of
 * a struct_ops program.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* A struct, not a forward declaration: libbpf matches the kfunc prototypes
 * below against the kernel's kind by kind.
 */
struct sock {};

/* The members used, matched by name against the kernel's type */
struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	char name[16];
};

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

__u64 inits;

#define COUNTING_RENO(N)							\
	SEC("struct_ops")							\
	void BPF_PROG(ca##N##_init, struct sock *sk)				\
	{									\
		__sync_fetch_and_add(&inits, N);				\
	}									\
	SEC("struct_ops")							\
	__u32 BPF_PROG(ca##N##_ssthresh, struct sock *sk)			\
	{									\
		return tcp_reno_ssthresh(sk);					\
	}									\
	SEC("struct_ops")							\
	void BPF_PROG(ca##N##_cong_avoid, struct sock *sk, __u32 ack,		\
		      __u32 acked)						\
	{									\
		tcp_reno_cong_avoid(sk, ack, acked);				\
	}									\
	SEC("struct_ops")							\
	__u32 BPF_PROG(ca##N##_undo_cwnd, struct sock *sk)			\
	{									\
		return tcp_reno_undo_cwnd(sk);					\
	}									\
	SEC(".struct_ops.link")							\
	struct tcp_congestion_ops rejit_ca##N = {				\
		.init = (void *)ca##N##_init,					\
		.ssthresh = (void *)ca##N##_ssthresh,				\
		.cong_avoid = (void *)ca##N##_cong_avoid,			\
		.undo_cwnd = (void *)ca##N##_undo_cwnd,				\
		.name = "rejit_ca" #N,						\
	};

COUNTING_RENO(1)
COUNTING_RENO(100)

char LICENSE[] SEC("license") = "GPL";
