// SPDX-License-Identifier: GPL-2.0
/* A rate/size policer whose limits are load-time numbers (const volatile
 * in .rodata): folded, the compares take immediates, the division by the
 * configured unit becomes a division by a constant and the shift a shift
 * by an immediate.
 */
#include "bench.h"

BENCH_CONFIG u32 cfg_min_len = 64;
BENCH_CONFIG u32 cfg_max_len = 1400;
BENCH_CONFIG u32 cfg_min_ttl = 8;
BENCH_CONFIG u32 cfg_burst = 3000;
BENCH_CONFIG u32 cfg_unit = 125;
BENCH_CONFIG u32 cfg_weight_shift = 3;

#define RECORDS 16
#define RECORD_LEN 4

BENCH_XDP(config_thresholds)
{
	u32 small = 0, big = 0, low_ttl = 0, tokens = 0, drops = 0;
	u64 cost = 0;

	if (in + RECORDS * RECORD_LEN > end)
		return 0;
	for (int i = 0; i < RECORDS; i++) {
		const u8 *r = in + i * RECORD_LEN;
		u32 len = (r[0] | (u32)r[1] << 8) & 0x7ff;
		u32 ttl = r[2];

		if (len < cfg_min_len)
			small++;
		else if (len > cfg_max_len)
			big++;
		if (ttl < cfg_min_ttl)
			low_ttl++;
		tokens += len / cfg_unit;
		if (tokens > cfg_burst) {
			drops++;
			tokens -= cfg_burst;
		}
		cost += (u64)(len + r[3]) << cfg_weight_shift;
	}
	return cost ^ (u64)small << 32 ^ (u64)big << 40 ^ (u64)low_ttl << 48 ^
	       (u64)drops << 56 ^ tokens;
}

BENCH_INPUT(config_thresholds)
{
	return bench_fill(buf, RECORDS * RECORD_LEN, 0x200 + k);
}
