// SPDX-License-Identifier: GPL-2.0
/* A TCP option walk: kind/length TLVs after a 20-byte header, NOP and EOL
 * single bytes, MSS, window scale, SACK-permitted, SACK blocks and
 * timestamps decoded; a bounded loop over data-dependent offsets with a
 * bounds check per option.
 */
#include "bits.h"

#define TCP_HDR 20
#define OPT_MAX 40
#define OPT_ITER 10

/* bytes a SACK block covers, doubled so the SACK-permitted bit stays */
BENCH_INLINE u64 sack_len(const u8 *b)
{
	return (u64)(be32(b + 4) - be32(b)) << 1;
}

BENCH_XDP(tlv_options)
{
	const u8 *opt = in + TCP_HDR;
	u32 doff, olen, off = 0;
	u64 mss = 0, ws = 0, sack = 0, ts = 0, nops = 0;

	if (opt > end)
		return 1;
	doff = (in[12] >> 4) * 4;
	if (doff < TCP_HDR)
		return 2;
	olen = doff - TCP_HDR;
	if (olen > OPT_MAX)
		olen = OPT_MAX;
	/* at most OPT_ITER options (real segments carry fewer); the mask
	 * keeps the offset's range small for the verifier, a no-op as
	 * off < olen <= 40
	 */
	for (int i = 0; i < OPT_ITER; i++) {
		const u8 *o;
		u8 kind, len;

		if (off >= olen)
			break;
		o = opt + (off & 63);
		if (o + 1 > end)
			return 3;
		kind = o[0];
		if (kind == 0)
			break;
		if (kind == 1) {
			nops++;
			off++;
			continue;
		}
		if (o + 2 > end)
			return 3;
		len = o[1];
		if (len < 2)
			return 4;
		off += len;
		switch (kind) {
		case 2:
			if (len == 4 && o + 4 <= end)
				mss = (u32)o[2] << 8 | o[3];
			break;
		case 3:
			if (len == 3 && o + 3 <= end)
				ws = o[2];
			break;
		case 4:
			sack |= 1;
			break;
		case 5:
			/* up to four blocks; a loop here would have clang
			 * turn the bounds checks into a trip count computed
			 * from data_end, which the verifier refuses
			 */
			if (len >= 10) {
				if (o + 10 > end)
					return 3;
				sack += sack_len(o + 2);
			}
			if (len >= 18) {
				if (o + 18 > end)
					return 3;
				sack += sack_len(o + 10);
			}
			if (len >= 26) {
				if (o + 26 > end)
					return 3;
				sack += sack_len(o + 18);
			}
			if (len >= 34) {
				if (o + 34 > end)
					return 3;
				sack += sack_len(o + 26);
			}
			break;
		case 8:
			if (len == 10 && o + 10 <= end)
				ts = (u64)be32(o + 2) << 32 | be32(o + 6);
			break;
		}
	}
	return mss << 48 ^ ws << 40 ^ sack << 20 ^ ts ^ nops;
}

BENCH_INPUT(tlv_options)
{
	u32 n = 0, len;
	u8 *o = buf + TCP_HDR;

	bench_fill(buf, TCP_HDR + OPT_MAX + 8, 0x70 + k);
	/* a SYN's options (MSS, SACK-permitted, timestamps, NOP, WS) on
	 * input 0, an ACK's (NOP NOP timestamps) on most, SACK blocks on two
	 */
	if (k == 0) {
		o[n++] = 2; o[n++] = 4; o[n++] = 0x05; o[n++] = 0xb4;
		o[n++] = 4; o[n++] = 2;
		o[n++] = 8; o[n++] = 10; n += 8;
		o[n++] = 1;
		o[n++] = 3; o[n++] = 3; o[n++] = 7;
	} else {
		o[n++] = 1; o[n++] = 1;
		o[n++] = 8; o[n++] = 10; n += 8;
		if (k == 3 || k == 6) {
			u32 blocks = k == 3 ? 1 : 3;

			o[n++] = 1; o[n++] = 1;
			o[n++] = 5; o[n++] = 2 + 8 * blocks;
			n += 8 * blocks;
		}
	}
	while (n & 3)
		o[n++] = 0;
	buf[12] = (u8)(((TCP_HDR + n) / 4) << 4);
	len = TCP_HDR + n + 8;
	return len <= cap ? len : 0;
}
