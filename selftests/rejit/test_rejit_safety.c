// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG_REJIT must be at least as safe as BPF_PROG_LOAD. One case per
 * defect a review of the series found; each failed (or showed the hazard)
 * on the kernel before its fix:
 *  - new code that needs more of the attach point than the live program
 *    was attached with: writes to skb->cb[] or a tail call in a socket
 *    filter (bpf_prog_run_save_cb() asks the live program whether to save
 *    cb[]), bpf_get_route_realm() in tc (cls_bpf keeps the dst only for
 *    programs that asked at attach), cgroup_skb egress return codes in a
 *    program that may sit at ingress;
 *  - a kinsn load whose first instruction the bpf_fastcall rewrite took
 *    for the fill of a spill: natively it read a stack slot nobody wrote;
 *  - the kept original bytecode after a kinsn pair: the map reference was
 *    recorded at the expanded index, corrupting another instruction;
 *  - a program loaded without CAP_PERFMON keeps its Spectre v1
 *    sanitisation when a privileged optimiser re-JITs it, and gets no
 *    helper its loader could not call;
 *  - a per-CPU array value addressed by ld_imm64 is refused, not left to
 *    the interpreter, when the JIT fails after the verifier;
 *  - old code still running when it is replaced: a syscall program in a
 *    long bpf_loop() whose callback faults on purpose (a PROBE_MEM load
 *    that needs the image's exception table, found through kallsyms),
 *    re-JITed over and over meanwhile; the script checks dmesg stays
 *    clean;
 *  - an extension is verified again against the target it was loaded
 *    for: linked to a second target whose function may not change packet
 *    data, it must not be re-JITed into code that does, and once
 *    re-JITed it must not be linked to such a target;
 *  - who may re-JIT: a BPF LSM program on the bpf_prog_rejit hook refuses,
 *    and a caller with CAP_BPF and CAP_PERFMON may replace its own
 *    programs but not another user's (that takes CAP_SYS_ADMIN).
 * Every refusal is checked with a control: the nearest legal rewrite is
 * accepted and observably runs, so the harness can tell the two apart.
 *
 *   test_rejit_safety MODULE_DIR OBJ_DIR
 */
#include "kinsn_util.h" /* first: _GNU_SOURCE */
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "harness.h"
#include "rejit_util.h"

#define INSN(CODE, DST, SRC, OFF, IMM)                                                   \
	((struct bpf_insn){ .code = CODE, .dst_reg = DST, .src_reg = SRC, .off = OFF,      \
			    .imm = IMM })
#define MOV64_IMM(D, IMM) INSN(BPF_ALU64 | BPF_MOV | BPF_K, D, 0, 0, IMM)
#define MOV64_REG(D, S) INSN(BPF_ALU64 | BPF_MOV | BPF_X, D, S, 0, 0)
#define ALU64_IMM(OP, D, IMM) INSN(BPF_ALU64 | OP | BPF_K, D, 0, 0, IMM)
#define ALU64_REG(OP, D, S) INSN(BPF_ALU64 | OP | BPF_X, D, S, 0, 0)
#define LDX(SZ, D, S, OFF) INSN(BPF_LDX | BPF_MEM | SZ, D, S, OFF, 0)
#define STX(SZ, D, S, OFF) INSN(BPF_STX | BPF_MEM | SZ, D, S, OFF, 0)
#define ST(SZ, D, OFF, IMM) INSN(BPF_ST | BPF_MEM | SZ, D, 0, OFF, IMM)
#define JEQ_IMM(D, IMM, OFF) INSN(BPF_JMP | BPF_JEQ | BPF_K, D, 0, OFF, IMM)
#define CALL(FN) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, FN)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* two slots; @src BPF_PSEUDO_MAP_FD (imm = fd) or BPF_PSEUDO_MAP_IDX */
#define LD_MAP(D, SRC, IMM) INSN(BPF_LD | BPF_DW | BPF_IMM, D, SRC, 0, IMM), INSN(0, 0, 0, 0, 0)
#define LD_IMM64(D, V)                                                                   \
	INSN(BPF_LD | BPF_DW | BPF_IMM, D, 0, 0, (__u32)(V)),                            \
		INSN(0, 0, 0, 0, (__u32)((__u64)(V) >> 32))
#define CNT(a) ((__u32)ARRAY_SIZE(a))

static char log_buf[1 << 16];
static int fd_array[4]; /* [1] kinsn_bitops, [2] kinsn_movbe */

static int load(enum bpf_prog_type type, enum bpf_attach_type eat, const struct bpf_insn *insns,
		__u32 cnt)
{
	/* syscall programs are always sleepable in 6.12 */
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = eat, .fd_array = fd_array,
		    .prog_flags = type == BPF_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0,
		    .log_buf = log_buf, .log_size = sizeof(log_buf), .log_level = 1);
	int fd;

	log_buf[0] = 0;
	fd = bpf_prog_load(type, "safety", "GPL", insns, cnt, &opts);
	return fd < 0 ? -errno : fd;
}

static int rejit(int fd, const struct bpf_insn *insns, __u32 cnt)
{
	LIBBPF_OPTS(bpf_prog_rejit_opts, opts, .fd_array = fd_array, .log_buf = log_buf,
		    .log_size = sizeof(log_buf), .log_level = 1);

	log_buf[0] = 0;
	return bpf_prog_rejit(fd, insns, cnt, &opts);
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_prog_get_info_by_fd(fd, info, &len);
}

/* A datagram sent on sv[0] reaches sv[1] (through its socket filter). */
static bool passes(int sv[2])
{
	char buf[8];

	while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	return send(sv[0], "x", 1, 0) == 1 && recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 1;
}

/*
 * The live program must keep the attach point's assumptions: @bad is
 * refused with @err and a log naming @why, the old code still runs;
 * @ok (the same without what the attach point lacks) is accepted.
 */
static int refused_then_ok(int fd, const struct bpf_insn *bad, __u32 bad_cnt, int err,
			   const char *why, const struct bpf_insn *ok, __u32 ok_cnt)
{
	struct bpf_prog_info before, after;
	int ret;

	ASSERT(!prog_info(fd, &before), "info");
	ret = rejit(fd, bad, bad_cnt);
	ASSERT(ret == err, "hostile code: got %d, want %d\n%s", ret, err, log_buf);
	ASSERT(strstr(log_buf, why), "log does not say '%s':\n%s", why, log_buf);
	ASSERT(!prog_info(fd, &after) && after.id == before.id &&
		       !memcmp(after.tag, before.tag, sizeof(after.tag)),
	       "the refused code changed the program");
	ret = rejit(fd, ok, ok_cnt);
	ASSERT(!ret, "control: %d\n%s", ret, log_buf);
	return 0;
}

/* __sk_buff fields these programs read */
#define SKB_LEN offsetof(struct __sk_buff, len)
#define SKB_HASH offsetof(struct __sk_buff, hash)
#define SKB_CB(i) (offsetof(struct __sk_buff, cb) + 4 * (i))

/*
 * A socket filter reading len and hash (past cb[], so the context-size
 * check says nothing) accepts; the hostile replacement writes cb[0] and
 * cb[1], which sk_filter() would not save and restore around it.
 */
static int test_cb_access(void)
{
	const struct bpf_insn live[] = {
		LDX(BPF_W, BPF_REG_2, BPF_REG_1, SKB_LEN), LDX(BPF_W, BPF_REG_3, BPF_REG_1, SKB_HASH),
		MOV64_IMM(BPF_REG_0, 0xffff), EXIT(),
	};
	const struct bpf_insn bad[] = {
		LDX(BPF_W, BPF_REG_2, BPF_REG_1, SKB_LEN), LDX(BPF_W, BPF_REG_3, BPF_REG_1, SKB_HASH),
		STX(BPF_W, BPF_REG_1, BPF_REG_2, SKB_CB(0)), STX(BPF_W, BPF_REG_1, BPF_REG_3, SKB_CB(1)),
		MOV64_IMM(BPF_REG_0, 0), EXIT(),
	};
	const struct bpf_insn drop[] = {
		LDX(BPF_W, BPF_REG_2, BPF_REG_1, SKB_LEN), MOV64_IMM(BPF_REG_0, 0), EXIT(),
	};
	int fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, live, CNT(live)), sv[2], ret = -1;

	ASSERT(fd >= 0, "load: %d\n%s", fd, log_buf);
	ASSERT(!socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "socketpair");
	if (setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_BPF, &fd, sizeof(fd)) || !passes(sv) ||
	    refused_then_ok(fd, bad, CNT(bad), -EPERM, "skb->cb", drop, CNT(drop)))
		goto out;
	if (passes(sv)) {
		fprintf(stderr, "  %s: the accepted control does not drop\n", current);
		goto out;
	}
	ret = rejit(fd, live, CNT(live));
	if (ret || !passes(sv)) {
		fprintf(stderr, "  %s: back to the live code: %d\n%s", current, ret, log_buf);
		ret = -1;
	}
out:
	close(sv[0]);
	close(sv[1]);
	close(fd);
	return ret;
}

/* A tail call: the callee may touch cb[] (the verifier sets cb_access). */
static int test_tail_call(void)
{
	const struct bpf_insn live[] = { MOV64_IMM(BPF_REG_0, 0xffff), EXIT() };
	int map = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, NULL, 4, 4, 1, NULL), fd, ret;

	ASSERT(map >= 0, "prog array: %s", strerror(errno));
	{
		const struct bpf_insn bad[] = {
			LD_MAP(BPF_REG_2, BPF_PSEUDO_MAP_FD, map), MOV64_IMM(BPF_REG_3, 0),
			CALL(BPF_FUNC_tail_call), MOV64_IMM(BPF_REG_0, 0xffff), EXIT(),
		};
		const struct bpf_insn ok[] = { MOV64_IMM(BPF_REG_0, 0), EXIT() };

		fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, live, CNT(live));
		ASSERT(fd >= 0, "load: %d\n%s", fd, log_buf);
		ret = refused_then_ok(fd, bad, CNT(bad), -EPERM, "skb->cb", ok, CNT(ok));
	}
	close(fd);
	close(map);
	return ret;
}

/* cls_bpf keeps skb dst entries only for programs that asked at attach. */
static int test_dst_needed(void)
{
	const struct bpf_insn live[] = { MOV64_IMM(BPF_REG_0, 0), EXIT() };
	const struct bpf_insn bad[] = { CALL(BPF_FUNC_get_route_realm), EXIT() };
	const struct bpf_insn ok[] = { CALL(BPF_FUNC_get_hash_recalc), EXIT() };
	int fd = load(BPF_PROG_TYPE_SCHED_CLS, 0, live, CNT(live)), ret;

	ASSERT(fd >= 0, "load: %d\n%s", fd, log_buf);
	ret = refused_then_ok(fd, bad, CNT(bad), -EPERM, "route realm", ok, CNT(ok));
	close(fd);
	return ret;
}

/*
 * A cgroup_skb program loaded for egress that returns 0 or 1 may be
 * attached at ingress; returning 2 or 3 (congestion notification) pins it
 * to egress at load, which a re-JIT cannot do after the attach.
 */
static int test_expected_attach_type(void)
{
	const struct bpf_insn live[] = { MOV64_IMM(BPF_REG_0, 1), EXIT() };
	const struct bpf_insn bad[] = { MOV64_IMM(BPF_REG_0, 3), EXIT() };
	const struct bpf_insn ok[] = { MOV64_IMM(BPF_REG_0, 0), EXIT() };
	int fd = load(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, live, CNT(live)), ret;

	ASSERT(fd >= 0, "load: %d\n%s", fd, log_buf);
	ret = refused_then_ok(fd, bad, CNT(bad), -EPERM, "attach type", ok, CNT(ok));
	close(fd);
	return ret;
}

static __s32 kinsn_id(const char *module, const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf(), *btf;
	__s32 id;

	btf = btf__load_module_btf(module, vmlinux);
	if (!btf)
		fail("%s BTF: %s", module, strerror(errno));
	id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	btf__free(btf);
	btf__free(vmlinux);
	if (id <= 0)
		fail("%s not in %s", name, module);
	return id;
}

/* A syscall program's context: what it writes. */
struct out {
	__u64 v;
};

static int run_syscall(int fd, __u64 *v)
{
	struct out o = { 0x5a5a5a5a5a5a5a5a };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &o, .ctx_size_in = sizeof(o));
	int err = bpf_prog_test_run_opts(fd, &opts);

	*v = o.v;
	return err ? -errno : (int)opts.retval;
}

/*
 * "*(u64 *)(r10 - 8) = r3; call bpf_get_smp_processor_id; r3 = load_be64
 * [r10 - 8]": the first instruction of the kinsn's plain sequence looks
 * like the fill of a bpf_fastcall spill. Dropped with the spill, the pair
 * must not become a movbe from a slot nobody wrote: r3 must come out
 * byte-swapped, by BPF_PROG_LOAD and by BPF_PROG_REJIT alike.
 */
static int test_fastcall_kinsn_load(void)
{
	const __u64 x = 0x0102030405060708ull, want = 0x0807060504030201ull;
	const struct bpf_insn prog[] = {
		MOV64_REG(BPF_REG_6, BPF_REG_1),
		LD_IMM64(BPF_REG_3, x),
		STX(BPF_DW, BPF_REG_10, BPF_REG_3, -8),
		CALL(BPF_FUNC_get_smp_processor_id),
		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 2,
		     kinsn_id("kinsn_movbe", "bpf_load_be64")),
		INSN(0, BPF_REG_3, BPF_REG_10, -8, 0),
		STX(BPF_DW, BPF_REG_6, BPF_REG_3, 0),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};
	const struct bpf_insn zero[] = { ST(BPF_DW, BPF_REG_1, 0, 0), MOV64_IMM(BPF_REG_0, 0),
					 EXIT() };
	int fd = load(BPF_PROG_TYPE_SYSCALL, 0, prog, CNT(prog)), ret;
	__u64 v;

	ASSERT(fd >= 0, "load: %d\n%s", fd, log_buf);
	ret = run_syscall(fd, &v);
	ASSERT(!ret && v == want, "loaded: %d, r3 = %#llx, want %#llx", ret,
	       (unsigned long long)v, (unsigned long long)want);
	ASSERT(!rejit(fd, zero, CNT(zero)) && !run_syscall(fd, &v) && v == 0, "rejit to zero: %s",
	       log_buf);
	ret = rejit(fd, prog, CNT(prog));
	ASSERT(!ret, "rejit back: %d\n%s", ret, log_buf);
	ret = run_syscall(fd, &v);
	ASSERT(!ret && v == want, "re-JITed: %d, r3 = %#llx, want %#llx", ret,
	       (unsigned long long)v, (unsigned long long)want);
	close(fd);
	return 0;
}

/*
 * The kept original bytecode of a program with a kinsn pair before a map
 * reference: every instruction as loaded but for the map reference, which
 * names map 0 of the program. The expansion of the pair must not shift
 * where the kernel records it.
 */
static int test_orig_map_index(void)
{
	int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, NULL), fd, i, ld = -1;
	__s32 rol = kinsn_id("kinsn_bitops", "bpf_rol64");

	ASSERT(map >= 0, "map: %s", strerror(errno));
	{
		const struct bpf_insn prog[] = {
			MOV64_IMM(BPF_REG_7, 1),
			INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 1, rol),
			INSN(0, BPF_REG_7, BPF_REG_8, 0, 13),
			MOV64_REG(BPF_REG_2, BPF_REG_10), MOV64_REG(BPF_REG_3, BPF_REG_7),
			MOV64_REG(BPF_REG_4, BPF_REG_3), MOV64_REG(BPF_REG_6, BPF_REG_4),
			LD_MAP(BPF_REG_1, BPF_PSEUDO_MAP_FD, map),
			ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
			ST(BPF_W, BPF_REG_10, -4, 0),
			CALL(BPF_FUNC_map_lookup_elem),
			JEQ_IMM(BPF_REG_0, 0, 1),
			STX(BPF_DW, BPF_REG_0, BPF_REG_6, 0),
			MOV64_IMM(BPF_REG_0, 0),
			EXIT(),
		};
		struct bpf_insn orig[CNT(prog)];
		__u32 cnt = CNT(prog);
		__u64 v = 0;
		__u32 key = 0;
		int err;

		fd = load(BPF_PROG_TYPE_SYSCALL, 0, prog, CNT(prog));
		ASSERT(fd >= 0, "load: %d\n%s", fd, log_buf);
		err = bpf_prog_get_orig_insns(fd, orig, &cnt);
		ASSERT(!err && cnt == CNT(prog), "orig insns: %d, %u", err, cnt);
		for (i = 0; i < (int)cnt; i++) {
			if (prog[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
				ld = i;
				ASSERT(orig[i].src_reg == BPF_PSEUDO_MAP_IDX && orig[i].imm == 0,
				       "insn %d: map reference src %d imm %d", i, orig[i].src_reg,
				       orig[i].imm);
				i++;
				continue;
			}
			ASSERT(!memcmp(&orig[i], &prog[i], sizeof(orig[i])),
			       "insn %d changed: code %#x dst %d src %d off %d imm %d", i,
			       orig[i].code, orig[i].dst_reg, orig[i].src_reg, orig[i].off,
			       orig[i].imm);
		}
		ASSERT(ld > 0, "no map reference");
		/* and the code as kept can be submitted again: map 0 at fd_array[0] */
		fd_array[0] = map;
		err = rejit(fd, orig, cnt);
		fd_array[0] = 0;
		ASSERT(!err, "rejit with the kept code: %d\n%s", err, log_buf);
		ASSERT(run_syscall(fd, &v) == 0, "run");
		ASSERT(!bpf_map_lookup_elem(map, &key, &v) && v == 1ull << 13, "value %#llx",
		       (unsigned long long)v);
	}
	close(fd);
	close(map);
	return 0;
}

/* Keep only capabilities @a and @b (CAP_BPF, CAP_PERFMON: in one word). */
static int caps_only(int a, int b)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};

	data[a / 32].effective |= 1u << (a % 32);
	data[b / 32].effective |= 1u << (b % 32);
	data[0].permitted = data[0].effective;
	data[1].permitted = data[1].effective;
	return syscall(SYS_capset, &hdr, data);
}

static __u32 xlated_len(int fd)
{
	struct bpf_prog_info info;

	return prog_info(fd, &info) ? 0 : info.xlated_prog_len / sizeof(struct bpf_insn);
}

/*
 * The fd of @prog loaded as a socket filter by a child that keeps only
 * CAP_BPF (and checked there that it may not re-JIT at all), or -1.
 */
static int load_with_cap_bpf_only(const struct bpf_insn *prog, __u32 cnt)
{
	struct bpf_prog_info info;
	int pipes[2], status, fd;
	__u32 id = 0;
	pid_t pid;

	if (pipe(pipes))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pipes[0]);
		if (caps_only(CAP_BPF, CAP_BPF))
			_exit(10);
		fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, prog, cnt);
		if (fd < 0) {
			fprintf(stderr, "  CAP_BPF-only load: %d\n%s", fd, log_buf);
			_exit(11);
		}
		if (rejit(fd, prog, cnt) != -EPERM)
			_exit(12);
		if (!prog_info(fd, &info))
			id = info.id;
		if (write(pipes[1], &id, sizeof(id)) != sizeof(id))
			_exit(13);
		pause(); /* holds the program until the parent has its fd */
		_exit(0);
	}
	close(pipes[1]);
	fd = read(pipes[0], &id, sizeof(id)) == sizeof(id) ? bpf_prog_get_fd_by_id(id) : -1;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(pipes[0]);
	if (fd < 0)
		fprintf(stderr, "  the child's program: child status %d\n", WEXITSTATUS(status));
	return fd;
}

/*
 * A map value pointer plus a bounded variable offset: without CAP_PERFMON
 * the verifier masks the offset against speculation (Spectre v1). The
 * privileged re-JIT of the very same code must keep the masking.
 */
static int test_loader_privileges(void)
{
	int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 64, 1, NULL);
	__u32 priv_len, lesser_len;
	int fd, priv_fd, err;

	const struct bpf_insn prog[] = {
		ST(BPF_W, BPF_REG_10, -4, 0),
		MOV64_REG(BPF_REG_2, BPF_REG_10),
		ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
		LD_MAP(BPF_REG_1, BPF_PSEUDO_MAP_FD, map),
		CALL(BPF_FUNC_map_lookup_elem),
		JEQ_IMM(BPF_REG_0, 0, 4),
		LDX(BPF_B, BPF_REG_1, BPF_REG_0, 0),
		ALU64_IMM(BPF_AND, BPF_REG_1, 31),
		ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_1),
		LDX(BPF_B, BPF_REG_0, BPF_REG_0, 0),
		EXIT(),
	};

	ASSERT(map >= 0, "map");
	fd = load_with_cap_bpf_only(prog, CNT(prog));
	ASSERT(fd >= 0, "CAP_BPF-only program");

	priv_fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, prog, CNT(prog));
	ASSERT(priv_fd >= 0, "privileged load: %d\n%s", priv_fd, log_buf);
	priv_len = xlated_len(priv_fd);
	lesser_len = xlated_len(fd);
	ASSERT(lesser_len > priv_len, "no sanitisation to lose: %u vs %u xlated insns",
	       lesser_len, priv_len);
	err = rejit(fd, prog, CNT(prog));
	ASSERT(!err, "rejit: %d\n%s", err, log_buf);
	ASSERT(xlated_len(fd) == lesser_len,
	       "re-JITed with the optimiser's privileges: %u xlated insns, loaded with %u",
	       xlated_len(fd), lesser_len);
	/* and the privileged program stays as lean when re-JITed */
	ASSERT(!rejit(priv_fd, prog, CNT(prog)) && xlated_len(priv_fd) == priv_len,
	       "privileged re-JIT: %u xlated insns, want %u", xlated_len(priv_fd), priv_len);
	close(priv_fd);
	close(fd);
	close(map);
	return 0;
}

/*
 * Helpers follow the loader's privileges too: bpf_probe_read_kernel()
 * takes CAP_PERFMON, so a privileged optimiser must not be able to give it
 * to a program loaded with CAP_BPF only; the same code in a program root
 * loaded is accepted.
 */
static int test_loader_helpers(void)
{
	const struct bpf_insn plain[] = { MOV64_IMM(BPF_REG_0, 0), EXIT() };
	const struct bpf_insn probe[] = {
		MOV64_REG(BPF_REG_1, BPF_REG_10),
		ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		MOV64_IMM(BPF_REG_2, 8),
		MOV64_IMM(BPF_REG_3, 0),
		CALL(BPF_FUNC_probe_read_kernel),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};
	int fd = load_with_cap_bpf_only(plain, CNT(plain)), priv_fd, err;

	ASSERT(fd >= 0, "CAP_BPF-only program");
	priv_fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, plain, CNT(plain));
	ASSERT(priv_fd >= 0, "privileged load: %d\n%s", priv_fd, log_buf);
	err = refused_then_ok(fd, probe, CNT(probe), -EINVAL, "cannot use helper bpf_probe_read_kernel",
			      plain, CNT(plain));
	if (!err) {
		err = rejit(priv_fd, probe, CNT(probe));
		if (err)
			fprintf(stderr, "  control, root's program: %d\n%s", err, log_buf);
	}
	close(priv_fd);
	close(fd);
	return err;
}

/* Write @val to the sysctl @path, the old value into @old (if not NULL). */
static int sysctl_set(const char *path, const char *val, char *old, size_t old_size)
{
	FILE *f = fopen(path, "r+");
	int ok = !!f;

	if (f && old)
		ok = fgets(old, old_size, f) && !fseek(f, 0, SEEK_SET);
	if (f)
		ok = ok && fputs(val, f) >= 0;
	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/* bpf_prog_info.jited_prog_len of @prog loaded as a socket filter, or -errno */
static long jited_len_of(const struct bpf_insn *prog, __u32 cnt)
{
	struct bpf_prog_info info;
	int fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, prog, cnt);
	long len;

	if (fd < 0)
		return fd;
	len = prog_info(fd, &info) ? -errno : (long)info.jited_prog_len;
	close(fd);
	return len;
}

/*
 * The value of a one-element per-CPU array addressed by ld_imm64 needs a
 * BPF_MOV64_PERCPU_REG, which only JITs run: when the JIT fails after the
 * verifier accepted such a program, it must be refused, not left to the
 * interpreter (which would read through the raw __percpu address). An
 * unprivileged loader over a JIT limit of one byte makes the JIT fail; the
 * program is not run in the hazard's case.
 */
static int test_percpu_value_needs_jit(void)
{
	char old_unpriv[32], old_limit[32];
	int map = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, NULL, 4, 8, 1, NULL), status;
	const struct bpf_insn plain[] = { MOV64_IMM(BPF_REG_0, 0), EXIT() };
	const struct bpf_insn percpu[] = {
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_VALUE, 0, map),
		INSN(0, 0, 0, 0, 0),
		LDX(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
		EXIT(),
	};
	long len;
	pid_t pid;

	ASSERT(map >= 0, "per-CPU array");
	len = jited_len_of(percpu, CNT(percpu));
	ASSERT(len > 0, "control: root's per-CPU value program: %ld\n%s", len, log_buf);
	ASSERT(!sysctl_set("/proc/sys/kernel/unprivileged_bpf_disabled", "0", old_unpriv,
			   sizeof(old_unpriv)),
	       "unprivileged BPF cannot be enabled here");
	if (sysctl_set("/proc/sys/net/core/bpf_jit_limit", "1", old_limit, sizeof(old_limit))) {
		sysctl_set("/proc/sys/kernel/unprivileged_bpf_disabled", old_unpriv, NULL, 0);
		ASSERT(0, "bpf_jit_limit");
	}
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct none[2] = {};

		if (syscall(SYS_capset, &hdr, none))
			_exit(10);
		len = jited_len_of(plain, CNT(plain));
		if (len != 0) {
			fprintf(stderr, "  unprivileged control over the JIT limit: %ld\n%s", len,
				log_buf);
			_exit(11);
		}
		len = jited_len_of(percpu, CNT(percpu));
		if (len == -524) /* ENOTSUPP */
			_exit(0);
		fprintf(stderr, "  per-CPU value program without the JIT: %ld%s\n%s", len,
			len == 0 ? " (left to the interpreter)" : "", log_buf);
		_exit(len == 0 ? 12 : 13);
	}
	waitpid(pid, &status, 0);
	sysctl_set("/proc/sys/net/core/bpf_jit_limit", old_limit, NULL, 0);
	sysctl_set("/proc/sys/kernel/unprivileged_bpf_disabled", old_unpriv, NULL, 0);
	close(map);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "child: %d (11: the JIT did not fail, 12: loaded for the interpreter)",
	       WEXITSTATUS(status));
	return 0;
}

struct looper {
	int fd;
	volatile int stop;
	long runs, bad;
};

static void *loop_thread(void *arg)
{
	struct looper *l = arg;
	__u64 v;

	while (!l->stop) {
		if (run_syscall(l->fd, &v))
			l->bad++;
		l->runs++;
	}
	return NULL;
}

/*
 * The callback reads through an untrusted BTF pointer to a non-canonical
 * address, which the JIT's user-address check lets through: the load
 * faults and the exception table of the image that runs it gives 0.
 */
#define HOLE 0x8000000000000000ull
#define LOOPS (1 << 14)

/* BTF of a program with a main function and a callback at @cb_off. */
static int two_funcs_btf(struct bpf_func_info fi[2], __u32 cb_off)
{
	struct btf *btf = btf__new_empty();
	int i32, u64, ptr, main_proto, cb_proto, fd = -1;

	if (!btf)
		return -1;
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	u64 = btf__add_int(btf, "u64", 8, 0);
	ptr = btf__add_ptr(btf, 0);
	main_proto = btf__add_func_proto(btf, i32);
	btf__add_func_param(btf, "ctx", ptr);
	cb_proto = btf__add_func_proto(btf, i32);
	btf__add_func_param(btf, "index", u64);
	btf__add_func_param(btf, "data", ptr);
	fi[0] = (struct bpf_func_info){ 0, btf__add_func(btf, "main", BTF_FUNC_GLOBAL,
							  main_proto) };
	fi[1] = (struct bpf_func_info){ cb_off, btf__add_func(btf, "cb", BTF_FUNC_STATIC,
							       cb_proto) };
	if (!btf__load_into_kernel(btf))
		fd = dup(btf__fd(btf));
	btf__free(btf);
	return fd;
}

static int test_old_code_lifetime(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct bpf_func_info fi[2];
	__s32 cast, task;
	struct looper l = {};
	pthread_t thread;
	int i, err, btf_fd;

	ASSERT(vmlinux, "vmlinux BTF");
	cast = btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC);
	task = btf__find_by_name_kind(vmlinux, "task_struct", BTF_KIND_STRUCT);
	btf__free(vmlinux);
	ASSERT(cast > 0 && task > 0, "BTF ids %d %d", cast, task);
	btf_fd = two_funcs_btf(fi, 8);
	ASSERT(btf_fd >= 0, "BTF: %s", strerror(errno));
	const struct bpf_insn prog[] = {
		MOV64_IMM(BPF_REG_1, LOOPS),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_FUNC, 0, 6),
		INSN(0, 0, 0, 0, 0),
		MOV64_IMM(BPF_REG_3, 0),
		MOV64_IMM(BPF_REG_4, 0),
		CALL(BPF_FUNC_loop),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
		/* callback(index, ctx) */
		LD_IMM64(BPF_REG_1, HOLE),
		MOV64_IMM(BPF_REG_2, task),
		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, cast),
		LDX(BPF_W, BPF_REG_0, BPF_REG_0, 0),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};

	LIBBPF_OPTS(bpf_prog_load_opts, lopts, .prog_flags = BPF_F_SLEEPABLE,
		    .prog_btf_fd = btf_fd, .func_info = fi, .func_info_cnt = 2,
		    .func_info_rec_size = sizeof(fi[0]), .log_buf = log_buf,
		    .log_size = sizeof(log_buf), .log_level = 1);
	LIBBPF_OPTS(bpf_prog_rejit_opts, ropts, .prog_btf_fd = btf_fd, .func_info = fi,
		    .func_info_cnt = 2, .func_info_rec_size = sizeof(fi[0]), .log_buf = log_buf,
		    .log_size = sizeof(log_buf), .log_level = 1);

	l.fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "lifetime", "GPL", prog, CNT(prog), &lopts);
	ASSERT(l.fd >= 0, "load: %d\n%s", -errno, log_buf);
	ASSERT(!pthread_create(&thread, NULL, loop_thread, &l), "thread");
	for (i = 0, err = 0; i < 100 && !err; i++) {
		usleep(20000);
		err = bpf_prog_rejit(l.fd, prog, CNT(prog), &ropts);
	}
	l.stop = 1;
	pthread_join(thread, NULL);
	close(l.fd);
	close(btf_fd);
	ASSERT(!err, "rejit %d: %d\n%s", i, err, log_buf);
	ASSERT(!l.bad && l.runs > 0, "%ld of %ld runs failed", l.bad, l.runs);
	printf("  %d re-JITs during %ld runs of %d faulting loads each\n", i, l.runs, LOOPS);
	return 0;
}

static const char *obj_dir;

static struct bpf_object *open_obj(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", obj_dir, name);
	return bpf_object__open_file(path, NULL);
}

/* Re-JIT @fd with the code, maps and BTF of @src_fd. */
static int rejit_from(int fd, int src_fd)
{
	struct code c;
	int err = code_of(src_fd, &c);

	if (!err)
		err = code_add_btf(src_fd, &c);
	if (!err) {
		LIBBPF_OPTS(bpf_prog_rejit_opts, opts, .fd_array = c.fds,
			    .prog_btf_fd = c.btf_fd, .func_info = c.func_info,
			    .func_info_cnt = c.func_info_cnt,
			    .func_info_rec_size = c.func_info_rec_size, .log_buf = log_buf,
			    .log_size = sizeof(log_buf), .log_level = 1);

		log_buf[0] = 0;
		err = bpf_prog_rejit(fd, c.insns, c.cnt, &opts);
	}
	code_free(&c);
	return err;
}

/* rejit_ext.bpf.o with only extension @name, for function @func of @tgt_fd */
static struct bpf_object *load_ext(const char *name, int tgt_fd, const char *func)
{
	struct bpf_object *o = open_obj("rejit_ext.bpf.o");
	struct bpf_program *p;

	if (!o)
		return NULL;
	bpf_object__for_each_program(p, o) {
		bool want = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, want);
		if (want && bpf_program__set_attach_target(p, tgt_fd, func))
			goto fail;
	}
	if (!bpf_object__load(o))
		return o;
fail:
	bpf_object__close(o);
	return NULL;
}

static int ext_fd(struct bpf_object *o, const char *name)
{
	return bpf_program__fd(bpf_object__find_program_by_name(o, name));
}

/*
 * The targets, and ext_keeps and ext_changes both loaded for sub_changes
 * (which may change packet data); tgt_keeps's sub_keeps may not: its
 * caller trusts a packet pointer across the call.
 */
struct ext_setup {
	struct bpf_object *tgt, *keeps, *changes;
	int changes_fd, keeps_fd;
};

static void ext_teardown(struct ext_setup *e)
{
	bpf_object__close(e->changes);
	bpf_object__close(e->keeps);
	bpf_object__close(e->tgt);
}

static int ext_setup(struct ext_setup *e)
{
	memset(e, 0, sizeof(*e));
	e->tgt = open_obj("rejit_ext_tgt.bpf.o");
	if (!e->tgt || bpf_object__load(e->tgt))
		return -1;
	e->changes_fd = bpf_program__fd(bpf_object__find_program_by_name(e->tgt, "tgt_changes"));
	e->keeps_fd = bpf_program__fd(bpf_object__find_program_by_name(e->tgt, "tgt_keeps"));
	e->keeps = load_ext("ext_keeps", e->changes_fd, "sub_changes");
	e->changes = load_ext("ext_changes", e->changes_fd, "sub_changes");
	return e->keeps && e->changes ? 0 : -1;
}

/*
 * ext_keeps, linked to sub_keeps too, must not be re-JITed into
 * ext_changes: the re-JIT checks the new code against sub_changes only.
 */
static int test_freplace_second_target(void)
{
	struct bpf_link *link = NULL;
	struct ext_setup e;
	int err, ret = -1;

	if (ext_setup(&e)) {
		fprintf(stderr, "  %s: load targets and extensions: %d\n", current, -errno);
		goto out;
	}
	link = bpf_program__attach_freplace(bpf_object__find_program_by_name(e.keeps, "ext_keeps"),
					    e.keeps_fd, "sub_keeps");
	if (!link) {
		fprintf(stderr, "  %s: link to a second target: %d\n", current, -errno);
		goto out;
	}
	err = rejit_from(ext_fd(e.keeps, "ext_keeps"), ext_fd(e.changes, "ext_changes"));
	if (err != -EOPNOTSUPP || !strstr(log_buf, "another target")) {
		fprintf(stderr, "  %s: re-JIT into code that changes packet data: %d\n%s",
			current, err, log_buf);
		goto out;
	}
	ret = 0;
out:
	bpf_link__destroy(link);
	ext_teardown(&e);
	return ret;
}

/*
 * The other way round: ext_keeps re-JITed into ext_changes (fine for
 * sub_changes) must not then be linked to sub_keeps; linking it to the
 * target it was loaded for stays possible.
 */
static int test_freplace_rejited_retarget(void)
{
	struct bpf_link *link = NULL, *home = NULL;
	struct bpf_program *p;
	struct ext_setup e;
	int err, ret = -1;

	if (ext_setup(&e)) {
		fprintf(stderr, "  %s: load targets and extensions: %d\n", current, -errno);
		goto out;
	}
	err = rejit_from(ext_fd(e.keeps, "ext_keeps"), ext_fd(e.changes, "ext_changes"));
	if (err) {
		fprintf(stderr, "  %s: re-JIT for its own target: %d\n%s", current, err, log_buf);
		goto out;
	}
	p = bpf_object__find_program_by_name(e.keeps, "ext_keeps");
	link = bpf_program__attach_freplace(p, e.keeps_fd, "sub_keeps");
	err = link ? 0 : -errno;
	if (err != -EOPNOTSUPP) {
		fprintf(stderr, "  %s: re-JITed extension linked to a second target: %d\n",
			current, err);
		goto out;
	}
	home = bpf_program__attach_freplace(p, e.changes_fd, "sub_changes");
	if (!home) {
		fprintf(stderr, "  %s: link to its own target: %d\n", current, -errno);
		goto out;
	}
	ret = 0;
out:
	bpf_link__destroy(home);
	bpf_link__destroy(link);
	ext_teardown(&e);
	return ret;
}

/* .bss of rejit_lsm.bpf.c */
struct lsm_bss {
	__u32 deny_tgid;
	__u64 calls;
};

static int test_lsm_hook(void)
{
	const struct bpf_insn live[] = { MOV64_IMM(BPF_REG_0, 0xffff), EXIT() };
	struct bpf_object *obj = open_obj("rejit_lsm.bpf.o");
	struct lsm_bss bss = { .deny_tgid = getpid() };
	struct bpf_link *link = NULL;
	__u32 zero = 0;
	int fd = -1, bss_fd, err, ret = -1;
	__u64 calls;

	ASSERT(obj && !bpf_object__load(obj), "load rejit_lsm.bpf.o");
	bss_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, ".bss"));
	link = bpf_program__attach_lsm(bpf_object__find_program_by_name(obj, "deny_rejit"));
	fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, live, CNT(live));
	if (!link || fd < 0 || bpf_map_update_elem(bss_fd, &zero, &bss, BPF_ANY)) {
		fprintf(stderr, "  %s: attach %p, load %d\n", current, (void *)link, fd);
		goto out;
	}
	err = rejit(fd, live, CNT(live));
	bpf_map_lookup_elem(bss_fd, &zero, &bss);
	calls = bss.calls;
	if (err != -EPERM || calls != 1) {
		fprintf(stderr, "  %s: denied by the LSM: %d, hook called %llu times\n", current,
			err, (unsigned long long)calls);
		goto out;
	}
	bss.deny_tgid = 0;
	bpf_map_update_elem(bss_fd, &zero, &bss, BPF_ANY);
	err = rejit(fd, live, CNT(live));
	bpf_map_lookup_elem(bss_fd, &zero, &bss);
	if (err || bss.calls != 2) {
		fprintf(stderr, "  %s: allowed by the LSM: %d, hook called %llu times\n%s", current,
			err, (unsigned long long)bss.calls, log_buf);
		goto out;
	}
	ret = 0;
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * A task of another user with CAP_BPF and CAP_PERFMON, holding an fd of
 * root's program: it may re-JIT its own programs, not root's.
 */
static int test_other_user(void)
{
	const struct bpf_insn code[] = { MOV64_IMM(BPF_REG_0, 0xffff), EXIT() };
	int fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, code, CNT(code)), status, own;
	pid_t pid;

	ASSERT(fd >= 0, "load: %d\n%s", fd, log_buf);
	pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_KEEPCAPS, 1) || setresuid(65534, 65534, 65534) ||
		    caps_only(CAP_BPF, CAP_PERFMON))
			_exit(10);
		if (rejit(fd, code, CNT(code)) != -EPERM)
			_exit(11);
		own = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, code, CNT(code));
		if (own < 0)
			_exit(12);
		if (rejit(own, code, CNT(code)))
			_exit(13);
		_exit(0);
	}
	ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	close(fd);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "child: %d (11: re-JITed root's program, 13: not its own)", WEXITSTATUS(status));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s MODULE_DIR OBJ_DIR\n", argv[0]);
		return 2;
	}
	obj_dir = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* test_25_rejit_safety.sh unloads them, whatever happens here */
	load_module(argv[1], "kinsn_bitops", "");
	load_module(argv[1], "kinsn_movbe", "");
	fd_array[1] = kernel_btf_fd("kinsn_bitops");
	fd_array[2] = kernel_btf_fd("kinsn_movbe");

	run("cb_access", test_cb_access);
	run("tail_call_cb_access", test_tail_call);
	run("dst_needed", test_dst_needed);
	run("expected_attach_type", test_expected_attach_type);
	run("fastcall_kinsn_load", test_fastcall_kinsn_load);
	run("orig_map_index", test_orig_map_index);
	run("loader_privileges", test_loader_privileges);
	run("loader_helpers", test_loader_helpers);
	run("percpu_value_needs_jit", test_percpu_value_needs_jit);
	run("old_code_lifetime", test_old_code_lifetime);
	run("freplace_second_target", test_freplace_second_target);
	run("freplace_rejited_retarget", test_freplace_rejited_retarget);
	run("lsm_hook", test_lsm_hook);
	run("other_user", test_other_user);

	close(fd_array[1]);
	close(fd_array[2]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
