// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "asm.hpp"
#include "bpf_object.hpp"
#include "rejit/interp.hpp"
#include "rejit/pass.hpp"
#include "xdp_run.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

Optimized zext(const std::vector<Insn> &insns) {
	auto passes = passes_by_name("zext");
	EXPECT_TRUE(passes) << passes.error().msg;
	return run_passes(Program{insns, {}, {}}, *passes);
}

Insn alu64(uint8_t op, uint8_t dst, int32_t imm) {
	return {uint8_t(BPF_ALU64 | op | BPF_K), dst, 0, 0, imm};
}

TEST(Zext, ClangShiftPairsBecomeOneMove) {
	auto insns = test::program_insns("zext.bpf.o", "xdp_zext");
	ASSERT_FALSE(insns.empty());
	auto o = zext(insns);
	// low_half (zero) only: the sign-extending pair is left alone
	EXPECT_EQ(o.reports[0].changed(), 1u) << explain(o);
	EXPECT_EQ(o.prog.insns.size(), insns.size() - 1);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0);
}

TEST(Zext, SemanticsOnEdgeValues) {
	std::vector<Insn> p{ldimm64(0, 0), alu64(BPF_LSH, 0, 32), alu64(BPF_RSH, 0, 32),
	                    exit_insn()};
	const auto o = zext(p);
	ASSERT_EQ(o.reports[0].changed(), 1u);
	for (uint64_t v : {0ULL, 1ULL, 0x7fffffffULL, 0x80000000ULL, 0xffffffffULL,
	                   0x123456789abcdef0ULL, ~0ULL}) {
		p[0] = ldimm64(0, v);
		auto q = o.prog.insns;
		q[0] = p[0];
		Memory m1, m2;
		auto a = interpret(p, m1, {}), b = interpret(q, m2, {});
		ASSERT_TRUE(a && b);
		EXPECT_EQ(*a, *b) << std::hex << v;
	}
}

TEST(Zext, LeavesSignExtension) {
	std::vector<Insn> p{alu64(BPF_LSH, 0, 32), alu64(BPF_ARSH, 0, 32), exit_insn()};
	EXPECT_EQ(zext(p).prog.insns, p);
}

TEST(Zext, LeavesPairsItCannotFuse) {
	// a jump lands between the shifts
	std::vector<Insn> p{jeq(1, 0, 1), alu64(BPF_LSH, 0, 32), alu64(BPF_RSH, 0, 32),
	                    exit_insn()};
	auto o = zext(p);
	EXPECT_EQ(o.reports[0].changed(), 0u);
	EXPECT_EQ(o.prog.insns, p);
	// different registers, or not 32
	std::vector<Insn> q{alu64(BPF_LSH, 0, 32), alu64(BPF_RSH, 1, 32), alu64(BPF_LSH, 2, 31),
	                    alu64(BPF_RSH, 2, 31), exit_insn()};
	EXPECT_EQ(zext(q).reports[0].sites.size(), 0u);
}

} // namespace
