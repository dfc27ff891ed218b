// SPDX-License-Identifier: GPL-2.0
/* test_35_replay: programs whose JIT images the native replay runs in user
 * space. bpf-to-bpf calls (two functions in one image), .rodata read by
 * constant and by variable offset (movabs of a frozen map's value), and
 * the three program types with their contexts (xdp_buff, sk_buff: data,
 * data_end, len, protocol, cb). The rejit-bench convention: an 8-byte
 * result slot before the input, the result in it (xdp) or in cb[0..1].
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 mult[4] = { 3, 5, 7, 11 };
const volatile __u64 seed = 0x9e3779b97f4a7c15ULL;

static __attribute__((noinline)) __u64 mix(__u64 h, __u64 v)
{
	h ^= v * mult[v & 3];
	return (h << 13 | h >> 51) * 5 + 0x52dce729;
}

static __always_inline __u64 body(const __u8 *data, const __u8 *end)
{
	__u64 a = *(__u64 *)(data + 8), b = *(__u64 *)(data + 16);

	return mix(mix(seed, a), b);
}

SEC("xdp")
int replay_xdp(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + 24 > end)
		return XDP_ABORTED;
	*(__u64 *)data = body(data, end);
	return XDP_PASS;
}

SEC("tc")
int replay_tc(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u64 r;

	if (data + 24 > end)
		return TC_ACT_SHOT;
	r = body(data, end) ^ skb->protocol ^ (__u64)skb->len << 40;
	skb->cb[0] = (__u32)r;
	skb->cb[1] = (__u32)(r >> 32);
	return TC_ACT_OK;
}

SEC("cgroup_skb/ingress")
int replay_cgroup(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u64 r;

	if (data + 24 > end)
		return 0;
	r = body(data, end) ^ skb->protocol ^ (__u64)skb->len << 40;
	skb->cb[0] = (__u32)r;
	skb->cb[1] = (__u32)(r >> 32);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
