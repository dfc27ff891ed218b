// SPDX-License-Identifier: GPL-2.0
#include "bench/dump.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rejit::bench {
namespace fs = std::filesystem;
using nlohmann::json;

std::string_view kind_name(Kind k) {
	switch (k) {
	case Kind::xdp:
		return "xdp";
	case Kind::tc:
		return "tc";
	case Kind::cgroup_skb:
		return "cgroup_skb";
	}
	return "?";
}

std::optional<Kind> kind_from_prog_type(uint32_t prog_type) {
	switch (prog_type) {
	case BPF_PROG_TYPE_XDP:
		return Kind::xdp;
	case BPF_PROG_TYPE_SCHED_CLS:
		return Kind::tc;
	case BPF_PROG_TYPE_CGROUP_SKB:
		return Kind::cgroup_skb;
	default:
		return std::nullopt;
	}
}

std::optional<Kind> kind_from_name(std::string_view name) {
	for (Kind k : {Kind::xdp, Kind::tc, Kind::cgroup_skb})
		if (kind_name(k) == name)
			return k;
	return std::nullopt;
}

size_t slot_offset(Kind k) {
	return k == Kind::cgroup_skb ? 14 : 0;
}

std::vector<uint8_t> test_packet(Kind k, std::span<const uint8_t> input) {
	std::vector<uint8_t> p(slot_offset(k) + 8, 0);
	if (k == Kind::cgroup_skb) {
		// locally administered MACs, EtherType IPv4
		p[0] = p[6] = 0x02;
		p[12] = 0x08;
	}
	p.insert(p.end(), input.begin(), input.end());
	return p;
}

std::optional<std::pair<std::string, uint64_t>> Dump::symbol(uint64_t addr) const {
	auto it = std::upper_bound(kallsyms.begin(), kallsyms.end(), addr,
	                           [](uint64_t a, const auto &s) { return a < s.first; });
	if (it == kallsyms.begin())
		return std::nullopt;
	--it;
	return std::pair{it->second, addr - it->first};
}

namespace {

// Error::str() adds strerror(err)
Error io_error(const fs::path &p, std::string what) {
	return make_error(errno ? errno : EIO, fmt::format("{}: {}", p.string(), what));
}

Result<void> write_bytes(const fs::path &p, const void *data, size_t n) {
	std::ofstream f(p, std::ios::binary | std::ios::trunc);
	if (!f)
		return io_error(p, "cannot create");
	f.write(static_cast<const char *>(data), std::streamsize(n));
	f.close();
	if (!f)
		return io_error(p, "write failed");
	return {};
}

template <typename T>
Result<void> write_vec(const fs::path &p, const std::vector<T> &v) {
	return write_bytes(p, v.data(), v.size() * sizeof(T));
}

// The file must hold exactly `n` elements of T (dump.json says how many).
template <typename T>
Result<std::vector<T>> read_vec(const fs::path &p, size_t n) {
	std::ifstream f(p, std::ios::binary);
	if (!f)
		return io_error(p, "cannot open");
	std::vector<char> raw{std::istreambuf_iterator<char>(f), {}};
	if (raw.size() != n * sizeof(T))
		return make_error(EINVAL, fmt::format("{}: {} bytes, dump.json says {}", p.string(),
		                                      raw.size(), n * sizeof(T)));
	std::vector<T> v(n);
	if (n)
		std::memcpy(v.data(), raw.data(), raw.size());
	return v;
}

std::string hex(uint64_t v) {
	return fmt::format("{:#x}", v);
}

Result<uint64_t> unhex(const json &j) {
	if (!j.is_string())
		return make_error(EINVAL, "address is not a hex string");
	const std::string s = j.get<std::string>();
	size_t end = 0;
	uint64_t v = 0;
	try {
		v = std::stoull(s, &end, 16);
	} catch (const std::exception &) {
		end = 0;
	}
	if (!end || end != s.size())
		return make_error(EINVAL, fmt::format("bad address {}", s));
	return v;
}

// A directory name from a program name: no path tricks.
bool safe_name(const std::string &n) {
	return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos &&
	       n.find('\0') == std::string::npos;
}

json image_json(const Image &im) {
	json addrs = json::array();
	for (uint64_t a : im.func_addrs)
		addrs.push_back(hex(a));
	return {{"code_bytes", im.code.size()},
	        {"func_addrs", addrs},
	        {"func_lens", im.func_lens},
	        {"xlated_insns", im.xlated.size()}};
}

Result<Image> image_from(const json &j, const fs::path &dir, const std::string &what) {
	Image im;
	auto code = read_vec<uint8_t>(dir / (what + ".jit"), j.at("code_bytes").get<size_t>());
	if (!code)
		return code.error();
	im.code = std::move(code).value();
	auto xl = read_vec<bpf_insn>(dir / (what + ".xlated"), j.at("xlated_insns").get<size_t>());
	if (!xl)
		return xl.error();
	im.xlated = std::move(xl).value();
	for (const json &a : j.at("func_addrs")) {
		auto v = unhex(a);
		if (!v)
			return v.error();
		im.func_addrs.push_back(*v);
	}
	im.func_lens = j.at("func_lens").get<std::vector<uint32_t>>();
	if (im.func_addrs.size() != im.func_lens.size())
		return make_error(EINVAL, fmt::format("{}: {} function addresses, {} lengths", what,
		                                      im.func_addrs.size(), im.func_lens.size()));
	return im;
}

json results_json(const std::vector<RunResult> &rs) {
	json a = json::array();
	for (const RunResult &r : rs)
		a.push_back({{"retval", r.retval}, {"result", r.result}});
	return a;
}

std::vector<RunResult> results_from(const json &j) {
	std::vector<RunResult> rs;
	for (const json &r : j)
		rs.push_back({r.at("retval").get<uint32_t>(), r.at("result").get<uint64_t>()});
	return rs;
}

json ctx_json(const CtxLayout &c) {
	return {{"xdp_buff_size", c.xdp_buff_size},
	        {"xdp_data", c.xdp_data},
	        {"xdp_data_end", c.xdp_data_end},
	        {"xdp_data_meta", c.xdp_data_meta},
	        {"xdp_data_hard_start", c.xdp_data_hard_start},
	        {"skb_size", c.skb_size},
	        {"skb_data", c.skb_data},
	        {"skb_len", c.skb_len},
	        {"skb_data_len", c.skb_data_len},
	        {"skb_protocol", c.skb_protocol},
	        {"skb_cb", c.skb_cb},
	        {"cb_data_end", c.cb_data_end},
	        {"cb_data_meta", c.cb_data_meta},
	        {"cb_bpf_cb", c.cb_bpf_cb}};
}

CtxLayout ctx_from(const json &j) {
	CtxLayout c;
	c.xdp_buff_size = j.at("xdp_buff_size");
	c.xdp_data = j.at("xdp_data");
	c.xdp_data_end = j.at("xdp_data_end");
	c.xdp_data_meta = j.at("xdp_data_meta");
	c.xdp_data_hard_start = j.at("xdp_data_hard_start");
	c.skb_size = j.at("skb_size");
	c.skb_data = j.at("skb_data");
	c.skb_len = j.at("skb_len");
	c.skb_data_len = j.at("skb_data_len");
	c.skb_protocol = j.at("skb_protocol");
	c.skb_cb = j.at("skb_cb");
	c.cb_data_end = j.at("cb_data_end");
	c.cb_data_meta = j.at("cb_data_meta");
	c.cb_bpf_cb = j.at("cb_bpf_cb");
	return c;
}

Result<void> write_prog(const ProgDump &p, const fs::path &dir, json &out) {
	if (!safe_name(p.name))
		return make_error(EINVAL,
		                  fmt::format("program name \"{}\" is not a file name", p.name));
	std::error_code ec;
	fs::create_directories(dir, ec);
	if (ec)
		return make_error(ec.value(), fmt::format("{}: {}", dir.string(), ec.message()));
	for (size_t k = 0; k < p.inputs.size(); k++)
		if (auto r = write_vec(dir / fmt::format("in.{}", k), p.inputs[k]); !r)
			return r;
	for (auto [im, what] : {std::pair{&p.stock, "stock"}, std::pair{&p.rejit, "rejit"}}) {
		if (auto r = write_vec(dir / (std::string(what) + ".jit"), im->code); !r)
			return r;
		if (auto r = write_vec(dir / (std::string(what) + ".xlated"), im->xlated); !r)
			return r;
	}
	if (auto r = write_vec(dir / "orig.insns", p.orig); !r)
		return r;
	if (auto r = write_vec(dir / "nokinsn.insns", p.nokinsn); !r)
		return r;
	json maps = json::array();
	for (size_t i = 0; i < p.maps.size(); i++) {
		const MapDump &m = p.maps[i];
		if (auto r = write_vec(dir / fmt::format("map{}.value", i), m.value); !r)
			return r;
		maps.push_back({{"id", m.id},
		                {"name", m.name},
		                {"type", m.type},
		                {"key_size", m.key_size},
		                {"value_size", m.value_size},
		                {"max_entries", m.max_entries},
		                {"flags", m.flags},
		                {"frozen", m.frozen},
		                {"value_bytes", m.value.size()}});
	}
	json passes = json::array();
	for (const auto &[name, sites] : p.passes)
		passes.push_back({{"pass", name}, {"sites", sites}});
	json inputs = json::array();
	for (const auto &in : p.inputs)
		inputs.push_back(in.size());
	out = {{"name", p.name},
	       {"object", p.object},
	       {"kind", kind_name(p.kind)},
	       {"prog_type", p.prog_type},
	       {"inputs", inputs},
	       {"stock", image_json(p.stock)},
	       {"rejit", image_json(p.rejit)},
	       {"kernel_stock", results_json(p.kernel_stock)},
	       {"kernel_rejit", results_json(p.kernel_rejit)},
	       {"kernel_run_problem", p.kernel_run_problem},
	       {"passes", passes},
	       {"rejit_error", p.rejit_error},
	       {"orig_insns", p.orig.size()},
	       {"nokinsn_insns", p.nokinsn.size()},
	       {"maps", maps},
	       {"refused", p.refused}};
	return {};
}

Result<ProgDump> read_prog(const json &j, const fs::path &top) {
	ProgDump p;
	p.name = j.at("name").get<std::string>();
	if (!safe_name(p.name))
		return make_error(EINVAL,
		                  fmt::format("program name \"{}\" is not a file name", p.name));
	const fs::path dir = top / p.name;
	p.object = j.at("object").get<std::string>();
	const auto kind = kind_from_name(j.at("kind").get<std::string>());
	if (!kind)
		return make_error(EINVAL,
		                  fmt::format("{}: unknown kind {}", p.name, j.at("kind").dump()));
	p.kind = *kind;
	p.prog_type = j.at("prog_type");
	const auto sizes = j.at("inputs").get<std::vector<size_t>>();
	for (size_t k = 0; k < sizes.size(); k++) {
		auto in = read_vec<uint8_t>(dir / fmt::format("in.{}", k), sizes[k]);
		if (!in)
			return in.error();
		p.inputs.push_back(std::move(in).value());
	}
	auto stock = image_from(j.at("stock"), dir, "stock");
	if (!stock)
		return stock.error();
	p.stock = std::move(stock).value();
	auto rejit = image_from(j.at("rejit"), dir, "rejit");
	if (!rejit)
		return rejit.error();
	p.rejit = std::move(rejit).value();
	p.kernel_stock = results_from(j.at("kernel_stock"));
	p.kernel_rejit = results_from(j.at("kernel_rejit"));
	p.kernel_run_problem = j.value("kernel_run_problem", "");
	for (const json &ps : j.at("passes"))
		p.passes.emplace_back(ps.at("pass").get<std::string>(),
		                      ps.at("sites").get<size_t>());
	p.rejit_error = j.at("rejit_error").get<std::string>();
	auto orig = read_vec<bpf_insn>(dir / "orig.insns", j.at("orig_insns").get<size_t>());
	if (!orig)
		return orig.error();
	p.orig = std::move(orig).value();
	auto nok = read_vec<bpf_insn>(dir / "nokinsn.insns", j.at("nokinsn_insns").get<size_t>());
	if (!nok)
		return nok.error();
	p.nokinsn = std::move(nok).value();
	for (const json &mj : j.at("maps")) {
		MapDump m;
		m.id = mj.at("id");
		m.name = mj.at("name").get<std::string>();
		m.type = mj.at("type");
		m.key_size = mj.at("key_size");
		m.value_size = mj.at("value_size");
		m.max_entries = mj.at("max_entries");
		m.flags = mj.at("flags");
		m.frozen = mj.at("frozen");
		auto v = read_vec<uint8_t>(dir / fmt::format("map{}.value", p.maps.size()),
		                           mj.at("value_bytes").get<size_t>());
		if (!v)
			return v.error();
		m.value = std::move(v).value();
		p.maps.push_back(std::move(m));
	}
	p.refused = j.at("refused").get<std::string>();
	return p;
}

} // namespace

Result<void> write_dump(const Dump &d, const std::string &dir) {
	std::error_code ec;
	fs::create_directories(dir, ec);
	if (ec)
		return make_error(ec.value(), fmt::format("{}: {}", dir, ec.message()));
	json progs = json::array();
	std::vector<std::string> seen;
	for (const ProgDump &p : d.progs) {
		if (std::find(seen.begin(), seen.end(), p.name) != seen.end())
			return make_error(EEXIST, fmt::format("two programs named {} (from {})",
			                                      p.name, p.object));
		seen.push_back(p.name);
		json pj;
		if (auto r = write_prog(p, fs::path(dir) / p.name, pj); !r)
			return r;
		progs.push_back(std::move(pj));
	}
	{
		std::ofstream f(fs::path(dir) / "kallsyms", std::ios::trunc);
		for (const auto &[addr, name] : d.kallsyms)
			f << fmt::format("{:016x} t {}\n", addr, name);
		f.close();
		if (!f)
			return io_error(fs::path(dir) / "kallsyms", "write failed");
	}
	const json top = {
	        {"kernel", d.kernel}, {"cpu", d.cpu}, {"ctx", ctx_json(d.ctx)}, {"progs", progs}};
	const std::string text = top.dump(1, '\t') + "\n";
	return write_bytes(fs::path(dir) / "dump.json", text.data(), text.size());
}

Result<Dump> read_dump(const std::string &dir) {
	const fs::path top(dir);
	std::ifstream f(top / "dump.json");
	if (!f)
		return io_error(top / "dump.json", "cannot open (no dump here?)");
	Dump d;
	try {
		const json j = json::parse(f);
		d.kernel = j.at("kernel").get<std::string>();
		d.cpu = j.at("cpu").get<std::string>();
		d.ctx = ctx_from(j.at("ctx"));
		for (const json &pj : j.at("progs")) {
			auto p = read_prog(pj, top);
			if (!p)
				return Error{p.error().err, "dump.json: " + p.error().msg};
			d.progs.push_back(std::move(p).value());
		}
	} catch (const json::exception &e) {
		return make_error(EINVAL,
		                  fmt::format("{}: {}", (top / "dump.json").string(), e.what()));
	}
	std::ifstream ks(top / "kallsyms");
	if (!ks)
		return io_error(top / "kallsyms", "cannot open");
	// /proc/kallsyms lines: address, type, name, [module]
	for (std::string line; std::getline(ks, line);) {
		std::istringstream ls(line);
		std::string addr, type, name;
		if (!(ls >> addr >> type >> name))
			continue;
		char *end = nullptr;
		const uint64_t a = std::strtoull(addr.c_str(), &end, 16);
		if (*end)
			return make_error(EINVAL, fmt::format("{}: bad line \"{}\"",
			                                      (top / "kallsyms").string(), line));
		d.kallsyms.emplace_back(a, name);
	}
	std::stable_sort(d.kallsyms.begin(), d.kallsyms.end(),
	                 [](const auto &a, const auto &b) { return a.first < b.first; });
	return d;
}

} // namespace rejit::bench
