// SPDX-License-Identifier: GPL-2.0
// The shadow check's pure parts: packets, comparison, verdicts, what it
// refuses to check. The check on the real kernel is selftests/test_45_shadow.sh.
#include <gtest/gtest.h>

#include "asm.hpp"
#include "rejit/shadow.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

TEST(Shadow, PacketsAreRepeatableEthernetFrames) {
	std::mt19937 r1(7), r2(7);
	size_t ipv4 = 0;
	for (int i = 0; i < 500; i++) {
		const auto p = packet(r1);
		EXPECT_EQ(p, packet(r2)); // the same seed, the same inputs
		ASSERT_GE(p.size(), 14u);
		ipv4 += p[12] == 0x08 && p[13] == 0x00 && p[14] == 0x45;
	}
	// most frames are parseable IP, not noise
	EXPECT_GT(ipv4, 100u);
}

TEST(Shadow, RunDifferenceSaysWhat) {
	const RunResult a{0, 2, {1, 2, 3}};
	EXPECT_EQ(run_difference(a, a), std::nullopt);
	EXPECT_EQ(run_difference(a, {0, 1, {1, 2, 3}}), "retval 2 vs 1");
	EXPECT_EQ(run_difference(a, {22, 0, {}}), "test run errno 0 vs 22");
	EXPECT_EQ(run_difference(a, {0, 2, {1, 2}}), "output packet 3 vs 2 bytes");
	EXPECT_EQ(run_difference(a, {0, 2, {1, 9, 3}}), "output packet byte 1: 0x02 vs 0x09");
}

TEST(Shadow, MapDifferenceNamesTheFirstKey) {
	const MapContents a{{{1, 0}, {5, 0, 0, 0}}, {{2, 0}, {6, 0, 0, 0}}};
	EXPECT_EQ(map_difference(a, a), std::nullopt);
	MapContents b = a;
	b[{2, 0}] = {6, 0, 7, 0};
	EXPECT_EQ(map_difference(a, b), "key 0200: value byte 2: 0x00 vs 0x07");
	b = a;
	b.erase({1, 0});
	EXPECT_EQ(map_difference(a, b), "key 0100: only in the first");
	EXPECT_EQ(map_difference(b, a), "key 0100: only in the second");
	EXPECT_EQ(lookup_size(BPF_MAP_TYPE_ARRAY, 12), 12u);
	EXPECT_EQ(lookup_size(BPF_MAP_TYPE_PERCPU_ARRAY, 12) % 16, 0u); // 16 per CPU
}

TEST(Shadow, InputOutcomeComparesOnlyWhereTheOriginalAgreesWithItself) {
	const RunResult pass{0, 2, {1}}, drop{0, 1, {1}};
	EXPECT_EQ(compare_input(pass, pass, pass), InputOutcome::Same);
	EXPECT_EQ(compare_input(pass, drop, pass), InputOutcome::Different);
	EXPECT_EQ(compare_input(pass, drop, drop), InputOutcome::Skipped);
	EXPECT_EQ(compare_input(pass, pass, drop), InputOutcome::Skipped);
}

TEST(Shadow, TallyReportsTheFirstDifference) {
	const RunResult pass{0, 2, {1}}, drop{0, 1, {1}};
	ShadowTally t;
	t.input(0, 60, InputOutcome::Same, pass, pass);
	t.input(1, 70, InputOutcome::Skipped, pass, drop);
	EXPECT_FALSE(t.different());
	t.input(2, 80, InputOutcome::Different, pass, drop);
	t.input(3, 90, InputOutcome::Different, drop, pass);
	ASSERT_TRUE(t.different());
	const ShadowVerdict v = t.verdict();
	EXPECT_EQ(v.kind, ShadowVerdict::Different);
	EXPECT_EQ(v.str(), "different: input #2 (80 bytes): retval 2 vs 1 (original vs rewritten)");
}

TEST(Shadow, TallyComparesMapsOnlyWhereTheOriginalAgreesWithItself) {
	const RunResult pass{0, 2, {1}};
	const MapContents one{{{0}, {1}}}, two{{{0}, {2}}};
	ShadowTally t;
	for (unsigned i = 0; i < 4; i++)
		t.input(i, 60, InputOutcome::Same, pass, pass);
	t.map("clock", one, two, two); // the original differs from itself: left out
	t.map("stats", one, one, one);
	ShadowVerdict v = t.verdict();
	EXPECT_EQ(v.kind, ShadowVerdict::Same);
	EXPECT_EQ(v.why, "4 of 4 inputs compared, 1 maps (1 more changed differently in two "
	                 "runs of the original)");
	EXPECT_EQ(t.skipped(), 1u);
	t.map("stats", one, two, one);
	v = t.verdict();
	EXPECT_EQ(v.kind, ShadowVerdict::Different);
	EXPECT_EQ(v.why, "map stats after 4 inputs: key 00: value byte 0: 0x01 vs 0x02 (original "
	                 "vs rewritten)");
}

TEST(Shadow, NothingComparedIsNotAPass) {
	const RunResult pass{0, 2, {1}};
	ShadowTally t;
	t.input(0, 60, InputOutcome::Skipped, pass, pass);
	t.input(1, 60, InputOutcome::Skipped, pass, pass);
	const ShadowVerdict v = t.verdict();
	EXPECT_EQ(v.kind, ShadowVerdict::NotChecked);
	EXPECT_EQ(v.str(), "not checked: the original disagreed with itself on all 2 inputs");
	EXPECT_EQ(ShadowVerdict{}.kind, ShadowVerdict::NotChecked);
}

TEST(Shadow, SaysWhyItCannotCheck) {
	const Program ret{{mov(0, 2), exit_insn()}, {}, {}};
	EXPECT_EQ(shadow_unsupported(BPF_PROG_TYPE_XDP, {{"stats", BPF_MAP_TYPE_ARRAY}}, ret),
	          std::nullopt);
	EXPECT_EQ(shadow_unsupported(BPF_PROG_TYPE_SCHED_CLS, {{"h", BPF_MAP_TYPE_LRU_PERCPU_HASH}},
	                             ret),
	          std::nullopt);
	EXPECT_EQ(shadow_unsupported(BPF_PROG_TYPE_KPROBE, {}, ret),
	          "type kprobe (no packet test runs)");
	EXPECT_EQ(shadow_unsupported(
	                  BPF_PROG_TYPE_XDP,
	                  {{"stats", BPF_MAP_TYPE_ARRAY}, {"jmp", BPF_MAP_TYPE_PROG_ARRAY}}, ret),
	          "prog_array map jmp");
	EXPECT_EQ(shadow_unsupported(BPF_PROG_TYPE_XDP, {{"rb", BPF_MAP_TYPE_RINGBUF}}, ret),
	          "ringbuf map rb");
	const Program kfunc{
	        {ldimm64(1, 5), {BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 2, 77}, exit_insn()},
	        {},
	        {}};
	EXPECT_EQ(shadow_unsupported(BPF_PROG_TYPE_XDP, {}, kfunc),
	          "insn 2 calls a kfunc of a module (fd_array index 2)");
	// r0 = *(u8 *)(r10 - 8) with nothing written there
	const Program stale{{ldxb(0, BPF_REG_10, -8), exit_insn()}, {}, {}};
	auto why = shadow_unsupported(BPF_PROG_TYPE_XDP, {}, stale);
	ASSERT_TRUE(why);
	EXPECT_TRUE(why->starts_with("nondeterministic: insn 0 loads stack bytes")) << *why;
	// time helpers are checked (inputs where the original differs from itself are left out)
	const Program clock{{call_helper(BPF_FUNC_ktime_get_ns), exit_insn()}, {}, {}};
	EXPECT_EQ(shadow_unsupported(BPF_PROG_TYPE_XDP, {}, clock), std::nullopt);
}

} // namespace
