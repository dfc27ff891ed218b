// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "asm.hpp"
#include "rejit/interp.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

Result<uint64_t> run(std::vector<Insn> p, uint64_t r1 = 0) {
	Memory mem;
	RunOptions opt;
	opt.r1 = r1;
	return interpret(p, mem, opt);
}

Insn alu(uint8_t code, uint8_t dst, int32_t imm, int16_t off = 0) {
	return {code, dst, 0, off, imm};
}

TEST(Interp, AluFollowsKernelSemantics) {
	// 32-bit ops zero-extend
	EXPECT_EQ(*run({mov(0, -1), alu(BPF_ALU | BPF_ADD | BPF_K, 0, 1), exit_insn()}), 0u);
	// division by zero gives 0, modulo by zero keeps dst
	EXPECT_EQ(*run({mov(0, 7), alu(BPF_ALU64 | BPF_DIV | BPF_K, 0, 0), exit_insn()}), 0u);
	EXPECT_EQ(*run({mov(0, 7), alu(BPF_ALU64 | BPF_MOD | BPF_K, 0, 0), exit_insn()}), 7u);
	// signed division (off = 1)
	EXPECT_EQ(*run({mov(0, -7), alu(BPF_ALU64 | BPF_DIV | BPF_K, 0, 2, 1), exit_insn()}),
	          uint64_t(-3));
	// byte swap to big-endian truncates to the width
	EXPECT_EQ(*run({ldimm64(0, 0x1122334455667788), alu(BPF_ALU | BPF_END | BPF_TO_BE, 0, 16),
	                exit_insn()}),
	          0x8877u);
	// arithmetic shift keeps the sign
	EXPECT_EQ(*run({mov(0, -16), alu(BPF_ALU64 | BPF_ARSH | BPF_K, 0, 2), exit_insn()}),
	          uint64_t(-4));
}

TEST(Interp, BranchesAndSubprogramCalls) {
	// r0 = f(5) where f(x) = x + 1 in a subprogram using its own stack
	std::vector<Insn> p{mov(1, 5), call_sub(1),  exit_insn(), movx(0, 1),
	                    add(0, 1), jeq(0, 6, 1), mov(0, 0),   exit_insn()};
	auto r = run(p);
	ASSERT_TRUE(r) << r.error().msg;
	EXPECT_EQ(*r, 6u);
}

TEST(Interp, RefusesWhatItDoesNotModel) {
	auto r = run({ldxb(0, 1, 0), exit_insn()}, 0x1234);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().err, EINVAL);
	EXPECT_NE(r.error().msg.find("outside every region"), std::string::npos);
	EXPECT_FALSE(run({call_helper(1), exit_insn()}));
	EXPECT_FALSE(run({ja(-1)}));
}

} // namespace
