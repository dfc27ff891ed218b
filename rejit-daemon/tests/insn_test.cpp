// SPDX-License-Identifier: GPL-2.0
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include "asm.hpp"

#include "bpf_object.hpp"
#include "rejit/insn.hpp"

namespace {

using rejit::Insn;
using rejit::test::asm_::raw;

// One instruction of every shape the 6.12 verifier accepts.
std::vector<bpf_insn> every_shape() {
	return {
	        raw(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 7),
	        raw(0, 0, 0, 0, 0),
	        raw(BPF_LD | BPF_IMM | BPF_DW, 2, 0, 0, -1),
	        raw(0, 0, 0, 0, 0x12345678),
	        raw(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 42),
	        raw(BPF_ALU64 | BPF_MOV | BPF_X, 3, 1, 32, 0), // movsx32
	        raw(BPF_ALU | BPF_MOV | BPF_X, 3, 1, 8, 0),    // movsx8 (32-bit)
	        raw(BPF_ALU64 | BPF_MOV | BPF_X, 3, 1, BPF_ADDR_SPACE_CAST, 1),
	        raw(BPF_ALU64 | BPF_DIV | BPF_X, 3, 4, 1, 0), // sdiv
	        raw(BPF_ALU | BPF_MOD | BPF_K, 3, 0, 1, 7),   // smod32
	        raw(BPF_ALU | BPF_END | BPF_TO_BE, 5, 0, 0, 16),
	        raw(BPF_ALU64 | BPF_END | BPF_TO_LE, 5, 0, 0, 64), // bswap64
	        raw(BPF_ALU64 | BPF_NEG | BPF_K, 6, 0, 0, 0),
	        raw(BPF_LDX | BPF_MEM | BPF_B, 2, 10, -8, 0),
	        raw(BPF_LDX | BPF_MEMSX | BPF_H, 2, 1, 4, 0),
	        raw(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -16, 99),
	        raw(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_ADD | BPF_FETCH),
	        raw(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_CMPXCHG),
	        raw(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12),
	        raw(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2, 0),
	        raw(BPF_JMP32 | BPF_JSLT | BPF_X, 1, 2, 1, 0),
	        raw(BPF_JMP32 | BPF_JA, 0, 0, 0, 1), // gotol
	        raw(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, 0, 0),
	        raw(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
	        raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 1),
	        raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 1234),
	        raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
}

bool same(const std::vector<bpf_insn> &a, const std::vector<bpf_insn> &b) {
	return a.size() == b.size() &&
	       std::equal(a.begin(), a.end(), b.begin(),
	                  [](auto &x, auto &y) { return std::memcmp(&x, &y, sizeof(x)) == 0; });
}

TEST(InsnCodec, RoundTripsEveryShape) {
	auto in = every_shape();
	auto dec = rejit::decode(in);
	ASSERT_TRUE(dec) << dec.error().msg;
	EXPECT_EQ(dec->size(), in.size() - 2); // two ld_imm64 pairs fold into one Insn each
	EXPECT_EQ(rejit::slot_count(*dec), in.size());
	EXPECT_TRUE(same(rejit::encode(*dec), in));
}

TEST(InsnCodec, Ldimm64CarriesBothHalves) {
	auto dec = rejit::decode(every_shape());
	ASSERT_TRUE(dec);
	EXPECT_TRUE((*dec)[1].is_ldimm64());
	EXPECT_EQ((*dec)[1].imm64(), 0x12345678ffffffffULL);
	EXPECT_EQ((*dec)[0].src, BPF_PSEUDO_MAP_FD);
}

struct BadCase {
	const char *name;
	std::vector<bpf_insn> prog;
	const char *why;
};

class InsnCodecRejects : public testing::TestWithParam<BadCase> {};

TEST_P(InsnCodecRejects, WithReason) {
	auto dec = rejit::decode(GetParam().prog);
	ASSERT_FALSE(dec);
	EXPECT_EQ(dec.error().err, EINVAL);
	EXPECT_NE(dec.error().msg.find(GetParam().why), std::string::npos) << dec.error().msg;
}

INSTANTIATE_TEST_SUITE_P(
        Malformed, InsnCodecRejects,
        testing::Values(
                BadCase{"Ldimm64Truncated",
                        {raw(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 0)},
                        "truncated"},
                BadCase{"Ldimm64BadSecondSlot",
                        {raw(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, 0), raw(0, 1, 0, 0, 0)},
                        "second slot"},
                BadCase{"AluUnknownOp", {raw(BPF_ALU64 | 0xe0, 1, 0, 0, 0)}, "unknown operation"},
                BadCase{"JmpUnknownOp", {raw(BPF_JMP | 0xf0, 1, 0, 0, 0)}, "unknown operation"},
                BadCase{"RegisterAboveR10",
                        {raw(BPF_ALU64 | BPF_MOV | BPF_K, 11, 0, 0, 0)},
                        "above R10"},
                BadCase{"Movsx32In32BitAlu",
                        {raw(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 32, 0)},
                        "sign-extension"},
                BadCase{"EndBadWidth",
                        {raw(BPF_ALU | BPF_END | BPF_TO_LE, 1, 0, 0, 8)},
                        "16, 32 or 64"},
                BadCase{"MemsxDw", {raw(BPF_LDX | BPF_MEMSX | BPF_DW, 1, 2, 0, 0)}, "no DW"},
                BadCase{"AtomicByte",
                        {raw(BPF_STX | BPF_ATOMIC | BPF_B, 1, 2, 0, BPF_ADD)},
                        "only W"},
                BadCase{"CallInJmp32", {raw(BPF_JMP32 | BPF_CALL, 0, 0, 0, 1)}, "JMP32"},
                BadCase{"ErrorNamesTheSlot",
                        {raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0), raw(0x18, 0, 9, 0, 0),
                         raw(0, 0, 0, 0, 0)},
                        "insn 2"}),
        [](const testing::TestParamInfo<BadCase> &info) { return std::string(info.param.name); });

TEST(InsnCodec, DisassemblesOperands) {
	using rejit::disasm, rejit::test::asm_::ldimm64, rejit::test::asm_::exit_insn;
	EXPECT_EQ(disasm({BPF_ALU64 | BPF_XOR | BPF_X, 0, 3, 0, 0}), "alu64 xor x r0, r3");
	EXPECT_EQ(disasm({BPF_ALU | BPF_RSH | BPF_K, 4, 0, 0, 8}), "alu rsh k r4, 0x8");
	EXPECT_EQ(disasm({BPF_LDX | BPF_MEM | BPF_W, 3, 5, -4, 0}), "ldx w r3, [r5-4]");
	EXPECT_EQ(disasm({BPF_STX | BPF_MEM | BPF_B, 10, 1, -8, 0}), "stx b [r10-8], r1");
	EXPECT_EQ(disasm({BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 3, 0}), "jmp jeq k r2, 0x0, +3");
	EXPECT_EQ(disasm(ldimm64(2, 0xffffff00)), "ld dw r2, 0xffffff00");
	EXPECT_EQ(disasm(exit_insn()), "jmp exit k");
}

// Every program clang emitted for the sample decodes and re-encodes exactly.
TEST(InsnCodec, RoundTripsClangObject) {
	auto obj = rejit::test::open_object("sample.bpf.o");
	ASSERT_TRUE(obj) << "cannot open sample.bpf.o";
	int progs = 0;
	bpf_program *p;
	bpf_object__for_each_program(p, obj.get()) {
		auto in = rejit::test::raw_insns(p);
		auto dec = rejit::decode(in);
		ASSERT_TRUE(dec) << bpf_program__name(p) << ": " << dec.error().msg;
		EXPECT_TRUE(same(rejit::encode(*dec), in)) << bpf_program__name(p);
		EXPECT_TRUE(std::any_of(dec->begin(), dec->end(),
		                        [](const Insn &i) { return i.is_ldimm64(); }));
		progs++;
	}
	EXPECT_EQ(progs, 1);
}

} // namespace
