// SPDX-License-Identifier: GPL-2.0
/* Twelve values live at once through six mixing rounds (adds, xors,
 * multiplies, shifts that feed each other): more than the BPF registers
 * can hold, so the BPF code spills to the stack where x86 keeps them all
 * in registers.
 */
#include "bench.h"

#define ROUNDS 6

BENCH_XDP(reg_pressure)
{
	const u32 *w = (const u32 *)in;
	u64 a, b, c, d, e, f, g, h, i, j, k, l;

	if (in + 12 * 4 > end)
		return 0;
	a = w[0]; b = w[1]; c = w[2]; d = w[3];
	e = w[4]; f = w[5]; g = w[6]; h = w[7];
	i = w[8]; j = w[9]; k = w[10]; l = w[11];
	for (int r = 0; r < ROUNDS; r++) {
		a += b * 3;
		c ^= a >> 5;
		d += c + e;
		e ^= d << 7;
		f += e * 5;
		g ^= f >> 11;
		h += g + i;
		i ^= h << 3;
		j += i * 9;
		k ^= j >> 13;
		l += k + a;
		b ^= l << 2;
	}
	return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l ^
	       (a + c + e + g + i + k) << 32;
}

BENCH_INPUT(reg_pressure)
{
	(void)cap;
	return bench_fill(buf, 12 * 4, 0x1100 + k);
}
