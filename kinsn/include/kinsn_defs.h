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
 * calling convention, so code + "ret" is a callable function. It may
 * clobber rcx (R4) like a call would; it writes nothing else.
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
	}
	return 0;
}
#endif

#define KINSN_X86_MAX 24

struct kinsn_def {
	const char *name; /* the kfunc */
	u64 (*meaning)(u64 r1, u64 r2, u64 r3);
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

/* mov eax, edi = 89 f8; mov rax, rdi = 48 89 f8; mov ecx, esi = 89 f1 */
static const struct kinsn_def kinsn_crc32c_defs[] = {
	/* mov eax, edi; crc32 eax, sil|si|esi / crc32 rax, rsi */
	{ "bpf_crc32c_u8", kinsn_crc32c_u8, KINSN_CPU_SSE4_2, 8,
	  { 0x89, 0xf8, 0xf2, 0x40, 0x0f, 0x38, 0xf0, 0xc6 } },
	{ "bpf_crc32c_u16", kinsn_crc32c_u16, KINSN_CPU_SSE4_2, 8,
	  { 0x89, 0xf8, 0x66, 0xf2, 0x0f, 0x38, 0xf1, 0xc6 } },
	{ "bpf_crc32c_u32", kinsn_crc32c_u32, KINSN_CPU_SSE4_2, 7,
	  { 0x89, 0xf8, 0xf2, 0x0f, 0x38, 0xf1, 0xc6 } },
	{ "bpf_crc32c_u64", kinsn_crc32c_u64, KINSN_CPU_SSE4_2, 8,
	  { 0x89, 0xf8, 0xf2, 0x48, 0x0f, 0x38, 0xf1, 0xc6 } },
};

static const struct kinsn_def kinsn_bitops_defs[] = {
	/* mov rax, rdi; mov ecx, esi; rol|ror rax, cl */
	{ "bpf_rol64", kinsn_rol64, KINSN_CPU_BASE, 8,
	  { 0x48, 0x89, 0xf8, 0x89, 0xf1, 0x48, 0xd3, 0xc0 } },
	{ "bpf_ror64", kinsn_ror64, KINSN_CPU_BASE, 8,
	  { 0x48, 0x89, 0xf8, 0x89, 0xf1, 0x48, 0xd3, 0xc8 } },
	/* mov eax, edi; mov ecx, esi; rol|ror eax, cl */
	{ "bpf_rol32", kinsn_rol32, KINSN_CPU_BASE, 6,
	  { 0x89, 0xf8, 0x89, 0xf1, 0xd3, 0xc0 } },
	{ "bpf_ror32", kinsn_ror32, KINSN_CPU_BASE, 6,
	  { 0x89, 0xf8, 0x89, 0xf1, 0xd3, 0xc8 } },
	/* popcnt|lzcnt|tzcnt rax, rdi */
	{ "bpf_popcnt64", kinsn_popcnt64, KINSN_CPU_POPCNT, 5,
	  { 0xf3, 0x48, 0x0f, 0xb8, 0xc7 } },
	{ "bpf_clz64", kinsn_clz64, KINSN_CPU_ABM, 5,
	  { 0xf3, 0x48, 0x0f, 0xbd, 0xc7 } },
	{ "bpf_ctz64", kinsn_ctz64, KINSN_CPU_BMI1, 5,
	  { 0xf3, 0x48, 0x0f, 0xbc, 0xc7 } },
	/* mov rax, rdx; test rdi, rdi; cmovne rax, rsi */
	{ "bpf_select64", kinsn_select64, KINSN_CPU_BASE, 10,
	  { 0x48, 0x89, 0xd0, 0x48, 0x85, 0xff, 0x48, 0x0f, 0x45, 0xc6 } },
	/*
	 * movzx ecx, sil; movzx eax, dl; shl eax, 8; or eax, ecx;
	 * bextr rax, rdi, rax
	 */
	{ "bpf_bextr64", kinsn_bextr64, KINSN_CPU_BMI1, 17,
	  { 0x40, 0x0f, 0xb6, 0xce, 0x0f, 0xb6, 0xc2, 0xc1, 0xe0, 0x08,
	    0x09, 0xc8, 0xc4, 0xe2, 0xf8, 0xf7, 0xc7 } },
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
 * except the clobbered ones.
 */
#define KINSN_OP_MAX 8 /* plain instructions of one operand form, at most */

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
	 * x86-64 code to @buf (at most KINSN_X86_MAX bytes) for valid
	 * operands @op; @dst and @src are the x86 registers (0-15) the JIT
	 * gave BPF registers op->dst_reg and op->src_reg. Returns its length.
	 */
	int (*x86)(const struct bpf_insn *op, u8 dst, u8 src, u8 *buf);
};

static inline struct bpf_insn kinsn_insn(u8 code, u8 dst, u8 src, s32 imm)
{
	struct bpf_insn insn = { .code = code, .dst_reg = dst, .src_reg = src,
				 .imm = imm };

	return insn;
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
	out[0] = kinsn_insn(cls | BPF_MOV | BPF_X, s, d, 0);
	out[1] = kinsn_insn(cls | BPF_RSH | BPF_K, s, 0, w - op->imm);
	out[2] = kinsn_insn(cls | BPF_LSH | BPF_K, d, 0, op->imm);
	out[3] = kinsn_insn(cls | BPF_OR | BPF_X, d, s, 0);
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
static inline int kinsn_rol_x86(const struct bpf_insn *op, u8 dst, u8 *buf,
				int w)
{
	int n = 0;

	if (w == 64 || dst >= 8)
		buf[n++] = 0x40 | (w == 64 ? 0x08 : 0) | (dst >> 3);
	buf[n++] = 0xc1;
	buf[n++] = 0xc0 | (dst & 7);
	buf[n++] = (u8)op->imm;
	return n;
}

static inline int kinsn_rol64_x86(const struct bpf_insn *op, u8 dst, u8 src,
				  u8 *buf)
{
	return kinsn_rol_x86(op, dst, buf, 64);
}

static inline int kinsn_rol32_x86(const struct bpf_insn *op, u8 dst, u8 src,
				  u8 *buf)
{
	return kinsn_rol_x86(op, dst, buf, 32);
}

static const struct kinsn_op_def kinsn_bitops_op_defs[] = {
	{ "bpf_rol64", kinsn_rol64_expand, KINSN_CPU_BASE, kinsn_rol64_x86 },
	{ "bpf_rol32", kinsn_rol32_expand, KINSN_CPU_BASE, kinsn_rol32_x86 },
};

#endif /* KINSN_DEFS_H */
