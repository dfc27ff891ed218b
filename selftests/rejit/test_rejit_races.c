// SPDX-License-Identifier: GPL-2.0
/* BPF_PROG_REJIT racing on purpose, run inside the VM on the patched
 * kernel. In each case one thread re-JITs a program over and over,
 * alternating between two codes, while other threads do something else
 * to the same program; every case runs a fixed count of iterations and
 * checks exact results where they are countable:
 *
 *  attach_detach   links (perf tracepoint, raw_tp, generic XDP and tcx on
 *                  lo) attached and detached in a loop with events between:
 *                  both codes add 1, so every event seen while attached is
 *                  counted exactly once and none while detached;
 *  close_in_flight the last fds of fresh programs closed while a re-JIT of
 *                  them is in flight (the re-JIT may drop the last
 *                  reference); every program id is gone afterwards (the
 *                  script checks kallsyms and vmallocinfo);
 *  prog_array      a tail call target re-JITed while its slot is deleted
 *                  and refilled and callers (direct and indirect tail
 *                  call) run: each result is old code, new code or the
 *                  empty slot's fallthrough, and the target's counter grew
 *                  by exactly the runs that reached it;
 *  trampoline      fentry/fexit pairs loaded against an XDP program,
 *                  attached and detached in a loop while it is re-JITed and
 *                  run: entries and exits counted exactly while attached,
 *                  fexit saw each return;
 *  two_rejiters    two threads re-JIT the same program with different code:
 *                  rejit_cnt grows by the successes exactly, the final
 *                  code is one of the two and runs as such;
 *  info_readers    bpf_prog_get_info_by_fd with xlated/jited buffers sized
 *                  by a previous call (a length change must not overflow
 *                  them; the lengths and the xlated dump are those of one
 *                  of the two codes), id walks and bpftool prog show.
 *
 *   test_rejit_races OBJ_DIR [scale%]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "harness.h"
#include "rejit_util.h"

#define MOV64_IMM(DST, IMM)                                                    \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = DST, .imm = IMM })

static int scale = 100; /* percent of the default counts */


/* In a thread: the first failure goes to t->why, and the thread stops. */
#define TFAIL(t, fmt, ...)                                                     \
	do {                                                                   \
		if (!(t)->why[0])                                              \
			snprintf((t)->why, sizeof((t)->why), "%s:%d " fmt,     \
				 __FILE__, __LINE__, ##__VA_ARGS__);           \
	} while (0)

/* keys of the "counters" map, as in progs/rejit.bpf.c */
enum {
	TP_EVENTS, XDP_PACKETS, KPROBE_EVENTS, RAW_TP_EVENTS,
	FENTRY_EVENTS, FEXIT_EVENTS, FENTRY_S_EVENTS, TC_PACKETS, CGROUP_PACKETS,
};
/* keys of the "hits" map of rejit_on_prog.bpf.c */
enum { ON_ENTRY, ON_EXIT, LAST_RET };

static struct bpf_object *obj;
static int counters_fd, jmp_fd;
static char on_prog_path[512];

static int n_of(int n)
{
	n = (long)n * scale / 100;
	return n > 0 ? n : 1;
}

static struct bpf_program *prog(const char *name)
{
	return bpf_object__find_program_by_name(obj, name);
}

static int prog_fd(const char *name)
{
	return bpf_program__fd(prog(name));
}

static __u64 counter(__u32 key)
{
	__u64 v = 0;

	bpf_map_lookup_elem(counters_fd, &key, &v);
	return v;
}

static void counter_reset(__u32 key)
{
	__u64 zero = 0;

	bpf_map_update_elem(counters_fd, &key, &zero, BPF_ANY);
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_prog_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static __thread char log_buf[1 << 14];

static int rejit(int fd, const struct code *c)
{
	LIBBPF_OPTS(bpf_prog_rejit_opts, opts, .fd_array = c->fds,
		    .prog_btf_fd = c->btf_fd, .func_info = c->func_info,
		    .func_info_cnt = c->func_info_cnt,
		    .func_info_rec_size = c->func_info_rec_size,
		    .log_buf = log_buf, .log_size = sizeof(log_buf),
		    .log_level = 1);

	log_buf[0] = 0;
	return bpf_prog_rejit(fd, c->insns, c->cnt, &opts);
}

/* the end of the verifier log, where it says why */
static const char *log_tail(void)
{
	size_t n = strlen(log_buf);

	return log_buf + (n > 300 ? n - 300 : 0);
}

/* @c with @n instructions "r0 = 0" in front: other code, same behaviour.
 * (Without BTF: func_info would have to move too.)
 */
static int code_pad(struct code *c, __u32 n)
{
	struct bpf_insn *p = calloc(c->cnt + n, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (__u32 i = 0; i < n; i++)
		p[i] = MOV64_IMM(BPF_REG_0, 0);
	memcpy(p + n, c->insns, c->cnt * sizeof(*p));
	free(c->insns);
	c->insns = p;
	c->cnt += n;
	return 0;
}

/* the original code of @src_fd, with @pad "r0 = 0" in front, and its BTF */
static int code_get(int src_fd, __u32 pad, bool btf, struct code *c)
{
	int err = code_of(src_fd, c);

	if (!err && pad)
		err = code_pad(c, pad);
	if (!err && btf)
		err = code_add_btf(src_fd, c);
	return err;
}

static void getppid_n(int n)
{
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static unsigned char pkt[64] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00 };

static int xdp_run(int fd, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	int err = bpf_prog_test_run_opts(fd, &opts);

	*retval = opts.retval;
	return err ? -errno : 0;
}

/* ---- the re-JIT thread: @fd alternately gets @a and @b --------------- */

struct flipper {
	int fd;
	const struct code *a, *b;
	atomic_int stop;
	long rejits; /* successful */
	pthread_t t;
	char why[512];
};

static void *flip_thread(void *arg)
{
	struct flipper *f = arg;

	while (!atomic_load(&f->stop)) {
		int err = rejit(f->fd, f->rejits & 1 ? f->b : f->a);

		if (err) {
			TFAIL(f, "re-JIT %ld: %d %.300s", f->rejits, err, log_tail());
			break;
		}
		f->rejits++;
	}
	return NULL;
}

static void flip_start(struct flipper *f, int fd, const struct code *a, const struct code *b)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->a = a;
	f->b = b;
	pthread_create(&f->t, NULL, flip_thread, f);
}

/* stop, then leave @fd on code a; 0 if no re-JIT failed */
static int flip_stop(struct flipper *f)
{
	atomic_store(&f->stop, 1);
	pthread_join(f->t, NULL);
	if (f->why[0]) {
		fprintf(stderr, "  %s: re-JIT thread: %s\n", current, f->why);
		return -1;
	}
	if (rejit(f->fd, f->a)) {
		fprintf(stderr, "  %s: final re-JIT: %s\n", current, log_buf);
		return -1;
	}
	return 0;
}

/* ---- 1. links attached and detached while re-JITed ------------------- */

static int udp_rx = -1, udp_tx = -1;
static struct sockaddr_in udp_addr = { .sin_family = AF_INET };

static int udp_setup(void)
{
	socklen_t len = sizeof(udp_addr);

	udp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	udp_rx = socket(AF_INET, SOCK_DGRAM, 0);
	udp_tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_rx < 0 || udp_tx < 0 || bind(udp_rx, (void *)&udp_addr, sizeof(udp_addr)) ||
	    getsockname(udp_rx, (void *)&udp_addr, &len))
		return -errno;
	return 0;
}

/* @n datagrams through lo, each received: one packet each on lo's way in */
static int udp_n(int n)
{
	char b;

	for (int i = 0; i < n; i++)
		if (sendto(udp_tx, "x", 1, 0, (void *)&udp_addr, sizeof(udp_addr)) != 1 ||
		    recv(udp_rx, &b, 1, 0) != 1)
			return -errno;
	return 0;
}

enum link_kind { L_TP, L_RAW_TP, L_XDP, L_TCX };

static const struct {
	const char *name, *prog;
	__u32 key;
} kinds[] = {
	[L_TP] = { "tracepoint", "tp_add1", TP_EVENTS },
	[L_RAW_TP] = { "raw_tp", "raw_add1", RAW_TP_EVENTS },
	[L_XDP] = { "xdp(lo, generic)", "xdp_pass", XDP_PACKETS },
	[L_TCX] = { "tcx(lo ingress)", "tc_pass", TC_PACKETS },
};

/* a libbpf link, or a link fd; attached if either */
struct lnk {
	struct bpf_link *l;
	int fd;
};

static struct lnk attach(enum link_kind k)
{
	struct bpf_program *p = prog(kinds[k].prog);

	switch (k) {
	case L_XDP:
		return (struct lnk){ bpf_program__attach_xdp(p, 1), -1 };
	case L_TCX: /* libbpf would take the expected attach type of "tc": none */
		return (struct lnk){ NULL, bpf_link_create(bpf_program__fd(p), 1, BPF_TCX_INGRESS,
							 NULL) };
	default:
		return (struct lnk){ bpf_program__attach(p), -1 };
	}
}

static void detach(struct lnk *l)
{
	if (l->l)
		bpf_link__destroy(l->l);
	if (l->fd >= 0)
		close(l->fd);
}

static int events(enum link_kind k, int n)
{
	if (k == L_TP || k == L_RAW_TP) {
		getppid_n(n);
		return 0;
	}
	return udp_n(n);
}

static int attach_detach_one(enum link_kind k, int cycles, int per)
{
	int fd = prog_fd(kinds[k].prog), err = 0;
	__u32 key = kinds[k].key;
	struct code a, b;
	struct flipper f;
	__u64 seen = 0, v0, v1;

	ASSERT(!code_get(fd, 0, false, &a) && !code_get(fd, 1, false, &b), "code");
	counter_reset(key);
	flip_start(&f, fd, &a, &b);
	for (int i = 0; i < cycles && !err; i++) {
		struct lnk link = attach(k);

		if (!CHECK(link.l || link.fd >= 0, "%s: attach %d: %d", kinds[k].name, i, -errno)) {
			err = -1;
			break;
		}
		v0 = counter(key);
		err = events(k, per);
		v1 = counter(key);
		detach(&link);
		if (!CHECK(!err && v1 - v0 == (__u64)per,
			   "%s: cycle %d: %d events while attached counted %llu times (err %d)",
			   kinds[k].name, i, per, (unsigned long long)(v1 - v0), err))
			err = -1;
		seen += v1 - v0;
		if (!err)
			err = events(k, per);
		if (!CHECK(!err && counter(key) == v1,
			   "%s: cycle %d: %llu events counted while detached (err %d)",
			   kinds[k].name, i, (unsigned long long)(counter(key) - v1), err))
			err = -1;
	}
	if (flip_stop(&f))
		err = -1;
	printf("  %s: %d attach/detach cycles, %ld re-JITs, %llu events while attached "
	       "counted %llu, %d while detached counted %llu\n",
	       kinds[k].name, cycles, f.rejits, (unsigned long long)cycles * per,
	       (unsigned long long)seen, cycles * per,
	       (unsigned long long)(counter(key) - seen));
	code_free(&a);
	code_free(&b);
	return err;
}

static int test_attach_detach(void)
{
	int err = 0;

	ASSERT(!udp_setup(), "udp sockets on lo: %d", -errno);
	for (int k = L_TP; k <= L_TCX; k++)
		if (attach_detach_one(k, n_of(k >= L_XDP ? 50 : 60), 4))
			err = -1;
	return err;
}

/* ---- 2. the last fd closed while a re-JIT is in flight --------------- */

struct closer {
	int fd; /* a dup: the thread's own */
	const struct code *c;
	atomic_int started;
	int err;
	double done; /* ms, when the re-JIT returned */
};

static void *close_rejit_thread(void *arg)
{
	struct closer *c = arg;

	atomic_store(&c->started, 1);
	c->err = rejit(c->fd, c->c);
	c->done = now_ms();
	return NULL;
}

static void spin_ns(long ns)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < ns);
}

static int load_xdp(const struct code *c)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .fd_array = c->fds);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "race_close", "GPL", c->insns, c->cnt, &o);
}

static int test_close_in_flight(void)
{
	int n = n_of(200), ok = 0, ebadf = 0, pre = 0, gone = 0, in_flight = 0;
	struct code a, b;
	__u32 *ids = calloc(n, sizeof(*ids));
	unsigned int seed = 27;
	double t0, per_rejit;
	long window_ns;

	ASSERT(ids, "ids");
	ASSERT(!code_get(prog_fd("xdp_pass"), 0, false, &a) &&
		       !code_get(prog_fd("xdp_drop"), 0, false, &b),
	       "code");
	{ /* how long a re-JIT takes here: the close lands in [0, 1.5x) of it */
		int fd = load_xdp(&a);

		ASSERT(fd >= 0, "load: %d", -errno);
		t0 = now_ms();
		for (int i = 0; i < 10; i++)
			ASSERT(!rejit(fd, i & 1 ? &a : &b), "rejit: %s", log_buf);
		per_rejit = (now_ms() - t0) / 10;
		close(fd);
		window_ns = per_rejit * 1.5e6;
	}
	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info;
		struct closer c = { .c = i & 1 ? &a : &b };
		pthread_t t;
		int fd = load_xdp(&a);

		ASSERT(fd >= 0, "load %d: %d", i, -errno);
		ASSERT(!prog_info(fd, &info), "info");
		ids[i] = info.id;
		/* every other program is re-JITed already: a replacement to drop */
		if (i % 4 >= 2) {
			ASSERT(!rejit(fd, &b), "pre re-JIT: %s", log_buf);
			pre++;
		}
		c.fd = dup(fd);
		ASSERT(c.fd >= 0, "dup");
		pthread_create(&t, NULL, close_rejit_thread, &c);
		while (!atomic_load(&c.started))
			sched_yield();
		spin_ns(rand_r(&seed) % (window_ns + 1));
		close(fd);
		close(c.fd); /* the last one: the re-JIT may hold the last reference */
		t0 = now_ms();
		pthread_join(t, NULL);
		in_flight += c.err == 0 && t0 < c.done;
		if (c.err == 0)
			ok++;
		else if (c.err == -EBADF)
			ebadf++;
		else
			ASSERT(0, "program %d: re-JIT: %d %s", i, c.err, log_buf);
	}
	/* ids go when the programs are freed (after a grace period) */
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		int fd;

		while ((fd = bpf_prog_get_fd_by_id(ids[i])) >= 0 && now_ms() - t0 < 5000) {
			close(fd);
			usleep(10000);
		}
		if (fd >= 0) {
			close(fd);
			continue;
		}
		gone += errno == ENOENT;
	}
	printf("  close_in_flight: %d programs (%d re-JITed before), closed within %.2f ms of "
	       "a re-JIT starting (%.2f ms each): %d re-JITs done (%d of them still running when "
	       "the last fd was closed), %d found the fd closed; %d/%d ids gone\n",
	       n, pre, window_ns / 1e6, per_rejit, ok, in_flight, ebadf, gone, n);
	ASSERT(gone == n, "%d programs still there after 5 s", n - gone);
	free(ids);
	code_free(&a);
	code_free(&b);
	return 0;
}

/* ---- 3. a tail call target, its slot emptied and refilled ------------ */

struct runner {
	int fd;
	atomic_int *stop;
	long runs, by_ret[4]; /* XDP_ABORTED, DROP, PASS, TX */
	pthread_t t;
	char why[256];
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	__u32 ret;

	while (!atomic_load(r->stop)) {
		int err = xdp_run(r->fd, &ret);

		if (err || ret > XDP_TX) {
			TFAIL(r, "run %ld: err %d ret %u", r->runs, err, ret);
			break;
		}
		r->by_ret[ret]++;
		r->runs++;
	}
	return NULL;
}

static int test_prog_array(void)
{
	int tgt = prog_fd("xdp_pass"), slots = n_of(80), key = 0, err = 0;
	struct runner r[2] = { { .fd = prog_fd("xdp_tail") }, { .fd = prog_fd("xdp_tail_var") } };
	const char *rname[2] = { "direct", "indirect" };
	atomic_int stop = 0;
	struct code a, b;
	struct flipper f;
	__u64 reached = 0;

	ASSERT(!code_get(tgt, 0, false, &a) && !code_get(prog_fd("xdp_drop"), 0, false, &b),
	       "code");
	counter_reset(XDP_PACKETS);
	ASSERT(!bpf_map_update_elem(jmp_fd, &key, &tgt, BPF_ANY), "slot = target");
	flip_start(&f, tgt, &a, &b);
	for (int i = 0; i < 2; i++) {
		r[i].stop = &stop;
		pthread_create(&r[i].t, NULL, run_thread, &r[i]);
	}
	for (int i = 0; i < slots && !err; i++) {
		err = !CHECK(!bpf_map_delete_elem(jmp_fd, &key), "delete %d: %d", i, -errno) ||
		      !CHECK(!bpf_map_update_elem(jmp_fd, &key, &tgt, BPF_ANY), "update %d: %d",
			     i, -errno);
		sched_yield();
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++) {
		pthread_join(r[i].t, NULL);
		if (!CHECK(!r[i].why[0], "%s caller: %s", rname[i], r[i].why))
			err = 1;
		if (!CHECK(!r[i].by_ret[XDP_TX], "%s caller: %ld runs returned XDP_TX", rname[i],
			   r[i].by_ret[XDP_TX]))
			err = 1;
		reached += r[i].by_ret[XDP_PASS] + r[i].by_ret[XDP_DROP];
	}
	if (flip_stop(&f))
		err = 1;
	bpf_map_delete_elem(jmp_fd, &key);
	printf("  prog_array: %d slot delete+update, %ld re-JITs of the target; direct caller "
	       "%ld runs (%ld old code, %ld new, %ld empty slot), indirect %ld (%ld, %ld, %ld); "
	       "target counted %llu of %llu\n",
	       slots, f.rejits, r[0].runs, r[0].by_ret[XDP_PASS], r[0].by_ret[XDP_DROP],
	       r[0].by_ret[XDP_ABORTED], r[1].runs, r[1].by_ret[XDP_PASS], r[1].by_ret[XDP_DROP],
	       r[1].by_ret[XDP_ABORTED], (unsigned long long)counter(XDP_PACKETS),
	       (unsigned long long)reached);
	ASSERT(counter(XDP_PACKETS) == reached, "target ran %llu times, callers saw it %llu",
	       (unsigned long long)counter(XDP_PACKETS), (unsigned long long)reached);
	code_free(&a);
	code_free(&b);
	return err ? -1 : 0;
}

/* ---- 4. fentry/fexit attached and detached on a re-JITed program ----- */

/* rejit_on_prog.bpf.o with only @names loaded, attached to @tgt_fd's @func */
static struct bpf_object *load_on_prog(int tgt_fd, const char *func, const char *names)
{
	struct bpf_object *o = bpf_object__open_file(on_prog_path, NULL);
	struct bpf_program *p;
	char want[64];

	if (!o)
		return NULL;
	bpf_object__for_each_program(p, o) {
		snprintf(want, sizeof(want), " %s ", bpf_program__name(p));
		bpf_program__set_autoload(p, strstr(names, want) != NULL);
		if (strstr(names, want) && bpf_program__set_attach_target(p, tgt_fd, func))
			goto fail;
	}
	if (!bpf_object__load(o))
		return o;
fail:
	bpf_object__close(o);
	return NULL;
}

static __u64 hit(int hits_fd, __u32 key)
{
	__u64 v = ~0ULL;

	bpf_map_lookup_elem(hits_fd, &key, &v);
	return v;
}

/* Tracers of a BPF program attach once: bpf_tracing_prog_attach() takes no
 * new target for them, and without attach_btf no re-attach either (as
 * upstream). Each cycle loads a fresh pair against the program being
 * re-JITed, attaches it, runs, detaches and runs again.
 */
static int test_trampoline(void)
{
	int tgt = prog_fd("xdp_tgt"), cycles = n_of(50), per = 4, err = 0;
	long by_ret[4] = {}, entries = 0, exits = 0;
	struct code a, b;
	struct flipper f;
	__u32 ret;

	/* tracers find the function in the BTF the target reports: keep it */
	ASSERT(!code_get(tgt, 0, true, &a) && !code_get(prog_fd("xdp_drop"), 0, true, &b),
	       "code");
	flip_start(&f, tgt, &a, &b);
	for (int i = 0; i < cycles && !err; i++) {
		struct bpf_object *o = load_on_prog(tgt, "xdp_tgt", " entry1 exit1 ");
		struct bpf_program *pe, *px;
		struct bpf_link *le, *lx;
		int hits;

		if (!CHECK(o, "cycle %d: load fentry/fexit of xdp_tgt: %d", i, -errno)) {
			err = 1;
			break;
		}
		pe = bpf_object__find_program_by_name(o, "entry1");
		px = bpf_object__find_program_by_name(o, "exit1");
		hits = bpf_object__find_map_fd_by_name(o, "hits");
		/* either order, detached in reverse */
		le = i & 1 ? bpf_program__attach(pe) : NULL;
		lx = bpf_program__attach(px);
		if (!(i & 1))
			le = bpf_program__attach(pe);
		if (!CHECK(le && lx, "cycle %d: attach: %d", i, -errno)) {
			bpf_link__destroy(le);
			bpf_link__destroy(lx);
			bpf_object__close(o);
			err = 1;
			break;
		}
		for (int j = 0; j < per && !err; j++) {
			err = !CHECK(!xdp_run(tgt, &ret) && (ret == XDP_PASS || ret == XDP_DROP),
				     "cycle %d: run %d: %d", i, j, ret) ||
			      !CHECK(hit(hits, LAST_RET) == ret,
				     "cycle %d: run returned %u, fexit saw %llu", i, ret,
				     (unsigned long long)hit(hits, LAST_RET));
			by_ret[ret & 3]++;
		}
		if (!err)
			err = !CHECK(hit(hits, ON_ENTRY) == (__u64)per && hit(hits, ON_EXIT) == (__u64)per,
				     "cycle %d: %d runs attached: %llu entries, %llu exits", i, per,
				     (unsigned long long)hit(hits, ON_ENTRY),
				     (unsigned long long)hit(hits, ON_EXIT));
		if (i & 1) {
			bpf_link__destroy(lx);
			bpf_link__destroy(le);
		} else {
			bpf_link__destroy(le);
			bpf_link__destroy(lx);
		}
		for (int j = 0; j < per && !err; j++) {
			err = !CHECK(!xdp_run(tgt, &ret) && (ret == XDP_PASS || ret == XDP_DROP),
				     "cycle %d: detached run %d: %d", i, j, ret);
			by_ret[ret & 3]++;
		}
		if (!err)
			err = !CHECK(hit(hits, ON_ENTRY) == (__u64)per && hit(hits, ON_EXIT) == (__u64)per,
				     "cycle %d: detached: %llu entries, %llu exits, want %d", i,
				     (unsigned long long)hit(hits, ON_ENTRY),
				     (unsigned long long)hit(hits, ON_EXIT), per);
		entries += hit(hits, ON_ENTRY);
		exits += hit(hits, ON_EXIT);
		bpf_object__close(o);
	}
	if (flip_stop(&f))
		err = 1;
	printf("  trampoline: %d fentry+fexit pairs loaded, attached, detached, %ld re-JITs of "
	       "the traced program; %d runs (%ld old code, %ld new), %ld entries and %ld exits "
	       "counted of %d attached\n",
	       cycles, f.rejits, 2 * cycles * per, by_ret[XDP_PASS], by_ret[XDP_DROP], entries,
	       exits, cycles * per);
	ASSERT(!err, "see above");
	ASSERT(!xdp_run(tgt, &ret) && ret == XDP_PASS, "back on its own code: %u", ret);
	code_free(&a);
	code_free(&b);
	return 0;
}

/* ---- 5. two re-JITers of one program --------------------------------- */

struct rejiter {
	int fd, n;
	const struct code *c;
	long ok, fails, last_err;
	pthread_t t;
};

static void *rejiter_thread(void *arg)
{
	struct rejiter *r = arg;

	for (int i = 0; i < r->n; i++) {
		int err = rejit(r->fd, r->c);

		if (err) {
			r->fails++;
			r->last_err = err;
		} else {
			r->ok++;
		}
	}
	return NULL;
}

static int test_two_rejiters(void)
{
	int fd = prog_fd("xdp_pass"), n = n_of(120);
	struct bpf_prog_info info0, info;
	__u8 tag_a[BPF_TAG_SIZE], tag_b[BPF_TAG_SIZE];
	struct rejiter rj[2];
	atomic_int stop = 0;
	struct runner r = { .fd = fd, .stop = &stop };
	struct code a, b;
	__u32 ret;
	bool is_a;

	ASSERT(!code_get(fd, 0, false, &a) && !code_get(prog_fd("xdp_drop"), 0, false, &b),
	       "code");
	ASSERT(!rejit(fd, &b) && !prog_info(fd, &info), "to b: %s", log_buf);
	memcpy(tag_b, info.tag, sizeof(tag_b));
	ASSERT(!rejit(fd, &a) && !prog_info(fd, &info0), "to a: %s", log_buf);
	memcpy(tag_a, info0.tag, sizeof(tag_a));
	ASSERT(memcmp(tag_a, tag_b, sizeof(tag_a)), "the two codes have the same tag");
	counter_reset(XDP_PACKETS);
	pthread_create(&r.t, NULL, run_thread, &r);
	for (int i = 0; i < 2; i++) {
		rj[i] = (struct rejiter){ .fd = fd, .n = n, .c = i ? &b : &a };
		pthread_create(&rj[i].t, NULL, rejiter_thread, &rj[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(rj[i].t, NULL);
	atomic_store(&stop, 1);
	pthread_join(r.t, NULL);
	ASSERT(!prog_info(fd, &info), "info");
	is_a = !memcmp(info.tag, tag_a, sizeof(tag_a));
	ASSERT(!xdp_run(fd, &ret), "run");
	printf("  two_rejiters: 2 x %d re-JITs, %ld + %ld succeeded, %ld + %ld failed (last %ld "
	       "%ld); rejit_cnt %u -> %u; final code %s; %ld runs meanwhile (%ld pass, %ld "
	       "drop), counted %llu\n",
	       n, rj[0].ok, rj[1].ok, rj[0].fails, rj[1].fails, rj[0].last_err, rj[1].last_err,
	       info0.rejit_cnt, info.rejit_cnt,
	       is_a ? "a (pass)" : !memcmp(info.tag, tag_b, sizeof(tag_b)) ? "b (drop)" : "?",
	       r.runs, r.by_ret[XDP_PASS], r.by_ret[XDP_DROP],
	       (unsigned long long)counter(XDP_PACKETS));
	ASSERT(!r.why[0], "runner: %s", r.why);
	ASSERT(r.by_ret[XDP_PASS] + r.by_ret[XDP_DROP] == r.runs, "runs returned something else");
	ASSERT(counter(XDP_PACKETS) == (__u64)r.runs + 1, "counted %llu runs of %ld",
	       (unsigned long long)counter(XDP_PACKETS), r.runs + 1);
	ASSERT(info.rejit_cnt - info0.rejit_cnt == rj[0].ok + rj[1].ok,
	       "rejit_cnt grew by %u, %ld re-JITs succeeded", info.rejit_cnt - info0.rejit_cnt,
	       rj[0].ok + rj[1].ok);
	ASSERT(is_a || !memcmp(info.tag, tag_b, sizeof(tag_b)), "final code is neither");
	ASSERT(ret == (is_a ? XDP_PASS : XDP_DROP), "final code %s returns %u", is_a ? "a" : "b",
	       ret);
	ASSERT(!rejit(fd, &a), "back: %s", log_buf);
	code_free(&a);
	code_free(&b);
	return 0;
}

/* ---- 6. info readers and id walkers ---------------------------------- */

#define GUARD 256
#define MAX_JLENS 8

/* what one of the two codes looks like in bpf_prog_info */
struct shape {
	__u32 xlen, nr_jlens, jlens[MAX_JLENS];
	void *xlated;
};

static struct shape shapes[2];
static __u32 info_prog_id;

static int shape_add(int fd, struct shape *s)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), jl;
	int err = prog_info(fd, &info);

	if (err)
		return err;
	jl = info.jited_prog_len;
	if (!s->xlated) {
		s->xlen = info.xlated_prog_len;
		s->xlated = calloc(1, s->xlen);
		memset(&info, 0, sizeof(info));
		info.xlated_prog_len = s->xlen;
		info.xlated_prog_insns = (__u64)(unsigned long)s->xlated;
		if (bpf_prog_get_info_by_fd(fd, &info, &len))
			return -errno;
	}
	if (info.xlated_prog_len != s->xlen)
		return -EINVAL;
	for (__u32 i = 0; i < s->nr_jlens; i++)
		if (s->jlens[i] == jl)
			return 0;
	if (s->nr_jlens < MAX_JLENS)
		s->jlens[s->nr_jlens++] = jl;
	return 0;
}

struct reader {
	int fd, n;
	long changed, calls;
	pthread_t t;
	char why[512];
};

static bool guard_ok(const unsigned char *p)
{
	for (int i = 0; i < GUARD; i++)
		if (p[i] != 0xa5)
			return false;
	return true;
}

static void *reader_thread(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < r->n; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info), xl, jl, flen[2] = { 0, 0xa5a5a5a5 }, map_ids[3];
		__u64 ksym[2] = { 0, 0xa5a5a5a5a5a5a5a5ULL };
		const struct shape *s = NULL;
		unsigned char *xb, *jb;
		bool jl_ok = false;

		if (bpf_prog_get_info_by_fd(r->fd, &info, &len)) {
			TFAIL(r, "info %d: %d", i, -errno);
			break;
		}
		xl = info.xlated_prog_len;
		jl = info.jited_prog_len;
		if (i & 1) { /* sized for the other code: cut short, or room to spare */
			int other = xl == shapes[0].xlen;

			xl = shapes[other].xlen;
			jl = shapes[other].jlens[0];
		}
		xb = malloc(xl + GUARD);
		jb = malloc(jl + GUARD);
		memset(xb, 0xa5, xl + GUARD);
		memset(jb, 0xa5, jl + GUARD);
		map_ids[1] = map_ids[2] = 0xa5a5a5a5;
		memset(&info, 0, sizeof(info));
		info.xlated_prog_len = xl;
		info.xlated_prog_insns = (__u64)(unsigned long)xb;
		info.jited_prog_len = jl;
		info.jited_prog_insns = (__u64)(unsigned long)jb;
		info.nr_jited_ksyms = 1;
		info.jited_ksyms = (__u64)(unsigned long)ksym;
		info.nr_jited_func_lens = 1;
		info.jited_func_lens = (__u64)(unsigned long)flen;
		info.nr_map_ids = 1;
		info.map_ids = (__u64)(unsigned long)map_ids;
		if (bpf_prog_get_info_by_fd(r->fd, &info, &len)) {
			TFAIL(r, "info %d with buffers: %d", i, -errno);
			goto next;
		}
		r->calls++;
		for (int k = 0; k < 2; k++)
			if (info.xlated_prog_len == shapes[k].xlen)
				s = &shapes[k];
		if (!s) {
			TFAIL(r, "call %d: xlated_prog_len %u, want %u or %u", i,
			      info.xlated_prog_len, shapes[0].xlen, shapes[1].xlen);
			goto next;
		}
		for (__u32 k = 0; k < s->nr_jlens; k++)
			jl_ok |= info.jited_prog_len == s->jlens[k];
		if (!jl_ok) {
			TFAIL(r, "call %d: jited_prog_len %u with xlated_prog_len %u", i,
			      info.jited_prog_len, info.xlated_prog_len);
			goto next;
		}
		r->changed += xl != info.xlated_prog_len;
		if (!guard_ok(xb + xl) || !guard_ok(jb + jl) || flen[1] != 0xa5a5a5a5 ||
		    ksym[1] != 0xa5a5a5a5a5a5a5a5ULL || map_ids[1] != 0xa5a5a5a5) {
			TFAIL(r, "call %d: written past a buffer (xlated %u -> %u, jited %u -> %u)",
			      i, xl, info.xlated_prog_len, jl, info.jited_prog_len);
			goto next;
		}
		if (memcmp(xb, s->xlated, xl < s->xlen ? xl : s->xlen)) {
			TFAIL(r, "call %d: xlated dump is not that of the code of its length", i);
			goto next;
		}
		if (info.nr_jited_ksyms != 1 || !ksym[0] || info.nr_jited_func_lens != 1 ||
		    flen[0] != info.jited_prog_len || info.nr_map_ids != 1) {
			TFAIL(r, "call %d: %u ksyms (%#llx), %u func lens (%u of %u), %u maps", i,
			      info.nr_jited_ksyms, (unsigned long long)ksym[0],
			      info.nr_jited_func_lens, flen[0], info.jited_prog_len,
			      info.nr_map_ids);
		}
next:
		free(xb);
		free(jb);
		if (r->why[0])
			break;
	}
	return NULL;
}

struct walker {
	int n;
	long walks, progs, vanished;
	pthread_t t;
	char why[256];
};

static void *walk_thread(void *arg)
{
	struct walker *w = arg;

	for (int i = 0; i < w->n; i++) {
		__u32 id = 0;
		bool found = false;

		while (!bpf_prog_get_next_id(id, &id)) {
			struct bpf_prog_info info;
			int fd = bpf_prog_get_fd_by_id(id);

			if (fd < 0) {
				if (errno != ENOENT)
					TFAIL(w, "get fd of id %u: %d", id, -errno);
				w->vanished++;
				continue;
			}
			if (prog_info(fd, &info) || info.id != id)
				TFAIL(w, "id %u: info %d, id %u", id, -errno, info.id);
			found |= id == info_prog_id;
			w->progs++;
			close(fd);
		}
		if (errno != ENOENT)
			TFAIL(w, "next id after %u: %d", id, -errno);
		if (!found)
			TFAIL(w, "walk %d: program %u not found", i, info_prog_id);
		w->walks++;
		if (w->why[0])
			break;
	}
	return NULL;
}

struct shower {
	int n, ok;
	pthread_t t;
	char why[256];
};

static void *bpftool_thread(void *arg)
{
	struct shower *s = arg;
	char cmd[128], out[512], want[32];

	snprintf(cmd, sizeof(cmd), "bpftool prog show id %u 2>&1", info_prog_id);
	snprintf(want, sizeof(want), "%u: xdp", info_prog_id);
	for (int i = 0; i < s->n; i++) {
		FILE *p = popen(cmd, "r");
		size_t len = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
		int status = p ? pclose(p) : -1;

		out[len] = 0;
		if (status || strncmp(out, want, strlen(want))) {
			TFAIL(s, "%s: status %d: %s", cmd, status, out);
			break;
		}
		s->ok++;
	}
	return NULL;
}

static int test_info_readers(void)
{
	int fd = prog_fd("xdp_pass"), err = 0;
	struct reader r[2];
	struct walker w = { .n = n_of(8) };
	struct shower sh = { .n = 1 };
	struct bpf_prog_info info;
	struct code a, c;
	struct flipper f;

	/* a: xdp_pass; c: xdp_drop with 8 instructions more in front */
	ASSERT(!code_get(fd, 0, false, &a) && !code_get(prog_fd("xdp_drop"), 8, false, &c),
	       "code");
	for (int i = 0; i < 3; i++) {
		ASSERT(!rejit(fd, &c) && !shape_add(fd, &shapes[1]), "to c: %s", log_buf);
		ASSERT(!rejit(fd, &a) && !shape_add(fd, &shapes[0]), "to a: %s", log_buf);
	}
	ASSERT(shapes[0].xlen != shapes[1].xlen, "same xlated length %u", shapes[0].xlen);
	ASSERT(!prog_info(fd, &info), "info");
	info_prog_id = info.id;
	flip_start(&f, fd, &a, &c);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct reader){ .fd = fd, .n = n_of(120) };
		pthread_create(&r[i].t, NULL, reader_thread, &r[i]);
	}
	pthread_create(&w.t, NULL, walk_thread, &w);
	pthread_create(&sh.t, NULL, bpftool_thread, &sh);
	for (int i = 0; i < 2; i++) {
		pthread_join(r[i].t, NULL);
		if (!CHECK(!r[i].why[0], "reader %d: %s", i, r[i].why))
			err = 1;
	}
	pthread_join(w.t, NULL);
	pthread_join(sh.t, NULL);
	if (flip_stop(&f))
		err = 1;
	printf("  info_readers: %ld re-JITs (xlated %u/%u bytes, jited %u/%u), 2 readers x %d "
	       "calls (%ld + %ld sized for other code than they read), %ld id walks "
	       "over %ld programs (%ld vanished mid-walk), %d bpftool prog show\n",
	       f.rejits, shapes[0].xlen, shapes[1].xlen, shapes[0].jlens[0], shapes[1].jlens[0],
	       r[0].n, r[0].changed, r[1].changed, w.walks, w.progs, w.vanished, sh.ok);
	ASSERT(!w.why[0], "walker: %s", w.why);
	ASSERT(!sh.why[0], "bpftool: %s", sh.why);
	ASSERT(r[0].calls + r[1].calls == r[0].n + r[1].n, "reader calls %ld + %ld", r[0].calls,
	       r[1].calls);
	code_free(&a);
	code_free(&c);
	return err ? -1 : 0;
}

/* lines "addr t name\t[bpf]" in /proc/kallsyms, as the script counts them */
static int bpf_syms(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, "\t[bpf]\n") != NULL;
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	char path[512];
	int err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJ_DIR [scale%%]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		scale = atoi(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "%s/rejit.bpf.o", argv[1]);
	snprintf(on_prog_path, sizeof(on_prog_path), "%s/rejit_on_prog.bpf.o", argv[1]);

	obj = bpf_object__open_file(path, NULL);
	err = libbpf_get_error(obj);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "loading %s: %d\n", path, err);
		return 1;
	}
	counters_fd = bpf_object__find_map_fd_by_name(obj, "counters");
	jmp_fd = bpf_object__find_map_fd_by_name(obj, "jmp");
	{ /* .bss: target_tgid, so that only our own syscalls are counted */
		__u32 zero = 0, tgid = getpid();

		bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, ".bss")),
				    &zero, &tgid, BPF_ANY);
	}

	printf("  %d BPF symbols in /proc/kallsyms with rejit.bpf.o loaded\n", bpf_syms());
	run("attach_detach", test_attach_detach);
	run("close_in_flight", test_close_in_flight);
	run("prog_array", test_prog_array);
	run("trampoline", test_trampoline);
	run("two_rejiters", test_two_rejiters);
	run("info_readers", test_info_readers);

	bpf_object__close(obj);
	printf("rejit_races: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
