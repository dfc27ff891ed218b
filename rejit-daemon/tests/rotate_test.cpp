// SPDX-License-Identifier: GPL-2.0
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "asm.hpp"
#include "bpf_object.hpp"
#include "rejit/interp.hpp"
#include "rejit/kinsn.hpp"
#include "rejit/pass.hpp"
#include "xdp_run.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

PassEnv kinsn_env(bool native = true) {
	PassEnv env;
	env.kinsns = {{"bpf_rol64", {1001, 1, true, native}},
	              {"bpf_rol32", {1002, 1, true, native}}};
	return env;
}

Optimized rotate(const std::vector<Insn> &insns, const PassEnv &env) {
	auto passes = passes_by_name("rotate");
	EXPECT_TRUE(passes) << passes.error().msg;
	return run_passes(Program{insns, {}, {}}, *passes, env);
}

size_t pairs(const std::vector<Insn> &insns, std::string_view name) {
	return size_t(std::count_if(insns.begin(), insns.end(), [&](const Insn &in) {
		return in.is_kinsn() && kinsn_form_name(in) == name;
	}));
}

bool any_site(const PassReport &r, std::string_view text) {
	return std::any_of(r.sites.begin(), r.sites.end(),
	                   [&](const Site &s) { return s.what.find(text) != std::string::npos; });
}

Insn alu(bool w32, uint8_t op, uint8_t dst, int32_t imm) {
	return {uint8_t((w32 ? BPF_ALU : BPF_ALU64) | op | BPF_K), dst, 0, 0, imm};
}
Insn alux(bool w32, uint8_t op, uint8_t dst, uint8_t src) {
	return {uint8_t((w32 ? BPF_ALU : BPF_ALU64) | op | BPF_X), dst, src, 0, 0};
}

// Both programs return the same for many values of R1 (set by insn 0).
void expect_same(std::vector<Insn> a, std::vector<Insn> b, const std::string &what) {
	std::mt19937_64 rng(3);
	for (int i = 0; i < 500; i++) {
		const uint64_t x = i < 3 ? uint64_t(i) - 1 : rng();
		a[0] = b[0] = ldimm64(1, x);
		Memory m1, m2;
		auto ra = interpret(a, m1, {}), rb = interpret(b, m2, {});
		ASSERT_TRUE(ra) << what << ": " << ra.error().msg;
		ASSERT_TRUE(rb) << what << ": " << rb.error().msg;
		ASSERT_EQ(*ra, *rb) << what << " x=" << std::hex << x;
	}
}

TEST(Rotate, FindsTheRotatesClangEmits) {
	auto insns = test::program_insns("rotate.bpf.o", "xdp_rotate");
	ASSERT_FALSE(insns.empty());
	// Without kinsns the pass only counts the idioms.
	auto none = rotate(insns, {});
	ASSERT_EQ(none.reports[0].sites.size(), 1u);
	const std::string &msg = none.reports[0].sites[0].what;
	EXPECT_NE(msg.find("no kinsns"), std::string::npos) << msg;
	const size_t idioms = std::stoul(msg.substr(msg.find(": ") + 2));
	EXPECT_EQ(none.prog.insns, insns);

	auto o = rotate(insns, kinsn_env());
	const PassReport &r = o.reports[0];
	// the source has 10 rotates, clang folds some into other arithmetic
	EXPECT_GE(r.changed(), 6u) << explain(o);
	EXPECT_EQ(r.changed() + r.skipped(), idioms) << explain(o);
	EXPECT_GE(pairs(o.prog.insns, "bpf_rol64"), 4u) << explain(o);
	EXPECT_GE(pairs(o.prog.insns, "bpf_rol32"), 2u) << explain(o);
	EXPECT_EQ(pairs(o.prog.insns, "bpf_rol64") + pairs(o.prog.insns, "bpf_rol32"), r.changed());
	EXPECT_LT(r.insns_after, r.insns_before);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0);

	// The whole default pipeline with kinsns too, and nothing left to do.
	auto all = passes_by_name("all");
	ASSERT_TRUE(all);
	auto full = run_passes(Program{insns, {}, {}}, *all, kinsn_env());
	test::expect_same_xdp_behaviour(insns, full.prog.insns, 0);
	auto again = rotate(o.prog.insns, kinsn_env());
	EXPECT_EQ(again.reports[0].changed(), 0u) << explain(again);
}

// The idiom in every arrangement: which register is shifted left, which
// shift comes first, which register the or writes, one copy or two.
TEST(Rotate, EveryArrangementOfTheIdiom) {
	int cases = 0;
	for (bool w32 : {false, true})
		for (int k : {1, 13, w32 ? 31 : 63})
			for (bool left_on_copy : {false, true})
				for (bool left_first : {false, true})
					for (bool into_copy : {false, true})
						for (bool two_copies : {false, true}) {
							// x in r1; copies in r2 (and r3)
							const unsigned w = w32 ? 32 : 64;
							const uint8_t a = two_copies ? 3 : 1, b = 2;
							const uint8_t l = left_on_copy ? b : a,
							              rr = left_on_copy ? a : b;
							const uint8_t p = into_copy ? b : a,
							              q = into_copy ? a : b;
							std::vector<Insn> prog{ldimm64(1, 0),
							                       movx(b, 1)};
							if (two_copies)
								prog.push_back(movx(a, 1));
							const Insn sl = alu(w32, BPF_LSH, l, k),
							           sr = alu(w32, BPF_RSH, rr,
							                    int32_t(w) - k);
							prog.push_back(left_first ? sl : sr);
							prog.push_back(left_first ? sr : sl);
							prog.push_back(alux(w32, BPF_OR, p, q));
							prog.push_back(movx(0, p));
							if (two_copies) // x itself stays live
								prog.push_back(
								        alux(false, BPF_XOR, 0, 1));
							prog.push_back(exit_insn());
							const std::string what = fmt::format(
							        "w{} k{} left_on_copy {} "
							        "left_first {} "
							        "into_copy {} two_copies {}",
							        w, k, left_on_copy, left_first,
							        into_copy, two_copies);
							auto o = rotate(prog, kinsn_env());
							ASSERT_EQ(o.reports[0].changed(), 1u)
							        << what << "\n"
							        << explain(o);
							EXPECT_EQ(pairs(o.prog.insns,
							                w32 ? "bpf_rol32"
							                    : "bpf_rol64"),
							          1u);
							EXPECT_LT(slot_count(o.prog.insns),
							          slot_count(prog));
							expect_same(prog, o.prog.insns, what);
							cases++;
						}
	EXPECT_EQ(cases, 96);
}

// Multiply-rotate as clang folds it: t = x * (c << k); x *= c; x >>= w - k;
// x |= t, the constants in registers or immediates.
TEST(Rotate, MultiplyRotateWithTheShiftFoldedIntoTheMultiplication) {
	for (bool w32 : {false, true})
		for (bool imm : {false, true}) {
			const unsigned w = w32 ? 32 : 64, k = w32 ? 15 : 31;
			const uint64_t c = w32 ? 0xcc9e2d51ULL : 0x9e3779b185ebca87ULL;
			const uint64_t ck = c << k;
			std::vector<Insn> p{ldimm64(1, 0), movx(2, 1)};
			if (imm) { // 32-bit immediates only
				p.push_back(alu(w32, BPF_MUL, 2, int32_t(uint32_t(ck))));
				p.push_back(alu(w32, BPF_MUL, 1, int32_t(uint32_t(c))));
			} else {
				p.push_back(ldimm64(3, ck));
				p.push_back(alux(w32, BPF_MUL, 2, 3));
				p.push_back(ldimm64(3, c));
				p.push_back(alux(w32, BPF_MUL, 1, 3));
			}
			p.push_back(alu(w32, BPF_RSH, 1, int32_t(w - k)));
			p.push_back(alux(w32, BPF_OR, 1, 2));
			p.push_back(movx(0, 1));
			p.push_back(exit_insn());
			const std::string what = fmt::format("w{} imm {}", w, imm);
			auto o = rotate(p, kinsn_env());
			// a 64-bit immediate multiply sign-extends imm: not c << k
			const size_t want = imm && !w32 ? 0 : 1;
			EXPECT_EQ(o.reports[0].changed(), want) << what << "\n" << explain(o);
			expect_same(p, o.prog.insns, what);
			// a constant that is not c << k: no rotate
			if (!imm) {
				auto q = p;
				q[2] = ldimm64(3, ck + 2);
				EXPECT_EQ(rotate(q, kinsn_env()).reports[0].changed(), 0u) << what;
			}
		}
}

TEST(Rotate, FindsTheWorkloadsFlowHash) {
	auto insns = test::program_insns("workload.bpf.o", "xdp_flow");
	ASSERT_FALSE(insns.empty());
	auto none = rotate(insns, {});
	const std::string &msg = none.reports[0].sites[0].what;
	const size_t idioms = std::stoul(msg.substr(msg.find(": ") + 2));
	auto o = rotate(insns, kinsn_env());
	// flow_hash has two multiply-rotates; every idiom found is rewritten
	EXPECT_GE(o.reports[0].changed(), 2u) << explain(o);
	EXPECT_EQ(o.reports[0].changed(), idioms) << explain(o);
	EXPECT_EQ(pairs(o.prog.insns, "bpf_rol64"), o.reports[0].changed());
}

// r1 = x; r2 = r1; r2 >>= 51; r1 <<= 13; r1 |= r2; r0 = r1 ...
std::vector<Insn> rol13(std::vector<Insn> tail) {
	std::vector<Insn> p{ldimm64(1, 0),
	                    movx(2, 1),
	                    alu(false, BPF_RSH, 2, 51),
	                    alu(false, BPF_LSH, 1, 13),
	                    alux(false, BPF_OR, 1, 2),
	                    movx(0, 1)};
	p.insert(p.end(), tail.begin(), tail.end());
	p.push_back(exit_insn());
	return p;
}

TEST(Rotate, RefusesWhenTheScratchIsLive) {
	const auto p = rol13({addx(0, 2)});
	auto o = rotate(p, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 0u);
	EXPECT_TRUE(any_site(o.reports[0], "scratch r2 is live")) << explain(o);
	EXPECT_EQ(o.prog.insns, p);
	// dead: rewritten, and the same
	const auto q = rol13({});
	auto oq = rotate(q, kinsn_env());
	EXPECT_EQ(oq.reports[0].changed(), 1u) << explain(oq);
	expect_same(q, oq.prog.insns, "rol13");
}

TEST(Rotate, RefusesWhenAJumpLandsInside) {
	// the jeq lands on the right shift, between the copy and the or
	const std::vector<Insn> p{ldimm64(1, 0),
	                          mov(2, 0),
	                          jeq(1, 5, 1),
	                          movx(2, 1),
	                          alu(false, BPF_RSH, 2, 51),
	                          alu(false, BPF_LSH, 1, 13),
	                          alux(false, BPF_OR, 1, 2),
	                          movx(0, 1),
	                          exit_insn()};
	auto o = rotate(p, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 0u);
	EXPECT_TRUE(any_site(o.reports[0], "jump lands inside")) << explain(o);
	EXPECT_EQ(o.prog.insns, p);
}

TEST(Rotate, RefusesWhenSomethingElseReadsInside) {
	// r3 = r2 sees r2 >> 51, which no longer exists after the rewrite
	const std::vector<Insn> p{ldimm64(1, 0),
	                          movx(2, 1),
	                          alu(false, BPF_RSH, 2, 51),
	                          movx(3, 2),
	                          alu(false, BPF_LSH, 1, 13),
	                          alux(false, BPF_OR, 1, 2),
	                          movx(0, 1),
	                          addx(0, 3),
	                          exit_insn()};
	auto o = rotate(p, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 0u);
	EXPECT_TRUE(any_site(o.reports[0], "reads r1 or r2")) << explain(o);
	// not a rotate at all: amounts that do not add up to the width
	std::vector<Insn> q = rol13({});
	q[2].imm = 50;
	EXPECT_TRUE(rotate(q, kinsn_env()).reports[0].sites.empty());
}

TEST(Rotate, NeedsTheKinsnWithNativeCode) {
	const auto p = rol13({});
	auto none = rotate(p, {});
	EXPECT_EQ(none.prog.insns, p);
	ASSERT_EQ(none.reports[0].sites.size(), 1u);
	EXPECT_NE(none.reports[0].sites[0].what.find("1 rotate idioms"), std::string::npos);

	auto slow = rotate(p, kinsn_env(false));
	EXPECT_EQ(slow.prog.insns, p);
	EXPECT_TRUE(any_site(slow.reports[0], "no native code")) << explain(slow);

	PassEnv only32;
	only32.kinsns = {{"bpf_rol32", {1002, 1}}};
	auto o = rotate(p, only32);
	EXPECT_EQ(o.prog.insns, p);
	EXPECT_TRUE(any_site(o.reports[0], "no bpf_rol64")) << explain(o);
}

TEST(Rotate, InTheDefaultPipelineOnlyWithKinsns) {
	auto has_rotate = [](const PassEnv &env) {
		auto p = passes_by_name("all", &env);
		EXPECT_TRUE(p);
		return std::any_of(p->begin(), p->end(),
		                   [](const auto &x) { return x->name() == "rotate"; });
	};
	EXPECT_FALSE(has_rotate(PassEnv{}));
	EXPECT_TRUE(has_rotate(kinsn_env()));
	EXPECT_TRUE(passes_by_name("rotate", nullptr)); // by name, always
}

} // namespace
