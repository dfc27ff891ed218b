// SPDX-License-Identifier: GPL-2.0
#include "rejit/profile.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "rejit/cfg.hpp"

namespace rejit {
namespace {

bool is_tail_call(const Insn &in) {
	return in.code == (BPF_JMP | BPF_CALL) && in.src == 0 && in.imm == BPF_FUNC_tail_call;
}

// ra = &value[8 * counter]; rb = 1; lock *(u64 *)(ra + 0) += rb
std::vector<Insn> bump(uint32_t map_idx, size_t counter, uint8_t ra, uint8_t rb) {
	return {Insn{BPF_LD | BPF_IMM | BPF_DW, ra, BPF_PSEUDO_MAP_IDX_VALUE, 0, int32_t(map_idx),
	             int32_t(counter * 8)},
	        Insn{BPF_ALU64 | BPF_MOV | BPF_K, rb, 0, 0, 1},
	        Insn{BPF_STX | BPF_ATOMIC | BPF_DW, ra, rb, 0, BPF_ADD}};
}

} // namespace

Result<Instrumented> instrument(const Program &p, uint32_t map_idx) {
	auto rw = Rewriter::create(p.insns, p.line_info, p.func_info);
	if (!rw)
		return rw.error();
	const Cfg cfg(*rw);
	const Kinds kinds(*rw, cfg);
	const Liveness live(*rw, cfg, kinds);

	// Two registers among R0-R9 that nothing reads before writing them.
	auto scratch = [&](size_t b) -> std::optional<std::pair<uint8_t, uint8_t>> {
		const RegSet used = live.live_in(cfg.block_start(b)).regs;
		std::vector<uint8_t> free;
		for (uint8_t r = BPF_REG_0; r < BPF_REG_10 && free.size() < 2; r++)
			if (!(used & reg_bit(r)))
				free.push_back(r);
		if (free.size() < 2)
			return std::nullopt;
		return std::pair{free[0], free[1]};
	};
	auto only_from = [&](size_t b, size_t from) {
		return cfg.preds(b).size() == 1 && cfg.preds(b)[0] == from;
	};

	Instrumented out;
	out.probes.code = p.insns;
	std::map<size_t, int> counter_of; // block -> counter index
	auto counter = [&](size_t b) {
		auto [it, fresh] = counter_of.try_emplace(b, int(counter_of.size()));
		return it->second;
	};
	for (size_t i = 0; i < rw->size(); i++) {
		if (!is_cond_jump(rw->at(i)))
			continue;
		const size_t t = *rw->target(i);
		if (t == i + 1 || i + 1 == rw->size()) {
			out.probes.unprofiled.push_back({i, "jumps to the next instruction"});
			continue;
		}
		const size_t b = cfg.block_of(i), f = cfg.block_of(i + 1), tb = cfg.block_of(t);
		// A tail call that succeeds leaves the block without reaching i.
		bool whole = true;
		for (size_t k = cfg.block_start(b); k < i; k++)
			whole &= !is_tail_call(rw->at(k));
		const bool f_only = only_from(f, b), t_only = only_from(tb, b);
		Probes::Branch br{i};
		if (f_only && t_only && scratch(f) && scratch(tb)) {
			br.fell = counter(f);
			br.taken = counter(tb);
		} else if (whole && f_only && scratch(b) && scratch(f)) {
			br.block = counter(b);
			br.fell = counter(f);
		} else if (whole && t_only && scratch(b) && scratch(tb)) {
			br.block = counter(b);
			br.taken = counter(tb);
		} else {
			out.probes.unprofiled.push_back(
			        {i,
			         !f_only && !t_only
			                 ? "both edges join other paths"
			                 : "no two free registers where its edges can be counted"});
			continue;
		}
		out.probes.branches.push_back(br);
	}
	for (const auto &[b, c] : counter_of) {
		const auto [ra, rb] = *scratch(b);
		if (auto r =
		            rw->insert_before(cfg.block_start(b), bump(map_idx, size_t(c), ra, rb));
		    !r)
			return r.error();
	}
	out.probes.counters = counter_of.size();
	auto prog = rw->finish();
	if (!prog)
		return prog.error();
	out.prog = std::move(prog).value();
	return out;
}

EdgeProfile edge_profile(const Probes &probes, std::span<const uint64_t> counts) {
	auto c = [&](int k) { return k >= 0 && size_t(k) < counts.size() ? counts[size_t(k)] : 0; };
	auto rest = [&](int whole, int part) { return c(whole) - std::min(c(whole), c(part)); };
	EdgeProfile prof;
	prof.code = probes.code;
	for (const Probes::Branch &br : probes.branches)
		prof.branches[br.insn] = {br.taken >= 0 ? c(br.taken) : rest(br.block, br.fell),
		                          br.fell >= 0 ? c(br.fell) : rest(br.block, br.taken)};
	return prof;
}

} // namespace rejit
