// SPDX-License-Identifier: GPL-2.0
#include <algorithm>
#include <cstring>
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

Optimized wide_load(const std::vector<Insn> &insns) {
	auto passes = passes_by_name("wide-load");
	EXPECT_TRUE(passes) << passes.error().msg;
	return run_passes(Program{insns, {}, {}}, *passes);
}

TEST(WideLoad, PackedStructFieldsBecomeOneLoadEach) {
	auto insns = test::program_insns("packed.bpf.o", "xdp_packed");
	ASSERT_FALSE(insns.empty());
	auto o = wide_load(insns);
	ASSERT_EQ(o.reports.size(), 1u);
	// h_proto (2), cookie (8, built from two u32 halves), vni (4), len (2)
	EXPECT_EQ(o.reports[0].changed(), 4u) << explain(o);
	EXPECT_EQ(o.prog.insns.size(), insns.size() - 3 - 21 - 9 - 3) << explain(o);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0x88b5);
}

TEST(WideLoad, HandBuiltNetworkOrderBecomesLoadAndSwap) {
	auto insns = test::program_insns("packed.bpf.o", "xdp_bytes");
	ASSERT_FALSE(insns.empty());
	auto o = wide_load(insns);
	EXPECT_EQ(o.reports[0].changed(), 2u) << explain(o);
	bool has_swap = false;
	for (const Insn &in : o.prog.insns)
		has_swap |= in.code == (BPF_ALU | BPF_END | BPF_TO_BE) && in.imm == 32;
	EXPECT_TRUE(has_swap) << explain(o);
	test::expect_same_xdp_behaviour(insns, o.prog.insns, 0);
}

// The workload's XDP parser: clang hoists the header bytes above the map
// lookups and spills some of them; the counters it adds must not change.
TEST(WideLoad, FollowsBytesAcrossHelperCallsAndSpills) {
	// as the kernel reports it: .rodata (count_len) is a frozen map
	auto progs = object_programs(BPF_OBJ_DIR "/workload.bpf.o");
	ASSERT_TRUE(progs) << progs.error().str();
	auto flow = std::find_if(progs->begin(), progs->end(),
	                         [](const ObjectProgram &p) { return p.name == "xdp_flow"; });
	ASSERT_TRUE(flow != progs->end() && flow->prog);
	const std::vector<Insn> &insns = flow->prog->insns;
	auto o = wide_load(insns);
	// h_proto, flow, seq (8 bytes, four of them spilled across a call);
	// len too where clang's registers let it (its second byte load may
	// overwrite the packet pointer itself), depending on the headers
	const std::string ex = explain(o);
	EXPECT_GE(o.reports[0].changed(), 3u) << ex;
	for (const char *site :
	     {"2-byte load r2 = [r6+12] (4 insns -> 1)", "4-byte load", "8-byte load"})
		EXPECT_NE(ex.find(site), std::string::npos) << site << "\n" << ex;
	EXPECT_LE(o.prog.insns.size(), insns.size() - 3 - 11 - 31) << ex;

	constexpr uint64_t kStats = 0x6000'0000;
	auto run = [&](const std::vector<Insn> &prog, const std::vector<uint8_t> &pkt)
	        -> std::pair<Result<uint64_t>, std::vector<uint8_t>> {
		Memory mem;
		RunOptions opt;
		opt.r1 = test::map_xdp(mem, pkt);
		opt.pseudo = test::map_frozen(mem, flow->env, 0); // stats: any pointer
		mem.map("stats", kStats, std::vector<uint8_t>(6 * 8), true);
		opt.helper = test::array_lookup(mem, kStats, 6);
		auto r = interpret(prog, mem, opt);
		return {std::move(r), mem.bytes("stats")};
	};
	std::mt19937 rng(7);
	for (int i = 0; i < 3000; i++) {
		// Ethernet + IPv4 (ihl 5, UDP) + UDP to 9999 + app header, some bytes
		// randomised, sometimes truncated
		std::vector<uint8_t> pkt(64);
		for (auto &b : pkt)
			b = uint8_t(rng());
		pkt[12] = 0x08, pkt[13] = 0x00, pkt[14] = 0x45, pkt[23] = 17;
		pkt[36] = 0x27, pkt[37] = 0x0f, pkt[42] = 1;
		if (i % 7 == 0)
			pkt[42] = 2;
		pkt.resize(40 + rng() % 25);
		auto [ra, sa] = run(insns, pkt);
		auto [rb, sb] = run(o.prog.insns, pkt);
		ASSERT_TRUE(ra) << ra.error().msg;
		ASSERT_TRUE(rb) << rb.error().msg;
		ASSERT_EQ(*ra, *rb);
		ASSERT_EQ(sa, sb) << "map side effects differ for packet " << i;
	}
}

// r0 = p[0] | p[1] << 8 on r1, with `between` placed after the first load.
std::vector<Insn> two_bytes(std::vector<Insn> between, uint8_t base = 1, int16_t off = 0) {
	std::vector<Insn> p{ldxb(0, base, off)};
	p.insert(p.end(), between.begin(), between.end());
	for (Insn in : {ldxb(2, base, int16_t(off + 1)), lsh32(2, 8), or32(0, 2), exit_insn()})
		p.push_back(in);
	return p;
}

TEST(WideLoad, RewritesTheMinimalChain) {
	auto o = wide_load(two_bytes({}));
	EXPECT_EQ(o.reports[0].changed(), 1u) << explain(o);
	ASSERT_EQ(o.prog.insns.size(), 2u);
	EXPECT_EQ(o.prog.insns[0], (Insn{BPF_LDX | BPF_MEM | BPF_H, 0, 1, 0, 0}));
}

TEST(WideLoad, KeepsChainWhoseIntermediateIsUsedLater) {
	// r2 (the shifted byte) is read after the chain: the loads must stay
	auto p = two_bytes({});
	p.insert(p.end() - 1, addx(0, 2));
	auto o = wide_load(p);
	EXPECT_EQ(o.reports[0].changed(), 0u);
	ASSERT_EQ(o.reports[0].skipped(), 1u);
	EXPECT_NE(o.reports[0].sites[0].what.find("used elsewhere"), std::string::npos);
	EXPECT_EQ(o.prog.insns, p);
}

TEST(WideLoad, NoCandidateAcrossStoreOrCall) {
	EXPECT_EQ(wide_load(two_bytes({stb(10, -8, 1)})).reports[0].sites.size(), 0u);
	EXPECT_EQ(wide_load(two_bytes({call_helper(5)})).reports[0].sites.size(), 0u);
}

TEST(WideLoad, NoCandidateWhenBaseChanges) {
	EXPECT_EQ(wide_load(two_bytes({add(1, 1)})).reports[0].sites.size(), 0u);
}

TEST(WideLoad, ChainContinuesIntoSinglePredecessorBlock) {
	// a branch to the next instruction: that block has one predecessor
	auto o = wide_load(two_bytes({jeq(3, 0, 0)}));
	EXPECT_EQ(o.reports[0].changed(), 1u) << explain(o);
}

TEST(WideLoad, NoCandidateAcrossJoin) {
	// r2's load sits in a block reached from two places
	std::vector<Insn> p{ldxb(0, 1, 0), jeq(3, 0, 1), mov(4, 1),  ldxb(2, 1, 1),
	                    lsh32(2, 8),   or32(0, 2),   exit_insn()};
	EXPECT_EQ(wide_load(p).reports[0].sites.size(), 0u);
}

TEST(WideLoad, UnalignedStackAccessIsSkipped) {
	auto o = wide_load(two_bytes({}, 10, -7));
	ASSERT_EQ(o.reports[0].sites.size(), 1u);
	EXPECT_FALSE(o.reports[0].sites[0].changed);
	EXPECT_EQ(wide_load(two_bytes({}, 10, -8)).reports[0].changed(), 1u);
}

} // namespace
