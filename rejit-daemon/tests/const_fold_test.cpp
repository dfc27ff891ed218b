// SPDX-License-Identifier: GPL-2.0
#include <optional>
#include <random>

#include <gtest/gtest.h>

#include "asm.hpp"
#include "bpf_object.hpp"
#include "rejit/interp.hpp"
#include "rejit/object.hpp"
#include "rejit/pass.hpp"
#include "xdp_run.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

Optimized fold(const std::vector<Insn> &insns, const PassEnv &env) {
	auto passes = passes_by_name("const-fold,dce");
	EXPECT_TRUE(passes) << passes.error().msg;
	return run_passes(Program{insns, {}, {}}, *passes, env);
}

Insn map_value(uint8_t dst, uint32_t idx, int32_t off) {
	return {BPF_LD | BPF_IMM | BPF_DW, dst, BPF_PSEUDO_MAP_IDX_VALUE, 0, int32_t(idx), off};
}

bool refers_to_map(const std::vector<Insn> &insns, uint32_t idx) {
	for (const Insn &in : insns)
		if (in.is_ldimm64() && in.src == BPF_PSEUDO_MAP_IDX_VALUE &&
		    uint32_t(in.imm) == idx)
			return true;
	return false;
}

TEST(ConstFold, ClangRodataBecomesCode) {
	auto op = test::object_program("rodata.bpf.o", "xdp_config");
	ASSERT_TRUE(op);
	ASSERT_TRUE(op->env.frozen_maps.contains(0)) << "no .rodata";
	const auto &insns = op->prog->insns;
	auto o = fold(insns, op->env);
	// six loads; the drop_first and verbose tests are decided
	EXPECT_GE(o.reports[0].changed(), 8u) << explain(o);
	EXPECT_GT(o.reports[1].changed(), 0u) << explain(o);
	EXPECT_LT(slot_count(o.prog.insns), slot_count(insns) - 10) << explain(o);
	EXPECT_FALSE(refers_to_map(o.prog.insns, 0)) << explain(o);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0, op->env);
}

// Whatever the configuration, the folded program does what the original
// does when it reads that configuration.
TEST(ConstFold, AnyRodataContents) {
	auto op = test::object_program("rodata.bpf.o", "xdp_config");
	ASSERT_TRUE(op);
	std::mt19937 rng(7);
	for (int round = 0; round < 30; round++) {
		PassEnv env = op->env;
		for (uint8_t &b : env.frozen_maps[0])
			b = round % 3 ? uint8_t(rng()) : 0;
		auto o = fold(op->prog->insns, env);
		ASSERT_GT(o.reports[0].changed(), 0u);
		test::expect_same_xdp_behaviour(op->prog->insns, o.prog.insns, 0, env);
	}
}

TEST(ConstFold, LoadWidthsAndSignExtension) {
	const std::vector<uint8_t> value{0xfe, 0xff, 0x80, 0x00, 0x01, 0x00, 0x00, 0x80,
	                                 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff};
	const PassEnv env{{{3, value}}, {}, {}};
	struct Case {
		uint8_t code;
		int16_t off;
		uint64_t want;
	};
	const Case cases[] = {
	        {BPF_LDX | BPF_MEM | BPF_B, 0, 0xfe},
	        {BPF_LDX | BPF_MEMSX | BPF_B, 0, ~0ULL - 1},
	        {BPF_LDX | BPF_MEMSX | BPF_H, 0, ~0ULL - 1},
	        {BPF_LDX | BPF_MEM | BPF_H, 2, 0x80},
	        {BPF_LDX | BPF_MEM | BPF_W, 4, 0x80000001},
	        {BPF_LDX | BPF_MEMSX | BPF_W, 4, 0xffffffff80000001ULL},
	        {BPF_LDX | BPF_MEM | BPF_DW, 8, 0xffffffff12345678ULL},
	        {BPF_LDX | BPF_MEM | BPF_DW, 0, 0x800000010080fffeULL},
	};
	for (const Case &c : cases) {
		std::vector<Insn> p{
		        map_value(1, 3, 0), add(1, 0), {c.code, 0, 1, c.off, 0}, exit_insn()};
		auto o = fold(p, env);
		EXPECT_FALSE(refers_to_map(o.prog.insns, 3)) << explain(o);
		Memory m;
		auto r = interpret(o.prog.insns, m, {});
		ASSERT_TRUE(r) << r.error().msg << "\n" << explain(o);
		EXPECT_EQ(*r, c.want) << std::hex << int(c.code) << " +" << c.off;
	}
}

TEST(ConstFold, DecidesJumps) {
	const PassEnv env{{{0, {5, 0, 0, 0}}}, {}, {}};
	for (auto [op, imm, want] : {std::tuple{BPF_JEQ, 5, 1},
	                             {BPF_JEQ, 4, 2},
	                             {BPF_JGT, 4, 1},
	                             {BPF_JSLT, -1, 2},
	                             {BPF_JSET, 4, 1}}) {
		// r0 = 2; r1 = *(u32 *)rodata; if r1 <op> imm goto +1; exit; r0 = 1; exit
		std::vector<Insn> p{mov(0, 2),
		                    map_value(1, 0, 0),
		                    {BPF_LDX | BPF_MEM | BPF_W, 1, 1, 0, 0},
		                    {uint8_t(BPF_JMP32 | op | BPF_K), 1, 0, 1, imm},
		                    exit_insn(),
		                    mov(0, 1),
		                    exit_insn()};
		auto o = fold(p, env);
		Memory m;
		auto r = interpret(o.prog.insns, m, {});
		ASSERT_TRUE(r) << r.error().msg;
		EXPECT_EQ(*r, uint64_t(want)) << explain(o);
		// a decided jump leaves one straight path: mov, exit
		EXPECT_EQ(o.prog.insns.size(), 2u) << explain(o);
	}
}

TEST(ConstFold, LeavesMapsThatMayChange) {
	// map 1 is not frozen: its loads stay
	std::vector<Insn> p{
	        map_value(1, 1, 0), {BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 0}, exit_insn()};
	auto o = fold(p, PassEnv{{{0, {1, 2, 3, 4}}}, {}, {}});
	EXPECT_EQ(o.changed(), 0u) << explain(o);
	EXPECT_EQ(o.prog.insns, p);
	// out of the value: reported, not folded
	std::vector<Insn> q{
	        map_value(1, 0, 2), {BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 0}, exit_insn()};
	o = fold(q, PassEnv{{{0, {1, 2, 3, 4}}}, {}, {}});
	EXPECT_EQ(o.changed(), 0u);
	EXPECT_EQ(o.reports[0].skipped(), 1u) << explain(o);
}

TEST(Dce, RemovesUnreadAndUnreachable) {
	// r6 = 5 is never read; the code after goto is never reached, so the
	// goto goes too; the subprogram stays
	std::vector<Insn> p{mov(6, 5), mov(1, 1),   call_sub(3), ja(1),
	                    mov(0, 9), exit_insn(), mov(0, 7),   exit_insn()};
	auto o = fold(p, {});
	EXPECT_EQ(o.reports[1].changed(), 3u) << explain(o);
	std::vector<Insn> want{mov(1, 1), call_sub(1), exit_insn(), mov(0, 7), exit_insn()};
	EXPECT_EQ(o.prog.insns, want) << explain(o);
}

TEST(Dce, KeepsWhatHasEffects) {
	// a store, a call's clobbers, a value read by exit
	std::vector<Insn> p{stb(10, -8, 1), mov(1, 0), call_helper(5), mov(0, 0), exit_insn()};
	auto o = fold(p, {});
	EXPECT_EQ(o.changed(), 0u) << explain(o);
	// an unread callback address still tells the verifier where a
	// subprogram starts
	const Insn callback{BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0, 3, 0};
	std::vector<Insn> q{callback, mov(0, 0), exit_insn(), mov(0, 1), exit_insn()};
	o = fold(q, {});
	EXPECT_EQ(o.changed(), 0u) << explain(o);
}

} // namespace
