/* SPDX-License-Identifier: GPL-2.0 */
/* What the BPF_PROG_REJIT VM tests share: the code of a loaded program,
 * as BPF_PROG_REJIT takes it.
 */
#ifndef REJIT_UTIL_H
#define REJIT_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

/* The original bytecode of @src_fd with an fd_array rebuilt from the ids
 * of the maps it refers to: what a re-JIT with that code needs.
 */
struct code {
	struct bpf_insn *insns;
	__u32 cnt;
	int fds[64];
	__u32 nr_maps;
	/* BTF and func_info, for programs that need them (freplace) */
	int btf_fd;
	void *func_info;
	__u32 func_info_cnt, func_info_rec_size;
};

static inline void code_free(struct code *c)
{
	for (__u32 i = 0; i < c->nr_maps; i++)
		close(c->fds[i]);
	if (c->btf_fd > 0)
		close(c->btf_fd);
	free(c->func_info);
	free(c->insns);
	memset(c, 0, sizeof(*c));
}

static inline int code_of(int src_fd, struct code *c)
{
	__u32 ids[64], len = sizeof(struct bpf_prog_info);
	struct bpf_prog_info info = {};
	int err;

	memset(c, 0, sizeof(*c));
	err = bpf_prog_get_orig_insns(src_fd, NULL, &c->cnt);
	if (err != -ENOSPC)
		return err ? err : -EINVAL;
	c->insns = calloc(c->cnt, sizeof(*c->insns));
	err = bpf_prog_get_orig_insns(src_fd, c->insns, &c->cnt);
	if (err)
		return err;
	info.nr_orig_map_ids = 64;
	info.orig_map_ids = (__u64)(unsigned long)ids;
	err = bpf_prog_get_info_by_fd(src_fd, &info, &len);
	if (err)
		return err;
	for (c->nr_maps = 0; c->nr_maps < info.nr_orig_map_ids; c->nr_maps++) {
		c->fds[c->nr_maps] = bpf_map_get_fd_by_id(ids[c->nr_maps]);
		if (c->fds[c->nr_maps] < 0)
			return -errno;
	}
	return 0;
}

/*
 * Subprograms start at 0 and where calls and callback references in
 * @c's original bytecode point: func_info as bpf_prog_info reports it
 * follows the running (xlated) code, whose offsets the verifier's
 * rewrites may have moved, so take each record's insn_off from here.
 */
static inline int code_func_offsets(struct code *c)
{
	__u32 starts[64] = { 0 }, n = 1;

	if (!c->func_info_cnt)
		return 0;
	for (__u32 i = 0; i < c->cnt; i++) {
		const struct bpf_insn *in = &c->insns[i];
		bool call = in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL;
		bool func = in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC;
		__u32 to = i + in->imm + 1, at = n;

		if (!call && !func)
			continue;
		while (at > 0 && starts[at - 1] > to)
			at--;
		if ((at > 0 && starts[at - 1] == to) || n == 64)
			continue;
		memmove(&starts[at + 1], &starts[at], (n - at) * sizeof(*starts));
		starts[at] = to;
		n++;
	}
	if (n != c->func_info_cnt)
		return -EINVAL;
	for (__u32 k = 0; k < n; k++)
		((struct bpf_func_info *)((char *)c->func_info + k * c->func_info_rec_size))
			->insn_off = starts[k];
	return 0;
}

/* Add the BTF and func_info of @src_fd to @c. */
static inline int code_add_btf(int src_fd, struct code *c)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err = bpf_prog_get_info_by_fd(src_fd, &info, &len);

	if (err)
		return err;
	c->func_info_cnt = info.nr_func_info;
	c->func_info_rec_size = info.func_info_rec_size;
	c->func_info = calloc(c->func_info_cnt ?: 1, c->func_info_rec_size ?: 1);
	if (!c->func_info)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	info.nr_func_info = c->func_info_cnt;
	info.func_info_rec_size = c->func_info_rec_size;
	info.func_info = (__u64)(unsigned long)c->func_info;
	err = bpf_prog_get_info_by_fd(src_fd, &info, &len);
	if (err)
		return err;
	c->btf_fd = bpf_btf_get_fd_by_id(info.btf_id);
	if (c->btf_fd < 0)
		return -errno;
	return code_func_offsets(c);
}

#endif
