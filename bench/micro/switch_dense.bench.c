// SPDX-License-Identifier: GPL-2.0
/* A dense switch over a byte's low nibble (16 cases, each a different
 * update of the state) for every byte of the input: natively a jump
 * table, in BPF a tree of compares.
 */
#include "bench.h"

#define LEN 64

BENCH_XDP(switch_dense)
{
	u64 a = 0x243f6a8885a308d3ULL, b = 0;

	if (in + LEN > end)
		return 0;
	for (int i = 0; i < LEN; i++) {
		u32 c = in[i];

		switch (c & 0xf) {
		case 0:
			a += c;
			break;
		case 1:
			a ^= (u64)c << 8;
			break;
		case 2:
			b += a >> 3;
			break;
		case 3:
			a -= b;
			break;
		case 4:
			a *= 3;
			break;
		case 5:
			b ^= c * 0x01010101u;
			break;
		case 6:
			a = a << 1 | a >> 63;
			break;
		case 7:
			b += i;
			break;
		case 8:
			a ^= b;
			break;
		case 9:
			b -= c << 4;
			break;
		case 10:
			a += b * 5;
			break;
		case 11:
			b = ~b;
			break;
		case 12:
			a >>= 1;
			break;
		case 13:
			b ^= a << 7;
			break;
		case 14:
			a |= c;
			break;
		case 15:
			b &= a | 0xff;
			break;
		}
	}
	return a ^ b;
}

BENCH_INPUT(switch_dense)
{
	(void)cap;
	return bench_fill(buf, LEN, 0xb00 + k);
}
