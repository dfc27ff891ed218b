// SPDX-License-Identifier: GPL-2.0
// Edge profiles (the instrumented tier's counters) and the layout pass, on
// clang-built code: counters must count what really ran, and laying out by
// them must keep behaviour and take fewer branches on the profiled traffic.
#include <random>

#include <gtest/gtest.h>

#include "asm.hpp"
#include "bpf_object.hpp"
#include "rejit/interp.hpp"
#include "rejit/object.hpp"
#include "rejit/pass.hpp"
#include "rejit/profile.hpp"
#include "xdp_run.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

constexpr uint32_t kEdgeMap = 7;
constexpr uint64_t kEdges = 0x4000'0000;

// Usual traffic for xdp_branchy: rare bodies run for 1 packet in 20.
std::vector<std::vector<uint8_t>> traffic(size_t n) {
	std::mt19937 rng(7);
	std::vector<std::vector<uint8_t>> pkts;
	for (size_t i = 0; i < n; i++) {
		std::vector<uint8_t> p(16 + rng() % 32);
		for (auto &b : p)
			b = uint8_t(rng());
		p[0] = rng() % 20 ? uint8_t(p[0] % 0xff) : 0xff;
		p[4] = rng() % 20 ? uint8_t(p[4] & 0x7f) : uint8_t(p[4] | 0x80);
		pkts.push_back(std::move(p));
	}
	return pkts;
}

struct Outcome {
	uint64_t ret;
	uint64_t taken = 0; // control transfers that are not to the next insn
};

// Run on `pkt`; `edges` (if any) is the counters' map value.
Outcome run(const std::vector<Insn> &prog, const std::vector<uint8_t> &pkt,
            std::vector<uint8_t> *edges = nullptr, std::vector<uint64_t> *visits = nullptr) {
	Memory mem;
	RunOptions opt;
	opt.r1 = test::map_xdp(mem, pkt);
	if (edges) {
		mem.map("edges", kEdges, *edges, true);
		opt.pseudo = [](const Insn &in) -> Result<uint64_t> {
			if (in.src != BPF_PSEUDO_MAP_IDX_VALUE || in.imm != int32_t(kEdgeMap))
				return make_error(EINVAL, "not the counters");
			return kEdges + uint64_t(uint32_t(in.imm_hi));
		};
	}
	Outcome out{};
	size_t prev = SIZE_MAX;
	opt.trace = [&](size_t pc) {
		if (prev != SIZE_MAX && pc != prev + 1)
			out.taken++;
		prev = pc;
		if (visits)
			(*visits)[pc]++;
	};
	auto r = interpret(prog, mem, opt);
	EXPECT_TRUE(r) << r.error().msg;
	out.ret = r ? *r : ~0ull;
	if (edges)
		*edges = mem.bytes("edges");
	return out;
}

// Branch counts as the interpreter saw them (visits of jump and target).
EdgeProfile true_profile(const std::vector<Insn> &prog,
                         const std::vector<std::vector<uint8_t>> &pkts) {
	EdgeProfile prof{prog, {}};
	auto rw = Rewriter::create(prog);
	EXPECT_TRUE(rw);
	for (const auto &pkt : pkts) {
		std::vector<uint64_t> visits(prog.size());
		run(prog, pkt, nullptr, &visits);
		for (size_t i = 0; i < prog.size(); i++)
			if (is_cond_jump(prog[i]) && visits[i]) {
				// xdp_branchy has no loops: each jump runs at most once
				const bool taken = visits[i + 1] == 0;
				auto &c = prof.branches[i];
				(taken ? c.taken : c.fell)++;
			}
	}
	return prof;
}

EdgeProfile measured_profile(const std::vector<Insn> &prog,
                             const std::vector<std::vector<uint8_t>> &pkts,
                             Instrumented *keep = nullptr) {
	auto ins = instrument(Program{prog, {}, {}}, kEdgeMap);
	EXPECT_TRUE(ins) << ins.error().msg;
	std::vector<uint8_t> edges(ins->probes.counters * 8);
	for (const auto &pkt : pkts) {
		// counting changes nothing the program does
		EXPECT_EQ(run(ins->prog.insns, pkt, &edges).ret, run(prog, pkt).ret);
	}
	std::vector<uint64_t> counts(ins->probes.counters);
	std::memcpy(counts.data(), edges.data(), edges.size());
	if (keep)
		*keep = *ins;
	return edge_profile(ins->probes, counts);
}

TEST(Profile, CountersCountWhatRan) {
	auto prog = test::program_insns("branchy.bpf.o", "xdp_branchy");
	ASSERT_FALSE(prog.empty());
	const auto pkts = traffic(2000);
	Instrumented ins;
	const EdgeProfile got = measured_profile(prog, pkts, &ins);
	const EdgeProfile want = true_profile(prog, pkts);
	size_t jumps = 0;
	for (const Insn &in : prog)
		jumps += is_cond_jump(in);
	// every jump is profiled or says why not
	EXPECT_EQ(ins.probes.branches.size() + ins.probes.unprofiled.size(), jumps);
	EXPECT_GE(ins.probes.branches.size(), 3u);
	for (const auto &[j, c] : got.branches) {
		const BranchCount w =
		        want.branches.contains(j) ? want.branches.at(j) : BranchCount{};
		EXPECT_EQ(c.taken, w.taken) << "jump " << j;
		EXPECT_EQ(c.fell, w.fell) << "jump " << j;
	}
	// four slots per counter, none without a use
	EXPECT_EQ(slot_count(ins.prog.insns), slot_count(prog) + 4 * ins.probes.counters);
	EXPECT_LE(ins.probes.counters, 2 * ins.probes.branches.size());
}

TEST(Profile, RegistersInUseAreNotScratch) {
	// R0-R9 all live where the branch's edges begin: nothing can count them
	std::vector<Insn> p;
	for (uint8_t r = 0; r < 10; r++)
		p.push_back(mov(r, r));
	p.push_back(jeq(1, 1, 1));
	p.push_back(mov(0, 5));
	for (uint8_t r = 1; r < 10; r++)
		p.push_back(addx(0, r));
	p.push_back(exit_insn());
	auto ins = instrument(Program{p, {}, {}}, kEdgeMap);
	ASSERT_TRUE(ins) << ins.error().msg;
	EXPECT_EQ(ins->probes.counters, 0u);
	ASSERT_EQ(ins->probes.unprofiled.size(), 1u);
	EXPECT_EQ(ins->prog.insns, p);
}

TEST(Layout, HotPathFallsThrough) {
	auto prog = test::program_insns("branchy.bpf.o", "xdp_branchy");
	ASSERT_FALSE(prog.empty());
	const auto pkts = traffic(2000);
	PassEnv env;
	env.profile = measured_profile(prog, pkts);
	auto passes = passes_by_name("layout");
	ASSERT_TRUE(passes);
	auto o = run_passes(Program{prog, {}, {}}, *passes, env);
	// both rare bodies move (the jumps over them are taken ~95% of the time)
	EXPECT_EQ(o.reports[0].changed(), 2u) << explain(o);
	EXPECT_LE(slot_count(o.prog.insns), slot_count(prog) + 2);
	test::expect_same_xdp_behaviour(prog, o.prog.insns, 0);
	uint64_t before = 0, after = 0;
	for (const auto &pkt : pkts) {
		const Outcome a = run(prog, pkt), b = run(o.prog.insns, pkt);
		ASSERT_EQ(a.ret, b.ret);
		before += a.taken;
		after += b.taken;
	}
	EXPECT_LT(after * 2, before) << "taken branches " << before << " -> " << after;
	// the rest of the pipeline still works on the new layout
	auto all = passes_by_name("all");
	ASSERT_TRUE(all);
	auto full = run_passes(Program{prog, {}, {}}, *all, env);
	EXPECT_EQ(full.reports[0].changed(), 2u) << explain(full);
	test::expect_same_xdp_behaviour(prog, full.prog.insns, 0);
}

TEST(Layout, ProfileOfOtherCodeIsRefused) {
	auto prog = test::program_insns("branchy.bpf.o", "xdp_branchy");
	PassEnv env;
	env.profile = measured_profile(prog, traffic(200));
	env.profile.code[3] = mov(3, 0); // not the code the pass sees
	auto passes = passes_by_name("layout");
	auto o = run_passes(Program{prog, {}, {}}, *passes, env);
	EXPECT_EQ(o.changed(), 0u);
	EXPECT_EQ(o.reports[0].skipped(), 1u) << explain(o);
	EXPECT_EQ(o.prog.insns, prog);
}

TEST(Layout, ColdOrBalancedStays) {
	auto prog = test::program_insns("branchy.bpf.o", "xdp_branchy");
	const EdgeProfile measured = measured_profile(prog, traffic(2000));
	auto passes = passes_by_name("layout");
	// taken as often as not, or too rarely to tell
	for (const BranchCount like : {BranchCount{1000, 1000}, BranchCount{63, 0}}) {
		PassEnv env;
		env.profile = measured;
		for (auto &[j, c] : env.profile.branches)
			c = like;
		auto o = run_passes(Program{prog, {}, {}}, *passes, env);
		EXPECT_EQ(o.changed(), 0u) << explain(o);
		EXPECT_EQ(o.prog.insns, prog);
	}
}

// The workload the daemon profiles in the VM tests, as there: profiled on
// app packets without payload (so xdp_payload's checksum loop exits at
// once, a hot jump out of it), then run on payloads up to 1400 bytes too.
// Instrumented and laid out, return values and counters stay the same.
TEST(Layout, WorkloadOnItsTraffic) {
	auto progs = object_programs(BPF_OBJ_DIR "/workload.bpf.o");
	ASSERT_TRUE(progs) << progs.error().str();
	constexpr uint64_t kStats = 0x6000'0000;
	std::mt19937 rng(3);
	std::vector<std::vector<uint8_t>> pkts;
	for (int i = 0; i < 300; i++) {
		std::vector<uint8_t> pkt(57 + (i % 2 ? rng() % 1400 : 0));
		for (size_t k = 0; k < pkt.size(); k++)
			pkt[k] = uint8_t(k);
		pkt[12] = 0x08, pkt[13] = 0x00, pkt[14] = 0x45, pkt[23] = 17;
		pkt[36] = 0x27, pkt[37] = 0x0f, pkt[42] = i % 10 ? 1 : 2;
		pkts.push_back(std::move(pkt));
	}
	for (const ObjectProgram &op : *progs) {
		ASSERT_TRUE(op.prog) << op.name;
		const std::vector<Insn> &prog = op.prog->insns;
		// R0, the stats map after the packet, the edge counters if any
		auto run = [&](const std::vector<Insn> &code, const std::vector<uint8_t> &pkt,
		               std::vector<uint8_t> *edges) {
			Memory mem;
			RunOptions opt;
			opt.r1 = test::map_xdp(mem, pkt);
			PseudoFn frozen = test::map_frozen(mem, op.env, 0);
			if (edges)
				mem.map("edges", kEdges, *edges, true);
			opt.pseudo = [&](const Insn &in) -> Result<uint64_t> {
				if (in.src == BPF_PSEUDO_MAP_IDX_VALUE &&
				    in.imm == int32_t(kEdgeMap))
					return kEdges + uint64_t(uint32_t(in.imm_hi));
				return frozen(in);
			};
			mem.map("stats", kStats, std::vector<uint8_t>(7 * 8), true);
			opt.helper = test::array_lookup(mem, kStats, 7);
			auto r = interpret(code, mem, opt);
			EXPECT_TRUE(r) << op.name << ": " << r.error().msg;
			if (edges)
				*edges = mem.bytes("edges");
			return std::pair{r ? *r : ~0ull, mem.bytes("stats")};
		};
		auto ins = instrument(*op.prog, kEdgeMap);
		ASSERT_TRUE(ins) << ins.error().msg;
		std::vector<uint8_t> edges(ins->probes.counters * 8);
		for (const auto &pkt : pkts) {
			if (pkt.size() != 57)
				continue;
			ASSERT_EQ(run(ins->prog.insns, pkt, &edges), run(prog, pkt, nullptr))
			        << op.name;
		}
		std::vector<uint64_t> counts(ins->probes.counters);
		std::memcpy(counts.data(), edges.data(), edges.size());
		PassEnv env = op.env;
		env.profile = edge_profile(ins->probes, counts);
		auto all = passes_by_name("all");
		ASSERT_TRUE(all);
		auto o = run_passes(*op.prog, *all, env);
		EXPECT_GE(o.reports[0].changed(), 1u) << op.name << "\n" << explain(o);
		for (const auto &pkt : pkts)
			ASSERT_EQ(run(o.prog.insns, pkt, nullptr), run(prog, pkt, nullptr))
			        << op.name << " on " << pkt.size() << " bytes\n"
			        << explain(o);
	}
}

// The rewriter's moves, instruction by instruction.
TEST(Layout, MoveRunAndInvert) {
	// 0: if r1 == 1 goto 3; 1: r0 = 1; 2: r0 += 1; 3: exit
	std::vector<Insn> p{jeq(1, 1, 2), mov(0, 1), add(0, 1), exit_insn()};
	auto rw = Rewriter::create(p);
	ASSERT_TRUE(rw);
	ASSERT_TRUE(rw->invert_jump(0, 1));
	ASSERT_TRUE(rw->move_run(1, 2, 4));
	auto out = rw->finish();
	ASSERT_TRUE(out);
	// 0: if r1 != 1 goto 2; 1: exit; 2: r0 = 1; 3: r0 += 1; 4: goto 1
	const std::vector<Insn> want{
	        {BPF_JMP | BPF_JNE | BPF_K, 1, 0, 1, 1}, exit_insn(), mov(0, 1), add(0, 1), ja(-4)};
	EXPECT_EQ(out->insns, want);

	auto again = Rewriter::create(p);
	// the move would land after code that falls through
	EXPECT_FALSE(again->move_run(1, 1, 3));
	// the entry stays first; a run must be in one piece
	EXPECT_FALSE(again->move_run(1, 2, 0));
	ASSERT_TRUE(again->replace(2, {}));
	EXPECT_FALSE(again->move_run(1, 1, 4)); // after a deletion
	// the end of a moved run jumps back: inverting it would lose that
	auto nested = Rewriter::create(
	        std::vector<Insn>{jeq(1, 1, 2), mov(0, 1), jeq(2, 2, 0), mov(0, 2), exit_insn()});
	ASSERT_TRUE(nested->invert_jump(0, 1));
	ASSERT_TRUE(nested->move_run(1, 2, 5)); // [1, 3) ends with jump 2, falling into 3
	EXPECT_FALSE(nested->invert_jump(2, 3));
	// JSET has no inverse
	auto jset = Rewriter::create(std::vector<Insn>{
	        {BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1, 1}, mov(0, 1), exit_insn()});
	EXPECT_FALSE(jset->invert_jump(0, 1));
}

TEST(Layout, InsertBeforeIsReachedByJumps) {
	// 0: if r1 == 1 goto 2; 1: r0 = 1; 2: exit  + "r0 = 7" before 2
	std::vector<Insn> p{jeq(1, 1, 1), mov(0, 1), exit_insn()};
	auto rw = Rewriter::create(p);
	ASSERT_TRUE(rw->insert_before(2, {mov(0, 7)}));
	auto out = rw->finish();
	ASSERT_TRUE(out);
	const std::vector<Insn> want{jeq(1, 1, 1), mov(0, 1), mov(0, 7), exit_insn()};
	EXPECT_EQ(out->insns, want);
}

} // namespace
