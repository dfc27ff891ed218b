// SPDX-License-Identifier: GPL-2.0
// bpfrejitd configuration: a JSON file, validated in full at start (unknown
// keys and wrong types are errors that name the key). See
// rejit-daemon/bpfrejitd.json for the documented defaults.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rejit/live.hpp"
#include "rejit/result.hpp"

namespace rejit {

// Matches programs by name, type name ("xdp", "kprobe", ...), id or tag.
struct Selector {
	std::vector<std::string> names, types, tags;
	std::vector<uint32_t> ids;

	[[nodiscard]] bool empty() const;
	[[nodiscard]] bool matches(const ProgInfo &p) const;
};

struct Config {
	unsigned interval_ms = 1000;        // sampling interval
	uint64_t min_runs = 1000;           // runs per interval that make a program hot
	unsigned measure_intervals = 3;     // hot intervals measured before and after
	unsigned profile_intervals = 2;     // instrumented intervals; 0: no edge profile
	double regression_tolerance = 0.05; // slower than this fraction = roll back
	double noise_sigmas = 2;            // ... and by this many standard errors
	unsigned max_rejits_per_minute = 30;
	std::string passes = "all";
	bool shadow_check = true;    // compare rewritten and original code before a re-JIT
	unsigned shadow_inputs = 64; // packets the shadow check runs
	bool rollback_on_exit = false;
	std::string socket = "/run/bpfrejitd/bpfrejitd.sock";
	unsigned socket_mode = 0660;
	Selector allow; // empty: every program
	Selector deny;

	static Result<Config> parse(std::string_view json);
	static Result<Config> load(const std::string &path);
	// Is the daemon allowed to touch this program?
	[[nodiscard]] bool wants(const ProgInfo &p) const;
};

} // namespace rejit
