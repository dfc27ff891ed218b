/* SPDX-License-Identifier: GPL-2.0 */
/* Inputs and outputs of one run of a kinsn test program (kinsn.bpf.c). */
#ifndef KINSN_BATCH_H
#define KINSN_BATCH_H

#define KINSN_BATCH 512

struct kinsn_batch {
	__u64 a[KINSN_BATCH], b[KINSN_BATCH], c[KINSN_BATCH];
	__u64 out[KINSN_BATCH];
};

#endif
