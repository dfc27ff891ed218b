// SPDX-License-Identifier: GPL-2.0
/*
 * Function-like kinsns on memory in the VM (kinsn_matrix, bpf_crc32c):
 *  - bpf_dot_i8 and bpf_gemm_i8 equal the meaning (kinsn_mem.h) on
 *    >= 100,000 vectors (random and extreme values, lengths 0 to 4032,
 *    every start alignment) and 2,000 GEMM shapes, with the module's
 *    tier set to scalar, avx2 (if the CPU has it) and auto; the module's
 *    count of vector calls proves which tier ran, call by call;
 *  - bpf_gemm_bf16 gives the meaning's fp32 bits (any NaN for a NaN) on
 *    2,000 shapes of moderate, tiny (subnormal products) and special
 *    values, in each tier; its scalar tier is SSE code too (no integer
 *    bf16), its -EBUSY where the FPU is unusable is not reached here;
 *  - bad shapes and too small buffers give -EINVAL and leave C alone; a
 *    size past the end of the memory is refused by the verifier; the amx
 *    tier and unknown tiers are refused;
 *  - bpf_crc32c over buffers equals the bitwise CRC32C, with crc32 and
 *    with the module loaded native=0;
 *  - a table: scalar vs avx2 time per call by size (QEMU/TCG time).
 *
 *   test_kinsn_mem KINSN_MEM.BPF.O MODULE_DIR
 */
#include "kinsn_util.h" /* first: _GNU_SOURCE */
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../kinsn/include/kinsn_mem.h"
#include "../progs/kinsn_mem_batch.h"

#define DOT_RUNS 6400  /* x MEM_BATCH = 102,400 vectors per tier */
#define GEMM_RUNS 2000 /* shapes per tier */
#define PARAMS "/sys/module/kinsn_matrix/parameters/"
#define NO_VECTOR (1L << 62) /* vector_min of a tier that never runs AVX2 */

static struct kinsn_mem_batch batch;
static const char *obj_path, *mod_dir;
static struct bpf_object *obj;
static int bss_fd;

static __u64 rnd_state = 1;

/* xorshift64: filling 8 KiB per run must be cheap under TCG */
static __u64 rnd64(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static __u32 rnd(void)
{
	return rnd64() >> 32;
}

static void fill_random(__s8 *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		__u64 v = rnd64();

		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

static int write_param(const char *name, const char *val)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static long read_param(const char *name)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		fail("read %s: %s", path, strerror(errno));
	fclose(f);
	return strtol(buf, NULL, 10);
}

static int prog_fd(const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (!p)
		fail("no program %s", name);
	return bpf_program__fd(p);
}

/* Run @fd on the batch (@repeat times); returns ns per run. */
static __u32 run(int fd, int repeat)
{
	static char pkt[64];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);
	int zero = 0;

	if (bpf_map_update_elem(bss_fd, &zero, &batch, 0))
		fail("update .bss: %s", strerror(errno));
	if (bpf_prog_test_run_opts(fd, &opts) || opts.retval != XDP_PASS)
		fail("test run: %s, retval %u", strerror(errno), opts.retval);
	if (bpf_map_lookup_elem(bss_fd, &zero, &batch))
		fail("lookup .bss: %s", strerror(errno));
	return opts.duration;
}

/* Vectors: extremes in the first runs (the largest sums), then random. */
static void fill_vectors(int r)
{
	int i;

	if (r >= 3) {
		fill_random(batch.a, MEM_BUF);
		fill_random(batch.b, MEM_BUF);
	} else {
		for (i = 0; i < MEM_BUF; i++) {
			batch.a[i] = r == 0 ? -128 : r == 1 ? 127 : (i & 1 ? 127 : -128);
			batch.b[i] = -128;
		}
	}
	for (i = 0; i < MEM_BATCH; i++) {
		static const __u32 edge_len[] = { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65,
						  255, 256, 257, MEM_LEN - 1, MEM_LEN };

		batch.off_a[i] = rnd() & 63;
		batch.off_b[i] = rnd() & 63;
		/* mostly short, one in 8 up to MEM_LEN */
		batch.len[i] = r < 8 ? edge_len[i] : rnd() % 8 ? rnd() % 300 : rnd() % (MEM_LEN + 1);
		batch.seed[i] = rnd();
	}
	if (r < 8)
		batch.off_a[0] = batch.off_b[0] = 0;
}

/* Dot products; returns the calls that should take the vector tier. */
static long check_dot(const char *tier, long vector_min)
{
	int fd = prog_fd("dot_batch"), r, i;
	long wrong = 0, vector = 0;

	rnd_state = 1;
	for (r = 0; r < DOT_RUNS; r++) {
		fill_vectors(r);
		run(fd, 1);
		for (i = 0; i < MEM_BATCH; i++) {
			__u32 n = batch.len[i];
			__s64 want = kinsn_dot_i8(batch.a + batch.off_a[i], batch.b + batch.off_b[i], n);

			vector += n >= 16 && n >= vector_min;
			if (batch.out[i] != want && wrong++ < 5)
				printf("  bpf_dot_i8 (%s) len %u offsets %u/%u: %lld, meaning %lld\n",
				       tier, n, batch.off_a[i], batch.off_b[i],
				       (long long)batch.out[i], (long long)want);
		}
	}
	if (wrong)
		fail("bpf_dot_i8 (%s): %ld of %d results differ from the meaning", tier, wrong,
		     DOT_RUNS * MEM_BATCH);
	return vector;
}

static long check_gemm(const char *tier, long vector_min)
{
	static __s32 want[MEM_C];
	int fd = prog_fd("gemm"), r, bad = 0;
	long vector = 0, elements = 0;

	rnd_state = 2;
	for (r = 0; r < GEMM_RUNS; r++) {
		struct kinsn_gemm_dims d;
		__u32 m = 1 + rnd() % 64, n = 1 + rnd() % 64, k = 1 + rnd() % 64;
		int want_ret;

		fill_vectors(r % 3 == 0 ? 0 : 3);
		if (r % 10 == 9) /* out of the bounds: too large for the buffers */
			m = 64 + rnd() % 192, n = 64 + rnd() % 192, k = 1 + rnd() % 4096;
		batch.shape = r == 1 ? KINSN_GEMM_SHAPE(0, 8, 8) : r == 2 ? KINSN_GEMM_SHAPE(8, 8, 4097) :
			      KINSN_GEMM_SHAPE(m, n, k);
		memset(batch.c, 0x5a, sizeof(batch.c));
		want_ret = kinsn_gemm_check(batch.shape, sizeof(batch.c), sizeof(batch.a), &d);
		run(fd, 1);
		if (batch.ret != want_ret)
			fail("bpf_gemm_i8 (%s) shape %#x: %d, want %d", tier, batch.shape, batch.ret,
			     want_ret);
		if (want_ret) {
			for (__u32 i = 0; i < MEM_C; i++)
				if (batch.c[i] != 0x5a5a5a5a)
					fail("bpf_gemm_i8 (%s): refused shape %#x wrote C", tier,
					     batch.shape);
			bad++;
			continue;
		}
		kinsn_gemm_i8(want, batch.a, batch.a + d.m * d.k, &d);
		if (memcmp(want, batch.c, 4 * d.m * d.n))
			fail("bpf_gemm_i8 (%s) %ux%ux%u: C differs from the meaning", tier, d.m, d.n,
			     d.k);
		vector += d.n >= 8 && (long)d.m * d.n * d.k >= vector_min;
		elements += d.m * d.n;
	}
	printf("  bpf_gemm_i8 (%s): %d shapes, %ld elements of C equal, %d bad shapes refused\n",
	       tier, GEMM_RUNS - bad, elements, bad);
	return vector;
}

/*
 * bf16 values in @p: moderate (2^-8 .. 2^8); in one round of 4 tiny
 * (2^-70 .. 2^-60: subnormal products), in another one element of 25
 * special or random bits.
 */
static void fill_bf16(__u16 *p, size_t n, int r)
{
	static const __u16 special[] = { 0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc1, 0x0001,
					 0x807f, 0x7f7f, 0xff7f, 0x3f80, 0xbf80, 0x0080 };
	size_t i;

	for (i = 0; i < n; i++) {
		__u16 sign = (rnd() & 1) << 15, mantissa = rnd() & 0x7f;

		if (r % 4 == 1)
			p[i] = sign | (57 + rnd() % 11) << 7 | mantissa;
		else if (r % 4 == 0 && rnd() % 25 == 0)
			p[i] = rnd() & 1 ? special[rnd() % ARRAY_SIZE(special)] : rnd();
		else
			p[i] = sign | (119 + rnd() % 17) << 7 | mantissa;
	}
}

static bool fp32_nan(__u32 x)
{
	return (x & 0x7f800000) == 0x7f800000 && (x & 0x7fffff);
}

static long check_gemm_bf16(const char *tier, long vector_min)
{
	static __u32 want[MEM_C];
	__u32 *c = (__u32 *)batch.c;
	int fd = prog_fd("gemm_bf16"), r, bad = 0;
	long vector = 0, elements = 0;

	rnd_state = 4;
	for (r = 0; r < GEMM_RUNS; r++) {
		struct kinsn_gemm_dims d;
		__u32 m = 1 + rnd() % 32, n = 1 + rnd() % 32, k = 1 + rnd() % 32, e;
		int want_ret;

		if (r % 10 == 9) /* A and B past the 4096 bytes */
			k = 33 + rnd() % 64;
		fill_bf16((__u16 *)batch.a, MEM_BUF / 2, r);
		batch.shape = KINSN_GEMM_SHAPE(m, n, k);
		memset(batch.c, 0x5a, sizeof(batch.c));
		want_ret = kinsn_gemm_check_elem(batch.shape, sizeof(batch.c), sizeof(batch.a), 2,
						 &d);
		run(fd, 1);
		if (batch.ret != want_ret)
			fail("bpf_gemm_bf16 (%s) shape %#x: %d, want %d", tier, batch.shape,
			     batch.ret, want_ret);
		if (want_ret) {
			for (e = 0; e < MEM_C; e++)
				if (c[e] != 0x5a5a5a5a)
					fail("bpf_gemm_bf16 (%s): refused shape %#x wrote C", tier,
					     batch.shape);
			bad++;
			continue;
		}
		kinsn_gemm_bf16_ref(want, (__u16 *)batch.a, (__u16 *)batch.a + m * k, &d);
		for (e = 0; e < m * n; e++)
			if (c[e] != want[e] && !(fp32_nan(c[e]) && fp32_nan(want[e])))
				fail("bpf_gemm_bf16 (%s) %ux%ux%u element %u: %#x, meaning %#x", tier,
				     m, n, k, e, c[e], want[e]);
		/* vector_min does not apply: scalar bf16 needs the FPU too */
		vector += n >= 8 && vector_min != NO_VECTOR;
		elements += m * n;
	}
	printf("  bpf_gemm_bf16 (%s): %d shapes, %ld elements of C equal, %d bad shapes refused\n",
	       tier, GEMM_RUNS - bad, elements, bad);
	return vector;
}

/* One tier of kinsn_matrix; vector_min is the size from which it is vector. */
static void check_tier(const char *tier, long vector_min)
{
	long before = read_param("vector_calls"), want, got;
	int err = write_param("tier", tier);

	if (err)
		fail("tier %s: %s", tier, strerror(-err));
	want = check_dot(tier, vector_min);
	printf("  bpf_dot_i8 (%s): %d vectors equal the meaning\n", tier, DOT_RUNS * MEM_BATCH);
	want += check_gemm(tier, vector_min);
	want += check_gemm_bf16(tier, vector_min);
	got = read_param("vector_calls") - before;
	printf("  tier %s: %ld calls ran the AVX2 code, want %ld\n", tier, got, want);
	if (got != want)
		fail("tier %s: %ld vector calls, want %ld", tier, got, want);
}

static void check_crc(const char *what)
{
	int fd = prog_fd("crc_batch"), r, i;

	rnd_state = 3;
	for (r = 0; r < DOT_RUNS; r++) {
		fill_vectors(r);
		run(fd, 1);
		for (i = 0; i < MEM_BATCH; i++) {
			__u32 want = kinsn_crc32c_buf(batch.seed[i],
						      (const __u8 *)batch.a + batch.off_a[i],
						      batch.len[i]);

			if ((__u32)batch.out[i] != want)
				fail("bpf_crc32c (%s) len %u: %#x, meaning %#x", what, batch.len[i],
				     (__u32)batch.out[i], want);
		}
	}
	printf("  bpf_crc32c (%s): %d buffers equal the bitwise CRC32C\n", what,
	       DOT_RUNS * MEM_BATCH);
}

static void open_obj(bool oob)
{
	struct bpf_program *p;

	libbpf_log_len = 0;
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		fail("open %s", obj_path);
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, oob == !strcmp(bpf_program__name(p), "dot_oob"));
}

static void load_obj(void)
{
	open_obj(false);
	if (bpf_object__load(obj))
		fail("load %s: %s\n%s", obj_path, strerror(errno), libbpf_log);
	bss_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, ".bss"));
}

static void bench(bool avx2)
{
	static const __u32 lens[] = { 16, 64, 256, 1024, 4032 };
	int fd = prog_fd("dot_bench");
	size_t i;

	printf("  bpf_dot_i8 time per call (BPF_PROG_TEST_RUN, QEMU/TCG guest time, not hardware):\n");
	printf("  %6s %12s %12s %8s\n", "bytes", "scalar ns", "avx2 ns", "ratio");
	fill_vectors(3);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		__u32 t[2] = { 0, 0 };

		batch.len[0] = lens[i];
		for (int tier = 0; tier < 1 + avx2; tier++) {
			write_param("tier", tier ? "avx2" : "scalar");
			t[tier] = run(fd, 2000);
		}
		if (avx2)
			printf("  %6u %12u %12u %7.2fx\n", lens[i], t[0], t[1], (double)t[0] / t[1]);
		else
			printf("  %6u %12u %12s\n", lens[i], t[0], "-");
	}
}

int main(int argc, char **argv)
{
	bool avx2 = __builtin_cpu_supports("avx2");
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: test_kinsn_mem KINSN_MEM.BPF.O MODULE_DIR\n");
		return 2;
	}
	obj_path = argv[1], mod_dir = argv[2];
	libbpf_set_print(print_fn);

	/* Without the modules: refused, naming the kfunc. */
	open_obj(false);
	if (!bpf_object__load(obj) || !strstr(libbpf_log, "bpf_"))
		fail("loaded without kinsn_matrix, or no kfunc named:\n%s", libbpf_log);
	bpf_object__close(obj);
	printf("  without the modules, load refused: %.*s\n",
	       (int)strcspn(strstr(libbpf_log, "extern") ?: "", "\n"),
	       strstr(libbpf_log, "extern") ?: "");

	load_module(mod_dir, "kinsn_crc32c", "");
	load_module(mod_dir, "kinsn_matrix", "");

	/* A size past the end of the memory: the verifier refuses the call. */
	open_obj(true);
	if (!bpf_object__load(obj) || !strstr(libbpf_log, "invalid access to map value"))
		fail("dot_oob loaded, or not for its size:\n%s", libbpf_log);
	bpf_object__close(obj);
	printf("  size past the memory's end refused: invalid access to map value\n");

	load_obj();
	if (unload_module("kinsn_matrix") != -EWOULDBLOCK)
		fail("kinsn_matrix unloadable while programs use it");
	err = write_param("tier", "amx");
	if (err != -EOPNOTSUPP)
		fail("tier amx: %s, want EOPNOTSUPP", strerror(-err));
	printf("  tier amx refused (%s): the AMX tier is NOT executed on this machine,\n"
	       "  see the module's line in dmesg for why\n", strerror(-err));
	err = write_param("tier", "fast");
	if (err != -EINVAL)
		fail("tier fast: %s, want EINVAL", strerror(-err));

	check_tier("scalar", NO_VECTOR);
	if (avx2) {
		check_tier("avx2", 0);
		check_tier("auto", read_param("vector_min"));
	} else {
		err = write_param("tier", "avx2");
		if (err != -EOPNOTSUPP)
			fail("tier avx2 without AVX2: %s, want EOPNOTSUPP", strerror(-err));
		printf("  this CPU lacks AVX2: tier avx2 refused, vector code NOT run\n");
		check_tier("auto", NO_VECTOR);
	}
	check_crc("crc32");
	bench(avx2);
	bpf_object__close(obj);

	unload_module_wait("kinsn_crc32c");
	load_module(mod_dir, "kinsn_crc32c", "native=0");
	load_obj();
	check_crc("C body");
	bpf_object__close(obj);
	unload_module_wait("kinsn_crc32c");
	unload_module_wait("kinsn_matrix");
	printf("kinsn memory: all results equal the meaning\n");
	return 0;
}
