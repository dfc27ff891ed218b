// SPDX-License-Identifier: GPL-2.0
#include "rejit/determinism.hpp"

#include <bitset>

#include <fmt/format.h>

#include "rejit/cfg.hpp"
#include "rejit/kinsn.hpp"

namespace rejit {
namespace {

constexpr int32_t kFrame = 512;

// Helpers whose result differs from one call to the next for the same
// arguments.
std::optional<std::string_view> varying_helper(int32_t id) {
	switch (id) {
	case BPF_FUNC_ktime_get_ns:
		return "bpf_ktime_get_ns";
	case BPF_FUNC_ktime_get_boot_ns:
		return "bpf_ktime_get_boot_ns";
	case BPF_FUNC_ktime_get_coarse_ns:
		return "bpf_ktime_get_coarse_ns";
	case BPF_FUNC_ktime_get_tai_ns:
		return "bpf_ktime_get_tai_ns";
	case BPF_FUNC_jiffies64:
		return "bpf_jiffies64";
	case BPF_FUNC_get_prandom_u32:
		return "bpf_get_prandom_u32";
	case BPF_FUNC_get_smp_processor_id:
		return "bpf_get_smp_processor_id";
	case BPF_FUNC_get_numa_node_id:
		return "bpf_get_numa_node_id";
	default:
		return std::nullopt;
	}
}

// Bytes R10 - 512 .. R10 - 1 of the frame written on every path so far.
using Written = std::bitset<kFrame>;

void mark(Written &w, int32_t off, int32_t size) {
	for (int32_t b = off; b < off + size; b++)
		if (b >= -kFrame && b < 0)
			w.set(size_t(b + kFrame));
}

bool all_written(const Written &w, int32_t off, int32_t size) {
	for (int32_t b = off; b < off + size; b++)
		if (b >= -kFrame && b < 0 && !w[size_t(b + kFrame)])
			return false;
	return true;
}

// First load of stack bytes some path reaches without writing them. A call
// that gets a stack pointer may fill the frame from there up (helpers such
// as bpf_skb_load_bytes, or a subprogram): counted as written, so only
// direct loads are checked. Stores at unknown offsets count as writing
// everything and loads at unknown offsets are not checked: this finds the
// plain cases, not every one.
std::optional<size_t> uninit_stack_load(const Rewriter &rw, const Cfg &cfg, const Kinds &kinds) {
	const size_t n = rw.size();
	std::vector<std::optional<Written>> in(n);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || cfg.is_entry(i))
			in[i] = Written{}; // every entry has a fresh frame
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (!in[i])
				continue;
			Written w = *in[i];
			const Insn &x = rw.at(i);
			const auto acc = kinds.stack_access(rw, i);
			const bool store = x.cls() == BPF_ST || x.cls() == BPF_STX;
			if (store && acc)
				mark(w, acc->first, int32_t(acc->second));
			else if (store && (kinds.before(i, x.dst) & kStack))
				w.set();
			if (x.code == (BPF_JMP | BPF_CALL) && !kinsn_is_pure(x))
				for (unsigned a = BPF_REG_1; a <= BPF_REG_5; a++) {
					if (!(kinds.before(i, a) & kStack))
						continue;
					if (auto off = kinds.stack_off(i, a))
						mark(w, *off, -*off);
					else
						w.set();
				}
			for (size_t s : cfg.succs(i)) {
				if (cfg.is_entry(s))
					continue;
				const Written joined = in[s] ? (*in[s] & w) : w;
				if (!in[s] || joined != *in[s]) {
					in[s] = joined;
					changed = true;
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		const Insn &x = rw.at(i);
		const bool load = x.cls() == BPF_LDX ||
		                  (x.cls() == BPF_STX && BPF_MODE(x.code) == BPF_ATOMIC);
		if (!in[i] || !load)
			continue;
		if (auto acc = kinds.stack_access(rw, i))
			if (!all_written(*in[i], acc->first, int32_t(acc->second)))
				return i;
	}
	return std::nullopt;
}

} // namespace

std::optional<Nondeterminism> nondeterminism(const Program &prog) {
	auto rw = Rewriter::create(prog.insns);
	if (!rw)
		return Nondeterminism{Nondeterminism::UninitStack,
		                      fmt::format("cannot analyse: {}", rw.error().str())};
	for (size_t i = 0; i < rw->size(); i++) {
		const Insn &x = rw->at(i);
		if (x.code == (BPF_JMP | BPF_CALL) && x.src == 0)
			if (auto name = varying_helper(x.imm))
				return Nondeterminism{Nondeterminism::Helper,
				                      fmt::format("insn {} calls {}", i, *name)};
	}
	const Cfg cfg(*rw);
	const Kinds kinds(*rw, cfg);
	if (auto i = uninit_stack_load(*rw, cfg, kinds))
		return Nondeterminism{
		        Nondeterminism::UninitStack,
		        fmt::format("insn {} loads stack bytes not written on every path", *i)};
	return std::nullopt;
}

} // namespace rejit
