// SPDX-License-Identifier: GPL-2.0
/* Test input for the codec: exercises ld_imm64 map loads, helper calls,
 * atomics, byte loads, 32-bit jumps and a bpf-to-bpf call.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

const volatile __u32 threshold = 64;

static __attribute__((noinline)) __u32 mix(__u32 a, __u32 b)
{
	return (a << 7 | a >> 25) ^ b;
}

SEC("xdp")
int xdp_sample(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	__u32 key = 0, v;
	__u64 *cnt;

	if (data + 8 > end)
		return XDP_ABORTED;
	v = data[0] | data[1] << 8 | data[2] << 16 | (__u32)data[3] << 24;
	key = mix(v, bpf_ntohs(*(__u16 *)(data + 4))) & 3;
	cnt = bpf_map_lookup_elem(&counters, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return v > threshold ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
