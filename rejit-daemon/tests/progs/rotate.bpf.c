// SPDX-License-Identifier: GPL-2.0
/* Test input for the rotate pass: rotates written the usual C way, in
 * SipHash rounds (64-bit) and a MurmurHash3 mix (32-bit, alu32 code).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned long long u64;
typedef unsigned int u32;

#define ROL64(x, k) (((x) << (k)) | ((x) >> (64 - (k))))
#define ROL32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

SEC("xdp")
int xdp_rotate(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	u64 v0 = 0x736f6d6570736575ULL, v1 = 0x646f72616e646f6dULL;
	u64 v2 = 0x6c7967656e657261ULL, v3 = 0x7465646279746573ULL;
	u32 h = 0x12345678, k;

	if (p + 16 > end)
		return XDP_PASS;
	v3 ^= *(u64 *)p;
	v2 ^= *(u64 *)(p + 8);
	for (int i = 0; i < 2; i++) { /* SipHash rounds */
		v0 += v1; v1 = ROL64(v1, 13); v1 ^= v0; v0 = ROL64(v0, 32);
		v2 += v3; v3 = ROL64(v3, 16); v3 ^= v2;
		v0 += v3; v3 = ROL64(v3, 21); v3 ^= v0;
		v2 += v1; v1 = ROL64(v1, 17); v1 ^= v2; v2 = ROL64(v2, 32);
	}
	/* MurmurHash3 x86_32, one block and the tail rotate */
	k = *(u32 *)(p + 4) * 0xcc9e2d51;
	k = ROL32(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = ROL32(h, 13);
	h = h * 5 + 0xe6546b64;
	h ^= ROL32(h ^ (u32)v1, 7);
	v0 ^= v1 ^ v2 ^ v3;
	return (int)(v0 ^ (v0 >> 32) ^ h);
}

char LICENSE[] SEC("license") = "GPL";
