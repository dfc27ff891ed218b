// SPDX-License-Identifier: GPL-2.0
/*
 * kinsn operand form in the VM: programs carrying BPF_PSEUDO_KINSN_CALL
 * pairs (rotate by an immediate, the registers named in the instruction),
 * for several register allocations, widths and rotate counts:
 *  - results equal the meaning (kinsn_defs.h) on >= 100,000 inputs per
 *    kinsn, with native code (the xlated program keeps the pair and the
 *    image holds one rol) and with native=0 (the plain sequence stays);
 *  - the same with constant blinding (bpf_jit_harden=2);
 *  - every operand form (rotate, select, bit-field extract, popcount,
 *    crc32c, byte-swapped loads) against its plain sequence on random
 *    operands and registers, >= 100,000 register files per kinsn; the
 *    loads read the stack through R10 or another pointer to it;
 *  - a byte-swapped load through the context pointer keeps its plain
 *    sequence (the verifier rewrites such loads), through the packet
 *    pointer (in the benchmark) it is native;
 *  - BPF_PROG_REJIT of a program written with the plain idiom into one
 *    with the pair, as bpfrejitd does, with the module BTF in fd_array;
 *  - /sys/kernel/bpf_kinsn describes each kinsn;
 *  - a benchmark table (printed, never asserted): per operand form, an
 *    XDP program of 64 dependent operations as pairs vs as plain
 *    sequences, xlated instructions, JITed bytes and BPF_PROG_TEST_RUN
 *    time per run, measured side by side;
 *  - refused: the scratch register read afterwards, bad operands (R10,
 *    rotate count 0 or the width, dst == scratch), a jump into the
 *    operands, a kinsn without operand form, an unknown BTF id, a missing
 *    operand slot, and every pair once the module is gone.
 *
 *   test_kinsn_op MODULE_DIR
 */
#include "kinsn_util.h" /* first: _GNU_SOURCE */
#include <stddef.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../../kinsn/include/kinsn_defs.h"

#define N 32	   /* inputs per run, unrolled */
#define RUNS 120   /* runs per program */
#define MAX_INSNS 512

/* ctx of the syscall programs: inputs, and the results they write. */
struct io {
	__u64 in[N];
	__u64 out[N];
};

/* x86-64 JIT register of each BPF register (arch/x86/net/bpf_jit_comp.c). */
static const __u8 x86_reg[] = { 0, 7, 6, 2, 1, 8, 3, 13, 14, 15, 5 };

struct kinsn_ref {
	const struct kinsn_op_def *def;
	const struct kinsn_def *call_def; /* the meaning */
	int width;
	__s32 btf_id;
};

static struct kinsn_ref refs[] = {
	{ &kinsn_op_defs[0], &kinsn_bitops_defs[0], 64, 0 },
	{ &kinsn_op_defs[1], &kinsn_bitops_defs[2], 32, 0 },
};

static const char *mod_dir;

/* The modules with operand forms: BTF, its fd at fd_array[slot]. */
static struct kinsn_mod {
	const char *name;
	__s16 slot;
	struct btf *btf;
	int fd;
} mods[] = { { "kinsn_bitops", 1, NULL, -1 },
	      { "kinsn_crc32c", 2, NULL, -1 },
	      { "kinsn_movbe", 3, NULL, -1 } };

static struct bpf_insn raw(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	struct bpf_insn insn = { .code = code, .dst_reg = dst, .src_reg = src,
				 .off = off, .imm = imm };

	return insn;
}

/* A kinsn in operand form: two slots. */
static int emit_pair(struct bpf_insn *p, const struct kinsn_ref *k, __u8 dst, __u8 src,
		     __s32 imm)
{
	p[0] = raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 1, k->btf_id);
	p[1] = raw(0, dst, src, 0, imm);
	return 2;
}

/* The idiom a compiler writes (the kinsn's own plain sequence). */
static int emit_plain(struct bpf_insn *p, const struct kinsn_ref *k, __u8 dst, __u8 src,
		      __s32 imm)
{
	struct bpf_insn op = raw(0, dst, src, 0, imm);
	__u16 clobber;

	return k->def->expand(&op, p, &clobber);
}

/*
 * for each input j: dst = in[j]; dst = rol(dst, imm) (scratch src);
 * out[j] = dst. @base holds the ctx pointer, different from dst and src.
 */
static int build(struct bpf_insn *p, const struct kinsn_ref *k, bool pair, __u8 dst, __u8 src,
		 __u8 base, __s32 imm)
{
	int n = 0, j;

	if (base != BPF_REG_1)
		p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_X, base, BPF_REG_1, 0, 0);
	for (j = 0; j < N; j++) {
		p[n++] = raw(BPF_LDX | BPF_MEM | BPF_DW, dst, base, 8 * j, 0);
		n += (pair ? emit_pair : emit_plain)(p + n, k, dst, src, imm);
		p[n++] = raw(BPF_STX | BPF_MEM | BPF_DW, base, dst, 8 * (N + j), 0);
	}
	p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

static int fd_array[4];

/* Load a syscall program; -errno on failure with the verifier log in libbpf_log. */
static int load(const struct bpf_insn *insns, int cnt)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = BPF_F_SLEEPABLE,
		    .fd_array = fd_array, .log_buf = libbpf_log, .log_size = sizeof(libbpf_log),
		    .log_level = 1);
	int fd;

	libbpf_log[0] = 0;
	fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "kinsn_op", "GPL", insns, cnt, &opts);
	return fd < 0 ? -errno : fd;
}

/* xlated instruction count and JITed image of a program. */
static __u32 prog_code(int fd, unsigned char *image, __u32 *image_len)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	info.jited_prog_len = *image_len;
	info.jited_prog_insns = (__u64)(unsigned long)image;
	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		fail("prog info: %s", strerror(errno));
	*image_len = info.jited_prog_len;
	return info.xlated_prog_len / sizeof(struct bpf_insn);
}

static __u64 rnd(void)
{
	__u64 x = (__u64)random() << 33 ^ (__u64)random() << 11 ^ random();

	return x >> (random() % 64 < 16 ? random() % 64 : 0);
}

/* Runs the program RUNS times on N inputs each; returns wrong results. */
static long check_results(int fd, const struct kinsn_ref *k, __s32 imm, long *inputs)
{
	static const __u64 edges[] = { 0, 1, 0x80000000, 0xffffffff, 1ull << 63, ~0ull };
	long wrong = 0;
	struct io io;
	int run, j;

	for (run = 0; run < RUNS; run++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &io, .ctx_size_in = sizeof(io));

		for (j = 0; j < N; j++) {
			io.in[j] = run == 0 && j < (int)ARRAY_SIZE(edges) ? edges[j] : rnd();
			io.out[j] = 0x5a5a5a5a5a5a5a5a;
		}
		if (bpf_prog_test_run_opts(fd, &opts) || opts.retval)
			fail("%s: test run: %s", k->def->name, strerror(errno));
		for (j = 0; j < N; j++) {
			__u64 want = k->call_def->meaning(io.in[j], imm, 0);

			if (io.out[j] != want && wrong++ < 3)
				printf("  %s(%#llx, %d) = %#llx, meaning %#llx\n", k->def->name,
				       io.in[j], imm, io.out[j], want);
		}
		*inputs += N;
	}
	return wrong;
}

/* Register allocations (dst, scratch, ctx base): R0, R5, R9, callee-saved. */
static const __u8 allocs[][3] = {
	{ BPF_REG_0, BPF_REG_1, BPF_REG_2 }, { BPF_REG_5, BPF_REG_9, BPF_REG_1 },
	{ BPF_REG_9, BPF_REG_0, BPF_REG_6 }, { BPF_REG_3, BPF_REG_6, BPF_REG_7 },
	{ BPF_REG_7, BPF_REG_8, BPF_REG_4 }, { BPF_REG_1, BPF_REG_2, BPF_REG_3 },
};
static const __s32 counts[] = { 1, 7, 13, 16, 31, 32, 51, 63 };

/*
 * Every kinsn x allocation x count: the pair's results against the
 * meaning, its xlated length (pair kept natively, plain sequence
 * otherwise, unless blinded) and, natively, its rol in the image.
 * Returns inputs checked.
 */
static long check_tier(const char *tier, bool native, bool blinded)
{
	static unsigned char image[65536];
	struct bpf_insn insns[MAX_INSNS];
	long inputs = 0;
	size_t r, a, c;

	srandom(1);
	for (r = 0; r < ARRAY_SIZE(refs); r++) {
		const struct kinsn_ref *k = &refs[r];
		long before = inputs, progs = 0;

		for (a = 0; a < ARRAY_SIZE(allocs); a++) {
			__u8 dst = allocs[a][0], src = allocs[a][1], base = allocs[a][2];

			for (c = 0; c < ARRAY_SIZE(counts) && counts[c] < k->width; c++) {
				struct bpf_insn op = raw(0, dst, src, 0, counts[c]), plain[KINSN_OP_MAX];
				int cnt = build(insns, k, true, dst, src, base, counts[c]), fd;
				__u32 image_len = sizeof(image), xlated, want;
				__u8 rol[KINSN_X86_MAX];
				int rol_len = k->def->x86(&op, x86_reg, rol);
				__u16 clobber;
				bool has_rol;

				fd = load(insns, cnt);
				if (fd < 0)
					fail("%s %s r%d,r%d,%d: load: %s\n%s", tier, k->def->name, dst,
					     src, counts[c], strerror(-fd), libbpf_log);
				xlated = prog_code(fd, image, &image_len);
				/* natively 2 slots per kinsn, else its plain sequence */
				want = cnt + (native ? 0 : N * (k->def->expand(&op, plain, &clobber) - 2));
				/* blinding rewrites the immediates of other insns */
				if (xlated != want && !blinded)
					fail("%s %s: %u xlated insns, want %u", tier, k->def->name, xlated,
					     want);
				has_rol = memmem(image, image_len, rol, rol_len);
				if (has_rol != native)
					fail("%s %s r%d: rol %s in the image", tier, k->def->name, dst,
					     has_rol ? "present" : "absent");
				if (check_results(fd, k, counts[c], &inputs))
					fail("%s %s r%d,r%d,%d: results differ from the meaning", tier,
					     k->def->name, dst, src, counts[c]);
				close(fd);
				progs++;
			}
		}
		printf("  %-10s %-7s %ld programs (%zu register allocations), %ld inputs, 0 wrong\n",
		       k->def->name, tier, progs, ARRAY_SIZE(allocs), inputs - before);
	}
	return inputs;
}

/* The pair must be refused, and the log say @why. */
static void refused(const char *what, const struct bpf_insn *insns, int cnt, const char *why)
{
	int fd = load(insns, cnt);

	if (fd >= 0)
		fail("%s: loaded", what);
	if (!strstr(libbpf_log, why))
		fail("%s: log lacks '%s':\n%s", what, why, libbpf_log);
	printf("  refused: %-34s %s\n", what, why);
}

static void check_refusals(void)
{
	struct bpf_insn p[MAX_INSNS], *q = p;
	const struct kinsn_ref *k = &refs[0];
	int n;

	/* r0 = 1; r2 = 5; rol r0 (scratch r2); r0 += r2 */
	p[0] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	p[1] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 5);
	n = 2 + emit_pair(p + 2, k, BPF_REG_0, BPF_REG_2, 3);
	p[n++] = raw(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0);
	p[n++] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	refused("scratch read after the kinsn", p, n, "R2 !read_ok");

	p[4] = raw(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_0, 0, 0, 1); /* accepted */
	n = load(p, n);
	if (n < 0)
		fail("scratch not read: %s\n%s", strerror(-n), libbpf_log);
	close(n);

	n = 2 + emit_pair(p + 2, k, BPF_REG_10, BPF_REG_2, 3);
	p[n++] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	refused("R10 as destination", p, n, "invalid operands for kinsn bpf_rol64");
	p[3].dst_reg = BPF_REG_0, p[3].imm = 0;
	refused("rotate by 0", p, n, "invalid operands for kinsn bpf_rol64");
	p[3].imm = 64;
	refused("rotate by 64", p, n, "invalid operands for kinsn bpf_rol64");
	p[3].imm = 3, p[3].src_reg = BPF_REG_0;
	refused("destination == scratch", p, n, "invalid operands for kinsn bpf_rol64");
	p[3].src_reg = BPF_REG_2;

	/* if r1 == 0 goto <operands> */
	q[0] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	q[1] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 5);
	q[2] = raw(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, 1, 0);
	n = 3 + emit_pair(q + 3, k, BPF_REG_0, BPF_REG_2, 3);
	q[n++] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	refused("jump into the operands", q, n, "jump into the operands of a kinsn");
	q[2].off = 0;

	q[3].imm = 1; /* not a function id of kinsn_bitops's BTF */
	refused("unknown BTF id", q, n, "kernel btf_id 1 is not a function");

	q[3].imm = k->btf_id;
	q[4] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); /* operands missing */
	refused("no operand slot", q, 5, "kinsn without its operands");
}

/* A kfunc of the module without operand form, named by a pair. */
static void check_no_operand_form(struct btf *btf)
{
	struct bpf_insn p[8];
	int id = btf__find_by_name_kind(btf, "bpf_clz64", BTF_KIND_FUNC), n;

	if (id < 0)
		fail("bpf_clz64 not in kinsn_bitops's BTF");
	p[0] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	p[1] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 5);
	n = 2 + emit_pair(p + 2, &refs[0], BPF_REG_0, BPF_REG_2, 3);
	p[2].imm = id;
	p[n++] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	refused("kinsn without operand form", p, n, "bpf_clz64 is not a kinsn with an operand form");
}

/* bpftool's xlated dump of the program shows the pair as @want. */
static void check_dump(int fd, const char *want)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char cmd[128], line[256];
	bool found = false;
	FILE *f;

	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		fail("prog info: %s", strerror(errno));
	snprintf(cmd, sizeof(cmd), "bpftool prog dump xlated id %u", info.id);
	f = popen(cmd, "r");
	if (!f)
		fail("%s: %s", cmd, strerror(errno));
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, want) != NULL;
	if (pclose(f) || !found)
		fail("%s does not show '%s'", cmd, want);
	printf("  bpftool prog dump xlated: %s\n", want);
}

/*
 * BPF_PROG_REJIT from the idiom to the pair, as bpfrejitd does: same
 * results, the pair in the xlated code, back again.
 */
static void check_rejit(void)
{
	static unsigned char image[65536];
	struct bpf_insn plain[MAX_INSNS], pair[MAX_INSNS];
	const struct kinsn_ref *k = &refs[0];
	int np = build(plain, k, false, BPF_REG_3, BPF_REG_4, BPF_REG_6, 13);
	int nk = build(pair, k, true, BPF_REG_3, BPF_REG_4, BPF_REG_6, 13), fd, err;
	__u32 image_len = sizeof(image), before, after;
	long inputs = 0;

	LIBBPF_OPTS(bpf_prog_rejit_opts, opts, .fd_array = fd_array, .log_buf = libbpf_log,
		    .log_size = sizeof(libbpf_log), .log_level = 1);

	fd = load(plain, np);
	if (fd < 0)
		fail("plain rotate: %s\n%s", strerror(-fd), libbpf_log);
	before = prog_code(fd, image, &image_len);
	err = bpf_prog_rejit(fd, pair, nk, &opts);
	if (err)
		fail("re-JIT into the pair: %s\n%s", strerror(-err), libbpf_log);
	image_len = sizeof(image);
	after = prog_code(fd, image, &image_len);
	if (after != (__u32)nk)
		fail("re-JITed: %u xlated insns, want %d", after, nk);
	if (check_results(fd, k, 13, &inputs))
		fail("re-JITed pair: results differ");
	err = bpf_prog_rejit(fd, plain, np, &opts);
	if (err || check_results(fd, k, 13, &inputs))
		fail("re-JIT back to the idiom: %s", strerror(-err));
	printf("  re-JIT idiom -> pair -> idiom: %u -> %u xlated insns, %ld inputs right\n",
	       before, after, inputs);
	err = bpf_prog_rejit(fd, pair, nk, &opts);
	if (err)
		fail("re-JIT into the pair again: %s", strerror(-err));
	check_dump(fd, "kinsn bpf_rol64 r3, r4, 0, 13");
	err = unload_module("kinsn_bitops");
	if (err != -EWOULDBLOCK)
		fail("unload kinsn_bitops while a pair uses it: %s, want EWOULDBLOCK",
		     err ? strerror(-err) : "unloaded");
	printf("  kinsn_bitops cannot be unloaded while a program holds a pair\n");
	close(fd);
}

static void read_attr(const char *kinsn, const char *attr, char *buf, size_t size)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/bpf_kinsn/%s/%s", kinsn, attr);
	f = fopen(path, "r");
	if (!f || !fgets(buf, size, f))
		fail("read %s: %s", path, strerror(errno));
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

/* /sys/kernel/bpf_kinsn/<name>/{module,forms,native} */
static void check_sysfs(bool native)
{
	static const struct {
		const char *name, *module, *forms, *native, *plain;
	} want[] = {
		{ "bpf_rol64", "kinsn_bitops", "call operand", "call operand", "" },
		{ "bpf_rol32", "kinsn_bitops", "call operand", "call operand", "" },
		{ "bpf_popcnt64", "kinsn_bitops", "call operand", "call operand", "" },
		{ "bpf_clz64", "kinsn_bitops", "call", "call", "" },
		{ "bpf_crc32c_u8", "kinsn_crc32c", "call operand", "call operand", "" },
		{ "bpf_crc32c_u64", "kinsn_crc32c", "call", "call", "" },
	};
	char buf[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const char *n = native ? want[i].native : want[i].plain;

		read_attr(want[i].name, "module", buf, sizeof(buf));
		if (strcmp(buf, want[i].module))
			fail("%s module '%s', want '%s'", want[i].name, buf, want[i].module);
		read_attr(want[i].name, "forms", buf, sizeof(buf));
		if (strcmp(buf, want[i].forms))
			fail("%s forms '%s', want '%s'", want[i].name, buf, want[i].forms);
		read_attr(want[i].name, "native", buf, sizeof(buf));
		/* popcnt, lzcnt, crc32: CPU features the VM's CPU has (-cpu max) */
		if (strcmp(buf, n))
			fail("%s native '%s', want '%s'", want[i].name, buf, n);
	}
	printf("  /sys/kernel/bpf_kinsn: module, forms and native as expected (%s)\n",
	       native ? "native" : "native=0");
}

/* The modules' BTFs (split on @vmlinux) and fds in fd_array; rotate ids. */
static void open_modules(struct btf *vmlinux)
{
	size_t i;

	if (!vmlinux)
		fail("vmlinux BTF: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		mods[i].btf = btf__load_module_btf(mods[i].name, vmlinux);
		if (!mods[i].btf)
			fail("%s BTF: %s", mods[i].name, strerror(errno));
		mods[i].fd = kernel_btf_fd(mods[i].name);
		fd_array[mods[i].slot] = mods[i].fd;
	}
	fd_array[0] = mods[0].fd;
	for (i = 0; i < ARRAY_SIZE(refs); i++) {
		refs[i].btf_id = btf__find_by_name_kind(mods[0].btf, refs[i].def->name,
							BTF_KIND_FUNC);
		if (refs[i].btf_id < 0)
			fail("%s not in kinsn_bitops's BTF", refs[i].def->name);
	}
}

static void close_modules(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		btf__free(mods[i].btf);
		close(mods[i].fd);
		mods[i].btf = NULL;
		mods[i].fd = -1;
	}
}

/* The first slot of a pair naming kfunc @name, in whichever module has it. */
static struct bpf_insn kinsn_call(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		__s32 id = btf__find_by_name_kind(mods[i].btf, name, BTF_KIND_FUNC);

		if (id > 0)
			return raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, mods[i].slot, id);
	}
	fail("%s in no module's BTF", name);
	return raw(0, 0, 0, 0, 0);
}

/*
 * Every operand form, differentially: for random operand sets over R0-R9
 * (the ones expand() accepts), a program with the pair and one with its
 * plain sequence in its place run on the same register files; every
 * register the kinsn does not clobber must agree. Natively the pair must
 * stay in the xlated code, except when blinded with more than a byte of
 * immediate; with native=0 it never does.
 */
#define FILES 8	     /* register files per run */
#define SETS 40	     /* operand sets per kinsn */
#define FORM_RUNS 320 /* runs per operand set natively: 102,400 files per kinsn */

struct files {
	__u64 in[FILES][10];
	__u64 out[FILES][10];
};

static __u64 random_value(void)
{
	static const __u64 edges[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff,
				       1ull << 32, 1ull << 63, ~0ull, ~0ull - 1 };

	switch (random() % 4) {
	case 0:
		return edges[random() % ARRAY_SIZE(edges)];
	case 1:
		return (__u64)(random() % 8) - 4;
	default:
		return rnd();
	}
}

static struct bpf_insn random_operands(void)
{
	static const __u8 jops[] = { BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE,
				     BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE, BPF_JSET };
	bool x = random() % 2;
	struct bpf_insn op = raw(0, random() % 10, random() % 10, 0, 0);

	switch (random() % 4) {
	case 0:
		op.off = random() % 70;
		break;
	case 3: /* the forms without offset (crc32c) */
		op.off = 0;
		break;
	case 1:
		op.off = kinsn_select_off(random() % 10, jops[random() % ARRAY_SIZE(jops)], x,
					  random() % 2);
		break;
	default:
		op.off = random() % 2 ? 32 : 64; /* popcount's widths */
	}
	switch (random() % 4) {
	case 0:
		op.imm = random() % 70;
		break;
	case 1:
		op.imm = random() % 10;
		break;
	case 2: /* popcount's scratch registers */
		op.imm = random() % 10 | (random() % 10) << 4;
		break;
	default:
		op.imm = (__s32)random() << (random() % 2);
	}
	return op;
}

/* Whether a plain sequence loads (the byte-swapped loads). */
static bool loads(const struct bpf_insn *seq, int cnt)
{
	int i;

	for (i = 0; i < cnt; i++)
		if (BPF_CLASS(seq[i].code) == BPF_LDX)
			return true;
	return false;
}

static int access_bytes(__u8 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_DW:
		return 8;
	case BPF_W:
		return 4;
	case BPF_H:
		return 2;
	}
	return 1;
}

/* Registers an operand set names (select's compare registers too). */
static __u16 operand_regs(const struct bpf_insn *seq, int cnt)
{
	__u16 regs = 0;
	int i;

	for (i = 0; i < cnt; i++) {
		regs |= 1u << seq[i].dst_reg;
		if (BPF_SRC(seq[i].code) == BPF_X)
			regs |= 1u << seq[i].src_reg;
	}
	return regs;
}

/*
 * for each file j: R0-R9 but @base = in[j]; the kinsn (pair or @seq);
 * out[j] = the registers but @base and the clobbered ones. A form that
 * loads (@ptr: its src register, else -1) reads in[j][0..2], copied to
 * the stack at fp-24 (through dst); src then points @ptr_off before it.
 */
static int build_files(struct bpf_insn *p, const struct bpf_insn *call, const struct bpf_insn *op,
		       const struct bpf_insn *seq, int cnt, __u16 clobber, __u8 base, int ptr,
		       int ptr_off)
{
	int n = 0, j, r, k;

	if (base != BPF_REG_1)
		p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_X, base, BPF_REG_1, 0, 0);
	for (j = 0; j < FILES; j++) {
		for (r = 0; r < 10; r++)
			if (r != base)
				p[n++] = raw(BPF_LDX | BPF_MEM | BPF_DW, r, base, 8 * (10 * j + r), 0);
		for (k = 0; ptr >= 0 && k < 3; k++) {
			p[n++] = raw(BPF_LDX | BPF_MEM | BPF_DW, op->dst_reg, base, 8 * (10 * j + k), 0);
			p[n++] = raw(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, op->dst_reg, 8 * k - 24, 0);
		}
		if (ptr >= 0 && ptr != BPF_REG_10) {
			p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_X, ptr, BPF_REG_10, 0, 0);
			p[n++] = raw(BPF_ALU64 | BPF_ADD | BPF_K, ptr, 0, 0, ptr_off);
		}
		if (seq) {
			memcpy(p + n, seq, cnt * sizeof(*seq));
			n += cnt;
		} else {
			p[n++] = *call;
			p[n++] = *op;
		}
		for (r = 0; r < 10; r++)
			if (r != base && !(clobber & 1u << r))
				p[n++] = raw(BPF_STX | BPF_MEM | BPF_DW, base, r,
					     offsetof(struct files, out[j][r]), 0);
	}
	p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

/* kinsn pairs in a program's xlated code. */
static int xlated_pairs(int fd)
{
	static struct bpf_insn x[MAX_INSNS * 4];
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), i;
	int pairs = 0;

	info.xlated_prog_len = sizeof(x);
	info.xlated_prog_insns = (__u64)(unsigned long)x;
	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		fail("prog info: %s", strerror(errno));
	for (i = 0; i < info.xlated_prog_len / sizeof(x[0]); i++)
		pairs += x[i].code == (BPF_JMP | BPF_CALL) && x[i].src_reg == BPF_PSEUDO_KINSN_CALL;
	return pairs;
}

static void run_files(int fd, struct files *f, const char *what)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = f, .ctx_size_in = sizeof(*f));

	if (bpf_prog_test_run_opts(fd, &opts) || opts.retval)
		fail("%s: test run: %s", what, strerror(errno));
}

static long check_forms(const char *tier, bool native, bool blinded)
{
	static struct bpf_insn pair_prog[MAX_INSNS], plain_prog[MAX_INSNS];
	long inputs = 0;
	size_t d;

	srandom(2);
	for (d = 0; d < ARRAY_SIZE(kinsn_op_defs); d++) {
		const struct kinsn_op_def *def = &kinsn_op_defs[d];
		const struct bpf_insn call = kinsn_call(def->name);
		long before = inputs;
		int sets = 0, kept = 0;

		while (sets < SETS) {
			struct bpf_insn op = random_operands(), seq[KINSN_OP_MAX];
			__u16 clobber = 0, used, skip;
			int cnt = def->expand(&op, seq, &clobber), np, nq, fp, fq, run, j, r;
			int ptr = -1, ptr_off = 0;
			__u8 base;
			bool want_pair;

			if (cnt < 0)
				continue;
			if (loads(seq, cnt)) { /* at fp-24 + a (aligned, as stack accesses must be) */
				int size = access_bytes(seq[0].code), a = size * (random() % (24 / size));

				if (random() % 3 == 0)
					op.src_reg = BPF_REG_10, op.off = a - 24;
				else
					op.off = random() % 141 - 70, ptr_off = a - 24 - op.off;
				ptr = op.src_reg;
				cnt = def->expand(&op, seq, &clobber);
				if (cnt < 0)
					continue;
			}
			used = operand_regs(seq, cnt) | clobber;
			if (ptr < 0 && used & 1u << BPF_REG_10) /* the frame pointer: not a value */
				continue;
			for (base = 0; base < 10 && (used | 1u << op.src_reg) & 1u << base; base++)
				;
			if (base == 10)
				continue;
			sets++;
			/* not compared: clobbered registers, a pointer into the stack */
			skip = clobber | (ptr >= 0 && ptr < BPF_REG_10 && ptr != op.dst_reg ? 1u << ptr : 0);
			np = build_files(pair_prog, &call, &op, NULL, 0, skip, base, ptr, ptr_off);
			nq = build_files(plain_prog, &call, &op, seq, cnt, skip, base, ptr, ptr_off);
			fp = load(pair_prog, np);
			if (fp < 0)
				fail("%s %s r%d, r%d, %#x, %d: load: %s\n%s", tier, def->name,
				     op.dst_reg, op.src_reg, op.off, op.imm, strerror(-fp), libbpf_log);
			fq = load(plain_prog, nq);
			if (fq < 0)
				fail("%s plain %s: load: %s\n%s", tier, def->name, strerror(-fq),
				     libbpf_log);
			want_pair = native && !(blinded && (op.imm < -128 || op.imm > 255));
			if (xlated_pairs(fp) != (want_pair ? FILES : 0))
				fail("%s %s imm %d: %d pairs in the xlated code, want %d", tier,
				     def->name, op.imm, xlated_pairs(fp), want_pair ? FILES : 0);
			kept += want_pair;
			for (run = 0; run < (native && !blinded ? FORM_RUNS : FORM_RUNS / 8); run++) {
				struct files a, b;

				for (j = 0; j < FILES; j++)
					for (r = 0; r < 10; r++)
						a.in[j][r] = random_value();
				memset(a.out, 0x5a, sizeof(a.out));
				b = a;
				run_files(fp, &a, def->name);
				run_files(fq, &b, "plain sequence");
				for (j = 0; j < FILES; j++)
					for (r = 0; r < 10; r++)
						if (a.out[j][r] != b.out[j][r])
							fail("%s %s r%d, r%d, %#x, %d: R%d = %#llx, plain sequence %#llx",
							     tier, def->name, op.dst_reg, op.src_reg,
							     (__u16)op.off, op.imm, r,
							     a.out[j][r], b.out[j][r]);
				inputs += FILES;
			}
			close(fp);
			close(fq);
		}
		printf("  %-13s %-7s %d operand sets (%d kept as pairs), %ld register files, pair == plain sequence\n",
		       def->name, tier, sets, kept, inputs - before);
	}
	return inputs;
}

/*
 * A byte-swapped load through the context pointer, whose loads the
 * verifier rewrites for most program types: the plain sequence stays,
 * natively too, and gives the big-endian value.
 */
static void check_ctx_load(void)
{
	unsigned char ctx[8] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = sizeof(ctx));
	struct bpf_insn p[3] = { kinsn_call("bpf_load_be32"), raw(0, BPF_REG_0, BPF_REG_1, 4, 0),
				 raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0) };
	int fd = load(p, 3);

	if (fd < 0)
		fail("bpf_load_be32 from ctx: %s\n%s", strerror(-fd), libbpf_log);
	if (xlated_pairs(fd))
		fail("bpf_load_be32 from ctx kept as a pair");
	if (bpf_prog_test_run_opts(fd, &opts) || opts.retval != 0x9abcdef0)
		fail("bpf_load_be32 from ctx: %#x, want 0x9abcdef0", opts.retval);
	printf("  bpf_load_be32 through the context pointer: plain sequence kept, 0x9abcdef0\n");
	close(fd);
}

#define BENCH_OPS 64	  /* dependent operations per run */
#define BENCH_REPEAT 20000 /* runs per BPF_PROG_TEST_RUN */
#define BENCH_ROUNDS 5	  /* alternating measurements, median taken */

/*
 * r2..r5 = unknown scalars from the context; 64 times: the kinsn (pair or plain sequence) on
 * d = r2, s = r3, then r4 += r2 (and r3 = r4 where the kinsn clobbers s), so
 * every operation waits for the last;
 * r0 = XDP_PASS.
 */
static int build_bench(struct bpf_insn *p, const struct bpf_insn *call, const struct bpf_insn *op,
		       const struct bpf_insn *seq, int cnt, __u16 clobber)
{
	int n = 0, j, k, short_pkt = -1;

	/* values the verifier cannot know (it would prune a select's dead path) */
	p[n++] = raw(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
		     offsetof(struct xdp_md, ingress_ifindex), 0);
	p[n++] = raw(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1,
		     offsetof(struct xdp_md, rx_queue_index), 0);
	p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_3, 0, 0);
	p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_5, BPF_REG_2, 0, 0);
	if (op->src_reg == BPF_REG_6) { /* the byte-swapped loads read the packet */
		p[n++] = raw(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_6, BPF_REG_1,
			     offsetof(struct xdp_md, data), 0);
		p[n++] = raw(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_1,
			     offsetof(struct xdp_md, data_end), 0);
		p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_8, BPF_REG_6, 0, 0);
		p[n++] = raw(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_8, 0, 0, 64);
		short_pkt = n;
		p[n++] = raw(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_8, BPF_REG_7, 0, 0);
	}
	for (j = 0; j < BENCH_OPS; j++) {
		if (seq) {
			for (k = 0; k < cnt; k++)
				p[n++] = seq[k];
		} else {
			p[n++] = *call;
			p[n++] = *op;
		}
		p[n++] = raw(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
		if (clobber & 1u << BPF_REG_3)
			p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_4, 0, 0);
	}
	if (short_pkt >= 0)
		p[short_pkt].off = n - short_pkt - 1;
	p[n++] = raw(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS);
	p[n++] = raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

/*
 * Without a log (a verbose log of 1,700 instructions fills any buffer); on
 * failure, again with libbpf's, which keeps the end of the log.
 */
static int load_xdp(const struct bpf_insn *insns, int cnt)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .fd_array = fd_array);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "kinsn_bench", "GPL", insns, cnt, &opts);

	if (fd < 0) {
		int err = errno;

		opts.log_buf = libbpf_log;
		opts.log_size = sizeof(libbpf_log);
		opts.log_level = 1;
		libbpf_log[0] = 0;
		bpf_prog_load(BPF_PROG_TYPE_XDP, "kinsn_bench", "GPL", insns, cnt, &opts);
		fail("bench load: %s\n%s", strerror(err), libbpf_log);
	}
	return fd;
}

static __u32 bench_ns(int fd)
{
	unsigned char pkt[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = BENCH_REPEAT);

	if (bpf_prog_test_run_opts(fd, &opts) || opts.retval != XDP_PASS)
		fail("bench run: %s (retval %u)", strerror(errno), opts.retval);
	return opts.duration;
}

static int cmp_u32(const void *a, const void *b)
{
	return *(const __u32 *)a < *(const __u32 *)b ? -1 : *(const __u32 *)a > *(const __u32 *)b;
}

/*
 * The operands each form is timed with: d = r2, s = r3 (a = r4, b = r5;
 * popcount's scratch registers r5 and r0).
 */
static struct bpf_insn bench_operands(const char *name)
{
	if (!strcmp(name, "bpf_popcnt64"))
		return raw(0, BPF_REG_2, BPF_REG_3, 64, BPF_REG_5 | BPF_REG_0 << 4);
	if (!strcmp(name, "bpf_select64"))
		return raw(0, BPF_REG_2, BPF_REG_3, kinsn_select_off(BPF_REG_4, BPF_JGT, 1, 0),
			   BPF_REG_5);
	if (!strcmp(name, "bpf_bextr64"))
		return raw(0, BPF_REG_2, BPF_REG_3, 8, 12);
	if (!strcmp(name, "bpf_crc32c_u8"))
		return raw(0, BPF_REG_2, BPF_REG_3, 0, BPF_REG_5);
	if (!strncmp(name, "bpf_load_be", 11))
		return raw(0, BPF_REG_2, BPF_REG_6, 14, 0); /* r6: the packet */
	return raw(0, BPF_REG_2, BPF_REG_3, 0, 13); /* rotates: r3 is the scratch */
}

static void bench(void)
{
	static struct bpf_insn pair_prog[MAX_INSNS * 8], plain_prog[MAX_INSNS * 8];
	static unsigned char image[65536];
	size_t d;

	printf("  benchmark: %d dependent operations per run, XDP BPF_PROG_TEST_RUN x %d, median of %d;\n"
	       "  ns/run is QEMU/TCG guest time when run there, not hardware time\n",
	       BENCH_OPS, BENCH_REPEAT, BENCH_ROUNDS);
	printf("  %-13s %15s %15s %17s %7s\n", "kinsn", "xlated plain/pair", "jited plain/pair",
	       "ns/run plain/pair", "ratio");
	for (d = 0; d < ARRAY_SIZE(kinsn_op_defs); d++) {
		const struct kinsn_op_def *def = &kinsn_op_defs[d];
		const struct bpf_insn call = kinsn_call(def->name);
		struct bpf_insn op = bench_operands(def->name), seq[KINSN_OP_MAX];
		__u32 tp[BENCH_ROUNDS], tq[BENCH_ROUNDS], xp, xq, jp = sizeof(image),
			jq = sizeof(image);
		__u16 clobber = 0;
		int cnt = def->expand(&op, seq, &clobber), fp, fq, r;

		if (cnt < 0)
			fail("bench %s: bad operands", def->name);
		fp = load_xdp(pair_prog, build_bench(pair_prog, &call, &op, NULL, 0, clobber));
		fq = load_xdp(plain_prog, build_bench(plain_prog, &call, &op, seq, cnt, clobber));
		if (!strncmp(def->name, "bpf_load_be", 11) && xlated_pairs(fp) != BENCH_OPS)
			fail("%s: %d of %d packet loads kept as pairs", def->name, xlated_pairs(fp),
			     BENCH_OPS);
		xp = prog_code(fp, image, &jp);
		xq = prog_code(fq, image, &jq);
		for (r = 0; r < BENCH_ROUNDS; r++) {
			tq[r] = bench_ns(fq);
			tp[r] = bench_ns(fp);
		}
		qsort(tp, BENCH_ROUNDS, sizeof(tp[0]), cmp_u32);
		qsort(tq, BENCH_ROUNDS, sizeof(tq[0]), cmp_u32);
		printf("  %-13s %8u/%-8u %8u/%-8u %9u/%-8u %6.2fx\n", def->name, xq, xp, jq, jp,
		       tq[BENCH_ROUNDS / 2], tp[BENCH_ROUNDS / 2],
		       tp[BENCH_ROUNDS / 2] ? (double)tq[BENCH_ROUNDS / 2] / tp[BENCH_ROUNDS / 2] : 0);
		close(fp);
		close(fq);
	}
}

static void set_harden(const char *v)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_harden", "w");

	if (!f || fputs(v, f) < 0 || fclose(f))
		fail("bpf_jit_harden=%s: %s", v, strerror(errno));
}

static void tier(const char *name, const char *params, bool native, long *inputs)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();

	load_modules(mod_dir, params);
	open_modules(vmlinux);
	check_sysfs(native);
	*inputs += check_tier(name, native, false);
	*inputs += check_forms(name, native, false);
	if (native) {
		set_harden("2");
		*inputs += check_tier("blinded", native, true);
		*inputs += check_forms("blinded", native, true);
		set_harden("0");
		check_rejit();
		check_refusals();
		check_no_operand_form(mods[0].btf);
		check_ctx_load();
		bench();
	}
	close_modules();
	btf__free(vmlinux);
	unload_modules();
}

int main(int argc, char **argv)
{
	long inputs = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: test_kinsn_op MODULE_DIR\n");
		return 2;
	}
	mod_dir = argv[1];
	libbpf_set_print(print_fn);
	tier("native", "", true, &inputs);
	tier("plain", "native=0", false, &inputs);
	printf("kinsn operand form: %ld inputs, all equal to the meaning\n", inputs);
	return 0;
}
