// SPDX-License-Identifier: GPL-2.0
/* A switch on a load-time mode (const volatile in .rodata) inside the
 * per-word loop: folded, three of the four arms and the compare chain that
 * picks one disappear.
 */
#include "bench.h"

enum { MODE_SUM, MODE_XOR_FOLD, MODE_WEIGHTED, MODE_MAX };

BENCH_CONFIG u32 cfg_mode = MODE_WEIGHTED;
BENCH_CONFIG u32 cfg_seed = 0x811c9dc5;

#define WORDS 16

BENCH_XDP(config_mode_dispatch)
{
	u64 acc = cfg_seed;

	if (in + WORDS * 4 > end)
		return 0;
	for (int i = 0; i < WORDS; i++) {
		const u8 *p = in + i * 4;
		u32 w = p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;

		switch (cfg_mode) {
		case MODE_SUM:
			acc += w;
			break;
		case MODE_XOR_FOLD:
			acc = (acc ^ w) * 0x01000193;
			break;
		case MODE_WEIGHTED:
			acc += (u64)w * (i + 1);
			acc ^= acc >> 29;
			break;
		case MODE_MAX:
			if (w > (u32)acc)
				acc = (acc & ~0xffffffffULL) | w;
			break;
		default:
			return 0;
		}
	}
	return acc;
}

BENCH_INPUT(config_mode_dispatch)
{
	return bench_fill(buf, WORDS * 4, 0x300 + k);
}
