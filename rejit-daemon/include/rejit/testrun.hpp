// SPDX-License-Identifier: GPL-2.0
// Running programs on generated packets through BPF_PROG_TEST_RUN and
// reading map contents: what the shadow check (shadow.hpp) and rejit-corpus
// compare an original and a rewritten program with.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <linux/bpf.h>

#include "rejit/result.hpp"

namespace rejit {

// Program types BPF_PROG_TEST_RUN runs on a packet.
bool test_runnable(bpf_prog_type t);

// Ethernet frames: IPv4/IPv6 with TCP/UDP/ICMP and random fields, VLAN
// tags, or random bytes; what parsers branch on is set often enough. At
// least 14 bytes (skb programs need an Ethernet header).
std::vector<uint8_t> packet(std::mt19937 &rng);

struct RunResult {
	int err = 0; // errno of BPF_PROG_TEST_RUN, 0 if it ran
	uint32_t retval = 0;
	std::vector<uint8_t> out; // the packet as the program left it
	bool operator==(const RunResult &) const = default;
};

// One BPF_PROG_TEST_RUN of the program on `in`; with repeat > 1 the
// kernel runs it that many times and *duration gets its average ns per run.
RunResult test_run(int prog_fd, const std::vector<uint8_t> &in, uint32_t repeat = 1,
                   uint32_t *duration = nullptr);

// Does the program give the same result on `pkt` 32 times in a row?
bool repeatable(int prog_fd, const std::vector<uint8_t> &pkt);

// How two results differ ("retval 2 vs 1", "packet byte 14: 0x08 vs
// 0x00", ...); nullopt if they do not.
std::optional<std::string> run_difference(const RunResult &a, const RunResult &b);

// A map's entries: key bytes -> value bytes (per-CPU maps: every possible
// CPU's value, each rounded up to 8 bytes, as the syscall returns them).
using MapContents = std::map<std::vector<uint8_t>, std::vector<uint8_t>>;

// Value bytes a lookup of a map of this type and value size returns.
size_t lookup_size(uint32_t map_type, uint32_t value_size);
// Every entry of the map behind fd, read only; more than `limit` is E2BIG.
Result<MapContents> map_contents(int fd, size_t limit = 1 << 16);

// The first key at which two contents differ, as "key 04000000: value byte
// 0: 0x01 vs 0x02" or "key 0a: only in the first"; nullopt if equal.
std::optional<std::string> map_difference(const MapContents &a, const MapContents &b);

} // namespace rejit
