// SPDX-License-Identifier: GPL-2.0
#include "bench/host_tier.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "bench/collect.hpp"
#include "rejit/fd.hpp"
#include "rejit/live.hpp"

namespace rejit::bench {
namespace {

// Error::str() adds strerror(err)
Error sys_error(std::string what) {
	return make_error(errno ? errno : EIO, std::move(what));
}

double median(std::vector<double> v) {
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	const size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Result<std::vector<Fd>> create_maps(const ProgDump &p) {
	std::vector<Fd> fds;
	for (const MapDump &m : p.maps) {
		bpf_map_create_opts o{};
		o.sz = sizeof(o);
		o.map_flags = m.flags;
		Fd fd(bpf_map_create(bpf_map_type(m.type), m.name.c_str(), m.key_size, m.value_size,
		                     m.max_entries, &o));
		if (!fd)
			return sys_error(fmt::format("creating map {} (type {}, {}/{} bytes, {} "
			                             "entries, flags {:#x})",
			                             m.name, m.type, m.key_size, m.value_size,
			                             m.max_entries, m.flags));
		if (!m.value.empty()) {
			if (m.value.size() != m.value_size)
				return make_error(
				        EINVAL, fmt::format("map {}: {} value bytes for a "
				                            "value of {}",
				                            m.name, m.value.size(), m.value_size));
			const uint32_t key = 0;
			if (bpf_map_update_elem(fd.get(), &key, m.value.data(), BPF_ANY))
				return sys_error(fmt::format("map {}: setting element 0", m.name));
		}
		if (m.frozen && bpf_map_freeze(fd.get()))
			return sys_error(fmt::format("map {}: freeze", m.name));
		fds.push_back(std::move(fd));
	}
	return fds;
}

Result<Fd> load(const ProgDump &p, const std::vector<bpf_insn> &insns, const std::vector<int> &maps,
                const char *what) {
	bpf_prog_load_opts o{};
	o.sz = sizeof(o);
	o.fd_array = maps.empty() ? nullptr : maps.data();
	if (p.kind == Kind::cgroup_skb)
		o.expected_attach_type = BPF_CGROUP_INET_INGRESS;
	std::string log(1 << 20, '\0');
	// kernel names: 15 characters of [A-Za-z0-9_.]
	std::string name = p.name.substr(0, 15);
	for (char &c : name)
		if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.')
			c = '_';
	Fd fd(bpf_prog_load(bpf_prog_type(p.prog_type), name.c_str(), "GPL", insns.data(),
	                    insns.size(), &o));
	if (fd)
		return fd;
	const int err = errno;
	o.log_level = 1;
	o.log_buf = log.data();
	o.log_size = uint32_t(log.size());
	Fd again(bpf_prog_load(bpf_prog_type(p.prog_type), name.c_str(), "GPL", insns.data(),
	                       insns.size(), &o));
	log = verifier_log_tail(log);
	// the verifier's last word first, the log's tail on the lines below
	std::string last = log;
	while (!last.empty() && last.back() == '\n')
		last.pop_back();
	last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
	return make_error(err, fmt::format("{} refused by the host kernel{}\n{}", what,
	                                   last.empty() ? "" : " (verifier: " + last + ")", log));
}

uint32_t jited_bytes(int fd) {
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	return bpf_prog_get_info_by_fd(fd, &info, &len) ? 0 : info.jited_prog_len;
}

Result<std::vector<RunResult>> results(int fd, const ProgDump &p, const char *what) {
	auto rs = kernel_runs(fd, p.kind, p.inputs);
	if (!rs)
		return Error{rs.error().err, fmt::format("{}, {}", what, rs.error().msg)};
	return rs;
}

} // namespace

std::string host_bpf_problem() {
	// r0 = XDP_PASS; exit
	const bpf_insn prog[] = {
	        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 2},
	        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	Fd fd(bpf_prog_load(BPF_PROG_TYPE_XDP, "probe", "GPL", prog, 2, nullptr));
	if (!fd)
		return fmt::format("the host kernel refuses BPF_PROG_LOAD: {}",
		                   std::strerror(errno));
	const std::vector<uint8_t> in(64);
	auto r = kernel_run(fd.get(), Kind::xdp, in);
	if (!r)
		return "the host kernel refuses BPF_PROG_TEST_RUN: " + r.error().str();
	if (r->retval != 2)
		return fmt::format("a probe program returned {}, not 2", r->retval);
	if (!jited_bytes(fd.get()))
		return "the host kernel does not JIT BPF programs (net.core.bpf_jit_enable)";
	return {};
}

Result<HostTier> host_tier(const ProgDump &p, const HostTierOptions &o) {
	if (!p.refused.empty())
		return make_error(EINVAL, "not dumped: " + p.refused);
	if (p.orig.empty() || p.nokinsn.empty())
		return make_error(ENODATA, "no original bytecode in the dump");
	if (p.inputs.empty())
		return make_error(ENODATA, "no inputs");
	auto maps = create_maps(p);
	if (!maps)
		return maps.error();
	std::vector<int> fds;
	for (const Fd &m : *maps)
		fds.push_back(m.get());
	HostTier t;
	std::vector<double> load_stock, load_rejit, ratios;
	for (unsigned l = 0; l < std::max(o.loads, 1u); l++) {
		auto s = load(p, p.orig, fds, "original bytecode");
		if (!s)
			return s.error();
		auto r = load(p, p.nokinsn, fds, "rewrite without kinsns");
		if (!r)
			return r.error();
		auto rs = results(s->get(), p, "original bytecode");
		if (!rs)
			return rs.error();
		auto rr = results(r->get(), p, "rewrite");
		if (!rr)
			return rr.error();
		if (l == 0) {
			t.stock = std::move(rs).value();
			t.rejit = std::move(rr).value();
			t.jited_stock = jited_bytes(s->get());
			t.jited_rejit = jited_bytes(r->get());
		} else if (*rs != t.stock || *rr != t.rejit) {
			return make_error(EINVAL,
			                  fmt::format("load {} gave other results than load 0", l));
		}
		// back-to-back pairs, the order alternated so that neither
		// always runs right after the other
		std::vector<double> ns_s, ns_r;
		for (unsigned k = 0; k < std::max(o.samples, 1u); k++) {
			for (int half = 0; half < 2; half++) {
				const bool stock = (k + half) % 2 == 0;
				uint32_t ns = 0;
				auto run = kernel_run(stock ? s->get() : r->get(), p.kind,
				                      p.inputs[0], o.repeat, &ns);
				if (!run)
					return Error{run.error().err, "timing: " + run.error().msg};
				(stock ? ns_s : ns_r).push_back(ns);
			}
		}
		load_stock.push_back(median(ns_s));
		load_rejit.push_back(median(ns_r));
		if (load_rejit.back() > 0)
			ratios.push_back(load_stock.back() / load_rejit.back());
	}
	t.ns_stock = median(load_stock);
	t.ns_rejit = median(load_rejit);
	if (!ratios.empty()) {
		t.ratio_lo = *std::min_element(ratios.begin(), ratios.end());
		t.ratio_hi = *std::max_element(ratios.begin(), ratios.end());
	}
	return t;
}

} // namespace rejit::bench
