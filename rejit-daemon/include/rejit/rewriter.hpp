// SPDX-License-Identifier: GPL-2.0
// Rewriter: edit a decoded program and keep every pc-relative reference
// consistent.
//
// On input, jumps (JMP/JMP32 incl. gotol and may_goto), bpf-to-bpf calls and
// ld_imm64 BPF_PSEUDO_FUNC loads are resolved from slot offsets to the
// instruction they reach. Edits move instructions around; finish() lays the
// program out again and re-encodes every offset, line_info and func_info.
// Whatever cannot be shown consistent is refused with a reason instead of
// emitted: a reference into the middle of an ld_imm64 or a kinsn operand
// form, out of the program,
// or an offset that no longer fits its field.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rejit/insn.hpp"
#include "rejit/result.hpp"

namespace rejit {

// bpf_line_info / bpf_func_info keyed by instruction (slot) offset.
struct LineInfo {
	uint32_t insn_off;
	uint32_t file_name_off;
	uint32_t line_off;
	uint32_t line_col;
};
struct FuncInfo {
	uint32_t insn_off;
	uint32_t type_id;
};

struct Program {
	std::vector<Insn> insns;
	std::vector<LineInfo> line_info;
	std::vector<FuncInfo> func_info;
};

class Rewriter {
public:
	static Result<Rewriter> create(std::span<const Insn> insns,
	                               std::span<const LineInfo> line_info = {},
	                               std::span<const FuncInfo> func_info = {});

	[[nodiscard]] size_t size() const { return nodes_.size(); }
	[[nodiscard]] const Insn &at(size_t i) const { return nodes_[i].insn; }
	// Index of the instruction that instruction i jumps or calls to.
	[[nodiscard]] std::optional<size_t> target(size_t i) const;

	// Replace instruction i with `with` (straight-line code: no jumps,
	// calls or exits). References to i then reach the first instruction of
	// `with`; an empty `with` deletes i and they reach its successor.
	Result<void> replace(size_t i, std::vector<Insn> with);
	// Replace the run [first, first + count) with `with`, same rules; the
	// run itself must not be the target of references except at `first`.
	Result<void> replace_run(size_t first, size_t count, std::vector<Insn> with);
	// Make conditional jump i unconditional, to the same target (deleting
	// it with replace(i, {}) is the way to never take it).
	Result<void> jump_always(size_t i);
	// Insert straight-line code before instruction i; references to i then
	// reach that code first.
	Result<void> insert_before(size_t i, std::vector<Insn> code);
	// Invert the condition of conditional jump i and make it jump to
	// instruction `to` (JSET and may_goto have no inverse).
	Result<void> invert_jump(size_t i, size_t to);
	// Lay out the run [first, first + count) just before instruction
	// `before` (size(): at the end), which nothing may fall through into.
	// The instruction laid out before the run then falls through to the
	// one after it (the caller makes it jump to the run if need be), and if
	// the run's last instruction can fall through, a `ja` to the
	// instruction that followed the run is appended. Only before deletions.
	Result<void> move_run(size_t first, size_t count, size_t before);

	Result<Program> finish() const;

private:
	struct Node {
		Insn insn;
		int64_t target = -1;      // node index this insn refers to, or -1
		bool deleted = false;     // references skip to the next live node
		std::vector<Insn> prefix; // inserted before insn, reached by references
		std::vector<Insn> extra;  // inserted after insn (replacement tail)
		int64_t then_jump = -1;   // node a `ja` after all that goes to, or -1
	};

	[[nodiscard]] bool falls_through(size_t i) const;
	static Result<void> check_straight(size_t i, const std::vector<Insn> &code);

	std::vector<Node> nodes_;
	std::vector<size_t> order_; // layout: node indexes in program order
	std::vector<LineInfo> line_info_;
	std::vector<FuncInfo> func_info_;
};

// Does the instruction carry a pc-relative reference the rewriter resolves?
bool is_pc_relative(const Insn &in);
// Can the instruction transfer control (jump, call, exit)? A kinsn operand
// form cannot: it is straight-line code.
bool is_control(const Insn &in);
// A jump with a condition (not ja, gotol, may_goto, call or exit)?
bool is_cond_jump(const Insn &in);

} // namespace rejit
