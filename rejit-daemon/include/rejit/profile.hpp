// SPDX-License-Identifier: GPL-2.0
// Edge profiles: how often each conditional jump of a program was taken.
//
// The instrumented tier re-JITs a program with counters (instrument()): at
// the start of the basic blocks that tell a jump's two edges apart, four
// slots bump a u64 in the value of a one-element per-CPU array map,
// addressed directly (ld_imm64 of a map value: the kernel makes it the
// running CPU's copy) with two registers that are dead there, so no helper
// call clobbers R1-R5 and CPUs share no cache line. The add is atomic all
// the same: a program interrupted by itself on the same CPU (tracing)
// loses no count. The daemon reads the values after a window, summed over
// the CPUs, and turns them into an EdgeProfile for the layout pass.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "rejit/rewriter.hpp"

namespace rejit {

struct BranchCount {
	uint64_t taken = 0;
	uint64_t fell = 0; // fell through
};

struct EdgeProfile {
	// The program the counts are about; passes check they see that code.
	std::vector<Insn> code;
	// By index into `code` of the conditional jump.
	std::map<size_t, BranchCount> branches;

	[[nodiscard]] bool empty() const { return branches.empty(); }
};

// Where the counters are and how they give each jump's two edge counts.
struct Probes {
	std::vector<Insn> code; // the program instrumented
	size_t counters = 0;    // u64s in the map value
	struct Branch {
		size_t insn;
		// counter indexes, -1 for none: taken = c[taken] or c[block] - c[fell],
		// fell = c[fell] or c[block] - c[taken]
		int taken = -1, fell = -1, block = -1;
	};
	std::vector<Branch> branches;
	struct Unprofiled {
		size_t insn;
		std::string why;
	};
	std::vector<Unprofiled> unprofiled;
};

struct Instrumented {
	Program prog;
	Probes probes;
};

// `p` with counters in the map at fd_array index `map_idx` (an array of
// one element of probes.counters * 8 bytes).
Result<Instrumented> instrument(const Program &p, uint32_t map_idx);
// The profile the counters' values (probes.counters u64s) give.
EdgeProfile edge_profile(const Probes &probes, std::span<const uint64_t> counts);

} // namespace rejit
