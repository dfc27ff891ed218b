// SPDX-License-Identifier: GPL-2.0
// The be-load pass on clang-built code and on hand-made load + swap pairs.
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
	env.kinsns = {{"bpf_load_be16", {1010, 1, true, native}},
	              {"bpf_load_be32", {1011, 1, true, native}},
	              {"bpf_load_be64", {1012, 1, true, native}}};
	return env;
}

Optimized run(const std::vector<Insn> &insns, const PassEnv &env) {
	auto p = passes_by_name("be-load");
	EXPECT_TRUE(p) << p.error().msg;
	return run_passes(Program{insns, {}, {}}, *p, env);
}

size_t pairs(const std::vector<Insn> &insns) {
	return size_t(std::count_if(insns.begin(), insns.end(), [](const Insn &in) {
		return in.is_kinsn() && kinsn_form_name(in).starts_with("bpf_load_be");
	}));
}

Insn ldx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) {
	return Insn{uint8_t(BPF_LDX | BPF_MEM | size), dst, src, off, 0};
}

Insn be(uint8_t dst, int32_t bits) {
	return Insn{BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bits};
}

// progs/be_load.bpf.c: saddr, daddr (32 bits), dest, tot_len (16 bits)
// become kinsns; source, which clang loads as 16 bits but swaps as 32
// (its << 16 folded in), is no pair; the swap of rx_queue_index, read
// through the context, stays.
TEST(BeLoad, PassOnClangCode) {
	auto insns = test::program_insns("be_load.bpf.o", "xdp_be_load");
	ASSERT_FALSE(insns.empty());
	auto o = run(insns, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 4u) << explain(o);
	EXPECT_EQ(o.reports[0].skipped(), 1u) << explain(o);
	EXPECT_NE(explain(o).find("through the context"), std::string::npos) << explain(o);
	EXPECT_EQ(pairs(o.prog.insns), 4u);
	EXPECT_EQ(o.reports[0].insns_after, o.reports[0].insns_before); // 2 slots -> 2
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0x0800);
	auto again = run(o.prog.insns, kinsn_env());
	EXPECT_EQ(again.changed(), 0u) << explain(again);
}

// wide-load turns byte recomposition in network order into load + swap,
// which be-load then takes (progs/packed.bpf.c).
TEST(BeLoad, AfterWideLoad) {
	auto insns = test::program_insns("packed.bpf.o", "xdp_bytes");
	ASSERT_FALSE(insns.empty());
	auto p = passes_by_name("wide-load,be-load");
	ASSERT_TRUE(p) << p.error().msg;
	auto o = run_passes(Program{insns, {}, {}}, *p, kinsn_env());
	EXPECT_GE(o.reports[1].changed(), 1u) << explain(o);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0);
}

TEST(BeLoad, NothingWithoutNativeKinsns) {
	auto insns = test::program_insns("be_load.bpf.o", "xdp_be_load");
	for (const PassEnv &env : {PassEnv{}, kinsn_env(false)}) {
		auto o = run(insns, env);
		EXPECT_EQ(o.changed(), 0u) << explain(o);
		EXPECT_EQ(o.prog.insns, insns);
		EXPECT_EQ(o.reports[0].skipped(), 5u) << explain(o);
	}
}

// Each width, a stack load through R10, and the pairs that are not one:
// another register swapped, a width that does not match, a byte load, a
// jump landing on the swap.
TEST(BeLoad, HandMadePairs) {
	const std::vector<Insn> prog{mov(1, 0x1234),
	                             Insn{BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0},
	                             ldx(BPF_H, 2, 10, -8),
	                             be(2, 16), // taken: 16
	                             ldx(BPF_W, 3, 10, -8),
	                             be(3, 32), // taken: 32
	                             ldx(BPF_DW, 4, 10, -8),
	                             be(4, 64), // taken: 64
	                             ldx(BPF_W, 5, 10, -8),
	                             be(0, 32), // another register
	                             ldx(BPF_W, 5, 10, -8),
	                             be(5, 16), // another width
	                             ldxb(5, 10, -8),
	                             be(5, 16), // a byte
	                             jeq(1, 0, 1),
	                             ldx(BPF_W, 5, 10, -8),
	                             be(5, 32), // jump onto the swap
	                             movx(0, 2),
	                             addx(0, 3),
	                             addx(0, 4),
	                             addx(0, 5),
	                             exit_insn()};
	auto o = run(prog, kinsn_env());
	EXPECT_EQ(o.reports[0].changed(), 3u) << explain(o);
	EXPECT_EQ(pairs(o.prog.insns), 3u);
	const std::vector<uint8_t> pkt(64);
	auto want = test::run_xdp(prog, pkt), got = test::run_xdp(o.prog.insns, pkt);
	ASSERT_TRUE(want && got);
	EXPECT_EQ(*got, *want);
}

} // namespace
