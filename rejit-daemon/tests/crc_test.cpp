// SPDX-License-Identifier: GPL-2.0
// The crc pass on clang-built table-driven CRCs and on hand-made variants.
#include <cstring>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "asm.hpp"
#include "bpf_object.hpp"
#include "kinsn_defs.h"
#include "rejit/interp.hpp"
#include "rejit/kinsn.hpp"
#include "rejit/pass.hpp"
#include "xdp_run.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

PassEnv with_kinsn(PassEnv env, bool native = true) {
	env.kinsns = {{"bpf_crc32c_u8", {1007, 1, true, native}}};
	return env;
}

Optimized crc(const std::vector<Insn> &insns, const PassEnv &env, std::string_view passes = "crc") {
	auto p = passes_by_name(passes);
	EXPECT_TRUE(p) << p.error().msg;
	return run_passes(Program{insns, {}, {}}, *p, env);
}

size_t pairs(const std::vector<Insn> &insns) {
	return size_t(std::count_if(insns.begin(), insns.end(), [](const Insn &in) {
		return in.is_kinsn() && kinsn_form_name(in) == "bpf_crc32c_u8";
	}));
}

uint32_t crc32c(uint32_t c, const std::vector<uint8_t> &bytes, size_t from, size_t to) {
	for (size_t i = from; i < to; i++)
		c = uint32_t(kinsn_crc32c_u8(c, bytes[i], 0));
	return c;
}

// The CRC32C table as software writes it.
std::vector<uint8_t> crc32c_table() {
	std::vector<uint8_t> t(1024);
	for (uint32_t i = 0; i < 256; i++) {
		const auto e = uint32_t(kinsn_crc32c_u8(i, 0, 0));
		std::memcpy(&t[4 * i], &e, 4);
	}
	return t;
}

// clang's code (progs/crc.bpf.c): every step of both CRC32C loops becomes
// one kinsn, the first of xdp_crc32c from a constant CRC (clang folded ~0
// into it), and the programs compute what they did: the real CRC32C.
TEST(Crc, FindsTheStepsClangEmits) {
	for (auto [name, steps] : {std::pair{"xdp_crc32c", 12u}, {"xdp_crc32c_seeded", 6u}}) {
		SCOPED_TRACE(name);
		auto op = test::object_program("crc.bpf.o", name);
		ASSERT_TRUE(op);
		const std::vector<Insn> &insns = op->prog->insns;
		auto none = crc(insns, with_kinsn(op->env, false));
		EXPECT_EQ(none.prog.insns, insns);
		EXPECT_EQ(none.reports[0].sites.size(), steps) << explain(none);
		EXPECT_NE(explain(none).find("no native bpf_crc32c_u8 operand form"),
		          std::string::npos);

		auto o = crc(insns, with_kinsn(op->env));
		const PassReport &r = o.reports[0];
		EXPECT_EQ(r.changed(), steps) << explain(o);
		EXPECT_EQ(pairs(o.prog.insns), steps);
		EXPECT_LE(r.insns_after + 5 * steps, r.insns_before) << explain(o);
		test::expect_same_xdp_behaviour(insns, o.prog.insns, 0, op->env);
		std::vector<uint8_t> pkt(16);
		for (size_t i = 0; i < pkt.size(); i++)
			pkt[i] = uint8_t("123456789abcdefg"[i]);
		auto got = test::run_xdp(o.prog.insns, pkt, op->env);
		ASSERT_TRUE(got) << got.error().msg;
		if (steps == 12) {
			EXPECT_EQ(uint32_t(*got), ~crc32c(~0u, pkt, 0, 12));
		} else {
			uint32_t seed, sum = 0;
			std::memcpy(&seed, pkt.data(), 4);
			for (unsigned i = 4; i < 10; i++)
				sum += uint32_t(pkt[i]) << i;
			EXPECT_EQ(uint32_t(*got), crc32c(seed, pkt, 4, 10) ^ sum);
		}

		// The whole pipeline too; nothing left for a second round.
		auto all = crc(insns, with_kinsn(op->env), "all");
		test::expect_same_xdp_behaviour(insns, all.prog.insns, 0, op->env);
		EXPECT_EQ(pairs(all.prog.insns), steps) << explain(all);
		EXPECT_EQ(crc(o.prog.insns, with_kinsn(op->env)).changed(), 0u);
	}
}

// The same table code for the IEEE polynomial is a CRC too, but not the one
// the instruction computes; a CRC32C table with one bit wrong is no CRC.
TEST(Crc, LeavesOtherTables) {
	auto ieee = test::object_program("crc.bpf.o", "xdp_crc32");
	ASSERT_TRUE(ieee);
	auto o = crc(ieee->prog->insns, with_kinsn(ieee->env));
	EXPECT_TRUE(o.reports[0].sites.empty()) << explain(o);

	auto op = test::object_program("crc.bpf.o", "xdp_crc32c");
	ASSERT_TRUE(op);
	std::vector<uint8_t> &rodata = op->env.frozen_maps.at(0);
	const std::vector<uint8_t> table = crc32c_table();
	auto at = std::search(rodata.begin(), rodata.end(), table.begin(), table.end());
	ASSERT_NE(at, rodata.end()) << "no CRC32C table in .rodata";
	at[4 * 77 + 2] ^= 0x10;
	o = crc(op->prog->insns, with_kinsn(op->env));
	EXPECT_TRUE(o.reports[0].sites.empty()) << explain(o);
}

// r1 = c; r2 = b (both loaded from the context); r0 = table[(c ^ b) & 0xff]
// ^ c >> 8 (the table at offset 16 of map 0), in `variant`:
//  0 as written, 1 the byte from a 32-bit copy, 2 the index read after,
//  3 the CRC only in r1, which is needed after.
std::vector<Insn> step(int variant) {
	std::vector<Insn> p{{BPF_LDX | BPF_MEM | BPF_DW, 7, 1, 0, 0},
	                    ldxb(2, 1, 8),
	                    movx(1, 7),
	                    {BPF_LD | BPF_IMM | BPF_DW, 3, BPF_PSEUDO_MAP_IDX_VALUE, 0, 0, 16},
	                    movx(4, 1)};
	if (variant == 1)
		p.push_back({BPF_ALU | BPF_MOV | BPF_X, 5, 2, 0, 0});
	p.push_back({BPF_ALU64 | BPF_XOR | BPF_X, 4, uint8_t(variant == 1 ? 5 : 2), 0, 0});
	p.push_back({BPF_ALU64 | BPF_AND | BPF_K, 4, 0, 0, 0xff});
	p.push_back({BPF_ALU64 | BPF_LSH | BPF_K, 4, 0, 0, 2});
	p.push_back(addx(3, 4));
	p.push_back({BPF_LDX | BPF_MEM | BPF_W, 0, 3, 0, 0});
	p.push_back(movx(6, 1));
	p.push_back({BPF_ALU | BPF_RSH | BPF_K, 6, 0, 0, 8});
	p.push_back({BPF_ALU | BPF_XOR | BPF_X, 0, 6, 0, 0});
	if (variant == 2)
		p.push_back({BPF_ALU64 | BPF_XOR | BPF_X, 0, 4, 0, 0});
	if (variant == 3) { // r0 = r1 << 32 | crc
		p.push_back({BPF_ALU64 | BPF_LSH | BPF_K, 1, 0, 0, 32});
		p.push_back({BPF_ALU64 | BPF_OR | BPF_X, 0, 1, 0, 0});
	}
	p.push_back(exit_insn());
	return p;
}

TEST(Crc, HandMadeStepsAndRefusals) {
	PassEnv env;
	std::vector<uint8_t> value(16, 0xaa);
	const std::vector<uint8_t> table = crc32c_table();
	value.insert(value.end(), table.begin(), table.end());
	env.frozen_maps[0] = value;
	env = with_kinsn(env);
	std::mt19937_64 rng(9);
	for (int variant = 0; variant < 4; variant++) {
		SCOPED_TRACE(variant);
		const std::vector<Insn> p = step(variant);
		auto o = crc(p, env);
		if (variant == 2) {
			EXPECT_EQ(o.reports[0].changed(), 0u) << explain(o);
			EXPECT_NE(explain(o).find("read afterwards"), std::string::npos)
			        << explain(o);
			continue;
		}
		ASSERT_EQ(o.reports[0].changed(), 1u) << explain(o);
		ASSERT_EQ(pairs(o.prog.insns), 1u);
		for (int i = 0; i < 2000; i++) {
			const uint64_t c = rng() >> (rng() % 64), byte = rng() >> (rng() % 64);
			std::vector<uint8_t> in(16);
			std::memcpy(in.data(), &c, 8);
			in[8] = uint8_t(byte);
			Memory m1, m2;
			RunOptions o1, o2;
			o1.r1 = m1.map("in", 0x1000, in, false);
			o2.r1 = m2.map("in", 0x1000, in, false);
			o1.pseudo = test::map_frozen(m1, env);
			o2.pseudo = test::map_frozen(m2, env);
			auto ra = interpret(p, m1, o1), rb = interpret(o.prog.insns, m2, o2);
			ASSERT_TRUE(ra && rb);
			ASSERT_EQ(*ra, *rb) << std::hex << "c " << c << " b " << byte;
			ASSERT_EQ(uint32_t(*rb), kinsn_crc32c_u8(c, byte, 0));
		}
	}
}

} // namespace
