// SPDX-License-Identifier: GPL-2.0
// The daemon's work, independent of how it is driven: one tick samples every
// live program and acts on the policy's decisions; requests from the socket
// API are answered by handle().
#pragma once

#include <map>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/policy.hpp"
#include "rejit/live.hpp"
#include "rejit/pass.hpp"

namespace rejit {

class Daemon {
public:
	explicit Daemon(Config cfg);

	// Sample all programs, adopt new ones, forget unloaded ones, act.
	void tick(uint64_t now_ms);
	// Answer one API request (see README for the protocol).
	nlohmann::json handle(const nlohmann::json &req, uint64_t now_ms);
	// Leave every program consistent; with rollback_on_exit, original code.
	void shutdown();

	[[nodiscard]] const Config &config() const { return cfg_; }
	// Look again which kinsns the kernel has (modules come and go); logs
	// a change. Cheap: a few sysfs files and BTF ids.
	void discover_kinsns();
	[[nodiscard]] const Kinsns &kinsns() const { return kinsns_; }

private:
	void adopt(uint32_t id);
	bool take_budget(Record &r, uint64_t now_ms);
	void profile(Record &r, uint64_t now_ms);
	// budgeted: the re-JIT budget was already taken for this program
	void optimize(Record &r, uint64_t now_ms, bool budgeted = false);
	void rollback(Record &r, std::string why);
	void decide(Record &r, State s, std::string why);
	static nlohmann::json to_json(const Record &r);

	Config cfg_;
	Policy policy_;
	Budget budget_;
	std::map<uint32_t, Record> progs_;
	Kinsns kinsns_;
	std::string kinsns_seen_; // describe() at the last discovery
	unsigned rejits_ = 0, rollbacks_ = 0, rejected_ = 0;
};

} // namespace rejit
