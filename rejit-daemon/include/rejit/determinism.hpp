// SPDX-License-Identifier: GPL-2.0
// Can two runs of a program on the same input and map contents differ?
//
// Differential tests compare a rewritten program with its original run by
// run; a program whose result depends on the time, a random number, the CPU
// it runs on or stack memory it never wrote (privileged programs may read
// it) can differ from itself, so such a comparison proves nothing.
#pragma once

#include <optional>
#include <string>

#include "rejit/rewriter.hpp"

namespace rejit {

// The first reason found, e.g. "insn 3 calls bpf_get_prandom_u32"; nullopt
// when the bytecode alone does not make the program nondeterministic.
std::optional<std::string> nondeterminism(const Program &prog);

} // namespace rejit
