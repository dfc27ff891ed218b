// SPDX-License-Identifier: GPL-2.0
/* BPF_PROG_REJIT fuzzer, run inside the VM on the patched kernel.
 *
 *   fuzz_rejit N SEED [FIRST] [-v]
 *
 * Four live programs with exactly known results (live_progs.h) are
 * re-JITed N times with generated candidates: random instructions,
 * mutations of a pool of valid programs (bit flips, inserted, deleted,
 * duplicated and swapped instructions), splices of two programs,
 * variants that must behave the same, and garbage in the other
 * attributes (flags, log, fields that must be zero, fd_array entries,
 * the target fd, the attr size). A refused candidate must change nothing;
 * an accepted one runs (it may legally behave differently), then the
 * original code goes back. After every case the target, every 16 cases
 * and after every accepted one all live programs, must keep their id and
 * rejit count and give their known results; with their load-time code,
 * also its xlated/JITed length and tag. Each case draws from its own
 * generator, seeded by SEED and its number: "fuzz_rejit 1 SEED CASE -v"
 * replays case CASE.
 */
#include "live_progs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <time.h>

#define MAX_RANDOM 64	/* instructions of a random or mutated program */
#define BUF_INSNS 4096	/* candidate buffer: zeros past the program */
#define POOL_VARIANTS 6 /* same-behaviour variants per live program */
#define LOG_SIZE (1 << 20)

/* ---- deterministic generator ------------------------------------------ */

static __u64 rng;

static __u64 splitmix(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 rnd(void)
{
	return splitmix(&rng);
}

/* uniform in [0, n) */
static __u32 below(__u32 n)
{
	return n ? rnd() % n : 0;
}

static bool chance(__u32 percent)
{
	return below(100) < percent;
}

#define PICK(arr) ((arr)[below(ARRAY_SIZE(arr))])

/* ---- file descriptors: the right ones and the wrong kinds ---------------- */

static int hash_fd, arr16_fd, jmp_fd, ringbuf_fd, callee_fd, closed_fd;
static int zoo[32], nr_zoo; /* every fd a candidate may name, and non-fds */

static int zoo_fd(void)
{
	return zoo[below(nr_zoo)];
}

static int setup_zoo(void)
{
	struct bpf_insn drop[] = { MOV64_IMM(R0, XDP_DROP), EXIT() };
	__u32 zero = 0;

	hash_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "hash", 4, 8, 16, NULL);
	arr16_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "arr16", 4, 16, 4, NULL);
	jmp_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "jmp", 4, 4, 2, NULL);
	ringbuf_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ringbuf", 0, 0, 4096, NULL);
	callee_fd = load_as(BPF_PROG_TYPE_XDP, drop, ARRAY_SIZE(drop), NULL, 0);
	if (hash_fd < 0 || arr16_fd < 0 || jmp_fd < 0 || ringbuf_fd < 0 || callee_fd < 0)
		return -1;
	if (bpf_map_update_elem(jmp_fd, &zero, &callee_fd, BPF_ANY))
		return -1;
	closed_fd = dup(0);
	close(closed_fd);
	int z[] = { counters_fd, counters_fd, hash_fd, arr16_fd, jmp_fd, ringbuf_fd, callee_fd,
		    live[L_XDP].fd, live[L_SOCK].fd, live[L_RAWTP].fd, live[L_CGSKB].fd,
		    sock_pair[0], raw_tp_fd, closed_fd, -1, 0, 1, 1000, INT_MIN, INT_MAX };

	memcpy(zoo, z, sizeof(z));
	nr_zoo = ARRAY_SIZE(z);
	return 0;
}

/* ---- instructions --------------------------------------------------------- */

static bool is_ldimm64(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_IMM | BPF_DW);
}

/* Jumps whose target is relative: the target index, or -1 for none. */
static bool has_target(const struct bpf_insn *i, int idx, long *t)
{
	__u8 class = BPF_CLASS(i->code), op = BPF_OP(i->code);

	if (class != BPF_JMP && class != BPF_JMP32)
		return false;
	if (op == BPF_CALL) {
		if (i->src_reg != BPF_PSEUDO_CALL)
			return false;
		*t = (long)idx + i->imm + 1;
		return true;
	}
	if (op == BPF_EXIT)
		return false;
	*t = (long)idx + (class == BPF_JMP32 && op == BPF_JA ? i->imm : i->off) + 1;
	return true;
}

static void set_target(struct bpf_insn *i, int idx, long t)
{
	__u8 class = BPF_CLASS(i->code), op = BPF_OP(i->code);
	long rel = t - idx - 1;

	if ((class == BPF_JMP && op == BPF_CALL) || (class == BPF_JMP32 && op == BPF_JA))
		i->imm = rel;
	else
		i->off = rel;
}

/* Insert @k instructions at @pos (made room for, not written), with the
 * jumps over the gap stretched when @fix (a jump to @pos lands past the
 * gap).
 */
static void insert_at(struct bpf_insn *p, __u32 *n, __u32 pos, __u32 k, bool fix)
{
	if (fix) {
		for (__u32 i = 0; i < *n; i++) {
			long t;

			if (!has_target(&p[i], i, &t))
				continue;
			long ni = i < pos ? i : i + k, nt = t < pos ? t : t + k;

			if (ni != i || nt != t)
				set_target(&p[i], ni, nt);
		}
	}
	memmove(&p[pos + k], &p[pos], (*n - pos) * sizeof(*p));
	*n += k;
}

static void delete_at(struct bpf_insn *p, __u32 *n, __u32 pos, bool fix)
{
	if (fix) {
		for (__u32 i = 0; i < *n; i++) {
			long t;

			if (i == pos || !has_target(&p[i], i, &t))
				continue;
			long ni = i < pos ? i : i - 1, nt = t <= pos ? t : t - 1;

			set_target(&p[i], ni, nt);
		}
	}
	memmove(&p[pos], &p[pos + 1], (*n - pos - 1) * sizeof(*p));
	(*n)--;
}

static const __s32 interesting[] = { 0, 1, -1, 2, 3, 4, 7, 8, 14, 16, 64, 255, 256, -8,
				     -512, 0x7fff, 0x7fffffff, INT_MIN, 0x0008, 'D' };

static __s32 rand_imm(void)
{
	return chance(60) ? PICK(interesting) : (__s32)rnd();
}

static __s16 rand_off(bool jump)
{
	static const __s16 mem[] = { 0, 4, 8, 12, 13, 14, 16, 64, -4, -8, -16, -512, -513, 1, 3 };

	if (jump) /* mostly forward: a back-edge makes the verifier walk loops */
		return chance(5) ? -(__s16)below(8) - 1 : (__s16)below(12);
	return chance(80) ? PICK(mem) : (__s16)rnd();
}

static __u8 rand_reg(void)
{
	return chance(95) ? below(11) : below(16);
}

static const __u8 alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
				BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END };
static const __u8 jmp_ops[] = { BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE, BPF_EXIT };
static const __u8 sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };

/* Helpers that would hurt the fuzzer or other processes rather than the
 * kernel (raw_tp code runs in every task's sys_enter): they become
 * get_prandom_u32.
 */
static void defuse(struct bpf_insn *p, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		if (p[i].code == (BPF_JMP | BPF_CALL) && p[i].src_reg == 0 &&
		    (p[i].imm == BPF_FUNC_send_signal || p[i].imm == BPF_FUNC_send_signal_thread ||
		     p[i].imm == BPF_FUNC_probe_write_user || p[i].imm == BPF_FUNC_override_return))
			p[i].imm = BPF_FUNC_get_prandom_u32;
}

/* one random instruction (two for ld_imm64) at p; how many written */
static __u32 rand_insn(struct bpf_insn *p, __u32 room)
{
	__u32 w = below(100);

	if (w < 30) {
		__u8 class = chance(75) ? BPF_ALU64 : BPF_ALU;

		*p = INSN(class | PICK(alu_ops) | (chance(50) ? BPF_X : BPF_K), rand_reg(),
			  rand_reg(), chance(90) ? 0 : rand_off(false), rand_imm());
		if (BPF_OP(p->code) == BPF_END)
			p->imm = PICK(((const __s32[]){ 16, 32, 64 }));
	} else if (w < 50) {
		__u8 class = chance(80) ? BPF_JMP : BPF_JMP32;

		*p = INSN(class | PICK(jmp_ops) | (chance(50) ? BPF_X : BPF_K), rand_reg(),
			  rand_reg(), rand_off(true), rand_imm());
	} else if (w < 62) {
		*p = INSN(BPF_LDX | BPF_MEM | PICK(sizes), rand_reg(), rand_reg(), rand_off(false), 0);
	} else if (w < 72) {
		*p = INSN(BPF_STX | BPF_MEM | PICK(sizes), rand_reg(), rand_reg(), rand_off(false), 0);
	} else if (w < 77) {
		*p = INSN(BPF_ST | BPF_MEM | PICK(sizes), rand_reg(), 0, rand_off(false), rand_imm());
	} else if (w < 80) {
		*p = INSN(BPF_STX | BPF_ATOMIC | (chance(50) ? BPF_W : BPF_DW), rand_reg(), rand_reg(),
			  rand_off(false),
			  PICK(((const __s32[]){ BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
						 BPF_ADD | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG })));
	} else if (w < 88) {
		*p = CALL(chance(85) ? (__s32)below(212) : rand_imm());
		if (chance(10))
			p->src_reg = 1 + below(3); /* bpf2bpf, kfunc, kinsn */
	} else if (w < 93 && room >= 2) {
		/* ld_imm64: a map (by fd or fd_array index), a map value, a constant */
		__u8 src = PICK(((const __u8[]){ 0, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_FD,
						 BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_VALUE,
						 BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_BTF_ID,
						 BPF_PSEUDO_FUNC, 7 }));
		__s32 imm = src == BPF_PSEUDO_MAP_IDX || src == BPF_PSEUDO_MAP_IDX_VALUE ?
				    (__s32)below(4) :
			    src ? zoo_fd() :
				  rand_imm();

		p[0] = INSN(BPF_LD | BPF_DW | BPF_IMM, rand_reg(), src, 0, imm);
		p[1] = INSN(0, 0, 0, 0, chance(80) ? 0 : rand_imm());
		return 2;
	} else if (w < 96) {
		*p = INSN(BPF_LD | (chance(70) ? BPF_ABS : BPF_IND) | PICK(sizes), 0, rand_reg(), 0,
			  chance(80) ? (__s32)below(16) : rand_imm());
	} else {
		*p = INSN(rnd(), rnd(), rnd(), rnd(), rnd()); /* anything at all */
	}
	return 1;
}

static __u32 random_prog(struct bpf_insn *p)
{
	__u32 n = 0, len = 1 + below(MAX_RANDOM);

	if (chance(50))
		p[n++] = MOV64_IMM(R0, below(4));
	while (n + 1 < len)
		n += rand_insn(&p[n], len - n);
	p[n++] = EXIT();
	return n;
}

/* ---- the pool: code of the live programs and variants that behave the same ---- */

struct prog {
	struct bpf_insn insns[MAX_RANDOM * 2];
	__u32 cnt;
	int which;	 /* live program it is code for */
	bool same;	 /* behaves as the live program's code */
	bool idx;	 /* map references through fd_array */
};

static struct prog pool[NR_LIVE * (POOL_VARIANTS + 2)];
static int nr_pool;

/* Whether the code reaches an instruction put at @pos by falling
 * through (jumps to @pos land past it): not after an exit or a jump, nor
 * inside an ld_imm64.
 */
static bool falls_into(const struct bpf_insn *p, __u32 pos)
{
	__u8 code;

	if (!pos)
		return true;
	code = p[pos - 1].code;
	return !is_ldimm64(&p[pos - 1]) && code != (BPF_JMP | BPF_EXIT) &&
	       code != (BPF_JMP | BPF_JA) && code != (BPF_JMP32 | BPF_JA);
}

/* A change that keeps what the code does: a nop, a move into R8 (no live
 * program uses it), a constant in two steps, a store of an immediate
 * through R9 (nor that one).
 */
static void same_behaviour(struct prog *v)
{
	__u32 pos = below(v->cnt);
	struct bpf_insn *p = v->insns;

	switch (below(4)) {
	case 0:
	case 1:
		for (__u32 i = 0; i < v->cnt && !falls_into(p, pos); i++)
			pos = (pos + 1) % v->cnt;
		if (!falls_into(p, pos))
			break;
		insert_at(p, &v->cnt, pos, 1, true);
		p[pos] = chance(50) ? JA(0) : MOV64_IMM(R8, rand_imm());
		break;
	case 2:
		for (__u32 i = 0; i < v->cnt; i++, pos = (pos + 1) % v->cnt) {
			struct bpf_insn o = p[pos];
			__s32 k = below(100);

			if (o.code != (BPF_ALU64 | BPF_MOV | BPF_K) || o.dst_reg > R9 ||
			    o.imm < -0x10000 || o.imm > 0x10000 || (pos && is_ldimm64(&p[pos - 1])))
				continue;
			insert_at(p, &v->cnt, pos + 1, 1, true);
			p[pos] = MOV64_IMM(o.dst_reg, o.imm - k);
			p[pos + 1] = ALU64_IMM(ADD, o.dst_reg, k);
			break;
		}
		break;
	case 3:
		for (__u32 i = 0; i < v->cnt; i++, pos = (pos + 1) % v->cnt) {
			struct bpf_insn o = p[pos];

			if (BPF_CLASS(o.code) != BPF_ST || BPF_MODE(o.code) != BPF_MEM ||
			    (pos && is_ldimm64(&p[pos - 1])))
				continue;
			insert_at(p, &v->cnt, pos + 1, 1, true);
			p[pos] = MOV64_IMM(R9, o.imm);
			p[pos + 1] = STX(W, o.dst_reg, R9, o.off);
			p[pos + 1].code = BPF_STX | BPF_MEM | BPF_SIZE(o.code);
			break;
		}
		break;
	}
}

static void build_pool(void)
{
	for (int w = 0; w < NR_LIVE; w++) {
		struct prog *o = &pool[nr_pool++], *x;

		o->which = w;
		o->same = true;
		o->cnt = live_code[w](o->insns);
		/* the same with map references through fd_array (see default_fds) */
		x = &pool[nr_pool++];
		*x = *o;
		x->idx = true;
		for (__u32 i = 0; i < x->cnt; i++) {
			struct bpf_insn *m = &x->insns[i];

			if (is_ldimm64(m) && m->src_reg == BPF_PSEUDO_MAP_FD) {
				m->imm = m->imm == live_jmp_fd ? 4 : 0;
				m->src_reg = BPF_PSEUDO_MAP_IDX;
			}
		}
		for (int v = 0; v < POOL_VARIANTS; v++) {
			x = &pool[nr_pool++];
			*x = *o;
			for (int k = 1 + below(4); k--;)
				if (x->cnt < MAX_RANDOM)
					same_behaviour(x);
		}
	}
}

static struct prog *pool_of(int which)
{
	for (;;) {
		struct prog *p = &pool[below(nr_pool)];

		if (which < 0 || p->which == which)
			return p;
	}
}

/* ---- mutations ------------------------------------------------------------ */

static void mutate_one(struct bpf_insn *p, __u32 *n)
{
	__u32 i = below(*n);
	struct bpf_insn *x = &p[i];

	switch (below(12)) {
	case 0:
		x->code ^= 1 << below(8);
		break;
	case 1:
		if (chance(50))
			x->dst_reg ^= 1 << below(4);
		else
			x->src_reg ^= 1 << below(4);
		break;
	case 2:
		x->off ^= 1 << below(16);
		break;
	case 3:
		x->imm ^= 1u << below(32);
		break;
	case 4:
		if (chance(50))
			x->off = rand_off(BPF_CLASS(x->code) == BPF_JMP || BPF_CLASS(x->code) == BPF_JMP32);
		else
			x->imm = rand_imm();
		break;
	case 5:
		if (chance(50))
			x->dst_reg = rand_reg();
		else
			x->src_reg = rand_reg();
		break;
	case 6: /* insert a random instruction */
	case 7:
		if (*n < MAX_RANDOM * 2 - 2) {
			bool fix = chance(70);
			struct bpf_insn r[2];
			__u32 k = rand_insn(r, 2);

			insert_at(p, n, i, k, fix);
			memcpy(&p[i], r, k * sizeof(*r));
		}
		break;
	case 8:
		if (*n > 1)
			delete_at(p, n, i, chance(70));
		break;
	case 9: /* duplicate */
		if (*n < MAX_RANDOM * 2 - 1) {
			struct bpf_insn c = *x;

			insert_at(p, n, i, 1, chance(50));
			p[i] = c;
		}
		break;
	case 10:
		if (i + 1 < *n) {
			struct bpf_insn t = p[i];

			p[i] = p[i + 1];
			p[i + 1] = t;
		}
		break;
	case 11:
		rand_insn(x, 1);
		break;
	}
}

/* ---- candidates ------------------------------------------------------------ */

enum kind { K_RANDOM, K_MUTANT, K_SPLICE, K_SAME, K_ATTR, NR_KINDS };
static const char *const kind_name[NR_KINDS] = { "random", "mutant", "splice", "same", "attr" };

struct cand {
	enum kind kind;
	int which;		/* live program it targets, -1: none of them */
	bool same;		/* must behave as the live program */
	struct bpf_insn insns[BUF_INSNS];
	__u32 cnt;
	union bpf_attr attr;
	__u32 attr_size;
	unsigned char attr_buf[sizeof(union bpf_attr) + 64];
	int fds[8];
};

static struct cand c;
static char *log_rw;		/* writable log buffer, LOG_SIZE bytes */
static char *log_ro;		/* a read-only page */

static void cand_code(struct prog *p)
{
	memcpy(c.insns, p->insns, p->cnt * sizeof(*p->insns));
	c.cnt = p->cnt;
}

/* Garbage in the attributes a user may set, and in those that must be zero. */
static void attr_garbage(union bpf_attr *a)
{
	static const __u32 flags[] = {
		BPF_F_STRICT_ALIGNMENT, BPF_F_ANY_ALIGNMENT, BPF_F_TEST_RND_HI32,
		BPF_F_TEST_STATE_FREQ, BPF_F_TEST_REG_INVARIANTS, BPF_F_SLEEPABLE,
		BPF_F_XDP_HAS_FRAGS, BPF_F_XDP_DEV_BOUND_ONLY, BPF_F_TOKEN_FD, 1u << 31,
	};

	for (int k = 1 + below(3); k--;) {
		switch (below(14)) {
		case 0:
			a->prog_flags |= chance(70) ? PICK(flags) : 1u << below(32);
			break;
		case 1: /* log: odd levels and sizes, bad buffers */
			a->log_level = PICK(((const __u32[]){ 0, 1, 2, 3, 4, 7, 8, 16, ~0u }));
			switch (below(4)) {
			case 0:
				a->log_buf = 0;
				a->log_size = PICK(((const __u32[]){ 0, 1, 128, ~0u }));
				break;
			case 1:
				a->log_buf = (__u64)(unsigned long)log_rw;
				a->log_size = PICK(((const __u32[]){ 0, 1, 2, 127, 128, 4096, LOG_SIZE }));
				break;
			case 2: /* read-only, never more than the page */
				a->log_buf = (__u64)(unsigned long)log_ro;
				a->log_size = PICK(((const __u32[]){ 1, 128, 4096 }));
				break;
			case 3: /* unmapped */
				a->log_buf = PICK(((const __u64[]){ 8, 0xdead000000000000ULL }));
				a->log_size = PICK(((const __u32[]){ 1, 4096, ~0u, 1u << 30 }));
				break;
			}
			break;
		case 2:
			a->prog_type = chance(50) ? BPF_PROG_TYPE_XDP : rnd();
			break;
		case 3:
			a->expected_attach_type = 1 + below(64);
			break;
		case 4:
			a->license = (__u64)(unsigned long)"GPL";
			break;
		case 5:
			a->kern_version = rnd() | 1;
			break;
		case 6:
			memcpy(a->prog_name, "fuzz", 4);
			break;
		case 7:
			a->prog_ifindex = 1;
			break;
		case 8:
			if (chance(50))
				a->attach_btf_id = 1 + below(1000);
			else
				a->attach_prog_fd = zoo_fd();
			break;
		case 9:
			a->core_relo_cnt = 1 + below(4);
			if (chance(50))
				a->core_relos = (__u64)(unsigned long)c.insns;
			a->core_relo_rec_size = below(32);
			break;
		case 10:
			a->prog_token_fd = zoo_fd();
			break;
		case 11: /* BTF and func_info that are none */
			a->prog_btf_fd = zoo_fd();
			a->func_info_rec_size = PICK(((const __u32[]){ 0, 8, 12, 4096 }));
			a->func_info_cnt = below(3);
			a->func_info = chance(50) ? (__u64)(unsigned long)c.insns : 8;
			if (chance(30)) {
				a->line_info_rec_size = 16;
				a->line_info_cnt = 1;
				a->line_info = (__u64)(unsigned long)c.insns;
			}
			break;
		case 12: /* fd_array: every entry garbage, none, unmapped */
			for (int i = 0; i < 8; i++)
				c.fds[i] = zoo_fd();
			if (chance(20))
				a->fd_array = 0;
			else if (chance(10))
				a->fd_array = 8;
			break;
		case 13: /* insns and their count */
			switch (below(4)) {
			case 0:
				a->insns = PICK(((const __u64[]){ 0, 8 }));
				break;
			case 1:
				a->insn_cnt = 0;
				break;
			case 2:
				a->insn_cnt = PICK(((const __u32[]){ 1000001, ~0u }));
				break;
			case 3: /* cut short or read on into the zeros */
				a->insn_cnt = below(c.cnt + 8) + 1;
				break;
			}
			break;
		}
	}
}

static void make_candidate(int which)
{
	memset(&c, 0, sizeof(c));
	c.which = which;
	/* default_fds: the live programs' maps at 0 and 4, others between */
	for (int i = 0; i < 8; i++)
		c.fds[i] = i == 1 ? hash_fd : i == 2 ? arr16_fd : i == 3 ? jmp_fd :
			   i == 4 ? live_jmp_fd : counters_fd;

	__u32 w = below(100);

	if (w < 15) {
		c.kind = K_RANDOM;
		c.cnt = random_prog(c.insns);
	} else if (w < 60) {
		c.kind = K_MUTANT;
		cand_code(pool_of(chance(90) ? which : -1));
		for (int k = 1 + (chance(50) ? 0 : below(4)); k--;)
			mutate_one(c.insns, &c.cnt);
	} else if (w < 72) {
		struct prog *a = pool_of(chance(70) ? which : -1), *b = pool_of(-1);
		__u32 i = below(a->cnt + 1), j = below(b->cnt);

		c.kind = K_SPLICE;
		memcpy(c.insns, a->insns, i * sizeof(*c.insns));
		memcpy(&c.insns[i], &b->insns[j], (b->cnt - j) * sizeof(*c.insns));
		c.cnt = i + b->cnt - j;
	} else if (w < 80) {
		struct prog v = *pool_of(which);

		/* a pool variant, or a new one */
		c.kind = K_SAME;
		c.same = true;
		if (chance(50))
			for (int k = 1 + below(3); k--;)
				if (v.cnt < MAX_RANDOM)
					same_behaviour(&v);
		cand_code(&v);
		c.same = v.same;
	} else {
		c.kind = K_ATTR;
		cand_code(pool_of(which));
		if (chance(30))
			mutate_one(c.insns, &c.cnt);
	}
	defuse(c.insns, c.cnt);

	union bpf_attr *a = &c.attr;

	a->rejit_prog_fd = live[which].fd;
	a->insns = (__u64)(unsigned long)c.insns;
	a->insn_cnt = c.cnt;
	a->fd_array = (__u64)(unsigned long)c.fds;
	if (chance(30)) {
		a->log_buf = (__u64)(unsigned long)log_rw;
		a->log_size = LOG_SIZE;
		a->log_level = chance(90) ? 1 : 2;
	}
	c.attr_size = sizeof(*a);
	if (c.kind != K_ATTR)
		return;
	attr_garbage(a);
	c.same = false;
	if (chance(10)) { /* the target: not a live program */
		a->rejit_prog_fd = zoo_fd();
		for (int i = 0; i < NR_LIVE; i++)
			if ((int)a->rejit_prog_fd == live[i].fd)
				c.which = i;
		if ((int)a->rejit_prog_fd != live[c.which].fd)
			c.which = -1;
	}
	if (chance(5)) /* a bigger attr with something past the known fields */
		c.attr_size = sizeof(*a) + 8 * (1 + below(8));
	else if (chance(3)) { /* a smaller one: the target fd reads as 0 */
		c.attr_size = offsetof(union bpf_attr, rejit_prog_fd);
		c.which = -1;
	}
}

static int submit(void)
{
	memset(c.attr_buf, 0, sizeof(c.attr_buf));
	memcpy(c.attr_buf, &c.attr, sizeof(c.attr));
	if (c.attr_size > sizeof(c.attr))
		c.attr_buf[c.attr_size - 1 - below(c.attr_size - sizeof(c.attr))] = 1 + below(255);
	if (c.attr.log_buf == (__u64)(unsigned long)log_rw)
		log_rw[0] = 0;
	return syscall(__NR_bpf, BPF_PROG_REJIT, c.attr_buf, c.attr_size) ? -errno : 0;
}

/* ---- the run ---------------------------------------------------------------- */

static unsigned long cases, refused, accepted, accepted_same, checks, failures;
static int last_err;
static unsigned long by_errno[1024], by_kind[NR_KINDS][2];
static bool verbose;

static void dump_case(unsigned long n, __u64 seed, int err)
{
	fprintf(stderr, "  case %lu (%s, target %s, seed %llu): %s\n", n, kind_name[c.kind],
		c.which >= 0 ? live[c.which].name : "none", (unsigned long long)seed,
		err ? strerror(-err) : "accepted");
	for (__u32 i = 0; i < c.cnt && i < MAX_RANDOM * 2; i++)
		fprintf(stderr, "    %3u: %02x %u %u %6d %d\n", i, c.insns[i].code,
			c.insns[i].dst_reg, c.insns[i].src_reg, c.insns[i].off, c.insns[i].imm);
	if (c.attr.log_buf == (__u64)(unsigned long)log_rw && log_rw[0])
		fprintf(stderr, "  log:\n%.4000s\n", log_rw);
}

static void fail_check(unsigned long n, __u64 seed, int err, const char *why)
{
	failures++;
	printf("FAIL case %lu: %s\n", n, why);
	dump_case(n, seed, err);
}

static int restore(int which)
{
	union bpf_attr a = {
		.rejit_prog_fd = live[which].fd,
		.insns = (__u64)(unsigned long)live[which].insns,
		.insn_cnt = live[which].cnt,
		.log_buf = (__u64)(unsigned long)log_rw,
		.log_size = LOG_SIZE,
		.log_level = 1,
	};
	int err = syscall(__NR_bpf, BPF_PROG_REJIT, &a, sizeof(a)) ? -errno : 0;

	if (!err)
		live[which].rejit_cnt++;
	return err;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* one case; false once something failed */
static bool one_case(unsigned long n, __u64 seed)
{
	__u64 s = seed ^ (n * 0xd1342543de82ef95ULL);
	int which, err;
	char why[256];
	bool all;

	rng = splitmix(&s);
	which = below(NR_LIVE);
	make_candidate(which);
	err = submit();
	last_err = err;
	cases++;
	by_kind[c.kind][!err]++;
	if (err) {
		refused++;
		by_errno[-err < 1024 ? -err : 1023]++;
		if (c.same && !c.attr.prog_flags) {
			fail_check(n, seed, err, "a variant that behaves the same was refused");
			return false;
		}
	} else {
		accepted++;
	}
	/* accepted on a program that is not live (the prog_array's callee): nothing to restore */
	if (!err && c.which >= 0) {
		bool differs = false;

		live[c.which].rejit_cnt++;
		if (c.same) {
			checks++;
			differs = live_check_code(c.which, false, why, sizeof(why));
			accepted_same += !differs;
		} else {
			/* it may do anything the verifier allows: run it once */
			live_drive(c.which, why, sizeof(why));
		}
		err = restore(c.which);
		if (err) {
			fail_check(n, seed, err, "the original code does not go back");
			fprintf(stderr, "%s\n", log_rw);
			return false;
		}
		if (differs) {
			fail_check(n, seed, 0, why);
			return false;
		}
	}
	if (verbose)
		printf("case %lu %s %s: %s\n", n, kind_name[c.kind],
		       c.which >= 0 ? live[c.which].name : "-", err ? strerror(-err) : "accepted");
	all = !err || n % 16 == 15;
	for (int i = 0; i < NR_LIVE; i++) {
		if (!all && i != which)
			continue;
		checks++;
		if (live_check(i, why, sizeof(why))) {
			fail_check(n, seed, err, why);
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	unsigned long n, first = 0, slowest_case = 0;
	char slowest_what[64] = "";
	double t0, t, slowest = 0;
	const char *what = "";
	char why[256];
	__u64 seed;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s N SEED [FIRST] [-v]\n", argv[0]);
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	seed = strtoull(argv[2], NULL, 0);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = true;
		else
			first = strtoul(argv[i], NULL, 0);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("fuzz_rejit: %lu cases, seed %llu\n", n, (unsigned long long)seed);

	log_rw = mmap(NULL, LOG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	log_ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (log_rw == MAP_FAILED || log_ro == MAP_FAILED)
		return perror("mmap"), 1;
	err = live_setup(&what);
	if (err || setup_zoo()) {
		fprintf(stderr, "setup: %s: %s\n", what, strerror(err ? -err : errno));
		return 1;
	}
	if (live_check_all(why, sizeof(why))) {
		fprintf(stderr, "live programs before any re-JIT: %s\n", why);
		return 1;
	}
	rng = seed;
	build_pool();

	t0 = now();
	for (unsigned long i = first; i < first + n; i++) {
		t = now();
		if (!one_case(i, seed) && failures >= 10)
			break;
		t = now() - t;
		/* a campaign of millions of cases runs for hours: show it moves */
		if (cases % 10000 == 0)
			printf("fuzz_rejit: %lu cases, %lu refused, %lu accepted, %lu failures, %.0f s\n",
			       cases, refused, accepted, failures, now() - t0);
		if (t > slowest) {
			slowest = t;
			slowest_case = i;
			snprintf(slowest_what, sizeof(slowest_what), "%s, %s", kind_name[c.kind],
				 last_err ? strerrorname_np(-last_err) ?: "?" : "accepted");
		}
	}
	t = now() - t0;
	if (!failures && live_check_all(why, sizeof(why))) {
		printf("FAIL at the end: %s\n", why);
		failures++;
	}
	checks += NR_LIVE;

	printf("refused by errno:");
	for (int e = 1; e < 1024; e++)
		if (by_errno[e])
			printf(" %s %lu", e == 524 ? "ENOTSUPP" : e == 1023 ? "other" :
					  strerrorname_np(e) ?: "?", by_errno[e]);
	printf("\nby kind (refused/accepted):");
	for (int k = 0; k < NR_KINDS; k++)
		printf(" %s %lu/%lu", kind_name[k], by_kind[k][0], by_kind[k][1]);
	printf("\nslowest case %lu (%s): %.0f ms\n", slowest_case, slowest_what, slowest * 1e3);
	printf("fuzz_rejit: seed %llu: %lu cases, %lu refused, %lu accepted (%lu same-behaviour variants), "
	       "%lu checks, %lu failures, %.1f s, %.0f cases/s\n",
	       (unsigned long long)seed, cases, refused, accepted, accepted_same, checks, failures,
	       t, cases / (t > 0 ? t : 1));
	live_teardown();
	return failures ? 1 : 0;
}
