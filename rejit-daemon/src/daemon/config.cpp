// SPDX-License-Identifier: GPL-2.0
#include "daemon/config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rejit/pass.hpp"

namespace rejit {
namespace {

using json = nlohmann::json;

template <typename T>
bool contains(const std::vector<T> &v, const T &x) {
	return std::find(v.begin(), v.end(), x) != v.end();
}

// Reads typed values out of a JSON object and remembers the first error.
class Reader {
public:
	Reader(const json &j, std::string where) : j_(j), where_(std::move(where)) {}

	template <typename T>
	void get(const char *key, T &out) {
		seen_.push_back(key);
		if (!err_.empty() || !j_.contains(key))
			return;
		if constexpr (std::is_unsigned_v<T> && !std::is_same_v<T, bool>) {
			if (!j_.at(key).is_number_unsigned()) {
				err_ = fmt::format("{}{}: must be a non-negative integer", where_,
				                   key);
				return;
			}
		}
		try {
			out = j_.at(key).get<T>();
		} catch (const json::exception &) {
			err_ = fmt::format("{}{}: wrong type ({})", where_, key,
			                   j_.at(key).type_name());
		}
	}
	void selector(const char *key, Selector &s) {
		seen_.push_back(key);
		if (!err_.empty() || !j_.contains(key))
			return;
		if (!j_.at(key).is_object()) {
			err_ = fmt::format("{}{}: must be an object", where_, key);
			return;
		}
		Reader r(j_.at(key), fmt::format("{}{}.", where_, key));
		r.get("names", s.names);
		r.get("types", s.types);
		r.get("tags", s.tags);
		r.get("ids", s.ids);
		err_ = r.finish();
	}
	// The first error, or an unknown key.
	std::string finish() {
		if (!err_.empty())
			return err_;
		for (const auto &[k, v] : j_.items())
			if (!contains(seen_, k))
				return fmt::format("{}{}: unknown key", where_, k);
		return "";
	}

private:
	const json &j_;
	std::string where_;
	std::vector<std::string> seen_;
	std::string err_;
};

} // namespace

bool Selector::empty() const {
	return names.empty() && types.empty() && tags.empty() && ids.empty();
}

bool Selector::matches(const ProgInfo &p) const {
	return contains(names, p.name) || contains(types, p.type_name) || contains(tags, p.tag) ||
	       contains(ids, p.id);
}

bool Config::wants(const ProgInfo &p) const {
	return (allow.empty() || allow.matches(p)) && !deny.matches(p);
}

Result<Config> Config::parse(std::string_view text) {
	json j = json::parse(text, nullptr, false, true); // allow comments
	if (j.is_discarded())
		return make_error(EINVAL, "config: not valid JSON");
	if (!j.is_object())
		return make_error(EINVAL, "config: top level must be an object");
	Config c;
	Reader r(j, "config: ");
	r.get("interval_ms", c.interval_ms);
	r.get("min_runs", c.min_runs);
	r.get("measure_intervals", c.measure_intervals);
	r.get("profile_intervals", c.profile_intervals);
	r.get("regression_tolerance", c.regression_tolerance);
	r.get("noise_sigmas", c.noise_sigmas);
	r.get("max_rejits_per_minute", c.max_rejits_per_minute);
	r.get("passes", c.passes);
	r.get("shadow_check", c.shadow_check);
	r.get("shadow_inputs", c.shadow_inputs);
	r.get("rollback_on_exit", c.rollback_on_exit);
	r.get("socket", c.socket);
	std::string mode = fmt::format("{:o}", c.socket_mode);
	r.get("socket_mode", mode);
	r.selector("allow", c.allow);
	r.selector("deny", c.deny);
	if (std::string e = r.finish(); !e.empty())
		return make_error(EINVAL, e);

	auto bad = [](const std::string &what) { return make_error(EINVAL, "config: " + what); };
	if (c.interval_ms < 10 || c.interval_ms > 3'600'000)
		return bad("interval_ms: must be 10 .. 3600000");
	if (c.measure_intervals < 1 || c.measure_intervals > 1000)
		return bad("measure_intervals: must be 1 .. 1000");
	if (c.profile_intervals > 1000)
		return bad("profile_intervals: must be 0 .. 1000");
	if (!(c.regression_tolerance >= 0 && c.regression_tolerance <= 10))
		return bad("regression_tolerance: must be 0 .. 10");
	if (!(c.noise_sigmas >= 0 && c.noise_sigmas <= 10))
		return bad("noise_sigmas: must be 0 .. 10");
	if (c.shadow_inputs < 1 || c.shadow_inputs > 100'000)
		return bad("shadow_inputs: must be 1 .. 100000");
	if (c.socket.empty() || c.socket[0] != '/' || c.socket.size() >= 108)
		return bad("socket: must be an absolute path shorter than 108 bytes");
	if (auto p = passes_by_name(c.passes); !p)
		return bad("passes: " + p.error().msg);
	size_t used = 0;
	unsigned long m = 0;
	try {
		m = std::stoul(mode, &used, 8);
	} catch (const std::exception &) {
	}
	if (used != mode.size() || mode.empty() || m > 0777)
		return bad("socket_mode: must be an octal string such as \"0660\"");
	c.socket_mode = unsigned(m);
	return c;
}

Result<Config> Config::load(const std::string &path) {
	std::ifstream f(path);
	if (!f)
		return make_error(errno ? errno : ENOENT,
		                  fmt::format("config: can't read {}", path));
	std::stringstream ss;
	ss << f.rdbuf();
	auto c = parse(ss.str());
	if (!c)
		return Error{c.error().err, fmt::format("{}: {}", path, c.error().msg)};
	return c;
}

} // namespace rejit
