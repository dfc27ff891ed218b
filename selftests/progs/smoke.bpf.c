// SPDX-License-Identifier: GPL-2.0
/* Smoke test program: XDP verdict from the first byte of the frame, with a
 * per-verdict counter so the test can see side effects as well as returns.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

SEC("xdp")
int smoke(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	__u32 verdict = XDP_PASS;
	__u64 *cnt;

	if (data + 1 > end)
		verdict = XDP_ABORTED;
	else if (data[0] == 0x42)
		verdict = XDP_DROP;
	cnt = bpf_map_lookup_elem(&verdicts, &verdict);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
