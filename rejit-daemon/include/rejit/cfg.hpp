// SPDX-License-Identifier: GPL-2.0
// Control-flow graph and dataflow over a Rewriter's (unedited) instructions.
//
// Subprograms are analysed together: a bpf-to-bpf call is an ordinary
// instruction that reads R1-R5 and clobbers R0-R5, like a helper call, so no
// call edges are needed.
//
// Locations are the registers R0-R10 and the 128 4-byte granules of the
// stack frame (R10-512 .. R10). Two analyses:
//  * Kinds (forward): what each register may point to, enough to show that
//    a store or helper call cannot touch memory reached from the context
//    (packet data, for instance).
//  * Liveness (backward): which locations are read later. A stack pointer
//    passed to a call exposes the frame from where it points up to R10; a
//    stack pointer of unknown offset exposes all of it.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <vector>

#include "rejit/rewriter.hpp"

namespace rejit {

// Set of registers R0..R10, bit i = Ri.
using RegSet = uint16_t;
constexpr RegSet reg_bit(unsigned r) {
	return RegSet(1u << r);
}

// Registers an instruction reads / writes (writes include call clobbers).
RegSet regs_read(const Insn &in);
RegSet regs_written(const Insn &in);
// Does the instruction write memory or call out (helper, kfunc, subprog)?
bool has_side_effects(const Insn &in);

// Registers and stack granules.
struct Locs {
	RegSet regs = 0;
	std::bitset<128> stack; // bit g: bytes [R10 - 512 + 4g, R10 - 512 + 4g + 4)

	// Granules touched by [R10 + off, R10 + off + size).
	static Locs stack_bytes(int32_t off, unsigned size);
	// Granules entirely covered by it (what a store overwrites for sure).
	static Locs stack_covered(int32_t off, unsigned size);
	Locs operator|(const Locs &o) const { return {RegSet(regs | o.regs), stack | o.stack}; }
	Locs operator&(const Locs &o) const { return {RegSet(regs & o.regs), stack & o.stack}; }
	[[nodiscard]] Locs without(const Locs &o) const {
		return {RegSet(regs & ~o.regs), stack & ~o.stack};
	}
	[[nodiscard]] bool any() const { return regs || stack.any(); }
	bool operator==(const Locs &) const = default;
};

class Cfg {
public:
	explicit Cfg(const Rewriter &rw);

	[[nodiscard]] size_t blocks() const { return start_.size(); }
	[[nodiscard]] size_t block_of(size_t insn) const { return block_of_[insn]; }
	[[nodiscard]] size_t block_start(size_t b) const { return start_[b]; }
	// One past the block's last instruction.
	[[nodiscard]] size_t block_end(size_t b) const {
		return b + 1 < start_.size() ? start_[b + 1] : block_of_.size();
	}
	[[nodiscard]] const std::vector<size_t> &succs(size_t insn) const { return succs_[insn]; }
	// Predecessor blocks of block b (an entry point has none).
	[[nodiscard]] const std::vector<size_t> &preds(size_t b) const { return preds_[b]; }
	// Subprogram and callback entries (besides insn 0).
	[[nodiscard]] bool is_entry(size_t insn) const { return entry_[insn]; }

private:
	std::vector<size_t> start_;
	std::vector<size_t> block_of_;
	std::vector<std::vector<size_t>> succs_;
	std::vector<std::vector<size_t>> preds_;
	std::vector<bool> entry_;
};

// Does a value held in `from_regs` after instruction `from` reach a read of
// `into_regs` by instruction `to`, through register data dependences (an
// instruction that reads a carrying register makes what it writes carry
// too; one that only writes a register ends its carrying)? Memory is not
// followed. With to <= from this asks whether the value comes back around
// a loop: a loop-carried dependence.
bool reg_flow_reaches(const Rewriter &rw, const Cfg &cfg, size_t from, RegSet from_regs, size_t to,
                      RegSet into_regs);

// What a register may hold (bit set).
enum Kind : uint8_t {
	kCtx = 1,     // the context pointer
	kFromCtx = 2, // loaded from the context, transitively: packet data etc.
	kStack = 4,   // pointer into the stack frame
	kOther = 8,   // scalars, map pointers and values, helper results
	kAny = 15,
};

class Kinds {
public:
	Kinds(const Rewriter &rw, const Cfg &cfg);
	// Kinds of register r before instruction i executes.
	[[nodiscard]] uint8_t before(size_t i, unsigned r) const { return in_[i][r].kinds; }
	// R10-relative offset register r points to before i, if a known stack
	// pointer.
	[[nodiscard]] std::optional<int32_t> stack_off(size_t i, unsigned r) const;
	// The R10-relative bytes instruction i accesses, if a stack access at a
	// known offset.
	[[nodiscard]] std::optional<std::pair<int32_t, unsigned>> stack_access(const Rewriter &rw,
	                                                                       size_t i) const;
	// Can instruction i write memory reached from the context?
	[[nodiscard]] bool may_write_ctx_memory(const Rewriter &rw, size_t i) const;

	struct Reg {
		uint8_t kinds = 0;
		int32_t stack_off = kUnknownOff;
		static constexpr int32_t kUnknownOff = INT32_MIN;
	};

private:
	std::vector<std::array<Reg, BPF_REG_10 + 1>> in_;
};

// Locations read / written by instruction i (using kinds for stack
// pointers). Writes are what is overwritten for sure.
Locs locs_read(const Rewriter &rw, const Kinds &k, size_t i);
Locs locs_written(const Rewriter &rw, const Kinds &k, size_t i);

class Liveness {
public:
	Liveness(const Rewriter &rw, const Cfg &cfg, const Kinds &kinds);
	[[nodiscard]] Locs live_in(size_t insn) const { return in_[insn]; }
	[[nodiscard]] Locs live_out(size_t insn) const { return out_[insn]; }

private:
	std::vector<Locs> in_, out_;
};

} // namespace rejit
