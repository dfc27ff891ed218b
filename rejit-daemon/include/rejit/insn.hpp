// SPDX-License-Identifier: GPL-2.0
// Raw eBPF instruction codec for the Linux 6.12 ISA.
//
// A program is decoded into one Insn per logical instruction: the two-slot
// ld_imm64 becomes a single Insn with both immediates, and so does a kinsn
// operand form (a BPF_PSEUDO_KINSN_CALL call whose second slot carries the
// operands), so passes never split them by accident. decode() accepts
// exactly the opcodes the 6.12 verifier (plus the kinsn operand form) can
// accept and encode(decode(x)) == x bit for bit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <linux/bpf.h>

#include "rejit/result.hpp"

#ifndef BPF_PSEUDO_KINSN_CALL
#define BPF_PSEUDO_KINSN_CALL 3
#endif

namespace rejit {

// The second slot of a kinsn operand form: its operands.
struct KinsnOperands {
	uint8_t dst = 0;
	uint8_t src = 0;
	int16_t off = 0;
	int32_t imm = 0;

	bool operator==(const KinsnOperands &) const = default;
};

struct Insn {
	uint8_t code = 0;
	uint8_t dst = 0;
	uint8_t src = 0;
	int16_t off = 0;
	int32_t imm = 0;
	int32_t imm_hi = 0; // upper 32 bits of an ld_imm64, else 0
	KinsnOperands op{}; // operands of a kinsn operand form, else zero
	// Which operand form librejit knows this kinsn is (kinsn.hpp), 0 if
	// unknown: imm and off name a BTF function only through the fd_array
	// of one program, so the binding is not part of the encoding. Not
	// compared by ==.
	uint8_t form = 0;

	[[nodiscard]] uint8_t cls() const { return BPF_CLASS(code); }
	[[nodiscard]] bool is_ldimm64() const { return code == (BPF_LD | BPF_IMM | BPF_DW); }
	[[nodiscard]] bool is_kinsn() const {
		return code == (BPF_JMP | BPF_CALL) && src == BPF_PSEUDO_KINSN_CALL;
	}
	[[nodiscard]] unsigned slots() const { return is_ldimm64() || is_kinsn() ? 2 : 1; }
	[[nodiscard]] uint64_t imm64() const {
		return (uint64_t(uint32_t(imm_hi)) << 32) | uint32_t(imm);
	}

	bool operator==(const Insn &o) const {
		return code == o.code && dst == o.dst && src == o.src && off == o.off &&
		       imm == o.imm && imm_hi == o.imm_hi && op == o.op;
	}
};

// Why decode() refused: which slot and what was wrong with it.
Result<std::vector<Insn>> decode(std::span<const bpf_insn> raw);
std::vector<bpf_insn> encode(std::span<const Insn> insns);

// Empty if `in` is a valid 6.12 instruction, else the reason it is not.
std::string check(const Insn &in);

// Bytes a load or store of this opcode accesses.
unsigned access_bytes(uint8_t code);

// Number of raw slots a decoded program occupies.
size_t slot_count(std::span<const Insn> insns);

// Short mnemonic of the opcode, e.g. "alu64 add x", "ldx w", "jmp call k",
// "kinsn bpf_rol64".
std::string mnemonic(const Insn &in);
// The mnemonic and the operands that instruction uses, e.g.
// "alu64 xor x r0, r3", "ldx w r3, [r5+0]", "jmp jeq k r2, 0, +1".
std::string disasm(const Insn &in);

} // namespace rejit
