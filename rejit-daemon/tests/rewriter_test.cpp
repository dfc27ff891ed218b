// SPDX-License-Identifier: GPL-2.0
#include <memory>
#include <vector>

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include "asm.hpp"
#include "bpf_object.hpp"
#include "rejit/rewriter.hpp"

namespace {

using rejit::FuncInfo;
using rejit::Insn;
using rejit::LineInfo;
using rejit::Rewriter;
using namespace rejit::test::asm_;

Rewriter make(const std::vector<Insn> &p, std::vector<LineInfo> li = {},
              std::vector<FuncInfo> fi = {}) {
	auto rw = Rewriter::create(p, li, fi);
	EXPECT_TRUE(rw) << rw.error().msg;
	return std::move(rw).value();
}

TEST(Rewriter, UneditedProgramIsUnchanged) {
	std::vector<Insn> p{mov(0, 0), jeq(1, 0, 2), ldimm64(2, 0x1122334455667788ULL), ja(-4),
	                    exit_insn()};
	auto out = make(p).finish();
	ASSERT_TRUE(out) << out.error().msg;
	EXPECT_EQ(out->insns, p);
}

TEST(Rewriter, JumpOverLdimm64ResolvesToInstruction) {
	// jeq at slot 1 skips the two-slot ld_imm64 (slots 2-3) to slot 4
	std::vector<Insn> p{mov(0, 0), jeq(1, 0, 2), ldimm64(2, 1), exit_insn()};
	auto rw = make(p);
	ASSERT_TRUE(rw.target(1));
	EXPECT_EQ(*rw.target(1), 3u);
}

TEST(Rewriter, DeletionShrinksForwardJump) {
	std::vector<Insn> p{jeq(1, 0, 2), add(0, 1), add(0, 2), exit_insn()};
	auto rw = make(p);
	ASSERT_TRUE(rw.replace(1, {}));
	auto out = rw.finish();
	ASSERT_TRUE(out);
	EXPECT_EQ(out->insns, (std::vector<Insn>{jeq(1, 0, 1), add(0, 2), exit_insn()}));
}

TEST(Rewriter, InsertionGrowsBackwardJump) {
	std::vector<Insn> p{mov(0, 0), add(0, 1), jeq(0, 5, -2), exit_insn()};
	auto rw = make(p);
	ASSERT_TRUE(rw.replace(1, {add(0, 1), add(0, 1), add(0, 1)}));
	auto out = rw.finish();
	ASSERT_TRUE(out);
	// the loop head is still the first add
	EXPECT_EQ(out->insns[4], jeq(0, 5, -4));
}

TEST(Rewriter, JumpToDeletedInstructionReachesSuccessor) {
	std::vector<Insn> p{jeq(1, 0, 1), add(0, 1), add(0, 2), exit_insn()};
	auto rw = make(p);
	ASSERT_TRUE(rw.replace(2, {}));
	auto out = rw.finish();
	ASSERT_TRUE(out);
	EXPECT_EQ(out->insns, (std::vector<Insn>{jeq(1, 0, 1), add(0, 1), exit_insn()}));
}

TEST(Rewriter, CallAndFuncInfoFollowTheSubprogram) {
	// main: call sub; exit   sub (insn 3): r0 = 1; exit
	std::vector<Insn> p{mov(1, 0), call_sub(2), exit_insn(), mov(0, 1), exit_insn()};
	std::vector<FuncInfo> fi{{0, 10}, {3, 11}};
	std::vector<LineInfo> li{{0, 1, 1, 0}, {1, 1, 2, 0}, {3, 1, 9, 0}};
	auto rw = make(p, li, fi);
	ASSERT_TRUE(rw.replace(0, {mov(1, 0), mov(2, 0)}));
	auto out = rw.finish();
	ASSERT_TRUE(out) << out.error().msg;
	EXPECT_EQ(out->insns[2], call_sub(2));
	ASSERT_EQ(out->func_info.size(), 2u);
	EXPECT_EQ(out->func_info[1].insn_off, 4u);
	EXPECT_EQ(out->line_info[1].insn_off, 2u);
	EXPECT_EQ(out->line_info[2].insn_off, 4u);
}

TEST(Rewriter, LineInfoFoldedByDeletionKeepsTheLastEntry) {
	std::vector<Insn> p{mov(0, 0), add(0, 1), exit_insn()};
	std::vector<LineInfo> li{{0, 1, 1, 0}, {1, 1, 2, 0}, {2, 1, 3, 0}};
	auto rw = make(p, li);
	ASSERT_TRUE(rw.replace(1, {}));
	auto out = rw.finish();
	ASSERT_TRUE(out);
	ASSERT_EQ(out->line_info.size(), 2u);
	EXPECT_EQ(out->line_info[1].line_off, 3u); // exit's own entry
}

TEST(Rewriter, GotolUsesImm) {
	std::vector<Insn> p{gotol(1), add(0, 1), exit_insn()};
	auto rw = make(p);
	ASSERT_TRUE(rw.replace(1, {add(0, 1), add(0, 2)}));
	auto out = rw.finish();
	ASSERT_TRUE(out);
	EXPECT_EQ(out->insns[0], gotol(2));
}

TEST(Rewriter, RunEnteredInTheMiddleIsRefused) {
	std::vector<Insn> p{jeq(1, 0, 1), add(0, 1), add(0, 2), exit_insn()};
	auto rw = make(p);
	auto r = rw.replace_run(1, 2, {add(0, 3)});
	ASSERT_FALSE(r);
	EXPECT_NE(r.error().msg.find("enters run"), std::string::npos);
}

TEST(Rewriter, RunReplacedAsAWhole) {
	std::vector<Insn> p{jeq(1, 0, 2), add(0, 1), add(0, 2), exit_insn()};
	auto rw = make(p);
	ASSERT_TRUE(rw.replace_run(1, 2, {add(0, 3)}));
	auto out = rw.finish();
	ASSERT_TRUE(out);
	EXPECT_EQ(out->insns, (std::vector<Insn>{jeq(1, 0, 1), add(0, 3), exit_insn()}));
}

struct Refusal {
	const char *name;
	std::vector<Insn> prog;
	const char *why;
};

class RewriterRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(RewriterRefuses, WithReason) {
	auto rw = Rewriter::create(GetParam().prog);
	ASSERT_FALSE(rw);
	EXPECT_NE(rw.error().msg.find(GetParam().why), std::string::npos) << rw.error().msg;
}

INSTANTIATE_TEST_SUITE_P(
        Malformed, RewriterRefuses,
        testing::Values(Refusal{"IntoLdimm64",
                                {jeq(1, 0, 1), ldimm64(1, 0), exit_insn()},
                                "not an instruction"},
                        Refusal{"PastTheEnd", {ja(5), exit_insn()}, "not an instruction"},
                        Refusal{"BeforeTheStart", {ja(-3), exit_insn()}, "not an instruction"}),
        [](const testing::TestParamInfo<Refusal> &info) { return std::string(info.param.name); });

TEST(Rewriter, EditsThatCannotBeEmittedAreRefused) {
	std::vector<Insn> p{jeq(1, 0, 1), add(0, 1), exit_insn()};
	auto rw = make(p);
	EXPECT_FALSE(rw.replace(1, {ja(0)}));              // not straight-line
	EXPECT_FALSE(rw.replace(1, {{0xe7, 0, 0, 0, 0}})); // invalid opcode
	ASSERT_TRUE(rw.replace(1, {}));
	EXPECT_FALSE(rw.replace(1, {add(0, 1)})); // edited twice

	std::vector<Insn> q{jeq(1, 0, 1), exit_insn(), add(0, 1)};
	auto rq = make(q);
	ASSERT_TRUE(rq.replace(2, {}));
	auto out = rq.finish();
	ASSERT_FALSE(out);
	EXPECT_NE(out.error().msg.find("past the end"), std::string::npos);
}

TEST(Rewriter, OffsetOverflowIsRefused) {
	std::vector<Insn> p{ja(32767)};
	p.insert(p.end(), 32767, add(0, 1));
	p.push_back(exit_insn());
	auto rw = make(p);
	ASSERT_TRUE(rw.replace(1, {add(0, 1), add(0, 1)}));
	auto out = rw.finish();
	ASSERT_FALSE(out);
	EXPECT_EQ(out.error().err, ERANGE);
}

// Every program clang emitted for the sample resolves and lays out again
// bit for bit; dropping a straight-line instruction keeps jumps consistent.
TEST(Rewriter, ClangObject) {
	auto obj = rejit::test::open_object("sample.bpf.o");
	ASSERT_TRUE(obj);
	bpf_program *p;
	bpf_object__for_each_program(p, obj.get()) {
		auto raw = rejit::test::raw_insns(p);
		auto dec = rejit::decode(raw);
		ASSERT_TRUE(dec);
		auto rw = Rewriter::create(*dec);
		ASSERT_TRUE(rw) << rw.error().msg;
		auto same = rw->finish();
		ASSERT_TRUE(same);
		EXPECT_EQ(same->insns, *dec);

		// duplicate the first ALU instruction: every jump still reaches the
		// same instruction
		size_t alu = 0;
		while (alu < dec->size() && (*dec)[alu].cls() != BPF_ALU64)
			alu++;
		ASSERT_LT(alu, dec->size());
		ASSERT_TRUE(rw->replace(alu, {(*dec)[alu], (*dec)[alu]}));
		auto grown = rw->finish();
		ASSERT_TRUE(grown) << grown.error().msg;
		ASSERT_EQ(grown->insns.size(), dec->size() + 1);
		auto again = Rewriter::create(grown->insns);
		ASSERT_TRUE(again);
		for (size_t i = 0; i < dec->size(); i++) {
			const size_t ni = i > alu ? i + 1 : i;
			auto t = rw->target(i);
			if (!t)
				continue;
			const size_t nt = *t > alu ? *t + 1 : *t;
			EXPECT_EQ(again->target(ni), nt) << "insn " << i;
		}
	}
}

} // namespace
