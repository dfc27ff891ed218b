// SPDX-License-Identifier: GPL-2.0
// layout: with an edge profile, the hot side of a branch falls through.
//
// A conditional jump the profile shows taken most of the time costs a taken
// branch on the hot path, and the code it skips sits in the instruction
// cache between hot code. The pass moves that skipped run [jump + 1, target)
// to the end of its subprogram and inverts the condition: the jump now goes
// to the moved run (which gets a `ja` back to the target if it used to fall
// into it) and the hot path falls through. Same CFG, so the verifier walks
// the same paths; at most one instruction more per site. The profile names
// instructions of the code it was taken on, so the pass runs first and does
// nothing on other code.
#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

// Taken at least this share of the time and this often: worth a move.
constexpr uint64_t kHotRatio = 3; // taken >= 3 x fell through, i.e. >= 75%
constexpr uint64_t kMinTaken = 64;

class LayoutPass : public Pass {
public:
	std::string_view name() const override { return "layout"; }
	std::string_view summary() const override {
		return "with an edge profile: code a mostly-taken jump skips moves to the end of "
		       "its subprogram, the condition is inverted, the hot path falls through";
	}

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		const EdgeProfile &prof = env.profile;
		if (prof.empty())
			return {};
		bool same = prof.code.size() == rw.size();
		for (size_t i = 0; same && i < rw.size(); i++)
			same = prof.code[i] == rw.at(i);
		if (!same) {
			sites.push_back(
			        {0, false, "edge profile is of other code (layout runs first)"});
			return {};
		}
		const Cfg cfg(rw);
		auto subprog_end = [&](size_t i) {
			while (++i < rw.size() && !cfg.is_entry(i)) {
			}
			return i;
		};
		for (const auto &[j, c] : prof.branches) {
			if (c.taken < kMinTaken || c.taken < kHotRatio * c.fell)
				continue;
			const size_t t = *rw.target(j);
			if (t == j + 1)
				continue; // both edges lead to the same place
			const std::string what = fmt::format(
			        "jump to {} taken {} times, fell through {}", t, c.taken, c.fell);
			if (t <= j) {
				sites.push_back({j, false, what + ": backward jump"});
				continue;
			}
			if (auto r = rw.invert_jump(j, j + 1); !r) {
				sites.push_back({j, false, what + ": " + r.error().msg});
				continue;
			}
			if (auto r = rw.move_run(j + 1, t - j - 1, subprog_end(j)); !r) {
				(void)rw.invert_jump(j, t); // undo: inverting twice restores it
				sites.push_back({j, false, what + ": " + r.error().msg});
				continue;
			}
			sites.push_back({j, true,
			                 fmt::format("{}: [{}, {}) moved to the end of the "
			                             "subprogram, condition inverted",
			                             what, j + 1, t)});
		}
		return {};
	}
};

} // namespace

std::unique_ptr<Pass> make_layout_pass() {
	return std::make_unique<LayoutPass>();
}

} // namespace rejit
