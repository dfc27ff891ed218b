/* SPDX-License-Identifier: GPL-2.0 */
/* What test_rejit_hostile and fuzz_rejit share: instruction macros, a set
 * of live programs with exactly known results (XDP and cgroup_skb through
 * BPF_PROG_TEST_RUN, a socket filter on a datagram socket pair, a raw
 * tracepoint counting our getppid() calls), and the check that they still
 * give those results with their load-time id and code.
 */
#ifndef LIVE_PROGS_H
#define LIVE_PROGS_H

#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* linux/filter.h's instruction macros are not UAPI */
#define INSN(CODE, DST, SRC, OFF, IMM)                                         \
	((struct bpf_insn){ .code = CODE, .dst_reg = DST, .src_reg = SRC,      \
			    .off = OFF, .imm = IMM })
#define MOV64_IMM(D, IMM) INSN(BPF_ALU64 | BPF_MOV | BPF_K, D, 0, 0, IMM)
#define MOV64_REG(D, S) INSN(BPF_ALU64 | BPF_MOV | BPF_X, D, S, 0, 0)
#define ALU64_IMM(OP, D, IMM) INSN(BPF_ALU64 | BPF_##OP | BPF_K, D, 0, 0, IMM)
#define ALU64_REG(OP, D, S) INSN(BPF_ALU64 | BPF_##OP | BPF_X, D, S, 0, 0)
#define LDX(SZ, D, S, OFF) INSN(BPF_LDX | BPF_MEM | BPF_##SZ, D, S, OFF, 0)
#define STX(SZ, D, S, OFF) INSN(BPF_STX | BPF_MEM | BPF_##SZ, D, S, OFF, 0)
#define ST(SZ, D, OFF, IMM) INSN(BPF_ST | BPF_MEM | BPF_##SZ, D, 0, OFF, IMM)
#define XADD64(D, S, OFF) INSN(BPF_STX | BPF_ATOMIC | BPF_DW, D, S, OFF, BPF_ADD)
#define JMP_IMM(OP, D, IMM, OFF) INSN(BPF_JMP | BPF_##OP | BPF_K, D, 0, OFF, IMM)
#define JMP_REG(OP, D, S, OFF) INSN(BPF_JMP | BPF_##OP | BPF_X, D, S, OFF, 0)
#define JA(OFF) INSN(BPF_JMP | BPF_JA, 0, 0, OFF, 0)
#define CALL(FN) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, FN)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_ABS(SZ, IMM) INSN(BPF_LD | BPF_ABS | BPF_##SZ, 0, 0, 0, IMM)
/* two slots: r = map (SRC BPF_PSEUDO_MAP_FD: IMM an fd; _IDX: an fd_array index) */
#define LD_MAP(D, SRC, IMM) INSN(BPF_LD | BPF_DW | BPF_IMM, D, SRC, 0, IMM), INSN(0, 0, 0, 0, 0)
#define LD_IMM64(D, V)                                                         \
	INSN(BPF_LD | BPF_DW | BPF_IMM, D, 0, 0, (__u32)(V)),                  \
		INSN(0, 0, 0, 0, (__u32)((__u64)(V) >> 32))
#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2
#define R3 BPF_REG_3
#define R4 BPF_REG_4
#define R5 BPF_REG_5
#define R6 BPF_REG_6
#define R7 BPF_REG_7
#define R8 BPF_REG_8
#define R9 BPF_REG_9
#define R10 BPF_REG_10

/* keys of the counters map: one per live program */
enum { L_XDP, L_SOCK, L_RAWTP, L_CGSKB, NR_LIVE };
#define NR_KEYS 8

struct live {
	const char *name;
	enum bpf_prog_type type;
	int fd;
	struct bpf_insn insns[64]; /* load-time code */
	__u32 cnt;
	/* bpf_prog_info at load */
	__u32 id, xlated_len, jited_len, nr_map_ids;
	__u8 tag[BPF_TAG_SIZE];
	__u32 rejit_cnt; /* successful re-JITs so far: users count them */
};

static struct live live[NR_LIVE] = {
	[L_XDP] = { .name = "xdp", .type = BPF_PROG_TYPE_XDP },
	[L_SOCK] = { .name = "socket_filter", .type = BPF_PROG_TYPE_SOCKET_FILTER },
	[L_RAWTP] = { .name = "raw_tp", .type = BPF_PROG_TYPE_RAW_TRACEPOINT },
	[L_CGSKB] = { .name = "cgroup_skb", .type = BPF_PROG_TYPE_CGROUP_SKB },
};
static int counters_fd, sock_pair[2] = { -1, -1 }, raw_tp_fd = -1;
/* an empty prog_array: the XDP program tail-calls, so new code may too */
static int live_jmp_fd;

/* the IPv4 packet gets XDP_TX and is counted, the ARP one XDP_PASS */
static unsigned char pkt_ip[64] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45 };
static unsigned char pkt_arp[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x08, 0x06 };

/* counters[key] += 1 (r0-r5 clobbered): 9 insns */
#define COUNT(KEY)                                                             \
	ST(W, R10, -4, KEY), MOV64_REG(R2, R10), ALU64_IMM(ADD, R2, -4),       \
		LD_MAP(R1, BPF_PSEUDO_MAP_FD, counters_fd),                    \
		CALL(BPF_FUNC_map_lookup_elem), JMP_IMM(JEQ, R0, 0, 2),        \
		MOV64_IMM(R1, 1), XADD64(R0, R1, 0)

/* Load-time code of each live program; variants of the fuzzer's pool are
 * built from the same pieces.
 */
#define XDP_PROLOGUE 6 /* insns before the packet checks */
static __u32 xdp_code(struct bpf_insn *p)
{
	struct bpf_insn c[] = {
		MOV64_REG(R6, R1),
		LD_MAP(R2, BPF_PSEUDO_MAP_FD, live_jmp_fd),
		MOV64_IMM(R3, 0),
		CALL(BPF_FUNC_tail_call), /* the slot is empty: falls through */
		MOV64_REG(R1, R6),
		LDX(W, R2, R1, 0),	 /* data */
		LDX(W, R3, R1, 4),	 /* data_end */
		MOV64_REG(R4, R2),
		ALU64_IMM(ADD, R4, 14),
		MOV64_IMM(R0, XDP_DROP), /* runt */
		JMP_REG(JGT, R4, R3, 13),
		MOV64_IMM(R0, XDP_PASS),
		LDX(H, R4, R2, 12),
		JMP_IMM(JNE, R4, 0x0008, 10), /* not IPv4 */
		COUNT(L_XDP),
		MOV64_IMM(R0, XDP_TX),
		EXIT(),
	};

	memcpy(p, c, sizeof(c));
	return ARRAY_SIZE(c);
}

/* counts every datagram, drops those starting with 'D' */
static __u32 sock_code(struct bpf_insn *p)
{
	struct bpf_insn c[] = {
		MOV64_REG(R6, R1),
		COUNT(L_SOCK),
		LD_ABS(B, 0),
		JMP_IMM(JEQ, R0, 'D', 2),
		MOV64_IMM(R0, 0xffff),
		EXIT(),
		MOV64_IMM(R0, 0),
		EXIT(),
	};

	memcpy(p, c, sizeof(c));
	return ARRAY_SIZE(c);
}

/* sys_enter: counts getppid() of this process */
static __u32 raw_tp_code(struct bpf_insn *p)
{
	struct bpf_insn c[] = {
		LDX(DW, R2, R1, 8), /* args[1]: syscall nr */
		JMP_IMM(JNE, R2, __NR_getppid, 12),
		CALL(BPF_FUNC_get_current_pid_tgid),
		ALU64_IMM(RSH, R0, 32),
		JMP_IMM(JNE, R0, getpid(), 9),
		COUNT(L_RAWTP),
		MOV64_IMM(R0, 0),
		EXIT(),
	};

	memcpy(p, c, sizeof(c));
	return ARRAY_SIZE(c);
}

static __u32 cgskb_code(struct bpf_insn *p)
{
	struct bpf_insn c[] = {
		COUNT(L_CGSKB),
		MOV64_IMM(R0, 1),
		EXIT(),
	};

	memcpy(p, c, sizeof(c));
	return ARRAY_SIZE(c);
}

static __u32 (*const live_code[NR_LIVE])(struct bpf_insn *) = {
	xdp_code, sock_code, raw_tp_code, cgskb_code,
};

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_prog_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static char load_log[1 << 16];
static __u32 load_log_level = 1;

/* BPF_PROG_LOAD @insns as a program of @type; fd or -errno */
static int load_as(enum bpf_prog_type type, const struct bpf_insn *insns, __u32 cnt,
		   const int *fd_array, __u32 flags)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = load_log,
		    .log_size = sizeof(load_log), .log_level = load_log_level,
		    .fd_array = fd_array, .prog_flags = flags);
	int fd;

	load_log[0] = 0;
	fd = bpf_prog_load(type, NULL, "GPL", insns, cnt, &opts);
	return fd < 0 ? -errno : fd;
}

/* Load and attach the live programs; 0 or -errno (@why says what failed). */
static int live_setup(const char **why)
{
	struct bpf_prog_info info;
	int err;

	counters_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "counters", 4, 8, NR_KEYS, NULL);
	if (counters_fd < 0)
		return *why = "counters map", -errno;
	live_jmp_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "live_jmp", 4, 4, 1, NULL);
	if (live_jmp_fd < 0)
		return *why = "prog_array", -errno;
	for (int i = 0; i < NR_LIVE; i++) {
		struct live *l = &live[i];

		l->cnt = live_code[i](l->insns);
		l->fd = load_as(l->type, l->insns, l->cnt, NULL, 0);
		if (l->fd < 0) {
			fprintf(stderr, "%s: %s\n", l->name, load_log);
			return *why = l->name, l->fd;
		}
		err = prog_info(l->fd, &info);
		if (err)
			return *why = "prog info", err;
		l->id = info.id;
		l->xlated_len = info.xlated_prog_len;
		l->jited_len = info.jited_prog_len;
		l->nr_map_ids = info.nr_map_ids;
		memcpy(l->tag, info.tag, sizeof(l->tag));
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sock_pair) ||
	    setsockopt(sock_pair[1], SOL_SOCKET, SO_ATTACH_BPF, &live[L_SOCK].fd, sizeof(int)))
		return *why = "socket filter attach", -errno;
	raw_tp_fd = bpf_raw_tracepoint_open("sys_enter", live[L_RAWTP].fd);
	if (raw_tp_fd < 0)
		return *why = "raw_tp attach", -errno;
	return 0;
}

static void counters_read(__u64 *v)
{
	for (__u32 k = 0; k < NR_KEYS; k++) {
		v[k] = 0;
		bpf_map_lookup_elem(counters_fd, &k, &v[k]);
	}
}

static int test_run(int fd, const void *pkt, __u32 size, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = size,
		    .repeat = 1);
	int err = bpf_prog_test_run_opts(fd, &opts);

	*retval = opts.retval;
	return err ? -errno : 0;
}

/* Datagram @s through the filtered socket: its length as received, or
 * -errno (-EAGAIN: dropped).
 */
static int sock_pass(const char *s)
{
	char buf[64];
	int n;

	if (send(sock_pair[0], s, strlen(s), 0) != (ssize_t)strlen(s))
		return -errno;
	n = recv(sock_pair[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	return n == (int)strlen(s) && !memcmp(buf, s, n) ? n : -EPROTO;
}

/* Drive the program of @which with its inputs; the first difference from
 * its known results goes to @why (NULL: none).
 */
static void live_drive(int which, char *why, size_t len)
{
	__u32 ret;
	int n;

	switch (which) {
	case L_XDP:
		if (test_run(live[which].fd, pkt_ip, sizeof(pkt_ip), &ret) || ret != XDP_TX)
			snprintf(why, len, "xdp: IPv4 packet gives %u, want %u", ret, XDP_TX);
		else if (test_run(live[which].fd, pkt_arp, sizeof(pkt_arp), &ret) ||
			 ret != XDP_PASS)
			snprintf(why, len, "xdp: ARP packet gives %u, want %u", ret, XDP_PASS);
		break;
	case L_SOCK:
		n = sock_pass("Pass");
		if (n != 4) {
			snprintf(why, len, "socket filter: 'Pass' datagram: %d, want 4", n);
			break;
		}
		n = sock_pass("Drop");
		if (n != -EAGAIN)
			snprintf(why, len, "socket filter: 'Drop' datagram: %d, want dropped", n);
		break;
	case L_RAWTP:
		for (int i = 0; i < 3; i++)
			syscall(SYS_getppid);
		break;
	case L_CGSKB:
		if (test_run(live[which].fd, pkt_ip, sizeof(pkt_ip), &ret) || ret != 1)
			snprintf(why, len, "cgroup_skb: packet gives %u, want 1", ret);
		break;
	}
}

/* counter increments per live_drive() */
static const __u64 live_delta[NR_LIVE] = { 1, 2, 3, 1 };

/* The program of @which still has its load-time id, its expected
 * rejit_cnt and, with @code, its load-time code (same xlated length,
 * JITed length, map count and tag), and gives its known results: return
 * value or verdict and an exact counter increment, no other counter
 * touched. Returns 0, or -1 with the first difference in @why.
 */
static int live_check_code(int which, bool code, char *why, size_t len)
{
	struct live *l = &live[which];
	struct bpf_prog_info info;
	__u64 before[NR_KEYS], after[NR_KEYS];
	int err;

	why[0] = 0;
	err = prog_info(l->fd, &info);
	if (err) {
		snprintf(why, len, "%s: prog info: %d", l->name, err);
		return -1;
	}
	if (info.id != l->id || info.rejit_cnt != l->rejit_cnt) {
		snprintf(why, len, "%s: id %u rejit_cnt %u, want %u %u", l->name, info.id,
			 info.rejit_cnt, l->id, l->rejit_cnt);
		return -1;
	}
	if (code && (info.xlated_prog_len != l->xlated_len ||
		     info.jited_prog_len != l->jited_len || info.nr_map_ids != l->nr_map_ids ||
		     memcmp(info.tag, l->tag, sizeof(l->tag)))) {
		snprintf(why, len,
			 "%s: xlated %u jited %u maps %u tag %016llx, want %u %u %u %016llx",
			 l->name, info.xlated_prog_len, info.jited_prog_len, info.nr_map_ids,
			 (unsigned long long)be64toh(*(__u64 *)info.tag), l->xlated_len,
			 l->jited_len, l->nr_map_ids,
			 (unsigned long long)be64toh(*(__u64 *)l->tag));
		return -1;
	}
	counters_read(before);
	live_drive(which, why, len);
	if (why[0])
		return -1;
	counters_read(after);
	for (int k = 0; k < NR_KEYS; k++) {
		__u64 want = k == which ? live_delta[which] : 0;

		if (after[k] - before[k] != want) {
			snprintf(why, len, "%s: counter %d grew by %llu, want %llu", l->name, k,
				 (unsigned long long)(after[k] - before[k]),
				 (unsigned long long)want);
			return -1;
		}
	}
	return 0;
}

static int live_check(int which, char *why, size_t len)
{
	return live_check_code(which, true, why, len);
}

/* live_check() of every live program; 0 or -1 with @why */
static int live_check_all(char *why, size_t len)
{
	for (int i = 0; i < NR_LIVE; i++)
		if (live_check(i, why, len))
			return -1;
	return 0;
}

static void live_teardown(void)
{
	if (raw_tp_fd >= 0)
		close(raw_tp_fd);
	for (int i = 0; i < 2; i++)
		if (sock_pair[i] >= 0)
			close(sock_pair[i]);
	for (int i = 0; i < NR_LIVE; i++)
		if (live[i].fd > 0)
			close(live[i].fd);
	close(counters_fd);
	close(live_jmp_fd);
}

#endif
