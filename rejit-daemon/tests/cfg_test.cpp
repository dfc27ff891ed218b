// SPDX-License-Identifier: GPL-2.0
// The stack granules an access touches or covers, against a byte-by-byte
// reference, and for offsets far outside the frame (which used to be
// walked byte by byte: a minute per fuzzer input).
#include <climits>

#include <gtest/gtest.h>

#include "rejit/cfg.hpp"

namespace {

using rejit::Locs;

constexpr int64_t kFrame = 512;

// Granule g is bytes [R10 - 512 + 4g, R10 - 512 + 4g + 4).
Locs reference(int64_t off, int64_t size, bool covered) {
	Locs l;
	for (int64_t g = 0; g < kFrame / 4; g++) {
		const int64_t start = 4 * g - kFrame, end = start + 4;
		const bool touched = size > 0 && start < off + size && off < end;
		const bool inside = off <= start && end <= off + size;
		if (covered ? inside : touched)
			l.stack.set(size_t(g));
	}
	return l;
}

TEST(Locs, StackGranulesEqualByteReference) {
	for (int32_t off = -600; off <= 40; off++)
		for (unsigned size :
		     {0u, 1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 16u, 100u, 511u, 512u, 700u}) {
			ASSERT_EQ(Locs::stack_bytes(off, size), reference(off, size, false))
			        << off << " " << size;
			ASSERT_EQ(Locs::stack_covered(off, size), reference(off, size, true))
			        << off << " " << size;
		}
}

TEST(Locs, OffsetsFarOutsideTheFrame) {
	EXPECT_TRUE(Locs::stack_bytes(INT32_MIN, UINT_MAX).stack.all());
	EXPECT_TRUE(Locs::stack_covered(INT32_MIN, UINT_MAX).stack.all());
	EXPECT_FALSE(Locs::stack_bytes(INT32_MIN, 1u << 30).any());
	EXPECT_FALSE(Locs::stack_bytes(INT32_MAX, UINT_MAX).any());
	EXPECT_EQ(Locs::stack_bytes(-4, UINT_MAX), reference(-4, 4, false));
}

} // namespace
