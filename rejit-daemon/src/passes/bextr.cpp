// SPDX-License-Identifier: GPL-2.0
// bextr: "d = s; d >>= k; d &= (1 << len) - 1" -> one bpf_bextr64 kinsn.
//
// Header fields and packed flags are extracted with a copy, a shift and a
// mask, three instructions the JIT emits one by one. The bpf_bextr64
// operand form (bits [k, k + len) of s into d) is, with BMI2, a rorx that
// copies and shifts at once and the mask: two instructions, one slot less.
// The 32-bit idiom (w registers, k + len <= 32) is the same extract of the
// zero-extended low half. All three instructions must be one basic block
// with no jump landing inside, d R0-R9 and s R0-R10, s != d.
#include <bit>

#include <fmt/format.h>

#include "passes/passes.hpp"

namespace rejit {
namespace {

constexpr std::string_view kKinsn = "bpf_bextr64";

bool is_alu_k(const Insn &in, uint8_t cls, uint8_t op, uint8_t dst) {
	return in.code == (cls | op | BPF_K) && in.dst == dst && in.off == 0;
}

class BextrPass : public Pass {
public:
	std::string_view name() const override { return "bextr"; }
	std::string_view summary() const override {
		return "copy + shift + mask of a bit field -> one bpf_bextr64 kinsn (rorx + and; "
		       "needs kinsn_bitops with native operand forms)";
	}
	bool needs_kinsns() const override { return true; }

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		const KinsnRef *ref = native_operand_form(env.kinsns, kKinsn);
		for (size_t i = 0; i + 2 < rw.size(); i++) {
			const Insn &mov = rw.at(i), &sh = rw.at(i + 1), &mask = rw.at(i + 2);
			const uint8_t cls = mov.cls(), d = mov.dst;
			if ((mov.code != (BPF_ALU64 | BPF_MOV | BPF_X) &&
			     mov.code != (BPF_ALU | BPF_MOV | BPF_X)) ||
			    mov.off != 0 || mov.src == d || !is_alu_k(sh, cls, BPF_RSH, d) ||
			    !is_alu_k(mask, cls, BPF_AND, d))
				continue;
			const int width = cls == BPF_ALU64 ? 64 : 32, k = sh.imm;
			const uint32_t m = uint32_t(mask.imm);
			// a mask of low bits: 2^len - 1 (positive, so the same in
			// both widths); bits past the width read as zero
			if (k < 1 || k >= width || mask.imm <= 0 || (m & (m + 1)))
				continue;
			const int len = std::min(std::popcount(m), width - k);
			const std::string what =
			        fmt::format("{0}{1} = bits [{2}, {3}) of {0}{4}",
			                    width == 64 ? 'r' : 'w', d, k, k + len, mov.src);
			auto skip = [&](const std::string &why) {
				sites.push_back({i, false, what + ": " + why});
			};
			if (!ref) {
				skip(fmt::format("no native {} operand form on this machine",
				                 kKinsn));
				continue;
			}
			const Insn pair =
			        make_kinsn(kKinsn, *ref, {d, mov.src, int16_t(k), int32_t(len)});
			if (!kinsn_expand(pair)) {
				skip("registers the operand form does not take (R10 as "
				     "destination)");
				continue;
			}
			if (auto r = rw.replace_run(i, 3, {pair}); !r) {
				skip(r.error().msg);
				continue;
			}
			sites.push_back({i, true, what + ": 3 insns -> " + std::string(kKinsn)});
			i += 2;
		}
		return {};
	}
};

} // namespace

std::unique_ptr<Pass> make_bextr_pass() {
	return std::make_unique<BextrPass>();
}

} // namespace rejit
