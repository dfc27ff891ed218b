// SPDX-License-Identifier: GPL-2.0
// libFuzzer target for the codec, the rewriter and the passes: any input
// that decodes (kinsn operand forms included) must encode back bit for bit
// and survive an unedited rewrite unchanged; the passes must produce a
// program the rewriter can read again, and where the interpreter runs the
// original to completion on a fixed packet, the rewritten program must
// return the same and leave the same memory. The layout pass gets a made-up
// edge profile, and the instrumented program (edge counters) must behave
// as the original too.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "rejit/interp.hpp"
#include "rejit/pass.hpp"
#include "rejit/profile.hpp"
#include "rejit/rewriter.hpp"
#include "xdp_ctx.hpp"

namespace {

using namespace rejit;

[[noreturn]] void bug(const char *what) {
	__builtin_trap(); // libFuzzer reports the input; `what` names the check
	(void)what;
}

struct Outcome {
	Result<uint64_t> r0;
	std::vector<uint8_t> packet, stack;
};

constexpr uint32_t kEdgeMap = 0;
constexpr uint64_t kEdges = 0x4000'0000;

// With `counters`, the edge counters' map value is mapped for the run.
Outcome run(const std::vector<Insn> &prog, size_t counters = 0) {
	std::vector<uint8_t> pkt(64);
	for (size_t i = 0; i < pkt.size(); i++)
		pkt[i] = uint8_t(i * 37 + 11);
	Memory mem;
	RunOptions opt;
	opt.r1 = test::map_xdp(mem, pkt);
	if (counters) {
		mem.map("edges", kEdges, std::vector<uint8_t>(counters * 8), true);
		opt.pseudo = [](const Insn &in) -> Result<uint64_t> {
			if (in.src != BPF_PSEUDO_MAP_IDX_VALUE || in.imm != int32_t(kEdgeMap))
				return make_error(EINVAL, "map not modelled");
			return kEdges + uint64_t(uint32_t(in.imm_hi));
		};
	}
	opt.max_steps = 10000;
	auto r = interpret(prog, mem, opt);
	return {std::move(r), mem.bytes("packet"), mem.bytes("stack")};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (size < sizeof(bpf_insn))
		return 0;
	std::vector<bpf_insn> raw(size / sizeof(bpf_insn));
	std::memcpy(raw.data(), data, raw.size() * sizeof(bpf_insn));
	auto insns = decode(raw);
	if (!insns)
		return 0;
	const auto again = encode(*insns);
	if (again.size() != raw.size() ||
	    std::memcmp(again.data(), raw.data(), raw.size() * sizeof(bpf_insn)))
		bug("encode(decode(x)) != x");
	auto rw = Rewriter::create(*insns);
	if (!rw)
		return 0;
	auto same = rw->finish();
	if (!same || same->insns != *insns)
		bug("an unedited rewrite changed the program");

	static const auto passes = all_passes();
	// kinsns as if kinsn_bitops were loaded, so rotate rewrites too (and
	// decoded pairs naming them are bound: the passes see their meaning)
	static const PassEnv kinsns = [] {
		PassEnv e;
		e.kinsns = {{"bpf_rol64", {1, 1}}, {"bpf_rol32", {2, 1}}};
		return e;
	}();
	PassEnv env = kinsns;
	env.profile.code = *insns;
	for (size_t i = 0; i < insns->size(); i++)
		if (is_cond_jump((*insns)[i]))
			env.profile.branches[i] = (i + uint16_t((*insns)[i].off)) & 1
			                                  ? BranchCount{100, 0}
			                                  : BranchCount{0, 100};
	auto ins = instrument(Program{*insns, {}, {}}, kEdgeMap);
	if (ins && !Rewriter::create(ins->prog.insns))
		bug("instrumenting produced dangling references");
	const Optimized o = run_passes(Program{*insns, {}, {}}, passes, env);
	if (!Rewriter::create(o.prog.insns))
		bug("a pass produced dangling references");
	const Outcome before = run(*insns);
	if (!before.r0)
		return 0; // the original does something the interpreter does not model
	if (ins && ins->probes.counters) {
		const Outcome counted = run(ins->prog.insns, ins->probes.counters);
		if (!counted.r0 || *counted.r0 != *before.r0 || counted.packet != before.packet ||
		    counted.stack != before.stack)
			bug("the instrumented program behaves differently");
	}
	if (!o.changed())
		return 0;
	const Outcome after = run(o.prog.insns);
	if (!after.r0 || *after.r0 != *before.r0 || after.packet != before.packet ||
	    after.stack != before.stack)
		bug("the rewritten program behaves differently");
	return 0;
}
