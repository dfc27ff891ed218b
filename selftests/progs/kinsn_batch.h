/* SPDX-License-Identifier: GPL-2.0 */
/* Inputs and outputs of one run of a kinsn test program (kinsn.bpf.c). */
#ifndef KINSN_BATCH_H
#define KINSN_BATCH_H

#define KINSN_BATCH 512

struct kinsn_batch {
	__u64 a[KINSN_BATCH], b[KINSN_BATCH], c[KINSN_BATCH];
	__u64 out[KINSN_BATCH];
};

/* ctx of fastcall_bpf_crc32c_u64: crc, v, R3-R5 in; R0, R3-R5 out. */
struct fastcall_ctx {
	__u64 crc, v, r3, r4, r5;
	__u64 out_r0, out_r3, out_r4, out_r5;
};

#endif
