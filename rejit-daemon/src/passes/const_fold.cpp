// SPDX-License-Identifier: GPL-2.0
// const-fold: loads from maps whose contents can never change become
// immediates, and conditional jumps on known values are decided.
//
// libbpf puts `const volatile` globals in .rodata, a single-element array it
// freezes and makes read-only to programs: configuration fixed at load time
// (feature switches, ports, sizes). Programs read it with `r = map_value +
// off; r = *(u32 *)(r + 0)` and branch on it. The verifier knows those
// values and drops the dead arm, but the JIT still emits every load and
// compare. Here the load becomes a move of the value, arithmetic on known
// values becomes a move of the result, a jump that is never taken goes, one
// that is always taken becomes `goto`, and the dce pass removes what is
// left unreachable or unread.
//
// A forward dataflow over the CFG tracks what each register holds: a pointer
// into a frozen map at a known offset, a known constant, or unknown where
// paths disagree.
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"
#include "rejit/interp.hpp"

namespace rejit {
namespace {

struct Val {
	enum Kind : uint8_t { Unknown, MapPtr, Const } kind = Unknown;
	uint32_t map = 0; // MapPtr: map index
	int64_t off = 0;  // MapPtr: byte offset into its value
	uint64_t v = 0;   // Const

	bool operator==(const Val &) const = default;
};
using Regs = std::array<Val, BPF_REG_10 + 1>;

// The value a load of `n` bytes at `p` gives, as the 64-bit register holds it.
uint64_t read_value(const uint8_t *p, unsigned n, bool sign) {
	switch (n) {
	case 1:
		return sign ? uint64_t(int64_t(int8_t(*p))) : *p;
	case 2: {
		uint16_t x;
		std::memcpy(&x, p, 2);
		return sign ? uint64_t(int64_t(int16_t(x))) : x;
	}
	case 4: {
		uint32_t x;
		std::memcpy(&x, p, 4);
		return sign ? uint64_t(int64_t(int32_t(x))) : x;
	}
	default: {
		uint64_t x;
		std::memcpy(&x, p, 8);
		return x;
	}
	}
}

// The shortest instruction that sets the whole of register dst to v.
Insn move_const(uint8_t dst, uint64_t v) {
	if (int64_t(v) == int64_t(int32_t(v))) // mov64 sign-extends its imm
		return {BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, int32_t(v)};
	if (v <= 0xffffffffULL) // mov32 zero-extends
		return {BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, int32_t(uint32_t(v))};
	return {BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, int32_t(uint32_t(v)), int32_t(v >> 32)};
}

class ConstFold : public Pass {
public:
	std::string_view name() const override { return "const-fold"; }
	std::string_view summary() const override {
		return "loads from frozen read-only maps (.rodata) -> immediates; jumps on known "
		       "values decided";
	}

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		if (env.frozen_maps.empty())
			return {};
		const Cfg cfg(rw);
		const auto in = block_entry_states(rw, env, cfg);
		for (size_t b = 0; b < cfg.blocks(); b++) {
			if (!in[b])
				continue; // never reached
			Regs regs = *in[b];
			for (size_t i = cfg.block_start(b); i < cfg.block_end(b); i++) {
				const Fold f = transfer(rw.at(i), env, regs);
				Result<void> r;
				if (f.what == Fold::Load || f.what == Fold::Alu)
					r = rw.replace(i, {move_const(rw.at(i).dst, f.value)});
				else if (f.what == Fold::Jump)
					r = f.taken ? rw.jump_always(i) : rw.replace(i, {});
				if (!r)
					return r;
				if (f.what != Fold::None)
					sites.push_back({i, f.what != Fold::Skip, f.why});
			}
		}
		return {};
	}

private:
	// What to do at one instruction.
	struct Fold {
		enum What : uint8_t { None, Load, Alu, Jump, Skip } what = None;
		uint64_t value = 0; // Load, Alu: the value the register gets
		bool taken = false; // Jump: always taken (else never)
		std::string why;
	};

	// Registers at the start of each block, unset where no path leads.
	static std::vector<std::optional<Regs>>
	block_entry_states(const Rewriter &rw, const PassEnv &env, const Cfg &cfg) {
		std::vector<std::optional<Regs>> in(cfg.blocks());
		std::vector<size_t> todo;
		for (size_t b = 0; b < cfg.blocks(); b++)
			if (b == 0 || cfg.is_entry(cfg.block_start(b))) {
				in[b] = Regs{};
				todo.push_back(b);
			}
		while (!todo.empty()) {
			const size_t b = todo.back();
			todo.pop_back();
			Regs regs = *in[b];
			for (size_t i = cfg.block_start(b); i < cfg.block_end(b); i++)
				transfer(rw.at(i), env, regs);
			for (size_t succ : cfg.succs(cfg.block_end(b) - 1)) {
				const size_t t = cfg.block_of(succ);
				bool changed = !in[t];
				if (!in[t])
					in[t] = regs;
				for (unsigned r = 0; r <= BPF_REG_10; r++)
					if ((*in[t])[r] != regs[r] &&
					    (*in[t])[r].kind != Val::Unknown) {
						(*in[t])[r] = {}; // paths disagree
						changed = true;
					}
				if (changed)
					todo.push_back(t);
			}
		}
		return in;
	}

	// Update regs for `in` and say what could be folded there.
	static Fold transfer(const Insn &in, const PassEnv &env, Regs &regs) {
		const uint8_t op = BPF_OP(in.code), mode = BPF_MODE(in.code);
		const bool k = BPF_SRC(in.code) == BPF_K;
		Val &dst = regs[in.dst];
		const Val src = regs[in.src];

		if (in.is_ldimm64()) {
			if (in.src == BPF_PSEUDO_MAP_IDX_VALUE &&
			    env.frozen_maps.contains(uint32_t(in.imm)))
				dst = {Val::MapPtr, uint32_t(in.imm), in.imm_hi, 0};
			else
				dst = in.src == 0 ? Val{Val::Const, 0, 0, in.imm64()} : Val{};
			return {};
		}
		const bool known = k || src.kind == Val::Const; // the operand
		const uint64_t b = k ? uint64_t(int64_t(in.imm)) : src.v;
		if (in.cls() == BPF_ALU64 || in.cls() == BPF_ALU) {
			const bool copy =
			        op == BPF_MOV && !k && in.cls() == BPF_ALU64 && in.off == 0;
			if (copy) { // pointers too
				dst = src;
				return {};
			}
			if (op == BPF_ADD && in.cls() == BPF_ALU64 && dst.kind == Val::MapPtr &&
			    known) {
				dst.off += int64_t(b);
				return {};
			}
			const bool cast = op == BPF_MOV && in.off == BPF_ADDR_SPACE_CAST &&
			                  in.cls() == BPF_ALU64;
			const bool foldable = op != BPF_END && !cast &&
			                      (op == BPF_MOV || dst.kind == Val::Const) &&
			                      (op == BPF_NEG || known);
			if (!foldable) {
				dst = {};
				return {};
			}
			const uint64_t r = alu_value(in, dst.v, b);
			dst = {Val::Const, 0, 0, r};
			// an operation on known values becomes a move, if that is
			// one instruction (moves of immediates are left alone)
			if ((op == BPF_MOV && k) || move_const(in.dst, r).is_ldimm64())
				return {};
			return {Fold::Alu, r, false,
			        fmt::format("{} on known values: r{} = {:#x}", mnemonic(in), in.dst,
			                    r)};
		}
		if (in.cls() == BPF_LDX && (mode == BPF_MEM || mode == BPF_MEMSX) &&
		    src.kind == Val::MapPtr) {
			const std::vector<uint8_t> &value = env.frozen_maps.at(src.map);
			const unsigned n = access_bytes(in.code);
			const int64_t at = src.off + in.off;
			dst = {};
			if (at < 0 || uint64_t(at) + n > value.size())
				return {Fold::Skip, 0, false,
				        fmt::format("load at offset {} is outside map {}'s {}-byte "
				                    "value",
				                    at, src.map, value.size())};
			const uint64_t v = read_value(value.data() + at, n, mode == BPF_MEMSX);
			dst = {Val::Const, 0, 0, v};
			return {Fold::Load, v, false,
			        fmt::format("r{} = {}-byte load from frozen map {} at offset {} -> "
			                    "{:#x}",
			                    in.dst, n, src.map, at, v)};
		}
		if (is_cond_jump(in) && dst.kind == Val::Const && known) {
			const bool t = jump_taken(in, dst.v, b);
			return {Fold::Jump, 0, t,
			        fmt::format("{} on r{} = {:#x}: {}", mnemonic(in), in.dst, dst.v,
			                    t ? "always taken, now goto" : "never taken, removed")};
		}
		const RegSet written = regs_written(in);
		for (unsigned r = 0; r <= BPF_REG_10; r++)
			if (written & reg_bit(r))
				regs[r] = {};
		return {};
	}
};

} // namespace

std::unique_ptr<Pass> make_const_fold_pass() {
	return std::make_unique<ConstFold>();
}

} // namespace rejit
