// SPDX-License-Identifier: GPL-2.0
/* The ChaCha20 block function over a 64-byte packet block taken as the
 * state: 10 double rounds of quarter rounds (add, xor, 32-bit rotate by
 * 16/12/8/7 written in C) on 16 words, more live values than BPF has
 * registers, then the feed-forward add, folded to 64 bits.
 */
#include "bits.h"

#define QR(a, b, c, d)						\
	do {							\
		a += b; d ^= a; d = rol32(d, 16);		\
		c += d; b ^= c; b = rol32(b, 12);		\
		a += b; d ^= a; d = rol32(d, 8);		\
		c += d; b ^= c; b = rol32(b, 7);		\
	} while (0)

BENCH_XDP(chacha_qr)
{
	u32 s[16], x[16];
	u64 r = 0;

	if (in + 64 > end)
		return 0;
	for (int i = 0; i < 16; i++)
		s[i] = x[i] = le32(in + 4 * i);
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i += 2)
		r ^= (u64)(x[i] + s[i]) << 32 | (x[i + 1] + s[i + 1]);
	return r;
}

BENCH_INPUT(chacha_qr)
{
	return bench_fill(buf, 64, 0xc4ac4a + k);
}
