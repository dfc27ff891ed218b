// SPDX-License-Identifier: GPL-2.0
#include "daemon/policy.hpp"

#include <fmt/format.h>

namespace rejit {

std::string_view to_string(State s) {
	switch (s) {
	case State::Watching:
		return "watching";
	case State::Measuring:
		return "measuring";
	case State::Optimized:
		return "optimized";
	case State::RolledBack:
		return "rolled-back";
	case State::Unchanged:
		return "unchanged";
	case State::Rejected:
		return "rejected";
	case State::Excluded:
		return "excluded";
	}
	return "?";
}

bool Budget::take(uint64_t now_ms) {
	while (!used_.empty() && now_ms - used_.front() >= 60'000)
		used_.pop_front();
	if (used_.size() >= per_minute_)
		return false;
	used_.push_back(now_ms);
	return true;
}

Action Policy::observe(Record &r, uint64_t run_cnt, uint64_t run_time_ns) const {
	const bool first = !r.sampled;
	// Counters only go down if the kernel reset them (stats were off): restart.
	const bool reset = run_cnt < r.last_runs || run_time_ns < r.last_ns;
	const Tally d{run_cnt - r.last_runs, run_time_ns - r.last_ns};
	r.last_runs = run_cnt;
	r.last_ns = run_time_ns;
	r.sampled = true;
	if (first || reset)
		return Action::None;

	switch (r.state) {
	case State::Watching:
		if (d.runs < cfg_.min_runs) {
			r.intervals = 0; // must be hot for consecutive intervals
			r.before = {};
			return Action::None;
		}
		r.before.runs += d.runs;
		r.before.ns += d.ns;
		if (++r.intervals < cfg_.measure_intervals)
			return Action::None;
		r.why = fmt::format("hot: {} runs in {} intervals, {:.0f} ns/run", r.before.runs,
		                    r.intervals, r.before.ns_per_run());
		return Action::Optimize;
	case State::Measuring:
		if (d.runs == 0)
			return Action::None; // idle intervals say nothing about speed
		r.after.runs += d.runs;
		r.after.ns += d.ns;
		if (++r.intervals < cfg_.measure_intervals || r.after.runs < cfg_.min_runs)
			return Action::None;
		if (!r.before.runs) {
			r.state = State::Optimized;
			r.why = fmt::format(
			        "kept: {:.0f} ns/run, no baseline (optimized on request)",
			        r.after.ns_per_run());
			return Action::None;
		}
		if (r.after.ns_per_run() >
		    r.before.ns_per_run() * (1 + cfg_.regression_tolerance)) {
			r.why = fmt::format(
			        "slower: {:.0f} ns/run after vs {:.0f} before ({:.2f}x), "
			        "tolerance {:.0f}%",
			        r.after.ns_per_run(), r.before.ns_per_run(), r.speedup(),
			        cfg_.regression_tolerance * 100);
			return Action::Rollback;
		}
		r.state = State::Optimized;
		r.why = fmt::format("kept: {:.0f} ns/run after vs {:.0f} before ({:.2f}x)",
		                    r.after.ns_per_run(), r.before.ns_per_run(), r.speedup());
		return Action::None;
	default:
		return Action::None;
	}
}

} // namespace rejit
