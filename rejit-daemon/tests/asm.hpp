// SPDX-License-Identifier: GPL-2.0
// Hand-written instructions for tests, named after their assembly.
#pragma once

#include "rejit/insn.hpp"

namespace rejit::test::asm_ {

// A raw slot, for codec tests.
inline bpf_insn raw(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
	bpf_insn r{};
	r.code = code;
	r.dst_reg = dst;
	r.src_reg = src;
	r.off = off;
	r.imm = imm;
	return r;
}

inline Insn mov(uint8_t dst, int32_t imm) {
	return {BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm};
}
inline Insn movx(uint8_t dst, uint8_t src) {
	return {BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0};
}
inline Insn add(uint8_t dst, int32_t imm) {
	return {BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm};
}
inline Insn addx(uint8_t dst, uint8_t src) {
	return {BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0};
}
inline Insn lsh32(uint8_t dst, int32_t imm) {
	return {BPF_ALU | BPF_LSH | BPF_K, dst, 0, 0, imm};
}
inline Insn or32(uint8_t dst, uint8_t src) {
	return {BPF_ALU | BPF_OR | BPF_X, dst, src, 0, 0};
}
inline Insn ldxb(uint8_t dst, uint8_t src, int16_t off) {
	return {BPF_LDX | BPF_MEM | BPF_B, dst, src, off, 0};
}
inline Insn stb(uint8_t dst, int16_t off, int32_t imm) {
	return {BPF_ST | BPF_MEM | BPF_B, dst, 0, off, imm};
}
inline Insn jeq(uint8_t dst, int32_t imm, int16_t off) {
	return {BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm};
}
inline Insn ja(int16_t off) {
	return {BPF_JMP | BPF_JA, 0, 0, off, 0};
}
inline Insn gotol(int32_t imm) {
	return {BPF_JMP32 | BPF_JA, 0, 0, 0, imm};
}
inline Insn call_sub(int32_t imm) {
	return {BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, imm};
}
inline Insn call_helper(int32_t id) {
	return {BPF_JMP | BPF_CALL, 0, 0, 0, id};
}
inline Insn ldimm64(uint8_t dst, uint64_t v) {
	return {BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, int32_t(uint32_t(v)), int32_t(v >> 32)};
}
inline Insn exit_insn() {
	return {BPF_JMP | BPF_EXIT, 0, 0, 0, 0};
}

} // namespace rejit::test::asm_
