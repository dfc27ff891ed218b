// SPDX-License-Identifier: GPL-2.0
/* Big-endian u16/u32/u64 fields rebuilt from bytes (network order, the way
 * portable parsers read them): byte loads, shifts and ors a JIT may turn
 * into one load plus a byte swap (movbe).
 */
#include "bits.h"

/* 8 records of 16 bytes: u16 kind, u16 len, u32 id, u64 stamp */
BENCH_XDP(be_fields)
{
	u64 acc = 0x6a09e667f3bcc908ULL;

	if (in + 128 > end)
		return 0;
	for (int i = 0; i < 128; i += 16) {
		const u8 *r = in + i;

		acc ^= be16(r) + ((u64)be16(r + 2) << 16);
		acc = acc * 0x100000001b3ULL + be32(r + 4);
		acc ^= be64(r + 8);
	}
	return acc;
}

BENCH_INPUT(be_fields)
{
	return bench_fill(buf, 128, 0xbe00 + k);
}
