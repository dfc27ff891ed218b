// SPDX-License-Identifier: GPL-2.0
/* BPF_PROG_REJIT tests, run inside the VM on the patched kernel.
 *
 * Each case attaches or runs a real program, re-JITs it with bytecode that
 * behaves observably differently (the original bytecode of a sibling
 * program, fetched from the kernel), drives real events and checks the
 * new behaviour, then switches back. Failure cases check the errno and
 * that the old code still runs.
 *
 *   test_rejit OBJ [stress-rejits]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/audit.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "harness.h"
#include "rejit_util.h"

/* linux/filter.h's instruction macros are not UAPI */
#define BPF_MOV64_IMM(DST, IMM)                                                \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = DST, .imm = IMM })
#define BPF_EXIT_INSN() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })



/* keys of the "counters" map, as in progs/rejit.bpf.c */
enum {
	TP_EVENTS, XDP_PACKETS, KPROBE_EVENTS, RAW_TP_EVENTS,
	FENTRY_EVENTS, FEXIT_EVENTS, FENTRY_S_EVENTS, TC_PACKETS, CGROUP_PACKETS,
};

static struct bpf_object *obj;
static int counters_fd, jmp_fd;

static int prog_fd(const char *name)
{
	return bpf_program__fd(bpf_object__find_program_by_name(obj, name));
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
	return bpf_prog_get_info_by_fd(fd, info, &len);
}

static char log_buf[1 << 16];

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

/* Re-JIT @live_fd with the original code of @src_fd. */
static int rejit_from(int live_fd, int src_fd)
{
	struct code c;
	int err = code_of(src_fd, &c);

	if (!err)
		err = rejit(live_fd, &c);
	code_free(&c);
	return err;
}

/* rejit_from() with the BTF of @src_fd too */
static int rejit_from_btf(int live_fd, int src_fd)
{
	struct code c;
	int err = code_of(src_fd, &c);

	if (!err)
		err = code_add_btf(src_fd, &c);
	if (!err)
		err = rejit(live_fd, &c);
	code_free(&c);
	return err;
}

static void getppid_n(int n)
{
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static int xdp_run(int fd, __u32 *retval)
{
	unsigned char pkt[64] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	int err = bpf_prog_test_run_opts(fd, &opts);

	*retval = opts.retval;
	return err;
}

/* ---- cases ---------------------------------------------------------- */

static int test_orig_insns(void)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, "xdp_pass");
	const struct bpf_insn *loaded = bpf_program__insns(p);
	__u32 n = bpf_program__insn_cnt(p);
	struct code c;
	int maps = 0;

	ASSERT(!code_of(bpf_program__fd(p), &c), "get orig insns");
	ASSERT(c.cnt == n, "orig has %u insns, loaded %u", c.cnt, n);
	for (__u32 i = 0; i < n; i++) {
		if (loaded[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    loaded[i].src_reg == BPF_PSEUDO_MAP_FD) {
			ASSERT(c.insns[i].src_reg == BPF_PSEUDO_MAP_IDX &&
				       c.insns[i].imm == 0,
			       "map ref at %u not normalised", i);
			maps++;
			i++;
			continue;
		}
		ASSERT(!memcmp(&loaded[i], &c.insns[i], sizeof(loaded[i])),
		       "insn %u differs from the loaded one", i);
	}
	ASSERT(maps == 1 && c.nr_maps == 1, "one map reference (%d, %u)", maps, c.nr_maps);
	code_free(&c);
	return 0;
}

static int test_test_run_switch(void)
{
	int fd = prog_fd("xdp_pass"), stats_fd;
	struct bpf_prog_info before, after;
	__u32 ret;

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	ASSERT(stats_fd >= 0, "enable stats");
	counter_reset(XDP_PACKETS);
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_PASS, "before: %u", ret);
	ASSERT(!prog_info(fd, &before), "info");

	ASSERT(!rejit_from(fd, prog_fd("xdp_drop")), "rejit to drop: %s", log_buf);
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_DROP, "after: %u", ret);
	ASSERT(!prog_info(fd, &after), "info");
	ASSERT(after.id == before.id, "id changed %u -> %u", before.id, after.id);
	ASSERT(after.run_cnt == before.run_cnt + 1, "run_cnt %llu -> %llu",
	       before.run_cnt, after.run_cnt);
	ASSERT(memcmp(after.tag, before.tag, sizeof(after.tag)),
	       "tag should describe the new code");
	ASSERT(after.nr_map_ids == 1, "new code uses one map");
	ASSERT(after.rejit_cnt == before.rejit_cnt + 1, "rejit_cnt %u -> %u",
	       before.rejit_cnt, after.rejit_cnt);
	ASSERT(after.rejit_time > after.load_time, "rejit_time %llu, load_time %llu",
	       after.rejit_time, after.load_time);

	ASSERT(!rejit_from(fd, fd), "rejit back to original: %s", log_buf);
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_PASS, "restored: %u", ret);
	ASSERT(counter(XDP_PACKETS) == 3, "packets %llu", counter(XDP_PACKETS));
	close(stats_fd);
	return 0;
}

/* Attach @one (adds 1 per getppid), re-JIT it with @hundred's code (adds
 * 100), then back: the counter must show exactly which code saw each call.
 */
static int switch_on_getppid(const char *one, const char *hundred, __u32 key)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, one);
	struct bpf_link *link = bpf_program__attach(p);
	int fd = bpf_program__fd(p);
	__u64 v;

	ASSERT(link, "attach %s: %d", one, -errno);
	counter_reset(key);
	getppid_n(10);
	v = counter(key);
	ASSERT(v == 10, "before: %llu", v);

	ASSERT(!rejit_from(fd, prog_fd(hundred)), "rejit: %s", log_buf);
	getppid_n(10);
	v = counter(key);
	ASSERT(v == 10 + 1000, "after: %llu", v);

	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	getppid_n(10);
	v = counter(key);
	ASSERT(v == 1020, "restored: %llu", v);
	bpf_link__destroy(link);
	return 0;
}

static int test_tracepoint(void)
{
	return switch_on_getppid("tp_add1", "tp_add100", TP_EVENTS);
}

static int test_kprobe(void)
{
	return switch_on_getppid("kp_add1", "kp_add100", KPROBE_EVENTS);
}

static int test_raw_tp(void)
{
	return switch_on_getppid("raw_add1", "raw_add100", RAW_TP_EVENTS);
}

/* Trampolines call the load-time image, whose entry jumps to the code. */
static int test_fentry(void)
{
	return switch_on_getppid("fe_add1", "fe_add100", FENTRY_EVENTS);
}

static int test_fexit(void)
{
	return switch_on_getppid("fx_add1", "fx_add100", FEXIT_EVENTS);
}

static int test_fentry_sleepable(void)
{
	return switch_on_getppid("fs_add1", "fs_add100", FENTRY_S_EVENTS);
}

/* A trampoline made after the re-JIT runs the new code too. */
static int test_fentry_attach_after_rejit(void)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, "fe_add1");
	int fd = bpf_program__fd(p);
	struct bpf_link *link;
	__u64 v;

	ASSERT(!rejit_from(fd, prog_fd("fe_add100")), "rejit: %s", log_buf);
	link = bpf_program__attach(p);
	ASSERT(link, "attach after rejit: %d", -errno);
	counter_reset(FENTRY_EVENTS);
	getppid_n(10);
	v = counter(FENTRY_EVENTS);
	ASSERT(v == 1000, "new code through a new trampoline: %llu", v);
	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	getppid_n(10);
	v = counter(FENTRY_EVENTS);
	ASSERT(v == 1010, "restored: %llu", v);
	bpf_link__destroy(link);
	return 0;
}

/* A socket filter on the receiving end of a datagram socket pair. */
static int test_socket_filter(void)
{
	int fd = prog_fd("sock_accept"), sv[2];
	char buf[16];

	ASSERT(!socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "socketpair");
	ASSERT(!setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_BPF, &fd, sizeof(fd)), "attach");
	ASSERT(send(sv[0], "a", 1, 0) == 1 && recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 1,
	       "accepting");
	ASSERT(!rejit_from(fd, prog_fd("sock_drop")), "rejit to drop: %s", log_buf);
	ASSERT(send(sv[0], "b", 1, 0) == 1 && recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
		       errno == EAGAIN,
	       "dropping");
	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	ASSERT(send(sv[0], "c", 1, 0) == 1 && recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 1 &&
		       buf[0] == 'c',
	       "accepting again");
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* A program that tail-calls: its replacement's direct jump follows slot
 * updates made after the re-JIT.
 */
static int test_tail_call_caller(void)
{
	int fd = prog_fd("xdp_tail"), pass = prog_fd("xdp_pass"), drop = prog_fd("xdp_drop");
	int key = 0;
	__u32 ret;

	ASSERT(!bpf_map_update_elem(jmp_fd, &key, &pass, BPF_ANY), "slot = pass");
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_PASS, "before: %u", ret);
	ASSERT(!rejit_from(fd, fd), "rejit caller: %s", log_buf);
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_PASS, "after re-JIT: %u", ret);
	ASSERT(!bpf_map_update_elem(jmp_fd, &key, &drop, BPF_ANY), "slot = drop");
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_DROP, "slot update seen: %u", ret);
	ASSERT(!bpf_map_delete_elem(jmp_fd, &key), "empty slot");
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_ABORTED, "empty slot falls through: %u", ret);
	return 0;
}

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A veth pair rj0 / rj1, the peer in namespace rj. */
static int veth_up(void)
{
	return sh("ip netns add rj && ip link add rj0 type veth peer name rj1 netns rj &&"
		  "ip addr add 10.203.0.1/24 dev rj0 && ip link set rj0 up &&"
		  "ip -n rj addr add 10.203.0.2/24 dev rj1 && ip -n rj link set rj1 up");
}

static void veth_down(void)
{
	sh("ip link del rj0; ip netns del rj");
}

static bool pings(void)
{
	return !sh("ip netns exec rj ping -c 3 -i 0.1 -W 1 -q 10.203.0.1 >/dev/null");
}

/* Real packets through @fd, attached on the way in of rj0 and counting in
 * @key: pings pass, are dropped once @fd is re-JITed with @drop_fd's code,
 * pass again once it is back to its own.
 */
static int pings_switch(int fd, int drop_fd, __u32 key)
{
	__u64 seen;
	bool ok;

	counter_reset(key);
	ok = pings();
	seen = counter(key);
	ASSERT(ok && seen >= 3, "passing: ping ok=%d, seen %llu", ok, seen);

	ASSERT(!rejit_from(fd, drop_fd), "rejit to drop: %s", log_buf);
	ok = pings();
	ASSERT(!ok && counter(key) >= seen + 3, "dropping: ping ok=%d, seen %llu", ok,
	       counter(key));

	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	ASSERT(pings(), "passing again");
	return 0;
}

static int test_xdp_veth(void)
{
	int fd = prog_fd("xdp_pass"), ifindex, err = -1;

	ASSERT(!veth_up(), "veth setup");
	ifindex = if_nametoindex("rj0");
	if (CHECK(!bpf_xdp_attach(ifindex, fd, 0, NULL), "attach xdp: %d", -errno)) {
		err = pings_switch(fd, prog_fd("xdp_drop"), XDP_PACKETS);
		bpf_xdp_detach(ifindex, 0, NULL);
	}
	veth_down();
	return err;
}

/* The same with a TC (sched_cls) program at rj0's ingress. */
static int test_tc_veth(void)
{
	int fd = prog_fd("tc_pass"), err = -1;

	ASSERT(!veth_up(), "veth setup");
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = if_nametoindex("rj0"),
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = fd);
	if (CHECK(!bpf_tc_hook_create(&hook) && !bpf_tc_attach(&hook, &tc), "attach tc: %d",
		  -errno))
		err = pings_switch(fd, prog_fd("tc_drop"), TC_PACKETS);
	bpf_tc_hook_destroy(&hook);
	veth_down();
	return err;
}

/* One UDP datagram to the loopback from this process; 0 if it was sent. */
static int udp_send_one(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_DGRAM, 0), err;

	err = s < 0 || sendto(s, "x", 1, 0, (void *)&a, sizeof(a)) != 1 ? -errno : 0;
	if (s >= 0)
		close(s);
	return err;
}

/* Datagrams through cgroup_skb program @fd: allowed, refused (EPERM)
 * after the re-JIT, allowed again.
 */
static int cgroup_skb_switch(int fd)
{
	int err;

	counter_reset(CGROUP_PACKETS);
	ASSERT(!udp_send_one() && counter(CGROUP_PACKETS) == 1, "allowed: %llu",
	       counter(CGROUP_PACKETS));
	ASSERT(!rejit_from(fd, prog_fd("cg_drop")), "rejit to drop: %s", log_buf);
	err = udp_send_one();
	ASSERT(err == -EPERM && counter(CGROUP_PACKETS) == 2, "refused: %d, %llu", err,
	       counter(CGROUP_PACKETS));
	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	ASSERT(!udp_send_one() && counter(CGROUP_PACKETS) == 3, "allowed again: %llu",
	       counter(CGROUP_PACKETS));
	return 0;
}

/* cgroup_skb egress on a cgroup this process moves into for the test */
static int test_cgroup_skb(void)
{
	int fd = prog_fd("cg_pass"), cg, err = -1;

	ASSERT(!sh("mkdir -p /tmp/rejit-cg && mount -t cgroup2 none /tmp/rejit-cg &&"
		   "mkdir /tmp/rejit-cg/rejit && echo %d > /tmp/rejit-cg/rejit/cgroup.procs",
		   getpid()),
	       "cgroup v2 setup");
	cg = open("/tmp/rejit-cg/rejit", O_RDONLY | O_DIRECTORY);
	if (CHECK(cg >= 0 && !bpf_prog_attach(fd, cg, BPF_CGROUP_INET_EGRESS, 0),
		  "attach: %d", -errno)) {
		err = cgroup_skb_switch(fd);
		bpf_prog_detach2(fd, cg, BPF_CGROUP_INET_EGRESS);
	}
	if (cg >= 0)
		close(cg);
	sh("echo %d > /tmp/rejit-cg/cgroup.procs; rmdir /tmp/rejit-cg/rejit;"
	   "umount /tmp/rejit-cg", getpid());
	return err;
}

/* After a re-JIT with code that uses other maps, map_ids describes the
 * running code and orig_map_ids still the original bytecode's maps.
 */
static int test_orig_map_ids(void)
{
	int fd = prog_fd("xdp_pass"), counters_id, jmp_id;
	__u32 ids[4], orig_ids[4], len = sizeof(struct bpf_prog_info), ret;
	struct bpf_prog_info info = {};
	struct bpf_map_info minfo = {};
	__u32 mlen = sizeof(minfo);

	ASSERT(!bpf_map_get_info_by_fd(counters_fd, &minfo, &mlen), "map info");
	counters_id = minfo.id;
	ASSERT(!bpf_map_get_info_by_fd(jmp_fd, &minfo, &mlen), "map info");
	jmp_id = minfo.id;

	ASSERT(!rejit_from(fd, prog_fd("xdp_tail")), "rejit to tail caller: %s", log_buf);
	info.nr_map_ids = 4;
	info.map_ids = (__u64)(unsigned long)ids;
	info.nr_orig_map_ids = 4;
	info.orig_map_ids = (__u64)(unsigned long)orig_ids;
	ASSERT(!bpf_prog_get_info_by_fd(fd, &info, &len), "info");
	ASSERT(info.nr_map_ids == 1 && ids[0] == (__u32)jmp_id, "map_ids: %u maps, [0]=%u",
	       info.nr_map_ids, ids[0]);
	ASSERT(info.nr_orig_map_ids == 1 && orig_ids[0] == (__u32)counters_id,
	       "orig_map_ids: %u maps, [0]=%u", info.nr_orig_map_ids, orig_ids[0]);
	ASSERT(!rejit_from(fd, fd), "back to the original: %s", log_buf);
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_PASS, "restored: %u", ret);
	return 0;
}

/* A tail call target: callers with a direct jump (constant key, poked into
 * their image) and with an indirect one both reach the new code, also
 * through a slot filled after the re-JIT.
 */
static int test_tail_call_target(void)
{
	int fd = prog_fd("xdp_pass"), direct = prog_fd("xdp_tail"),
	    indirect = prog_fd("xdp_tail_var"), key = 0;
	__u32 ret = 0, ret2 = 0;

	ASSERT(!bpf_map_update_elem(jmp_fd, &key, &fd, BPF_ANY), "slot = target");
	ASSERT(!xdp_run(direct, &ret) && ret == XDP_PASS && !xdp_run(indirect, &ret2) &&
		       ret2 == XDP_PASS,
	       "before: %u %u", ret, ret2);
	ASSERT(!rejit_from(fd, prog_fd("xdp_drop")), "rejit target: %s", log_buf);
	ASSERT(!xdp_run(direct, &ret) && ret == XDP_DROP, "direct tail call: %u", ret);
	ASSERT(!xdp_run(indirect, &ret) && ret == XDP_DROP, "indirect tail call: %u", ret);
	ASSERT(!xdp_run(fd, &ret) && ret == XDP_DROP, "the target itself: %u", ret);
	ASSERT(!bpf_map_delete_elem(jmp_fd, &key), "empty slot");
	ASSERT(!xdp_run(direct, &ret) && ret == XDP_ABORTED, "empty slot: %u", ret);
	ASSERT(!bpf_map_update_elem(jmp_fd, &key, &fd, BPF_ANY), "slot filled after re-JIT");
	ASSERT(!xdp_run(direct, &ret) && ret == XDP_DROP, "new slot, direct: %u", ret);
	ASSERT(!xdp_run(indirect, &ret) && ret == XDP_DROP, "new slot, indirect: %u", ret);
	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	ASSERT(!xdp_run(direct, &ret) && ret == XDP_PASS && !xdp_run(indirect, &ret2) &&
		       ret2 == XDP_PASS,
	       "back: %u %u", ret, ret2);
	ASSERT(!bpf_map_delete_elem(jmp_fd, &key), "prog_array delete");
	return 0;
}

/* ---- programs attached to programs (rejit_on_prog.bpf.c) ------------- */
/* libbpf finds the target function in the BTF the target program reports,
 * that of its current code: these re-JITs pass it along (rejit_from_btf).
 */

static char on_prog_path[512], ca_path[512];

/* rejit_on_prog.bpf.o with only the programs in @names (space-separated)
 * loaded, attached to function @func of program @tgt_fd.
 */
static struct bpf_object *load_on_prog(int tgt_fd, const char *func, const char *names)
{
	struct bpf_object *o = bpf_object__open_file(on_prog_path, NULL);
	struct bpf_program *p;
	char want[64];
	int err;

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
	err = errno;
	bpf_object__close(o);
	errno = err;
	return NULL;
}

static int on_prog_fd(struct bpf_object *o, const char *name)
{
	return bpf_program__fd(bpf_object__find_program_by_name(o, name));
}

static struct bpf_link *attach_by_name(struct bpf_object *o, const char *name)
{
	return bpf_program__attach(bpf_object__find_program_by_name(o, name));
}

/* keys of the "hits" map of rejit_on_prog.bpf.c */
enum { ON_ENTRY, ON_EXIT, LAST_RET };

static __u64 hit(struct bpf_object *o, __u32 key)
{
	__u64 v = ~0ULL;

	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(o, "hits"), &key, &v);
	return v;
}

/* Run @fd @n times; 0 if it returned @want every time. */
static int xdp_runs(int fd, int n, __u32 want)
{
	__u32 ret;

	for (int i = 0; i < n; i++)
		if (xdp_run(fd, &ret) || ret != want)
			return -1;
	return 0;
}

/* Run @tgt @n times, returning @ret; then the tracers in @o must have
 * counted @entries and @exits in all and seen @ret last.
 */
static int traced_runs(int tgt, struct bpf_object *o, int n, __u32 ret, __u64 entries,
		       __u64 exits)
{
	ASSERT(!xdp_runs(tgt, n, ret), "%d runs returning %u", n, ret);
	ASSERT(hit(o, ON_ENTRY) == entries && hit(o, ON_EXIT) == exits && hit(o, LAST_RET) == ret,
	       "entries %llu (want %llu), exits %llu (want %llu), last return %llu (want %u)",
	       hit(o, ON_ENTRY), entries, hit(o, ON_EXIT), exits, hit(o, LAST_RET), ret);
	return 0;
}

/* Both ends of a trampoline on a BPF program: the fentry and fexit programs
 * attached to xdp_tgt are re-JITed, then xdp_tgt under them; fexit sees
 * the return value of whichever code runs.
 */
static int test_fentry_fexit_on_prog(void)
{
	int tgt = prog_fd("xdp_tgt");
	struct bpf_object *o = load_on_prog(tgt, "xdp_tgt", " entry1 entry100 exit1 exit100 ");
	struct bpf_link *le, *lx;

	ASSERT(o, "load tracers of xdp_tgt: %d", -errno);
	le = attach_by_name(o, "entry1");
	lx = attach_by_name(o, "exit1");
	ASSERT(le && lx, "attach: %d", -errno);
	ASSERT(!traced_runs(tgt, o, 10, XDP_PASS, 10, 10), "before");

	ASSERT(!rejit_from_btf(on_prog_fd(o, "entry1"), on_prog_fd(o, "entry100")),
	       "rejit fentry on a program: %s", log_buf);
	ASSERT(!rejit_from_btf(on_prog_fd(o, "exit1"), on_prog_fd(o, "exit100")),
	       "rejit fexit on a program: %s", log_buf);
	ASSERT(!traced_runs(tgt, o, 10, XDP_PASS, 1010, 1010), "tracers re-JITed");

	ASSERT(!rejit_from_btf(tgt, prog_fd("xdp_drop")), "rejit traced program: %s", log_buf);
	ASSERT(!traced_runs(tgt, o, 10, XDP_DROP, 2010, 2010), "traced program re-JITed");

	ASSERT(!rejit_from_btf(on_prog_fd(o, "entry1"), on_prog_fd(o, "entry1")) &&
		       !rejit_from_btf(on_prog_fd(o, "exit1"), on_prog_fd(o, "exit1")) &&
		       !rejit_from_btf(tgt, tgt),
	       "rejit all back: %s", log_buf);
	ASSERT(!traced_runs(tgt, o, 10, XDP_PASS, 2020, 2020), "back");
	bpf_link__destroy(le);
	bpf_link__destroy(lx);
	bpf_object__close(o);
	return 0;
}

/* Tracers loaded against a program that is already re-JITed, as bpftool
 * prog profile does: they see its current code.
 */
static int test_fentry_on_rejited_prog(void)
{
	int tgt = prog_fd("xdp_tgt");
	struct bpf_object *o;
	struct bpf_link *le, *lx;

	ASSERT(!rejit_from_btf(tgt, prog_fd("xdp_drop")), "rejit: %s", log_buf);
	o = load_on_prog(tgt, "xdp_tgt", " entry1 exit1 ");
	ASSERT(o, "load tracers of a re-JITed program: %d", -errno);
	le = attach_by_name(o, "entry1");
	lx = attach_by_name(o, "exit1");
	ASSERT(le && lx, "attach: %d", -errno);
	ASSERT(!traced_runs(tgt, o, 10, XDP_DROP, 10, 10), "re-JITed code runs, traced");
	ASSERT(!rejit_from_btf(tgt, tgt), "rejit back under the tracers: %s", log_buf);
	ASSERT(!traced_runs(tgt, o, 10, XDP_PASS, 20, 20), "back");
	bpf_link__destroy(le);
	bpf_link__destroy(lx);
	bpf_object__close(o);
	return 0;
}

/* freplace of a re-JITed program, re-JIT of the extension, and of the
 * program while it is replaced.
 */
static int test_freplace(void)
{
	int tgt = prog_fd("xdp_tgt");
	struct bpf_object *o;
	struct bpf_link *link;

	ASSERT(!rejit_from_btf(tgt, prog_fd("xdp_drop")), "rejit target: %s", log_buf);
	o = load_on_prog(tgt, "xdp_tgt", " ext_tx ext_aborted ");
	ASSERT(o, "load extensions of a re-JITed program: %d", -errno);
	link = bpf_program__attach_freplace(bpf_object__find_program_by_name(o, "ext_tx"), tgt,
					    "xdp_tgt");
	ASSERT(link, "attach freplace: %d", -errno);
	ASSERT(!xdp_runs(tgt, 3, XDP_TX), "replaced");
	ASSERT(!rejit_from_btf(on_prog_fd(o, "ext_tx"), on_prog_fd(o, "ext_aborted")),
	       "rejit the extension: %s", log_buf);
	ASSERT(!xdp_runs(tgt, 3, XDP_ABORTED), "extension re-JITed");
	ASSERT(!rejit_from_btf(tgt, tgt), "rejit the replaced program: %s", log_buf);
	ASSERT(!xdp_runs(tgt, 3, XDP_ABORTED), "still replaced");
	bpf_link__destroy(link);
	ASSERT(!xdp_runs(tgt, 3, XDP_PASS), "extension detached: the program's current code");
	bpf_object__close(o);
	return 0;
}

/* rejit_from_btf(@fd, @fd), waiting out trampolines still being freed */
static int rejit_self_settled(int fd)
{
	int err, i;

	for (i = 0; (err = rejit_from_btf(fd, fd)) == -EOPNOTSUPP && i < 50; i++)
		usleep(100 * 1000);
	return err;
}

/* Only the main function of a re-JITed program is still called: tracing
 * another one is refused, at attach and at re-JIT.
 */
static int test_trace_sub_function(void)
{
	int tgt = prog_fd("xdp_tgt_sub"), err;
	struct bpf_object *o = load_on_prog(tgt, "tgt_sub", " entry1 ");
	libbpf_print_fn_t print;
	struct bpf_link *link;

	ASSERT(o, "load fentry on tgt_sub: %d", -errno);
	link = attach_by_name(o, "entry1");
	ASSERT(link, "attach: %d", -errno);
	err = rejit_from_btf(tgt, tgt);
	ASSERT(err == -EOPNOTSUPP, "rejit with a traced sub-function: %d", err);
	ASSERT(strstr(log_buf, "one of its subprograms"), "log: %s", log_buf);
	ASSERT(!xdp_runs(tgt, 2, XDP_PASS) && hit(o, ON_ENTRY) == 2, "still traced: %llu",
	       hit(o, ON_ENTRY));
	bpf_link__destroy(link);
	bpf_object__close(o);

	ASSERT(!rejit_self_settled(tgt), "rejit once untraced: %s", log_buf);
	/* expected to fail: without libbpf's report of it */
	print = libbpf_set_print(NULL);
	o = load_on_prog(tgt, "tgt_sub", " entry1 ");
	libbpf_set_print(print);
	ASSERT(!o && errno == EOPNOTSUPP, "fentry on a sub-function of a re-JITed program: %d",
	       -errno);
	o = load_on_prog(tgt, "xdp_tgt_sub", " entry1 ");
	ASSERT(o, "fentry on its main function: %d", -errno);
	link = attach_by_name(o, "entry1");
	ASSERT(link && !xdp_runs(tgt, 2, XDP_PASS) && hit(o, ON_ENTRY) == 2,
	       "main function traced: %llu", hit(o, ON_ENTRY));
	bpf_link__destroy(link);
	bpf_object__close(o);
	return 0;
}

/* A TCP connection set up with congestion control @ca (client side). */
static int tcp_connect_with(const char *ca)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = -1, s = -1;

	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &len))
		goto out;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, ca, strlen(ca)) ||
	    connect(c, (void *)&a, sizeof(a)))
		goto out;
	s = accept(l, NULL, NULL);
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	return s >= 0 ? 0 : -errno;
}

static int tcp_connects(const char *ca, int n)
{
	for (int i = 0; i < n; i++)
		if (tcp_connect_with(ca))
			return -errno;
	return 0;
}

/* struct_ops: the kernel calls the program through the struct_ops
 * trampoline, which holds the load-time image.
 */
static int test_struct_ops(void)
{
	struct bpf_object *o = bpf_object__open_file(ca_path, NULL);
	struct bpf_link *link = NULL;
	__u64 inits = 0;
	__u32 zero = 0;
	int fd, bss;

	ASSERT(o && !bpf_object__load(o), "load %s: %d", ca_path, -errno);
	link = bpf_map__attach_struct_ops(bpf_object__find_map_by_name(o, "rejit_ca1"));
	ASSERT(link, "register rejit_ca1: %d", -errno);
	fd = on_prog_fd(o, "ca1_init");
	bss = bpf_map__fd(bpf_object__find_map_by_name(o, ".bss"));
#define INITS() (bpf_map_lookup_elem(bss, &zero, &inits), inits)
	ASSERT(!tcp_connects("rejit_ca1", 3), "connect: %d", -errno);
	ASSERT(INITS() == 3, "before: %llu", inits);
	ASSERT(!rejit_from(fd, on_prog_fd(o, "ca100_init")), "rejit struct_ops: %s", log_buf);
	ASSERT(!tcp_connects("rejit_ca1", 3), "connect: %d", -errno);
	ASSERT(INITS() == 303, "after: %llu", inits);
	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	ASSERT(!tcp_connects("rejit_ca1", 3), "connect: %d", -errno);
	ASSERT(INITS() == 306, "back: %llu", inits);
#undef INITS
	bpf_link__destroy(link);
	bpf_object__close(o);
	return 0;
}

/* XDP: *(u64 *)(&value + 8) += 1, the value of one-element array @map. */
static int load_value_adder(int map, char *log, size_t log_size)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = map },
		{ .imm = 8 },
		BPF_MOV64_IMM(BPF_REG_2, 1),
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_REG_2, .imm = BPF_ADD },
		BPF_MOV64_IMM(BPF_REG_0, XDP_PASS),
		BPF_EXIT_INSN(),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = log_size,
		    .log_level = 1);

	log[0] = 0;
	return bpf_prog_load(BPF_PROG_TYPE_XDP, "pcpu_add", "GPL", insns, 6, &opts);
}

/*
 * A ld_imm64 of a one-element per-CPU array's value addresses the copy of
 * the CPU the program runs on (kernel patch 16): runs pinned to each CPU
 * count into that CPU's copy only, and the verifier added the per-CPU
 * offset instruction. A per-CPU array of two elements, and an offset past
 * the value, are refused.
 */
static int test_percpu_value(void)
{
	int cpus = libbpf_num_possible_cpus(), online = sysconf(_SC_NPROCESSORS_ONLN);
	int map = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pcpu", 4, 16, 1, NULL);
	int two = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pcpu2", 4, 16, 2, NULL);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), zero = 0;
	__u64 values[2 * 64] = {};
	unsigned char pkt[64] = {};
	int fd, cpu;

	ASSERT(map >= 0 && two >= 0 && cpus > 0 && cpus <= 64, "maps: %d %d, %d cpus", map,
	       two, cpus);
	fd = load_value_adder(map, log_buf, sizeof(log_buf));
	ASSERT(fd >= 0, "load: %d\n%s", -errno, log_buf);
	ASSERT(!bpf_prog_get_info_by_fd(fd, &info, &len), "info");
	ASSERT(info.xlated_prog_len / 8 == 7, "%u xlated insns, want 7 (the per-CPU offset added)",
	       info.xlated_prog_len / 8);
	for (cpu = 0; cpu < online && cpu < 2; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .repeat = 10 + 7 * cpu);
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		ASSERT(!sched_setaffinity(0, sizeof(set), &set), "pin to CPU %d", cpu);
		ASSERT(!bpf_prog_test_run_opts(fd, &run) && run.retval == XDP_PASS, "run");
	}
	{
		cpu_set_t all;

		CPU_ZERO(&all);
		for (cpu = 0; cpu < online; cpu++)
			CPU_SET(cpu, &all);
		sched_setaffinity(0, sizeof(all), &all);
	}
	ASSERT(!bpf_map_lookup_elem(map, &zero, values), "lookup");
	for (cpu = 0; cpu < cpus; cpu++) {
		__u64 want = cpu < online && cpu < 2 ? 10 + 7 * cpu : 0;

		ASSERT(values[2 * cpu] == 0 && values[2 * cpu + 1] == want,
		       "CPU %d: %llu %llu, want 0 %llu", cpu, values[2 * cpu], values[2 * cpu + 1],
		       want);
	}
	printf("  per-CPU value: %d CPUs ran, each counted into its own copy\n",
	       online < 2 ? online : 2);
	close(fd);

	fd = load_value_adder(two, log_buf, sizeof(log_buf));
	ASSERT(fd < 0 && strstr(log_buf, "invalid access to map value pointer"),
	       "two elements: %d\n%s", fd, log_buf);
	close(two);
	close(map);
	map = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pcpu8", 4, 8, 1, NULL);
	fd = load_value_adder(map, log_buf, sizeof(log_buf)); /* offset 8 of 8 bytes */
	ASSERT(fd < 0 && strstr(log_buf, "invalid access to map value pointer"),
	       "offset past the value: %d\n%s", fd, log_buf);
	close(map);
	return 0;
}

static int test_failures(void)
{
	struct bpf_insn bad[] = {
		BPF_EXIT_INSN(), /* R0 never written */
	};
	struct bpf_insn ok[] = { BPF_MOV64_IMM(BPF_REG_0, XDP_DROP), BPF_EXIT_INSN() };
	int fd = prog_fd("xdp_pass"), map_fd_as_prog = counters_fd;
	union bpf_attr attr;
	struct code c;
	__u32 ret;
	int err;

	ASSERT(!code_of(prog_fd("xdp_drop"), &c), "code");

	struct code v = { .insns = bad, .cnt = 1 };
	err = rejit(fd, &v);
	ASSERT(err == -EACCES, "verifier reject: %d", err);
	ASSERT(strstr(log_buf, "R0 !read_ok"), "log: %s", log_buf);

	ASSERT(bpf_prog_rejit(fd, ok, 0, NULL) == -EINVAL, "zero insns");
	ASSERT(bpf_prog_rejit(9999, ok, 2, NULL) == -EBADF, "bad prog fd");
	ASSERT(bpf_prog_rejit(map_fd_as_prog, ok, 2, NULL) == -EINVAL, "map fd as prog");

	/* c owns its map fds: swap bad ones in, then put the map back */
	int map_fd = c.fds[0], wrong, badfd;

	c.fds[0] = fd; /* a prog fd where the map should be */
	wrong = rejit(fd, &c);
	c.fds[0] = -1;
	badfd = rejit(fd, &c);
	c.fds[0] = map_fd;
	code_free(&c);
	ASSERT(wrong == -EINVAL, "wrong fd in fd_array: %d", wrong);
	ASSERT(badfd == -EBADF, "bad fd in fd_array: %d", badfd);

	memset(&attr, 0, sizeof(attr));
	attr.rejit_prog_fd = fd;
	attr.insns = (__u64)(unsigned long)ok;
	attr.insn_cnt = 2;
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	err = syscall(__NR_bpf, BPF_PROG_REJIT, &attr, sizeof(attr)) ? -errno : 0;
	ASSERT(err == -EINVAL, "prog_type set: %d", err);
	attr.prog_type = 0;
	attr.prog_flags = BPF_F_SLEEPABLE;
	err = syscall(__NR_bpf, BPF_PROG_REJIT, &attr, sizeof(attr)) ? -errno : 0;
	ASSERT(err == -EINVAL, "sleepable flag: %d", err);
	attr.prog_flags = 0;
	attr.insn_cnt = 2000000;
	err = syscall(__NR_bpf, BPF_PROG_REJIT, &attr, sizeof(attr)) ? -errno : 0;
	ASSERT(err == -E2BIG, "oversize: %d", err);

	ASSERT(!xdp_run(fd, &ret) && ret == XDP_PASS, "old code still runs: %u", ret);
	return 0;
}

/* Turn the kernel's audit on or off (AUDIT_SET over netlink, as auditctl
 * -e does); 0 or -errno.
 */
static int audit_set(int enabled)
{
	struct {
		struct nlmsghdr nh;
		struct audit_status s;
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct audit_status)),
		.nh.nlmsg_type = AUDIT_SET,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.s.mask = AUDIT_STATUS_ENABLED,
		.s.enabled = enabled,
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char ack[256];
	int fd, err = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    recv(fd, ack, sizeof(ack), 0) < 0)
		err = -errno;
	else if (((struct nlmsghdr *)ack)->nlmsg_type == NLMSG_ERROR)
		err = ((struct nlmsgerr *)NLMSG_DATA(ack))->error;
	close(fd);
	return err;
}

/* A re-JIT leaves an audit record, like a load: with no audit daemon,
 * kauditd prints it to the kernel log.
 */
/* ---- perf ksymbol records ------------------------------------------- */

#define PERF_PAGES 8 /* data pages of the ring buffer, a power of 2 */

/* ksymbol records only */
static struct perf_event_attr ksym_attr = {
	.type = PERF_TYPE_SOFTWARE,
	.config = PERF_COUNT_SW_DUMMY,
	.size = sizeof(ksym_attr),
	.ksymbol = 1,
};

struct ksym_rec {
	__u64 addr;
	__u32 len;
	__u16 type, flags;
	char name[];
};

/* The address of @fd's current image, as bpf_prog_info reports it. */
static __u64 jited_addr(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	__u64 addr = 0;

	info.nr_jited_ksyms = 1;
	info.jited_ksyms = (__u64)(unsigned long)&addr;
	return bpf_prog_get_info_by_fd(fd, &info, &len) ? 0 : addr;
}

/* The ksymbol records for @addr (@unregister or not) named after a
 * program whose name has @name in the ring buffer @rb.
 */
static int ksym_records(struct perf_event_mmap_page *rb, __u64 addr, bool unregister,
			const char *name)
{
	const size_t size = PERF_PAGES * getpagesize();
	const char *data = (const char *)rb + getpagesize();
	__u64 head = __atomic_load_n(&rb->data_head, __ATOMIC_ACQUIRE);
	char rec[512];
	int n = 0;

	for (__u64 at = rb->data_tail; at < head;) {
		struct perf_event_header *h = (void *)rec;
		struct ksym_rec *k = (void *)(h + 1);

		for (size_t i = 0; i < sizeof(*h); i++)
			rec[i] = data[(at + i) % size];
		for (size_t i = sizeof(*h); i < h->size && i < sizeof(rec); i++)
			rec[i] = data[(at + i) % size];
		if (h->type == PERF_RECORD_KSYMBOL && k->addr == addr &&
		    k->type == PERF_RECORD_KSYMBOL_TYPE_BPF &&
		    !!(k->flags & PERF_RECORD_KSYMBOL_FLAGS_UNREGISTER) == unregister &&
		    strstr(k->name, name))
			n++;
		at += h->size ?: sizeof(*h);
	}
	return n;
}

static bool ksym_seen(struct perf_event_mmap_page *rb, __u64 addr, bool unregister)
{
	return ksym_records(rb, addr, unregister, "_tp_add") > 0;
}

/* perf learns of each re-JIT's image (PERF_RECORD_KSYMBOL), and forgets
 * the one it replaces, so that samples in re-JITed code have a symbol.
 */
static int test_perf_ksymbol(void)
{
	int fd = prog_fd("tp_add1"), pfd;
	struct perf_event_mmap_page *rb;
	__u64 first, second;

	/* this task's events: the re-JITs below are made by it */
	pfd = syscall(__NR_perf_event_open, &ksym_attr, 0, -1, -1, 0);
	ASSERT(pfd >= 0, "perf_event_open: %d", -errno);
	rb = mmap(NULL, (PERF_PAGES + 1) * getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
		  pfd, 0);
	ASSERT(rb != MAP_FAILED, "mmap: %d", -errno);
	ASSERT(!rejit_from(fd, prog_fd("tp_add100")), "rejit: %s", log_buf);
	first = jited_addr(fd);
	ASSERT(first && ksym_seen(rb, first, false), "no ksymbol for the new image %#llx",
	       (unsigned long long)first);
	ASSERT(!rejit_from(fd, fd), "rejit back: %s", log_buf);
	second = jited_addr(fd);
	ASSERT(second && ksym_seen(rb, second, false), "no ksymbol for the second image");
	ASSERT(ksym_seen(rb, first, true), "the replaced image %#llx was not unregistered",
	       (unsigned long long)first);
	munmap(rb, (PERF_PAGES + 1) * getpagesize());
	close(pfd);
	return 0;
}

/* Is @addr a symbol in /proc/kallsyms? */
static bool in_kallsyms(__u64 addr)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	unsigned long long a;
	char line[512];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%llx", &a) == 1 && a == addr;
	if (f)
		fclose(f);
	return found;
}

/*
 * Replaced code that a bpf_timer still holds (its callback was set by that
 * code) is freed when the timer is: through the generic bpf_prog_put(),
 * which must treat it as replaced code. Its image is unregistered from perf
 * once (when it was replaced), not again when the timer lets go.
 */
static int test_timer_holds_replaced_code(void)
{
	int fd = prog_fd("xdp_timer"), map = bpf_object__find_map_fd_by_name(obj, "timers");
	int cpus = sysconf(_SC_NPROCESSORS_ONLN), pfd[16], n = 0, i, unreg = 0, err = -1;
	const size_t rb_size = (PERF_PAGES + 1) * getpagesize();
	struct perf_event_mmap_page *rb[16];
	struct timer_elem {
		__u64 opaque[2];
	} zero = {};
	__u32 key = 0, ret;
	__u64 held;

	ASSERT(map >= 0 && !bpf_map_update_elem(map, &key, &zero, BPF_ANY), "timers");
	/* on every CPU: the timer drops the code from a kworker */
	for (; n < cpus && n < 16; n++) {
		pfd[n] = syscall(__NR_perf_event_open, &ksym_attr, -1, n, -1, 0);
		rb[n] = pfd[n] < 0 ? MAP_FAILED :
				     mmap(NULL, rb_size, PROT_READ | PROT_WRITE, MAP_SHARED, pfd[n], 0);
		if (!CHECK(rb[n] != MAP_FAILED, "perf event on CPU %d: %d", n, -errno))
			goto out;
	}
	if (!CHECK(!rejit_from_btf(fd, fd), "rejit: %s", log_buf))
		goto out;
	held = jited_addr(fd);
	if (!CHECK(!xdp_run(fd, &ret) && ret == XDP_PASS, "run: %u", ret) ||
	    !CHECK(!rejit_from_btf(fd, fd), "rejit again: %s", log_buf) ||
	    !CHECK(in_kallsyms(held), "the replaced image went while the timer holds it") ||
	    !CHECK(!bpf_map_delete_elem(map, &key), "delete the timer: %d", -errno))
		goto out;
	/* the timer lets go of the code; it is freed after a grace period */
	for (i = 0; i < 500 && in_kallsyms(held); i++)
		usleep(10000);
	if (!CHECK(!in_kallsyms(held), "the replaced image is still in kallsyms"))
		goto out;
	for (i = 0; i < n; i++)
		unreg += ksym_records(rb[i], held, true, "xdp_timer");
	if (CHECK(unreg == 1, "the replaced image was unregistered %d times", unreg))
		err = 0;
out:
	while (n-- > 0) {
		if (rb[n] != MAP_FAILED)
			munmap(rb[n], rb_size);
		if (pfd[n] >= 0)
			close(pfd[n]);
	}
	return err ? -1 : 0;
}

static int test_audit(void)
{
	int fd = prog_fd("xdp_pass"), kmsg, found = 0;
	struct bpf_prog_info info;
	char want[64], rec[1024];
	double t0;

	ASSERT(!prog_info(fd, &info), "info");
	snprintf(want, sizeof(want), "prog-id=%u op=REJIT", info.id);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT(kmsg >= 0 && lseek(kmsg, 0, SEEK_END) >= 0, "/dev/kmsg: %s", strerror(errno));
	ASSERT(!audit_set(1), "audit on");
	ASSERT(!rejit_from(fd, fd), "rejit: %s", log_buf);
	for (t0 = now_ms(); !found && now_ms() - t0 < 3000;) {
		ssize_t n = read(kmsg, rec, sizeof(rec) - 1);

		if (n < 0) {
			usleep(10000); /* kauditd prints asynchronously */
			continue;
		}
		rec[n] = 0;
		found = strstr(rec, want) != NULL;
	}
	audit_set(0);
	close(kmsg);
	ASSERT(found, "no audit record \"%s\" in the kernel log", want);
	printf("  audit: %s\n", want);
	return 0;
}

/* Without CAP_BPF/CAP_PERFMON: no re-JIT, no original bytecode. */
static int test_unprivileged(void)
{
	struct bpf_insn ok[] = { BPF_MOV64_IMM(BPF_REG_0, XDP_DROP), BPF_EXIT_INSN() };
	int fd = prog_fd("xdp_pass"), status;
	pid_t pid = fork();

	if (pid == 0) {
		struct bpf_prog_info info;

		if (setresuid(65534, 65534, 65534))
			_exit(10);
		if (bpf_prog_rejit(fd, ok, 2, NULL) != -EPERM)
			_exit(11);
		/* info may be refused outright; if not, it hides the code */
		if (!prog_info(fd, &info) && info.orig_prog_len != 0)
			_exit(12);
		_exit(0);
	}
	ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d",
	       WEXITSTATUS(status));
	return 0;
}

struct load {
	volatile int stop;
	long events;
};

static void *load_thread(void *arg)
{
	struct load *l = arg;

	while (!l->stop) {
		syscall(SYS_getppid);
		l->events++;
	}
	return NULL;
}

/* Many re-JITs of program @name while @attached (the same, or a program
 * that tail-calls it) runs on events a thread generates: every event is
 * counted exactly once by whichever code was live.
 */
static int rejits_under_load(const char *attached, const char *name, __u32 key, int rejits,
			     double *per_rejit)
{
	struct bpf_program *a = bpf_object__find_program_by_name(obj, attached);
	struct bpf_link *link = bpf_program__attach(a);
	int fd = prog_fd(name), err = 0;
	struct load l = {};
	struct code one;
	pthread_t t;
	double t0;
	__u64 seen;

	ASSERT(link, "attach %s", attached);
	ASSERT(!code_of(fd, &one), "code");
	counter_reset(key);
	pthread_create(&t, NULL, load_thread, &l);
	t0 = now_ms();
	for (int i = 0; i < rejits && !err; i++)
		err = !CHECK(!rejit(fd, &one), "rejit %d: %s", i, log_buf);
	*per_rejit = (now_ms() - t0) / rejits;
	l.stop = 1;
	pthread_join(t, NULL);
	bpf_link__destroy(link);
	code_free(&one);
	seen = counter(key);

	printf("  %s: %d re-JITs under load, events generated %ld, counted %llu, lost %lld\n",
	       name, rejits, l.events, seen, (long long)l.events - (long long)seen);
	ASSERT(!err, "re-JIT failed under load");
	ASSERT(seen == (__u64)l.events, "events lost or double-counted");
	return 0;
}

static int test_stress_one(int rejits)
{
	int fd = prog_fd("tp_add1");
	double t0, per_rejit, per_load;
	struct code one;

	if (rejits_under_load("tp_add1", "tp_add1", TP_EVENTS, rejits, &per_rejit))
		return -1;
	ASSERT(!code_of(fd, &one), "code");
	t0 = now_ms();
	for (int i = 0; i < 20; i++) {
		LIBBPF_OPTS(bpf_prog_load_opts, o, .fd_array = one.fds);
		int f = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "x", "GPL", one.insns,
				      one.cnt, &o);
		ASSERT(f >= 0, "load");
		close(f);
	}
	per_load = (now_ms() - t0) / 20;
	code_free(&one);
	printf("  stress: %.2f ms per re-JIT, %.2f ms per fresh load (guest wall clock)\n",
	       per_rejit, per_load);
	return 0;
}

/* The same through a trampoline: each re-JIT pokes the entry jump. */
static int test_stress_fentry(void)
{
	double per_rejit;

	if (rejits_under_load("fe_add1", "fe_add1", FENTRY_EVENTS, 1000, &per_rejit))
		return -1;
	printf("  fentry: %.2f ms per re-JIT (guest wall clock)\n", per_rejit);
	return 0;
}

/* The same for a tail call target: each re-JIT pokes its landing pad. */
static int test_stress_tail_call(void)
{
	int map = bpf_object__find_map_fd_by_name(obj, "tp_jmp"), fd = prog_fd("tp_add1");
	double per_rejit;
	__u32 key = 0;

	ASSERT(!bpf_map_update_elem(map, &key, &fd, BPF_ANY), "tp_jmp[0] = tp_add1");
	if (rejits_under_load("tp_tail", "tp_add1", TP_EVENTS, 1000, &per_rejit))
		return -1;
	ASSERT(!bpf_map_delete_elem(map, &key), "tp_jmp delete");
	printf("  tail call target: %.2f ms per re-JIT (guest wall clock)\n", per_rejit);
	return 0;
}

struct par {
	int fds[8];
	int rounds, err;
};

static void *par_thread(void *arg)
{
	struct par *p = arg;
	struct code c;

	if (code_of(p->fds[0], &c)) {
		p->err = -1;
		return NULL;
	}
	for (int r = 0; r < p->rounds && !p->err; r++)
		for (int i = 0; i < 8 && !p->err; i++)
			p->err = rejit(p->fds[i], &c);
	code_free(&c);
	return NULL;
}

/* 64 programs re-JITed from 8 threads at once (kallsyms, prog pack). */
static int test_stress_parallel(void)
{
	struct code c;
	struct par par[8] = {};
	pthread_t t[8];
	__u32 ret;

	ASSERT(!code_of(prog_fd("xdp_drop"), &c), "code");
	for (int i = 0; i < 8; i++) {
		par[i].rounds = 5;
		for (int j = 0; j < 8; j++) {
			LIBBPF_OPTS(bpf_prog_load_opts, o, .fd_array = c.fds);
			par[i].fds[j] = bpf_prog_load(BPF_PROG_TYPE_XDP, "par", "GPL", c.insns,
						      c.cnt, &o);
			ASSERT(par[i].fds[j] >= 0, "load %d", -errno);
		}
	}
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, par_thread, &par[i]);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 8; i++) {
		ASSERT(!par[i].err, "thread %d: %d", i, par[i].err);
		for (int j = 0; j < 8; j++) {
			ASSERT(!xdp_run(par[i].fds[j], &ret) && ret == XDP_DROP, "run");
			close(par[i].fds[j]);
		}
	}
	code_free(&c);
	printf("  parallel: 64 programs x 5 re-JITs from 8 threads\n");
	return 0;
}

static int stress_rejits = 10000;

static int stress_one(void)
{
	return test_stress_one(stress_rejits);
}

int main(int argc, char **argv)
{
	int err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJ [stress-rejits]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		stress_rejits = atoi(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	{ /* the other objects sit next to OBJ */
		char path[512];
		const char *dir;

		snprintf(path, sizeof(path), "%s", argv[1]);
		dir = dirname(path);
		snprintf(on_prog_path, sizeof(on_prog_path), "%s/rejit_on_prog.bpf.o", dir);
		snprintf(ca_path, sizeof(ca_path), "%s/rejit_ca.bpf.o", dir);
	}

	obj = bpf_object__open_file(argv[1], NULL);
	err = libbpf_get_error(obj);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "loading %s: %d\n", argv[1], err);
		return 1;
	}
	counters_fd = bpf_object__find_map_fd_by_name(obj, "counters");
	jmp_fd = bpf_object__find_map_fd_by_name(obj, "jmp");
	{ /* .bss: target_tgid, so that only our own syscalls are counted */
		__u32 zero = 0, tgid = getpid();

		bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, ".bss")),
				    &zero, &tgid, BPF_ANY);
	}

	run("orig_insns", test_orig_insns);
	run("test_run_switch", test_test_run_switch);
	run("tracepoint", test_tracepoint);
	run("kprobe", test_kprobe);
	run("raw_tp", test_raw_tp);
	run("fentry", test_fentry);
	run("fexit", test_fexit);
	run("fentry_sleepable", test_fentry_sleepable);
	run("fentry_attach_after_rejit", test_fentry_attach_after_rejit);
	run("fentry_fexit_on_prog", test_fentry_fexit_on_prog);
	run("fentry_on_rejited_prog", test_fentry_on_rejited_prog);
	run("freplace", test_freplace);
	run("trace_sub_function", test_trace_sub_function);
	run("struct_ops", test_struct_ops);
	run("socket_filter", test_socket_filter);
	run("xdp_veth", test_xdp_veth);
	run("tc_veth", test_tc_veth);
	run("cgroup_skb", test_cgroup_skb);
	run("orig_map_ids", test_orig_map_ids);
	run("tail_call_target", test_tail_call_target);
	run("tail_call_caller", test_tail_call_caller);
	run("failures", test_failures);
	run("percpu_value", test_percpu_value);
	run("unprivileged", test_unprivileged);
	run("audit", test_audit);
	run("perf_ksymbol", test_perf_ksymbol);
	run("timer_holds_replaced_code", test_timer_holds_replaced_code);
	run("stress_one", stress_one);
	run("stress_fentry", test_stress_fentry);
	run("stress_tail_call", test_stress_tail_call);
	run("stress_parallel", test_stress_parallel);

	bpf_object__close(obj);
	printf("rejit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
