// SPDX-License-Identifier: GPL-2.0
// Optimisation passes and the pipeline that runs them.
//
// A pass edits a Rewriter built on the program as the previous pass left it,
// and reports every site it changed or skipped with the reason, so that
// `explain` can say what happened where and why.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rejit/kinsn.hpp"
#include "rejit/profile.hpp"
#include "rejit/rewriter.hpp"

namespace rejit {

// What a pass did at one place in the program.
struct Site {
	size_t insn; // pass: index into Rewriter; report: slot in the pass's input
	bool changed;
	std::string what;
};

struct PassReport {
	std::string pass;
	std::vector<Site> sites;
	size_t insns_before = 0; // slots, as the kernel counts instructions
	size_t insns_after = 0;

	[[nodiscard]] size_t changed() const;
	[[nodiscard]] size_t skipped() const { return sites.size() - changed(); }
};

// What the passes may know besides the code.
struct PassEnv {
	// Value of element 0 of every referenced map whose contents can never
	// change (a frozen single-element array, read-only to programs: what
	// libbpf makes of .rodata), keyed by the map index that
	// BPF_PSEUDO_MAP_IDX_VALUE loads carry.
	std::map<uint32_t, std::vector<uint8_t>> frozen_maps;
	// The kinsns this machine has, by kfunc name, with the BTF id and
	// fd_array index a pass puts in the operand forms it emits. Empty:
	// none (passes that need one change nothing).
	KinsnMap kinsns;
	// How often each conditional jump of the input was taken (instrumented
	// tier); empty: no profile (the layout pass changes nothing).
	EdgeProfile profile;
};

class Pass {
public:
	virtual ~Pass() = default;
	[[nodiscard]] virtual std::string_view name() const = 0;
	// One-line description for `--help` and the README.
	[[nodiscard]] virtual std::string_view summary() const = 0;
	virtual Result<void> run(Rewriter &rw, const PassEnv &env,
	                         std::vector<Site> &sites) const = 0;
	// Does the pass only ever emit kinsns? "all" leaves it out where there
	// are none.
	[[nodiscard]] virtual bool needs_kinsns() const { return false; }
};

// The passes librejit knows, in pipeline order.
std::vector<std::unique_ptr<Pass>> all_passes();
// The passes named in a comma-separated list ("all" = every pass; with an
// env, "all" leaves out the passes that need kinsns when env has none).
Result<std::vector<std::unique_ptr<Pass>>> passes_by_name(std::string_view list,
                                                          const PassEnv *env = nullptr);

struct Optimized {
	Program prog;
	std::vector<PassReport> reports;
	[[nodiscard]] size_t changed() const;
};

// Run `passes` in order. A pass that fails leaves the program as the
// previous pass produced it; its error is reported as a skipped site.
// kinsn operand forms in `in` that env.kinsns names are bound first.
Optimized run_passes(const Program &in, const std::vector<std::unique_ptr<Pass>> &passes,
                     const PassEnv &env = {});

// Human-readable account of an Optimized (per pass: counts, then sites).
std::string explain(const Optimized &o, bool with_skipped = true);

} // namespace rejit
