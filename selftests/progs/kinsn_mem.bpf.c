// SPDX-License-Identifier: GPL-2.0
/*
 * The function-like kinsns on memory: test_kinsn_mem fills `batch`, runs a
 * program with BPF_PROG_TEST_RUN and compares with kinsn_mem.h's meaning.
 * Vectors start at varying offsets (alignment) and have varying lengths,
 * which the verifier bounds: off <= 63, len <= MEM_LEN, in a MEM_BUF array.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kinsn_mem_batch.h"

extern __s64 bpf_dot_i8(const __s8 *a, __u32 a__sz, const __s8 *b, __u32 b__sz) __ksym;
extern int bpf_gemm_i8(__s32 *c, __u32 c__sz, const __s8 *ab, __u32 ab__sz,
		       __u32 shape) __ksym;
extern int bpf_gemm_bf16(__u32 *c, __u32 c__sz, const __u16 *ab, __u32 ab__sz,
			 __u32 shape) __ksym;
extern __u32 bpf_crc32c(__u32 crc, const void *buf, __u32 buf__sz) __ksym;

struct kinsn_mem_batch batch;

static __always_inline __u32 len_of(int i)
{
	__u32 n = batch.len[i];

	return n > MEM_LEN ? MEM_LEN : n;
}

SEC("xdp") int dot_batch(struct xdp_md *ctx)
{
	for (int i = 0; i < MEM_BATCH; i++) {
		__u32 n = len_of(i);

		batch.out[i] = bpf_dot_i8(batch.a + (batch.off_a[i] & 63), n,
					  batch.b + (batch.off_b[i] & 63), n);
	}
	return XDP_PASS;
}

SEC("xdp") int crc_batch(struct xdp_md *ctx)
{
	for (int i = 0; i < MEM_BATCH; i++)
		batch.out[i] = bpf_crc32c(batch.seed[i], batch.a + (batch.off_a[i] & 63),
					  len_of(i));
	return XDP_PASS;
}

SEC("xdp") int gemm(struct xdp_md *ctx)
{
	batch.ret = bpf_gemm_i8(batch.c, sizeof(batch.c), batch.a, sizeof(batch.a), batch.shape);
	return XDP_PASS;
}

/* bf16: A and B in a (2048 elements), C's fp32 bits in c. */
SEC("xdp") int gemm_bf16(struct xdp_md *ctx)
{
	batch.ret = bpf_gemm_bf16((__u32 *)batch.c, sizeof(batch.c), (const __u16 *)batch.a,
				  sizeof(batch.a), batch.shape);
	return XDP_PASS;
}

/* One dot product of len[0] bytes, for the benchmark. */
SEC("xdp") int dot_bench(struct xdp_md *ctx)
{
	__u32 n = len_of(0);

	batch.out[0] = bpf_dot_i8(batch.a, n, batch.b, n);
	return XDP_PASS;
}

/* Refused by the verifier: one byte past the end of batch (c is last). */
SEC("xdp") int dot_oob(struct xdp_md *ctx)
{
	const __s8 *c = (const __s8 *)batch.c;

	batch.out[0] = bpf_dot_i8(c, sizeof(batch.c) + 1, batch.b, sizeof(batch.b));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
