// SPDX-License-Identifier: GPL-2.0
/* A telemetry record of 24 fixed fields (u8/u16/u32/u64 at fixed
 * offsets) folded into a digest by one long straight-line block of ALU
 * operations: no loops, no branches after the single bounds check.
 */
#include "bench.h"

#define REC_LEN 96

#define U8(off) ((u64)in[off])
#define U16(off) ((u64)*(const u16 *)(in + (off)))
#define U32(off) ((u64)*(const u32 *)(in + (off)))
#define U64(off) (*(const u64 *)(in + (off)))

BENCH_XDP(straight_line_mix)
{
	u64 x, y, z, t;

	if (in + REC_LEN > end)
		return 0;
	x = U64(0) ^ U32(8) << 7;
	y = U32(12) + U16(16) * 0x9e37;
	z = U16(18) ^ U8(20) << 24 ^ U8(21) << 16;
	t = x + y;
	x = (x ^ z) * 0xff51afd7ed558ccdULL;
	y += U64(24) >> 3;
	z -= U32(32) & 0xfff0fff0;
	t ^= U32(36) << 17;
	x += t >> 29;
	y ^= x * 5;
	z += U16(40) * U16(42);
	t -= U64(48) ^ y;
	x ^= z << 13;
	y += t >> 7;
	z ^= U32(56) + U32(60);
	t += U8(64) * 0x01010101ULL;
	x -= y ^ U16(66);
	y ^= z >> 19;
	z += x << 3;
	t ^= U64(72) - x;
	x += U32(80) * 0x85ebca6bULL;
	y -= U16(84) << 40;
	z ^= U16(86) ^ t;
	t += U32(88) >> 5;
	x ^= y + z;
	y += U8(92) << 56 | U8(93) << 48;
	z -= U16(94) * 0xc2b2ae35ULL;
	t ^= x >> 33;
	x += t * 9;
	y ^= z << 11;
	z += y >> 23;
	t -= z ^ x;
	return x ^ y ^ z ^ t;
}

BENCH_INPUT(straight_line_mix)
{
	(void)cap;
	return bench_fill(buf, REC_LEN, 0x1200 + k);
}
