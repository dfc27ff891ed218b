// SPDX-License-Identifier: GPL-2.0
// Host-CPU benchmark of the kinsn call forms (real silicon, not QEMU): the
// module's native x86 bytes against the kfunc's C body, which is what runs
// where there is no emitter (native=0, other JITs). Both are called through
// a function pointer in a dependent chain, as a kfunc call would be, so the
// ratio is the body's cost. Prints a table; asserts nothing.
//
//   kinsn_bench [OPS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "exec_code.hpp"
#include "kinsn_defs.h"

namespace {

using rejit::test::Code;
using rejit::test::Native;

// Best of 3 runs of `ops` chained calls, in ns per call.
double time_chain(Native f, long ops) {
	double best = 1e30;
	for (int round = 0; round < 3; round++) {
		uint64_t x = 0x9e3779b97f4a7c15ull;
		const auto t0 = std::chrono::steady_clock::now();
		for (long i = 0; i < ops; i++)
			x = f(x ^ uint64_t(i), uint64_t(i) * 0x2545f491, 13);
		const auto t1 = std::chrono::steady_clock::now();
		asm volatile("" : : "r"(x)); // the chain's result is used
		best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() /
		                              double(ops));
	}
	return best;
}

void family(std::span<const kinsn_def> defs, long ops) {
	for (const kinsn_def &d : defs) {
		// through a pointer the compiler cannot see through, like the native code
		Native meaning = d.meaning;
		asm volatile("" : "+r"(meaning));
		const double c = time_chain(meaning, ops);
		if (!kinsn_user_cpu_has(d.cpu)) {
			std::printf("%-16s %10s %12.2f %8s  host CPU lacks the instruction: native "
			            "code "
			            "NOT run\n",
			            d.name, "-", c, "-");
			continue;
		}
		const Code code(d);
		if (!code.fn()) {
			std::perror("mmap");
			std::exit(1);
		}
		const double n = time_chain(code.fn(), ops);
		std::printf("%-16s %10.2f %12.2f %7.2fx\n", d.name, n, c, c / n);
	}
}

} // namespace

int main(int argc, char **argv) {
	const long ops = argc > 1 ? std::atol(argv[1]) : 5'000'000;
	std::printf("kinsn call forms on the host CPU: %ld chained calls, best of 3, ns per call "
	            "(host wall-clock, real hardware)\n",
	            ops);
	std::printf("%-16s %10s %12s %8s\n", "kinsn", "native", "C body", "ratio");
	family(kinsn_crc32c_defs, ops);
	family(kinsn_bitops_defs, ops);
	return 0;
}
