// SPDX-License-Identifier: GPL-2.0
// Differential checks of rewritten XDP programs in the interpreter.
#pragma once

#include <random>

#include <gtest/gtest.h>

#include "xdp_ctx.hpp"

namespace rejit::test {

inline Result<uint64_t> run_xdp(const std::vector<Insn> &prog, const std::vector<uint8_t> &pkt) {
	Memory mem;
	RunOptions opt;
	opt.r1 = map_xdp(mem, pkt);
	return interpret(prog, mem, opt);
}

// `after` returns what `before` returns on 5000 random packets (every other
// one with EtherType `proto`).
inline void expect_same_xdp_behaviour(const std::vector<Insn> &before,
                                      const std::vector<Insn> &after, uint16_t proto) {
	std::mt19937 rng(42);
	for (int i = 0; i < 5000; i++) {
		std::vector<uint8_t> pkt(rng() % 48);
		for (auto &b : pkt)
			b = uint8_t(rng());
		if (pkt.size() > 13 && i % 2) {
			pkt[12] = uint8_t(proto >> 8);
			pkt[13] = uint8_t(proto);
		}
		auto a = run_xdp(before, pkt), b = run_xdp(after, pkt);
		ASSERT_TRUE(a) << a.error().msg;
		ASSERT_TRUE(b) << b.error().msg;
		ASSERT_EQ(*a, *b) << "packet " << i << " of " << pkt.size() << " bytes";
	}
}

} // namespace rejit::test
