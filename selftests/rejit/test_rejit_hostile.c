// SPDX-License-Identifier: GPL-2.0
/* Hostile BPF_PROG_REJIT: replacements that must be refused, run inside
 * the VM on the patched kernel.
 *
 * Four live programs with exactly known results (live_progs.h: XDP and
 * cgroup_skb through BPF_PROG_TEST_RUN, a socket filter on a datagram
 * socket pair, a raw tracepoint counting our getppid() calls) are re-JITed
 * with code the verifier must refuse. Each case checks the errno and the
 * verifier's reason, that BPF_PROG_LOAD refuses the same code the same way
 * (a re-JIT is no back door), and then that every live program still has
 * its id and load-time code (xlated and JITed length, tag, rejit_cnt) and
 * gives its known results. Controls (the same code made legal) must be
 * accepted and seen by that check, then the original code goes back: the
 * harness notices a replacement that gets through.
 *
 *   test_rejit_hostile
 */
#include "live_progs.h" /* first: _GNU_SOURCE */
#include "harness.h"

#include <bpf/btf.h>
#include <fcntl.h>
#include <stddef.h>
#include <time.h>

static int findings;


static char log_buf[1 << 16];
/* 1, or BPF_LOG_STATS (messages, no instruction trace) where a trace of
 * the refused code would not fit the buffer: the log's ENOSPC would then
 * be the errno.
 */
#define BPF_LOG_STATS 4 /* not UAPI */
static __u32 log_level = 1;

static int rejit_code(int which, const struct bpf_insn *insns, __u32 cnt,
		      const int *fd_array, __u32 flags)
{
	LIBBPF_OPTS(bpf_prog_rejit_opts, opts, .fd_array = fd_array, .prog_flags = flags,
		    .log_buf = log_buf, .log_size = sizeof(log_buf), .log_level = log_level);

	int err;

	log_buf[0] = 0;
	err = bpf_prog_rejit(live[which].fd, insns, cnt, &opts);
	if (!err)
		live[which].rejit_cnt++;
	return err;
}

static int restore(int which)
{
	return rejit_code(which, live[which].insns, live[which].cnt, NULL, 0);
}

static const char *errno_name(int err)
{
	static char buf[16];

	switch (err < 0 ? -err : err) {
	case 0: return "accepted";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EPROTO: return "EPROTO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case 524: return "ENOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* The line of @log holding @what, for the report */
static void log_line(const char *log, const char *what, char *out, size_t len)
{
	const char *s = what ? strstr(log, what) : NULL, *e;

	out[0] = 0;
	if (!s)
		return;
	while (s > log && s[-1] != '\n')
		s--;
	e = strchrnul(s, '\n');
	snprintf(out, len, "%.*s", (int)(e - s > 90 ? 90 : e - s), s);
}

static void dump_insns(const struct bpf_insn *p, __u32 cnt)
{
	for (__u32 i = 0; i < cnt && i < 64; i++)
		fprintf(stderr, "    %3u: code %02x dst r%u src r%u off %d imm %d\n", i,
			p[i].code, p[i].dst_reg, p[i].src_reg, p[i].off, p[i].imm);
}

struct hostile {
	int which;		/* live program to re-JIT */
	const struct bpf_insn *insns;
	__u32 cnt;
	const int *fd_array;
	__u32 flags;		/* prog_flags */
	int err;		/* expected errno */
	const char *log;	/* expected in the verifier log; NULL: refused before or after it */
	bool rejit_only;	/* a re-JIT check (the live program's attachment), not a load one */
	bool short_log;		/* log_level BPF_LOG_STATS */
};

/* Re-JIT with @h's code: refused with its errno and log line, refused by
 * BPF_PROG_LOAD as well, and nothing changed.
 */
static int refused(const struct hostile *h)
{
	struct bpf_prog_info before, after;
	char why[256], line[128];
	int err, fd;

	ASSERT(!prog_info(live[h->which].fd, &before), "info");
	log_level = load_log_level = h->short_log ? BPF_LOG_STATS : 1;
	err = rejit_code(h->which, h->insns, h->cnt, h->fd_array, h->flags);
	log_level = 1;
	if (!err) {
		findings++;
		fprintf(stderr, "  FINDING %s: BPF_PROG_REJIT of %s ACCEPTED this code:\n",
			current, live[h->which].name);
		dump_insns(h->insns, h->cnt);
		fprintf(stderr, "  verifier log:\n%s\n", log_buf);
		ASSERT(!restore(h->which), "restore after the finding: %s", log_buf);
		return -1;
	}
	ASSERT(err == -h->err, "errno %s, want %s; log:\n%s", errno_name(err),
	       errno_name(h->err), log_buf);
	if (h->log) {
		ASSERT(log_buf[0], "empty verifier log");
		ASSERT(strstr(log_buf, h->log), "log lacks '%s':\n%s", h->log, log_buf);
	}
	log_line(log_buf, h->log, line, sizeof(line));
	if (!h->rejit_only) {
		fd = load_as(live[h->which].type, h->insns, h->cnt, h->fd_array, h->flags);
		load_log_level = 1;
		if (fd >= 0)
			close(fd);
		ASSERT(fd == -h->err, "BPF_PROG_LOAD of the same code: %s, want %s",
		       errno_name(fd), errno_name(h->err));
	}
	/* (rejit_cnt too: the live programs count their re-JITs) */
	ASSERT(!live_check_all(why, sizeof(why)), "after the refusal: %s", why);
	ASSERT(!prog_info(live[h->which].fd, &after), "info");
	ASSERT(after.rejit_cnt == before.rejit_cnt, "rejit_cnt %u -> %u", before.rejit_cnt,
	       after.rejit_cnt);
	snprintf(detail, sizeof(detail), "%-8s %s", errno_name(err), line);
	return 0;
}

#define REFUSED(...) refused(&(struct hostile){ __VA_ARGS__ })

/* A control: the same code made legal is accepted, the harness sees the
 * new behaviour (@seen: part of its report), the original code goes back
 * and gives the known results again.
 */
static int control(int which, const struct bpf_insn *insns, __u32 cnt, const int *fd_array,
		   __u32 flags, const char *seen)
{
	struct bpf_prog_info before, after;
	char why[256];

	ASSERT(!prog_info(live[which].fd, &before), "info");
	ASSERT(!rejit_code(which, insns, cnt, fd_array, flags), "control refused:\n%s", log_buf);
	ASSERT(live_check_code(which, false, why, sizeof(why)), "the harness missed the new code");
	ASSERT(strstr(why, seen), "harness saw '%s', want '%s'", why, seen);
	ASSERT(!prog_info(live[which].fd, &after), "info");
	ASSERT(after.id == before.id && after.rejit_cnt == before.rejit_cnt + 1,
	       "id %u -> %u, rejit_cnt %u -> %u", before.id, after.id, before.rejit_cnt,
	       after.rejit_cnt);
	snprintf(detail, sizeof(detail), "accepted, seen: %s; restored", why);
	ASSERT(!restore(which), "restore: %s", log_buf);
	ASSERT(!live_check_all(why, sizeof(why)), "after restore: %s", why);
	return 0;
}

/* Code the privileged verifier accepts on purpose, hostile as it looks:
 * BPF_PROG_REJIT must decide as BPF_PROG_LOAD does, and the harness must
 * see the new code (@seen), which then goes back.
 */
static int as_load(int which, const struct bpf_insn *insns, __u32 cnt, const char *seen,
		   const char *why_ok)
{
	int fd = load_as(live[which].type, insns, cnt, NULL, 0);

	if (fd >= 0)
		close(fd);
	ASSERT(fd >= 0, "BPF_PROG_LOAD refuses it now (%s): make this a REFUSED case\n%s",
	       errno_name(fd), load_log);
	ASSERT(!control(which, insns, cnt, NULL, 0, seen), "BPF_PROG_LOAD accepts it");
	snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), " (as LOAD: %s)",
		 why_ok);
	return 0;
}

/* ---- XDP: packet and map access ------------------------------------ */

/* r2 = data, r3 = data_end (2 insns) */
#define XDP_PTRS LDX(W, R2, R1, 0), LDX(W, R3, R1, 4)

static int case_pkt_unchecked(void)
{
	struct bpf_insn p[] = { XDP_PTRS, LDX(B, R0, R2, 0), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "invalid access to packet, off=0 size=1");
}

static int case_pkt_checked_control(void)
{
	/* first byte of pkt_ip: 2 (XDP_PASS) */
	struct bpf_insn p[] = {
		XDP_PTRS, MOV64_IMM(R0, XDP_DROP), MOV64_REG(R4, R2), ALU64_IMM(ADD, R4, 1),
		JMP_REG(JGT, R4, R3, 1), LDX(B, R0, R2, 0), EXIT(),
	};

	return control(L_XDP, p, ARRAY_SIZE(p), NULL, 0, "IPv4 packet gives 2");
}

static int case_pkt_past_bound(void)
{
	struct bpf_insn p[] = {
		XDP_PTRS, MOV64_IMM(R0, XDP_DROP), MOV64_REG(R4, R2), ALU64_IMM(ADD, R4, 14),
		JMP_REG(JGT, R4, R3, 1), LDX(B, R0, R2, 14), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "invalid access to packet, off=14 size=1");
}

static int case_pkt_past_bound_control(void)
{
	/* byte 13 of pkt_ip: 0 (XDP_ABORTED) */
	struct bpf_insn p[] = {
		XDP_PTRS, MOV64_IMM(R0, XDP_DROP), MOV64_REG(R4, R2), ALU64_IMM(ADD, R4, 14),
		JMP_REG(JGT, R4, R3, 1), LDX(B, R0, R2, 13), EXIT(),
	};

	return control(L_XDP, p, ARRAY_SIZE(p), NULL, 0, "IPv4 packet gives 0");
}

/* r0 = &counters[0], or exit with XDP_PASS (7 insns) */
#define LOOKUP0                                                                \
	ST(W, R10, -4, 0), MOV64_REG(R2, R10), ALU64_IMM(ADD, R2, -4),         \
		LD_MAP(R1, BPF_PSEUDO_MAP_FD, counters_fd),                    \
		CALL(BPF_FUNC_map_lookup_elem), JMP_IMM(JNE, R0, 0, 2),        \
		MOV64_IMM(R0, XDP_PASS), EXIT()

static int case_map_off_value_size(void)
{
	struct bpf_insn p[] = { LOOKUP0, LDX(DW, R0, R0, 8), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "invalid access to map value, value_size=8 off=8 size=8");
}

static int case_map_off_control(void)
{
	/* the high half of a small counter: 0 (XDP_ABORTED) */
	struct bpf_insn p[] = { LOOKUP0, LDX(W, R0, R0, 4), EXIT() };

	return control(L_XDP, p, ARRAY_SIZE(p), NULL, 0, "IPv4 packet gives 0");
}

static int case_map_var_off_unbounded(void)
{
	struct bpf_insn p[] = {
		LOOKUP0, LDX(DW, R1, R0, 0), ALU64_REG(ADD, R0, R1), LDX(B, R0, R0, 0),
		MOV64_IMM(R0, XDP_ABORTED), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "math between map_value pointer and register with unbounded min value");
}

static int case_map_var_off_past_end(void)
{
	struct bpf_insn p[] = {
		LOOKUP0, LDX(DW, R1, R0, 0), ALU64_IMM(AND, R1, 15), ALU64_REG(ADD, R0, R1),
		LDX(B, R0, R0, 0), MOV64_IMM(R0, XDP_ABORTED), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "max value is outside of the allowed memory range");
}

static int case_map_var_off_control(void)
{
	struct bpf_insn p[] = {
		LOOKUP0, LDX(DW, R1, R0, 0), ALU64_IMM(AND, R1, 7), ALU64_REG(ADD, R0, R1),
		LDX(B, R0, R0, 0), MOV64_IMM(R0, XDP_ABORTED), EXIT(),
	};

	return control(L_XDP, p, ARRAY_SIZE(p), NULL, 0, "IPv4 packet gives 0");
}

/* ---- stack and frame pointer ---------------------------------------- */

static int case_stack_below_512(void)
{
	struct bpf_insn p[] = { ST(DW, R10, -520, 0), MOV64_IMM(R0, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES, .log = "stack R10 off=-520");
}

static int case_stack_above_frame(void)
{
	struct bpf_insn p[] = { LDX(DW, R0, R10, 0), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "invalid read from stack R10 off=0 size=8");
}

/* Privileged (CAP_PERFMON) code may read stack it never wrote: the
 * verifier's allow_uninit_stack, for BPF_PROG_LOAD as for a re-JIT.
 */
static int case_stack_uninit_read(void)
{
	struct bpf_insn p[] = { LDX(B, R0, R10, -8), ALU64_IMM(OR, R0, 0x100), EXIT() };

	return as_load(L_XDP, p, ARRAY_SIZE(p), "IPv4 packet gives", "allow_uninit_stack");
}

static int case_stack_misaligned(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R1, 0), STX(W, R10, R1, -3), MOV64_IMM(R0, XDP_DROP), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .flags = BPF_F_STRICT_ALIGNMENT, .err = EACCES,
		       .log = "misaligned stack access off");
}

/* a 4-byte packet load at offset 1 (bytes 1-4 of pkt_ip: 0) */
#define PKT_LOAD_AT_1                                                          \
	XDP_PTRS, MOV64_IMM(R0, XDP_DROP), MOV64_REG(R4, R2), ALU64_IMM(ADD, R4, 8), \
		JMP_REG(JGT, R4, R3, 1), LDX(W, R0, R2, 1), EXIT()

static int case_pkt_misaligned_strict(void)
{
	struct bpf_insn p[] = { PKT_LOAD_AT_1 };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .flags = BPF_F_STRICT_ALIGNMENT, .err = EACCES,
		       .log = "misaligned packet access");
}

static int case_pkt_misaligned_control(void)
{
	struct bpf_insn p[] = { PKT_LOAD_AT_1 };

	return control(L_XDP, p, ARRAY_SIZE(p), NULL, 0, "IPv4 packet gives 0");
}

static int case_write_r10(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R10, 0), MOV64_IMM(R0, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES, .log = "frame pointer is read only");
}

static int case_alu_r10(void)
{
	struct bpf_insn p[] = { ALU64_IMM(ADD, R10, 8), MOV64_IMM(R0, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES, .log = "frame pointer is read only");
}

static int case_load_into_r10(void)
{
	struct bpf_insn p[] = { LDX(DW, R10, R1, 0), MOV64_IMM(R0, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES, .log = "frame pointer is read only");
}

/* ---- control flow ----------------------------------------------------- */

static int case_loop_no_exit(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R0, XDP_DROP), JA(-1) };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "infinite loop detected");
}

/* while (1) x++: a known counter, every branch decided, never out */
static int case_loop_counter(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R0, XDP_DROP), MOV64_IMM(R1, 0), ALU64_IMM(ADD, R1, 1),
		JMP_IMM(JNE, R1, 0, -2), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = E2BIG, .short_log = true,
		       .log = "BPF program is too large. Processed 1000001 insn");
}

/* the same on an unknown counter: the loop state repeats */
static int case_loop_unknown_counter(void)
{
	struct bpf_insn p[] = {
		CALL(BPF_FUNC_get_prandom_u32), ALU64_IMM(ADD, R0, 1), JMP_IMM(JNE, R0, 0, -2),
		EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "infinite loop detected");
}

static int case_jump_out_of_range(void)
{
	struct bpf_insn p[] = { JA(100), MOV64_IMM(R0, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "jump out of range from insn 0 to 101");
}

static int case_jump_backward_out(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R0, XDP_DROP), JMP_IMM(JEQ, R1, 0, -5), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "jump out of range from insn 1 to -3");
}

static int case_jump_into_ldimm64(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R0, XDP_DROP), JMP_IMM(JEQ, R1, 0, 1), LD_IMM64(R0, 0x100000001ULL),
		EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "jump into the middle of ldimm64 insn 2");
}

static int case_ldimm64_truncated(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R0, XDP_DROP), EXIT(), LD_IMM64(R0, 1) };

	/* the second slot is cut off */
	return REFUSED(L_XDP, p, ARRAY_SIZE(p) - 1, .err = EINVAL,
		       .log = "last insn is not an exit or jmp");
}

static int case_ldimm64_bad_second_slot(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R0, XDP_DROP), LD_IMM64(R1, 1), EXIT() };

	p[2] = JA(0); /* where the second slot (code 0) belongs */
	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "invalid bpf_ld_imm64 insn");
}

static int case_div_zero_imm(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R0, 7), INSN(BPF_ALU64 | BPF_DIV | BPF_K, R0, 0, 0, 0), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "div by zero");
}

static int case_mod_zero_imm32(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R0, 7), INSN(BPF_ALU | BPF_MOD | BPF_K, R0, 0, 0, 0), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "div by zero");
}

/* Dividing by a register that holds 0 is defined (the result is 0). */
static int case_div_zero_reg_control(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R0, 7), MOV64_IMM(R1, 0), ALU64_REG(DIV, R0, R1), EXIT(),
	};

	return control(L_XDP, p, ARRAY_SIZE(p), NULL, 0, "IPv4 packet gives 0");
}

static int case_reserved_opcode(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R0, XDP_DROP), INSN(BPF_ALU64 | 0xe0 | BPF_K, R0, 0, 0, 1), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "unknown opcode e7");
}

static int case_reserved_jmp_opcode(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R0, XDP_DROP), INSN(BPF_JMP | 0xf0 | BPF_X, R0, R1, 0, 0), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "unknown opcode fd");
}

static int case_insn_cnt_over_limit(void)
{
	const __u32 cnt = 1000001; /* BPF_COMPLEXITY_LIMIT_INSNS + 1 */
	struct bpf_insn *p = calloc(cnt, sizeof(*p));
	int err;

	ASSERT(p, "calloc");
	for (__u32 i = 0; i < cnt; i++)
		p[i] = MOV64_IMM(R0, XDP_DROP);
	p[cnt - 1] = EXIT();
	err = REFUSED(L_XDP, p, cnt, .err = E2BIG);
	free(p);
	return err;
}

/* ---- registers -------------------------------------------------------- */

static int case_uninit_reg(void)
{
	struct bpf_insn p[] = { MOV64_REG(R0, R5), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES, .log = "R5 !read_ok");
}

static int case_exit_r0_unset(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R1, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES, .log = "R0 !read_ok");
}

static int case_r1_after_call(void)
{
	struct bpf_insn p[] = { CALL(BPF_FUNC_get_prandom_u32), MOV64_REG(R0, R1), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES, .log = "R1 !read_ok");
}

/* ---- pointers ----------------------------------------------------------- */

/* cgroup_skb: lookup key 0, the pointer itself as the verdict */
static int case_return_pointer(void)
{
	struct bpf_insn p[] = {
		ST(W, R10, -4, 0), MOV64_REG(R2, R10), ALU64_IMM(ADD, R2, -4),
		LD_MAP(R1, BPF_PSEUDO_MAP_FD, counters_fd), CALL(BPF_FUNC_map_lookup_elem),
		JMP_IMM(JNE, R0, 0, 1), MOV64_IMM(R0, 1), EXIT(),
	};

	return REFUSED(L_CGSKB, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "At program exit the register R0 is not a known value (map_value)");
}

static int case_return_out_of_range(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R0, 7), EXIT() };

	return REFUSED(L_CGSKB, p, ARRAY_SIZE(p), .err = EINVAL, .log = "should have been in [0, 1]");
}

static int case_return_range_control(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R0, 0), EXIT() };

	return control(L_CGSKB, p, ARRAY_SIZE(p), NULL, 0, "cgroup_skb: packet gives 0");
}

/* Privileged code may store pointers in maps (allow_ptr_leaks, which
 * CAP_PERFMON grants): the live XDP code, but counters[0] gets the
 * address of itself rather than an increment.
 */
static int case_pointer_into_map(void)
{
	struct bpf_insn p[64];
	__u32 n = xdp_code(p), key = 0;
	__u64 v = 0;
	int err;

	struct bpf_insn *q = p + XDP_PROLOGUE;

	/* after the XADD (17): *(u64 *)(r0 + 0) = r0; the jumps over it grow */
	memmove(&q[19], &q[18], (n - XDP_PROLOGUE - 18) * sizeof(*p));
	q[18] = STX(DW, R0, R0, 0);
	q[5].off++;
	q[8].off++;
	q[15].off++;
	err = as_load(L_XDP, p, n + 1, "counter 0 grew by", "allow_ptr_leaks");
	bpf_map_lookup_elem(counters_fd, &key, &v);
	snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
		 "; counters[0] read %#llx", (unsigned long long)v);
	bpf_map_update_elem(counters_fd, &key, &(__u64){ 0 }, BPF_ANY);
	return err;
}

/* ---- context ------------------------------------------------------------- */

static int case_xdp_ctx_off64(void)
{
	struct bpf_insn p[] = { LDX(W, R0, R1, 64), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "invalid bpf_context access off=64 size=4");
}

static int case_xdp_ctx_write(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R2, 0), STX(W, R1, R2, 0), MOV64_IMM(R0, XDP_DROP),
				EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "invalid bpf_context access off=0 size=4");
}

static int case_sock_ctx_write_mark(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R2, 1), STX(W, R1, R2, offsetof(struct __sk_buff, mark)),
		MOV64_IMM(R0, 0), EXIT(),
	};

	return REFUSED(L_SOCK, p, ARRAY_SIZE(p), .err = EACCES,
		       .log = "invalid bpf_context access off=8 size=4");
}

/* sys_enter has two arguments; the live program reads up to args[1] */
static int case_raw_tp_more_ctx(void)
{
	struct bpf_insn p[] = { LDX(DW, R0, R1, 16), MOV64_IMM(R0, 0), EXIT() };

	return REFUSED(L_RAWTP, p, ARRAY_SIZE(p), .err = EACCES, .rejit_only = true,
		       .log = "new code reads more context than the program");
}

/* ---- helpers ------------------------------------------------------------- */

static int case_helper_not_for_xdp(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R2, 0), CALL(BPF_FUNC_override_return),
				MOV64_IMM(R0, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "program of this type cannot use helper bpf_override_return#58");
}

static int case_helper_not_for_sock(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R1, 9), CALL(BPF_FUNC_send_signal), MOV64_IMM(R0, 0),
				EXIT() };

	return REFUSED(L_SOCK, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "program of this type cannot use helper bpf_send_signal#109");
}

static int case_helper_unknown(void)
{
	struct bpf_insn p[] = { CALL(100000), MOV64_IMM(R0, XDP_DROP), EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL, .log = "invalid func unknown#100000");
}

static int case_sleepable_helper(void)
{
	struct bpf_insn p[] = {
		MOV64_REG(R1, R10), ALU64_IMM(ADD, R1, -8), MOV64_IMM(R2, 8), MOV64_IMM(R3, 0),
		CALL(BPF_FUNC_copy_from_user), MOV64_IMM(R0, 0), EXIT(),
	};

	return REFUSED(L_RAWTP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "helper call might sleep in a non-sleepable prog");
}

/* ---- tail calls ------------------------------------------------------------ */

static int jmp_sock_fd = -1, jmp_xdp_fd = -1, callee_fd = -1;

/* tail call through slot 0 of the prog_array @map_fd, then XDP_TX */
#define TAIL_CALL(MAP)                                                         \
	LD_MAP(R2, BPF_PSEUDO_MAP_FD, MAP), MOV64_IMM(R3, 0),                  \
		CALL(BPF_FUNC_tail_call), MOV64_IMM(R0, XDP_TX), EXIT()

static int tail_call_maps(void)
{
	struct bpf_insn drop[] = { MOV64_IMM(R0, XDP_DROP), EXIT() };
	__u32 zero = 0;

	if (jmp_sock_fd >= 0)
		return 0;
	/* slot 0 holds the socket filter: the map's owner type is socket filter */
	jmp_sock_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "jmp_sock", 4, 4, 1, NULL);
	jmp_xdp_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "jmp_xdp", 4, 4, 1, NULL);
	callee_fd = load_as(BPF_PROG_TYPE_XDP, drop, ARRAY_SIZE(drop), NULL, 0);
	ASSERT(jmp_sock_fd >= 0 && jmp_xdp_fd >= 0 && callee_fd >= 0, "prog arrays");
	ASSERT(!bpf_map_update_elem(jmp_sock_fd, &zero, &live[L_SOCK].fd, BPF_ANY), "slot");
	ASSERT(!bpf_map_update_elem(jmp_xdp_fd, &zero, &callee_fd, BPF_ANY), "slot");
	return 0;
}

static int case_tail_call_other_type(void)
{
	struct bpf_insn p[] = { TAIL_CALL(jmp_sock_fd) };

	ASSERT(!tail_call_maps(), "setup");
	p[0].imm = jmp_sock_fd;
	/* refused after verification, when the prog_array's owner is checked */
	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL);
}

/* New code may not tail-call where the live program does not: callers
 * of skb programs save skb->cb only for programs that use it.
 */
static int case_tail_call_added(void)
{
	struct bpf_insn p[] = { TAIL_CALL(jmp_sock_fd) };

	ASSERT(!tail_call_maps(), "setup");
	p[0].imm = jmp_sock_fd;
	p[4] = MOV64_IMM(R0, 1);
	return REFUSED(L_CGSKB, p, ARRAY_SIZE(p), .err = EPERM, .rejit_only = true,
		       .log = "skb->cb or tail calls, not saved");
}

static int case_tail_call_control(void)
{
	struct bpf_insn p[] = { TAIL_CALL(jmp_xdp_fd) };

	ASSERT(!tail_call_maps(), "setup");
	p[0].imm = jmp_xdp_fd;
	return control(L_XDP, p, ARRAY_SIZE(p), NULL, 0, "IPv4 packet gives 1");
}

/* ---- fd_array and map references ----------------------------------------- */

/* XDP: counters[0] through the map at fd_array[0] (or fd @IMM with MAP_FD), DROP */
#define MAP_REF(SRC, IMM)                                                      \
	ST(W, R10, -4, 0), MOV64_REG(R2, R10), ALU64_IMM(ADD, R2, -4),         \
		LD_MAP(R1, SRC, IMM), CALL(BPF_FUNC_map_lookup_elem),          \
		MOV64_IMM(R0, XDP_DROP), EXIT()

static int case_fd_array_minus1(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_IDX, 0) };
	int fds[] = { -1 };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .fd_array = fds, .err = EBADF,
		       .log = "fd -1 is not pointing to valid bpf_map");
}

static int case_fd_array_closed(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_IDX, 1) };
	int fds[] = { counters_fd, dup(counters_fd) };

	close(fds[1]);
	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .fd_array = fds, .err = EBADF,
		       .log = "is not pointing to valid bpf_map");
}

static int case_fd_array_prog_fd(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_IDX, 0) };
	int fds[] = { live[L_XDP].fd };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .fd_array = fds, .err = EINVAL,
		       .log = "is not pointing to valid bpf_map");
}

static int case_fd_array_socket(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_IDX, 0) };
	int fds[] = { sock_pair[0] };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .fd_array = fds, .err = EINVAL,
		       .log = "is not pointing to valid bpf_map");
}

static int case_fd_array_null(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_IDX, 0) };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EPROTO,
		       .log = "fd_idx without fd_array is invalid");
}

static int case_fd_array_unmapped(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_IDX, 0) };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .fd_array = (const int *)8, .err = EFAULT);
}

static int case_map_fd_is_prog(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_FD, live[L_CGSKB].fd) };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "is not pointing to valid bpf_map");
}

static int case_fd_array_control(void)
{
	struct bpf_insn p[] = { MAP_REF(BPF_PSEUDO_MAP_IDX, 1) };
	int fds[] = { -1, counters_fd };

	return control(L_XDP, p, ARRAY_SIZE(p), fds, 0, "IPv4 packet gives 1");
}

/* ---- kinsn operand form ------------------------------------------------------ */

/* A kfunc that is no kinsn (vmlinux BTF): enough to get past the kfunc
 * checks to the operand form's own.
 */
static int kfunc_id(void)
{
	static int id;
	struct btf *btf;

	if (id)
		return id;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -1;
	id = btf__find_by_name_kind(btf, "bpf_rcu_read_lock", BTF_KIND_FUNC);
	btf__free(btf);
	return id;
}

#define KINSN(ID) INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 0, ID)

static int case_kinsn_bogus_id(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R1, 5), KINSN(0x7ffffff), INSN(0, R1, R1, 0, 13),
		MOV64_IMM(R0, XDP_DROP), EXIT(),
	};

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "kernel btf_id 134217727 is not a function");
}

static int case_kinsn_bogus_id_no_slot(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R1, 5), KINSN(0x7ffffff), MOV64_IMM(R0, XDP_DROP),
				EXIT() };

	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "kernel btf_id 134217727 is not a function");
}

static int case_kinsn_no_slot(void)
{
	struct bpf_insn p[] = { MOV64_IMM(R1, 5), KINSN(kfunc_id()), MOV64_IMM(R0, XDP_DROP),
				EXIT() };

	ASSERT(kfunc_id() > 0, "bpf_rcu_read_lock in vmlinux BTF");
	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "insn 1: kinsn without its operands");
}

static int case_kinsn_not_a_kinsn(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R1, 5), KINSN(kfunc_id()), INSN(0, R1, R2, 0, 13),
		MOV64_IMM(R0, XDP_DROP), EXIT(),
	};

	ASSERT(kfunc_id() > 0, "bpf_rcu_read_lock in vmlinux BTF");
	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "bpf_rcu_read_lock is not a kinsn with an operand form");
}

static int case_kinsn_jump_into_slot(void)
{
	struct bpf_insn p[] = {
		MOV64_IMM(R1, 5), JMP_IMM(JEQ, R1, 5, 1), KINSN(kfunc_id()),
		INSN(0, R1, R2, 0, 13), MOV64_IMM(R0, XDP_DROP), EXIT(),
	};

	ASSERT(kfunc_id() > 0, "bpf_rcu_read_lock in vmlinux BTF");
	return REFUSED(L_XDP, p, ARRAY_SIZE(p), .err = EINVAL,
		       .log = "jump into the operands of a kinsn");
}

/* ---- attributes: what the live program is, and the log ------------------------ */

static int sys_rejit(union bpf_attr *attr)
{
	return syscall(__NR_bpf, BPF_PROG_REJIT, attr, sizeof(*attr)) ? -errno : 0;
}

/* code that would switch XDP to XDP_DROP if it got through */
static const struct bpf_insn drop_code[] = { MOV64_IMM(R0, XDP_DROP), EXIT() };

static int attr_refused(union bpf_attr *attr, int want)
{
	char why[256];
	int err;

	attr->rejit_prog_fd = live[L_XDP].fd;
	attr->insns = (__u64)(unsigned long)drop_code;
	attr->insn_cnt = ARRAY_SIZE(drop_code);
	err = sys_rejit(attr);
	if (!err) {
		findings++;
		live[L_XDP].rejit_cnt++;
		fprintf(stderr, "  FINDING %s: accepted\n", current);
		restore(L_XDP);
	}
	ASSERT(err == -want, "errno %s, want %s", errno_name(err), errno_name(want));
	ASSERT(!live_check_all(why, sizeof(why)), "after the refusal: %s", why);
	snprintf(detail, sizeof(detail), "%s", errno_name(err));
	return 0;
}

static int case_attr_prog_type(void)
{
	union bpf_attr attr = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER };

	return attr_refused(&attr, EINVAL);
}

static int case_attr_license(void)
{
	union bpf_attr attr = { .license = (__u64)(unsigned long)"GPL" };

	return attr_refused(&attr, EINVAL);
}

static int case_attr_sleepable(void)
{
	union bpf_attr attr = { .prog_flags = BPF_F_SLEEPABLE };

	return attr_refused(&attr, EINVAL);
}

static int case_attr_attach_btf_id(void)
{
	union bpf_attr attr = { .attach_btf_id = 1 };

	return attr_refused(&attr, EINVAL);
}

/* Valid code, but the log cannot be written: refused, nothing switched. */
static int case_log_read_only(void)
{
	static const char ro[4096] = "read-only";
	union bpf_attr attr = { .log_level = 1, .log_size = sizeof(ro),
				.log_buf = (__u64)(unsigned long)ro };

	return attr_refused(&attr, EFAULT);
}

/* ---- driver ------------------------------------------------------------------ */

int main(void)
{
	const char *why = "";
	char diff[256];
	int err, controls;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = live_setup(&why);
	if (err) {
		fprintf(stderr, "setup: %s: %s\n", why, strerror(-err));
		return 1;
	}
	if (live_check_all(diff, sizeof(diff))) {
		fprintf(stderr, "live programs before any re-JIT: %s\n", diff);
		return 1;
	}

	run("pkt_read_unchecked", case_pkt_unchecked);
	run("pkt_read_checked (control)", case_pkt_checked_control);
	run("pkt_read_past_bound", case_pkt_past_bound);
	run("pkt_read_in_bound (control)", case_pkt_past_bound_control);
	run("map_off_value_size", case_map_off_value_size);
	run("map_off_in_value (control)", case_map_off_control);
	run("map_var_off_unbounded", case_map_var_off_unbounded);
	run("map_var_off_past_end", case_map_var_off_past_end);
	run("map_var_off_masked (control)", case_map_var_off_control);
	run("stack_below_512", case_stack_below_512);
	run("stack_above_frame", case_stack_above_frame);
	run("stack_uninit_read", case_stack_uninit_read);
	run("stack_misaligned_strict", case_stack_misaligned);
	run("pkt_misaligned_strict", case_pkt_misaligned_strict);
	run("pkt_misaligned (control)", case_pkt_misaligned_control);
	run("write_r10", case_write_r10);
	run("alu_r10", case_alu_r10);
	run("load_into_r10", case_load_into_r10);
	run("loop_no_exit", case_loop_no_exit);
	run("loop_counter", case_loop_counter);
	run("loop_unknown_counter", case_loop_unknown_counter);
	run("jump_out_of_range", case_jump_out_of_range);
	run("jump_backward_out", case_jump_backward_out);
	run("jump_into_ldimm64", case_jump_into_ldimm64);
	run("ldimm64_truncated", case_ldimm64_truncated);
	run("ldimm64_bad_second_slot", case_ldimm64_bad_second_slot);
	run("div_zero_imm", case_div_zero_imm);
	run("mod_zero_imm32", case_mod_zero_imm32);
	run("div_zero_reg (control)", case_div_zero_reg_control);
	run("reserved_opcode_alu", case_reserved_opcode);
	run("reserved_opcode_jmp", case_reserved_jmp_opcode);
	run("insn_cnt_over_limit", case_insn_cnt_over_limit);
	run("uninit_reg", case_uninit_reg);
	run("exit_r0_unset", case_exit_r0_unset);
	run("r1_after_call", case_r1_after_call);
	run("return_pointer", case_return_pointer);
	run("return_out_of_range", case_return_out_of_range);
	run("return_in_range (control)", case_return_range_control);
	run("pointer_into_map", case_pointer_into_map);
	run("xdp_ctx_off64", case_xdp_ctx_off64);
	run("xdp_ctx_write", case_xdp_ctx_write);
	run("sock_ctx_write_mark", case_sock_ctx_write_mark);
	run("raw_tp_more_ctx", case_raw_tp_more_ctx);
	run("helper_not_for_xdp", case_helper_not_for_xdp);
	run("helper_not_for_sock", case_helper_not_for_sock);
	run("helper_unknown", case_helper_unknown);
	run("sleepable_helper", case_sleepable_helper);
	run("tail_call_other_type", case_tail_call_other_type);
	run("tail_call_added", case_tail_call_added);
	run("tail_call_same_type (control)", case_tail_call_control);
	run("fd_array_minus1", case_fd_array_minus1);
	run("fd_array_closed_fd", case_fd_array_closed);
	run("fd_array_prog_fd", case_fd_array_prog_fd);
	run("fd_array_socket_fd", case_fd_array_socket);
	run("fd_array_null", case_fd_array_null);
	run("fd_array_unmapped", case_fd_array_unmapped);
	run("map_fd_is_prog", case_map_fd_is_prog);
	run("fd_array_valid (control)", case_fd_array_control);
	run("kinsn_bogus_id", case_kinsn_bogus_id);
	run("kinsn_bogus_id_no_slot", case_kinsn_bogus_id_no_slot);
	run("kinsn_no_slot", case_kinsn_no_slot);
	run("kinsn_not_a_kinsn", case_kinsn_not_a_kinsn);
	run("kinsn_jump_into_slot", case_kinsn_jump_into_slot);
	run("attr_prog_type", case_attr_prog_type);
	run("attr_license", case_attr_license);
	run("attr_sleepable", case_attr_sleepable);
	run("attr_attach_btf_id", case_attr_attach_btf_id);
	run("log_read_only", case_log_read_only);

	controls = 0;
	if (live_check_all(diff, sizeof(diff))) {
		printf("FAIL final check: %s\n", diff);
		failed++;
	}
	for (int i = 0; i < NR_LIVE; i++) {
		struct bpf_prog_info info;

		if (!prog_info(live[i].fd, &info))
			controls += info.rejit_cnt;
	}
	live_teardown();
	printf("rejit_hostile: %d passed, %d failed, %d findings (%d accepted re-JITs, all controls and restores)\n",
	       passed, failed, findings, controls);
	return failed || findings ? 1 : 0;
}
