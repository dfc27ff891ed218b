// SPDX-License-Identifier: GPL-2.0
/* Little-endian fields rebuilt from bytes, the way portable C reads them. */
#include "bits.h"

BENCH_XDP(le_fields)
{
	u64 sum = 0;

	if (in + 64 > end)
		return 0;
	for (int i = 0; i < 64; i += 4)
		sum = sum * 31 + le32(in + i);
	return sum;
}

BENCH_INPUT(le_fields)
{
	return bench_fill(buf, 64, k);
}
