// SPDX-License-Identifier: GPL-2.0
/* Little-endian u64 words rebuilt from 8 bytes each: eight byte loads
 * and seven shift/or pairs per word, one 64-bit load on x86.
 */
#include "bits.h"

BENCH_XDP(le_u64_sum)
{
	u64 sum = 0, mix = 0;

	if (in + 128 > end)
		return 0;
	for (int i = 0; i < 128; i += 8) {
		u64 w = le64(in + i);

		sum += w;
		mix ^= w + (mix << 6) + (mix >> 2);
	}
	return sum ^ mix;
}

BENCH_INPUT(le_u64_sum)
{
	return bench_fill(buf, 128, 0x1e64 + k);
}
