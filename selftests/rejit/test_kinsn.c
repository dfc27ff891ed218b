// SPDX-License-Identifier: GPL-2.0
/*
 * kinsn in the VM: load the kinsn modules, then for every kinsn kfunc
 *  - the JITed image of a program calling it holds the kinsn's native
 *    x86 code inline (when the CPU has the instruction) and no call;
 *  - >= 100,000 random and edge-case inputs give the kinsn's meaning
 *    (kinsn_defs.h), through BPF_PROG_TEST_RUN;
 * with native code the program is first re-JITed from its original
 * bytecode (BPF_PROG_REJIT, as bpfrejitd does), so that is checked too;
 * again with the modules loaded with native=0 (the JIT calls the C bodies);
 * a bpf_fastcall spill/fill pattern around an inline kinsn is dropped by
 * the verifier (kept around a real call) and R3-R5 survive either way;
 * and the negative cases: a module in use cannot be unloaded; a program
 * calling a kinsn whose module is absent does not load and says which.
 *
 *   test_kinsn KINSN.BPF.O MODULE_DIR
 */
#include "kinsn_util.h" /* first: _GNU_SOURCE */
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../kinsn/include/kinsn_defs.h"
#include "../progs/kinsn_batch.h"

#define RUNS 200 /* x KINSN_BATCH = 102,400 inputs per kinsn and tier */

static const char *obj_path, *mod_dir;

static const struct {
	const struct kinsn_def *defs;
	size_t n;
} families[] = {
	{ kinsn_crc32c_defs, ARRAY_SIZE(kinsn_crc32c_defs) },
	{ kinsn_bitops_defs, ARRAY_SIZE(kinsn_bitops_defs) },
	{ kinsn_prefetch_defs, ARRAY_SIZE(kinsn_prefetch_defs) },
	{ kinsn_movbe_defs, ARRAY_SIZE(kinsn_movbe_defs) },
};

/* The kinsn whose name `match` accepts. */
static const struct kinsn_def *find_def(bool (*match)(const char *name, const char *arg),
					const char *arg)
{
	size_t f, i;

	for (f = 0; f < ARRAY_SIZE(families); f++)
		for (i = 0; i < families[f].n; i++)
			if (match(families[f].defs[i].name, arg))
				return &families[f].defs[i];
	return NULL;
}

static bool tests(const char *name, const char *prog_name)
{
	return !strncmp(prog_name, "test_", 5) && !strcmp(prog_name + 5, name);
}

static bool named_in(const char *name, const char *text)
{
	char quoted[64];

	snprintf(quoted, sizeof(quoted), "'%s'", name);
	return strstr(text, quoted);
}

/*
 * Does the JITed image hold the kinsn's code? Gives the image's length and
 * (an upper bound of) its calls too.
 */
static bool image_has_code(int prog_fd, const struct kinsn_def *def, int *calls,
			   __u32 *image_len)
{
	static unsigned char image[65536];
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), i;

	info.jited_prog_len = sizeof(image);
	info.jited_prog_insns = (__u64)(unsigned long)image;
	if (bpf_prog_get_info_by_fd(prog_fd, &info, &len))
		fail("prog info: %s", strerror(errno));
	if (info.jited_prog_len > sizeof(image))
		fail("image of %u bytes", info.jited_prog_len);
	*image_len = info.jited_prog_len;
	*calls = 0;
	for (i = 0; i + 5 <= info.jited_prog_len; i++)
		*calls += image[i] == 0xe8; /* rel32 call; an upper bound */
	return memmem(image, info.jited_prog_len, def->x86, def->x86_len);
}

/*
 * Re-JIT the program with its original bytecode, as bpfrejitd does: the
 * kfunc calls keep their module BTF offsets, only maps come with fds.
 */
static void rejit_from_orig(int prog_fd, const char *name)
{
	struct bpf_insn insns[4096];
	struct bpf_prog_info info = {};
	__u32 cnt = ARRAY_SIZE(insns), len = sizeof(info), map_ids[8], i;
	int fds[8], err;

	LIBBPF_OPTS(bpf_prog_rejit_opts, opts, .fd_array = fds);

	if (bpf_prog_get_orig_insns(prog_fd, insns, &cnt))
		fail("%s: original bytecode: %s", name, strerror(errno));
	info.nr_orig_map_ids = ARRAY_SIZE(map_ids);
	info.orig_map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_prog_get_info_by_fd(prog_fd, &info, &len) ||
	    info.nr_orig_map_ids > ARRAY_SIZE(map_ids))
		fail("%s: original maps: %s", name, strerror(errno));
	for (i = 0; i < info.nr_orig_map_ids; i++) {
		fds[i] = bpf_map_get_fd_by_id(map_ids[i]);
		if (fds[i] < 0)
			fail("%s: map %u: %s", name, map_ids[i], strerror(errno));
	}
	err = bpf_prog_rejit(prog_fd, insns, cnt, &opts);
	if (err) { /* again, for the verifier's log */
		opts.log_buf = libbpf_log;
		opts.log_size = sizeof(libbpf_log);
		opts.log_level = 1;
		bpf_prog_rejit(prog_fd, insns, cnt, &opts);
		fail("%s: re-JIT from the original bytecode: %s\n%s", name, strerror(-err),
		     libbpf_log);
	}
	while (i--)
		close(fds[i]);
}

static __u64 edge(unsigned int i)
{
	static const __u64 v[] = { 0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 65, 255, 256,
				   0x7fffffff, 0x80000000, 0xffffffff, 1ull << 32,
				   1ull << 63, ~0ull, ~0ull - 1 };

	return v[i % ARRAY_SIZE(v)];
}

static __u64 rnd(void)
{
	__u64 x = (__u64)random() << 33 ^ (__u64)random() << 11 ^ random();

	return x >> (random() % 64 < 16 ? random() % 64 : 0);
}

static __u32 xlated_insns(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_prog_get_info_by_fd(prog_fd, &info, &len))
		fail("prog info: %s", strerror(errno));
	return info.xlated_prog_len / sizeof(struct bpf_insn);
}

/*
 * fastcall_bpf_crc32c_u64: with native code the verifier drops the three
 * spill/fill pairs around the call (6 instructions fewer than the
 * original bytecode), around a real call it keeps them; R0 is the CRC and
 * R3-R5 keep their values both ways.
 */
static void check_fastcall(int fd, bool native)
{
	struct bpf_insn orig[64];
	__u32 orig_cnt = ARRAY_SIZE(orig), xlated;
	int run;

	if (bpf_prog_get_orig_insns(fd, orig, &orig_cnt))
		fail("fastcall: original bytecode: %s", strerror(errno));
	xlated = xlated_insns(fd);
	if (xlated != orig_cnt - (native ? 6 : 0))
		fail("fastcall (%s): %u xlated insns of %u, want %u", native ? "native" : "call",
		     xlated, orig_cnt, orig_cnt - (native ? 6 : 0));
	srandom(2);
	for (run = 0; run < 1000; run++) {
		struct fastcall_ctx c = { .crc = rnd(), .v = rnd(), .r3 = rnd(), .r4 = rnd(), .r5 = rnd() };
		/* a syscall program's ctx comes back in ctx_in */
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &c, .ctx_size_in = sizeof(c));

		if (bpf_prog_test_run_opts(fd, &opts) || opts.retval)
			fail("fastcall: test run: %s", strerror(errno));
		if (c.out_r0 != kinsn_crc32c_u64(c.crc, c.v, 0) || c.out_r3 != c.r3 ||
		    c.out_r4 != c.r4 || c.out_r5 != c.r5)
			fail("fastcall (%s): crc %#llx, R3-R5 %#llx %#llx %#llx from %#llx %#llx %#llx",
			     native ? "native" : "call", c.out_r0, c.out_r3, c.out_r4, c.out_r5, c.r3,
			     c.r4, c.r5);
	}
	printf("  bpf_fastcall      %s: %u of %u insns after the verifier, 1000 runs, R0 right, R3-R5 kept\n",
	       native ? "inline kinsn, spills and fills dropped" : "real call, spills and fills kept",
	       xlated, orig_cnt);
}

/* Runs every test program over RUNS batches; returns inputs checked. */
static long check_tier(const char *tier, bool native)
{
	static struct kinsn_batch batch;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *bss;
	long inputs = 0;
	int zero = 0, err;

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj || bpf_object__load(obj))
		fail("%s: load %s: %s\n%s", tier, obj_path, strerror(errno), libbpf_log);
	bss = bpf_object__find_map_by_name(obj, ".bss");
	if (!bss)
		fail("no .bss map");
	/* In use: the modules cannot go. */
	err = unload_module("kinsn_crc32c");
	if (!err)
		fail("kinsn_crc32c unloaded while programs use it");
	if (err != -EWOULDBLOCK)
		fail("unload kinsn_crc32c in use: %s, want EWOULDBLOCK", strerror(-err));
	bpf_object__for_each_program(prog, obj) {
		const struct kinsn_def *def = find_def(tests, bpf_program__name(prog));
		int fd = bpf_program__fd(prog), calls, run, i;
		__u32 image_len;
		bool inline_code, want_inline;
		long mismatches = 0;

		if (!strncmp(bpf_program__name(prog), "fastcall_", 9)) {
			check_fastcall(fd, native);
			continue;
		}
		if (!def)
			fail("%s: no kinsn", bpf_program__name(prog));
		/* Natively, the code the checks below run is a re-JIT's. */
		if (native)
			rejit_from_orig(fd, def->name);
		inline_code = image_has_code(fd, def, &calls, &image_len);
		want_inline = native && kinsn_user_cpu_has(def->cpu);
		if (inline_code != want_inline)
			fail("%s (%s): native code %s in the JITed image", def->name, tier,
			     inline_code ? "present" : "absent");
		if (native && !kinsn_user_cpu_has(def->cpu))
			printf("  %s: this CPU lacks the instruction: C body tested, native code NOT run\n",
			       def->name);
		srandom(1);
		for (run = 0; run < RUNS; run++) {
			LIBBPF_OPTS(bpf_test_run_opts, opts);

			for (i = 0; i < KINSN_BATCH; i++) {
				bool e = run < 2; /* edge cases first */

				batch.a[i] = e ? edge(i) : rnd();
				batch.b[i] = e ? edge(i / 20) : rnd();
				batch.c[i] = e ? edge(i + run) : rnd();
			}
			if (bpf_map_update_elem(bpf_map__fd(bss), &zero, &batch, 0))
				fail("update .bss: %s", strerror(errno));
			if (bpf_prog_test_run_opts(fd, &opts) || opts.retval)
				fail("%s: test run: %s", def->name, strerror(errno));
			if (bpf_map_lookup_elem(bpf_map__fd(bss), &zero, &batch))
				fail("lookup .bss: %s", strerror(errno));
			for (i = 0; i < KINSN_BATCH; i++) {
				__u64 a = def->load ? (__u64)(unsigned long)&batch.a[i] : batch.a[i];
				__u64 want = def->meaning(a, batch.b[i], batch.c[i]);

				if (batch.out[i] != want && mismatches++ < 5)
					printf("  %s(%#llx, %#llx, %#llx) = %#llx, meaning %#llx\n",
					       def->name, batch.a[i], batch.b[i], batch.c[i],
					       batch.out[i], want);
				inputs++;
			}
		}
		printf("  %-16s %-20s image %4u bytes, %d calls, %d inputs, %ld wrong\n",
		       def->name, inline_code ? "re-JITed, inline x86:" : "call to the C body:",
		       image_len, calls, RUNS * KINSN_BATCH, mismatches);
		if (mismatches)
			fail("%s (%s): %ld results differ from the meaning", def->name, tier,
			     mismatches);
	}
	bpf_object__close(obj);
	return inputs;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	const char *line;
	long inputs;

	if (argc != 3) {
		fprintf(stderr, "usage: test_kinsn KINSN.BPF.O MODULE_DIR\n");
		return 2;
	}
	obj_path = argv[1], mod_dir = argv[2];
	libbpf_set_print(print_fn);

	/* No module: the program does not load, and the log says why. */
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		fail("open %s", obj_path);
	if (!bpf_object__load(obj))
		fail("loaded without the kinsn modules");
	if (!find_def(named_in, libbpf_log))
		fail("load failure does not name a kinsn:\n%s", libbpf_log);
	line = strstr(libbpf_log, "extern");
	printf("  without modules, load refused: %.*s\n", (int)strcspn(line ?: "", "\n"), line ?: "");
	bpf_object__close(obj);

	load_modules(mod_dir, "");
	inputs = check_tier("native", true);
	unload_modules();
	printf("  modules unloaded after the programs went\n");

	load_modules(mod_dir, "native=0");
	inputs += check_tier("C body", false);
	unload_modules();
	printf("kinsn: %ld inputs, all equal to the meaning\n", inputs);
	return 0;
}
