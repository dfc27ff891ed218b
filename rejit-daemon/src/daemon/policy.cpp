// SPDX-License-Identifier: GPL-2.0
#include "daemon/policy.hpp"

#include <cmath>

#include <fmt/format.h>

namespace rejit {

std::string_view to_string(State s) {
	switch (s) {
	case State::Watching:
		return "watching";
	case State::Profiling:
		return "profiling";
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

void Tally::add(const Tally &interval) {
	runs += interval.runs;
	ns += interval.ns;
	if (interval.runs)
		samples.push_back(interval.ns_per_run());
}

double Tally::std_error() const {
	const size_t n = samples.size();
	if (n < 2)
		return 0;
	double mean = 0, var = 0;
	for (double x : samples)
		mean += x / double(n);
	for (double x : samples)
		var += (x - mean) * (x - mean) / double(n - 1);
	return std::sqrt(var / double(n));
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
	const Tally d{run_cnt - r.last_runs, run_time_ns - r.last_ns, {}};
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
		r.before.add(d);
		if (++r.intervals < cfg_.measure_intervals)
			return Action::None;
		r.why = fmt::format("hot: {} runs in {} intervals, {:.0f} ns/run", r.before.runs,
		                    r.intervals, r.before.ns_per_run());
		return cfg_.profile_intervals ? Action::Profile : Action::Optimize;
	case State::Profiling: {
		// Bounded: an idle program does not stay instrumented for ever.
		const bool closed = ++r.ticks >= kProfileTicks * cfg_.profile_intervals;
		if (d.runs == 0 && !closed)
			return Action::None;
		r.profiling.add(d);
		if (d.runs && ++r.intervals < cfg_.profile_intervals && !closed)
			return Action::None;
		r.why = fmt::format("profiled: {} runs in {} intervals, {:.0f} ns/run instrumented "
		                    "vs {:.0f} ({:.2f}x)",
		                    r.profiling.runs, r.intervals, r.profiling.ns_per_run(),
		                    r.before.ns_per_run(), r.overhead());
		if (closed && r.intervals < cfg_.profile_intervals)
			r.why += fmt::format(" (window closed after {} intervals)", r.ticks);
		return Action::Optimize;
	}
	case State::Measuring: {
		if (d.runs == 0)
			return Action::None; // idle intervals say nothing about speed
		r.after.add(d);
		if (++r.intervals < cfg_.measure_intervals || r.after.runs < cfg_.min_runs)
			return Action::None;
		if (!r.before.runs) {
			r.state = State::Optimized;
			r.why = fmt::format(
			        "kept: {:.0f} ns/run, no baseline (optimized on request)",
			        r.after.ns_per_run());
			return Action::None;
		}
		const double limit = r.before.ns_per_run() * (1 + cfg_.regression_tolerance);
		// Slower only beyond what the intervals themselves scatter by.
		const double noise =
		        cfg_.noise_sigmas * std::hypot(r.before.std_error(), r.after.std_error());
		const std::string numbers =
		        fmt::format("{:.0f} ns/run after vs {:.0f} before ({:.2f}x)",
		                    r.after.ns_per_run(), r.before.ns_per_run(), r.speedup());
		if (r.after.ns_per_run() > limit + noise) {
			r.why = fmt::format("slower: {}, beyond the {:.0f}% tolerance and the "
			                    "noise ({:.0f} ns: {} sigma of {} + {} interval means)",
			                    numbers, cfg_.regression_tolerance * 100, noise,
			                    cfg_.noise_sigmas, r.before.samples.size(),
			                    r.after.samples.size());
			return Action::Rollback;
		}
		r.state = State::Optimized;
		r.why = r.after.ns_per_run() > limit
		                ? fmt::format("kept: {}: slower than the {:.0f}% tolerance but "
		                              "within the noise ({:.0f} ns)",
		                              numbers, cfg_.regression_tolerance * 100, noise)
		                : "kept: " + numbers;
		return Action::None;
	}
	default:
		return Action::None;
	}
}

void TailCalls::link(const std::map<uint32_t, uint64_t> &runs) {
	via.clear();
	auto runs_of = [&](uint32_t id) {
		auto it = runs.find(id);
		return it == runs.end() ? 0 : it->second;
	};
	for (const auto &[caller, ts] : targets)
		for (uint32_t t : ts)
			if (!via.contains(t) || runs_of(via[t]) < runs_of(caller))
				via[t] = caller;
}

bool TailCalls::busy(uint32_t id, const std::function<bool(uint32_t)> &in_flight) const {
	if (auto it = via.find(id); it != via.end() && in_flight(it->second))
		return true;
	if (auto it = targets.find(id); it != targets.end())
		for (uint32_t t : it->second)
			if (auto v = via.find(t); v != via.end() && v->second == id && in_flight(t))
				return true;
	return false;
}

} // namespace rejit
