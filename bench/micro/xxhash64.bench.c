// SPDX-License-Identifier: GPL-2.0
/* xxHash64 over a length-prefixed message of up to 160 bytes: four
 * 64-bit multiply/rotate lanes per 32-byte stripe, the merge rounds, then
 * 8-, 4- and 1-byte tails and the avalanche; rotates written in C.
 */
#include "bits.h"

#define MSG_MAX 160
#define P1 0x9e3779b185ebca87ULL
#define P2 0xc2b2ae3d27d4eb4fULL
#define P3 0x165667b19e3779f9ULL
#define P4 0x85ebca77c2b2ae63ULL
#define P5 0x27d4eb2f165667c5ULL

static const u64 seed = 0x6a09e667bb67ae85ULL;

BENCH_INLINE u64 round64(u64 acc, u64 x)
{
	return rol64(acc + x * P2, 31) * P1;
}

BENCH_INLINE u64 merge64(u64 h, u64 v)
{
	return (h ^ round64(0, v)) * P1 + P4;
}

BENCH_INLINE u64 tail_byte(u64 h, u8 b)
{
	h ^= b * P5;
	return rol64(h, 11) * P1;
}

BENCH_XDP(xxhash64)
{
	const u8 *m = in + 1;
	u32 len, i = 0;
	u64 h;

	if (m > end)
		return 0;
	len = in[0];
	if (len > MSG_MAX)
		len = MSG_MAX;
	if (len >= 32) {
		u64 v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed;
		u64 v4 = seed - P1;

		for (; i + 32 <= len; i += 32) {
			if (m + i + 32 > end)
				return 0;
			v1 = round64(v1, le64_halves(m + i));
			v2 = round64(v2, le64_halves(m + i + 8));
			v3 = round64(v3, le64_halves(m + i + 16));
			v4 = round64(v4, le64_halves(m + i + 24));
		}
		h = rol64(v1, 1) + rol64(v2, 7) + rol64(v3, 12) + rol64(v4, 18);
		h = merge64(h, v1);
		h = merge64(h, v2);
		h = merge64(h, v3);
		h = merge64(h, v4);
	} else {
		h = seed + P5;
	}
	h += len;
	for (; i + 8 <= len; i += 8) {
		if (m + i + 8 > end)
			return 0;
		h ^= round64(0, le64_halves(m + i));
		h = rol64(h, 27) * P1 + P4;
	}
	if (i + 4 <= len) {
		if (m + i + 4 > end)
			return 0;
		h ^= (u64)le32(m + i) * P1;
		h = rol64(h, 23) * P2 + P3;
		i += 4;
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
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

BENCH_INPUT(xxhash64)
{
	static const u8 lens[8] = { 160, 31, 64, 99, 159, 5, 44, 132 };
	u32 len = lens[k & 7];

	bench_fill(buf, len + 1, 0x6464 + k);
	buf[0] = (u8)len;
	return len + 1;
}
