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
#else
#include <stdint.h>
typedef uint8_t u8;
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

#endif /* KINSN_DEFS_H */
