// SPDX-License-Identifier: GPL-2.0
#include "bench/collect.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/fd.hpp"
#include "rejit/live.hpp"
#include "rejit/object.hpp"
#include "rejit/pass.hpp"

namespace rejit::bench {
namespace fs = std::filesystem;

namespace {

// Error::str() adds strerror(err)
Error sys_error(std::string what) {
	return make_error(errno ? errno : EIO, std::move(what));
}

struct BtfCloser {
	void operator()(btf *b) const { btf__free(b); }
};
using Btf = std::unique_ptr<btf, BtfCloser>;

// Byte offset of member `name` of struct `id`, looking into anonymous
// structs and unions (sk_buff keeps most fields in them).
std::optional<uint32_t> member_offset(const btf *b, uint32_t id, std::string_view name) {
	const btf_type *t = btf__type_by_id(b, id);
	if (!t || !btf_is_composite(t))
		return std::nullopt;
	const btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const uint32_t bits = btf_member_bit_offset(t, i);
		const char *mn = btf__name_by_offset(b, m->name_off);
		if (mn && name == mn)
			return bits / 8;
		if (mn && *mn)
			continue;
		const int inner = btf__resolve_type(b, m->type);
		if (inner < 0)
			continue;
		if (auto off = member_offset(b, uint32_t(inner), name))
			return bits / 8 + *off;
	}
	return std::nullopt;
}

} // namespace

Result<CtxLayout> ctx_layout() {
	Btf b(btf__load_vmlinux_btf());
	if (!b)
		return sys_error("loading the kernel's BTF (/sys/kernel/btf/vmlinux)");
	auto strct = [&](const char *name) -> Result<std::pair<uint32_t, uint32_t>> {
		const int id = btf__find_by_name_kind(b.get(), name, BTF_KIND_STRUCT);
		if (id < 0)
			return make_error(ENOENT, fmt::format("vmlinux BTF: no struct {}", name));
		return std::pair{uint32_t(id), btf__type_by_id(b.get(), id)->size};
	};
	std::string missing;
	auto off = [&](uint32_t id, const char *strct_name, const char *member) -> uint32_t {
		auto o = member_offset(b.get(), id, member);
		if (!o)
			missing += fmt::format(" {}.{}", strct_name, member);
		return o.value_or(0);
	};
	auto xdp = strct("xdp_buff");
	auto skb = strct("sk_buff");
	auto cb = strct("bpf_skb_data_end");
	auto qdisc = strct("qdisc_skb_cb");
	for (auto *r : {&xdp, &skb, &cb, &qdisc})
		if (!*r)
			return r->error();
	CtxLayout c;
	c.xdp_buff_size = xdp->second;
	c.xdp_data = off(xdp->first, "xdp_buff", "data");
	c.xdp_data_end = off(xdp->first, "xdp_buff", "data_end");
	c.xdp_data_meta = off(xdp->first, "xdp_buff", "data_meta");
	c.xdp_data_hard_start = off(xdp->first, "xdp_buff", "data_hard_start");
	c.skb_size = skb->second;
	c.skb_data = off(skb->first, "sk_buff", "data");
	c.skb_len = off(skb->first, "sk_buff", "len");
	c.skb_data_len = off(skb->first, "sk_buff", "data_len");
	c.skb_protocol = off(skb->first, "sk_buff", "protocol");
	c.skb_cb = off(skb->first, "sk_buff", "cb");
	c.cb_data_end = off(cb->first, "bpf_skb_data_end", "data_end");
	c.cb_data_meta = off(cb->first, "bpf_skb_data_end", "data_meta");
	c.cb_bpf_cb = off(qdisc->first, "qdisc_skb_cb", "data");
	if (!missing.empty())
		return make_error(ENOENT, "vmlinux BTF: no member" + missing);
	return c;
}

Result<std::vector<std::pair<uint64_t, std::string>>> kallsyms() {
	std::ifstream f("/proc/kallsyms");
	if (!f)
		return sys_error("/proc/kallsyms");
	std::vector<std::pair<uint64_t, std::string>> syms;
	for (std::string line; std::getline(f, line);) {
		char type = 0;
		unsigned long long addr = 0;
		char name[512];
		if (std::sscanf(line.c_str(), "%llx %c %511s", &addr, &type, name) == 3)
			syms.emplace_back(addr, name);
	}
	if (syms.empty() ||
	    std::all_of(syms.begin(), syms.end(), [](const auto &s) { return s.first == 0; }))
		return make_error(EPERM, "/proc/kallsyms shows no addresses (not root?)");
	std::stable_sort(syms.begin(), syms.end(),
	                 [](const auto &a, const auto &b) { return a.first < b.first; });
	return syms;
}

Result<Image> prog_image(int fd) {
	bpf_prog_info n{};
	__u32 len = sizeof(n);
	if (bpf_prog_get_info_by_fd(fd, &n, &len))
		return sys_error("BPF_OBJ_GET_INFO_BY_FD");
	if (!n.jited_prog_len)
		return make_error(ENOTSUP, "the program is not JITed (bpf_jit_enable?)");
	Image im;
	im.code.resize(n.jited_prog_len);
	im.func_addrs.resize(n.nr_jited_ksyms);
	im.func_lens.resize(n.nr_jited_func_lens);
	im.xlated.resize(n.xlated_prog_len / sizeof(bpf_insn));
	bpf_prog_info w{};
	w.jited_prog_len = n.jited_prog_len;
	w.jited_prog_insns = reinterpret_cast<uintptr_t>(im.code.data());
	w.nr_jited_ksyms = n.nr_jited_ksyms;
	w.jited_ksyms = reinterpret_cast<uintptr_t>(im.func_addrs.data());
	w.nr_jited_func_lens = n.nr_jited_func_lens;
	w.jited_func_lens = reinterpret_cast<uintptr_t>(im.func_lens.data());
	w.xlated_prog_len = n.xlated_prog_len;
	w.xlated_prog_insns = reinterpret_cast<uintptr_t>(im.xlated.data());
	len = sizeof(w);
	if (bpf_prog_get_info_by_fd(fd, &w, &len))
		return sys_error("BPF_OBJ_GET_INFO_BY_FD (image)");
	// sizes may have changed between the two calls only if someone re-JITed
	if (w.jited_prog_len != im.code.size() || w.nr_jited_ksyms != im.func_addrs.size())
		return make_error(EAGAIN, "the image changed while it was read");
	if (std::all_of(im.func_addrs.begin(), im.func_addrs.end(), [](uint64_t a) { return !a; }))
		return make_error(EPERM, "jited_ksyms are 0 (kptr_restrict, not root?)");
	return im;
}

Result<std::vector<RunResult>> kernel_runs(int prog_fd, Kind k,
                                           const std::vector<std::vector<uint8_t>> &inputs) {
	std::vector<RunResult> rs;
	for (size_t i = 0; i < inputs.size(); i++) {
		auto r = kernel_run(prog_fd, k, inputs[i]);
		if (!r)
			return Error{r.error().err, fmt::format("input {}: {}", i, r.error().msg)};
		rs.push_back(*r);
	}
	return rs;
}

namespace {

Result<std::vector<MapDump>> dump_maps(const LiveProg &live) {
	auto maps = live.orig_maps();
	if (!maps)
		return maps.error();
	std::vector<MapDump> out;
	for (const Fd &m : *maps) {
		bpf_map_info mi{};
		__u32 len = sizeof(mi);
		if (bpf_map_get_info_by_fd(m.get(), &mi, &len))
			return sys_error("map info");
		MapDump d;
		d.id = mi.id;
		d.name = mi.name;
		d.type = mi.type;
		d.key_size = mi.key_size;
		d.value_size = mi.value_size;
		d.max_entries = mi.max_entries;
		d.flags = mi.map_flags;
		d.frozen = map_frozen(m.get());
		if (mi.type == BPF_MAP_TYPE_ARRAY && mi.max_entries == 1) {
			d.value.resize(mi.value_size);
			const uint32_t key = 0;
			if (bpf_map_lookup_elem(m.get(), &key, d.value.data()))
				return sys_error(
				        fmt::format("map {} ({}): lookup", mi.id, mi.name));
		}
		out.push_back(std::move(d));
	}
	return out;
}

// What libbpf said during the current object's load (its verifier log).
std::string libbpf_said;

int capture_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap) {
	if (level == LIBBPF_DEBUG)
		return 0;
	char buf[4096];
	const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
	libbpf_said += buf;
	return n;
}

// The last lines of what libbpf said, for an error message.
std::string libbpf_tail() {
	std::string s = libbpf_said;
	if (s.size() > 1500)
		s = "..." + s.substr(s.size() - 1500);
	while (!s.empty() && s.back() == '\n')
		s.pop_back();
	return s.empty() ? "" : "\n" + s;
}

// Does BPF_PROG_TEST_RUN give a cgroup_skb program its packet? 6.12 sets
// data_end only for the types it lists as direct packet access (tc, lwt),
// later kernels for cgroup_skb too. Empty if it does, else why not.
std::string cgroup_skb_test_run_problem() {
	// r0 = data_end > data
	const int16_t data = offsetof(__sk_buff, data), end = offsetof(__sk_buff, data_end);
	const bpf_insn prog[] = {
	        {BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, data, 0},
	        {BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, end, 0},
	        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1},
	        {BPF_JMP | BPF_JGT | BPF_X, BPF_REG_3, BPF_REG_2, 1, 0},
	        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
	        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	bpf_prog_load_opts o{};
	o.sz = sizeof(o);
	o.expected_attach_type = BPF_CGROUP_INET_INGRESS;
	Fd fd(bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "probe", "GPL", prog, 6, &o));
	if (!fd)
		return fmt::format("a probe cgroup_skb program did not load: {}",
		                   std::strerror(errno));
	auto r = kernel_run(fd.get(), Kind::cgroup_skb, std::vector<uint8_t>(64));
	if (!r)
		return "a probe cgroup_skb program did not run: " + error_text(r.error());
	if (r->retval != 1)
		return "this kernel's BPF_PROG_TEST_RUN gives cgroup_skb programs no packet "
		       "(data_end 0)";
	return {};
}

// Everything about one object; errors become `refused` in the caller.
Result<void> collect_one(const ObjectSpec &spec, const Kinsns &kinsns,
                         const std::string &cgroup_problem, ProgDump &p) {
	libbpf_said.clear();
	Object obj(bpf_object__open_file(spec.path.c_str(), nullptr));
	if (!obj)
		return sys_error(fmt::format("{}: opening the object", spec.path));
	bpf_program *prog = nullptr, *it = nullptr;
	size_t n = 0;
	bpf_object__for_each_program(it, obj.get()) {
		n++;
		if (spec.prog.empty() || spec.prog == bpf_program__name(it)) {
			if (prog && spec.prog.empty())
				return make_error(
				        EINVAL, fmt::format("{}: {} programs; name one as {}:PROG",
				                            spec.path, n, spec.path));
			prog = it;
		}
	}
	if (!prog)
		return make_error(ENOENT,
		                  spec.prog.empty()
		                          ? fmt::format("{}: no program", spec.path)
		                          : fmt::format("{}: no program {}", spec.path, spec.prog));
	bpf_object__for_each_program(it, obj.get()) bpf_program__set_autoload(it, it == prog);
	p.prog_type = bpf_program__type(prog);
	const auto kind = kind_from_prog_type(p.prog_type);
	if (!kind)
		return make_error(EINVAL, fmt::format("{}: section {} is not XDP, tc or cgroup_skb",
		                                      spec.path, bpf_program__section_name(prog)));
	p.kind = *kind;
	if (int err = bpf_object__load(obj.get()))
		return make_error(-err, fmt::format("{}: load failed{}", spec.path, libbpf_tail()));
	const int fd = bpf_program__fd(prog);
	auto live = LiveProg::from_fd(fd);
	if (!live)
		return live.error();
	// maps first: .data and .bss as the load left them
	auto maps = dump_maps(*live);
	if (!maps)
		return maps.error();
	p.maps = std::move(maps).value();
	auto stock = prog_image(fd);
	if (!stock)
		return stock.error();
	p.stock = std::move(stock).value();
	const bool runs = p.kind != Kind::cgroup_skb || cgroup_problem.empty();
	if (!runs)
		p.kernel_run_problem = cgroup_problem;
	if (runs) {
		auto ks = kernel_runs(fd, p.kind, p.inputs);
		if (!ks)
			return Error{ks.error().err, "stock test run: " + ks.error().msg};
		p.kernel_stock = std::move(ks).value();
	}

	// The daemon's pipeline (Daemon::optimize): all passes with the
	// kinsns this kernel has, re-JIT only if a pass changed something.
	auto orig = live->orig();
	if (!orig)
		return orig.error();
	p.orig = encode(orig->insns);
	auto env = live->pass_env(&kinsns);
	if (!env)
		return env.error();
	auto passes = passes_by_name("all", &*env);
	if (!passes)
		return passes.error();
	const Optimized o = run_passes(*orig, *passes, *env);
	for (const PassReport &r : o.reports)
		if (r.changed())
			p.passes.emplace_back(r.pass, r.changed());
	if (o.changed()) {
		if (auto r = live->rejit(o.prog, &kinsns); !r)
			p.rejit_error = error_text(r.error());
	}
	auto rj = prog_image(fd);
	if (!rj)
		return rj.error();
	p.rejit = std::move(rj).value();
	if (runs) {
		auto kr = kernel_runs(fd, p.kind, p.inputs);
		if (!kr)
			return Error{kr.error().err, "re-JIT test run: " + kr.error().msg};
		p.kernel_rejit = std::move(kr).value();
	}

	// The host kernel has no kinsns: the same pipeline without them.
	PassEnv plain = *env;
	plain.kinsns.clear();
	auto plain_passes = passes_by_name("all", &plain);
	if (!plain_passes)
		return plain_passes.error();
	p.nokinsn = encode(run_passes(*orig, *plain_passes, plain).prog.insns);
	return {};
}

} // namespace

std::string error_text(const Error &e) {
	const auto nl = e.msg.find('\n');
	const std::string first = e.msg.substr(0, nl);
	return fmt::format("{}: {}{}", first, std::strerror(e.err),
	                   nl == std::string::npos ? "" : e.msg.substr(nl));
}

std::string cpu_model() {
	std::ifstream f("/proc/cpuinfo");
	for (std::string line; std::getline(f, line);)
		if (line.starts_with("model name")) {
			const auto colon = line.find(':');
			auto s = line.substr(colon == std::string::npos ? line.size() : colon + 1);
			s.erase(0, s.find_first_not_of(" \t"));
			return s;
		}
	return "unknown";
}

Result<RunResult> kernel_run(int prog_fd, Kind k, std::span<const uint8_t> input, uint32_t repeat,
                             uint32_t *duration) {
	std::vector<uint8_t> pkt = test_packet(k, input);
	if (pkt.size() < 14) // ETH_HLEN: BPF_PROG_TEST_RUN refuses less
		return make_error(EINVAL, fmt::format("an input of {} bytes: BPF_PROG_TEST_RUN "
		                                      "wants a packet of 14 bytes or more, the "
		                                      "slot and 6 input bytes",
		                                      input.size()));
	std::vector<uint8_t> out(pkt.size() + 512);
	__sk_buff ctx{}, ctx_out{};
	bpf_test_run_opts o{};
	o.sz = sizeof(o);
	o.data_in = pkt.data();
	o.data_size_in = uint32_t(pkt.size());
	o.data_out = out.data();
	o.data_size_out = uint32_t(out.size());
	o.repeat = int(repeat);
	if (k != Kind::xdp) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
		o.ctx_out = &ctx_out;
		o.ctx_size_out = sizeof(ctx_out);
	}
	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		// newer kernels (6.18) want a whole IPv4 header behind the
		// Ethernet header of an skb they are handed
		if (errno == EINVAL && k == Kind::cgroup_skb && pkt.size() < 14 + 20)
			return sys_error(fmt::format("BPF_PROG_TEST_RUN (a cgroup_skb input of {} "
			                             "bytes: this kernel may want 12 or more)",
			                             input.size()));
		return sys_error("BPF_PROG_TEST_RUN");
	}
	RunResult r;
	r.retval = o.retval;
	if (k == Kind::xdp) {
		if (o.data_size_out < 8)
			return make_error(EINVAL,
			                  fmt::format("the program left {} bytes of packet, "
			                              "no result slot",
			                              o.data_size_out));
		std::memcpy(&r.result, out.data(), 8); // x86: little-endian like the slot
	} else {
		r.result = uint64_t(ctx_out.cb[1]) << 32 | ctx_out.cb[0];
	}
	if (duration)
		*duration = o.duration;
	return r;
}

Result<std::vector<std::vector<uint8_t>>> read_inputs(const std::string &dir,
                                                      const std::string &name) {
	std::vector<std::vector<uint8_t>> ins;
	for (size_t k = 0;; k++) {
		const fs::path p =
		        fs::path(dir) / (k ? fmt::format("{}.in.{}", name, k) : name + ".in");
		std::ifstream f(p, std::ios::binary);
		if (!f)
			break;
		ins.emplace_back(std::istreambuf_iterator<char>(f),
		                 std::istreambuf_iterator<char>());
		if (ins.back().size() > 1500)
			return make_error(EFBIG, fmt::format("{}: {} bytes, at most 1500",
			                                     p.string(), ins.back().size()));
	}
	if (ins.empty()) {
		// splitmix64 from seed 0, bench.h's bench_fill(buf, 64, 0)
		std::vector<uint8_t> in(64);
		uint64_t s = 0;
		for (auto &b : in) {
			uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			b = uint8_t(z ^ (z >> 31));
		}
		ins.push_back(std::move(in));
	}
	return ins;
}

Result<ObjectSpec> parse_object_spec(const std::string &arg) {
	ObjectSpec s;
	s.path = arg;
	// PATH:PROG, if what follows the last ':' is not part of an existing path
	if (const auto colon = arg.rfind(':');
	    colon != std::string::npos && !fs::exists(arg) && colon + 1 < arg.size()) {
		s.path = arg.substr(0, colon);
		s.prog = arg.substr(colon + 1);
	}
	if (!fs::is_regular_file(s.path))
		return make_error(ENOENT, fmt::format("{}: no such object", s.path));
	std::string file = fs::path(s.path).filename().string();
	if (file.ends_with(".bpf.o"))
		file.resize(file.size() - 6);
	else if (file.ends_with(".o"))
		file.resize(file.size() - 2);
	s.name = s.prog.empty() ? file : s.prog;
	return s;
}

Result<Dump> collect(const std::vector<ObjectSpec> &objects) {
	Dump d;
	utsname u{};
	uname(&u);
	d.kernel = u.release;
	d.cpu = cpu_model();
	auto ctx = ctx_layout();
	if (!ctx)
		return ctx.error();
	d.ctx = *ctx;
	auto kinsns = Kinsns::discover();
	if (!kinsns)
		return kinsns.error();
	libbpf_set_print(capture_libbpf);
	const std::string cgroup_problem = cgroup_skb_test_run_problem();
	for (const ObjectSpec &spec : objects) {
		ProgDump p;
		p.name = spec.name;
		p.object = spec.path;
		auto ins = read_inputs(fs::path(spec.path).parent_path().string(), spec.name);
		if (!ins) {
			p.refused = error_text(ins.error());
		} else {
			p.inputs = std::move(ins).value();
			if (auto r = collect_one(spec, *kinsns, cgroup_problem, p); !r)
				p.refused = error_text(r.error());
		}
		d.progs.push_back(std::move(p));
	}
	// last: the kallsyms of the BPF programs we loaded are gone with them,
	// but the kernel's (helpers, thunks) are what the replay resolves
	auto syms = kallsyms();
	if (!syms)
		return syms.error();
	d.kallsyms = std::move(syms).value();
	return d;
}

} // namespace rejit::bench
