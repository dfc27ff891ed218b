// SPDX-License-Identifier: GPL-2.0
/* A scan with a data-dependent exit and no bpf_loop: walk up to 512 bytes
 * until a terminator, the end of the packet, or a byte budget runs out,
 * keeping a checksum and counts. One bounds check per byte, three exits.
 */
#include "bench.h"

#define MAX_SCAN 512
#define BUDGET 40000

BENCH_XDP(loop_bounded_var)
{
	u32 sum = 0, spaces = 0, upper = 0, i;
	u64 h = 0;

	for (i = 0; i < MAX_SCAN; i++) {
		u32 c;

		if (in + i + 1 > end)
			break;
		c = in[i];
		if (c == 0)
			break;
		sum += c;
		if (sum > BUDGET)
			break;
		if (c == ' ')
			spaces++;
		else if (c >= 'A' && c <= 'Z')
			upper++;
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return h ^ (u64)i << 48 ^ (u64)spaces << 32 ^ (u64)upper << 40 ^ sum;
}

/* printable text; 0-4 end at a NUL after 200-450 bytes, 5 runs out of
 * budget, 6 ends with the packet, 7 stops early
 */
BENCH_INPUT(loop_bounded_var)
{
	u64 seed = 0xf00 + k;
	u32 len = k == 6 ? 300 : 500, stop = k < 5 ? 200 + 50 * k : k == 7 ? 20 : len;

	(void)cap;
	for (u32 i = 0; i < len; i++) {
		u64 r = bench_rand(&seed);

		buf[i] = r % 6 == 0 ? ' ' : (u8)(k == 5 ? 'a' + r % 26 : 'A' + r % 58);
		if (buf[i] > 'Z' && buf[i] < 'a')
			buf[i] = '.';
	}
	if (stop < len)
		buf[stop] = 0;
	return len;
}
