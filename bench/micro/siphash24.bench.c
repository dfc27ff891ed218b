// SPDX-License-Identifier: GPL-2.0
/* SipHash-2-4 over the first 16..64 bytes of the packet with a fixed key:
 * 64-bit add/rotate/xor rounds (rotates written as shift pairs), words
 * rebuilt from little-endian bytes, a byte-wise tail.
 */
#include "bits.h"

#define MSG_MAX 64

static const u64 key0 = 0x0706050403020100ULL;
static const u64 key1 = 0x0f0e0d0c0b0a0908ULL;

#define SIPROUND					\
	do {						\
		v0 += v1; v1 = rol64(v1, 13); v1 ^= v0;	\
		v0 = rol64(v0, 32);			\
		v2 += v3; v3 = rol64(v3, 16); v3 ^= v2;	\
		v0 += v3; v3 = rol64(v3, 21); v3 ^= v0;	\
		v2 += v1; v1 = rol64(v1, 17); v1 ^= v2;	\
		v2 = rol64(v2, 32);			\
	} while (0)

BENCH_XDP(siphash24)
{
	u64 v0 = key0 ^ 0x736f6d6570736575ULL;
	u64 v1 = key1 ^ 0x646f72616e646f6dULL;
	u64 v2 = key0 ^ 0x6c7967656e657261ULL;
	u64 v3 = key1 ^ 0x7465646279746573ULL;
	u64 b = 0;
	u32 i, t;

	for (i = 0; i < MSG_MAX; i += 8) {
		u64 m;

		if (in + i + 8 > end)
			break;
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (t = 0; t < 7 && i < MSG_MAX; t++) {
		if (in + i + t + 1 > end)
			break;
		b |= (u64)in[i + t] << (8 * t);
	}
	b |= (u64)(i + t) << 56;
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

BENCH_INPUT(siphash24)
{
	static const u8 lens[8] = { 64, 16, 24, 37, 48, 55, 33, 64 };

	return bench_fill(buf, lens[k & 7], 0x5124 + k);
}
