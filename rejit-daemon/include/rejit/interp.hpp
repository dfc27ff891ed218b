// SPDX-License-Identifier: GPL-2.0
// Userspace eBPF interpreter for differential testing of rewrites: run the
// original and the rewritten program on the same inputs and compare.
//
// Memory is a set of regions at made-up addresses below 4 GiB, so that a
// context holding 32-bit pointers (xdp_md, __sk_buff) works as in the
// kernel's rewritten ctx accesses. Every access is bounds-checked; anything
// the caller does not model (maps, helpers) and LD_ABS/IND are errors,
// never a guess. A kinsn operand form runs its plain sequence (kinsn.hpp);
// the registers it clobbers then hold a marker value, and an instruction
// reading one is an error, as the verifier would refuse it.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "rejit/insn.hpp"
#include "rejit/result.hpp"

namespace rejit {

class Memory {
public:
	// Map `bytes` at `addr`; returns addr.
	uint64_t map(std::string name, uint64_t addr, std::vector<uint8_t> bytes, bool writable);
	Result<uint64_t> load(uint64_t addr, unsigned size) const;
	Result<void> store(uint64_t addr, unsigned size, uint64_t v);
	[[nodiscard]] const std::vector<uint8_t> &bytes(const std::string &name) const;

private:
	struct Region {
		std::string name;
		uint64_t addr;
		std::vector<uint8_t> bytes;
		bool writable;
	};
	Result<const Region *> find(uint64_t addr, unsigned size) const;
	std::vector<Region> regions_;
};

// A helper call: id and R1-R5 in, R0 out.
using HelperFn = std::function<Result<uint64_t>(int32_t id, const uint64_t (&args)[5])>;

// Value of an ld_imm64 with a pseudo source (map fd/idx, map value, ...).
using PseudoFn = std::function<Result<uint64_t>(const Insn &in)>;

struct RunOptions {
	uint64_t r1 = 0; // context pointer
	HelperFn helper; // unset: any helper call is an error
	PseudoFn pseudo; // unset: any pseudo ld_imm64 is an error
	uint64_t max_steps = 1'000'000;
	std::function<void(size_t insn)> trace; // set: told every instruction run
};

// The ISA's arithmetic, as the interpreter runs it and const-fold folds it.
// `src` is the operand: the source register, or the immediate sign-extended
// to 64 bits (unused by BPF_END, whose width is the immediate).
uint64_t alu_value(const Insn &in, uint64_t dst, uint64_t src);
bool jump_taken(const Insn &in, uint64_t dst, uint64_t src); // conditional jumps

// Run the program; R0 at the final exit. Stack frames (512 bytes each) are
// mapped into `mem` as "stack".
Result<uint64_t> interpret(std::span<const Insn> prog, Memory &mem, const RunOptions &opt);

} // namespace rejit
