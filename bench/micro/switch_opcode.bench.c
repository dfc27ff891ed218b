// SPDX-License-Identifier: GPL-2.0
/* A tiny bytecode interpreter: 32 two-byte instructions and 64 data bytes
 * in the input, an accumulator and four registers, a switch over the opcode
 * in a loop bounded at 64 steps, with forward skips and backward jumps.
 * Dispatch through a compare tree, a variable-index register file and a
 * bounds check per variable-offset read.
 */
#include "bench.h"

#define PROG_LEN 32
#define DATA_LEN 64
#define MAX_STEPS 64

enum {
	OP_LDI, OP_ADD, OP_SUB, OP_XOR, OP_AND, OP_OR, OP_MUL, OP_SHL,
	OP_SHR, OP_ST, OP_LD, OP_LDB, OP_SKIPZ, OP_LOOP, OP_NOT, OP_HALT,
};

BENCH_XDP(switch_opcode)
{
	const u8 *data = in + PROG_LEN * 2;
	u64 regs[4];
	u64 acc = 0;
	u32 pc, steps;

	if (in + PROG_LEN * 2 + DATA_LEN > end)
		return 0;
	/* the entry point and the registers' initial values: data[0..4] */
	pc = data[0] & (PROG_LEN - 1);
	for (int i = 0; i < 4; i++)
		regs[i] = data[i + 1];
	for (steps = 0; steps < MAX_STEPS; steps++) {
		/* the program is circular: pc wraps at PROG_LEN */
		const u8 *insn = in + pc * 2, *d;
		u32 op, arg;

		/* variable packet offsets need their own check */
		if (insn + 2 > end)
			break;
		op = insn[0];
		arg = insn[1];
		pc = (pc + 1) & (PROG_LEN - 1);
		switch (op & 0xf) {
		case OP_LDI:
			acc = arg;
			break;
		case OP_ADD:
			acc += regs[arg & 3];
			break;
		case OP_SUB:
			acc -= regs[arg & 3];
			break;
		case OP_XOR:
			acc ^= regs[arg & 3] << (arg >> 4);
			break;
		case OP_AND:
			acc &= regs[arg & 3] | arg << 8;
			break;
		case OP_OR:
			acc |= arg << (arg & 7);
			break;
		case OP_MUL:
			acc *= arg | 1;
			break;
		case OP_SHL:
			acc <<= arg & 31;
			break;
		case OP_SHR:
			acc >>= arg & 31;
			break;
		case OP_ST:
			regs[arg & 3] = acc;
			break;
		case OP_LD:
			acc = regs[arg & 3];
			break;
		case OP_LDB:
			d = data + (arg & (DATA_LEN - 1));
			if (d + 1 > end)
				goto out;
			acc = acc << 8 | *d;
			break;
		case OP_SKIPZ:
			if (!(acc & 0xff))
				pc = (pc + (arg & 3) + 1) & (PROG_LEN - 1);
			break;
		case OP_LOOP:
			if (acc & 1)
				pc = (pc - (arg & 7) - 2) & (PROG_LEN - 1);
			break;
		case OP_NOT:
			acc = ~acc;
			break;
		case OP_HALT:
			if (arg & 0x80)
				goto out;
			break;
		}
	}
out:
	return acc ^ regs[0] ^ regs[1] << 1 ^ regs[2] << 2 ^ regs[3] << 3 ^
	       (u64)steps << 56;
}

BENCH_INPUT(switch_opcode)
{
	u64 seed = 0xa00 + k;

	(void)cap;
	bench_fill(buf, PROG_LEN * 2 + DATA_LEN, seed);
	/* the first instructions load data so every run computes something */
	buf[0] = OP_LDB;
	buf[2] = OP_ST;
	buf[4] = OP_LDB;
	buf[PROG_LEN * 2] = k == 7 ? 5 : 0;
	return PROG_LEN * 2 + DATA_LEN;
}
