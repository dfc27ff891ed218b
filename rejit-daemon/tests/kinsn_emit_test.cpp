// SPDX-License-Identifier: GPL-2.0
// The kinsn modules' x86-64 code, run on the host CPU (real silicon, not
// QEMU) against the meaning the verifier and the interpreter use. The code
// follows the SysV convention (args rdi, rsi, rdx; result rax), so the bytes
// plus `ret` are called as a function.
#include <sys/mman.h>

#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kinsn_defs.h"

namespace {

using Native = uint64_t (*)(uint64_t, uint64_t, uint64_t);

// An executable copy of a kinsn's code followed by `ret`.
class Code {
public:
	explicit Code(const kinsn_def &d) {
		mem_ = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		            0);
		if (mem_ == MAP_FAILED)
			return;
		auto *p = static_cast<uint8_t *>(mem_);
		std::memcpy(p, d.x86, d.x86_len);
		p[d.x86_len] = 0xc3;
		if (mprotect(mem_, 4096, PROT_READ | PROT_EXEC)) {
			munmap(mem_, 4096);
			mem_ = MAP_FAILED;
		}
	}
	~Code() {
		if (mem_ != MAP_FAILED)
			munmap(mem_, 4096);
	}
	Code(const Code &) = delete;
	Code &operator=(const Code &) = delete;
	[[nodiscard]] Native fn() const {
		return mem_ == MAP_FAILED ? nullptr : reinterpret_cast<Native>(mem_);
	}

private:
	void *mem_ = MAP_FAILED;
};

// Values where the instructions' edge cases live, then random ones.
const std::vector<uint64_t> kEdges = {0,           1,
                                      2,           7,
                                      8,           31,
                                      32,          33,
                                      63,          64,
                                      65,          255,
                                      256,         0x7fffffff,
                                      0x80000000,  0xffffffff,
                                      1ull << 32,  1ull << 63,
                                      ~0ull,       ~0ull - 1,
                                      0x100000020, 0x12345678abcdef01ull};

void check_family(std::span<const kinsn_def> defs) {
	for (const kinsn_def &d : defs) {
		SCOPED_TRACE(d.name);
		ASSERT_LE(d.x86_len, KINSN_X86_MAX);
		if (!kinsn_user_cpu_has(d.cpu)) {
			// Said plainly: this instruction was not executed here.
			std::printf("%s: host CPU lacks the instruction, native code NOT run\n",
			            d.name);
			continue;
		}
		const Code code(d);
		ASSERT_NE(code.fn(), nullptr) << "mmap/mprotect: " << std::strerror(errno);
		size_t runs = 0;
		auto check = [&](uint64_t a, uint64_t b, uint64_t c) {
			runs++;
			const uint64_t want = d.meaning(a, b, c), got = code.fn()(a, b, c);
			if (want != got)
				ADD_FAILURE()
				        << std::hex << d.name << "(0x" << a << ", 0x" << b << ", 0x"
				        << c << "): native 0x" << got << ", meaning 0x" << want;
			return want == got;
		};
		for (uint64_t a : kEdges)
			for (uint64_t b : kEdges)
				for (uint64_t c : {0ull, 1ull, 8ull, 63ull, 64ull, 200ull, ~0ull})
					check(a, b, c);
		std::mt19937_64 rng(42);
		for (int i = 0; i < 200000; i++)
			if (!check(rng(), rng() >> (rng() % 64), rng() >> (rng() % 64)))
				break;
		std::printf("%s: %zu inputs, native == meaning\n", d.name, runs);
	}
}

TEST(KinsnEmit, Crc32cOnHostCpu) {
	check_family(kinsn_crc32c_defs);
}

TEST(KinsnEmit, BitopsOnHostCpu) {
	check_family(kinsn_bitops_defs);
}

// Known answer: CRC32C of "123456789" with the usual inversions is 0xe3069283.
TEST(KinsnEmit, Crc32cMeaningKnownAnswer) {
	const char *s = "123456789";
	uint64_t crc = 0xffffffff;
	for (int i = 0; i < 9; i++)
		crc = kinsn_crc32c_u8(crc, uint8_t(s[i]), 0);
	EXPECT_EQ(crc ^ 0xffffffff, 0xe3069283u);
}

} // namespace
