// SPDX-License-Identifier: GPL-2.0
// zext: r <<= 32; r >>= 32 -> w = w.
//
// Without alu32 (-mcpu=v1/v2, still the default of many build systems),
// clang zero-extends the low half of a register with a shift pair, and the
// kernel JIT emits both shifts. A 32-bit move zero-extends by definition:
// one native instruction, and the verifier knows as much about its result.
//
// The sign-extending pair (s>>= 32) is left alone: its one-instruction
// form, r = (s32)r, is exact, but the 6.12 verifier tracks its bounds less
// precisely than the shifts' and rejected a rewritten program that
// depended on them (a map value offset, in the kernel's selftests).
#include <fmt/format.h>

#include "passes/passes.hpp"

namespace rejit {
namespace {

bool is_shift32(const Insn &in, uint8_t op, uint8_t reg) {
	return in.code == (BPF_ALU64 | op | BPF_K) && in.imm == 32 && in.dst == reg && in.off == 0;
}

class Zext : public Pass {
public:
	std::string_view name() const override { return "zext"; }
	std::string_view summary() const override {
		return "shift pairs that zero-extend the low 32 bits -> one mov32";
	}

	Result<void> run(Rewriter &rw, const PassEnv &, std::vector<Site> &sites) const override {
		for (size_t i = 0; i + 1 < rw.size(); i++) {
			const Insn &a = rw.at(i), &b = rw.at(i + 1);
			if (!is_shift32(a, BPF_LSH, a.dst) || !is_shift32(b, BPF_RSH, a.dst))
				continue;
			const uint8_t r = a.dst;
			const Insn mov{BPF_ALU | BPF_MOV | BPF_X, r, r, 0, 0}; // zero-extends
			const std::string what = fmt::format("w{0} = w{0}", r);
			if (auto res = rw.replace_run(i, 2, {mov}); !res) {
				sites.push_back({i, false, what + ": " + res.error().msg});
				continue;
			}
			sites.push_back({i, true, what + " (2 insns -> 1)"});
			i++;
		}
		return {};
	}
};

} // namespace

std::unique_ptr<Pass> make_zext_pass() {
	return std::make_unique<Zext>();
}

} // namespace rejit
