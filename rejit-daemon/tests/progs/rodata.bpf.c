// SPDX-License-Identifier: GPL-2.0
/* Load-time configuration in .rodata, as a libbpf skeleton sets it before
 * load: the const-fold and dce passes make it part of the code.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u8 drop_first = 0; /* 0: the feature is off */
const volatile __u32 verbose = 0;
const volatile __u64 mask = 0x00ff00ff00000000ULL;
const volatile __s16 delta = -5;
const volatile __u32 ports[2] = { 53, 4789 };

SEC("xdp")
int xdp_config(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 r = 0;

	if (p + 4 > end)
		return XDP_ABORTED;
	if (drop_first && p[0] == drop_first)
		return XDP_DROP;
	if (verbose)
		r += p[1] * verbose;
	r += (mask >> 32) & p[2];
	r += delta + p[3];
	if (p[3] == (ports[1] & 0xff))
		r ^= ports[0];
	return r & 3;
}

char _license[] SEC("license") = "GPL";
