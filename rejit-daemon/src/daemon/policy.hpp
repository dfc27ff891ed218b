// SPDX-License-Identifier: GPL-2.0
// What bpfrejitd does with each program, as a pure state machine fed with
// run-time statistics, so that it is unit-tested on the host.
//
//   watching --hot for measure_intervals--> (optimize) --> measuring
//   measuring --measure_intervals with runs--> optimized | rolled-back
//   (optimize) --no site--> unchanged;  --verifier said no--> rejected
//
// unchanged, rejected, rolled-back and optimized are final: a program is
// never re-JITed in a loop. Only an explicit request (API) starts again.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "daemon/config.hpp"

namespace rejit {

enum class State { Watching, Measuring, Optimized, RolledBack, Unchanged, Rejected, Excluded };
std::string_view to_string(State s);

// Runs and run time accumulated over some intervals.
struct Tally {
	uint64_t runs = 0;
	uint64_t ns = 0;
	[[nodiscard]] double ns_per_run() const { return runs ? double(ns) / double(runs) : 0; }
};

struct Record {
	ProgInfo info;
	State state = State::Watching;
	std::string why; // the last decision, with its numbers
	uint64_t last_runs = 0, last_ns = 0;
	bool sampled = false;   // last_* hold a sample
	unsigned intervals = 0; // hot intervals in `before` / `after`
	Tally before, after;
	// what the optimisation did
	std::string passes;
	size_t sites = 0;
	uint32_t insns_before = 0, insns_after = 0;
	uint32_t jited_before = 0, jited_after = 0;
	std::string explain;

	[[nodiscard]] double speedup() const {
		return after.runs && before.runs ? before.ns_per_run() / after.ns_per_run() : 0;
	}
};

enum class Action { None, Optimize, Rollback };

// Re-JITs allowed per minute (sliding window).
class Budget {
public:
	explicit Budget(unsigned per_minute) : per_minute_(per_minute) {}
	bool take(uint64_t now_ms);

private:
	unsigned per_minute_;
	std::deque<uint64_t> used_;
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
