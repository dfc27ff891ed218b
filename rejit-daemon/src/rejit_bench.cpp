// SPDX-License-Identifier: GPL-2.0
// rejit-bench: the micro-benchmark pipeline of `make bench`.
//
//   rejit-bench dump OUT_DIR OBJ.bpf.o[:PROG]...     in the VM (patched kernel)
//   rejit-bench replay DUMP_DIR [options]            on the host
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/collect.hpp"
#include "bench/dump.hpp"

namespace {

int usage(int rc) {
	std::fputs("usage: rejit-bench dump OUT_DIR OBJ.bpf.o[:PROG]...\n"
	           "       rejit-bench replay DUMP_DIR [--native LIB.so] [--json OUT.json]\n"
	           "                          [--host-tier | --no-host-tier]\n",
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

} // namespace

int main(int argc, char **argv) {
	std::vector<std::string> args(argv + 1, argv + argc);
	if (args.empty())
		return usage(2);
	if (args[0] == "-h" || args[0] == "--help")
		return usage(0);
	if (args[0] == "dump")
		return dump(args);
	return usage(2);
}
