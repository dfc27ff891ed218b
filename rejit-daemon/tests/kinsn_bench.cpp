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

#include <vector>

#include "exec_code.hpp"
#include "kinsn_defs.h"
#include "kinsn_mem.h"

namespace {

using rejit::test::Code;
using rejit::test::Native;

// Best of 3 runs of `ops` chained calls, in ns per call. A load's R1 is an
// address in a small buffer that the chain picks.
double time_chain(Native f, bool load, long ops) {
	uint64_t buf[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	double best = 1e30;
	for (int round = 0; round < 3; round++) {
		uint64_t x = 0x9e3779b97f4a7c15ull;
		const auto t0 = std::chrono::steady_clock::now();
		for (long i = 0; i < ops; i++) {
			const uint64_t a = x ^ uint64_t(i);
			x = f(load ? uint64_t(&buf[a & 7]) + (a >> 3 & 7) : a,
			      uint64_t(i) * 0x2545f491, 13);
		}
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
		const double c = time_chain(meaning, d.load, ops);
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
		const double n = time_chain(code.fn(), d.load, ops);
		std::printf("%-16s %10.2f %12.2f %7.2fx\n", d.name, n, c, c / n);
	}
}

// Best of 3 of `reps` calls of f(), in ns per call.
template <typename F>
double time_calls(F f, long reps) {
	double best = 1e30;
	for (int round = 0; round < 3; round++) {
		const auto t0 = std::chrono::steady_clock::now();
		for (long i = 0; i < reps; i++)
			f();
		const auto t1 = std::chrono::steady_clock::now();
		best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() /
		                              double(reps));
	}
	return best;
}

// The function-like kinsns: the tiers their bodies choose between. Without
// the kernel's kernel_fpu_begin()/end() around the vector code (see
// test_kinsn_mem for that, in the VM): on top of these numbers the first
// vector call after entering the kernel saves the task's FPU state.
void memory_kinsns(long ops) {
	std::vector<s8> a(4096), b(4096);
	for (size_t i = 0; i < a.size(); i++)
		a[i] = s8(i * 37 + 11), b[i] = s8(i * 91 + 5);
	const bool avx2 = __builtin_cpu_supports("avx2"), sse42 = __builtin_cpu_supports("sse4.2");
	std::printf("\nmemory kinsns on the host CPU: ns per call by size, scalar tier (C; SSE "
	            "for bf16) vs the vector tier%s\n",
	            avx2 ? "" : " (host CPU lacks AVX2: vector tier NOT run)");
	std::printf("%-22s %10s %12s %8s\n", "kinsn", "vector", "scalar", "ratio");
	volatile s64 sink = 0;
	// one row: the scalar tier, and the vector one if the CPU has it
	auto row = [](const char *name, bool have, long reps, auto scalar, auto vector) {
		const double s = time_calls(scalar, reps);
		if (!have)
			return (void)std::printf("%-22s %10s %12.1f %8s\n", name, "-", s, "-");
		const double v = time_calls(vector, reps);
		std::printf("%-22s %10.1f %12.1f %7.2fx\n", name, v, s, s / v);
	};
	char name[32];
	for (u32 n : {16u, 64u, 256u, 1024u, 4096u}) {
		std::snprintf(name, sizeof(name), "bpf_dot_i8 %u", n);
		row(
		        name, avx2, std::max(1000L, ops / n),
		        [&] { sink = kinsn_dot_i8(a.data(), b.data(), n); },
		        [&] { sink = kinsn_dot_i8_x86(a.data(), b.data(), n); });
	}
	std::vector<s32> c(32 * 32);
	for (u32 dim : {8u, 16u, 32u}) {
		const kinsn_gemm_dims d{dim, dim, dim};
		std::snprintf(name, sizeof(name), "bpf_gemm_i8 %ux%ux%u", dim, dim, dim);
		row(
		        name, avx2, std::max(100L, ops / (dim * dim * dim)),
		        [&] { kinsn_gemm_i8(c.data(), a.data(), b.data(), &d); },
		        [&] { kinsn_gemm_i8_x86(c.data(), a.data(), b.data(), &d); });
	}
	std::vector<u16> bf(2 * 32 * 32);
	for (size_t i = 0; i < bf.size(); i++)
		bf[i] = u16(0x3f00 + i % 256); // 0.5 .. 2
	std::vector<u32> cf(32 * 32);
	for (u32 dim : {8u, 16u, 32u}) {
		const kinsn_gemm_dims d{dim, dim, dim};
		std::snprintf(name, sizeof(name), "bpf_gemm_bf16 %ux%ux%u", dim, dim, dim);
		row(
		        name, avx2, std::max(100L, ops / (dim * dim * dim)),
		        [&] {
			        kinsn_gemm_bf16_x86(cf.data(), bf.data(), bf.data() + dim * dim, &d,
			                            0);
		        },
		        [&] {
			        kinsn_gemm_bf16_x86(cf.data(), bf.data(), bf.data() + dim * dim, &d,
			                            1);
		        });
	}
	const auto *p = reinterpret_cast<const u8 *>(a.data());
	for (u32 n : {64u, 1500u}) {
		std::snprintf(name, sizeof(name), "bpf_crc32c %u", n);
		row(
		        name, sse42, std::max(1000L, ops / n / 8),
		        [&] { sink = kinsn_crc32c_buf(~0u, p, n); },
		        [&] { sink = kinsn_crc32c_buf_x86(~0u, p, n); });
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
	family(kinsn_movbe_defs, ops);
	// bpf_prefetch is not timed: its effect is on a later load, and here its
	// chain's random addresses would time page walks
	memory_kinsns(ops);
	return 0;
}
