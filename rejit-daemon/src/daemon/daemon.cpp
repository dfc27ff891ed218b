// SPDX-License-Identifier: GPL-2.0
#include "daemon/daemon.hpp"

#include <fmt/format.h>

#include "rejit/live.hpp"
#include "rejit/shadow.hpp"

namespace rejit {
namespace {

using json = nlohmann::json;

void log(const std::string &line) {
	fmt::print(stderr, "{}\n", line);
}

json error(std::string msg) {
	return {{"ok", false}, {"error", std::move(msg)}};
}

} // namespace

Daemon::Daemon(Config cfg)
    : cfg_(std::move(cfg)), policy_(cfg_), budget_(cfg_.max_rejits_per_minute) {}

void Daemon::discover_kinsns() {
	auto k = Kinsns::discover();
	if (!k) {
		log("kinsns: " + k.error().str());
		return; // keep what we had
	}
	kinsns_ = std::move(k).value();
	if (std::string seen = kinsns_.describe(); seen != kinsns_seen_) {
		log(fmt::format("kinsns: {}{}", seen,
		                kinsns_.empty() ? " (passes needing them are off)" : ""));
		kinsns_seen_ = std::move(seen);
	}
}

void Daemon::decide(Record &r, State s, std::string why) {
	r.state = s;
	r.why = std::move(why);
	log(fmt::format("prog {} {} ({}): {}: {}", r.info.id, r.info.name, r.info.type_name,
	                to_string(s), r.why));
}

void Daemon::adopt(uint32_t id) {
	auto p = LiveProg::open(id);
	auto info = p ? p->info() : Result<ProgInfo>(p.error());
	if (!info)
		return; // unloaded meanwhile
	Record &r = progs_[id];
	r.info = *info;
	if (!cfg_.wants(r.info))
		decide(r, State::Excluded, "excluded by configuration");
	else if (!r.info.orig_insns)
		decide(r, State::Excluded, "no original bytecode kept for it");
	else if (auto edges = p->has_edge_counters(); edges && *edges) {
		// A daemon that died while profiling it: counting is not our
		// business any more, the original code is.
		auto orig = p->orig();
		auto res = orig ? p->rejit(*orig) : Result<void>(orig.error());
		if (res)
			decide(r, State::Watching,
			       "left instrumented by an earlier daemon; original code restored");
		else
			decide(r, State::Excluded,
			       "left instrumented by an earlier daemon; restoring failed: " +
			               res.error().str());
	} else if (r.info.rejit_cnt)
		decide(r, State::Optimized,
		       fmt::format("already re-JITed {} times before this daemon looked; "
		                   "left as is",
		                   r.info.rejit_cnt));
	else
		decide(r, State::Watching, fmt::format("new, {} insns", r.info.orig_insns));
}

void Daemon::tick(uint64_t now_ms) {
	auto ids = live_prog_ids();
	if (!ids) {
		log("listing programs: " + ids.error().str());
		return;
	}
	std::map<uint32_t, bool> live;
	for (uint32_t id : *ids) {
		live[id] = true;
		if (!progs_.contains(id))
			adopt(id);
	}
	for (auto it = progs_.begin(); it != progs_.end();) {
		if (live.contains(it->first)) {
			++it;
			continue;
		}
		log(fmt::format("prog {} {}: unloaded", it->first, it->second.info.name));
		it = progs_.erase(it);
	}
	// Every live program's statistics, and who tail-calls whom.
	std::map<uint32_t, ProgInfo> infos;
	std::map<uint32_t, uint64_t> runs;
	TailCalls tail;
	for (auto &[id, r] : progs_) {
		auto p = LiveProg::open(id);
		auto info = p ? p->info() : Result<ProgInfo>(p.error());
		if (!info)
			continue; // unloaded; forgotten next tick
		if (info->run_cnt)
			if (auto t = p->tail_call_targets())
				tail.targets[id] = std::move(t).value();
		runs[id] = info->run_cnt;
		infos[id] = std::move(info).value();
	}
	tail.link(runs);
	auto in_flight = [&](uint32_t other) {
		auto it = progs_.find(other);
		return it != progs_.end() && (it->second.state == State::Profiling ||
		                              it->second.state == State::Measuring);
	};
	for (auto &[id, r] : progs_) {
		if (r.state == State::Excluded || !infos.contains(id))
			continue;
		const ProgInfo *stats = &infos[id];
		auto v = tail.via.find(id);
		const uint32_t via = !stats->run_cnt && v != tail.via.end() ? v->second : 0;
		if (r.via != via) {
			r.via = via;
			r.sampled = false; // other counters: sample afresh
			if (via)
				log(fmt::format(
				        "prog {} {}: reached by tail calls from prog {} {}; "
				        "measured through its run statistics",
				        id, r.info.name, via, infos[via].name));
		}
		if (via)
			stats = &infos[via];
		if (tail.busy(id, in_flight))
			continue;
		const State was = r.state;
		switch (policy_.observe(r, stats->run_cnt, stats->run_time_ns)) {
		case Action::Profile:
			profile(r, now_ms);
			break;
		case Action::Optimize:
			optimize(r, now_ms);
			break;
		case Action::Rollback:
			rollback(r, r.why);
			break;
		case Action::None:
			if (r.state != was)
				decide(r, r.state, r.why);
			break;
		}
	}
}

// A re-JIT from the budget; without one, the program is measured again
// from scratch and tried later.
bool Daemon::take_budget(Record &r, uint64_t now_ms) {
	if (budget_.take(now_ms))
		return true;
	r.intervals = 0;
	r.before = {};
	log(fmt::format("prog {} {}: re-JIT budget of {}/min used up, later", r.info.id,
	                r.info.name, cfg_.max_rejits_per_minute));
	return false;
}

void Daemon::profile(Record &r, uint64_t now_ms) {
	auto p = LiveProg::open(r.info.id);
	if (!p)
		return log(p.error().str());
	if (auto info = p->info())
		r.jited_before = info->jited_bytes;
	auto orig = p->orig();
	auto idx = orig ? p->spare_map_index() : Result<uint32_t>(orig.error());
	auto ins = idx ? instrument(*orig, *idx) : Result<Instrumented>(idx.error());
	auto map = ins ? create_edge_map(ins->probes.counters) : Result<Fd>(ins.error());
	if (!map) {
		r.why += "; no edge profile (" + map.error().str() + ")";
		return optimize(r, now_ms);
	}
	if (!take_budget(r, now_ms))
		return;
	if (auto res = p->rejit(ins->prog, nullptr, map->get()); !res) {
		r.why += "; instrumented code refused, no edge profile (" + res.error().str() + ")";
		return optimize(r, now_ms, /*budgeted=*/true);
	}
	rejits_++;
	r.window = std::make_shared<EdgeWindow>(
	        EdgeWindow{std::move(map).value(), std::move(ins->probes)});
	r.intervals = 0;
	r.ticks = 0;
	r.profiling = {};
	r.sampled = false; // the next sample starts the window
	decide(r, State::Profiling,
	       fmt::format("{}; instrumented: {} counters for {} of {} branches, insns {} -> "
	                   "{}",
	                   r.why, r.window->probes.counters, r.window->probes.branches.size(),
	                   r.window->probes.branches.size() + r.window->probes.unprofiled.size(),
	                   slot_count(orig->insns), slot_count(ins->prog.insns)));
}

void Daemon::optimize(Record &r, uint64_t now_ms, bool budgeted) {
	auto p = LiveProg::open(r.info.id);
	if (!p)
		return log(p.error().str());
	discover_kinsns();
	auto before = p->info();
	auto orig = p->orig();
	auto env = p->pass_env(&kinsns_);
	// Instrumented code never stays: whatever happens next, the program
	// runs either optimized or original code.
	const std::shared_ptr<EdgeWindow> window = std::move(r.window);
	auto decide_orig = [&](State s, std::string why) {
		if (window && orig) {
			if (auto res = p->rejit(*orig); !res)
				why += "; restoring the original code failed: " + res.error().str();
			else
				why += "; original code restored";
		}
		decide(r, s, std::move(why));
	};
	if (!before)
		return decide_orig(State::Rejected, before.error().str());
	if (!orig)
		return decide_orig(State::Rejected, orig.error().str());
	if (!env)
		return decide_orig(State::Rejected, env.error().str());
	if (window) {
		auto counts = read_edge_map(window->map.get(), window->probes.counters);
		if (!counts)
			return decide_orig(State::Rejected, counts.error().str());
		env->profile = edge_profile(window->probes, *counts);
		r.branches = env->profile.branches.size();
	}
	auto passes = passes_by_name(cfg_.passes, &*env);
	if (!passes) // validated at start; cannot happen
		return decide_orig(State::Rejected, passes.error().str());
	Optimized o = run_passes(*orig, *passes, *env);
	r.shadow.clear(); // nothing checked yet for this code
	r.explain = explain(o);
	r.sites = o.changed();
	r.passes.clear();
	for (const PassReport &rep : o.reports)
		if (rep.changed())
			r.passes += (r.passes.empty() ? "" : ",") + rep.pass;
	r.insns_before = uint32_t(slot_count(orig->insns));
	r.insns_after = uint32_t(slot_count(o.prog.insns));
	if (!window)
		r.jited_before = before->jited_bytes; // else that is the instrumented code's
	if (!r.sites)
		return decide_orig(State::Unchanged, fmt::format("{} ({}); no pass found a site",
		                                                 r.why, cfg_.passes));
	r.shadow = "off";
	if (cfg_.shadow_check) {
		auto v = shadow_check(*p, *orig, o.prog, &kinsns_, {cfg_.shadow_inputs, 1});
		r.shadow = v ? v->str() : "not checked: " + v.error().str();
		if (v && v->kind == ShadowVerdict::Different) {
			rejected_++;
			return decide_orig(
			        State::Rejected,
			        fmt::format("{}; shadow check: rewritten code ({}) behaves "
			                    "differently, not submitted: {}",
			                    r.why, r.passes, v->why));
		}
	}
	if (!budgeted && !window && !take_budget(r, now_ms))
		return;
	if (auto res = p->rejit(o.prog, &kinsns_); !res) {
		rejected_++;
		return decide_orig(State::Rejected, res.error().str());
	}
	rejits_++;
	auto after = p->info();
	r.jited_after = after ? after->jited_bytes : 0;
	r.intervals = 0;
	r.after = {};
	r.sampled = false; // the next sample starts the measurement on new code
	decide(r, State::Measuring,
	       fmt::format("{}; shadow check {}; re-JITed with {} ({} sites), insns {} -> {}, "
	                   "jited {} -> {} bytes",
	                   r.why, r.shadow, r.passes, r.sites, r.insns_before, r.insns_after,
	                   r.jited_before, r.jited_after));
}

void Daemon::rollback(Record &r, std::string why) {
	auto p = LiveProg::open(r.info.id);
	auto orig = p ? p->orig() : Result<Program>(p.error());
	Result<void> res = orig ? p->rejit(*orig) : Result<void>(orig.error());
	if (!res)
		return log(fmt::format("prog {} {}: rollback failed, stays on the new code: {}",
		                       r.info.id, r.info.name, res.error().str()));
	rollbacks_++;
	r.window.reset();
	auto info = p->info();
	r.jited_after = info ? info->jited_bytes : 0;
	decide(r, State::RolledBack, why + "; original bytecode restored");
}

void Daemon::shutdown() {
	// Instrumented code never outlives the daemon that reads its counters.
	for (auto &[id, r] : progs_)
		if (r.state == State::Profiling)
			rollback(r, "daemon exiting while profiling");
	if (!cfg_.rollback_on_exit)
		return log("exiting; re-JITed programs keep their verified new code");
	for (auto &[id, r] : progs_)
		if (r.state == State::Optimized || r.state == State::Measuring)
			rollback(r, "daemon exiting with rollback_on_exit");
}

json Daemon::to_json(const Record &r) {
	return {{"id", r.info.id},
	        {"name", r.info.name},
	        {"type", r.info.type_name},
	        {"state", to_string(r.state)},
	        {"why", r.why},
	        {"runs", r.last_runs},
	        {"ns_per_run_before", r.before.ns_per_run()},
	        {"ns_per_run_after", r.after.ns_per_run()},
	        {"ns_per_run_instrumented", r.profiling.ns_per_run()},
	        {"instrumentation_overhead", r.overhead()},
	        {"profiled_branches", r.branches},
	        {"measured_via", r.via},
	        {"speedup", r.speedup()},
	        {"passes", r.passes},
	        {"sites", r.sites},
	        {"insns_before", r.insns_before},
	        {"insns_after", r.insns_after},
	        {"jited_before", r.jited_before},
	        {"jited_after", r.jited_after},
	        {"shadow", r.shadow}};
}

json Daemon::handle(const json &req, uint64_t now_ms) {
	if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
		return error("request must be a JSON object with a string \"cmd\"");
	const std::string cmd = req["cmd"];
	if (cmd == "status") {
		std::map<std::string, unsigned> states;
		for (const auto &[id, r] : progs_)
			states[std::string(to_string(r.state))]++;
		return {{"ok", true},
		        {"programs", progs_.size()},
		        {"states", states},
		        {"rejits", rejits_},
		        {"rollbacks", rollbacks_},
		        {"rejected", rejected_},
		        {"passes", cfg_.passes},
		        {"kinsns", kinsns_seen_}};
	}
	if (cmd == "list") {
		json list = json::array();
		for (const auto &[id, r] : progs_)
			list.push_back(to_json(r));
		return {{"ok", true}, {"programs", list}};
	}
	if (!req.contains("id") || !req["id"].is_number_unsigned())
		return error(fmt::format("{}: needs a program \"id\"", cmd));
	auto it = progs_.find(req["id"].get<uint32_t>());
	if (it == progs_.end())
		return error(fmt::format("{}: no program {} known to the daemon", cmd,
		                         req["id"].get<uint32_t>()));
	Record &r = it->second;
	if (cmd == "profile" || cmd == "explain") {
		json j = to_json(r);
		j["explain"] = r.explain;
		return {{"ok", true}, {"program", j}};
	}
	if (r.state == State::Excluded)
		return error(fmt::format("{}: program {} is excluded ({})", cmd, r.info.id, r.why));
	if (cmd == "optimize") {
		if (r.state == State::Measuring || r.state == State::Profiling)
			return error(
			        fmt::format("optimize: program {} is being {}", r.info.id,
			                    r.state == State::Measuring ? "measured" : "profiled"));
		r.why = "requested";
		optimize(r, now_ms);
		return {{"ok", r.state == State::Measuring || r.state == State::Unchanged},
		        {"program", to_json(r)}};
	}
	if (cmd == "rollback") {
		if (r.state != State::Optimized && r.state != State::Measuring &&
		    r.state != State::Profiling)
			return error(fmt::format("rollback: program {} runs its original code ({})",
			                         r.info.id, to_string(r.state)));
		rollback(r, "requested");
		return {{"ok", r.state == State::RolledBack}, {"program", to_json(r)}};
	}
	return error(fmt::format("unknown cmd \"{}\" (status, list, profile, explain, "
	                         "optimize, rollback)",
	                         cmd));
}

} // namespace rejit
