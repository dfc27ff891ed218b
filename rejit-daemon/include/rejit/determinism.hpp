// SPDX-License-Identifier: GPL-2.0
// Can two runs of a program on the same input and map contents differ?
//
// Differential tests compare a rewritten program with its original run by
// run; a program whose result depends on the time, a random number, the CPU
// it runs on or stack memory it never wrote (privileged programs may read
// it) can differ from itself, so such a comparison proves nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rejit/rewriter.hpp"

namespace rejit {

struct Nondeterminism {
	enum Source : uint8_t {
		Helper,      // time, random numbers, CPU: differences show up in reruns
		UninitStack, // stale stack bytes: may be the same in every rerun
	} source;
	std::string why; // e.g. "insn 3 calls bpf_get_prandom_u32"
};

// The first source found; nullopt when the bytecode alone does not make
// the program nondeterministic.
std::optional<Nondeterminism> nondeterminism(const Program &prog);

} // namespace rejit
