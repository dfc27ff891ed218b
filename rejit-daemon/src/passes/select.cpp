// SPDX-License-Identifier: GPL-2.0
// select: "if a OP b goto +1; dst = src" -> one bpf_select64 kinsn.
//
// clang writes dst = cond ? dst : src as a conditional jump over a copy,
// and the JIT emits a compare, a branch and a move: a branch the CPU must
// predict, for data (hash buckets, min/max, clamps) that often does not
// follow a pattern. The bpf_select64 operand form is that very pair of
// instructions (its plain sequence), which the x86 JIT emits as
// cmp + cmov: no branch. Its copy must be 64-bit (a 32-bit cmov would also
// clear the upper half where the copy does not happen), no other jump may
// land on the copy, and registers are R0-R10 with dst not R10.
//
// A select whose result comes back to it around a loop (a running max, a
// clamp of an accumulator) stays a branch: cmov puts the compare on the
// loop-carried chain, where a predicted branch takes it off (LLVM's x86
// cmov conversion makes the same call).
#include <fmt/format.h>

#include "kinsn_defs.h"
#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

constexpr std::string_view kKinsn = "bpf_select64";

bool is_branch(const Insn &in) {
	return (in.cls() == BPF_JMP || in.cls() == BPF_JMP32) && kinsn_seq_branch(in);
}

// "if a OP b goto +1; dst = src"
bool is_select(const Insn &j, const Insn &mov) {
	return is_branch(j) && j.off == 1 && mov.code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
	       mov.off == 0;
}

// Selects at i whose result comes back to them around a loop: the value
// the copy leaves in dst reaches a read of the compare's registers, dst
// (kept when the jump is taken) or src.
std::vector<bool> loop_carried(const Rewriter &rw) {
	std::vector<bool> carried(rw.size(), false);
	const Cfg cfg(rw);
	for (size_t i = 0; i + 1 < rw.size(); i++) {
		const Insn &j = rw.at(i), &mov = rw.at(i + 1);
		if (is_select(j, mov))
			carried[i] = reg_flow_reaches(
			        rw, cfg, i + 1, reg_bit(mov.dst), i,
			        RegSet(regs_read(j) | reg_bit(mov.dst) | reg_bit(mov.src)));
	}
	return carried;
}

std::string describe(const Insn &j, const Insn &mov) {
	static const char *const ops[16] = {"?", "==", ">", ">=", "&",  "!=",  "s>", "s>=",
	                                    "?", "?",  "<", "<=", "s<", "s<=", "?",  "?"};
	const char w = j.cls() == BPF_JMP32 ? 'w' : 'r';
	const std::string b =
	        BPF_SRC(j.code) == BPF_X ? fmt::format("{}{}", w, j.src) : std::to_string(j.imm);
	return fmt::format("if {}{} {} {} goto +1; r{} = r{}", w, j.dst, ops[BPF_OP(j.code) >> 4],
	                   b, mov.dst, mov.src);
}

class SelectPass : public Pass {
public:
	std::string_view name() const override { return "select"; }
	std::string_view summary() const override {
		return "a conditional jump over a register copy -> one bpf_select64 kinsn (cmov; "
		       "needs kinsn_bitops with native operand forms)";
	}
	bool needs_kinsns() const override { return true; }

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		const KinsnRef *ref = native_operand_form(env.kinsns, kKinsn);
		// Node indices stay put under edits (a replaced node's successor
		// becomes an empty one), so this holds for the whole scan.
		const std::vector<bool> carried = ref ? loop_carried(rw) : std::vector<bool>{};
		for (size_t i = 0; i + 1 < rw.size(); i++) {
			const Insn &j = rw.at(i), &mov = rw.at(i + 1);
			if (!is_select(j, mov))
				continue;
			const std::string what = describe(j, mov);
			auto skip = [&](const std::string &why) {
				sites.push_back({i, false, what + ": " + why});
			};
			if (!ref) {
				skip(fmt::format("no native {} operand form on this machine",
				                 kKinsn));
				continue;
			}
			const bool x = BPF_SRC(j.code) == BPF_X;
			KinsnOperands op{mov.dst, mov.src,
			                 int16_t(kinsn_select_off(j.dst, BPF_OP(j.code), x,
			                                          j.cls() == BPF_JMP32)),
			                 x ? int32_t(j.src) : j.imm};
			if (carried[i]) {
				skip("left a branch: its result comes back to it around a loop "
				     "(a cmov would lengthen the loop-carried chain)");
				continue;
			}
			const Insn pair = make_kinsn(kKinsn, *ref, op);
			if (!kinsn_expand(pair)) {
				skip("registers the operand form does not take (dst R10 or dst == "
				     "src)");
				continue;
			}
			if (auto r = rw.replace_run(i, 2, {pair}); !r) {
				skip(r.error().msg);
				continue;
			}
			sites.push_back(
			        {i, true, what + ": jump + copy -> " + std::string(kKinsn)});
			i++; // the copy's node, now empty
		}
		return {};
	}
};

} // namespace

std::unique_ptr<Pass> make_select_pass() {
	return std::make_unique<SelectPass>();
}

} // namespace rejit
