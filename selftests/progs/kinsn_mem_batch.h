/* SPDX-License-Identifier: GPL-2.0 */
/* Inputs and outputs of one run of kinsn_mem.bpf.c (test_kinsn_mem). */
#ifndef KINSN_MEM_BATCH_H
#define KINSN_MEM_BATCH_H

#define MEM_LEN 4032	/* longest vector; starts vary by up to 63 bytes */
#define MEM_BUF (MEM_LEN + 64)
#define MEM_BATCH 16
#define MEM_C 4096	/* s32 elements of C */

struct kinsn_mem_batch {
	__s8 a[MEM_BUF], b[MEM_BUF];
	__u32 off_a[MEM_BATCH], off_b[MEM_BATCH], len[MEM_BATCH];
	__u32 seed[MEM_BATCH];
	__s64 out[MEM_BATCH];
	__u32 shape;
	__s32 ret;
	__s32 c[MEM_C];
};

#endif
