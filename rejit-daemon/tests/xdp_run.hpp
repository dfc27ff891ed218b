// SPDX-License-Identifier: GPL-2.0
// Differential checks of rewritten XDP programs in the interpreter.
#pragma once

#include <optional>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "rejit/pass.hpp"

#include "xdp_ctx.hpp"

namespace rejit::test {

// Map env's frozen values read-only, as the kernel has them, and resolve
// the BPF_PSEUDO_MAP_IDX_VALUE loads of them; other pseudo loads give
// `other`, if set (a map pointer only handed to a modelled helper).
inline PseudoFn map_frozen(Memory &mem, const PassEnv &env,
                           std::optional<uint64_t> other = std::nullopt) {
	constexpr uint64_t kMaps = 0x3000'0000, kMapStride = 0x10'0000;
	for (const auto &[idx, value] : env.frozen_maps)
		mem.map(fmt::format("map{}", idx), kMaps + idx * kMapStride, value, false);
	return [&env, other](const Insn &in) -> Result<uint64_t> {
		if (in.src == BPF_PSEUDO_MAP_IDX_VALUE &&
		    env.frozen_maps.contains(uint32_t(in.imm)))
			return kMaps + uint64_t(in.imm) * kMapStride + uint64_t(int64_t(in.imm_hi));
		if (other)
			return *other;
		return make_error(EINVAL, "map not modelled");
	};
}

// bpf_map_lookup_elem on an array of `n` u64s mapped at `at` (the
// workload's stats map): the key is read from the stack like the kernel does.
inline HelperFn array_lookup(Memory &mem, uint64_t at, uint32_t n) {
	return [&mem, at, n](int32_t id, const uint64_t(&a)[5]) -> Result<uint64_t> {
		if (id != BPF_FUNC_map_lookup_elem)
			return make_error(EINVAL, "unexpected helper");
		auto key = mem.load(a[1], 4);
		if (!key)
			return key.error();
		return *key < n ? at + 8 * *key : 0;
	};
}

inline Result<uint64_t> run_xdp(const std::vector<Insn> &prog, const std::vector<uint8_t> &pkt,
                                const PassEnv &env = {}) {
	Memory mem;
	RunOptions opt;
	opt.r1 = map_xdp(mem, pkt);
	opt.pseudo = map_frozen(mem, env);
	return interpret(prog, mem, opt);
}

// `after` returns what `before` returns on 5000 random packets (every other
// one with EtherType `proto`).
inline void expect_same_xdp_behaviour(const std::vector<Insn> &before,
                                      const std::vector<Insn> &after, uint16_t proto,
                                      const PassEnv &env = {}) {
	std::mt19937 rng(42);
	for (int i = 0; i < 5000; i++) {
		std::vector<uint8_t> pkt(rng() % 48);
		for (auto &b : pkt)
			b = uint8_t(rng());
		if (pkt.size() > 13 && i % 2) {
			pkt[12] = uint8_t(proto >> 8);
			pkt[13] = uint8_t(proto);
		}
		auto a = run_xdp(before, pkt, env), b = run_xdp(after, pkt, env);
		ASSERT_TRUE(a) << a.error().msg;
		ASSERT_TRUE(b) << b.error().msg;
		ASSERT_EQ(*a, *b) << "packet " << i << " of " << pkt.size() << " bytes";
	}
}

} // namespace rejit::test
