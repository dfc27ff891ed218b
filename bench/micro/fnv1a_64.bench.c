// SPDX-License-Identifier: GPL-2.0
/* FNV-1a (64-bit) over 96 packet bytes: a byte-at-a-time chain of xor
 * and 64-bit multiply, the latency-bound shape of simple payload hashes;
 * nothing to vectorise, so the JIT's per-byte overhead shows directly.
 */
#include "bench.h"

#define LEN 96

BENCH_XDP(fnv1a_64)
{
	u64 h = 0xcbf29ce484222325ULL;

	if (in + LEN > end)
		return 0;
	for (int i = 0; i < LEN; i++) {
		h ^= in[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

BENCH_INPUT(fnv1a_64)
{
	return bench_fill(buf, LEN, 0xf1a + k);
}
