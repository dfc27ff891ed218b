// SPDX-License-Identifier: GPL-2.0
// Shadow check: before a live program gets rewritten code, run standalone
// copies of its original and of the rewritten code on the same generated
// packets (BPF_PROG_TEST_RUN), each against its own copies of the
// program's maps (the live maps are only read), and compare return values,
// output packets and map contents. The original runs twice (A and C, with
// the rewrite B in between): only inputs and maps on which the original
// agrees with itself are compared, so chance is not taken for a
// difference. What cannot be run this way says why instead of passing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rejit/live.hpp"
#include "rejit/rewriter.hpp"
#include "rejit/testrun.hpp"

namespace rejit {

struct ShadowOptions {
	unsigned inputs = 64; // generated packets
	uint32_t seed = 1;    // of the packet generator
};

struct ShadowVerdict {
	enum Kind : uint8_t { Same, Different, NotChecked } kind = NotChecked;
	std::string why; // counts, the first difference, or why not checked

	// "same: ...", "different: ...", "not checked: ..."
	[[nodiscard]] std::string str() const;
};

// A map of the program, as far as the checker needs to know it.
struct ShadowMap {
	std::string name;
	uint32_t type = 0;
};

// Why the check cannot run this program, if it cannot: a type test runs do
// not support, a map it cannot copy (prog_array: tail calls into live
// programs; ring buffers, sockets, ...), calls into module kfuncs (their
// BTF fds are not known for a standalone load) or stack bytes read before
// written (the original may differ from itself in every run).
std::optional<std::string>
shadow_unsupported(uint32_t prog_type, const std::vector<ShadowMap> &maps, const Program &orig);

// Original (A), rewritten (B) and original again (C) on one input.
enum class InputOutcome { Same, Skipped, Different };
InputOutcome compare_input(const RunResult &a, const RunResult &b, const RunResult &c);

// The comparison, input by input and map by map, and what it adds up to.
class ShadowTally {
public:
	void input(unsigned index, size_t len, InputOutcome o, const RunResult &a,
	           const RunResult &b);
	// A map's contents after all inputs in A, B and C.
	void map(const std::string &name, const MapContents &a, const MapContents &b,
	         const MapContents &c);
	[[nodiscard]] bool different() const { return !first_.empty(); }
	// Inputs or maps left out because the original disagreed with itself.
	[[nodiscard]] unsigned skipped() const { return skipped_ + maps_skipped_; }
	[[nodiscard]] const std::string &first_difference() const { return first_; }
	[[nodiscard]] ShadowVerdict verdict() const;

private:
	unsigned inputs_ = 0, compared_ = 0, skipped_ = 0;
	unsigned maps_ = 0, maps_skipped_ = 0;
	std::string first_; // the first difference
};

// Runs opts.inputs generated packets through programs a (original), b
// (rewritten) and c (original), until the first difference. With
// `helper_nondet` (the original calls time or random helpers) a
// difference counts only if the original program `rerun()` returns (an
// instance of its own, made on first use; -1: none) gives one result on
// that input run after run.
void shadow_inputs(int a, int b, int c, const ShadowOptions &opts, bool helper_nondet,
                   const std::function<int()> &rerun, ShadowTally &tally);

// Check `rewritten` against `orig` (live.orig(), whose map references it
// shares) for the live program. kinsns: as for LiveProg::rejit(). Errors
// are failures of the machinery (a map that cannot be created, ...), not
// verdicts.
Result<ShadowVerdict> shadow_check(const LiveProg &live, const Program &orig,
                                   const Program &rewritten, const Kinsns *kinsns,
                                   const ShadowOptions &opts = {});

} // namespace rejit
