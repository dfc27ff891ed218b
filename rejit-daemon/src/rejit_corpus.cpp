// SPDX-License-Identifier: GPL-2.0
// rejit-corpus: prove the passes on BPF objects nobody here wrote. Runs on
// the patched kernel (make test does it in the VM).
//
//   rejit-corpus [--inputs N] [--source LABEL] OBJECT... [--source LABEL OBJECT...]...
//
// For every program of every object: the passes run on the bytecode as
// libbpf would load it; where they change something, the program is loaded
// alone three times (A, B, C). B is re-JITed with the passes applied to its
// original bytecode (the daemon's path): the verifier must accept it. For
// program types BPF_PROG_TEST_RUN supports, A, B and C run the same
// generated packets; B must return what A returns, output the same packet
// and leave the same map contents, wherever A and C (both original) agree,
// i.e. the program is deterministic. Programs that read stack bytes they
// never wrote are not compared at all; where a program calling time or
// random helpers differs, a fourth instance reruns the packet to tell
// chance from a real difference (the comparison is the daemon's shadow
// check's, rejit/shadow.hpp, on instances libbpf loaded). Prints a table;
// exits 1 if any rewrite was rejected or behaved differently. Programs
// whose attach path the kernel cannot re-JIT yet (EOPNOTSUPP, e.g.
// trampoline-called types) are counted apart: the kernel refuses them
// before verifying anything. Where the kernel has kinsns
// (/sys/kernel/bpf_kinsn: kinsn_bitops, kinsn_crc32c and kinsn_movbe
// loaded), passes use them as the daemon does (rotate, crc, ...), module
// BTF in fd_array included; without, it says so once. Before the passes run
// on a program that test runs support, a fourth instance is re-JITed with
// edge counters (the daemon's instrumented tier; the verifier must accept
// that code too) and runs the same packets, so the layout pass gets a real
// edge profile.
//
// Code size: every changed program's xlated instructions and JITed bytes
// (jited_prog_len) before (the load-time image) and after the re-JIT, and
// per source (the LABEL of --source before its objects; "objects" without
// one) the totals and the geomean of after/before over the programs the
// verifier accepted.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/determinism.hpp"
#include "rejit/live.hpp"
#include "rejit/object.hpp"
#include "rejit/pass.hpp"
#include "rejit/shadow.hpp"

namespace {

using namespace rejit;

// The edge profile of program `name` on `inputs` packets, taken on an
// instance of its own with edge counters. Counts the instrumented re-JIT
// as accepted or refused (printing why).
struct ProfileStats {
	size_t instrumented = 0, refused = 0, branches = 0, unprofiled = 0;
};
EdgeProfile profile(const std::string &path, const std::string &name, int inputs,
                    ProfileStats &st) {
	auto p = load_alone(path, name);
	auto live = p ? LiveProg::from_fd(bpf_program__fd(p->prog)) : Result<LiveProg>(p.error());
	auto orig = live ? live->orig() : Result<Program>(live.error());
	auto idx = orig ? live->spare_map_index() : Result<uint32_t>(orig.error());
	auto ins = idx ? instrument(*orig, *idx) : Result<Instrumented>(idx.error());
	if (!ins || !ins->probes.counters)
		return {};
	auto map = create_edge_map(ins->probes.counters);
	auto res = map ? live->rejit(ins->prog, nullptr, map->get()) : Result<void>(map.error());
	if (!res) {
		st.refused++;
		fmt::print("{} {}: instrumented code refused: {}\n", path, name, res.error().str());
		return {};
	}
	st.instrumented++;
	std::mt19937 rng(1);
	for (int i = 0; i < inputs; i++)
		test_run(bpf_program__fd(p->prog), packet(rng));
	auto counts = read_edge_map(map->get(), ins->probes.counters);
	if (!counts)
		return {};
	st.branches += ins->probes.branches.size();
	st.unprofiled += ins->probes.unprofiled.size();
	return edge_profile(ins->probes, *counts);
}

// Every map's contents, by map name.
std::map<std::string, MapContents> maps_of(const bpf_object *obj) {
	std::map<std::string, MapContents> all;
	const bpf_map *m;
	bpf_object__for_each_map(m, obj) {
		const int fd = bpf_map__fd(m);
		if (fd < 0)
			continue;
		auto c = map_contents(fd, 100000);
		all[bpf_map__name(m)] = c ? std::move(c).value() : MapContents{};
	}
	return all;
}

struct Row {
	std::string source, name, type, verdict;
	size_t sites = 0;
	uint32_t insns_before = 0, insns_after = 0, jited_before = 0, jited_after = 0;
};

int usage() {
	fmt::print(stderr, "usage: rejit-corpus [--inputs N] [--source LABEL] OBJECT... "
	                   "[--source LABEL OBJECT...]...\n");
	return 2;
}

// Code size of the accepted rewrites of one source.
struct SizeTally {
	size_t objects = 0, programs = 0, measured = 0;
	uint64_t jited_before = 0, jited_after = 0;
	double log_insns = 0, log_jited = 0, worst_insns = 0, worst_jited = 0;

	void add(const Row &r) {
		const double ri = double(r.insns_after) / r.insns_before;
		const double rj = double(r.jited_after) / r.jited_before;
		log_insns += std::log(ri), log_jited += std::log(rj);
		worst_insns = std::max(worst_insns, ri), worst_jited = std::max(worst_jited, rj);
		jited_before += r.jited_before, jited_after += r.jited_after;
		measured++;
	}
	void add(const SizeTally &t) {
		objects += t.objects, programs += t.programs, measured += t.measured;
		jited_before += t.jited_before, jited_after += t.jited_after;
		log_insns += t.log_insns, log_jited += t.log_jited;
		worst_insns = std::max(worst_insns, t.worst_insns);
		worst_jited = std::max(worst_jited, t.worst_jited);
	}
	[[nodiscard]] double geo_insns() const { return std::exp(log_insns / measured); }
	[[nodiscard]] double geo_jited() const { return std::exp(log_jited / measured); }
};

} // namespace

int main(int argc, char **argv) {
	int inputs = 200;
	// (object, source label), in command-line order
	std::vector<std::pair<std::string, std::string>> paths;
	std::vector<std::string> sources; // labels in order of appearance
	std::string source = "objects";
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		if (a == "--inputs" && i + 1 < argc) {
			inputs = std::atoi(argv[++i]);
		} else if (a == "--source" && i + 1 < argc) {
			source = argv[++i];
			// one word: the size table is read by scripts column by column
			if (source.empty() || source == "all" ||
			    source.find_first_of(" \t\n") != std::string::npos) {
				fmt::print(stderr,
				           "rejit-corpus: --source '{}': a label is one word, not "
				           "'all'\n",
				           source);
				return 2;
			}
		} else if (a[0] == '-') {
			return usage();
		} else {
			paths.emplace_back(a, source);
			if (std::find(sources.begin(), sources.end(), source) == sources.end())
				sources.push_back(source);
		}
	}
	if (paths.empty() || inputs <= 0)
		return usage();
	libbpf_set_print([](libbpf_print_level, const char *, va_list) { return 0; });
	const auto passes = all_passes();
	// kinsns of this kernel (loaded in the VM): rewrites that
	// use them are verified by the kernel like the others.
	auto discovered = Kinsns::discover();
	Kinsns kinsns;
	if (discovered)
		kinsns = std::move(discovered).value();
	if (kinsns.empty())
		fmt::print(
		        "kinsns: none{}; passes that need them (rotate, crc, ...) change nothing\n",
		        discovered ? "" : " (" + discovered.error().str() + ")");
	else
		fmt::print("kinsns: {}\n", kinsns.describe());
	// Offline the module BTFs have no fd_array index yet: any will do to
	// find the programs a pass changes.
	std::map<std::string, int16_t> any_slot;
	for (const std::string &m : kinsns.modules())
		any_slot[m] = 1;
	const KinsnMap offline_kinsns = kinsns.refs(any_slot);

	size_t objects = 0, programs = 0, offline_changed = 0, loadable = 0, changed = 0;
	size_t accepted = 0, rejected = 0, unsupported = 0, runnable = 0, identical = 0,
	       different = 0, nondet = 0;
	std::map<std::string, size_t> sites_per_pass;
	ProfileStats profiled;
	std::vector<Row> rows;
	std::map<std::string, SizeTally> sizes; // by source
	for (const auto &[path, src] : paths) {
		auto progs = object_programs(path);
		if (!progs)
			continue; // not an object libbpf can open (reported by count)
		objects++;
		sizes[src].objects++;
		std::vector<std::string> names;
		for (const ObjectProgram &op : *progs) {
			programs++;
			sizes[src].programs++;
			PassEnv env = op.env;
			env.kinsns = offline_kinsns;
			if (op.prog && run_passes(*op.prog, passes, env).changed())
				names.push_back(op.name);
		}
		offline_changed += names.size();
		for (const std::string &name : names) {
			auto a = load_alone(path, name);
			if (!a)
				continue; // needs what a lone load cannot give (attach target, ...)
			loadable++;
			auto live_a = LiveProg::from_fd(bpf_program__fd(a->prog));
			auto orig = live_a ? live_a->orig() : Result<Program>(live_a.error());
			auto env = live_a ? live_a->pass_env(&kinsns)
			                  : Result<PassEnv>(live_a.error());
			if (!orig || !env)
				continue;
			if (test_runnable(bpf_program__type(a->prog)))
				env->profile = profile(path, name, inputs, profiled);
			Optimized o = run_passes(*orig, passes, *env);
			if (!o.changed())
				continue;
			changed++;
			for (const PassReport &r : o.reports)
				sites_per_pass[r.pass] += r.changed();
			Row row{src, name,
			        libbpf_bpf_prog_type_str(bpf_program__type(a->prog)) ?: "?", "",
			        o.changed()};
			auto b = load_alone(path, name);
			auto live_b = b ? LiveProg::from_fd(bpf_program__fd(b->prog))
			                : Result<LiveProg>(b.error());
			auto res = live_b ? live_b->rejit(o.prog, &kinsns)
			                  : Result<void>(live_b.error());
			auto ia = live_a->info();
			auto ib = live_b ? live_b->info() : Result<ProgInfo>(live_b.error());
			if (ia && ib) {
				row.insns_before = ia->xlated_insns,
				row.insns_after = ib->xlated_insns;
				row.jited_before = ia->jited_bytes,
				row.jited_after = ib->jited_bytes;
			}
			if (!res && res.error().err == EOPNOTSUPP) {
				unsupported++;
				row.verdict = "not re-JITable yet (EOPNOTSUPP)";
				rows.push_back(row);
				continue;
			}
			if (!res) {
				rejected++;
				row.verdict = "REJECTED";
				fmt::print("{} {}: {}\n", path, name, res.error().str());
				rows.push_back(row);
				continue;
			}
			accepted++;
			row.verdict = "accepted";
			if (!test_runnable(bpf_program__type(a->prog))) {
				rows.push_back(row);
				continue;
			}
			auto c = load_alone(path, name);
			if (!c) {
				rows.push_back(row);
				continue;
			}
			runnable++;
			const auto nd = nondeterminism(*orig);
			if (nd && nd->source == Nondeterminism::UninitStack) {
				nondet++;
				row.verdict += fmt::format(", nondeterministic: {} (not compared)",
				                           nd->why);
				rows.push_back(row);
				continue;
			}
			std::optional<LoadedProgram> d; // reruns the original where B differs
			bool tried = false;
			ShadowTally tally;
			shadow_inputs(
			        bpf_program__fd(a->prog), bpf_program__fd(b->prog),
			        bpf_program__fd(c->prog), {unsigned(inputs), 1}, nd.has_value(),
			        [&] {
				        if (!std::exchange(tried, true))
					        if (auto l = load_alone(path, name))
						        d = std::move(*l);
				        return d ? bpf_program__fd(d->prog) : -1;
			        },
			        tally);
			auto ma = maps_of(a->obj.get()), mb = maps_of(b->obj.get()),
			     mc = maps_of(c->obj.get());
			for (auto &[map, entries] : ma)
				tally.map(map, entries, mb[map], mc[map]);
			const bool same = !tally.different(), det = !tally.skipped();
			if (!same)
				fmt::print("{} {}: {}\n", path, name, tally.first_difference());
			if (!det && same) {
				nondet++;
				row.verdict += ", nondeterministic (results not compared)";
			} else if (same) {
				identical++;
				row.verdict += ", identical";
			} else {
				different++;
				row.verdict += ", DIFFERENT";
			}
			rows.push_back(row);
		}
	}

	fmt::print("\n{:<10} {:<28} {:<14} {:>5} {:>11} {:>11}  {}\n", "source", "program", "type",
	           "sites", "insns", "jited", "verifier, test run");
	for (const Row &r : rows) {
		fmt::print("{:<10} {:<28} {:<14} {:>5} {:>11} {:>11}  {}\n", r.source,
		           r.name.substr(0, 28), r.type, r.sites,
		           fmt::format("{}->{}", r.insns_before, r.insns_after),
		           fmt::format("{}->{}", r.jited_before, r.jited_after), r.verdict);
		if (r.insns_before && r.jited_before && r.verdict.starts_with("accepted"))
			sizes[r.source].add(r);
	}
	SizeTally all;
	for (const auto &[src, t] : sizes)
		all.add(t);
	const size_t measured = all.measured;
	fmt::print("\ncorpus: {} objects, {} programs; {} changed by the passes offline, {} of "
	           "them loadable alone\n",
	           objects, programs, offline_changed, loadable);
	for (const auto &[pass, n] : sites_per_pass)
		fmt::print("sites: {} {}\n", pass, n);
	fmt::print("edge profiles: {} programs instrumented ({} refused), {} branches counted, "
	           "{} not countable\n",
	           profiled.instrumented, profiled.refused, profiled.branches, profiled.unprofiled);
	const size_t submitted = changed - unsupported;
	fmt::print("verifier: {} of {} rewritten programs accepted ({:.0f}%); {} more of a type "
	           "the kernel cannot re-JIT yet\n",
	           accepted, submitted, submitted ? 100.0 * accepted / submitted : 100.0,
	           unsupported);
	fmt::print("test run: {} of {} programs identical on {} packets each (+ maps); {} "
	           "nondeterministic\n",
	           identical, runnable - nondet, inputs, nondet);
	if (measured)
		fmt::print("xlated insns after/before: geomean {:.3f}, worst {:.3f}; JITed bytes: "
		           "geomean {:.3f}, worst {:.3f}\n",
		           all.geo_insns(), all.worst_insns, all.geo_jited(), all.worst_jited);
	// Per source, over the rewrites the verifier accepted; the "all" row
	// is the sum (and the geomean) of the rows above it.
	fmt::print("\ncode size per source (accepted rewrites; before = load-time image, after = "
	           "re-JIT):\n{:<10} {:>7} {:>8} {:>8} {:>12} {:>12} {:>10} {:>10} {:>10}\n",
	           "source", "objects", "programs", "measured", "jited-before", "jited-after",
	           "geo-jited", "worst", "geo-insns");
	auto size_row = [](const std::string &src, const SizeTally &t) {
		fmt::print("{:<10} {:>7} {:>8} {:>8} {:>12} {:>12} {:>10} {:>10} {:>10}\n", src,
		           t.objects, t.programs, t.measured, t.jited_before, t.jited_after,
		           t.measured ? fmt::format("{:.3f}", t.geo_jited()) : "-",
		           t.measured ? fmt::format("{:.3f}", t.worst_jited) : "-",
		           t.measured ? fmt::format("{:.3f}", t.geo_insns()) : "-");
	};
	for (const std::string &src : sources)
		size_row(src, sizes[src]);
	size_row("all", all);
	return rejected || different ? 1 : 0;
}
