// SPDX-License-Identifier: GPL-2.0
/* Byte swaps of loaded fields with __builtin_bswap16/32/64 (bpf_ntohs,
 * bpf_ntohl, bpf_be64_to_cpu): BPF's own end16/32/64 instructions, a load
 * plus bswap or one movbe on x86.
 */
#include "bench.h"

#define N 8

struct rec {
	u64 a;
	u32 b;
	u16 c;
	u16 d;
};

BENCH_XDP(bswap_mix)
{
	const struct rec *r = (const void *)in;
	u64 acc = 0;
	u32 x = 0;
	u16 y = 0;

	if ((const u8 *)(r + N) > end)
		return 0;
	for (int i = 0; i < N; i++) {
		acc += __builtin_bswap64(r[i].a);
		x ^= __builtin_bswap32(r[i].b) + i;
		y += __builtin_bswap16(r[i].c) ^ __builtin_bswap16(r[i].d);
		/* sums compared in network order, as a checksum would */
		if (__builtin_bswap16(r[i].c) > __builtin_bswap16(r[i].d))
			acc ^= __builtin_bswap64(acc);
	}
	return acc ^ (u64)__builtin_bswap32(x) << 16 ^ __builtin_bswap16(y);
}

BENCH_INPUT(bswap_mix)
{
	return bench_fill(buf, N * sizeof(struct rec), 0xb5 + k);
}
