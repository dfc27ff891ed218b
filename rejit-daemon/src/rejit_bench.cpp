// SPDX-License-Identifier: GPL-2.0
// rejit-bench: the micro-benchmark pipeline of `make bench`.
//
//   rejit-bench dump OUT_DIR OBJ.bpf.o[:PROG]...     in the VM (patched kernel)
//   rejit-bench replay DUMP_DIR [options]            on the host
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/collect.hpp"
#include "bench/dump.hpp"
#include "bench/report.hpp"

namespace {

int usage(int rc) {
	std::fputs("usage: rejit-bench dump OUT_DIR OBJ.bpf.o[:PROG]...\n"
	           "       rejit-bench replay DUMP_DIR [--native LIB.so] [--json OUT.json]\n"
	           "                          [--host-tier | --no-host-tier] [--samples N]\n"
	           "\n"
	           "dump: load each object in the running (patched) kernel, keep its stock\n"
	           "  image, re-JIT it with bpfrejitd's passes and keep that image too, with\n"
	           "  the kernel's test-run results on its inputs (OBJDIR/NAME.in, NAME.in.1\n"
	           "  ...; none: 64 pseudo-random bytes). PATH:PROG picks one program.\n"
	           "replay: check every dumped program on every tier against the native\n"
	           "  build's results (or the stock kernel run's), time the images on this\n"
	           "  CPU and on this kernel (host tier), print one table, write the JSON.\n",
	           rc ? stderr : stdout);
	return rc;
}

int fail(const std::string &msg) {
	fmt::print(stderr, "rejit-bench: {}\n", msg);
	return 1;
}

int dump(const std::vector<std::string> &args) {
	if (args.size() < 3)
		return usage(2);
	std::vector<rejit::bench::ObjectSpec> specs;
	for (size_t i = 2; i < args.size(); i++) {
		auto s = rejit::bench::parse_object_spec(args[i]);
		if (!s)
			return fail(s.error().msg);
		specs.push_back(std::move(s).value());
	}
	auto d = rejit::bench::collect(specs);
	if (!d)
		return fail(d.error().str());
	if (auto r = rejit::bench::write_dump(*d, args[1]); !r)
		return fail(r.error().str());
	size_t refused = 0, rejited = 0;
	for (const auto &p : d->progs) {
		if (!p.refused.empty()) {
			refused++;
			fmt::print(stderr, "{}: not dumped: {}\n", p.name, p.refused);
		} else if (!p.rejit_error.empty()) {
			fmt::print(stderr, "{}: re-JIT refused: {}\n", p.name, p.rejit_error);
		} else if (!p.passes.empty()) {
			rejited++;
		}
	}
	fmt::print("dumped {} programs to {} ({} re-JITed, {} not dumped), kernel {}\n",
	           d->progs.size(), args[1], rejited, refused, d->kernel);
	return 0;
}

int replay(const std::vector<std::string> &args) {
	if (args.size() < 2)
		return usage(2);
	std::string native_so, json_out;
	rejit::bench::ReportOptions o;
	for (size_t i = 2; i < args.size(); i++) {
		const std::string &a = args[i];
		const bool has_value = i + 1 < args.size();
		if (a == "--native" && has_value) {
			native_so = args[++i];
		} else if (a == "--json" && has_value) {
			json_out = args[++i];
		} else if (a == "--host-tier") {
			o.host_tier = true;
		} else if (a == "--no-host-tier") {
			o.host_tier = false;
		} else if (a == "--samples" && has_value) {
			const int n = std::atoi(args[++i].c_str());
			if (n < 1 || n > 1000)
				return fail("--samples: 1 .. 1000");
			o.timing.samples = unsigned(n);
			o.host.samples = unsigned(n);
		} else {
			return usage(2);
		}
	}
	auto d = rejit::bench::read_dump(args[1]);
	if (!d)
		return fail(d.error().str());
	std::optional<rejit::bench::NativeLib> native;
	if (!native_so.empty()) {
		auto n = rejit::bench::NativeLib::open(native_so);
		if (!n)
			return fail(n.error().str());
		native = std::move(n).value();
	}
	// the probe only if the tier runs; off is not a problem of the host
	const std::string host_problem = o.host_tier ? rejit::bench::host_bpf_problem() : "";
	auto rows = rejit::bench::evaluate(*d, native ? &*native : nullptr, host_problem, o);
	fmt::print("{}", rejit::bench::table(*d, rows, host_problem));
	if (!json_out.empty()) {
		std::ofstream f(json_out, std::ios::trunc);
		f << rejit::bench::rows_json(rows).dump(1, '\t') << "\n";
		f.close();
		if (!f)
			return fail(json_out + ": cannot write");
		fmt::print("\nwrote {}\n", json_out);
	}
	return 0;
}

} // namespace

int main(int argc, char **argv) {
	std::vector<std::string> args(argv + 1, argv + argc);
	if (args.empty())
		return usage(2);
	if (args[0] == "-h" || args[0] == "--help")
		return usage(0);
	if (args[0] == "dump")
		return dump(args);
	if (args[0] == "replay")
		return replay(args);
	return usage(2);
}
