/* SPDX-License-Identifier: GPL-2.0 */
/* One benchmark source, two builds: clang -target bpf makes the BPF program
 * the kernel loads (and BpfReJIT re-JITs); clang -O2 for the host makes the
 * native anchor and the expected result (native.c collects them).
 *
 * A benchmark is a pure function of its input. The packet the program sees
 * is an 8-byte result slot followed by the input; the program writes its
 * 64-bit result into the slot, little-endian (tc and cgroup_skb: into
 * skb->cb[0] and cb[1]) and returns XDP_PASS / TC_ACT_OK / 1.
 *
 *	BENCH_XDP(name)		// or BENCH_TC(name), BENCH_CGROUP_SKB(name)
 *	{			// in: first input byte, end: one past the last
 *		...		// checks bounds as any BPF program must
 *		return result;	// __u64
 *	}
 *	BENCH_INPUT(name)	// the k-th input (k = 0 is the one timed
 *	{			// first): fill buf (cap bytes), return
 *		...		// its length; plain C, no libc
 *	}
 *
 * name is the file's name without ".bench.c" and the BPF program's name.
 * cgroup_skb programs see the packet from its network header: the kernel's
 * test run takes the first 14 bytes as an Ethernet header, so their slot
 * and input start 14 bytes into what the harness hands in (BENCH_L3_OFF).
 */
#ifndef BENCH_H
#define BENCH_H

#ifdef __bpf__
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#else
#include <stdint.h>
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int8_t __s8;
typedef int16_t __s16;
typedef int32_t __s32;
typedef int64_t __s64;
#endif

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

enum bench_type { BENCH_TYPE_XDP, BENCH_TYPE_TC, BENCH_TYPE_CGROUP_SKB };
#define BENCH_SLOT 8	/* result slot before the input */
#define BENCH_L3_OFF 14	/* cgroup_skb: Ethernet header the kernel consumes */
#define BENCH_INPUT_MAX 1500

/* Load-time configuration: .rodata, frozen by libbpf (the const-fold pass
 * may fold it); natively a plain constant, the best the compiler can do.
 */
#ifdef __bpf__
#define BENCH_CONFIG const volatile
#else
#define BENCH_CONFIG static const
#endif

#define BENCH_INLINE static inline __attribute__((always_inline))
#define BENCH_NOINLINE static __attribute__((noinline))
#define BENCH_UNUSED __attribute__((unused))

#ifdef __bpf__

#define BENCH_RESULT_XDP(r, data)	(*(u64 *)(data) = (r), XDP_PASS)
#define BENCH_DEFINE(name, ctx_t, sec, data_of, end_of, store, fail)	\
	BENCH_INLINE u64 name##_body(const u8 *in, const u8 *end);	\
	SEC(sec) int name(ctx_t *ctx)					\
	{								\
		u8 *data = (u8 *)(long)ctx->data_of;			\
		u8 *data_end = (u8 *)(long)ctx->end_of;			\
		u64 r;							\
									\
		if (data + BENCH_SLOT > data_end)			\
			return fail;					\
		r = name##_body(data + BENCH_SLOT, data_end);		\
		store;							\
	}								\
	BENCH_INLINE u64 name##_body(const u8 *in, const u8 *end)

#define BENCH_XDP(name)							\
	BENCH_DEFINE(name, struct xdp_md, "xdp", data, data_end,	\
		     *(u64 *)data = r; return XDP_PASS, XDP_ABORTED)
#define BENCH_SKB_STORE(ok)						\
	ctx->cb[0] = (u32)r; ctx->cb[1] = (u32)(r >> 32); return ok
#define BENCH_TC(name)							\
	BENCH_DEFINE(name, struct __sk_buff, "tc", data, data_end,	\
		     BENCH_SKB_STORE(TC_ACT_OK), TC_ACT_SHOT)
#define BENCH_CGROUP_SKB(name)						\
	BENCH_DEFINE(name, struct __sk_buff, "cgroup_skb/ingress", data,	\
		     data_end, BENCH_SKB_STORE(1), 0)

char LICENSE[] SEC("license") = "GPL";

#else /* native */

/* What native.c finds of each benchmark (section bench_natives). */
struct bench_native {
	const char *name;
	enum bench_type type;
	/* the program on a packet (slot + input): writes the slot, returns
	 * what the BPF program returns
	 */
	int (*run)(u8 *data, u8 *data_end);
	u32 (*input)(u8 *buf, u32 cap, u32 k);
};

#define BENCH_NATIVE_RET_XDP 2		/* XDP_PASS */
#define BENCH_NATIVE_RET_TC 0		/* TC_ACT_OK */
#define BENCH_NATIVE_RET_CGROUP_SKB 1
#define BENCH_NATIVE_FAIL_XDP 0		/* XDP_ABORTED */
#define BENCH_NATIVE_FAIL_TC 2		/* TC_ACT_SHOT */
#define BENCH_NATIVE_FAIL_CGROUP_SKB 0

#define BENCH_DEFINE(name, kind)					\
	BENCH_INLINE u64 name##_body(const u8 *in, const u8 *end);	\
	static u32 name##_input(u8 *buf, u32 cap, u32 k);		\
	static int name##_run(u8 *data, u8 *data_end)			\
	{								\
		u64 r;							\
									\
		if (data + BENCH_SLOT > data_end)			\
			return BENCH_NATIVE_FAIL_##kind;		\
		r = name##_body(data + BENCH_SLOT, data_end);		\
		__builtin_memcpy(data, &r, sizeof(r));			\
		return BENCH_NATIVE_RET_##kind;				\
	}								\
	__attribute__((section("bench_natives"), used))			\
	static const struct bench_native name##_native = {		\
		#name, BENCH_TYPE_##kind, name##_run, name##_input,	\
	};								\
	BENCH_INLINE u64 name##_body(const u8 *in, const u8 *end)

#define BENCH_XDP(name) BENCH_DEFINE(name, XDP)
#define BENCH_TC(name) BENCH_DEFINE(name, TC)
#define BENCH_CGROUP_SKB(name) BENCH_DEFINE(name, CGROUP_SKB)

#endif /* __bpf__ */

/* Both builds compile the generator; only the native one calls it. */
#define BENCH_INPUT(name) static BENCH_UNUSED u32 name##_input(u8 *buf, u32 cap, u32 k)

/* splitmix64: the inputs' deterministic pseudo-random source */
BENCH_INLINE BENCH_UNUSED u64 bench_rand(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Fill buf[0..len) from seed; returns len. */
BENCH_INLINE BENCH_UNUSED u32 bench_fill(u8 *buf, u32 len, u64 seed)
{
	for (u32 i = 0; i < len; i++)
		buf[i] = (u8)bench_rand(&seed);
	return len;
}

/* A length-prefixed message: len, then len bytes from seed, padded to 16
 * (the kernel's test run wants 14-byte packets); returns what it wrote.
 */
BENCH_INLINE BENCH_UNUSED u32 bench_fill_msg(u8 *buf, u32 len, u64 seed)
{
	u32 n = len + 1 < 16 ? 16 : len + 1;

	bench_fill(buf, n, seed);
	buf[0] = (u8)len;
	return n;
}

#endif /* BENCH_H */
