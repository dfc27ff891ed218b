// SPDX-License-Identifier: GPL-2.0
#include "rejit/insn.hpp"

#include <array>
#include <fmt/format.h>

#include "rejit/kinsn.hpp"

namespace rejit {
namespace {

constexpr uint8_t kMaxReg = 10; // R10 is the read-only frame pointer

bool valid_size(uint8_t size) {
	return size == BPF_B || size == BPF_H || size == BPF_W || size == BPF_DW;
}

std::string check_alu(const Insn &in) {
	const bool is64 = in.cls() == BPF_ALU64;
	const uint8_t op = BPF_OP(in.code);
	const bool reg = BPF_SRC(in.code) == BPF_X;
	switch (op) {
	case BPF_ADD:
	case BPF_SUB:
	case BPF_MUL:
	case BPF_OR:
	case BPF_AND:
	case BPF_LSH:
	case BPF_RSH:
	case BPF_XOR:
	case BPF_ARSH:
		return in.off == 0 ? "" : "alu: off must be 0";
	case BPF_DIV:
	case BPF_MOD: // off 1 = signed (sdiv/smod)
		return in.off == 0 || in.off == 1 ? "" : "div/mod: off must be 0 or 1";
	case BPF_MOV: // off 8/16/32 = sign-extending move (movsx)
		if (is64 && reg && in.off == BPF_ADDR_SPACE_CAST) // arena pointer cast
			return in.imm == 1 || in.imm == 1 << 16
			               ? ""
			               : "addr_space_cast: imm must be 1 or "
			                 "1 << 16";
		if (in.off == 0 || in.off == 8 || in.off == 16 || (is64 && in.off == 32))
			return in.off && !reg ? "movsx needs a register source" : "";
		return "mov: bad sign-extension width";
	case BPF_NEG:
		return reg || in.off ? "neg: must be K form with off 0" : "";
	case BPF_END:
		if (in.imm != 16 && in.imm != 32 && in.imm != 64)
			return "end: imm must be 16, 32 or 64";
		if (is64 && reg) // ALU64 only has the unconditional bswap (src K)
			return "end: alu64 form must use BPF_TO_LE";
		return in.off == 0 ? "" : "end: off must be 0";
	default:
		return "alu: unknown operation";
	}
}

std::string check_jmp(const Insn &in) {
	const bool is32 = in.cls() == BPF_JMP32;
	const uint8_t op = BPF_OP(in.code);
	const bool reg = BPF_SRC(in.code) == BPF_X;
	switch (op) {
	case BPF_JA: // JMP: off; JMP32 (gotol): imm
		return reg ? "ja: must be K form" : "";
	case BPF_JEQ:
	case BPF_JGT:
	case BPF_JGE:
	case BPF_JSET:
	case BPF_JNE:
	case BPF_JSGT:
	case BPF_JSGE:
	case BPF_JLT:
	case BPF_JLE:
	case BPF_JSLT:
	case BPF_JSLE:
		return "";
	case BPF_CALL:
		if (is32)
			return "call: not valid in JMP32";
		if (in.src == 0 && reg)
			return "call: helper call must be K form";
		return in.src <= BPF_PSEUDO_KINSN_CALL ? "" : "call: unknown src (pseudo) kind";
	case BPF_EXIT:
		return is32 || reg ? "exit: only JMP K form" : "";
	case BPF_JCOND: // may_goto
		return !is32 && !reg && in.src == BPF_MAY_GOTO ? "" : "jcond: only may_goto";
	default:
		return "jmp: unknown operation";
	}
}

std::string check_mem(const Insn &in) {
	const uint8_t mode = BPF_MODE(in.code), size = BPF_SIZE(in.code);
	switch (in.cls()) {
	case BPF_LD:
		if (in.is_ldimm64())
			return in.src <= BPF_PSEUDO_MAP_IDX_VALUE ? ""
			                                          : "ld_imm64: unknown pseudo src";
		if ((mode == BPF_ABS || mode == BPF_IND) && size != BPF_DW)
			return "";
		return "ld: unknown mode";
	case BPF_LDX:
		if (mode == BPF_MEM)
			return "";
		if (mode == BPF_MEMSX)
			return size != BPF_DW ? "" : "ldx memsx: no DW form";
		return "ldx: unknown mode";
	case BPF_ST:
		return mode == BPF_MEM ? "" : "st: unknown mode";
	case BPF_STX:
		if (mode == BPF_MEM)
			return "";
		if (mode != BPF_ATOMIC)
			return "stx: unknown mode";
		if (size != BPF_W && size != BPF_DW)
			return "atomic: only W and DW";
		switch (in.imm) {
		case BPF_ADD:
		case BPF_OR:
		case BPF_AND:
		case BPF_XOR:
		case BPF_ADD | BPF_FETCH:
		case BPF_OR | BPF_FETCH:
		case BPF_AND | BPF_FETCH:
		case BPF_XOR | BPF_FETCH:
		case BPF_XCHG:
		case BPF_CMPXCHG:
			return "";
		}
		return "atomic: unknown operation";
	}
	return "unreachable";
}

// The operand form's first slot names the kfunc like a kfunc call; what the
// operands mean is the kinsn's business (kinsn.hpp checks the ones it knows).
std::string check_kinsn(const Insn &in) {
	if (in.dst != 0)
		return "kinsn: dst_reg of the call slot must be 0";
	if (in.off < 0)
		return "kinsn: negative fd_array index";
	if (in.op.dst > kMaxReg || in.op.src > kMaxReg)
		return "kinsn: operand register above R10";
	return "";
}

} // namespace

std::string check(const Insn &in) {
	if (in.dst > kMaxReg || in.src > kMaxReg)
		return "register number above R10";
	if (!in.is_ldimm64() && in.imm_hi != 0)
		return "imm_hi set on a one-slot instruction";
	if (in.is_kinsn())
		return check_kinsn(in);
	if (in.op != KinsnOperands{})
		return "kinsn operands set on another instruction";
	if (!valid_size(BPF_SIZE(in.code)) && in.cls() <= BPF_STX)
		return "bad access size";
	switch (in.cls()) {
	case BPF_ALU:
	case BPF_ALU64:
		return check_alu(in);
	case BPF_JMP:
	case BPF_JMP32:
		return check_jmp(in);
	default:
		return check_mem(in);
	}
}

Result<std::vector<Insn>> decode(std::span<const bpf_insn> raw) {
	std::vector<Insn> out;
	out.reserve(raw.size());
	for (size_t i = 0; i < raw.size(); i++) {
		const bpf_insn &r = raw[i];
		Insn in{r.code, r.dst_reg, r.src_reg, r.off, r.imm, 0};
		if (in.is_ldimm64()) {
			if (i + 1 == raw.size())
				return make_error(EINVAL,
				                  fmt::format("insn {}: ld_imm64 truncated", i));
			const bpf_insn &hi = raw[i + 1];
			if (hi.code || hi.dst_reg || hi.src_reg || hi.off)
				return make_error(
				        EINVAL,
				        fmt::format("insn {}: bad ld_imm64 second slot", i + 1));
			in.imm_hi = hi.imm;
			i++;
		} else if (in.is_kinsn()) {
			if (i + 1 == raw.size())
				return make_error(
				        EINVAL,
				        fmt::format("insn {}: kinsn operand form truncated", i));
			const bpf_insn &ops = raw[i + 1];
			if (ops.code)
				return make_error(
				        EINVAL,
				        fmt::format("insn {}: kinsn operand slot must have code 0",
				                    i + 1));
			in.op = {ops.dst_reg, ops.src_reg, ops.off, ops.imm};
			i++;
		}
		if (std::string why = check(in); !why.empty())
			return make_error(
			        EINVAL, fmt::format("insn {} (code {:#04x}): {}", i, in.code, why));
		out.push_back(in);
	}
	return out;
}

std::vector<bpf_insn> encode(std::span<const Insn> insns) {
	std::vector<bpf_insn> out;
	out.reserve(slot_count(insns));
	for (const Insn &in : insns) {
		bpf_insn r{};
		r.code = in.code;
		r.dst_reg = in.dst & 0xf;
		r.src_reg = in.src & 0xf;
		r.off = in.off;
		r.imm = in.imm;
		out.push_back(r);
		if (in.is_ldimm64()) {
			bpf_insn hi{};
			hi.imm = in.imm_hi;
			out.push_back(hi);
		} else if (in.is_kinsn()) {
			bpf_insn ops{};
			ops.dst_reg = in.op.dst & 0xf;
			ops.src_reg = in.op.src & 0xf;
			ops.off = in.op.off;
			ops.imm = in.op.imm;
			out.push_back(ops);
		}
	}
	return out;
}

unsigned access_bytes(uint8_t code) {
	static constexpr unsigned bytes[4] = {4, 2, 1, 8}; // BPF_W, H, B, DW
	return bytes[BPF_SIZE(code) >> 3];
}

size_t slot_count(std::span<const Insn> insns) {
	size_t n = 0;
	for (const Insn &in : insns)
		n += in.slots();
	return n;
}

std::string mnemonic(const Insn &in) {
	static constexpr std::array<const char *, 8> cls{"ld",  "ldx", "st",    "stx",
	                                                 "alu", "jmp", "jmp32", "alu64"};
	static constexpr std::array<const char *, 16> alu{"add",  "sub", "mul", "div", "or",  "and",
	                                                  "lsh",  "rsh", "neg", "mod", "xor", "mov",
	                                                  "arsh", "end", "?",   "?"};
	static constexpr std::array<const char *, 16> jmp{
	        "ja",   "jeq",  "jgt", "jge", "jset", "jne",  "jsgt",  "jsge",
	        "call", "exit", "jlt", "jle", "jslt", "jsle", "jcond", "?"};
	static constexpr std::array<const char *, 4> size{"w", "h", "b", "dw"};
	if (in.is_kinsn()) {
		const std::string_view name = kinsn_form_name(in);
		return name.empty() ? "kinsn" : fmt::format("kinsn {}", name);
	}
	const char *c = cls[in.cls()];
	const char *s = BPF_SRC(in.code) == BPF_X ? "x" : "k";
	switch (in.cls()) {
	case BPF_ALU:
	case BPF_ALU64:
		return fmt::format("{} {} {}", c, alu[BPF_OP(in.code) >> 4], s);
	case BPF_JMP:
	case BPF_JMP32:
		return fmt::format("{} {} {}", c, jmp[BPF_OP(in.code) >> 4], s);
	default:
		return fmt::format("{} {}", c, size[BPF_SIZE(in.code) >> 3]);
	}
}

std::string disasm(const Insn &in) {
	const std::string m = mnemonic(in);
	const bool x = BPF_SRC(in.code) == BPF_X;
	auto mem = [](uint8_t reg, int16_t off) { return fmt::format("[r{}{:+}]", reg, off); };
	if (in.is_kinsn())
		return fmt::format("{} r{}, r{}, {}, {}", m, in.op.dst, in.op.src, in.op.off,
		                   in.op.imm);
	if (in.is_ldimm64())
		return in.src ? fmt::format("{} r{}, pseudo {} imm {} off {}", m, in.dst, in.src,
		                            in.imm, in.imm_hi)
		              : fmt::format("{} r{}, {:#x}", m, in.dst, in.imm64());
	switch (in.cls()) {
	case BPF_ALU:
	case BPF_ALU64:
		if (BPF_OP(in.code) == BPF_NEG)
			return fmt::format("{} r{}", m, in.dst);
		if (BPF_OP(in.code) == BPF_END)
			return fmt::format("{} r{}, {}", m, in.dst, in.imm);
		return x ? fmt::format("{} r{}, r{}{}", m, in.dst, in.src,
		                       in.off ? fmt::format(" (off {})", in.off) : "")
		         : fmt::format("{} r{}, {:#x}", m, in.dst, in.imm);
	case BPF_JMP:
	case BPF_JMP32:
		if (BPF_OP(in.code) == BPF_EXIT)
			return m;
		if (BPF_OP(in.code) == BPF_CALL)
			return fmt::format("{} {} (src {}, off {})", m, in.imm, in.src, in.off);
		if (BPF_OP(in.code) == BPF_JA)
			return fmt::format("{} {:+}", m, in.cls() == BPF_JMP32 ? in.imm : in.off);
		return x ? fmt::format("{} r{}, r{}, {:+}", m, in.dst, in.src, in.off)
		         : fmt::format("{} r{}, {:#x}, {:+}", m, in.dst, in.imm, in.off);
	case BPF_LDX:
		return fmt::format("{} r{}, {}", m, in.dst, mem(in.src, in.off));
	case BPF_STX:
		return fmt::format("{} {}, r{}{}", m, mem(in.dst, in.off), in.src,
		                   BPF_MODE(in.code) == BPF_ATOMIC
		                           ? fmt::format(" (atomic {:#x})", in.imm)
		                           : "");
	case BPF_ST:
		return fmt::format("{} {}, {:#x}", m, mem(in.dst, in.off), in.imm);
	default:
		return fmt::format("{} r{}, r{}, {}, {}", m, in.dst, in.src, in.off, in.imm);
	}
}

} // namespace rejit
