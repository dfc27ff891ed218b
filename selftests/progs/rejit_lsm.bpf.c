// SPDX-License-Identifier: GPL-2.0
/* A BPF LSM program on the BPF_PROG_REJIT hook: it refuses every re-JIT
 * the process deny_tgid asks for, and counts the calls it saw.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u32 deny_tgid;
__u64 calls;

SEC("lsm/bpf_prog_rejit")
int BPF_PROG(deny_rejit, void *prog, void *attr)
{
	__sync_fetch_and_add(&calls, 1);
	return bpf_get_current_pid_tgid() >> 32 == deny_tgid ? -1 /* EPERM */ : 0;
}

char LICENSE[] SEC("license") = "GPL";
