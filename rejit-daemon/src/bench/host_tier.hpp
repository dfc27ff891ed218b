// SPDX-License-Identifier: GPL-2.0
// The host-kernel tier: a dumped program's original bytecode and its
// rewrite made without kinsns, loaded into the kernel this process runs on
// (real hardware, that kernel's own JIT) with maps of the dumped shapes,
// checked on every input and timed side by side with BPF_PROG_TEST_RUN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/dump.hpp"

namespace rejit::bench {

// Empty if root can load and test-run an XDP program here; else why not.
std::string host_bpf_problem();

struct HostTierOptions {
	uint32_t repeat = 20000; // runs per BPF_PROG_TEST_RUN (its duration: ns/run)
	unsigned samples = 9;    // per load and version, stock and rewrite alternated
	unsigned loads = 3;      // fresh loads of each: JIT image placement varies
};

struct HostTier {
	// per input, of the original bytecode and of the rewrite
	std::vector<RunResult> stock, rejit;
	// median over loads of each load's median ns/run (input 0)
	double ns_stock = 0, ns_rejit = 0;
	// the smallest and largest per-load ratio stock / rewrite
	double ratio_lo = 0, ratio_hi = 0;
	uint32_t jited_stock = 0, jited_rejit = 0; // bytes, first load
};

// Load, check and time p on this kernel. Errors say which step failed
// (map creation, verifier log tail of a refused load, test run).
Result<HostTier> host_tier(const ProgDump &p, const HostTierOptions &o = {});

} // namespace rejit::bench
