// SPDX-License-Identifier: GPL-2.0
// The function-like kinsns' vector tiers (kinsn/matrix_avx2.S, the crc32
// loop in kinsn_mem.h) on the host CPU, real silicon, against the portable
// meaning that the modules' scalar tier is. The VM test (test_kinsn_mem)
// runs the same code through the kfuncs in the kernel.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kinsn_mem.h"

namespace {

std::vector<s8> random_bytes(std::mt19937_64 &rng, size_t n) {
	std::vector<s8> v(n);
	for (auto &x : v)
		x = static_cast<s8>(rng());
	return v;
}

TEST(KinsnMem, DotAvx2EqualsMeaning) {
	if (!__builtin_cpu_supports("avx2"))
		GTEST_SKIP() << "host CPU lacks AVX2: the vector tier is NOT run here";
	std::mt19937_64 rng(1);
	const auto a = random_bytes(rng, 200'064), b = random_bytes(rng, 200'064);
	// every length to 300 at every alignment, then lengths across the
	// 64 KiB chunks the vector code works in
	for (u32 n = 0; n <= 300; n++)
		for (u32 off = 0; off < 64; off += 7)
			ASSERT_EQ(kinsn_dot_i8_x86(&a[off], &b[63 - off], n),
			          kinsn_dot_i8(&a[off], &b[63 - off], n))
			        << "n " << n << " offset " << off;
	for (u32 n : {65'535u, 65'536u, 65'537u, 131'072u + 15, 200'000u})
		ASSERT_EQ(kinsn_dot_i8_x86(a.data(), b.data(), n),
		          kinsn_dot_i8(a.data(), b.data(), n))
		        << "n " << n;
}

TEST(KinsnMem, DotAvx2ExtremesDoNotOverflow) {
	if (!__builtin_cpu_supports("avx2"))
		GTEST_SKIP() << "host CPU lacks AVX2: the vector tier is NOT run here";
	// 300,000 x (-128 * -128) = 4.9e9: beyond s32, so the chunks must add in s64
	const std::vector<s8> m(300'000, -128), p(300'000, 127);
	EXPECT_EQ(kinsn_dot_i8_x86(m.data(), m.data(), 300'000), 300'000ll * 16384);
	EXPECT_EQ(kinsn_dot_i8_x86(m.data(), p.data(), 300'000), 300'000ll * -128 * 127);
}

TEST(KinsnMem, GemmAvx2EqualsMeaning) {
	if (!__builtin_cpu_supports("avx2"))
		GTEST_SKIP() << "host CPU lacks AVX2: the vector tier is NOT run here";
	std::mt19937_64 rng(2);
	for (int round = 0; round < 3000; round++) {
		const u32 m = 1 + rng() % 40, n = 1 + rng() % 40, k = 1 + rng() % 200;
		// extremes in every fifth round: the largest sums
		auto ab = round % 5 ? random_bytes(rng, m * k + k * n)
		                    : std::vector<s8>(m * k + k * n, -128);
		std::vector<s32> want(m * n), got(m * n, 0x5a5a5a5a);
		kinsn_gemm_dims d;
		ASSERT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(m, n, k), 4 * m * n, m * k + k * n, &d),
		          0);
		kinsn_gemm_i8(want.data(), ab.data(), ab.data() + m * k, &d);
		kinsn_gemm_i8_x86(got.data(), ab.data(), ab.data() + m * k, &d);
		ASSERT_EQ(got, want) << m << "x" << n << "x" << k;
	}
	// the longest k: |sum| = 4096 * 2^14 = 2^26, far from the s32 limit
	const std::vector<s8> ab(8 * 4096 * 2, -128);
	std::vector<s32> c(64);
	kinsn_gemm_dims d;
	ASSERT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(8, 8, 4096), 4 * 64, ab.size(), &d), 0);
	kinsn_gemm_i8_x86(c.data(), ab.data(), ab.data() + 8 * 4096, &d);
	EXPECT_EQ(c, std::vector<s32>(64, 4096 * 16384));
}

// bf16 values: moderate numbers (2^-8 .. 2^8); wild: also special ones
// (zeros, infinities, NaNs, subnormals, the largest) and random bits;
// tiny: 2^-70 .. 2^-60, whose products are fp32 subnormals or zero.
enum class Bf16 { moderate, wild, tiny };
u16 random_bf16(std::mt19937_64 &rng, Bf16 kind) {
	static const u16 special[] = {0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc1, 0x0001,
	                              0x807f, 0x7f7f, 0xff7f, 0x3f80, 0xbf80, 0x0080};
	const u16 sign = u16((rng() % 2) << 15), mantissa = u16(rng() & 0x7f);
	if (kind == Bf16::tiny)
		return sign | u16((57 + rng() % 11) << 7) | mantissa;
	if (kind == Bf16::wild && rng() % 2)
		return rng() % 2 ? special[rng() % std::size(special)] : u16(rng());
	return sign | u16((119 + rng() % 17) << 7) | mantissa;
}

// Equal bits, or both NaN (a NaN's payload is not part of the meaning).
bool same_fp32(u32 a, u32 b) {
	auto nan = [](u32 x) { return (x & 0x7f800000) == 0x7f800000 && (x & 0x7fffff); };
	return a == b || (nan(a) && nan(b));
}

// bf16 GEMM: the SSE element code and the AVX2 8-column code give the
// meaning's bits (products and sums rounded in the same order).
TEST(KinsnMem, GemmBf16TiersEqualMeaning) {
	const bool avx2 = __builtin_cpu_supports("avx2");
	if (!avx2)
		std::printf("host CPU lacks AVX2: bf16 vector code NOT run, SSE code only\n");
	std::mt19937_64 rng(5);
	long elements = 0, nans = 0, subnormals = 0;
	for (int round = 0; round < 2000; round++) {
		const u32 m = 1 + rng() % 24, n = 1 + rng() % 40, k = 1 + rng() % 300;
		std::vector<u16> ab(m * k + k * n);
		for (auto &x : ab) // wild: one round of 4, one element of 25 there
			x = random_bf16(rng, round % 4 == 1                      ? Bf16::tiny
			                     : round % 4 == 0 && rng() % 25 == 0 ? Bf16::wild
			                                                         : Bf16::moderate);
		kinsn_gemm_dims d;
		ASSERT_EQ(kinsn_gemm_check_elem(KINSN_GEMM_SHAPE(m, n, k), 4 * m * n, 2 * ab.size(),
		                                2, &d),
		          0);
		std::vector<u32> want(m * n);
		kinsn_gemm_bf16_ref(want.data(), ab.data(), ab.data() + m * k, &d);
		for (int vec = 0; vec <= int(avx2); vec++) {
			std::vector<u32> got(m * n, 0x5a5a5a5a);
			kinsn_gemm_bf16_x86(got.data(), ab.data(), ab.data() + m * k, &d, vec);
			for (u32 e = 0; e < m * n; e++)
				ASSERT_TRUE(same_fp32(got[e], want[e]))
				        << (vec ? "avx2 " : "sse ") << m << "x" << n << "x" << k
				        << " element " << e << std::hex << ": 0x" << got[e]
				        << ", meaning 0x" << want[e];
		}
		elements += m * n;
		for (u32 w : want) {
			nans += (w & 0x7f800000) == 0x7f800000 && (w & 0x7fffff);
			subnormals += !(w & 0x7f800000) && (w & 0x7fffff);
		}
	}
	std::printf("bf16 GEMM: %ld elements of C equal the meaning (%ld NaN, %ld subnormal)\n",
	            elements, nans, subnormals);
	EXPECT_GT(subnormals, 1000) << "the inputs miss the subnormal range";
	// exact sums: 1.0 * 1.0 added 4096 times, 1.5 * -2.0 = -3.0 each
	std::vector<u16> ones(2 * 4096 * 8, 0x3f80), mixed(2 * 4096 * 8);
	for (size_t i = 0; i < mixed.size(); i++)
		mixed[i] = i < 4096 * 8 ? 0x3fc0 : 0xc000;
	kinsn_gemm_dims d;
	ASSERT_EQ(kinsn_gemm_check_elem(KINSN_GEMM_SHAPE(8, 8, 4096), 256, 2 * ones.size(), 2, &d),
	          0);
	std::vector<u32> c(64);
	kinsn_gemm_bf16_x86(c.data(), ones.data(), ones.data() + 8 * 4096, &d, avx2);
	EXPECT_EQ(c, std::vector<u32>(64, 0x45800000)); // 4096.0f
	kinsn_gemm_bf16_x86(c.data(), mixed.data(), mixed.data() + 8 * 4096, &d, avx2);
	EXPECT_EQ(c, std::vector<u32>(64, 0xc6400000)); // -12288.0f
}

TEST(KinsnMem, GemmShapesOutOfBoundsRefused) {
	kinsn_gemm_dims d;
	EXPECT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(2, 3, 4), 24, 20, &d), 0);
	EXPECT_EQ(d.m, 2u);
	EXPECT_EQ(d.n, 3u);
	EXPECT_EQ(d.k, 4u);
	EXPECT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(2, 3, 4), 23, 20, &d), -22); // C too small
	EXPECT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(2, 3, 4), 24, 19, &d), -22); // A, B too small
	EXPECT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(0, 3, 4), 99, 99, &d), -22);
	EXPECT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(2, 0, 4), 99, 99, &d), -22);
	EXPECT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(2, 3, 0), 99, 99, &d), -22);
	EXPECT_EQ(kinsn_gemm_check(KINSN_GEMM_SHAPE(1, 1, 4097), 4, 8194, &d), -22);
	// bf16: two bytes per element of A and B
	EXPECT_EQ(kinsn_gemm_check_elem(KINSN_GEMM_SHAPE(2, 3, 4), 24, 40, 2, &d), 0);
	EXPECT_EQ(kinsn_gemm_check_elem(KINSN_GEMM_SHAPE(2, 3, 4), 24, 39, 2, &d), -22);
}

TEST(KinsnMem, Crc32cBufferKnownAnswerAndCrc32Instruction) {
	// the CRC32C check value (iSCSI, RFC 3720): "123456789" -> 0xe3069283
	const auto *digits = reinterpret_cast<const u8 *>("123456789");
	EXPECT_EQ(~kinsn_crc32c_buf(~0u, digits, 9), 0xe3069283u);
	if (!__builtin_cpu_supports("sse4.2"))
		GTEST_SKIP() << "host CPU lacks SSE4.2: the crc32 loop is NOT run here";
	EXPECT_EQ(~kinsn_crc32c_buf_x86(~0u, digits, 9), 0xe3069283u);
	std::mt19937_64 rng(3);
	const auto buf = random_bytes(rng, 4200);
	const auto *p = reinterpret_cast<const u8 *>(buf.data());
	for (u32 len = 0; len <= 4096; len += 1 + len / 64)
		for (u32 off = 0; off < 16; off += 5) {
			const u32 seed = static_cast<u32>(rng());
			ASSERT_EQ(kinsn_crc32c_buf_x86(seed, p + off, len),
			          kinsn_crc32c_buf(seed, p + off, len))
			        << "len " << len << " offset " << off;
		}
}

} // namespace
