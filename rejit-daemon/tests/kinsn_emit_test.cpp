// SPDX-License-Identifier: GPL-2.0
// The kinsn modules' x86-64 code, run on the host CPU (real silicon, not
// QEMU) against the meaning the verifier and the interpreter use. The code
// runs inside a wrapper that loads the BPF register file into the x86
// registers the JIT gives them and stores it back, so every register the
// code writes is seen.
#include <algorithm>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "exec_code.hpp"
#include "kinsn_defs.h"
#include "rejit/insn.hpp"
#include "rejit/interp.hpp"

namespace {

using rejit::test::Code;
using rejit::test::Native;

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

// x86 registers of BPF R0-R10 in the x86-64 JIT.
constexpr uint8_t kX86Reg[] = {0, 7, 6, 2, 1, 8, 3, 13, 14, 15, 5};
constexpr int kRegs = 11;

// A kinsn's code wrapped into `void f(uint64_t regs[11])`: every
// BPF register's x86 register is loaded from regs[], the kinsn runs, and
// they are stored back. r9 (no BPF register) holds the pointer.
std::vector<uint8_t> wrap_op(std::span<const uint8_t> kinsn) {
	std::vector<uint8_t> c = {
	        0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41,
	        0x56, 0x41, 0x57, 0x49, 0x89, 0xf9}; // push rbx .. r15; mov r9, rdi
	auto move = [&](uint8_t opcode) {            // mov x, [r9 + 8n] | mov [r9 + 8n], x
		for (int n = 0; n < kRegs; n++) {
			const uint8_t x = kX86Reg[n];
			c.insert(c.end(), {uint8_t(0x49 | (x >> 3) << 2), opcode,
			                   uint8_t(0x41 | (x & 7) << 3), uint8_t(8 * n)});
		}
	};
	move(0x8b);
	c.insert(c.end(), kinsn.begin(), kinsn.end());
	move(0x89);
	c.insert(c.end(), {0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b});
	return c;
}

// Each call form's code on a whole register file, as the JIT runs it:
// R0 must get the meaning and R<args+1>-R10 must keep their values (the
// bpf_fastcall contract the verifier relies on to drop spills).
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
		const Code code(wrap_op({d.x86, d.x86_len}));
		auto native = code.as<void (*)(uint64_t *)>();
		ASSERT_NE(native, nullptr) << "mmap/mprotect: " << std::strerror(errno);
		std::mt19937_64 rng(42);
		size_t runs = 0;
		auto check = [&](uint64_t a, uint64_t b, uint64_t c) {
			runs++;
			uint64_t in = a, r[kRegs];
			for (uint64_t &v : r)
				v = rng();
			r[1] = d.load ? uint64_t(&in) : a, r[2] = b, r[3] = c;
			const uint64_t want = d.meaning(r[1], b, c);
			uint64_t kept[kRegs];
			std::memcpy(kept, r, sizeof(r));
			native(r);
			bool ok = want == r[0];
			if (!ok)
				ADD_FAILURE()
				        << std::hex << d.name << "(0x" << a << ", 0x" << b << ", 0x"
				        << c << "): native 0x" << r[0] << ", meaning 0x" << want;
			for (int n = d.args + 1; n < kRegs; n++)
				if (r[n] != kept[n]) {
					ADD_FAILURE()
					        << d.name << " wrote R" << n << ", not an argument";
					ok = false;
				}
			return ok;
		};
		for (uint64_t a : kEdges)
			for (uint64_t b : kEdges)
				for (uint64_t c : {0ull, 1ull, 8ull, 63ull, 64ull, 200ull, ~0ull})
					check(a, b, c);
		for (int i = 0; i < 200000; i++)
			if (!check(rng(), rng() >> (rng() % 64), rng() >> (rng() % 64)))
				break;
		std::printf("%s: %zu inputs, native == meaning, R%d-R10 kept\n", d.name, runs,
		            d.args + 1);
	}
}

TEST(KinsnEmit, Crc32cOnHostCpu) {
	check_family(kinsn_crc32c_defs);
}

TEST(KinsnEmit, BitopsOnHostCpu) {
	check_family(kinsn_bitops_defs);
}

// Random addresses, most unmapped: a prefetch must not fault on any.
TEST(KinsnEmit, PrefetchOnHostCpu) {
	check_family(kinsn_prefetch_defs);
}

// Loads through R1: the input sits in memory, the code reads it there.
TEST(KinsnEmit, MovbeOnHostCpu) {
	check_family(kinsn_movbe_defs);
}

// The plain sequence on a register file: what the verifier checks.
void run_plain(std::span<const bpf_insn> seq, uint64_t (&r)[kRegs]) {
	for (size_t pc = 0; pc < seq.size(); pc++) {
		const bpf_insn &b = seq[pc];
		const rejit::Insn in{b.code, b.dst_reg, b.src_reg, b.off, b.imm};
		const uint64_t src =
		        BPF_SRC(in.code) == BPF_X ? r[in.src] : uint64_t(int64_t(in.imm));
		if (in.cls() == BPF_ALU || in.cls() == BPF_ALU64) {
			r[in.dst] = rejit::alu_value(in, r[in.dst], src);
		} else if (in.cls() == BPF_LDX) { // the byte-swapped loads' load
			uint64_t v = 0;
			std::memcpy(&v, reinterpret_cast<const void *>(r[in.src] + in.off),
			            rejit::access_bytes(in.code));
			r[in.dst] = v;
		} else if (rejit::jump_taken(in, r[in.dst], src)) {
			pc += size_t(in.off);
		}
	}
}

// Random operands, the ones expand() accepts: registers R0-R10, offsets
// and immediates around every form's ranges, select encodings.
bpf_insn random_operands(std::mt19937_64 &rng) {
	static const uint8_t jops[] = {BPF_JEQ,  BPF_JNE,  BPF_JGT,  BPF_JGE,  BPF_JLT, BPF_JLE,
	                               BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE, BPF_JSET};
	bpf_insn op{};
	op.dst_reg = rng() % kRegs, op.src_reg = rng() % kRegs;
	switch (rng() % 4) {
	case 0:
		op.off = 0; // rotates take no offset
		break;
	case 1:
		op.off = int16_t(rng() % 70);
		break;
	case 2:
		op.off = rng() % 2 ? 32 : 64; // popcount's widths
		break;
	default:
		op.off = kinsn_select_off(rng() % kRegs, jops[rng() % 11], rng() % 2, rng() % 2);
	}
	switch (rng() % 4) {
	case 0:
		op.imm = int32_t(rng() % 70);
		break;
	case 1:
		op.imm = int32_t(rng() % 256) - 128;
		break;
	case 2: // popcount's scratch registers
		op.imm = int32_t(rng() % kRegs | (rng() % kRegs) << 4);
		break;
	default:
		op.imm = int32_t(uint32_t(rng()));
	}
	return op;
}

// Register values: edge cases, small numbers (so compares go both ways)
// and random ones.
uint64_t random_value(std::mt19937_64 &rng) {
	switch (rng() % 4) {
	case 0:
		return kEdges[rng() % kEdges.size()];
	case 1:
		return rng() % 8 - 4;
	default:
		return rng() >> (rng() % 64);
	}
}

// Whether a plain sequence loads: its src register then holds a pointer.
bool loads(std::span<const bpf_insn> seq) {
	return std::ranges::any_of(seq,
	                           [](const bpf_insn &b) { return BPF_CLASS(b.code) == BPF_LDX; });
}

// Every operand form's native code for many operands, register
// allocations (each operand over R0-R10) and register values against its
// plain sequence; the registers it clobbers are not compared. A form that
// loads gets src pointing to random bytes at a random alignment.
TEST(KinsnEmit, OperandFormsOnHostCpu) {
	for (const kinsn_op_def &d : kinsn_op_defs) {
		SCOPED_TRACE(d.name);
		if (!kinsn_user_cpu_has(d.cpu)) {
			std::printf("%s operand form: host CPU lacks the instruction, NOT run\n",
			            d.name);
			continue;
		}
		std::mt19937_64 rng(7);
		size_t operands = 0, runs = 0;
		for (int t = 0; t < 2000000 && operands < 2000; t++) {
			const bpf_insn op = random_operands(rng);
			bpf_insn seq[KINSN_OP_MAX];
			uint16_t clobber = 0;
			const int cnt = d.expand(&op, seq, &clobber);
			if (cnt < 0)
				continue;
			ASSERT_LE(cnt, KINSN_OP_MAX);
			operands++;
			uint8_t buf[KINSN_X86_MAX];
			const int len = d.x86(&op, kX86Reg, buf);
			ASSERT_GT(len, 0);
			ASSERT_LE(len, KINSN_X86_MAX);
			const Code code(wrap_op({buf, size_t(len)}));
			auto native = code.as<void (*)(uint64_t *)>();
			ASSERT_NE(native, nullptr);
			for (int i = 0; i < 100; i++, runs++) {
				uint64_t want[kRegs], got[kRegs];
				uint64_t mem[3];
				for (uint64_t &m : mem)
					m = rng();
				for (int r = 0; r < kRegs; r++)
					want[r] = got[r] = random_value(rng);
				if (loads({seq, size_t(cnt)}))
					want[op.src_reg] = got[op.src_reg] =
					        uint64_t(reinterpret_cast<uintptr_t>(mem)) +
					        rng() % 17 - uint64_t(int64_t(op.off));
				run_plain({seq, size_t(cnt)}, want);
				native(got);
				for (int r = 0; r < kRegs; r++) {
					if (clobber & 1u << r)
						continue;
					ASSERT_EQ(got[r], want[r])
					        << std::hex << "R" << std::dec << r
					        << ", operands dst r" << int(op.dst_reg) << " src r"
					        << int(op.src_reg) << " off 0x" << std::hex
					        << op.off << " imm 0x" << op.imm;
				}
			}
		}
		EXPECT_GE(operands, 2000u) << "too few valid random operands";
		std::printf("%s operand form: %zu operand sets x 100 register files (%zu runs), "
		            "native == plain sequence\n",
		            d.name, operands, runs);
	}
}

// The plain sequences of the operand forms mean what their kfuncs do.
TEST(KinsnEmit, OperandFormsMeanTheirKfunc) {
	std::mt19937_64 rng(3);
	for (int i = 0; i < 100000; i++) {
		const uint64_t x = random_value(rng);
		bpf_insn op{}, seq[KINSN_OP_MAX];
		uint16_t clobber;
		uint64_t r[kRegs] = {};
		op.dst_reg = 2, op.src_reg = 3;
		op.imm = 1 + rng() % 63;
		r[2] = x;
		ASSERT_EQ(kinsn_rol64_expand(&op, seq, &clobber), 4);
		run_plain({seq, 4}, r);
		ASSERT_EQ(r[2], kinsn_rol64(x, op.imm, 0));
		op.imm = 1 + rng() % 31;
		r[2] = x;
		ASSERT_EQ(kinsn_rol32_expand(&op, seq, &clobber), 4);
		run_plain({seq, 4}, r);
		ASSERT_EQ(r[2], kinsn_rol32(x, op.imm, 0));
		op.imm = 1 + rng() % 63, op.off = rng() % (65 - op.imm);
		r[2] = 0, r[3] = x;
		const int n = kinsn_bextr_expand(&op, seq, &clobber);
		ASSERT_GT(n, 0);
		run_plain({seq, size_t(n)}, r);
		ASSERT_EQ(r[2], kinsn_bextr64(x, op.off, op.imm));
		const uint64_t a = random_value(rng), b = random_value(rng);
		op.off = kinsn_select_off(4, BPF_JSGT, 1, 0), op.imm = 5;
		r[2] = a, r[3] = b, r[4] = rng() % 5 - 2, r[5] = rng() % 5 - 2;
		ASSERT_EQ(kinsn_select_expand(&op, seq, &clobber), 2);
		run_plain({seq, 2}, r);
		ASSERT_EQ(r[2], kinsn_select64(int64_t(r[4]) <= int64_t(r[5]), b, a));
		for (const int width : {32, 64}) {
			op = {}, op.dst_reg = 2, op.src_reg = 3, op.off = int16_t(width);
			op.imm = width == 32 ? 4 : 4 | 5 << 4;
			r[2] = random_value(rng), r[3] = x;
			const int cnt = kinsn_popcnt_expand(&op, seq, &clobber);
			ASSERT_EQ(cnt, width == 32 ? 15 : 24);
			ASSERT_EQ(clobber, width == 32 ? 0x18 : 0x38);
			run_plain({seq, size_t(cnt)}, r);
			ASSERT_EQ(r[2], kinsn_popcnt64(width == 32 ? uint32_t(x) : x, 0, 0));
		}
		// crc32c_u8: scratch r4, or the byte's own register
		for (const int32_t scratch : {4, 3}) {
			op = {}, op.dst_reg = 2, op.src_reg = 3, op.imm = scratch;
			const uint64_t crc = random_value(rng);
			r[2] = crc, r[3] = x;
			ASSERT_EQ(kinsn_crc32c_expand(&op, seq, &clobber), 43);
			ASSERT_EQ(clobber, 1u << scratch);
			run_plain({seq, 43}, r);
			ASSERT_EQ(r[2], kinsn_crc32c_u8(crc, x, 0));
			if (scratch != 3) {
				ASSERT_EQ(r[3], x);
			}
		}
		// byte-swapped loads: dst = the value at src + off, also for dst == src
		const uint64_t mem[2] = {x, random_value(rng)};
		const auto at = uint64_t(reinterpret_cast<uintptr_t>(mem)) + rng() % 9;
		for (const auto &[expand, meaning] :
		     {std::pair{&kinsn_load_be16_expand, &kinsn_load_be16},
		      std::pair{&kinsn_load_be32_expand, &kinsn_load_be32},
		      std::pair{&kinsn_load_be64_expand, &kinsn_load_be64}})
			for (const uint8_t dst : {2, 3}) {
				op = {}, op.dst_reg = dst, op.src_reg = 3;
				op.off = int16_t(rng() % 200) - 100;
				r[2] = random_value(rng), r[3] = at - uint64_t(int64_t(op.off));
				ASSERT_EQ(expand(&op, seq, &clobber), 2);
				ASSERT_EQ(clobber, 0);
				run_plain({seq, 2}, r);
				ASSERT_EQ(r[dst], meaning(at, 0, 0));
			}
	}
}

// Invalid operands have no meaning: the verifier refuses them.
TEST(KinsnEmit, OperandFormsRefuseBadOperands) {
	for (const kinsn_op_def &d : std::span(kinsn_op_defs, 2)) { // rol64, rol32
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
	bpf_insn op{}, seq[KINSN_OP_MAX];
	uint16_t clobber;
	auto select = [&](uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
		op = {}, op.dst_reg = dst, op.src_reg = src, op.off = off, op.imm = imm;
		return kinsn_select_expand(&op, seq, &clobber);
	};
	EXPECT_EQ(select(1, 2, kinsn_select_off(3, BPF_JGT, 1, 0), 4), 2);
	EXPECT_EQ(select(10, 2, kinsn_select_off(3, BPF_JGT, 1, 0), 4), -1); // dst R10
	EXPECT_EQ(select(1, 1, kinsn_select_off(3, BPF_JGT, 1, 0), 4), -1);  // dst == src
	EXPECT_EQ(select(1, 2, kinsn_select_off(3, BPF_JGT, 1, 0), 11), -1); // b R11
	EXPECT_EQ(select(1, 2, kinsn_select_off(11, BPF_JGT, 0, 0), 4), -1); // a R11
	EXPECT_EQ(select(1, 2, kinsn_select_off(3, BPF_JA, 0, 0), 4), -1);   // not a compare
	EXPECT_EQ(select(1, 2, kinsn_select_off(3, BPF_JGT, 0, 0) | 0x400, 4), -1);
	auto bextr = [&](uint8_t dst, uint8_t src, int16_t start, int32_t len) {
		op = {}, op.dst_reg = dst, op.src_reg = src, op.off = start, op.imm = len;
		return kinsn_bextr_expand(&op, seq, &clobber);
	};
	EXPECT_EQ(bextr(1, 2, 8, 8), 3);
	EXPECT_EQ(bextr(10, 2, 8, 8), -1);
	EXPECT_EQ(bextr(1, 2, 8, 0), -1);
	EXPECT_EQ(bextr(1, 2, 0, 64), -1);
	EXPECT_EQ(bextr(1, 2, 8, 57), -1); // past bit 63
	EXPECT_EQ(bextr(1, 2, -1, 8), -1);
	auto popcnt = [&](uint8_t dst, uint8_t src, int16_t width, int32_t scratch) {
		op = {}, op.dst_reg = dst, op.src_reg = src, op.off = width, op.imm = scratch;
		return kinsn_popcnt_expand(&op, seq, &clobber);
	};
	EXPECT_EQ(popcnt(0, 1, 32, 2), 15);
	EXPECT_EQ(popcnt(0, 1, 64, 2 | 3 << 4), 24);
	EXPECT_EQ(popcnt(0, 1, 16, 2), -1);          // no such width
	EXPECT_EQ(popcnt(0, 1, 32, 2 | 3 << 4), -1); // 32 bits take one scratch
	EXPECT_EQ(popcnt(0, 1, 64, 2 | 1 << 4), -1); // src as scratch
	EXPECT_EQ(popcnt(0, 0, 32, 2), -1);          // dst == src
	EXPECT_EQ(popcnt(10, 1, 32, 2), -1);         // dst R10
	EXPECT_EQ(popcnt(0, 10, 32, 2), -1);         // src R10
	EXPECT_EQ(popcnt(0, 1, 64, 2 | 10 << 4), -1);
	auto crc = [&](uint8_t dst, uint8_t src, int16_t off, int32_t scratch) {
		op = {}, op.dst_reg = dst, op.src_reg = src, op.off = off, op.imm = scratch;
		return kinsn_crc32c_expand(&op, seq, &clobber);
	};
	EXPECT_EQ(crc(0, 1, 0, 2), 43);
	EXPECT_EQ(crc(0, 1, 0, 1), 43);  // the byte's register as scratch
	EXPECT_EQ(crc(0, 1, 0, 0), -1);  // dst as scratch
	EXPECT_EQ(crc(0, 0, 0, 2), -1);  // dst == src
	EXPECT_EQ(crc(10, 1, 0, 2), -1); // dst R10
	EXPECT_EQ(crc(0, 10, 0, 2), -1); // src R10
	EXPECT_EQ(crc(0, 1, 0, 10), -1); // scratch R10
	EXPECT_EQ(crc(0, 1, 8, 2), -1);  // no offset
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
