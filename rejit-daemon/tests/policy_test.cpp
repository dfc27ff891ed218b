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
	EXPECT_EQ(interval(500, 100), Action::Optimize);
	EXPECT_EQ(r.before.runs, 1000u);
	EXPECT_DOUBLE_EQ(r.before.ns_per_run(), 100);
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
	r.before = {1000, 100'000};
	interval(500, 105);
	EXPECT_EQ(interval(500, 105), Action::None);
	EXPECT_EQ(r.state, State::Optimized);
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

} // namespace
