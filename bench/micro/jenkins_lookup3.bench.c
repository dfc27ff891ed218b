// SPDX-License-Identifier: GPL-2.0
/* Bob Jenkins' lookup3 ("hashlittle2") over a length-prefixed message of
 * up to 96 bytes: three 32-bit lanes, the mix/final networks of
 * subtract/xor/rotate (rotates written in C), 12-byte blocks from
 * little-endian bytes and a partial last block.
 */
#include "bits.h"

#define MSG_MAX 96

#define FINAL(a, b, c)						\
	do {							\
		c ^= b; c -= rol32(b, 14);			\
		a ^= c; a -= rol32(c, 11);			\
		b ^= a; b -= rol32(a, 25);			\
		c ^= b; c -= rol32(b, 16);			\
		a ^= c; a -= rol32(c, 4);			\
		b ^= a; b -= rol32(a, 14);			\
		c ^= b; c -= rol32(b, 24);			\
	} while (0)

BENCH_XDP(jenkins_lookup3)
{
	const u8 *m = in + 1;
	u32 a, b, c, len, i, t;
	u32 w[3] = { 0, 0, 0 };

	if (m > end)
		return 0;
	len = in[0];
	if (len > MSG_MAX)
		len = MSG_MAX;
	a = b = c = 0xdeadbeef + len + 0x5eed;
	c += 0x1f2e3d4c;
	/* all blocks but the last, which final() takes even when full */
	for (i = 0; i + 12 < len; i += 12) {
		if (m + i + 12 > end)
			return 0;
		a += le32(m + i);
		b += le32(m + i + 4);
		c += le32(m + i + 8);
		LOOKUP3_MIX(a, b, c);
	}
	if (i == len)
		return (u64)b << 32 | c;
	for (t = 0; t < 12 && i + t < len; t++) {
		if (m + i + t + 1 > end)
			return 0;
		w[t / 4] |= (u32)m[i + t] << (8 * (t % 4));
	}
	a += w[0];
	b += w[1];
	c += w[2];
	FINAL(a, b, c);
	return (u64)b << 32 | c;
}

BENCH_INPUT(jenkins_lookup3)
{
	static const u8 lens[8] = { 96, 12, 40, 95, 0, 61, 24, 77 };

	return bench_fill_msg(buf, lens[k & 7], 0x100c + k);
}
