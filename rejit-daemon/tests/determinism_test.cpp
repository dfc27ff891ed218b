// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "asm.hpp"
#include "rejit/determinism.hpp"
#include "rejit/object.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

// The reason, if any; the source must match what the reason says.
std::optional<std::string> why(std::vector<Insn> insns) {
	auto nd = nondeterminism(Program{std::move(insns), {}, {}});
	if (!nd)
		return std::nullopt;
	const bool helper = nd->why.find(" calls ") != std::string::npos;
	EXPECT_EQ(nd->source == Nondeterminism::Helper, helper) << nd->why;
	return nd->why;
}

TEST(Determinism, PlainComputationIsDeterministic) {
	EXPECT_EQ(why({mov(0, 1), add(0, 2), exit_insn()}), std::nullopt);
}

TEST(Determinism, TimeAndRandomHelpers) {
	auto r = why({call_helper(BPF_FUNC_ktime_get_ns), exit_insn()});
	ASSERT_TRUE(r);
	EXPECT_NE(r->find("bpf_ktime_get_ns"), std::string::npos) << *r;
	r = why({mov(0, 0), call_helper(BPF_FUNC_get_prandom_u32), exit_insn()});
	ASSERT_TRUE(r);
	EXPECT_NE(r->find("insn 1 calls bpf_get_prandom_u32"), std::string::npos) << *r;
	// A map lookup is not a source of nondeterminism.
	EXPECT_EQ(why({mov(0, 0), call_helper(BPF_FUNC_map_lookup_elem), exit_insn()}),
	          std::nullopt);
}

TEST(Determinism, LoadOfStackNeverWritten) {
	// r6 = r10 - 8; r0 = *(u8 *)(r6 + 0)
	auto r = why({movx(6, 10), add(6, -8), ldxb(0, 6, 0), exit_insn()});
	ASSERT_TRUE(r);
	EXPECT_NE(r->find("insn 2 loads stack"), std::string::npos) << *r;
	EXPECT_EQ(why({stb(10, -8, 7), movx(6, 10), add(6, -8), ldxb(0, 6, 0), exit_insn()}),
	          std::nullopt);
}

TEST(Determinism, WrittenOnOnePathOnly) {
	// if r1 == 0 goto +1; *(u8 *)(r10 - 1) = 1; r0 = *(u8 *)(r10 - 1)
	EXPECT_TRUE(why({jeq(1, 0, 1), stb(10, -1, 1), ldxb(0, 10, -1), exit_insn()}));
	// ... written on both paths.
	EXPECT_EQ(why({jeq(1, 0, 2), stb(10, -1, 1), ja(1), stb(10, -1, 2), ldxb(0, 10, -1),
	               exit_insn()}),
	          std::nullopt);
}

TEST(Determinism, CallFillsTheFrameAbovePointer) {
	// bpf_skb_load_bytes(ctx, 0, r10 - 8, 8) writes fp-8..fp-1.
	EXPECT_EQ(why({mov(2, 0), movx(3, 10), add(3, -8), mov(4, 8),
	               call_helper(BPF_FUNC_skb_load_bytes), ldxb(0, 10, -8), exit_insn()}),
	          std::nullopt);
	// but not fp-16.
	EXPECT_TRUE(why({mov(2, 0), movx(3, 10), add(3, -8), mov(4, 8),
	                 call_helper(BPF_FUNC_skb_load_bytes), ldxb(0, 10, -16), exit_insn()}));
}

TEST(Determinism, SubprogramHasItsOwnFrame) {
	// main writes fp-1 and calls a subprogram that reads its own fp-1.
	EXPECT_TRUE(why({stb(10, -1, 1), call_sub(1), exit_insn(), ldxb(0, 10, -1), exit_insn()}));
}

TEST(Determinism, ClangBuiltProgramsAreDeterministic) {
	for (const char *obj : {"sample.bpf.o", "packed.bpf.o", "zext.bpf.o", "workload.bpf.o"}) {
		auto progs = object_programs(std::string(BPF_OBJ_DIR "/") + obj);
		ASSERT_TRUE(progs) << progs.error().str();
		for (const ObjectProgram &p : *progs) {
			ASSERT_TRUE(p.prog) << p.name;
			auto nd = nondeterminism(*p.prog);
			EXPECT_FALSE(nd) << obj << " " << p.name << ": " << nd->why;
		}
	}
}

} // namespace
