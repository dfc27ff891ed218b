// SPDX-License-Identifier: GPL-2.0
#include "rejit/testrun.hpp"

#include <algorithm>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

namespace rejit {
namespace {

// Up to 16 bytes in hex, ".." if there are more.
std::string hex(const std::vector<uint8_t> &b) {
	std::string s;
	for (size_t i = 0; i < b.size() && i < 16; i++)
		s += fmt::format("{:02x}", b[i]);
	return b.size() > 16 ? s + ".." : s;
}

} // namespace

bool test_runnable(bpf_prog_type t) {
	switch (t) {
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_CGROUP_SKB:
		return true;
	default:
		return false;
	}
}

std::vector<uint8_t> packet(std::mt19937 &rng) {
	std::vector<uint8_t> p(14 + rng() % 200);
	for (auto &b : p)
		b = uint8_t(rng());
	const unsigned kind = rng() % 6;
	if (kind == 0)
		return p; // random bytes
	size_t l3 = 12;
	if (kind == 1) { // 802.1Q
		p[12] = 0x81, p[13] = 0x00;
		l3 = 16;
	}
	if (p.size() < l3 + 2 + 60)
		p.resize(l3 + 2 + 60 + rng() % 100);
	const bool v6 = rng() % 3 == 0;
	p[l3] = v6 ? 0x86 : 0x08, p[l3 + 1] = v6 ? 0xdd : 0x00;
	const size_t ip = l3 + 2;
	static constexpr uint8_t protos[] = {6, 17, 1, 58, 47};
	const uint8_t proto = protos[rng() % 5];
	if (v6) {
		p[ip] = 0x60;
		p[ip + 6] = proto;
	} else {
		p[ip] = 0x45;
		p[ip + 9] = proto;
		p[ip + 6] &= 0x1f; // mostly not fragments
		const size_t len = p.size() - ip;
		p[ip + 2] = uint8_t(len >> 8), p[ip + 3] = uint8_t(len);
	}
	return p;
}

RunResult test_run(int prog_fd, const std::vector<uint8_t> &in, uint32_t repeat,
                   uint32_t *duration) {
	std::vector<uint8_t> out(in.size() + 4096);
	bpf_test_run_opts o{};
	o.sz = sizeof(o);
	o.data_in = in.data();
	o.data_size_in = uint32_t(in.size());
	o.data_out = out.data();
	o.data_size_out = uint32_t(out.size());
	o.repeat = int(repeat);
	const int err = bpf_prog_test_run_opts(prog_fd, &o) ? errno : 0;
	out.resize(err ? 0 : o.data_size_out);
	if (duration && !err)
		*duration = o.duration;
	return {err, err ? 0 : o.retval, std::move(out)};
}

bool repeatable(int prog_fd, const std::vector<uint8_t> &pkt) {
	const RunResult first = test_run(prog_fd, pkt);
	for (int i = 0; i < 31; i++)
		if (!(test_run(prog_fd, pkt) == first))
			return false;
	return true;
}

std::optional<std::string> run_difference(const RunResult &a, const RunResult &b) {
	if (a.err != b.err)
		return fmt::format("test run errno {} vs {}", a.err, b.err);
	if (a.retval != b.retval)
		return fmt::format("retval {} vs {}", a.retval, b.retval);
	if (a.out.size() != b.out.size())
		return fmt::format("output packet {} vs {} bytes", a.out.size(), b.out.size());
	const auto m = std::mismatch(a.out.begin(), a.out.end(), b.out.begin());
	if (m.first != a.out.end())
		return fmt::format("output packet byte {}: 0x{:02x} vs 0x{:02x}",
		                   m.first - a.out.begin(), *m.first, *m.second);
	return std::nullopt;
}

size_t lookup_size(uint32_t map_type, uint32_t value_size) {
	switch (map_type) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return size_t((value_size + 7) / 8 * 8) *
		       size_t(std::max(1, libbpf_num_possible_cpus()));
	default:
		return value_size;
	}
}

Result<MapContents> map_contents(int fd, size_t limit) {
	bpf_map_info mi{};
	__u32 len = sizeof(mi);
	if (bpf_map_get_info_by_fd(fd, &mi, &len))
		return make_error(errno, "map info");
	std::vector<uint8_t> key(mi.key_size), next(key.size()),
	        val(lookup_size(mi.type, mi.value_size));
	MapContents all;
	const void *prev = nullptr;
	while (!bpf_map_get_next_key(fd, prev, next.data())) {
		if (all.size() >= limit)
			return make_error(
			        E2BIG, fmt::format("map {}: more than {} entries", mi.name, limit));
		// an entry deleted meanwhile is simply not there
		if (!bpf_map_lookup_elem(fd, next.data(), val.data()))
			all[next] = val;
		else if (errno != ENOENT)
			return make_error(errno, fmt::format("map {}: lookup", mi.name));
		key = next;
		prev = key.data();
	}
	if (errno != ENOENT)
		return make_error(errno, fmt::format("map {}: next key", mi.name));
	return all;
}

std::optional<std::string> map_difference(const MapContents &a, const MapContents &b) {
	auto ia = a.begin();
	auto ib = b.begin();
	while (ia != a.end() || ib != b.end()) {
		if (ib == b.end() || (ia != a.end() && ia->first < ib->first))
			return fmt::format("key {}: only in the first", hex(ia->first));
		if (ia == a.end() || ib->first < ia->first)
			return fmt::format("key {}: only in the second", hex(ib->first));
		if (ia->second != ib->second) {
			const auto &x = ia->second, &y = ib->second;
			if (x.size() != y.size())
				return fmt::format("key {}: value of {} vs {} bytes",
				                   hex(ia->first), x.size(), y.size());
			const auto m = std::mismatch(x.begin(), x.end(), y.begin());
			return fmt::format("key {}: value byte {}: 0x{:02x} vs 0x{:02x}",
			                   hex(ia->first), m.first - x.begin(), *m.first,
			                   *m.second);
		}
		++ia, ++ib;
	}
	return std::nullopt;
}

} // namespace rejit
