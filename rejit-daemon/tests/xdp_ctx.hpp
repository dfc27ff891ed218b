// SPDX-License-Identifier: GPL-2.0
// An XDP context for the interpreter (tests and the fuzz target).
#pragma once

#include <cstring>
#include <vector>

#include "rejit/interp.hpp"

namespace rejit::test {

constexpr uint64_t kPkt = 0x1000'0000, kCtx = 0x2000'0000;

// Map `pkt` and a struct xdp_md pointing at it (data, data_end as u32, as
// the kernel rewrites context loads); returns the context address for R1.
inline uint64_t map_xdp(Memory &mem, const std::vector<uint8_t> &pkt) {
	mem.map("packet", kPkt, pkt, true);
	std::vector<uint8_t> ctx(24, 0);
	const uint32_t data = uint32_t(kPkt), end = uint32_t(kPkt + pkt.size());
	std::memcpy(&ctx[0], &data, 4);
	std::memcpy(&ctx[4], &end, 4);
	mem.map("ctx", kCtx, ctx, false);
	return kCtx;
}

} // namespace rejit::test
