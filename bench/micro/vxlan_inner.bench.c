// SPDX-License-Identifier: GPL-2.0
/* VXLAN decapsulation front end: outer Ethernet/IPv4/UDP, the VXLAN header
 * (flags, 24-bit VNI), then the inner Ethernet and IPv4 headers, all
 * through packed structs; a deep chain of dependent bounds checks and
 * byte-wise loads.
 */
#include "net_hdr.h"

struct vxlan_h {
	u8 flags;
	u8 rsvd0[3];
	u8 vni[3];
	u8 rsvd1;
} __attribute__((packed));

struct outer {
	struct eth_hdr_p eth;
	struct ipv4_hdr_p ip;
	struct udp_hdr_p udp;
	struct vxlan_h vx;
	struct eth_hdr_p ieth;
	struct ipv4_hdr_p iip;
} __attribute__((packed));

BENCH_INLINE u64 mac48(const u8 *m)
{
	return (u64)m[0] << 40 | (u64)m[1] << 32 | (u64)m[2] << 24 |
	       (u64)m[3] << 16 | (u64)m[4] << 8 | m[5];
}

BENCH_XDP(vxlan_inner)
{
	const struct outer *o = (const void *)in;
	u32 vni;
	u64 h;

	if ((const u8 *)(o + 1) > end)
		return 1;
	if (o->eth.proto != __builtin_bswap16(0x0800) ||
	    o->ip.ver_ihl != 0x45 || o->ip.protocol != 17)
		return 2;
	if (o->udp.dest != __builtin_bswap16(4789))
		return 3;
	if (!(o->vx.flags & 0x08))
		return 4;
	vni = (u32)o->vx.vni[0] << 16 | (u32)o->vx.vni[1] << 8 | o->vx.vni[2];
	h = (u64)vni << 40;
	h ^= mac48(o->ieth.dst) * 0x9e3779b97f4a7c15ULL;
	h ^= mac48(o->ieth.src) * 0xc2b2ae3d27d4eb4fULL;
	if (o->ieth.proto == __builtin_bswap16(0x0800)) {
		h += (u64)__builtin_bswap32(o->iip.saddr) << 32 |
		     __builtin_bswap32(o->iip.daddr);
		h ^= (u64)o->iip.protocol << 8 | o->iip.tos;
		h ^= __builtin_bswap16(o->iip.tot_len);
	}
	h ^= (u64)__builtin_bswap16(o->udp.source) << 16;
	h ^= __builtin_bswap32(o->ip.saddr) ^ __builtin_bswap32(o->ip.daddr);
	return h;
}

BENCH_INPUT(vxlan_inner)
{
	u32 len = sizeof(struct outer) + 24;
	struct outer *o = (struct outer *)buf;

	bench_fill(buf, len, 0x7a + k);
	o->eth.proto = __builtin_bswap16(0x0800);
	o->ip.ver_ihl = 0x45;
	o->ip.protocol = 17;
	/* one frame to another UDP port, one VXLAN without the I flag */
	o->udp.dest = __builtin_bswap16(k == 3 ? 53 : 4789);
	o->vx.flags = k == 6 ? 0 : 0x08;
	/* and one inner ARP frame */
	o->ieth.proto = __builtin_bswap16(k == 5 ? 0x0806 : 0x0800);
	return len;
}
