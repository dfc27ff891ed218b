// SPDX-License-Identifier: GPL-2.0
// What bpfrejitd does with each program, as a pure state machine fed with
// run-time statistics, so that it is unit-tested on the host.
//
//   watching --hot for measure_intervals--> (profile) --> profiling
//   profiling --profile_intervals with runs--> (optimize) --> measuring
//   measuring --measure_intervals with runs--> optimized | rolled-back
//   (optimize) --no site--> unchanged;  --verifier said no--> rejected
//   (optimize) --shadow check: behaves differently--> rejected
//
// Profiling runs instrumented code (edge counters, profile.hpp); with
// profile_intervals 0, or where instrumenting is not possible, a hot
// program is optimized directly. unchanged, rejected, rolled-back and
// optimized are final: a program is never re-JITed in a loop. Only an
// explicit request (API) starts again.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.hpp"
#include "rejit/fd.hpp"
#include "rejit/profile.hpp"

namespace rejit {

enum class State {
	Watching,
	Profiling,
	Measuring,
	Optimized,
	RolledBack,
	Unchanged,
	Rejected,
	Excluded
};
std::string_view to_string(State s);

// Runs and run time accumulated over some intervals, and the run time per
// call of each interval: how much it varies is the noise a verdict must
// rise above.
struct Tally {
	uint64_t runs = 0;
	uint64_t ns = 0;
	std::vector<double> samples; // ns/run of each interval with runs

	void add(const Tally &interval);
	[[nodiscard]] double ns_per_run() const { return runs ? double(ns) / double(runs) : 0; }
	// Standard error of the mean of the samples; 0 with fewer than two.
	[[nodiscard]] double std_error() const;
};

// The instrumented tier's window: the counters and what they mean.
struct EdgeWindow {
	Fd map;
	Probes probes;
};

struct Record {
	ProgInfo info;
	State state = State::Watching;
	std::string why; // the last decision, with its numbers
	uint64_t last_runs = 0, last_ns = 0;
	bool sampled = false;   // last_* hold a sample
	unsigned intervals = 0; // hot intervals in `before` / `after`
	Tally before, after;
	Tally profiling;                    // runs on the instrumented code
	std::shared_ptr<EdgeWindow> window; // while profiling
	size_t branches = 0;                // jumps the profile counted
	unsigned ticks = 0;                 // samples while profiling, with runs or not
	uint32_t via = 0; // reached by tail calls only: the caller whose run stats stand in
	// what the optimisation did
	std::string passes;
	size_t sites = 0;
	uint32_t insns_before = 0, insns_after = 0;
	uint32_t jited_before = 0, jited_after = 0;
	std::string explain;
	std::string shadow; // verdict of the last shadow check ("" before any)

	// Instrumented run time per call relative to the original's, 0 if none.
	[[nodiscard]] double overhead() const {
		return profiling.runs && before.runs ? profiling.ns_per_run() / before.ns_per_run()
		                                     : 0;
	}
	[[nodiscard]] double speedup() const {
		return after.runs && before.runs ? before.ns_per_run() / after.ns_per_run() : 0;
	}
};

enum class Action { None, Profile, Optimize, Rollback };

// A profile window ends after this many times profile_intervals samples,
// with traffic or not.
inline constexpr unsigned kProfileTicks = 10;

// Re-JITs allowed per minute (sliding window).
class Budget {
public:
	explicit Budget(unsigned per_minute) : per_minute_(per_minute) {}
	bool take(uint64_t now_ms);

private:
	unsigned per_minute_;
	std::deque<uint64_t> used_;
};

// Tail calls carry no run statistics: a program reached only through
// prog_arrays is hot, and measured, through the caller with the most runs
// (whose run time includes it).
struct TailCalls {
	std::map<uint32_t, std::vector<uint32_t>> targets; // caller -> its prog_arrays' programs
	std::map<uint32_t, uint32_t> via;                  // target -> its stand-in caller

	// Fill `via` from `targets` and each caller's run count.
	void link(const std::map<uint32_t, uint64_t> &runs);
	// Is the stand-in of `id`, or a target `id` stands in for, in flight?
	// One re-JIT at a time in a chain: each would blur the other's numbers.
	[[nodiscard]] bool busy(uint32_t id, const std::function<bool(uint32_t)> &in_flight) const;
};

class Policy {
public:
	explicit Policy(const Config &cfg) : cfg_(cfg) {}

	// A new sample of the program's cumulative run_cnt / run_time_ns.
	Action observe(Record &r, uint64_t run_cnt, uint64_t run_time_ns) const;

private:
	const Config &cfg_;
};

} // namespace rejit
