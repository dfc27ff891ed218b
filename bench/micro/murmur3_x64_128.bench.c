// SPDX-License-Identifier: GPL-2.0
/* MurmurHash3 (x64, 128-bit) over up to 128 packet bytes, the two halves
 * folded to 64 bits: 64-bit multiplies, rotates written in C, two
 * interleaved lanes and a little-endian byte tail of up to 15 bytes.
 */
#include "bits.h"

#define MSG_MAX 128

static const u64 c1 = 0x87c37b91114253d5ULL;
static const u64 c2 = 0x4cf5ad432745937fULL;

BENCH_INLINE u64 fmix64(u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

BENCH_XDP(murmur3_x64_128)
{
	u64 h1 = 0x1234567, h2 = 0x1234567, k1 = 0, k2 = 0;
	u32 i, t;

	for (i = 0; i < MSG_MAX; i += 16) {
		if (in + i + 16 > end)
			break;
		k1 = le64(in + i);
		k2 = le64(in + i + 8);
		k1 *= c1;
		k1 = rol64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
		h1 = rol64(h1, 27);
		h1 += h2;
		h1 = h1 * 5 + 0x52dce729;
		k2 *= c2;
		k2 = rol64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		h2 = rol64(h2, 31);
		h2 += h1;
		h2 = h2 * 5 + 0x38495ab5;
	}
	k1 = 0;
	k2 = 0;
	for (t = 0; t < 15 && i < MSG_MAX; t++) {
		if (in + i + t + 1 > end)
			break;
		if (t < 8)
			k1 |= (u64)in[i + t] << (8 * t);
		else
			k2 |= (u64)in[i + t] << (8 * (t - 8));
	}
	if (t > 8) {
		k2 *= c2;
		k2 = rol64(k2, 33);
		k2 *= c1;
		h2 ^= k2;
	}
	if (t) {
		k1 *= c1;
		k1 = rol64(k1, 31);
		k1 *= c2;
		h1 ^= k1;
	}
	h1 ^= i + t;
	h2 ^= i + t;
	h1 += h2;
	h2 += h1;
	h1 = fmix64(h1);
	h2 = fmix64(h2);
	h1 += h2;
	h2 += h1;
	return h1 ^ h2;
}

BENCH_INPUT(murmur3_x64_128)
{
	static const u8 lens[8] = { 128, 64, 71, 100, 127, 16, 9, 128 };

	return bench_fill(buf, lens[k & 7], 0x128 + k);
}
