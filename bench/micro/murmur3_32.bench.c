// SPDX-License-Identifier: GPL-2.0
/* MurmurHash3 (x86, 32-bit) over up to 128 packet bytes: per 4-byte block
 * two multiplies and two 32-bit rotates written in C, a byte tail and the
 * fmix32 finaliser.
 */
#include "bits.h"

#define MSG_MAX 128

static const u32 seed = 0x9747b28c;

BENCH_INLINE u32 mix_k(u32 k)
{
	k *= 0xcc9e2d51;
	k = rol32(k, 15);
	return k * 0x1b873593;
}

BENCH_XDP(murmur3_32)
{
	u32 h = seed, tail = 0, i, t;

	for (i = 0; i < MSG_MAX; i += 4) {
		if (in + i + 4 > end)
			break;
		h ^= mix_k(le32(in + i));
		h = rol32(h, 13);
		h = h * 5 + 0xe6546b64;
	}
	for (t = 0; t < 3 && i < MSG_MAX; t++) {
		if (in + i + t + 1 > end)
			break;
		tail |= (u32)in[i + t] << (8 * t);
	}
	if (t)
		h ^= mix_k(tail);
	h ^= i + t;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

BENCH_INPUT(murmur3_32)
{
	static const u8 lens[8] = { 128, 64, 13, 100, 127, 32, 45, 128 };

	return bench_fill(buf, lens[k & 7], 0x3332 + k);
}
