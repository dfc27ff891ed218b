// SPDX-License-Identifier: GPL-2.0
/* bpf-to-bpf calls, as libbpf loads them: the main program in its own
 * section, its subprograms in .text (two static __noinline functions, one
 * calling the other, and a global function), appended by libbpf after the
 * main program in the order it meets the calls. Offline tools must see and
 * relocate all of it. A second program shares them and hands a callback to
 * bpf_loop (an ld_imm64 of a function's address). .rodata configuration (const-fold) and a byte-built
 * little-endian field (wide-load) give the passes work in every function.
 *
 * The packet is an 8-byte result slot followed by the input: the program
 * writes its 64-bit result there, little-endian, and returns XDP_PASS, or
 * XDP_DROP for a packet too short.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 seed = 0x9e3779b9;
const volatile __u8 rounds = 3;

/* A 32-bit little-endian field from bytes, as protocol code writes it. */
static __noinline __u32 le32_at(const __u8 *p)
{
	return p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

static __noinline __u64 mix(__u64 h, __u32 v)
{
	int i;

	for (i = 0; i < rounds; i++) {
		h ^= v + seed;
		h = (h << 13 | h >> 51) * 0x100000001b3ULL;
	}
	return h ^ le32_at((const __u8 *)&v);
}

/* Global: verified on its own, with the argument types of its BTF. */
__noinline __u64 fold(__u64 h)
{
	return (h ^ h >> 29) * 0xbf58476d1ce4e5b9ULL;
}

SEC("xdp")
int xdp_subprog(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *in = data + 8;
	__u64 h = seed;

	if (in + 16 > end)
		return XDP_DROP;
	h = mix(h, le32_at(in));
	h = mix(h, le32_at(in + 4));
	h = mix(h, in[8] | in[9] << 8);
	h = fold(h + le32_at(in + 12));
	*(__u64 *)data = h;
	return XDP_PASS;
}

struct loop_ctx {
	__u64 h;
	__u32 salt;
};

static int loop_step(__u32 i, void *arg)
{
	struct loop_ctx *c = arg;

	c->h = mix(c->h, i + c->salt);
	return 0;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct loop_ctx c = { .h = seed };

	if (data + 12 > end)
		return XDP_DROP;
	c.salt = le32_at(data + 8);
	bpf_loop(4, loop_step, &c, 0);
	*(__u64 *)data = fold(c.h);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
