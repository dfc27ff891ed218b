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

// An executable copy of some code followed by `ret`.
class Code {
public:
	explicit Code(const kinsn_def &d) : Code(std::span<const uint8_t>(d.x86, d.x86_len)) {}
	explicit Code(std::span<const uint8_t> bytes) {
		mem_ = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		            0);
		if (mem_ == MAP_FAILED || bytes.size() >= 4096)
			return;
		auto *p = static_cast<uint8_t *>(mem_);
		std::memcpy(p, bytes.data(), bytes.size());
		p[bytes.size()] = 0xc3;
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

// The operand forms' code for x86 register `r` (each one the JIT gives a
// BPF register), wrapped so that it is callable: save r, r = rdi, the
// kinsn, rax = r, restore r.
std::vector<uint8_t> wrap_op(const kinsn_op_def &d, const bpf_insn &op, uint8_t r) {
	std::vector<uint8_t> c;
	const uint8_t rex_b = 0x48 | (r >> 3), rex_r = 0x48 | (r >> 3) << 2;
	if (r) {
		if (r >= 8)
			c.push_back(0x41);
		c.push_back(0x50 | (r & 7)); // push r
	}
	c.insert(c.end(), {rex_b, 0x89, uint8_t(0xc0 | 7 << 3 | (r & 7))}); // mov r, rdi
	uint8_t buf[KINSN_X86_MAX];
	const int n = d.x86(&op, r, r == 1 ? 2 : 1, buf);
	c.insert(c.end(), buf, buf + n);
	if (r) {
		c.insert(c.end(), {rex_r, 0x89, uint8_t(0xc0 | (r & 7) << 3)}); // mov rax, r
		if (r >= 8)
			c.push_back(0x41);
		c.push_back(0x58 | (r & 7)); // pop r
	}
	return c;
}

TEST(KinsnEmit, OperandFormsOnHostCpu) {
	// x86 registers of BPF R0-R9 in the x86-64 JIT.
	const uint8_t regs[] = {0, 7, 6, 2, 1, 8, 3, 13, 14, 15};
	for (const kinsn_op_def &d : kinsn_bitops_op_defs) {
		SCOPED_TRACE(d.name);
		ASSERT_TRUE(kinsn_user_cpu_has(d.cpu));
		const bool wide = std::string(d.name) == "bpf_rol64";
		const kinsn_def *meaning = nullptr;
		for (const kinsn_def &m : kinsn_bitops_defs)
			if (std::string(m.name) == d.name)
				meaning = &m;
		ASSERT_NE(meaning, nullptr);
		size_t runs = 0;
		std::mt19937_64 rng(7);
		for (int imm = 1; imm < (wide ? 64 : 32); imm++) {
			bpf_insn op{};
			op.dst_reg = 1, op.src_reg = 2, op.imm = imm;
			uint16_t clobber = 0;
			bpf_insn seq[KINSN_OP_MAX];
			ASSERT_GT(d.expand(&op, seq, &clobber), 0) << imm;
			for (uint8_t r : regs) {
				const Code code(wrap_op(d, op, r));
				ASSERT_NE(code.fn(), nullptr);
				for (int i = 0; i < 2000; i++) {
					const uint64_t x =
					        i < int(kEdges.size()) ? kEdges[i] : rng();
					const uint64_t want = meaning->meaning(x, imm, 0);
					const uint64_t got = code.fn()(x, 0, 0);
					runs++;
					ASSERT_EQ(got, want)
					        << std::hex << "x86 reg " << int(r) << " x 0x" << x
					        << " imm " << std::dec << imm;
				}
			}
		}
		std::printf("%s operand form: %zu inputs over 10 registers, native == meaning\n",
		            d.name, runs);
	}
}

// Invalid operands have no meaning: the verifier refuses them.
TEST(KinsnEmit, OperandFormsRefuseBadOperands) {
	for (const kinsn_op_def &d : kinsn_bitops_op_defs) {
		SCOPED_TRACE(d.name);
		const int width = std::string(d.name) == "bpf_rol64" ? 64 : 32;
		bpf_insn seq[KINSN_OP_MAX];
		uint16_t clobber = 0;
		auto expand = [&](uint8_t dst, uint8_t src, int32_t imm, int16_t off = 0) {
			bpf_insn op{};
			op.dst_reg = dst, op.src_reg = src, op.imm = imm, op.off = off;
			return d.expand(&op, seq, &clobber);
		};
		EXPECT_EQ(expand(1, 2, 0), -1);
		EXPECT_EQ(expand(1, 2, width), -1);
		EXPECT_EQ(expand(1, 1, 3), -1);
		EXPECT_EQ(expand(10, 2, 3), -1);
		EXPECT_EQ(expand(1, 10, 3), -1);
		EXPECT_EQ(expand(1, 2, 3, 1), -1);
		EXPECT_EQ(expand(9, 0, width - 1), 4);
		EXPECT_EQ(clobber, 1u << 0);
	}
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
