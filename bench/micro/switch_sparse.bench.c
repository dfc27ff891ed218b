// SPDX-License-Identifier: GPL-2.0
/* Port classification by a switch over sparse 16-bit values (well-known
 * service ports), for 32 ports from the input: a binary search of
 * compares in both builds. Most ports hit web cases.
 */
#include "bench.h"

#define PORTS 32

enum { C_OTHER, C_WEB, C_MAIL, C_DNS, C_DB, C_ADMIN, C_TIME, C_NUM };

BENCH_XDP(switch_sparse)
{
	u64 count[C_NUM] = { 0 };
	u64 sig = 0;

	if (in + PORTS * 2 > end)
		return 0;
	for (int i = 0; i < PORTS; i++) {
		u32 port = (u32)in[2 * i] << 8 | in[2 * i + 1];
		u32 c;

		switch (port) {
		case 80:
		case 443:
		case 8080:
		case 8443:
			c = C_WEB;
			break;
		case 25:
		case 110:
		case 143:
		case 587:
		case 993:
			c = C_MAIL;
			break;
		case 53:
		case 853:
			c = C_DNS;
			break;
		case 3306:
		case 5432:
		case 6379:
		case 9200:
		case 27017:
			c = C_DB;
			break;
		case 22:
		case 23:
		case 3389:
			c = C_ADMIN;
			break;
		case 123:
			c = C_TIME;
			break;
		default:
			c = C_OTHER;
			break;
		}
		count[c]++;
		sig = sig * 7 + c;
	}
	return sig ^ (u64)count[C_WEB] << 40 ^ (u64)count[C_OTHER] << 48 ^
	       (u64)(count[C_MAIL] + count[C_DNS] + count[C_DB]) << 56 ^
	       (u64)count[C_ADMIN] << 32 ^ count[C_TIME];
}

static const u16 common_ports[] = {
	80, 443, 443, 443, 8080, 53, 22, 25, 993, 3306, 6379, 123, 8443,
	5432, 9200, 27017, 853, 3389,
};

/* mostly web ports, some other services, some random (unknown) ports */
BENCH_INPUT(switch_sparse)
{
	u64 seed = 0xc00 + k;

	(void)cap;
	for (int i = 0; i < PORTS; i++) {
		u64 r = bench_rand(&seed);
		u16 port;

		if (r % 8 < 4)
			port = common_ports[r % 5];
		else if (r % 8 < 6)
			port = common_ports[(r >> 8) % 18];
		else
			port = (u16)(1024 + (r >> 16) % 60000);
		buf[2 * i] = port >> 8;
		buf[2 * i + 1] = (u8)port;
	}
	return PORTS * 2;
}
