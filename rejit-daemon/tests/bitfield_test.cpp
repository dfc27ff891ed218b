// SPDX-License-Identifier: GPL-2.0
// The select and bextr passes on clang-built code and on hand-made idioms.
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
	env.kinsns = {{"bpf_select64", {1003, 1, true, native}},
	              {"bpf_bextr64", {1004, 1, true, native}}};
	return env;
}

Optimized run(std::string_view passes, const std::vector<Insn> &insns, const PassEnv &env) {
	auto p = passes_by_name(passes);
	EXPECT_TRUE(p) << p.error().msg;
	return run_passes(Program{insns, {}, {}}, *p, env);
}

size_t pairs(const std::vector<Insn> &insns, std::string_view name) {
	return size_t(std::count_if(insns.begin(), insns.end(), [&](const Insn &in) {
		return in.is_kinsn() && kinsn_form_name(in) == name;
	}));
}

// The sites clang's code has (see progs/bitfield.bpf.c): three 64-bit
// selects (the clamp's copy is 32-bit and stays), four copy + shift + mask
// extracts (the fifth field is shifted in place).
TEST(Bitfield, PassesOnClangCode) {
	auto insns = test::program_insns("bitfield.bpf.o", "xdp_bitfield");
	ASSERT_FALSE(insns.empty());
	auto o = run("bextr,select", insns, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 4u) << explain(o);
	EXPECT_EQ(o.reports[1].changed(), 3u) << explain(o);
	EXPECT_EQ(pairs(o.prog.insns, "bpf_bextr64"), 4u);
	EXPECT_EQ(pairs(o.prog.insns, "bpf_select64"), 3u);
	// 3 slots -> 2 per extract, 2 -> 2 per select
	EXPECT_EQ(o.reports[0].insns_after, o.reports[0].insns_before - 4);
	EXPECT_EQ(o.reports[1].insns_after, o.reports[1].insns_before);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0);
	// The whole pipeline too; nothing left for a second round.
	auto all = passes_by_name("all");
	ASSERT_TRUE(all);
	auto full = run_passes(Program{insns, {}, {}}, *all, kinsn_env());
	test::expect_same_xdp_behaviour(insns, full.prog.insns, 0);
	auto again = run("bextr,select", o.prog.insns, kinsn_env());
	EXPECT_EQ(again.changed(), 0u) << explain(again);
}

TEST(Bitfield, NothingWithoutNativeKinsns) {
	auto insns = test::program_insns("bitfield.bpf.o", "xdp_bitfield");
	for (const PassEnv &env : {PassEnv{}, kinsn_env(false)}) {
		auto o = run("bextr,select", insns, env);
		EXPECT_EQ(o.changed(), 0u) << explain(o);
		EXPECT_EQ(o.prog.insns, insns);
		EXPECT_EQ(o.reports[0].skipped(), 4u) << explain(o);
		EXPECT_EQ(o.reports[1].skipped(), 3u) << explain(o);
	}
}

// R1 = x (insn 0), R2 = y; the result is R0.
std::vector<Insn> with_inputs(std::vector<Insn> body) {
	std::vector<Insn> p{ldimm64(1, 0), ldimm64(2, 0)};
	p.insert(p.end(), body.begin(), body.end());
	p.push_back(exit_insn());
	return p;
}

void expect_same(std::vector<Insn> a, std::vector<Insn> b, const std::string &what) {
	std::mt19937_64 rng(5);
	for (int i = 0; i < 2000; i++) {
		const uint64_t x = i < 20 ? uint64_t(i % 5) - 2 : rng() >> (rng() % 64),
		               y = i < 20 ? uint64_t(i / 5) - 2 : rng() >> (rng() % 64);
		a[0] = b[0] = ldimm64(1, x);
		a[1] = b[1] = ldimm64(2, y);
		Memory m1, m2;
		auto ra = interpret(a, m1, {}), rb = interpret(b, m2, {});
		ASSERT_TRUE(ra) << what << ": " << ra.error().msg;
		ASSERT_TRUE(rb) << what << ": " << rb.error().msg;
		ASSERT_EQ(*ra, *rb) << what << std::hex << " x=" << x << " y=" << y;
	}
}

// Every compare, both widths, register and immediate: the pair (run by the
// interpreter from the module's plain sequence) gives what the idiom gives.
TEST(Bitfield, SelectEveryCompare) {
	static const uint8_t ops[] = {BPF_JEQ,  BPF_JNE,  BPF_JGT,  BPF_JGE,  BPF_JLT, BPF_JLE,
	                              BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE, BPF_JSET};
	for (uint8_t op : ops)
		for (uint8_t cls : {BPF_JMP, BPF_JMP32})
			for (bool x : {true, false}) {
				const Insn j{uint8_t(cls | op | (x ? BPF_X : BPF_K)), 1,
				             uint8_t(x ? 2 : 0), 1, x ? 0 : -1};
				auto prog = with_inputs({movx(0, 1), j, movx(0, 2)});
				auto o = run("select", prog, kinsn_env());
				const std::string what =
				        fmt::format("op {:#x} cls {} x {}", op, cls, x);
				ASSERT_EQ(o.reports[0].changed(), 1u) << what << explain(o);
				ASSERT_EQ(pairs(o.prog.insns, "bpf_select64"), 1u);
				expect_same(prog, o.prog.insns, what);
			}
}

TEST(Bitfield, SelectRefusals) {
	// a 32-bit copy is not a 64-bit cmov
	auto w32 = with_inputs(
	        {movx(0, 1), jeq(1, 0, 1), Insn{BPF_ALU | BPF_MOV | BPF_X, 0, 2, 0, 0}});
	EXPECT_EQ(run("select", w32, kinsn_env()).changed(), 0u);
	// a jump onto the copy: it also runs without the compare
	auto entered = with_inputs({movx(0, 1), jeq(2, 7, 1), jeq(1, 0, 1), movx(0, 2)});
	auto o = run("select", entered, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 0u) << explain(o);
	EXPECT_EQ(o.reports[0].skipped(), 1u) << explain(o);
	// R10 as destination is no operand of the form
	auto fp = with_inputs({jeq(1, 0, 1), movx(10, 2), movx(0, 1)});
	o = run("select", fp, kinsn_env());
	EXPECT_EQ(o.changed(), 0u);
	EXPECT_EQ(o.reports[0].skipped(), 1u) << explain(o);
}

// A select whose result comes back to it around the loop (a running
// maximum) stays a branch; one computing a fresh value each iteration,
// which only feeds an accumulator, becomes a cmov.
TEST(Bitfield, SelectLoopCarried) {
	const Insn dec3 = add(3, -1);
	const Insn back_max{BPF_JMP | BPF_JNE | BPF_K, 3, 0, -6, 0};
	auto running_max =
	        with_inputs({mov(0, 0), mov(3, 8),
	                     // loop: r4 = x + i; r0 = r0 > r4 ? r0 : r4
	                     movx(4, 1), addx(4, 3), Insn{BPF_JMP | BPF_JGT | BPF_X, 0, 4, 1, 0},
	                     movx(0, 4), dec3, back_max});
	auto o = run("select", running_max, kinsn_env());
	EXPECT_EQ(o.changed(), 0u) << explain(o);
	ASSERT_EQ(o.reports[0].skipped(), 1u) << explain(o);
	EXPECT_NE(explain(o).find("around a loop"), std::string::npos) << explain(o);

	const Insn back_sum{BPF_JMP | BPF_JNE | BPF_K, 3, 0, -8, 0};
	auto fresh = with_inputs({mov(6, 0), mov(3, 8),
	                          // loop: r5 = min(x + i, y); r6 += r5
	                          movx(4, 1), addx(4, 3), movx(5, 2),
	                          Insn{BPF_JMP | BPF_JGT | BPF_X, 4, 2, 1, 0}, movx(5, 4),
	                          addx(6, 5), dec3, back_sum, movx(0, 6)});
	o = run("select", fresh, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 1u) << explain(o);
	expect_same(fresh, o.prog.insns, "fresh select in a loop");
}

// Adjacent selects are both taken, and the loop rule is decided for each:
// the second (a running max) stays a branch after the first is replaced.
TEST(Bitfield, SelectAdjacent) {
	auto two = with_inputs({movx(0, 1), jeq(1, 0, 1), movx(0, 2), jeq(2, 3, 1), movx(0, 1)});
	auto o = run("select", two, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 2u) << explain(o);
	expect_same(two, o.prog.insns, "adjacent selects");

	const Insn back{BPF_JMP | BPF_JNE | BPF_K, 3, 0, -9, 0};
	auto fresh_then_max = with_inputs({mov(0, 0), mov(3, 8),
	                                   // loop: r5 = min(x + i, y); r0 = max(r0, r5)
	                                   movx(4, 1), addx(4, 3), movx(5, 2),
	                                   Insn{BPF_JMP | BPF_JGT | BPF_X, 4, 2, 1, 0}, movx(5, 4),
	                                   Insn{BPF_JMP | BPF_JGT | BPF_X, 0, 5, 1, 0}, movx(0, 5),
	                                   add(3, -1), back});
	o = run("select", fresh_then_max, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 1u) << explain(o);
	EXPECT_EQ(o.reports[0].skipped(), 1u) << explain(o);
	expect_same(fresh_then_max, o.prog.insns, "fresh select, then a running max");
}

// Fields of every position and width, 64- and 32-bit idioms.
TEST(Bitfield, BextrEveryField) {
	int cases = 0;
	for (bool w32 : {false, true})
		for (int k : {1, 7, 16, 31, 40, 63})
			for (int len : {1, 5, 16, 31}) {
				if (k >= (w32 ? 32 : 64))
					continue;
				const uint8_t cls = w32 ? BPF_ALU : BPF_ALU64;
				auto prog = with_inputs(
				        {Insn{uint8_t(cls | BPF_MOV | BPF_X), 0, 1, 0, 0},
				         Insn{uint8_t(cls | BPF_RSH | BPF_K), 0, 0, 0, k},
				         Insn{uint8_t(cls | BPF_AND | BPF_K), 0, 0, 0,
				              int32_t((1u << len) - 1)},
				         Insn{BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 0,
				              0}}); // x stays live
				const std::string what =
				        fmt::format("w32 {} k {} len {}", w32, k, len);
				auto o = run("bextr", prog, kinsn_env());
				ASSERT_EQ(o.reports[0].changed(), 1u) << what << explain(o);
				expect_same(prog, o.prog.insns, what);
				cases++;
			}
	EXPECT_EQ(cases, 40);
	// not a mask of low bits; a shift by 0; in place (no copy)
	for (auto body :
	     {std::vector<Insn>{movx(0, 1), Insn{BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 4},
	                        Insn{BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 0xf0}},
	      std::vector<Insn>{movx(0, 1), Insn{BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 0},
	                        Insn{BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 0xf}},
	      std::vector<Insn>{movx(0, 1), Insn{BPF_ALU64 | BPF_RSH | BPF_K, 1, 0, 0, 4},
	                        Insn{BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, 0xf}}})
		EXPECT_EQ(run("bextr", with_inputs(body), kinsn_env()).changed(), 0u);
}

} // namespace
