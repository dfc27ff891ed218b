/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kinsn families: for each kfunc, its meaning in C and its x86-64 code.
 *
 * Shared by the modules (the meaning is the kfunc's body, the code is what
 * the JIT emits instead of the call) and by the tests, which run the code
 * on the host CPU and in the VM against the meaning.
 *
 * The code follows the x86-64 JIT's register mapping: BPF R1, R2, R3 are
 * rdi, rsi, rdx and the result goes to rax (R0), which is also the SysV
 * calling convention, so code + "ret" is a callable function. Besides rax
 * it writes at most the kfunc's argument registers: the bpf_fastcall
 * contract, which lets the verifier drop spills of R0-R5 around the call.
 */
#ifndef KINSN_DEFS_H
#define KINSN_DEFS_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <uapi/linux/bpf.h>
#else
#include <linux/bpf.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef int16_t s16;
typedef int32_t s32;
typedef uint32_t u32;
typedef uint64_t u64;
#endif

/* What the CPU must have for the x86 code. */
enum kinsn_cpu {
	KINSN_CPU_BASE,	  /* every x86-64 CPU */
	KINSN_CPU_SSE4_2, /* crc32 */
	KINSN_CPU_POPCNT, /* popcnt */
	KINSN_CPU_ABM,	  /* lzcnt */
	KINSN_CPU_BMI1,	  /* tzcnt, bextr */
	KINSN_CPU_BMI2,	  /* rorx */
	KINSN_CPU_MOVBE,  /* movbe */
};

#ifndef __KERNEL__
/* Can this (user space) process's CPU run the x86 code? */
static inline int kinsn_user_cpu_has(enum kinsn_cpu cpu)
{
	switch (cpu) {
	case KINSN_CPU_BASE:
		return 1;
	case KINSN_CPU_SSE4_2:
		return __builtin_cpu_supports("sse4.2");
	case KINSN_CPU_POPCNT:
		return __builtin_cpu_supports("popcnt");
	case KINSN_CPU_ABM:
		return __builtin_cpu_supports("abm");
	case KINSN_CPU_BMI1:
		return __builtin_cpu_supports("bmi");
	case KINSN_CPU_BMI2:
		return __builtin_cpu_supports("bmi2");
	case KINSN_CPU_MOVBE:
		return __builtin_cpu_supports("movbe");
	}
	return 0;
}
#endif

#define KINSN_X86_MAX 24

struct kinsn_def {
	const char *name; /* the kfunc */
	u64 (*meaning)(u64 r1, u64 r2, u64 r3);
	u8 args; /* R1 to R<args>: what the code may write besides R0 */
	u8 load; /* 1: R1 points at the input, which the meaning reads */
	enum kinsn_cpu cpu;
	u8 x86_len;
	u8 x86[KINSN_X86_MAX];
};

/* CRC32C (Castagnoli, reflected), no inversion: what x86 crc32 computes. */
static inline u64 kinsn_crc32c(u64 crc, u64 v, int bytes)
{
	u32 c = (u32)crc;
	int i, k;

	for (i = 0; i < bytes; i++) {
		c ^= (u8)(v >> (8 * i));
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78 & (0u - (c & 1)));
	}
	return c;
}

static inline u64 kinsn_crc32c_u8(u64 crc, u64 v, u64 unused)
{
	return kinsn_crc32c(crc, v, 1);
}

static inline u64 kinsn_crc32c_u16(u64 crc, u64 v, u64 unused)
{
	return kinsn_crc32c(crc, v, 2);
}

static inline u64 kinsn_crc32c_u32(u64 crc, u64 v, u64 unused)
{
	return kinsn_crc32c(crc, v, 4);
}

static inline u64 kinsn_crc32c_u64(u64 crc, u64 v, u64 unused)
{
	return kinsn_crc32c(crc, v, 8);
}

/* Rotates count modulo the width, as rol/ror do. */
static inline u64 kinsn_rol64(u64 x, u64 n, u64 unused)
{
	n &= 63;
	return n ? x << n | x >> (64 - n) : x;
}

static inline u64 kinsn_ror64(u64 x, u64 n, u64 unused)
{
	n &= 63;
	return n ? x >> n | x << (64 - n) : x;
}

static inline u64 kinsn_rol32(u64 x, u64 n, u64 unused)
{
	u32 v = (u32)x;

	n &= 31;
	return n ? (u32)(v << n | v >> (32 - n)) : v;
}

static inline u64 kinsn_ror32(u64 x, u64 n, u64 unused)
{
	u32 v = (u32)x;

	n &= 31;
	return n ? (u32)(v >> n | v << (32 - n)) : v;
}

static inline u64 kinsn_popcnt64(u64 x, u64 u1, u64 u2)
{
	u64 n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

/* Leading / trailing zero bits; 64 for 0, as lzcnt and tzcnt give. */
static inline u64 kinsn_clz64(u64 x, u64 u1, u64 u2)
{
	u64 n = 0;

	for (; n < 64 && !(x >> (63 - n) & 1); n++)
		;
	return n;
}

static inline u64 kinsn_ctz64(u64 x, u64 u1, u64 u2)
{
	u64 n = 0;

	for (; n < 64 && !(x >> n & 1); n++)
		;
	return n;
}

static inline u64 kinsn_select64(u64 cond, u64 a, u64 b)
{
	return cond ? a : b;
}

/*
 * Bits [start, start + len) of x, shifted down; start and len are taken
 * modulo 256, bits past 63 read as zero (bextr).
 */
static inline u64 kinsn_bextr64(u64 x, u64 start, u64 len)
{
	u64 s = start & 0xff, l = len & 0xff;

	if (s >= 64)
		return 0;
	x >>= s;
	return l >= 64 ? x : x & ((1ull << l) - 1);
}

/* mov eax, edi = 89 f8; mov rax, rdi = 48 89 f8 */
static const struct kinsn_def kinsn_crc32c_defs[] = {
	/* mov eax, edi; crc32 eax, sil|si|esi / crc32 rax, rsi */
	{ "bpf_crc32c_u8", kinsn_crc32c_u8, 2, 0, KINSN_CPU_SSE4_2, 8,
	  { 0x89, 0xf8, 0xf2, 0x40, 0x0f, 0x38, 0xf0, 0xc6 } },
	{ "bpf_crc32c_u16", kinsn_crc32c_u16, 2, 0, KINSN_CPU_SSE4_2, 8,
	  { 0x89, 0xf8, 0x66, 0xf2, 0x0f, 0x38, 0xf1, 0xc6 } },
	{ "bpf_crc32c_u32", kinsn_crc32c_u32, 2, 0, KINSN_CPU_SSE4_2, 7,
	  { 0x89, 0xf8, 0xf2, 0x0f, 0x38, 0xf1, 0xc6 } },
	{ "bpf_crc32c_u64", kinsn_crc32c_u64, 2, 0, KINSN_CPU_SSE4_2, 8,
	  { 0x89, 0xf8, 0xf2, 0x48, 0x0f, 0x38, 0xf1, 0xc6 } },
};

static const struct kinsn_def kinsn_bitops_defs[] = {
	/*
	 * mov rax, rdi; xchg rcx, rsi; rol|ror rax, cl; xchg rcx, rsi: the
	 * count goes through cl and rcx (R4) comes back, as fastcall wants.
	 */
	{ "bpf_rol64", kinsn_rol64, 2, 0, KINSN_CPU_BASE, 12,
	  { 0x48, 0x89, 0xf8, 0x48, 0x87, 0xce, 0x48, 0xd3, 0xc0, 0x48, 0x87,
	    0xce } },
	{ "bpf_ror64", kinsn_ror64, 2, 0, KINSN_CPU_BASE, 12,
	  { 0x48, 0x89, 0xf8, 0x48, 0x87, 0xce, 0x48, 0xd3, 0xc8, 0x48, 0x87,
	    0xce } },
	/* mov eax, edi; xchg rcx, rsi; rol|ror eax, cl; xchg rcx, rsi */
	{ "bpf_rol32", kinsn_rol32, 2, 0, KINSN_CPU_BASE, 10,
	  { 0x89, 0xf8, 0x48, 0x87, 0xce, 0xd3, 0xc0, 0x48, 0x87, 0xce } },
	{ "bpf_ror32", kinsn_ror32, 2, 0, KINSN_CPU_BASE, 10,
	  { 0x89, 0xf8, 0x48, 0x87, 0xce, 0xd3, 0xc8, 0x48, 0x87, 0xce } },
	/* popcnt|lzcnt|tzcnt rax, rdi */
	{ "bpf_popcnt64", kinsn_popcnt64, 1, 0, KINSN_CPU_POPCNT, 5,
	  { 0xf3, 0x48, 0x0f, 0xb8, 0xc7 } },
	{ "bpf_clz64", kinsn_clz64, 1, 0, KINSN_CPU_ABM, 5,
	  { 0xf3, 0x48, 0x0f, 0xbd, 0xc7 } },
	{ "bpf_ctz64", kinsn_ctz64, 1, 0, KINSN_CPU_BMI1, 5,
	  { 0xf3, 0x48, 0x0f, 0xbc, 0xc7 } },
	/* mov rax, rdx; test rdi, rdi; cmovne rax, rsi */
	{ "bpf_select64", kinsn_select64, 3, 0, KINSN_CPU_BASE, 10,
	  { 0x48, 0x89, 0xd0, 0x48, 0x85, 0xff, 0x48, 0x0f, 0x45, 0xc6 } },
	/*
	 * movzx esi, sil; movzx eax, dl; shl eax, 8; or eax, esi;
	 * bextr rax, rdi, rax
	 */
	{ "bpf_bextr64", kinsn_bextr64, 3, 0, KINSN_CPU_BMI1, 17,
	  { 0x40, 0x0f, 0xb6, 0xf6, 0x0f, 0xb6, 0xc2, 0xc1, 0xe0, 0x08,
	    0x09, 0xf0, 0xc4, 0xe2, 0xf8, 0xf7, 0xc7 } },
};

/*
 * A prefetch is a hint: no value, no fault, whatever the address. The
 * kfunc returns 0 so that, like every kinsn, it has a result to check.
 */
static inline u64 kinsn_prefetch(u64 p, u64 u1, u64 u2)
{
	return 0;
}

static const struct kinsn_def kinsn_prefetch_defs[] = {
	/* prefetcht0 [rdi]; xor eax, eax */
	{ "bpf_prefetch", kinsn_prefetch, 1, 0, KINSN_CPU_BASE, 5,
	  { 0x0f, 0x18, 0x0f, 0x31, 0xc0 } },
};

/* Big-endian loads: the value at p, byte-swapped; any alignment. */
static inline u64 kinsn_load_be16(u64 p, u64 u1, u64 u2)
{
	u16 v;

	__builtin_memcpy(&v, (const void *)(unsigned long)p, sizeof(v));
	return __builtin_bswap16(v);
}

static inline u64 kinsn_load_be32(u64 p, u64 u1, u64 u2)
{
	u32 v;

	__builtin_memcpy(&v, (const void *)(unsigned long)p, sizeof(v));
	return __builtin_bswap32(v);
}

static inline u64 kinsn_load_be64(u64 p, u64 u1, u64 u2)
{
	u64 v;

	__builtin_memcpy(&v, (const void *)(unsigned long)p, sizeof(v));
	return __builtin_bswap64(v);
}

static const struct kinsn_def kinsn_movbe_defs[] = {
	/* movbe ax, [rdi]; movzx eax, ax */
	{ "bpf_load_be16", kinsn_load_be16, 1, 1, KINSN_CPU_MOVBE, 8,
	  { 0x66, 0x0f, 0x38, 0xf0, 0x07, 0x0f, 0xb7, 0xc0 } },
	/* movbe eax, [rdi] / movbe rax, [rdi] */
	{ "bpf_load_be32", kinsn_load_be32, 1, 1, KINSN_CPU_MOVBE, 4,
	  { 0x0f, 0x38, 0xf0, 0x07 } },
	{ "bpf_load_be64", kinsn_load_be64, 1, 1, KINSN_CPU_MOVBE, 5,
	  { 0x48, 0x0f, 0x38, 0xf0, 0x07 } },
};

/*
 * Operand forms: a kinsn as one two-slot instruction that names its
 * registers, for rewriters. Slot 0 is a call with src_reg
 * BPF_PSEUDO_KINSN_CALL, imm the kfunc's BTF id and off its module BTF's
 * fd_array index (as for kfunc calls); slot 1 (code 0) carries the
 * operands in dst_reg, src_reg, off and imm.
 *
 * Its meaning is a sequence of plain BPF instructions for those operands:
 * the verifier checks the program as if the sequence stood there, then
 * marks the registers in the clobber mask unreadable; the interpreter and
 * JITs without an emitter run the sequence. The native code must leave
 * every register the sequence writes with the value the sequence gives,
 * except the clobbered ones; a sequence may load (never store), and the
 * native code then reads the same bytes.
 */
#define KINSN_OP_MAX 48 /* plain instructions of one operand form, at most */

struct kinsn_op_def {
	const char *name; /* the kfunc naming the kinsn */
	/*
	 * The plain sequence for the operands @op to @out (at most
	 * KINSN_OP_MAX), the clobbered registers to @clobber (bit n = Rn).
	 * Returns the number of instructions, or -1 for invalid operands.
	 */
	int (*expand)(const struct bpf_insn *op, struct bpf_insn *out,
		      u16 *clobber);
	enum kinsn_cpu cpu;
	/*
	 * x86-64 code to @buf (at most KINSN_X86_MAX bytes) for operands @op
	 * that expand() accepts; @regs[n] is the x86 register (0-15) the JIT
	 * gave BPF register n (R0-R10). Returns its length. The code may
	 * use r11 and the flags, nothing else the sequence does not write.
	 */
	int (*x86)(const struct bpf_insn *op, const u8 *regs, u8 *buf);
};

static inline struct bpf_insn kinsn_insn(u8 code, u8 dst, u8 src, s16 off,
					 s32 imm)
{
	struct bpf_insn insn = { .code = code, .dst_reg = dst, .src_reg = src,
				 .off = off, .imm = imm };

	return insn;
}

/* x86 REX prefix (if one is needed) and ModRM of a register operation. */
static inline int kinsn_x86_rr(u8 *buf, int w64, u8 reg, u8 rm)
{
	int n = 0;

	if (w64 || reg >= 8 || rm >= 8)
		buf[n++] = 0x40 | (w64 ? 0x08 : 0) | (reg >> 3) << 2 | (rm >> 3);
	return n;
}

static inline u8 kinsn_modrm(u8 reg, u8 rm)
{
	return 0xc0 | (reg & 7) << 3 | (rm & 7);
}

/* [REX] @opcode ModRM(@reg, @rm) */
static inline int kinsn_x86_op(u8 *buf, int w64, u8 opcode, u8 reg, u8 rm)
{
	int n = kinsn_x86_rr(buf, w64, reg, rm);

	buf[n++] = opcode;
	buf[n++] = kinsn_modrm(reg, rm);
	return n;
}

static inline int kinsn_x86_imm32(u8 *buf, s32 imm)
{
	u32 v = (u32)imm;

	buf[0] = v, buf[1] = v >> 8, buf[2] = v >> 16, buf[3] = v >> 24;
	return 4;
}

/*
 * The group-1 operation /@ext of @rm with an immediate (and /4, cmp /7),
 * in its short form where the immediate fits a byte.
 */
static inline int kinsn_x86_alu_imm(u8 *buf, int w64, u8 ext, u8 rm, s32 imm)
{
	int n = kinsn_x86_op(buf, w64, imm == (signed char)imm ? 0x83 : 0x81,
			     ext, rm);

	if (imm == (signed char)imm)
		buf[n++] = (u8)imm;
	else
		n += kinsn_x86_imm32(buf + n, imm);
	return n;
}

/*
 * Rotate left by an immediate: dst = rol(dst, imm) for 1 <= imm < width,
 * the 32-bit form zero-extending. src is scratch (clobbered), != dst. The
 * sequence is how compilers write a rotate, so it matches their code.
 */
static inline int kinsn_rol_expand(const struct bpf_insn *op,
				   struct bpf_insn *out, u16 *clobber, int w)
{
	u8 cls = w == 64 ? BPF_ALU64 : BPF_ALU, d = op->dst_reg, s = op->src_reg;

	if (d > BPF_REG_9 || s > BPF_REG_9 || d == s || op->off ||
	    op->imm < 1 || op->imm >= w)
		return -1;
	out[0] = kinsn_insn(cls | BPF_MOV | BPF_X, s, d, 0, 0);
	out[1] = kinsn_insn(cls | BPF_RSH | BPF_K, s, 0, 0, w - op->imm);
	out[2] = kinsn_insn(cls | BPF_LSH | BPF_K, d, 0, 0, op->imm);
	out[3] = kinsn_insn(cls | BPF_OR | BPF_X, d, s, 0, 0);
	*clobber = 1u << s;
	return 4;
}

static inline int kinsn_rol64_expand(const struct bpf_insn *op,
				     struct bpf_insn *out, u16 *clobber)
{
	return kinsn_rol_expand(op, out, clobber, 64);
}

static inline int kinsn_rol32_expand(const struct bpf_insn *op,
				     struct bpf_insn *out, u16 *clobber)
{
	return kinsn_rol_expand(op, out, clobber, 32);
}

/* rol r64|r32, imm8: [REX] c1 /0 ib */
static inline int kinsn_rol_x86(const struct bpf_insn *op, const u8 *regs,
				u8 *buf, int w)
{
	int n = kinsn_x86_op(buf, w == 64, 0xc1, 0, regs[op->dst_reg]);

	buf[n++] = (u8)op->imm;
	return n;
}

static inline int kinsn_rol64_x86(const struct bpf_insn *op, const u8 *regs,
				  u8 *buf)
{
	return kinsn_rol_x86(op, regs, buf, 64);
}

static inline int kinsn_rol32_x86(const struct bpf_insn *op, const u8 *regs,
				  u8 *buf)
{
	return kinsn_rol_x86(op, regs, buf, 32);
}

/*
 * Select (conditional move): "if (a OP b) goto +1; dst = src", the way
 * compilers write dst = cond ? dst : src, as one kinsn. dst R0-R9, src
 * R0-R10 (!= dst); off holds a (R0-R10), OP and the kind of compare
 * (KINSN_SEL_*); imm is b: an immediate, or with KINSN_SEL_X a register
 * (R0-R10). The 64-bit move is what makes it exact: cmov of 32 bits would
 * zero dst's upper half also where the move does not happen.
 */
#define KINSN_SEL_X	0x100	/* b is the register imm, not an immediate */
#define KINSN_SEL_32	0x200	/* compare the low 32 bits (JMP32) */

static inline s16 kinsn_select_off(u8 a, u8 jmp_op, int x, int w32)
{
	return a | jmp_op | (x ? KINSN_SEL_X : 0) | (w32 ? KINSN_SEL_32 : 0);
}

/* x86 condition code under which a BPF jump with @jmp_op is taken. */
static inline int kinsn_x86_cc(u8 jmp_op)
{
	switch (jmp_op) {
	case BPF_JEQ:
		return 0x4; /* e */
	case BPF_JNE:
	case BPF_JSET:
		return 0x5; /* ne */
	case BPF_JGT:
		return 0x7; /* a */
	case BPF_JGE:
		return 0x3; /* ae */
	case BPF_JLT:
		return 0x2; /* b */
	case BPF_JLE:
		return 0x6; /* be */
	case BPF_JSGT:
		return 0xf; /* g */
	case BPF_JSGE:
		return 0xd; /* ge */
	case BPF_JSLT:
		return 0xc; /* l */
	case BPF_JSLE:
		return 0xe; /* le */
	}
	return -1;
}

static inline int kinsn_select_expand(const struct bpf_insn *op,
				      struct bpf_insn *out, u16 *clobber)
{
	u8 d = op->dst_reg, s = op->src_reg, a = op->off & 0xf;
	u8 jop = op->off & 0xf0, x = !!(op->off & KINSN_SEL_X);
	u8 cls = op->off & KINSN_SEL_32 ? BPF_JMP32 : BPF_JMP;

	if (d > BPF_REG_9 || s > BPF_REG_10 || d == s || a > BPF_REG_10 ||
	    (op->off & ~0x3ff) || kinsn_x86_cc(jop) < 0 ||
	    (x && (op->imm < 0 || op->imm > BPF_REG_10)))
		return -1;
	out[0] = kinsn_insn(cls | jop | (x ? BPF_X : BPF_K), a, x ? op->imm : 0,
			    1, x ? 0 : op->imm);
	out[1] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0);
	*clobber = 0;
	return 2;
}

/* cmp|test a, b|imm; cmov<not taken> dst, src */
static inline int kinsn_select_x86(const struct bpf_insn *op, const u8 *regs,
				   u8 *buf)
{
	u8 jop = op->off & 0xf0, a = regs[op->off & 0xf];
	int w64 = !(op->off & KINSN_SEL_32), n;

	if (op->off & KINSN_SEL_X) /* test|cmp a, b: 85|39 /r */
		n = kinsn_x86_op(buf, w64, jop == BPF_JSET ? 0x85 : 0x39,
				 regs[op->imm], a);
	else if (jop == BPF_JSET) { /* test a, imm32: f7 /0 id */
		n = kinsn_x86_op(buf, w64, 0xf7, 0, a);
		n += kinsn_x86_imm32(buf + n, op->imm);
	} else { /* cmp a, imm: 83|81 /7 */
		n = kinsn_x86_alu_imm(buf, w64, 7, a, op->imm);
	}
	/* cmovcc dst, src: REX.W 0f 40+cc /r, cc the jump's negated */
	n += kinsn_x86_rr(buf + n, 1, regs[op->dst_reg], regs[op->src_reg]);
	buf[n++] = 0x0f;
	buf[n++] = 0x40 | (kinsn_x86_cc(jop) ^ 1);
	buf[n++] = kinsn_modrm(regs[op->dst_reg], regs[op->src_reg]);
	return n;
}

/*
 * Bit-field extract: dst = bits [off, off + imm) of src, shifted down;
 * dst R0-R9, src R0-R10, 0 <= off, 1 <= imm < 64, off + imm <= 64. The
 * sequence is the copy, shift and mask compilers write (two shifts for
 * fields wider than 32 bits, whose mask an ALU immediate cannot hold).
 */
static inline int kinsn_bextr_expand(const struct bpf_insn *op,
				     struct bpf_insn *out, u16 *clobber)
{
	u8 d = op->dst_reg, s = op->src_reg;
	int start = op->off, len = op->imm, n = 0;

	if (d > BPF_REG_9 || s > BPF_REG_10 || start < 0 || len < 1 ||
	    len > 63 || start + len > 64)
		return -1;
	if (d != s)
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0);
	if (len <= 32) {
		if (start)
			out[n++] = kinsn_insn(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0,
					      start);
		if (len < 32)
			out[n++] = kinsn_insn(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0,
					      (s32)((1u << len) - 1));
		else
			out[n++] = kinsn_insn(BPF_ALU | BPF_MOV | BPF_X, d, d, 0, 0);
	} else {
		if (64 - start - len)
			out[n++] = kinsn_insn(BPF_ALU64 | BPF_LSH | BPF_K, d, 0, 0,
					      64 - start - len);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, 64 - len);
	}
	*clobber = 0;
	return n;
}

/*
 * Fields up to 32 bits: rorx dst, src, start (BMI2: copy and shift in one,
 * the bits rotated to the top are masked off) and the mask (and, or a
 * 32-bit mov). Wider ones: the plain sequence's copy and shifts.
 */
static inline int kinsn_bextr_x86(const struct bpf_insn *op, const u8 *regs,
				  u8 *buf)
{
	u8 d = regs[op->dst_reg], s = regs[op->src_reg];
	int start = op->off, len = op->imm, n = 0;

	if (len > 32) {
		if (d != s)
			n += kinsn_x86_op(buf + n, 1, 0x89, s, d); /* mov d, s */
		if (64 - start - len) { /* shl d, imm8: c1 /4 ib */
			n += kinsn_x86_op(buf + n, 1, 0xc1, 4, d);
			buf[n++] = 64 - start - len;
		}
		n += kinsn_x86_op(buf + n, 1, 0xc1, 5, d); /* shr d, imm8 */
		buf[n++] = 64 - len;
		return n;
	}
	if (start) { /* rorx d, s, start: VEX.LZ.F2.0F3A.W1 f0 /r ib */
		buf[n++] = 0xc4;
		buf[n++] = (d >= 8 ? 0 : 0x80) | 0x40 | (s >= 8 ? 0 : 0x20) | 0x03;
		buf[n++] = 0xfb;
		buf[n++] = 0xf0;
		buf[n++] = kinsn_modrm(d, s);
		buf[n++] = start;
	} else if (d != s) {
		n += kinsn_x86_op(buf + n, 1, 0x89, s, d); /* mov d, s */
	}
	if (len == 32) /* mov d32, d32 */
		n += kinsn_x86_op(buf + n, 0, 0x89, d, d);
	else /* and d, mask: 83|81 /4 */
		n += kinsn_x86_alu_imm(buf + n, 1, 4, d, (s32)((1u << len) - 1));
	return n;
}

/*
 * Population count: dst = the number of bits set in src (off 64) or in its
 * low 32 bits (off 32). imm names the scratch registers: t in bits 0-3
 * and, for 64 bits, c in bits 4-7. dst, src, t and c are R0-R9 and
 * distinct; src, t and c are clobbered. The 32-bit sequence is the one
 * compilers expand __builtin_popcount to. The 64-bit one builds its masks
 * from c = 0x0101010101010101, since an ALU immediate holds 32 bits.
 */
static inline int kinsn_popcnt_expand(const struct bpf_insn *op,
				      struct bpf_insn *out, u16 *clobber)
{
	u8 d = op->dst_reg, x = op->src_reg, t = op->imm & 0xf;
	u8 c = op->imm >> 4 & 0xf, cls = op->off == 64 ? BPF_ALU64 : BPF_ALU;
	u16 regs = 1u << d | 1u << x | 1u << t | (op->off == 64 ? 1u << c : 0);
	int n = 0;

	if ((op->off != 32 && op->off != 64) ||
	    (op->imm & ~(op->off == 64 ? 0xff : 0xf)) || d > BPF_REG_9 ||
	    x > BPF_REG_9 || t > BPF_REG_9 || c > BPF_REG_9 ||
	    kinsn_popcnt64(regs, 0, 0) != (op->off == 64 ? 4 : 3))
		return -1;
	if (op->off == 32) {
		/* t = x >> 1 & 0x55555555; x -= t */
		out[n++] = kinsn_insn(BPF_ALU | BPF_MOV | BPF_X, t, x, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU | BPF_RSH | BPF_K, t, 0, 0, 1);
		out[n++] = kinsn_insn(BPF_ALU | BPF_AND | BPF_K, t, 0, 0, 0x55555555);
		out[n++] = kinsn_insn(BPF_ALU | BPF_SUB | BPF_X, x, t, 0, 0);
		/* d = (x & 0x33333333) + (x >> 2 & 0x33333333) */
		out[n++] = kinsn_insn(BPF_ALU | BPF_MOV | BPF_X, d, x, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU | BPF_AND | BPF_K, d, 0, 0, 0x33333333);
		out[n++] = kinsn_insn(BPF_ALU | BPF_RSH | BPF_K, x, 0, 0, 2);
		out[n++] = kinsn_insn(BPF_ALU | BPF_AND | BPF_K, x, 0, 0, 0x33333333);
	} else {
		/* c = 0x0101010101010101; d = c * 0x55 */
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_K, c, 0, 0, 0x01010101);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_LSH | BPF_K, c, 0, 0, 32);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_OR | BPF_K, c, 0, 0, 0x01010101);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_X, d, c, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MUL | BPF_K, d, 0, 0, 0x55);
		/* t = x >> 1 & d; x -= t; t = c * 0x33 */
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_X, t, x, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_RSH | BPF_K, t, 0, 0, 1);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_AND | BPF_X, t, d, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_SUB | BPF_X, x, t, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_X, t, c, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MUL | BPF_K, t, 0, 0, 0x33);
		/* d = (x & t) + (x >> 2 & t) */
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_X, d, x, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_AND | BPF_X, d, t, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_RSH | BPF_K, x, 0, 0, 2);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_AND | BPF_X, x, t, 0, 0);
	}
	out[n++] = kinsn_insn(cls | BPF_ADD | BPF_X, d, x, 0, 0);
	/* d = (d + (d >> 4)) & 0x0f0f..; d = d * 0x0101.. >> (width - 8) */
	out[n++] = kinsn_insn(cls | BPF_MOV | BPF_X, x, d, 0, 0);
	out[n++] = kinsn_insn(cls | BPF_RSH | BPF_K, x, 0, 0, 4);
	out[n++] = kinsn_insn(cls | BPF_ADD | BPF_X, d, x, 0, 0);
	if (op->off == 32) {
		out[n++] = kinsn_insn(BPF_ALU | BPF_AND | BPF_K, d, 0, 0, 0x0f0f0f0f);
		out[n++] = kinsn_insn(BPF_ALU | BPF_MUL | BPF_K, d, 0, 0, 0x01010101);
	} else {
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MOV | BPF_X, t, c, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MUL | BPF_K, t, 0, 0, 0x0f);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_AND | BPF_X, d, t, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU64 | BPF_MUL | BPF_X, d, c, 0, 0);
	}
	out[n++] = kinsn_insn(cls | BPF_RSH | BPF_K, d, 0, 0, op->off - 8);
	*clobber = regs & ~(1u << d);
	return n;
}

/* popcnt dst, src (32 bits: zero-extending): f3 [REX] 0f b8 /r */
static inline int kinsn_popcnt_x86(const struct bpf_insn *op, const u8 *regs,
				   u8 *buf)
{
	u8 d = regs[op->dst_reg], s = regs[op->src_reg];
	int n = 0;

	buf[n++] = 0xf3;
	n += kinsn_x86_rr(buf + n, op->off == 64, d, s);
	buf[n++] = 0x0f;
	buf[n++] = 0xb8;
	buf[n++] = kinsn_modrm(d, s);
	return n;
}

/*
 * CRC32C of one byte: dst = crc32c_u8(dst, src), the CRC in the low 32 bits
 * of dst (zero-extended, as crc32 gives it), the byte in the low 8 of src.
 * imm is a scratch register (clobbered; src itself may be it), off 0; dst
 * and src are R0-R9 and distinct. The sequence is the bitwise CRC, one
 * shift and a conditional xor of the polynomial per bit, the condition
 * made a multiplication so that there is no branch.
 */
#define KINSN_CRC32C_POLY 0x82f63b78

static inline int kinsn_crc32c_expand(const struct bpf_insn *op,
				      struct bpf_insn *out, u16 *clobber)
{
	u8 d = op->dst_reg, s = op->src_reg, t = (u8)op->imm;
	int n = 0, k;

	if (d > BPF_REG_9 || s > BPF_REG_9 || d == s || op->off ||
	    op->imm < 0 || op->imm > BPF_REG_9 || t == d)
		return -1;
	/* t = s & 0xff; d ^= t */
	out[n++] = kinsn_insn(BPF_ALU | BPF_MOV | BPF_X, t, s, 0, 0);
	out[n++] = kinsn_insn(BPF_ALU | BPF_AND | BPF_K, t, 0, 0, 0xff);
	out[n++] = kinsn_insn(BPF_ALU | BPF_XOR | BPF_X, d, t, 0, 0);
	for (k = 0; k < 8; k++) { /* d = d >> 1 ^ (d & 1) * poly */
		out[n++] = kinsn_insn(BPF_ALU | BPF_MOV | BPF_X, t, d, 0, 0);
		out[n++] = kinsn_insn(BPF_ALU | BPF_AND | BPF_K, t, 0, 0, 1);
		out[n++] = kinsn_insn(BPF_ALU | BPF_MUL | BPF_K, t, 0, 0,
				      (s32)KINSN_CRC32C_POLY);
		out[n++] = kinsn_insn(BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, 1);
		out[n++] = kinsn_insn(BPF_ALU | BPF_XOR | BPF_X, d, t, 0, 0);
	}
	*clobber = 1u << t;
	return n;
}

/* crc32 dst32, src8: f2 REX 0f 38 f0 /r (REX: sil and dil need one) */
static inline int kinsn_crc32c_x86(const struct bpf_insn *op, const u8 *regs,
				   u8 *buf)
{
	u8 d = regs[op->dst_reg], s = regs[op->src_reg];
	int n = 0;

	buf[n++] = 0xf2;
	buf[n++] = 0x40 | (d >> 3) << 2 | (s >> 3);
	buf[n++] = 0x0f;
	buf[n++] = 0x38;
	buf[n++] = 0xf0;
	buf[n++] = kinsn_modrm(d, s);
	return n;
}

/*
 * Big-endian load: dst = the @w-bit value at src + off, byte-swapped and
 * zero-extended, as "ldx; be" (how bpf_ntohl(*p) compiles) names it.
 * dst R0-R9, src R0-R10 (dst == src too: the load reads src first), off
 * any, imm 0. The verifier checks the load as it checks any other; where
 * src is a context or kernel object pointer, whose loads it rewrites, the
 * sequence stays.
 */
static inline int kinsn_load_be_expand(const struct bpf_insn *op,
				       struct bpf_insn *out, u16 *clobber,
				       int w)
{
	u8 size = w == 16 ? BPF_H : w == 32 ? BPF_W : BPF_DW;

	if (op->dst_reg > BPF_REG_9 || op->src_reg > BPF_REG_10 || op->imm)
		return -1;
	out[0] = kinsn_insn(BPF_LDX | BPF_MEM | size, op->dst_reg,
			    op->src_reg, op->off, 0);
	out[1] = kinsn_insn(BPF_ALU | BPF_END | BPF_TO_BE, op->dst_reg, 0, 0,
			    w);
	*clobber = 0;
	return 2;
}

static inline int kinsn_load_be16_expand(const struct bpf_insn *op,
					 struct bpf_insn *out, u16 *clobber)
{
	return kinsn_load_be_expand(op, out, clobber, 16);
}

static inline int kinsn_load_be32_expand(const struct bpf_insn *op,
					 struct bpf_insn *out, u16 *clobber)
{
	return kinsn_load_be_expand(op, out, clobber, 32);
}

static inline int kinsn_load_be64_expand(const struct bpf_insn *op,
					 struct bpf_insn *out, u16 *clobber)
{
	return kinsn_load_be_expand(op, out, clobber, 64);
}

/*
 * movbe dst, [src + disp8/32]: [66] [REX] 0f 38 f0 /r, SIB for an rsp or
 * r12 base; for 16 bits then movzx dst32, dst16 ([REX] 0f b7 /r), since
 * movbe of 16 bits keeps the register's upper bits.
 */
static inline int kinsn_load_be_x86(const struct bpf_insn *op,
				    const u8 *regs, u8 *buf, int w)
{
	u8 d = regs[op->dst_reg], s = regs[op->src_reg];
	int disp8 = op->off == (signed char)op->off, n = 0;

	if (w == 16)
		buf[n++] = 0x66;
	n += kinsn_x86_rr(buf + n, w == 64, d, s);
	buf[n++] = 0x0f;
	buf[n++] = 0x38;
	buf[n++] = 0xf0;
	buf[n++] = (disp8 ? 0x40 : 0x80) | (d & 7) << 3 | (s & 7);
	if ((s & 7) == 4)
		buf[n++] = 0x24;
	if (disp8)
		buf[n++] = (u8)op->off;
	else
		n += kinsn_x86_imm32(buf + n, op->off);
	if (w == 16) {
		n += kinsn_x86_rr(buf + n, 0, d, d);
		buf[n++] = 0x0f;
		buf[n++] = 0xb7;
		buf[n++] = kinsn_modrm(d, d);
	}
	return n;
}

static inline int kinsn_load_be16_x86(const struct bpf_insn *op,
				      const u8 *regs, u8 *buf)
{
	return kinsn_load_be_x86(op, regs, buf, 16);
}

static inline int kinsn_load_be32_x86(const struct bpf_insn *op,
				      const u8 *regs, u8 *buf)
{
	return kinsn_load_be_x86(op, regs, buf, 32);
}

static inline int kinsn_load_be64_x86(const struct bpf_insn *op,
				      const u8 *regs, u8 *buf)
{
	return kinsn_load_be_x86(op, regs, buf, 64);
}

/*
 * Every operand form; a module gives those of its own kfuncs (by name) to
 * kinsn_module_init().
 */
static const struct kinsn_op_def kinsn_op_defs[] = {
	{ "bpf_rol64", kinsn_rol64_expand, KINSN_CPU_BASE, kinsn_rol64_x86 },
	{ "bpf_rol32", kinsn_rol32_expand, KINSN_CPU_BASE, kinsn_rol32_x86 },
	{ "bpf_select64", kinsn_select_expand, KINSN_CPU_BASE, kinsn_select_x86 },
	{ "bpf_bextr64", kinsn_bextr_expand, KINSN_CPU_BMI2, kinsn_bextr_x86 },
	{ "bpf_popcnt64", kinsn_popcnt_expand, KINSN_CPU_POPCNT, kinsn_popcnt_x86 },
	{ "bpf_crc32c_u8", kinsn_crc32c_expand, KINSN_CPU_SSE4_2, kinsn_crc32c_x86 },
	{ "bpf_load_be16", kinsn_load_be16_expand, KINSN_CPU_MOVBE,
	  kinsn_load_be16_x86 },
	{ "bpf_load_be32", kinsn_load_be32_expand, KINSN_CPU_MOVBE,
	  kinsn_load_be32_x86 },
	{ "bpf_load_be64", kinsn_load_be64_expand, KINSN_CPU_MOVBE,
	  kinsn_load_be64_x86 },
};

#endif /* KINSN_DEFS_H */
