// SPDX-License-Identifier: GPL-2.0
/* A GTP-U tunnel header read field by field, each read guarded by its own
 * "is the packet that long" check, as parsers written with a NEED() macro
 * do: a ladder of twenty compare-and-return bounds checks at growing
 * constant offsets that one check at the largest offset could replace.
 */
#include "bench.h"

#define NEED(n)				\
	do {				\
		if (in + (n) > end)	\
			return 0;	\
	} while (0)

BENCH_XDP(bounds_ladder)
{
	u32 flags, type, len, teid, seq, npdu, ext, ext_len, qfi, pdu;
	u32 ver_ihl, tos, tot_len, ttl, proto, saddr, daddr, sport, dport;
	u64 h;

	NEED(1);
	flags = in[0];
	NEED(2);
	type = in[1];
	NEED(4);
	len = in[2] << 8 | in[3];
	NEED(8);
	teid = (u32)in[4] << 24 | in[5] << 16 | in[6] << 8 | in[7];
	NEED(10);
	seq = in[8] << 8 | in[9];
	NEED(11);
	npdu = in[10];
	NEED(12);
	ext = in[11];
	NEED(13);
	ext_len = in[12];
	NEED(14);
	pdu = in[13] >> 4;
	NEED(15);
	qfi = in[14] & 0x3f;
	NEED(16);
	if (in[15] != 0)	/* only one extension header */
		return 1;
	/* the inner IPv4 header */
	NEED(17);
	ver_ihl = in[16];
	NEED(18);
	tos = in[17];
	NEED(20);
	tot_len = in[18] << 8 | in[19];
	NEED(25);
	ttl = in[24];
	NEED(26);
	proto = in[25];
	NEED(32);
	saddr = (u32)in[28] << 24 | in[29] << 16 | in[30] << 8 | in[31];
	NEED(36);
	daddr = (u32)in[32] << 24 | in[33] << 16 | in[34] << 8 | in[35];
	NEED(38);
	sport = in[36] << 8 | in[37];
	NEED(40);
	dport = in[38] << 8 | in[39];

	if ((flags >> 5) != 1 || type != 0xff || ver_ihl != 0x45)
		return 2;
	h = (u64)teid << 32 | (saddr ^ daddr);
	h ^= (u64)(sport << 16 | dport) * 0x9e3779b1;
	h += (u64)seq << 16 ^ npdu ^ ext << 8 ^ ext_len << 24;
	h += (u64)(pdu << 6 | qfi) << 40;
	h ^= (u64)(tos ^ ttl ^ proto) << 48;
	h += len ^ tot_len;
	return h;
}

/* 0-6: GTP-U with a PDU session extension and inner IPv4/UDP; 7: cut
 * short inside the inner header
 */
BENCH_INPUT(bounds_ladder)
{
	u64 seed = 0x800 + k;
	u32 n = k == 7 ? 30 : 72;

	(void)cap;
	bench_fill(buf, n, seed);
	buf[0] = 0x34;	/* version 1, PT, E */
	buf[1] = 0xff;	/* G-PDU */
	buf[2] = 0;
	buf[3] = (u8)(n - 8);
	buf[11] = 0x85;	/* PDU session container */
	buf[12] = 1;
	buf[15] = 0;
	buf[16] = 0x45;
	buf[18] = 0;
	buf[19] = (u8)(n - 16);
	return n;
}
