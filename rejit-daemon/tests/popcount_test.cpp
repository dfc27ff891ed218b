// SPDX-License-Identifier: GPL-2.0
// The popcount pass on clang-built code and on hand-made variants.
#include <bit>
#include <optional>
#include <random>
#include <string>

#include <fmt/format.h>
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
	env.kinsns = {{"bpf_popcnt64", {1005, 1, true, native}}};
	return env;
}

Optimized popcount(const std::vector<Insn> &insns, const PassEnv &env) {
	auto p = passes_by_name("popcount");
	EXPECT_TRUE(p) << p.error().msg;
	return run_passes(Program{insns, {}, {}}, *p, env);
}

size_t pairs(const std::vector<Insn> &insns) {
	return size_t(std::count_if(insns.begin(), insns.end(), [](const Insn &in) {
		return in.is_kinsn() && kinsn_form_name(in) == "bpf_popcnt64";
	}));
}

Insn alu(bool w32, uint8_t op, uint8_t dst, int32_t imm) {
	return {uint8_t((w32 ? BPF_ALU : BPF_ALU64) | op | BPF_K), dst, 0, 0, imm};
}
Insn alux(bool w32, uint8_t op, uint8_t dst, uint8_t src) {
	return {uint8_t((w32 ? BPF_ALU : BPF_ALU64) | op | BPF_X), dst, src, 0, 0};
}

// Both programs return the same for many values of R1 (set by insn 0); with
// `w32` set, the low byte of that is the count of R1's bits in that width.
void expect_same(std::vector<Insn> a, std::vector<Insn> b, const std::string &what,
                 std::optional<bool> w32) {
	std::mt19937_64 rng(5);
	for (int i = 0; i < 2000; i++) {
		const uint64_t x = i < 3 ? uint64_t(i) - 1 : rng() >> (rng() % 64);
		a[0] = b[0] = ldimm64(1, x);
		Memory m1, m2;
		auto ra = interpret(a, m1, {}), rb = interpret(b, m2, {});
		ASSERT_TRUE(ra) << what << ": " << ra.error().msg;
		ASSERT_TRUE(rb) << what << ": " << rb.error().msg;
		ASSERT_EQ(*ra, *rb) << what << " x=" << std::hex << x;
		if (w32) {
			ASSERT_EQ(*ra & 0xff, uint64_t(std::popcount(*w32 ? uint32_t(x) : x)))
			        << what;
		}
	}
}

// popcount(r1) into r0 as clang writes it (r2 the shifted copy, the masks
// in r3 for 64 bits), with `extra` after the first instruction of the
// count (the scheduler interleaves other work) and r0 <<= 8; r0 |= r1 at
// the end if x stays live.
std::vector<Insn> swar(bool w32, bool x_live, std::vector<Insn> extra = {}) {
	std::vector<Insn> p{ldimm64(1, 0), alux(w32, BPF_MOV, 2, 1), alu(w32, BPF_RSH, 2, 1)};
	p.insert(p.end(), extra.begin(), extra.end());
	auto mask = [&](uint8_t dst, uint64_t m) {
		if (w32) {
			p.push_back(alu(true, BPF_AND, dst, int32_t(uint32_t(m))));
		} else {
			p.push_back(ldimm64(3, m));
			p.push_back(alux(false, BPF_AND, dst, 3));
		}
	};
	const uint8_t x = x_live ? 4 : 1;
	if (x_live)
		p.push_back(alux(false, BPF_MOV, 4, 1));
	mask(2, 0x5555555555555555);
	p.push_back(alux(w32, BPF_SUB, x, 2));
	p.push_back(alux(w32, BPF_MOV, 0, x));
	mask(0, 0x3333333333333333);
	p.push_back(alu(w32, BPF_RSH, x, 2));
	mask(x, 0x3333333333333333);
	p.push_back(alux(w32, BPF_ADD, 0, x));
	p.push_back(alux(w32, BPF_MOV, x, 0));
	p.push_back(alu(w32, BPF_RSH, x, 4));
	p.push_back(alux(w32, BPF_ADD, 0, x));
	mask(0, 0x0f0f0f0f0f0f0f0f);
	if (w32) {
		p.push_back(alu(true, BPF_MUL, 0, 0x01010101));
	} else {
		p.push_back(ldimm64(3, 0x0101010101010101));
		p.push_back(alux(false, BPF_MUL, 0, 3));
	}
	p.push_back(alu(w32, BPF_RSH, 0, w32 ? 24 : 56));
	if (x_live) { // r0 = count | x << 8
		p.push_back(alu(false, BPF_LSH, 1, 8));
		p.push_back(alux(false, BPF_OR, 0, 1));
	}
	p.push_back(exit_insn());
	return p;
}

// clang's code (progs/popcount.bpf.c): a 64-bit count whose input stays
// live (counted from its copy) and with the return value's move scheduled
// into it, a 32-bit count with the same, and a 64-bit one whose masks were
// loaded for the first.
TEST(Popcount, FindsTheCountsClangEmits) {
	auto insns = test::program_insns("popcount.bpf.o", "xdp_popcount");
	ASSERT_FALSE(insns.empty());
	auto none = popcount(insns, {});
	EXPECT_EQ(none.prog.insns, insns);
	EXPECT_EQ(none.reports[0].sites.size(), 3u) << explain(none);
	EXPECT_EQ(none.reports[0].changed(), 0u);
	EXPECT_NE(explain(none).find("no native bpf_popcnt64 operand form"), std::string::npos);

	auto o = popcount(insns, kinsn_env());
	const PassReport &r = o.reports[0];
	EXPECT_EQ(r.changed(), 3u) << explain(o);
	EXPECT_EQ(pairs(o.prog.insns), 3u);
	// 19 + 15 + 19 instructions, four ld_imm64 twice: at least 50 slots less
	EXPECT_LE(r.insns_after + 50, r.insns_before) << explain(o);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0);

	// The whole pipeline too; nothing left for a second round.
	auto all = passes_by_name("all");
	ASSERT_TRUE(all);
	auto full = run_passes(Program{insns, {}, {}}, *all, kinsn_env());
	test::expect_same_xdp_behaviour(insns, full.prog.insns, 0);
	EXPECT_EQ(popcount(o.prog.insns, kinsn_env()).changed(), 0u);
}

TEST(Popcount, EveryWidthInputAndInterleaving) {
	const std::vector<std::vector<Insn>> extras = {
	        {},
	        {mov(6, 7)},                   // unrelated
	        {mov(6, 7), ldxb(7, 10, -8)},  // a load in between (stack not read: 0)
	        {alux(false, BPF_MOV, 6, 1)}}; // a copy of x, used at the end
	int cases = 0;
	for (bool w32 : {false, true})
		for (bool x_live : {false, true})
			for (size_t e = 0; e < extras.size(); e++) {
				auto p = swar(w32, x_live, extras[e]);
				if (e == 2) // the load reads a stack slot: write it first
					p.insert(p.begin() + 1,
					         {BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 0});
				if (e == 3) // r0 ^= r6 before exit
					p.insert(p.end() - 1, alux(false, BPF_XOR, 0, 6));
				const std::string what =
				        fmt::format("w32 {} x_live {} extra {}", w32, x_live, e);
				auto o = popcount(p, kinsn_env());
				ASSERT_EQ(o.reports[0].changed(), 1u) << what << "\n" << explain(o);
				EXPECT_EQ(pairs(o.prog.insns), 1u) << what;
				EXPECT_LT(slot_count(o.prog.insns), slot_count(p) - 10) << what;
				expect_same(p, o.prog.insns, what,
				            e == 3 ? std::nullopt : std::optional(w32));
				cases++;
			}
	EXPECT_EQ(cases, 16);
}

// x's only register is needed afterwards (its copies were reused for other
// work just before the end): the kinsn counts a copy of it.
TEST(Popcount, CountsACopyOfAnInputNeededAfterwards) {
	for (bool w32 : {false, true}) {
		auto p = swar(w32, true);
		p.insert(p.end() - 4, {mov(2, 7), mov(4, 7)}); // before the final shift
		auto o = popcount(p, kinsn_env());
		ASSERT_EQ(o.reports[0].changed(), 1u) << explain(o);
		EXPECT_NE(explain(o).find("a copy and bpf_popcnt64 of r1"), std::string::npos)
		        << explain(o);
		expect_same(p, o.prog.insns, w32 ? "w32" : "r64", w32);
	}
}

// Anything but exactly the expression is left alone, and so is a count
// whose removal another instruction would notice.
TEST(Popcount, LeavesWhatIsNotExactlyThePopcount) {
	for (bool w32 : {false, true}) {
		SCOPED_TRACE(w32 ? "w32" : "r64");
		// a mask off by one bit
		auto p = swar(w32, false);
		for (Insn &in : p)
			if (in.code == (BPF_ALU | BPF_AND | BPF_K) && in.imm == 0x33333333)
				in.imm = 0x33333331;
			else if (in.is_ldimm64() && in.imm == 0x33333333)
				in.imm = 0x33333331;
		auto o = popcount(p, kinsn_env());
		EXPECT_TRUE(o.reports[0].sites.empty()) << explain(o);
		// the wrong final shift
		p = swar(w32, false);
		p[p.size() - 2].imm -= 1;
		EXPECT_TRUE(popcount(p, kinsn_env()).reports[0].sites.empty());
		// an intermediate value (r2 = x >> 1 & m1) read afterwards
		p = swar(w32, false);
		p.insert(p.end() - 1, alux(false, BPF_XOR, 0, 2));
		o = popcount(p, kinsn_env());
		EXPECT_EQ(o.reports[0].changed(), 0u) << explain(o);
		EXPECT_NE(explain(o).find("read afterwards"), std::string::npos) << explain(o);
		// an instruction in between reads an intermediate value
		p = swar(w32, false, {alux(false, BPF_MOV, 6, 2)});
		p.insert(p.end() - 1, alux(false, BPF_XOR, 0, 6));
		o = popcount(p, kinsn_env());
		EXPECT_EQ(o.reports[0].changed(), 0u) << explain(o);
		EXPECT_NE(explain(o).find("in between reads"), std::string::npos) << explain(o);
		// no kinsn with a native operand form: counted, not changed
		o = popcount(swar(w32, false), kinsn_env(false));
		EXPECT_EQ(o.reports[0].sites.size(), 1u);
		EXPECT_EQ(o.reports[0].changed(), 0u);
	}
}

} // namespace
