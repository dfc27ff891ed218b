// SPDX-License-Identifier: GPL-2.0
// The wide-store pass on clang-built code and on hand-made stores.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "asm.hpp"
#include "bpf_object.hpp"
#include "rejit/interp.hpp"
#include "rejit/pass.hpp"
#include "xdp_ctx.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

Optimized wide_store(const std::vector<Insn> &insns) {
	auto p = passes_by_name("wide-store");
	EXPECT_TRUE(p) << p.error().msg;
	return run_passes(Program{insns, {}, {}}, *p);
}

size_t count(const std::vector<Insn> &insns, uint8_t code) {
	return size_t(std::count_if(insns.begin(), insns.end(),
	                            [&](const Insn &in) { return in.code == code; }));
}

// Return value and the packet afterwards.
std::pair<uint64_t, std::vector<uint8_t>> run(const std::vector<Insn> &prog,
                                              const std::vector<uint8_t> &pkt) {
	Memory mem;
	RunOptions opt;
	opt.r1 = test::map_xdp(mem, pkt);
	auto r = interpret(prog, mem, opt);
	EXPECT_TRUE(r) << r.error().msg;
	return {r ? *r : ~0ull, mem.bytes("packet")};
}

// Same verdict and same packet bytes on random packets.
void expect_same_packets(const std::vector<Insn> &a, const std::vector<Insn> &b) {
	std::mt19937 rng(9);
	for (int i = 0; i < 3000; i++) {
		std::vector<uint8_t> pkt(rng() % 48);
		for (auto &x : pkt)
			x = uint8_t(rng());
		ASSERT_EQ(run(a, pkt), run(b, pkt)) << "packet " << i;
	}
}

// progs/store.bpf.c: addr (4 bytes, little-endian), the address in network
// order, seq (the first 4 of 6 bytes of one value) and the cookie's low
// two bytes (clang takes the other six from the value before its xor)
// become stores.
TEST(WideStore, PackedFieldsAndNetworkOrderClangEmits) {
	auto insns = test::program_insns("store.bpf.o", "xdp_store");
	ASSERT_FALSE(insns.empty());
	auto o = wide_store(insns);
	const PassReport &r = o.reports[0];
	EXPECT_EQ(r.changed(), 4u) << explain(o);
	EXPECT_EQ(count(o.prog.insns, BPF_STX | BPF_MEM | BPF_H), 1u) << explain(o);
	EXPECT_EQ(count(o.prog.insns, BPF_STX | BPF_MEM | BPF_W), 3u) << explain(o);
	EXPECT_EQ(count(o.prog.insns, BPF_ALU | BPF_END | BPF_TO_BE),
	          count(insns, BPF_ALU | BPF_END | BPF_TO_BE) + 1);
	EXPECT_EQ(count(o.prog.insns, BPF_STX | BPF_MEM | BPF_B),
	          count(insns, BPF_STX | BPF_MEM | BPF_B) - 14);
	expect_same_packets(insns, o.prog.insns);

	// With dce the shifted copies go too; the whole pipeline is the same.
	auto all = passes_by_name("wide-store,dce");
	ASSERT_TRUE(all);
	auto d = run_passes(Program{insns, {}, {}}, *all);
	EXPECT_LE(d.reports[1].insns_after + 12, r.insns_after) << explain(d);
	expect_same_packets(insns, d.prog.insns);
	auto full = passes_by_name("all");
	ASSERT_TRUE(full);
	expect_same_packets(insns, run_passes(Program{insns, {}, {}}, *full).prog.insns);
	EXPECT_EQ(wide_store(o.prog.insns).changed(), 0u);
}

// r6 = packet, r2 = a value; byte stores of r2's bytes at r6 + 4...
std::vector<Insn> stores(unsigned n, bool be, std::vector<Insn> between = {}) {
	std::vector<Insn> p{
	        {BPF_LDX | BPF_MEM | BPF_W, 6, 1, 0, 0}, // data
	        {BPF_LDX | BPF_MEM | BPF_W, 3, 1, 4, 0}, // data_end
	        movx(4, 6),
	        add(4, 16),
	        {BPF_JMP | BPF_JGT | BPF_X, 4, 3, int16_t(5 * n + 3 + between.size()), 0},
	        {BPF_LDX | BPF_MEM | BPF_DW, 2, 6, 8, 0}, // the value
	};
	for (unsigned i = 0; i < n; i++) {
		const unsigned byte = be ? n - 1 - i : i;
		p.push_back(movx(3, 2));
		p.push_back({BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, int32_t(8 * byte)});
		if (byte == 0)
			p.back() = mov(5, 0); // no shift for byte 0: r3 = r2 as it is
		p.push_back({BPF_STX | BPF_MEM | BPF_B, 6, 3, int16_t(4 + i), 0});
		if (i == 0)
			p.insert(p.end(), between.begin(), between.end());
		p.push_back(mov(4, int32_t(i)));
		p.push_back(mov(4, 0));
	}
	p.push_back(mov(0, XDP_TX));
	p.push_back(exit_insn());
	p.push_back(mov(0, XDP_PASS));
	p.push_back(exit_insn());
	return p;
}

TEST(WideStore, EveryWidthAndOrder) {
	for (unsigned n : {2u, 4u, 8u})
		for (bool be : {false, true}) {
			SCOPED_TRACE(::testing::Message() << n << (be ? " be" : " le"));
			auto p = stores(n, be);
			auto o = wide_store(p);
			ASSERT_EQ(o.reports[0].changed(), 1u) << explain(o);
			EXPECT_EQ(count(o.prog.insns, BPF_STX | BPF_MEM | BPF_B), 0u);
			expect_same_packets(p, o.prog.insns);
		}
}

TEST(WideStore, LeavesWhatCouldTellTheDifference) {
	// a load of those bytes in between: it sees them half written
	auto p = stores(4, false, {{BPF_LDX | BPF_MEM | BPF_B, 7, 6, 6, 0}});
	auto o = wide_store(p);
	EXPECT_EQ(o.reports[0].changed(), 0u) << explain(o);
	EXPECT_NE(explain(o).find("may see or write"), std::string::npos) << explain(o);
	// a load of other bytes through the same base is fine
	p = stores(4, false, {{BPF_LDX | BPF_MEM | BPF_B, 7, 6, 9, 0}});
	EXPECT_EQ(wide_store(p).reports[0].changed(), 1u);
	// a store through another pointer in between (a copy of the base is
	// the same pointer; one moved is not known to miss those bytes)
	p = stores(4, false, {movx(7, 6), {BPF_ST | BPF_MEM | BPF_B, 7, 0, 12, 1}});
	EXPECT_EQ(wide_store(p).reports[0].changed(), 1u);
	p = stores(4, false, {movx(7, 6), add(7, 2), {BPF_ST | BPF_MEM | BPF_B, 7, 0, 12, 1}});
	EXPECT_EQ(wide_store(p).reports[0].changed(), 0u);
	// bytes 1 and 2 swapped: nothing in order
	p = stores(4, false);
	std::swap(p[13].off, p[18].off);
	EXPECT_TRUE(wide_store(p).reports[0].sites.empty()) << explain(wide_store(p));
	// three bytes: the first two are a u16
	p = stores(4, false);
	p.erase(p.begin() + 21, p.begin() + 26);
	p[4].off = int16_t(p[4].off - 5);
	o = wide_store(p);
	EXPECT_EQ(o.reports[0].changed(), 1u) << explain(o);
	EXPECT_EQ(count(o.prog.insns, BPF_STX | BPF_MEM | BPF_H), 1u);
	EXPECT_EQ(count(o.prog.insns, BPF_STX | BPF_MEM | BPF_B), 1u);
	expect_same_packets(p, o.prog.insns);
}

} // namespace
