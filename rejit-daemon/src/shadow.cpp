// SPDX-License-Identifier: GPL-2.0
#include "rejit/shadow.hpp"

#include <sched.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/determinism.hpp"

namespace rejit {
namespace {

Error sys_error(std::string what) {
	return make_error(errno, std::move(what));
}

std::string map_type_name(uint32_t t) {
	const char *n = libbpf_bpf_map_type_str(bpf_map_type(t));
	return n ? n : fmt::format("type{}", t);
}

// Map types whose whole state is keys and values user space can read and
// write: those a copy reproduces exactly.
bool copyable(uint32_t t) {
	switch (t) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
		return true;
	default:
		return false;
	}
}

// A live map as it was when the check began.
struct MapSnapshot {
	bpf_map_info info{};
	Fd btf; // the map's BTF (spin locks, timers need it), if it has one
	bool frozen = false;
	MapContents contents;
};

Result<MapSnapshot> snapshot(int fd) {
	MapSnapshot s;
	__u32 len = sizeof(s.info);
	if (bpf_map_get_info_by_fd(fd, &s.info, &len))
		return sys_error("map info");
	if (s.info.btf_id && s.info.btf_value_type_id) {
		s.btf.reset(bpf_btf_get_fd_by_id(s.info.btf_id));
		if (!s.btf)
			return sys_error(fmt::format("map {}: BTF {}", s.info.name, s.info.btf_id));
	}
	s.frozen = map_frozen(fd);
	auto c = map_contents(fd);
	if (!c)
		return c.error();
	s.contents = std::move(c).value();
	return s;
}

// A new map like the snapshot's, with its contents (frozen if it was).
// Writable from user space whatever the original allows: the check fills
// and reads it.
Result<Fd> copy_of(const MapSnapshot &s) {
	const bpf_map_info &mi = s.info;
	bpf_map_create_opts o{};
	o.sz = sizeof(o);
	o.map_flags = mi.map_flags & ~uint32_t(BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_NUMA_NODE);
	o.map_extra = mi.map_extra;
	if (s.btf) {
		o.btf_fd = uint32_t(s.btf.get());
		o.btf_key_type_id = mi.btf_key_type_id;
		o.btf_value_type_id = mi.btf_value_type_id;
	}
	Fd fd(bpf_map_create(bpf_map_type(mi.type), mi.name, mi.key_size, mi.value_size,
	                     mi.max_entries, &o));
	if (!fd)
		return sys_error(fmt::format("map {}: creating a copy", mi.name));
	for (const auto &[k, v] : s.contents)
		if (bpf_map_update_elem(fd.get(), k.data(), v.data(), BPF_ANY))
			return sys_error(fmt::format("map {}: filling the copy", mi.name));
	if (s.frozen && bpf_map_freeze(fd.get()))
		return sys_error(fmt::format("map {}: freezing the copy", mi.name));
	return fd;
}

// One standalone program with maps of its own.
struct Instance {
	std::vector<Fd> maps;
	Fd prog;
};

Result<Instance> instantiate(const LiveProg &live, const bpf_prog_info &pi, const Program &p,
                             const std::vector<MapSnapshot> &maps, const Kinsns *kinsns,
                             const char *what) {
	Instance in;
	std::vector<int> fds;
	for (const MapSnapshot &s : maps) {
		auto m = copy_of(s);
		if (!m)
			return m.error();
		fds.push_back(m->get());
		in.maps.push_back(std::move(m).value());
	}
	auto attrs = live.load_attrs(p, fds, kinsns);
	if (!attrs)
		return attrs.error();
	const std::vector<bpf_insn> raw = encode(p.insns);
	bpf_prog_load_opts o{};
	o.sz = sizeof(o);
	attrs->set(o, p);
	const char *license = pi.gpl_compatible ? "GPL" : "Proprietary";
	auto load = [&] {
		return Fd(bpf_prog_load(bpf_prog_type(pi.type), pi.name, license, raw.data(),
		                        raw.size(), &o));
	};
	in.prog = load();
	if (!in.prog) {
		const int err = errno;
		std::string log(1 << 20, '\0');
		o.log_level = 1;
		o.log_buf = log.data();
		o.log_size = uint32_t(log.size());
		load();
		log = verifier_log_tail(log);
		return make_error(err, fmt::format("{} does not load standalone{}{}", what,
		                                   log.empty() ? "" : "; verifier log: ", log));
	}
	return in;
}

// Keeps the thread on the CPU it is on: per-CPU map values and the CPU
// number stay the same from one test run to the next.
class CpuPin {
public:
	CpuPin() {
		const int cpu = sched_getcpu();
		if (cpu < 0 || sched_getaffinity(0, sizeof(old_), &old_))
			return;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
	}
	~CpuPin() {
		if (pinned_)
			sched_setaffinity(0, sizeof(old_), &old_);
	}
	CpuPin(const CpuPin &) = delete;
	CpuPin &operator=(const CpuPin &) = delete;

private:
	cpu_set_t old_{};
	bool pinned_ = false;
};

} // namespace

std::string ShadowVerdict::str() const {
	switch (kind) {
	case Same:
		return "same: " + why;
	case Different:
		return "different: " + why;
	case NotChecked:
		break;
	}
	return "not checked: " + why;
}

std::optional<std::string>
shadow_unsupported(uint32_t prog_type, const std::vector<ShadowMap> &maps, const Program &orig) {
	if (!test_runnable(bpf_prog_type(prog_type))) {
		const char *n = libbpf_bpf_prog_type_str(bpf_prog_type(prog_type));
		return fmt::format("type {} (no packet test runs)",
		                   n ? std::string(n) : fmt::format("{}", prog_type));
	}
	for (const ShadowMap &m : maps)
		if (!copyable(m.type))
			return fmt::format("{} map {}", map_type_name(m.type), m.name);
	size_t slot = 0;
	for (const Insn &in : orig.insns) {
		if (in.code == (BPF_JMP | BPF_CALL) && in.src == BPF_PSEUDO_KFUNC_CALL && in.off)
			return fmt::format("insn {} calls a kfunc of a module (fd_array index {})",
			                   slot, in.off);
		slot += in.slots();
	}
	if (auto nd = nondeterminism(orig); nd && nd->source == Nondeterminism::UninitStack)
		return "nondeterministic: " + nd->why;
	return std::nullopt;
}

InputOutcome compare_input(const RunResult &a, const RunResult &b, const RunResult &c) {
	if (!(a == c))
		return InputOutcome::Skipped;
	return a == b ? InputOutcome::Same : InputOutcome::Different;
}

void ShadowTally::input(unsigned index, size_t len, InputOutcome o, const RunResult &a,
                        const RunResult &b) {
	inputs_++;
	switch (o) {
	case InputOutcome::Skipped:
		skipped_++;
		return;
	case InputOutcome::Same:
		compared_++;
		return;
	case InputOutcome::Different:
		compared_++;
		if (first_.empty())
			first_ = fmt::format("input #{} ({} bytes): {} (original vs rewritten)",
			                     index, len, run_difference(a, b).value_or("?"));
		return;
	}
}

void ShadowTally::map(const std::string &name, const MapContents &a, const MapContents &b,
                      const MapContents &c) {
	if (a != c) {
		maps_skipped_++;
		return;
	}
	maps_++;
	if (auto d = map_difference(a, b); d && first_.empty())
		first_ = fmt::format("map {} after {} inputs: {} (original vs rewritten)", name,
		                     inputs_, *d);
}

ShadowVerdict ShadowTally::verdict() const {
	if (!first_.empty())
		return {ShadowVerdict::Different, first_};
	if (!compared_)
		return {ShadowVerdict::NotChecked,
		        fmt::format("the original disagreed with itself on all {} inputs",
		                    inputs_)};
	std::string why = fmt::format("{} of {} inputs compared", compared_, inputs_);
	if (skipped_)
		why += fmt::format(" ({} skipped: the original disagreed with itself)", skipped_);
	why += fmt::format(", {} maps", maps_);
	if (maps_skipped_)
		why += fmt::format(" ({} more changed differently in two runs of the original)",
		                   maps_skipped_);
	return {ShadowVerdict::Same, why};
}

void shadow_inputs(int a, int b, int c, const ShadowOptions &opts, bool helper_nondet,
                   const std::function<int()> &rerun, ShadowTally &tally) {
	std::mt19937 rng(opts.seed);
	const CpuPin pin;
	for (unsigned i = 0; i < opts.inputs && !tally.different(); i++) {
		const auto pkt = packet(rng);
		const RunResult ra = test_run(a, pkt);
		const RunResult rb = test_run(b, pkt);
		const RunResult rc = test_run(c, pkt);
		InputOutcome o = compare_input(ra, rb, rc);
		// A program calling time or random helpers may agree with itself
		// twice by chance.
		if (o == InputOutcome::Different && helper_nondet) {
			const int d = rerun();
			if (d < 0 || !repeatable(d, pkt))
				o = InputOutcome::Skipped;
		}
		tally.input(i, pkt.size(), o, ra, rb);
	}
}

Result<ShadowVerdict> shadow_check(const LiveProg &live, const Program &orig,
                                   const Program &rewritten, const Kinsns *kinsns,
                                   const ShadowOptions &opts) {
	bpf_prog_info pi{};
	__u32 len = sizeof(pi);
	if (bpf_prog_get_info_by_fd(live.fd(), &pi, &len))
		return sys_error(fmt::format("prog {}: info", live.id()));
	auto live_maps = live.orig_maps();
	if (!live_maps)
		return live_maps.error();
	std::vector<ShadowMap> desc;
	for (const Fd &m : *live_maps) {
		bpf_map_info mi{};
		__u32 ml = sizeof(mi);
		if (bpf_map_get_info_by_fd(m.get(), &mi, &ml))
			return sys_error(fmt::format("prog {}: map info", live.id()));
		desc.push_back({mi.name, mi.type});
	}
	if (auto why = shadow_unsupported(pi.type, desc, orig))
		return ShadowVerdict{ShadowVerdict::NotChecked, *why};
	// One snapshot of the live maps: every copy starts from the same state
	// however the live maps change meanwhile.
	std::vector<MapSnapshot> snaps;
	for (const Fd &m : *live_maps) {
		auto s = snapshot(m.get());
		if (!s && s.error().err == E2BIG)
			return ShadowVerdict{ShadowVerdict::NotChecked, s.error().msg};
		if (!s)
			return Error{s.error().err,
			             fmt::format("prog {}: {}", live.id(), s.error().msg)};
		snaps.push_back(std::move(s).value());
	}
	auto a = instantiate(live, pi, orig, snaps, kinsns, "the original");
	if (!a)
		return ShadowVerdict{ShadowVerdict::NotChecked, a.error().str()};
	auto b = instantiate(live, pi, rewritten, snaps, kinsns, "the rewritten code");
	if (!b)
		return ShadowVerdict{ShadowVerdict::NotChecked, b.error().str()};
	auto c = instantiate(live, pi, orig, snaps, kinsns, "the original");
	if (!c)
		return ShadowVerdict{ShadowVerdict::NotChecked, c.error().str()};
	std::optional<Instance> d; // reruns the original, made when needed
	bool tried = false;
	ShadowTally tally;
	shadow_inputs(
	        a->prog.get(), b->prog.get(), c->prog.get(), opts, nondeterminism(orig).has_value(),
	        [&] {
		        if (!std::exchange(tried, true))
			        if (auto l = instantiate(live, pi, orig, snaps, kinsns,
			                                 "the original"))
				        d = std::move(l).value();
		        return d ? d->prog.get() : -1;
	        },
	        tally);
	for (size_t k = 0; k < snaps.size() && !tally.different(); k++) {
		auto ma = map_contents(a->maps[k].get());
		auto mb = map_contents(b->maps[k].get());
		auto mc = map_contents(c->maps[k].get());
		if (!ma || !mb || !mc)
			return (!ma ? ma : !mb ? mb : mc).error();
		tally.map(snaps[k].info.name, *ma, *mb, *mc);
	}
	return tally.verdict();
}

} // namespace rejit
