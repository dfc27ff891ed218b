// SPDX-License-Identifier: GPL-2.0
/*
 * Every kinsn kfunc, run over a batch of inputs: test_kinsn fills `batch`,
 * runs test_<kinsn> with BPF_PROG_TEST_RUN and compares `out` with the
 * kinsn's meaning.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kinsn_batch.h"

extern __u32 bpf_crc32c_u8(__u32 crc, __u8 v) __ksym;
extern __u32 bpf_crc32c_u16(__u32 crc, __u16 v) __ksym;
extern __u32 bpf_crc32c_u32(__u32 crc, __u32 v) __ksym;
extern __u32 bpf_crc32c_u64(__u32 crc, __u64 v) __ksym;
extern __u64 bpf_rol64(__u64 x, __u32 n) __ksym;
extern __u64 bpf_ror64(__u64 x, __u32 n) __ksym;
extern __u32 bpf_rol32(__u32 x, __u32 n) __ksym;
extern __u32 bpf_ror32(__u32 x, __u32 n) __ksym;
extern __u64 bpf_popcnt64(__u64 x) __ksym;
extern __u64 bpf_clz64(__u64 x) __ksym;
extern __u64 bpf_ctz64(__u64 x) __ksym;
extern __u64 bpf_select64(__u64 cond, __u64 a, __u64 b) __ksym;
extern __u64 bpf_bextr64(__u64 x, __u32 start, __u32 len) __ksym;
extern __u64 bpf_prefetch(const void *p__ign) __ksym;

struct kinsn_batch batch;

/* The i-th inputs of the batch. */
#define A (batch.a[i])
#define B (batch.b[i])
#define C (batch.c[i])

#define KINSN_TEST(kfunc, expr)                         \
	SEC("syscall") int test_##kfunc(void *ctx)     \
	{                                               \
		for (int i = 0; i < KINSN_BATCH; i++)   \
			batch.out[i] = (expr);          \
		return 0;                               \
	}

KINSN_TEST(bpf_crc32c_u8, bpf_crc32c_u8(A, B))
KINSN_TEST(bpf_crc32c_u16, bpf_crc32c_u16(A, B))
KINSN_TEST(bpf_crc32c_u32, bpf_crc32c_u32(A, B))
KINSN_TEST(bpf_crc32c_u64, bpf_crc32c_u64(A, B))
KINSN_TEST(bpf_rol64, bpf_rol64(A, B))
KINSN_TEST(bpf_ror64, bpf_ror64(A, B))
KINSN_TEST(bpf_rol32, bpf_rol32(A, B))
KINSN_TEST(bpf_ror32, bpf_ror32(A, B))
KINSN_TEST(bpf_popcnt64, bpf_popcnt64(A))
KINSN_TEST(bpf_clz64, bpf_clz64(A))
KINSN_TEST(bpf_ctz64, bpf_ctz64(A))
KINSN_TEST(bpf_select64, bpf_select64(A, B, C))
KINSN_TEST(bpf_bextr64, bpf_bextr64(A, B, C))
/* any address: a prefetch never faults */
KINSN_TEST(bpf_prefetch, bpf_prefetch((const void *)A))

char LICENSE[] SEC("license") = "GPL";
