// SPDX-License-Identifier: GPL-2.0
#include "rejit/live.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fcntl.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/kinsn.hpp"

namespace rejit {
namespace {

Error sys_error(std::string what) {
	return make_error(errno, std::move(what));
}

Result<bpf_prog_info> get_info(int fd, bpf_prog_info info = {}) {
	__u32 len = sizeof(info);
	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		return sys_error("BPF_OBJ_GET_INFO_BY_FD");
	return info;
}

// Ids of the maps the program was loaded with (orig) or the running code uses.
Result<std::vector<__u32>> map_ids(int fd, bool orig) {
	auto n = get_info(fd);
	if (!n)
		return n.error();
	std::vector<__u32> ids(orig ? n->nr_orig_map_ids : n->nr_map_ids);
	bpf_prog_info want{};
	if (orig) {
		want.nr_orig_map_ids = uint32_t(ids.size());
		want.orig_map_ids = reinterpret_cast<uintptr_t>(ids.data());
	} else {
		want.nr_map_ids = uint32_t(ids.size());
		want.map_ids = reinterpret_cast<uintptr_t>(ids.data());
	}
	if (auto i = get_info(fd, want); !i)
		return i.error();
	return ids;
}

// The words of a sysfs text file; empty if it cannot be read.
std::vector<std::string> words(const std::filesystem::path &p) {
	std::ifstream f(p);
	std::vector<std::string> w;
	for (std::string s; f >> s;)
		w.push_back(s);
	return w;
}

bool has(const std::vector<std::string> &v, std::string_view x) {
	return std::find(v.begin(), v.end(), x) != v.end();
}

struct BtfCloser {
	void operator()(btf *b) const { btf__free(b); }
};
using Btf = std::unique_ptr<btf, BtfCloser>;

// Id and fd of the kernel BTF object named `module`.
Result<std::pair<uint32_t, Fd>> module_btf(const std::string &module) {
	for (__u32 id = 0; bpf_btf_get_next_id(id, &id) == 0;) {
		Fd fd(bpf_btf_get_fd_by_id(id));
		if (!fd)
			continue; // gone meanwhile
		char name[64] = {};
		bpf_btf_info info{};
		info.name = reinterpret_cast<uintptr_t>(name);
		info.name_len = sizeof(name);
		__u32 len = sizeof(info);
		if (bpf_btf_get_info_by_fd(fd.get(), &info, &len) == 0 && module == name)
			return std::pair{id, std::move(fd)};
	}
	return make_error(ENOENT, fmt::format("no BTF of module {} loaded", module));
}

} // namespace

// Only fdinfo says.
bool map_frozen(int fd) {
	std::ifstream f(fmt::format("/proc/self/fdinfo/{}", fd));
	std::string line;
	while (std::getline(f, line))
		if (line.starts_with("frozen:"))
			return line.find('1') != std::string::npos;
	return false;
}

Result<Kinsns> Kinsns::discover(const std::string &dir) {
	namespace fs = std::filesystem;
	Kinsns k;
	std::error_code ec;
	if (!fs::is_directory(dir, ec))
		return k;
	for (const auto &e : fs::directory_iterator(dir, ec)) {
		KinsnInfo ki;
		ki.name = e.path().filename().string();
		const auto mod = words(e.path() / "module");
		ki.module = mod.empty() ? "" : mod[0];
		ki.operand = has(words(e.path() / "forms"), "operand");
		ki.native_operand = has(words(e.path() / "native"), "operand");
		k.list_.push_back(std::move(ki));
	}
	if (ec)
		return make_error(ec.value(), fmt::format("{}: {}", dir, ec.message()));
	std::sort(k.list_.begin(), k.list_.end(),
	          [](const KinsnInfo &a, const KinsnInfo &b) { return a.name < b.name; });
	Btf vmlinux(btf__load_vmlinux_btf());
	for (KinsnInfo &ki : k.list_) {
		if (ki.module.empty()) {
			ki.problem = "no owner module";
			continue;
		}
		if (!vmlinux) {
			ki.problem = "no vmlinux BTF";
			continue;
		}
		if (ki.module == "vmlinux") { // built in: off 0, no fd_array entry
			const int id = btf__find_by_name_kind(vmlinux.get(), ki.name.c_str(),
			                                      BTF_KIND_FUNC);
			if (id > 0)
				ki.btf_id = id;
			else
				ki.problem = fmt::format("{} not in the vmlinux BTF", ki.name);
			continue;
		}
		auto mb = module_btf(ki.module);
		if (!mb) {
			ki.problem = mb.error().msg;
			continue;
		}
		Btf split(btf__load_from_kernel_by_id_split(mb->first, vmlinux.get()));
		const int id =
		        split ? btf__find_by_name_kind(split.get(), ki.name.c_str(), BTF_KIND_FUNC)
		              : -1;
		if (id <= 0) {
			ki.problem = fmt::format("{} not in the BTF of {}", ki.name, ki.module);
			continue;
		}
		ki.btf_id = id;
		if (!k.btf_.contains(ki.module))
			k.btf_.emplace(ki.module, std::move(mb->second));
	}
	return k;
}

bool Kinsns::empty() const {
	return std::none_of(list_.begin(), list_.end(),
	                    [](const KinsnInfo &k) { return k.problem.empty(); });
}

int Kinsns::btf_fd(const std::string &module) const {
	auto it = btf_.find(module);
	return it == btf_.end() ? -1 : it->second.get();
}

std::vector<std::string> Kinsns::modules() const {
	std::vector<std::string> m;
	for (const auto &[name, fd] : btf_)
		m.push_back(name);
	return m;
}

KinsnMap Kinsns::refs(const std::map<std::string, int16_t> &slots) const {
	KinsnMap m;
	for (const KinsnInfo &k : list_) {
		auto slot = slots.find(k.module);
		if (!k.problem.empty() || (slot == slots.end() && k.module != "vmlinux"))
			continue;
		const int16_t off = k.module == "vmlinux" ? 0 : slot->second;
		m[k.name] = {k.btf_id, off, k.operand, k.native_operand};
	}
	return m;
}

std::string Kinsns::describe() const {
	std::string s;
	for (const KinsnInfo &k : list_) {
		s += s.empty() ? "" : ", ";
		if (!k.problem.empty())
			s += fmt::format("{} (unusable: {})", k.name, k.problem);
		else
			s += fmt::format("{} ({}, {})", k.name, k.module,
			                 !k.operand         ? "call form only"
			                 : k.native_operand ? "operand form, native"
			                                    : "operand form, not native");
	}
	return s.empty() ? "none" : s;
}

Result<LiveProg> LiveProg::open(uint32_t id) {
	Fd fd(bpf_prog_get_fd_by_id(id));
	if (!fd)
		return sys_error(fmt::format("prog {}: open", id));
	return LiveProg(id, std::move(fd));
}

Result<LiveProg> LiveProg::from_fd(int fd) {
	auto i = get_info(fd);
	if (!i)
		return i.error();
	Fd dup(fcntl(fd, F_DUPFD_CLOEXEC, 0));
	if (!dup)
		return sys_error("dup");
	return LiveProg(i->id, std::move(dup));
}

Result<ProgInfo> LiveProg::info() const {
	auto i = get_info(fd());
	if (!i)
		return Error{i.error().err, fmt::format("prog {}: {}", id_, i.error().msg)};
	ProgInfo p;
	p.id = i->id;
	p.type = i->type;
	const char *tn = libbpf_bpf_prog_type_str(bpf_prog_type(i->type));
	p.type_name = tn ? tn : fmt::format("type{}", i->type);
	p.name = i->name;
	for (uint8_t b : i->tag)
		p.tag += fmt::format("{:02x}", b);
	p.run_cnt = i->run_cnt;
	p.run_time_ns = i->run_time_ns;
	p.rejit_cnt = i->rejit_cnt;
	p.xlated_insns = i->xlated_prog_len / sizeof(bpf_insn);
	p.jited_bytes = i->jited_prog_len;
	p.orig_insns = i->orig_prog_len / sizeof(bpf_insn);
	return p;
}

Result<Program> LiveProg::orig() const {
	__u32 cnt = 0;
	int err = bpf_prog_get_orig_insns(fd(), nullptr, &cnt);
	if (err != -ENOSPC)
		return make_error(err ? -err : ENODATA,
		                  fmt::format("prog {}: no original bytecode", id_));
	std::vector<bpf_insn> raw(cnt);
	if (bpf_prog_get_orig_insns(fd(), raw.data(), &cnt))
		return sys_error(fmt::format("prog {}: reading original bytecode", id_));
	raw.resize(cnt);
	auto insns = decode(raw);
	if (!insns)
		return Error{insns.error().err,
		             fmt::format("prog {}: original bytecode: {}", id_, insns.error().msg)};
	Program prog{std::move(insns).value(), {}, {}};
	auto fi = func_info(prog);
	if (!fi)
		return fi.error();
	prog.func_info = std::move(fi).value();
	return prog;
}

// The program's func_info (type of each subprogram) rebased onto its
// original bytecode. The kernel reports it at the offsets of the code it
// runs; the subprograms are the same and in the same order, so the n-th
// record describes the n-th subprogram start of the original. Callbacks
// (bpf_loop) need it, and global functions are only verified as such with
// it. Empty when the program has no BTF.
Result<std::vector<FuncInfo>> LiveProg::func_info(const Program &orig) const {
	auto n = get_info(fd());
	if (!n)
		return n.error();
	if (!n->btf_id || !n->nr_func_info)
		return std::vector<FuncInfo>{};
	if (n->func_info_rec_size != sizeof(bpf_func_info))
		return make_error(EINVAL, fmt::format("prog {}: func_info records of {} bytes", id_,
		                                      n->func_info_rec_size));
	std::vector<bpf_func_info> recs(n->nr_func_info);
	bpf_prog_info want{};
	want.nr_func_info = n->nr_func_info;
	want.func_info_rec_size = sizeof(bpf_func_info);
	want.func_info = reinterpret_cast<uintptr_t>(recs.data());
	if (auto i = get_info(fd(), want); !i)
		return i.error();
	auto rw = Rewriter::create(orig.insns);
	if (!rw)
		return rw.error();
	std::vector<uint32_t> starts{0}; // slots
	std::vector<uint32_t> slot_of;
	for (size_t i = 0, slot = 0; i < orig.insns.size(); slot += orig.insns[i++].slots())
		slot_of.push_back(uint32_t(slot));
	for (size_t i = 0; i < rw->size(); i++) {
		const Insn &in = rw->at(i);
		const bool call = in.code == (BPF_JMP | BPF_CALL) && in.src == BPF_PSEUDO_CALL;
		const bool func = in.is_ldimm64() && in.src == BPF_PSEUDO_FUNC;
		if (call || func)
			starts.push_back(slot_of[*rw->target(i)]);
	}
	std::sort(starts.begin(), starts.end());
	starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
	if (starts.size() != recs.size())
		return make_error(EINVAL, fmt::format("prog {}: {} func_info records for {} "
		                                      "subprograms",
		                                      id_, recs.size(), starts.size()));
	std::vector<FuncInfo> out;
	for (size_t i = 0; i < recs.size(); i++)
		out.push_back({starts[i], recs[i].type_id});
	return out;
}

Result<std::vector<Fd>> LiveProg::orig_maps() const {
	auto ids = map_ids(fd(), true);
	if (!ids)
		return ids.error();
	std::vector<Fd> maps;
	for (__u32 id : *ids) {
		Fd m(bpf_map_get_fd_by_id(id));
		if (!m)
			return sys_error(fmt::format("prog {}: map {}", id_, id));
		maps.push_back(std::move(m));
	}
	return maps;
}

Result<PassEnv> LiveProg::pass_env(const Kinsns *kinsns) const {
	auto maps = orig_maps();
	if (!maps)
		return maps.error();
	PassEnv env;
	if (kinsns && !kinsns->empty()) {
		auto o = orig();
		if (!o)
			return o.error();
		env.kinsns =
		        kinsns->refs(kinsn_btf_slots(o->insns, maps->size(), kinsns->modules()));
	}
	for (uint32_t idx = 0; idx < maps->size(); idx++) {
		const int fd = (*maps)[idx].get();
		bpf_map_info mi{};
		__u32 len = sizeof(mi);
		if (bpf_map_get_info_by_fd(fd, &mi, &len))
			return sys_error(fmt::format("prog {}: map index {}: info", id_, idx));
		// Frozen stops user space writes, BPF_F_RDONLY_PROG program writes:
		// then the value is what it is for as long as the map exists.
		if (mi.type != BPF_MAP_TYPE_ARRAY || mi.max_entries != 1 ||
		    !(mi.map_flags & BPF_F_RDONLY_PROG) || !map_frozen(fd))
			continue;
		std::vector<uint8_t> value(mi.value_size);
		const uint32_t key = 0;
		if (bpf_map_lookup_elem(fd, &key, value.data()))
			return sys_error(fmt::format("prog {}: map {}: lookup", id_, mi.id));
		env.frozen_maps.emplace(idx, std::move(value));
	}
	return env;
}

Result<uint32_t> LiveProg::spare_map_index() const {
	auto maps = orig_maps();
	auto o = maps ? orig() : Result<Program>(maps.error());
	if (!o)
		return o.error();
	// the first index a kinsn module BTF would get, were there one module
	const auto slots = kinsn_btf_slots(o->insns, maps->size(), {""});
	if (slots.empty())
		return make_error(ENOSPC, fmt::format("prog {}: no fd_array index left", id_));
	return uint32_t(slots.begin()->second);
}

namespace {

// Calls f(map fd, its info) for each map the current code uses, until f
// returns true; whether one did.
template <typename F>
Result<bool> any_map(int prog_fd, F f) {
	auto ids = map_ids(prog_fd, false);
	if (!ids)
		return ids.error();
	for (__u32 id : *ids) {
		Fd m(bpf_map_get_fd_by_id(id));
		bpf_map_info mi{};
		__u32 len = sizeof(mi);
		if (m && bpf_map_get_info_by_fd(m.get(), &mi, &len) == 0 && f(m.get(), mi))
			return true;
	}
	return false;
}

} // namespace

Result<bool> LiveProg::has_edge_counters() const {
	return any_map(fd(), [](int, const bpf_map_info &mi) {
		return std::string_view(mi.name) == kEdgeMapName;
	});
}

Result<std::vector<uint32_t>> LiveProg::tail_call_targets() const {
	std::vector<uint32_t> ids;
	auto res = any_map(fd(), [&](int m, const bpf_map_info &mi) {
		if (mi.type != BPF_MAP_TYPE_PROG_ARRAY)
			return false;
		// from user space a slot reads as the id of its program
		for (uint32_t key = 0; key < mi.max_entries; key++)
			if (uint32_t id; bpf_map_lookup_elem(m, &key, &id) == 0 && id != id_)
				ids.push_back(id);
		return false;
	});
	if (!res)
		return res.error();
	std::sort(ids.begin(), ids.end());
	ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
	return ids;
}

Result<Fd> create_edge_map(size_t counters) {
	if (!counters || counters > kMaxEdgeCounters)
		return make_error(E2BIG, fmt::format("{} edge counters (at most {})", counters,
		                                     kMaxEdgeCounters));
	Fd fd(bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, kEdgeMapName, 4, uint32_t(counters * 8),
	                     1, nullptr));
	if (!fd)
		return sys_error("creating the edge counter map");
	return fd;
}

Result<std::vector<uint64_t>> read_edge_map(int fd, size_t counters) {
	const int cpus = libbpf_num_possible_cpus();
	if (cpus <= 0)
		return make_error(-cpus, "counting the possible CPUs");
	std::vector<uint64_t> per_cpu(counters * size_t(cpus)), v(counters);
	const uint32_t key = 0;
	if (bpf_map_lookup_elem(fd, &key, per_cpu.data()))
		return sys_error("reading the edge counters");
	for (size_t c = 0; c < size_t(cpus); c++)
		for (size_t i = 0; i < counters; i++)
			v[i] += per_cpu[c * counters + i];
	return v;
}

Result<LoadAttrs> LiveProg::load_attrs(const Program &p, const std::vector<int> &maps,
                                       const Kinsns *kinsns, int extra) const {
	LoadAttrs a;
	a.fd_array = maps;
	std::vector<int> &fds = a.fd_array;
	if (extra >= 0) {
		auto at = spare_map_index();
		if (!at)
			return at.error();
		// indexes in between belong to kfunc calls, which do not read them
		fds.resize(*at + 1, extra);
	}
	const bool has_kinsns = std::any_of(p.insns.begin(), p.insns.end(),
	                                    [](const Insn &in) { return in.is_kinsn(); });
	if (kinsns && has_kinsns) {
		auto o = orig();
		if (!o)
			return o.error();
		// The module BTFs pass_env() gave indexes to, where p uses them.
		// Gaps (indexes of load-time kfunc BTFs the kernel resolves
		// itself, or 0 without maps) get one of those fds too.
		std::map<int16_t, int> at;
		for (const auto &[module, slot] :
		     kinsn_btf_slots(o->insns, maps.size(), kinsns->modules()))
			for (const Insn &in : p.insns)
				if (in.is_kinsn() && in.off == slot) {
					at[slot] = kinsns->btf_fd(module);
					break;
				}
		if (!at.empty()) {
			fds.resize(std::max(fds.size(), size_t(at.rbegin()->first) + 1),
			           at.begin()->second);
			for (const auto &[slot, fd] : at)
				fds[size_t(slot)] = fd;
		}
	}
	if (!p.func_info.empty()) {
		auto i = get_info(fd());
		if (!i)
			return i.error();
		a.btf.reset(bpf_btf_get_fd_by_id(i->btf_id));
		if (!a.btf)
			return sys_error(fmt::format("prog {}: BTF {}", id_, i->btf_id));
		a.btf_id = i->btf_id;
	}
	return a;
}

Result<void> LiveProg::rejit(const Program &p, const Kinsns *kinsns, int extra) const {
	auto maps = orig_maps();
	if (!maps)
		return maps.error();
	std::vector<int> map_fds;
	for (const Fd &m : *maps)
		map_fds.push_back(m.get());
	auto attrs = load_attrs(p, map_fds, kinsns, extra);
	if (!attrs)
		return attrs.error();
	const std::vector<bpf_insn> raw = encode(p.insns);
	std::string log(1 << 20, '\0');
	bpf_prog_rejit_opts opts{};
	opts.sz = sizeof(opts);
	attrs->set(opts, p);
	if (bpf_prog_rejit(fd(), raw.data(), raw.size(), &opts) == 0)
		return {};
	const int err = errno;
	// Failures change nothing: ask again with a log to say why.
	opts.log_level = 1;
	opts.log_buf = log.data();
	opts.log_size = uint32_t(log.size());
	bpf_prog_rejit(fd(), raw.data(), raw.size(), &opts);
	log = verifier_log_tail(log);
	return make_error(err, fmt::format("prog {}: re-JIT rejected, program unchanged{}{}", id_,
	                                   log.empty() ? "" : "; verifier log: ", log));
}

std::string verifier_log_tail(std::string log) {
	log.resize(std::strlen(log.c_str()));
	while (!log.empty() && log.back() == '\n')
		log.pop_back();
	const size_t tail = log.rfind('\n', log.size() > 2000 ? log.size() - 2000 : 0);
	return log.substr(tail == std::string::npos ? 0 : tail + 1);
}

Result<std::vector<uint32_t>> live_prog_ids() {
	std::vector<uint32_t> ids;
	__u32 id = 0;
	while (bpf_prog_get_next_id(id, &id) == 0)
		ids.push_back(id);
	if (errno != ENOENT)
		return sys_error("BPF_PROG_GET_NEXT_ID");
	return ids;
}

Result<Fd> enable_run_stats() {
	Fd fd(bpf_enable_stats(BPF_STATS_RUN_TIME));
	if (!fd)
		return sys_error("BPF_ENABLE_STATS");
	return fd;
}

bool kernel_has_rejit() {
	// A well-formed request for no program: a patched kernel looks the fd
	// up and says EBADF (or EPERM); an unpatched one answers EINVAL to the
	// unknown command.
	bpf_prog_rejit_opts opts{};
	opts.sz = sizeof(opts);
	bpf_insn nop{};
	if (bpf_prog_rejit(-1, &nop, 1, &opts) == 0)
		return true;
	return errno == EBADF || errno == EPERM;
}

} // namespace rejit
