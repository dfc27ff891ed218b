// SPDX-License-Identifier: GPL-2.0
/* A record scanner with load-time feature switches (const volatile in
 * .rodata), two on and three off: the const-fold pass can drop the dead
 * branches and the loads of the switches themselves.
 */
#include "bench.h"

BENCH_CONFIG u32 cfg_checksum = 1;
BENCH_CONFIG u32 cfg_skip_padding = 0;
BENCH_CONFIG u32 cfg_count_flags = 1;
BENCH_CONFIG u32 cfg_trace = 0;
BENCH_CONFIG u32 cfg_strict_len = 0;

#define RECORDS 16
#define RECORD_LEN 4

BENCH_XDP(config_features)
{
	u32 csum = 0, flags = 0, traced = 0, bad = 0;
	u64 acc = 0;

	if (in + RECORDS * RECORD_LEN > end)
		return 0;
	for (int i = 0; i < RECORDS; i++) {
		const u8 *r = in + i * RECORD_LEN;
		u32 type = r[0], len = r[1];
		u32 val = r[2] | (u32)r[3] << 8;

		if (cfg_skip_padding && type == 0)
			continue;
		if (cfg_strict_len && len > 64) {
			bad++;
			continue;
		}
		if (cfg_checksum)
			csum += val + len;
		if (cfg_count_flags) {
			if (type & 0x80)
				flags++;
			if (type & 0x01)
				flags += 2;
		}
		if (cfg_trace)
			traced ^= val << (i & 7);
		acc = acc * 33 + (type ^ val);
	}
	csum = (csum & 0xffff) + (csum >> 16);
	return acc ^ (u64)csum << 32 ^ (u64)flags << 48 ^ traced ^ (u64)bad << 56;
}

BENCH_INPUT(config_features)
{
	return bench_fill(buf, RECORDS * RECORD_LEN, 0x100 + k);
}
