// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "daemon/policy.hpp"

namespace {

using namespace rejit;

struct PolicyTest : testing::Test {
	Config cfg;
	Record r;
	uint64_t runs = 0, ns = 0;

	PolicyTest() {
		cfg.min_runs = 100;
		cfg.measure_intervals = 2;
		cfg.regression_tolerance = 0.1;
	}
	// One interval with `n` runs at `per` ns each.
	Action interval(uint64_t n, uint64_t per) {
		runs += n;
		ns += n * per;
		return Policy(cfg).observe(r, runs, ns);
	}
};

TEST_F(PolicyTest, OptimizesAfterConsecutiveHotIntervals) {
	EXPECT_EQ(interval(0, 0), Action::None); // first sample: baseline only
	EXPECT_EQ(interval(500, 100), Action::None);
	EXPECT_EQ(interval(50, 100), Action::None); // cold interval resets
	EXPECT_EQ(interval(500, 100), Action::None);
	EXPECT_EQ(interval(500, 100), Action::Profile); // edge profile first
	EXPECT_EQ(r.before.runs, 1000u);
	EXPECT_DOUBLE_EQ(r.before.ns_per_run(), 100);
}

TEST_F(PolicyTest, WithoutProfilingOptimizesDirectly) {
	cfg.profile_intervals = 0;
	interval(0, 0);
	EXPECT_EQ(interval(500, 100), Action::None);
	EXPECT_EQ(interval(500, 100), Action::Optimize);
}

TEST_F(PolicyTest, ProfilesForItsIntervalsThenOptimizes) {
	cfg.profile_intervals = 3;
	interval(0, 0);
	interval(500, 100);
	ASSERT_EQ(interval(500, 100), Action::Profile);
	r.state = State::Profiling; // as the daemon does once instrumented
	r.intervals = 0;
	r.sampled = false;
	EXPECT_EQ(interval(0, 0), Action::None); // first sample of the new code
	EXPECT_EQ(interval(400, 150), Action::None);
	EXPECT_EQ(interval(0, 0), Action::None); // idle: not counted
	EXPECT_EQ(interval(400, 150), Action::None);
	EXPECT_EQ(interval(200, 150), Action::Optimize);
	EXPECT_EQ(r.profiling.runs, 1000u);
	EXPECT_DOUBLE_EQ(r.overhead(), 1.5);
	EXPECT_NE(r.why.find("profiled: 1000 runs in 3 intervals"), std::string::npos) << r.why;
	EXPECT_EQ(r.before.runs, 1000u); // the baseline stays the original code's
}

TEST_F(PolicyTest, KeepsFasterCodeAndRollsBackSlower) {
	for (int i = 0; i < 3; i++)
		interval(500, 100);
	r.state = State::Measuring;
	r.intervals = 0;
	const Record slower = r;
	const uint64_t slower_runs = runs, slower_ns = ns;
	EXPECT_EQ(interval(500, 60), Action::None);
	EXPECT_EQ(interval(0, 0), Action::None); // idle intervals are not measured
	EXPECT_EQ(interval(500, 60), Action::None);
	EXPECT_EQ(r.state, State::Optimized);
	EXPECT_NEAR(r.speedup(), 100.0 / 60, 1e-9);
	// once optimized, never again on its own
	EXPECT_EQ(interval(500, 500), Action::None);
	EXPECT_EQ(r.state, State::Optimized);

	r = slower;
	runs = slower_runs;
	ns = slower_ns;
	EXPECT_EQ(interval(500, 120), Action::None);
	EXPECT_EQ(interval(500, 120), Action::Rollback);
	EXPECT_NE(r.why.find("slower"), std::string::npos);
}

TEST_F(PolicyTest, WithinToleranceIsKept) {
	interval(0, 0);
	r.state = State::Measuring;
	r.before = {1000, 100'000, {}};
	interval(500, 105);
	EXPECT_EQ(interval(500, 105), Action::None);
	EXPECT_EQ(r.state, State::Optimized);
}

TEST_F(PolicyTest, IdleProfileWindowCloses) {
	cfg.profile_intervals = 2;
	interval(0, 0);
	interval(500, 100);
	ASSERT_EQ(interval(500, 100), Action::Profile);
	r.state = State::Profiling;
	r.intervals = 0;
	r.sampled = false;
	interval(0, 0);
	EXPECT_EQ(interval(300, 100), Action::None); // one interval with runs
	for (unsigned i = 2; i < kProfileTicks * 2; i++)
		ASSERT_EQ(interval(0, 0), Action::None) << i;
	EXPECT_EQ(interval(0, 0), Action::Optimize);
	EXPECT_NE(r.why.find("window closed after 20 intervals"), std::string::npos) << r.why;
}

// Measures before (on the original) and after with `per` ns per run in
// successive intervals of 500 runs; the verdict.
struct Verdict {
	Action action;
	std::string why;
};
Verdict judge(const Config &cfg, std::initializer_list<uint64_t> before,
              std::initializer_list<uint64_t> after) {
	Record r;
	uint64_t runs = 0, ns = 0;
	Policy p(cfg);
	p.observe(r, 0, 0);
	for (uint64_t per : before) {
		runs += 500;
		ns += 500 * per;
		p.observe(r, runs, ns);
	}
	r.state = State::Measuring;
	r.intervals = 0;
	Action a = Action::None;
	for (uint64_t per : after) {
		runs += 500;
		ns += 500 * per;
		a = p.observe(r, runs, ns);
	}
	return {a, r.why};
}

TEST_F(PolicyTest, SlowerWithinNoiseIsKept) {
	cfg.measure_intervals = 4;
	cfg.profile_intervals = 0;
	// 25% slower on average, but the intervals scatter by more than that
	auto v = judge(cfg, {100, 140, 60, 100}, {130, 90, 170, 110});
	EXPECT_EQ(v.action, Action::None) << v.why;
	EXPECT_NE(v.why.find("within the noise"), std::string::npos) << v.why;
	// the same 25% measured steadily is a regression
	v = judge(cfg, {100, 101, 99, 100}, {125, 126, 124, 125});
	EXPECT_EQ(v.action, Action::Rollback) << v.why;
	EXPECT_NE(v.why.find("beyond the 10% tolerance and the noise"), std::string::npos) << v.why;
	// noise_sigmas 0: the tolerance alone decides
	cfg.noise_sigmas = 0;
	v = judge(cfg, {100, 140, 60, 100}, {130, 90, 170, 110});
	EXPECT_EQ(v.action, Action::Rollback) << v.why;
}

TEST(Tally, StandardError) {
	Tally t;
	t.add({10, 1000, {}});
	EXPECT_EQ(t.std_error(), 0); // one sample says nothing about spread
	t.add({10, 3000, {}});
	t.add({0, 0, {}}); // idle interval: no sample
	EXPECT_EQ(t.samples.size(), 2u);
	EXPECT_DOUBLE_EQ(t.ns_per_run(), 200);
	EXPECT_DOUBLE_EQ(t.std_error(), 100); // sd 141.4 / sqrt(2)
}

TEST_F(PolicyTest, CounterResetRestartsSampling) {
	interval(1000, 10);
	runs = 0;
	ns = 0;
	EXPECT_EQ(interval(500, 100), Action::None);
	EXPECT_EQ(r.intervals, 0u);
}

TEST(Budget, SlidingMinute) {
	Budget b(2);
	EXPECT_TRUE(b.take(0));
	EXPECT_TRUE(b.take(10));
	EXPECT_FALSE(b.take(59'999));
	EXPECT_TRUE(b.take(60'000));
}

// A dispatcher (1) and a second caller (2) both hold program 10 in their
// prog_arrays; 1 also holds 11. The busier caller stands in for each.
TEST(TailCalls, StandInIsTheBusiestCaller) {
	TailCalls t;
	t.targets = {{1, {10, 11}}, {2, {10}}};
	t.link({{1, 500}, {2, 900}});
	EXPECT_EQ(t.via, (std::map<uint32_t, uint32_t>{{10, 2}, {11, 1}}));
	t.link({{1, 5000}, {2, 900}});
	EXPECT_EQ(t.via.at(10), 1u);
	t.targets.clear();
	t.link({{1, 5000}});
	EXPECT_TRUE(t.via.empty());
}

TEST(TailCalls, OneRejitAtATimeInAChain) {
	TailCalls t;
	t.targets = {{1, {10, 11}}, {2, {10}}};
	t.link({{1, 500}, {2, 900}}); // 10 via 2, 11 via 1
	auto only = [](uint32_t busy) { return [busy](uint32_t id) { return id == busy; }; };
	EXPECT_TRUE(t.busy(10, only(2)));  // its stand-in is being re-JITed
	EXPECT_FALSE(t.busy(10, only(1))); // 1 calls it, but 2's numbers measure it
	EXPECT_TRUE(t.busy(1, only(11)));  // 1 stands in for 11, which is measured
	EXPECT_FALSE(t.busy(1, only(10))); // 10 is measured through 2, not 1
	EXPECT_TRUE(t.busy(2, only(10)));
	EXPECT_FALSE(t.busy(3, only(10))); // not in the chain
}

} // namespace
