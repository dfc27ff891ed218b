// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "daemon/config.hpp"

namespace {

using rejit::Config;

std::string parse_error(const char *json) {
	auto c = Config::parse(json);
	return c ? "" : c.error().msg;
}

TEST(Config, EmptyObjectGivesDefaults) {
	auto c = Config::parse("{}");
	ASSERT_TRUE(c) << c.error().msg;
	EXPECT_EQ(c->interval_ms, 1000u);
	EXPECT_EQ(c->profile_intervals, 2u);
	EXPECT_EQ(c->passes, "all");
	EXPECT_EQ(c->socket_mode, 0660u);
}

TEST(Config, ReadsEveryKey) {
	auto c = Config::parse(R"({
		// comments are allowed
		"interval_ms": 250, "min_runs": 10, "measure_intervals": 2,
		"profile_intervals": 0, "regression_tolerance": 0.1, "max_rejits_per_minute": 5,
		"passes": "wide-load", "rollback_on_exit": true,
		"socket": "/run/x.sock", "socket_mode": "0600",
		"allow": {"types": ["xdp"]}, "deny": {"names": ["secret"], "ids": [7]}})");
	ASSERT_TRUE(c) << c.error().msg;
	EXPECT_EQ(c->interval_ms, 250u);
	EXPECT_EQ(c->min_runs, 10u);
	EXPECT_EQ(c->profile_intervals, 0u);
	EXPECT_EQ(c->socket_mode, 0600u);
	EXPECT_TRUE(c->rollback_on_exit);
	rejit::ProgInfo p;
	p.id = 3;
	p.type_name = "xdp";
	p.name = "fast";
	EXPECT_TRUE(c->wants(p));
	p.name = "secret";
	EXPECT_FALSE(c->wants(p));
	p.name = "fast";
	p.id = 7;
	EXPECT_FALSE(c->wants(p));
	p.id = 3;
	p.type_name = "kprobe";
	EXPECT_FALSE(c->wants(p)); // not in allow
}

TEST(Config, ErrorsNameTheKey) {
	EXPECT_EQ(parse_error("[1]"), "config: top level must be an object");
	EXPECT_EQ(parse_error("{"), "config: not valid JSON");
	EXPECT_EQ(parse_error(R"({"intervall_ms": 5})"), "config: intervall_ms: unknown key");
	EXPECT_EQ(parse_error(R"({"min_runs": -1})"),
	          "config: min_runs: must be a non-negative integer");
	EXPECT_EQ(parse_error(R"({"passes": 3})"), "config: passes: wrong type (number)");
	EXPECT_EQ(parse_error(R"({"deny": {"name": ["x"]}})"), "config: deny.name: unknown key");
	EXPECT_EQ(parse_error(R"({"interval_ms": 1})"),
	          "config: interval_ms: must be 10 .. 3600000");
	EXPECT_EQ(parse_error(R"({"noise_sigmas": -1})"), "config: noise_sigmas: must be 0 .. 10");
	EXPECT_EQ(parse_error(R"({"profile_intervals": 1001})"),
	          "config: profile_intervals: must be 0 .. 1000");
	EXPECT_EQ(parse_error(R"({"socket": "rel.sock"})"),
	          "config: socket: must be an absolute path shorter than 108 bytes");
	EXPECT_EQ(parse_error(R"({"socket_mode": "rw"})"),
	          "config: socket_mode: must be an octal string such as \"0660\"");
	EXPECT_NE(parse_error(R"({"passes": "wide-load,nope"})").find("unknown pass 'nope'"),
	          std::string::npos);
}

TEST(Config, ShadowCheck) {
	auto c = Config::parse("{}");
	ASSERT_TRUE(c) << c.error().msg;
	EXPECT_TRUE(c->shadow_check); // on unless turned off
	EXPECT_EQ(c->shadow_inputs, 64u);
	c = Config::parse(R"({"shadow_check": false, "shadow_inputs": 1000})");
	ASSERT_TRUE(c) << c.error().msg;
	EXPECT_FALSE(c->shadow_check);
	EXPECT_EQ(c->shadow_inputs, 1000u);
	EXPECT_EQ(parse_error(R"({"shadow_check": "yes"})"),
	          "config: shadow_check: wrong type (string)");
	EXPECT_EQ(parse_error(R"({"shadow_inputs": 0})"),
	          "config: shadow_inputs: must be 1 .. 100000");
	EXPECT_EQ(parse_error(R"({"shadow_inputs": 100001})"),
	          "config: shadow_inputs: must be 1 .. 100000");
	EXPECT_EQ(parse_error(R"({"shadow_inputs": -5})"),
	          "config: shadow_inputs: must be a non-negative integer");
}

TEST(Config, MissingFileIsAnError) {
	auto c = Config::load("/nonexistent/bpfrejitd.json");
	ASSERT_FALSE(c);
	EXPECT_NE(c.error().msg.find("can't read"), std::string::npos);
}

} // namespace
