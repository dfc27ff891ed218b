// SPDX-License-Identifier: GPL-2.0
// `rejit-bench replay`: every dumped program checked on every tier, timed
// on the replay and host-kernel tiers, one table and micro.json.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/dump.hpp"
#include "bench/host_tier.hpp"
#include "bench/replay.hpp"

namespace rejit::bench {

struct ReportOptions {
	bool host_tier = true;
	TimingOptions timing;
	HostTierOptions host;
};

struct Row {
	std::string name;
	Kind kind = Kind::xdp;
	std::vector<std::pair<std::string, size_t>> passes;  // that changed it: sites
	size_t insns_stock = 0, insns_rejit = 0;             // xlated
	size_t jited_stock = 0, jited_rejit = 0;             // bytes
	std::optional<double> ns_stock, ns_rejit, ns_native; // replay tier
	std::optional<double> ratio, ratio_lo, ratio_hi;     // stock / re-JIT
	std::optional<double> ratio_native;                  // re-JIT / clang
	std::optional<double> ns_host_stock, ns_host_rejit;  // host-kernel tier
	std::optional<double> host_lo, host_hi;              // per-load ratio range
	bool results_agree = false;
	std::string expected_from;           // "native" or "stock kernel run"
	std::vector<std::string> mismatches; // "replay re-JIT, input 3: ..."
	std::vector<std::string> refused;    // "replay: calls bpf_map_lookup_elem"
	// In the geomeans: results agree and a replay-tier figure exists
	[[nodiscard]] bool included() const { return results_agree && ratio.has_value(); }
};

// Check and time every program of the dump ("[i/n] NAME" on stderr as it
// goes). native may be null (no native build); host_problem is
// host_bpf_problem() (or why the tier is off), empty if the host tier runs.
std::vector<Row> evaluate(const Dump &d, const NativeLib *native, const std::string &host_problem,
                          const ReportOptions &o);

// The table (header with the tiers and CPUs, rows, geomeans, mismatches
// and refusals below it).
std::string table(const Dump &d, const std::vector<Row> &rows, const std::string &host_problem);

// micro.json: one object per row with exactly the keys other tools read.
nlohmann::json rows_json(const std::vector<Row> &rows);

} // namespace rejit::bench
