// SPDX-License-Identifier: GPL-2.0
/* xxHash32 over a length-prefixed message of up to 128 bytes: four
 * independent multiply/rotate lanes per 16-byte stripe, lane merge by
 * rotates, 4-byte and 1-byte tails, and the avalanche.
 */
#include "bits.h"

#define MSG_MAX 128
#define P1 0x9e3779b1U
#define P2 0x85ebca77U
#define P3 0xc2b2ae3dU
#define P4 0x27d4eb2fU
#define P5 0x165667b1U

static const u32 seed = 0x2545f491;

BENCH_INLINE u32 lane(u32 v, u32 x)
{
	return rol32(v + x * P2, 13) * P1;
}

BENCH_INLINE u32 tail_byte(u32 h, u8 b)
{
	h += b * P5;
	return rol32(h, 11) * P1;
}

BENCH_XDP(xxhash32)
{
	const u8 *m = in + 1;
	u32 h, len, i = 0;

	if (m > end)
		return 0;
	len = in[0];
	if (len > MSG_MAX)
		len = MSG_MAX;
	if (len >= 16) {
		u32 v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed;
		u32 v4 = seed - P1;

		for (; i + 16 <= len; i += 16) {
			if (m + i + 16 > end)
				return 0;
			v1 = lane(v1, le32(m + i));
			v2 = lane(v2, le32(m + i + 4));
			v3 = lane(v3, le32(m + i + 8));
			v4 = lane(v4, le32(m + i + 12));
		}
		h = rol32(v1, 1) + rol32(v2, 7) + rol32(v3, 12) + rol32(v4, 18);
	} else {
		h = seed + P5;
	}
	h += len;
	for (; i + 4 <= len; i += 4) {
		if (m + i + 4 > end)
			return 0;
		h += le32(m + i) * P3;
		h = rol32(h, 17) * P4;
	}
	/* at most 3 bytes left, written out: a loop lets clang derive a trip
	 * count from data_end, arithmetic the verifier refuses
	 */
	if (i < len) {
		if (m + i + 1 > end)
			return 0;
		h = tail_byte(h, m[i]);
	}
	if (i + 1 < len) {
		if (m + i + 2 > end)
			return 0;
		h = tail_byte(h, m[i + 1]);
	}
	if (i + 2 < len) {
		if (m + i + 3 > end)
			return 0;
		h = tail_byte(h, m[i + 2]);
	}
	h ^= h >> 15;
	h *= P2;
	h ^= h >> 13;
	h *= P3;
	h ^= h >> 16;
	return h;
}

BENCH_INPUT(xxhash32)
{
	static const u8 lens[8] = { 128, 15, 64, 99, 127, 3, 48, 121 };

	return bench_fill_msg(buf, lens[k & 7], 0x3232 + k);
}
