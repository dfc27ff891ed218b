// SPDX-License-Identifier: GPL-2.0
/* A record format mixing host (little-endian) and network (big-endian)
 * fields of 8/16/32/64 bits, as tracing or storage headers do: each field
 * rebuilt from bytes in its own order.
 */
#include "bits.h"

/* 24-byte record:
 *	0  u8  version		1  u8  flags
 *	2  le16 type		4  be16 length
 *	6  le16 cpu		8  le32 pid
 *	12 be32 seq		16 le64 timestamp
 * and a big-endian u64 trailer word every second record (flags bit 0).
 */
#define REC 24
#define NREC 5

BENCH_XDP(mixed_endian_record)
{
	u64 acc = 0, ts_max = 0;
	u32 bytes = 0;

	if (in + NREC * REC + 8 > end)
		return 0;
	for (int i = 0; i < NREC; i++) {
		const u8 *r = in + i * REC;
		u64 ts = le64_halves(r + 16);

		if (r[0] != 1)
			continue;
		bytes += be16(r + 4);
		acc += (u64)le16(r + 2) << 48 | (u64)le16(r + 6) << 32 |
		       le32(r + 8);
		acc ^= (u64)be32(r + 12) << 17;
		if (ts > ts_max)
			ts_max = ts;
		if (r[1] & 1)
			acc += be64(r + REC);
	}
	return acc ^ ts_max ^ ((u64)bytes << 40);
}

BENCH_INPUT(mixed_endian_record)
{
	u64 s = 0x3e0 + k;
	u32 len = bench_fill(buf, NREC * REC + 8, s);

	/* version 1 in all but one record of odd inputs */
	for (int i = 0; i < NREC; i++)
		buf[i * REC] = (k & 1) && i == 2 ? 2 : 1;
	return len;
}
