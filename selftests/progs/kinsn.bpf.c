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
extern __u32 bpf_load_be16(const __u16 *p) __ksym;
extern __u32 bpf_load_be32(const __u32 *p) __ksym;
extern __u64 bpf_load_be64(const __u64 *p) __ksym;

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
/* loads: the input is in memory */
KINSN_TEST(bpf_load_be16, bpf_load_be16((const __u16 *)&A))
KINSN_TEST(bpf_load_be32, bpf_load_be32((const __u32 *)&A))
KINSN_TEST(bpf_load_be64, bpf_load_be64(&A))

/*
 * The bpf_fastcall pattern a compiler emits around a call that keeps R3-R5
 * (clang >= 20 for functions declared __attribute__((bpf_fastcall))):
 * spills to the lowest stack slots before, fills after. The kinsn writes
 * only R0 and its two arguments, so where the JIT emits it inline the
 * verifier drops the six spills and fills; elsewhere they stay. ctx
 * (struct fastcall_ctx) is in r1, not a C parameter: clang leaves a
 * naked function's parameters unnamed in BTF, which the kernel refuses.
 */
SEC("syscall") __attribute__((naked)) int fastcall_bpf_crc32c_u64(void)
{
	asm volatile("r6 = r1;"
		     "r1 = *(u64 *)(r6 + 0);"
		     "r2 = *(u64 *)(r6 + 8);"
		     "r3 = *(u64 *)(r6 + 16);"
		     "r4 = *(u64 *)(r6 + 24);"
		     "r5 = *(u64 *)(r6 + 32);"
		     "*(u64 *)(r10 - 8) = r3;"
		     "*(u64 *)(r10 - 16) = r4;"
		     "*(u64 *)(r10 - 24) = r5;"
		     "call %[bpf_crc32c_u64];"
		     "r5 = *(u64 *)(r10 - 24);"
		     "r4 = *(u64 *)(r10 - 16);"
		     "r3 = *(u64 *)(r10 - 8);"
		     "*(u64 *)(r6 + 40) = r0;"
		     "*(u64 *)(r6 + 48) = r3;"
		     "*(u64 *)(r6 + 56) = r4;"
		     "*(u64 *)(r6 + 64) = r5;"
		     "r0 = 0;"
		     "exit;"
		     :
		     : [bpf_crc32c_u64] "i"(bpf_crc32c_u64)
		     : "memory");
}

char LICENSE[] SEC("license") = "GPL";
