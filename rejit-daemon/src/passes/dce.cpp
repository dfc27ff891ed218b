// SPDX-License-Identifier: GPL-2.0
// dce: code that can never run, and instructions whose result is never read.
//
// const-fold leaves both behind: the arm of a decided branch that nothing
// reaches any more, and map pointers whose every load became an immediate.
// An instruction is dead when it has no effect but its register writes (no
// store, call, jump, exit or packet load) and none of the registers it
// writes is live after it. Subprogram and callback entries count as
// reached. A jump that then lands on the next instruction goes too.
#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

class Dce : public Pass {
public:
	std::string_view name() const override { return "dce"; }
	std::string_view summary() const override {
		return "unreachable code and instructions whose result is never read -> removed";
	}

	Result<void> run(Rewriter &rw, const PassEnv &, std::vector<Site> &sites) const override {
		const Cfg cfg(rw);
		const std::vector<bool> reached = reachable(rw, cfg);
		const std::vector<RegSet> live_out = needed_regs_out(rw, cfg);
		std::vector<bool> gone(rw.size()); // removed by this pass
		for (size_t i = 0; i < rw.size(); i++)
			gone[i] = !reached[i] || !needed(rw.at(i), live_out[i]);

		for (size_t i = 0; i < rw.size(); i++) {
			if (!reached[i]) {
				size_t end = i;
				while (end < rw.size() && !reached[end])
					if (auto r = rw.replace(end++, {}); !r)
						return r;
				sites.push_back(
				        {i, true,
				         fmt::format("{} unreachable insns removed", end - i)});
				i = end - 1;
				continue;
			}
			const bool jump = jumps_over_nothing(rw, gone, i);
			if (!jump && !gone[i])
				continue;
			const std::string what = mnemonic(rw.at(i));
			if (auto r = rw.replace(i, {}); !r)
				return r;
			sites.push_back(
			        {i, true,
			         jump ? what + " to the next instruction: removed"
			              : what + " writes only registers never read: removed"});
		}
		return {};
	}

private:
	static bool needed(const Insn &in, RegSet live_out) {
		const RegSet written = regs_written(in);
		// a callback's address names its subprogram to the verifier
		const bool callback = in.is_ldimm64() && in.src == BPF_PSEUDO_FUNC;
		// a fill pairs with its spill, and the verifier drops both around a
		// bpf_fastcall call; without the fill the spill would stay
		const bool fill = in.cls() == BPF_LDX && in.src == BPF_REG_10;
		return is_control(in) || has_side_effects(in) || callback || fill || !written ||
		       (written & live_out);
	}

	// Registers read later by instructions that are needed, after each
	// instruction (faint variables): a chain of computations that only
	// feeds dead code dies as a whole.
	static std::vector<RegSet> needed_regs_out(const Rewriter &rw, const Cfg &cfg) {
		const size_t n = rw.size();
		std::vector<RegSet> in(n, 0), out(n, 0);
		for (bool changed = true; changed;) {
			changed = false;
			for (size_t i = n; i-- > 0;) {
				RegSet o = 0;
				for (size_t s : cfg.succs(i))
					o |= in[s];
				const Insn &ins = rw.at(i);
				const RegSet x =
				        needed(ins, o)
				                ? RegSet((o & ~regs_written(ins)) | regs_read(ins))
				                : o;
				changed |= x != in[i] || o != out[i];
				in[i] = x, out[i] = o;
			}
		}
		return out;
	}

	// A jump, conditional or not, whose target follows once what this pass
	// removes is gone: either way execution goes on there.
	static bool jumps_over_nothing(const Rewriter &rw, const std::vector<bool> &gone,
	                               size_t i) {
		const Insn &in = rw.at(i);
		const uint8_t op = BPF_OP(in.code);
		const auto t = rw.target(i);
		if ((in.cls() != BPF_JMP && in.cls() != BPF_JMP32) || op == BPF_CALL ||
		    op == BPF_EXIT || op == BPF_JCOND || !t || *t <= i)
			return false;
		for (size_t j = i + 1; j < *t; j++)
			if (!gone[j])
				return false;
		return true;
	}

	static std::vector<bool> reachable(const Rewriter &rw, const Cfg &cfg) {
		std::vector<bool> seen(rw.size(), false);
		std::vector<size_t> todo;
		for (size_t i = 0; i < rw.size(); i++)
			if (i == 0 || cfg.is_entry(i))
				todo.push_back(i);
		while (!todo.empty()) {
			const size_t i = todo.back();
			todo.pop_back();
			if (seen[i])
				continue;
			seen[i] = true;
			for (size_t s : cfg.succs(i))
				todo.push_back(s);
		}
		return seen;
	}
};

} // namespace

std::unique_ptr<Pass> make_dce_pass() {
	return std::make_unique<Dce>();
}

} // namespace rejit
