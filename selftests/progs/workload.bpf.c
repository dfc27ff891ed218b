// SPDX-License-Identifier: GPL-2.0
/* The workload bpfrejitd optimises in the main job and its VM test: XDP
 * parsers written the ordinary way. struct ethhdr is packed, and so is the
 * application header, so clang reads their fields byte by byte; the
 * daemon's wide-load pass turns each back into one load. A flow hash
 * rotates the way C code does ((h << r) | (h >> (64 - r))): with the
 * kinsn_bitops module loaded, the rotate pass makes each one rol. The
 * counters make the behaviour observable: the sender knows what they must
 * add up to.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define APP_PORT 9999

/* Load-time configuration, as a skeleton sets it before load: libbpf keeps
 * it in .rodata, frozen, and the const-fold pass makes it part of the code.
 */
const volatile __u8 count_len = 1;

struct app_hdr {
	__u8 version;
	__be32 flow;	/* network order */
	__u64 seq;	/* little-endian */
	__u16 len;	/* little-endian payload length */
} __attribute__((packed));

enum { PKTS, FLOW_SUM, SEQ_SUM, LEN_SUM, OTHER, BYTE_SUM, HASH_SUM, NR_STATS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_STATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void add(__u32 k, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &k);

	if (c)
		__sync_fetch_and_add(c, v);
}

/* Multiply-rotate rounds in the style of xxHash (udp_send.py has a copy). */
static __always_inline __u64 flow_hash(__u32 flow)
{
	__u64 h = flow * 0x9e3779b185ebca87ull;

	h = (h << 31) | (h >> 33);
	h *= 0xc2b2ae3d27d4eb4full;
	h = (h << 27) | (h >> 37);
	return h * 0x165667b19e3779f9ull;
}

static __always_inline struct app_hdr *app_header(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct app_hdr *app = (void *)(udp + 1);

	if ((void *)(app + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
	    udp->dest != bpf_htons(APP_PORT) || app->version != 1)
		return NULL;
	return app;
}

SEC("xdp")
int xdp_flow(struct xdp_md *ctx)
{
	struct app_hdr *app = app_header(ctx);

	if (!app) {
		add(OTHER, 1);
		return XDP_PASS;
	}
	add(PKTS, 1);
	add(FLOW_SUM, bpf_ntohl(app->flow));
	add(SEQ_SUM, app->seq);
	if (count_len)
		add(LEN_SUM, app->len);
	add(HASH_SUM, flow_hash(bpf_ntohl(app->flow)));
	return XDP_PASS;
}

/* Same parser, then a checksum over the payload: its cost grows with the
 * packet (about 50x from none to 1400 bytes in BPF_PROG_TEST_RUN under
 * TCG, before the xorshift), which lets the VM test make the re-JITed code
 * look slower than the live per-call overhead can hide. */
SEC("xdp")
int xdp_payload(struct xdp_md *ctx)
{
	struct app_hdr *app = app_header(ctx);
	void *end = (void *)(long)ctx->data_end;
	__u8 *p;
	__u64 sum = 0;

	if (!app) {
		add(OTHER, 1);
		return XDP_PASS;
	}
	p = (void *)(app + 1);
	for (int i = 0; i < 1400; i++) {
		if ((void *)(p + i + 1) > end)
			break;
		sum = sum * 31 + p[i];
		sum ^= sum << 13;	/* xorshift: a few more cycles per byte */
		sum ^= sum >> 7;
		sum ^= sum << 17;
		sum = (sum & 0xffffffff) + (sum >> 32);	/* fold */
	}
	add(PKTS, 1);
	add(FLOW_SUM, bpf_ntohl(app->flow));
	add(BYTE_SUM, sum);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
