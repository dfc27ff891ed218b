// SPDX-License-Identifier: GPL-2.0
// be-load: "d = *(u16/u32/u64 *)(s + off); d = be16/32/64 d" -> one
// bpf_load_be16/32/64 kinsn.
//
// Network headers are big-endian: parsers load a field and swap it
// (bpf_ntohs/ntohl, and the wide-load pass makes the same pair out of
// byte recomposition). The x86 JIT emits a mov and a bswap (and a movzx
// for 16 bits); the kinsn's operand form, whose plain sequence is that
// very pair, is one movbe. The kernel keeps the plain sequence where s is
// a context or kernel-object pointer, whose loads the verifier rewrites,
// so loads through the context are left alone here. The swap must follow
// the load directly with no jump landing on it, d R0-R9.
#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

// The kinsn for a load of `size` bytes, "" for none.
std::string_view kinsn_for(unsigned size) {
	switch (size) {
	case 2:
		return "bpf_load_be16";
	case 4:
		return "bpf_load_be32";
	case 8:
		return "bpf_load_be64";
	}
	return "";
}

class BeLoadPass : public Pass {
public:
	std::string_view name() const override { return "be-load"; }
	std::string_view summary() const override {
		return "a load and a swap to big-endian -> one bpf_load_be* kinsn (movbe; needs "
		       "kinsn_movbe with native operand forms)";
	}
	bool needs_kinsns() const override { return true; }

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		const Cfg cfg(rw);
		const Kinds kinds(rw, cfg);
		for (size_t i = 0; i + 1 < rw.size(); i++) {
			const Insn &ld = rw.at(i), &swap = rw.at(i + 1);
			const unsigned size = ld.cls() == BPF_LDX && BPF_MODE(ld.code) == BPF_MEM
			                              ? access_bytes(ld.code)
			                              : 0;
			const std::string_view kinsn = kinsn_for(size);
			if (kinsn.empty() || swap.code != (BPF_ALU | BPF_END | BPF_TO_BE) ||
			    swap.dst != ld.dst || swap.imm != int32_t(8 * size))
				continue;
			const std::string what =
			        fmt::format("r{} = be{} *(u{} *)(r{} {:+})", ld.dst, 8 * size,
			                    8 * size, ld.src, ld.off);
			auto skip = [&](const std::string &why) {
				sites.push_back({i, false, what + ": " + why});
			};
			const KinsnRef *ref = native_operand_form(env.kinsns, kinsn);
			if (!ref) {
				skip(fmt::format("no native {} operand form on this machine",
				                 kinsn));
				continue;
			}
			if (kinds.before(i, ld.src) & kCtx) {
				skip("a load through the context, which the verifier rewrites");
				continue;
			}
			const Insn pair = make_kinsn(kinsn, *ref, {ld.dst, ld.src, ld.off, 0});
			if (!kinsn_expand(pair)) {
				skip("registers the operand form does not take");
				continue;
			}
			if (auto r = rw.replace_run(i, 2, {pair}); !r) {
				skip(r.error().msg);
				continue;
			}
			sites.push_back({i, true, what + ": load + swap -> " + std::string(kinsn)});
			i++;
		}
		return {};
	}
};

} // namespace

std::unique_ptr<Pass> make_be_load_pass() {
	return std::make_unique<BeLoadPass>();
}

} // namespace rejit
