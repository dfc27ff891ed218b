// SPDX-License-Identifier: GPL-2.0
// popcount: the bit-twiddling population count -> one bpf_popcnt64 kinsn.
//
// BPF has no popcount, so clang expands __builtin_popcount{,ll} into the
// classic SWAR sequence: 15 instructions for 32 bits, 19 (four of them
// 64-bit constants) for 64. The bpf_popcnt64 operand form (dst = popcount
// of src, 32 or 64 bits, with scratch registers it clobbers) is one
// `popcnt` on x86.
//
// The pass numbers the values of each basic block symbolically: a node is
// an input (a register at the block's start, or the result of anything
// but register arithmetic), a constant, or an ALU operation on two nodes,
// hash-consed with commutative operands sorted, copies transparent and a
// 32-bit operation reading through a 32-bit copy. Where a right shift by
// width - 8 gives the node of the SWAR expression of some value x, built
// in the same table, the count is found: so the order of instructions and
// the registers clang picked do not matter, and nothing that is not
// exactly the expression matches. The instructions computing it (a
// backward slice from the shift over registers, stopping where they hold
// x) go and the shift becomes the kinsn; what the scheduler interleaved
// stays. Needed: the slice is register arithmetic in one basic block; no
// instruction that stays reads a register the slice wrote while the slice
// would have owned it; nothing the slice computed but the result is read
// afterwards; x is in a register R0-R9 at the shift once the slice is gone
// (the kinsn counts a copy if that register is the result's or is read
// afterwards); enough dead scratch registers; and the kinsn has a native
// operand form on this machine.
#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

constexpr std::string_view kKinsn = "bpf_popcnt64";

using NodeId = uint32_t;
constexpr NodeId kNone = 0; // the missing operand of a one-operand operation

// Hash-consed value nodes of one block.
class Values {
public:
	Values() { add({kInput, 0, 0, 0, ~0ull}); } // kNone
	// A value nothing is known about (each call a new one).
	NodeId input() { return add({kInput, 0, next_input_++, 0, 0}); }
	NodeId constant(uint64_t v) { return add({kConst, 0, 0, 0, v}); }
	// The ALU operation `code` (class, op and source bits) with off on a
	// and b (b: the operand, or 0 for a one-operand operation).
	NodeId op(uint8_t code, int16_t off, NodeId a, NodeId b) {
		const uint8_t o = BPF_OP(code);
		const bool w32 = BPF_CLASS(code) == BPF_ALU;
		if (o == BPF_MOV && off == 0) { // a copy: 32 bits is a zero-extension
			if (!w32 || is_alu32(b))
				return b;
			return is_const(b) ? constant(uint32_t(nodes_[b].value))
			                   : add({kZext, 0, b, 0, 0});
		}
		if (w32 && o != BPF_END) { // reads only the low halves
			a = low32(a);
			b = low32(b);
		}
		if ((o == BPF_ADD || o == BPF_MUL || o == BPF_AND || o == BPF_OR || o == BPF_XOR) &&
		    a > b)
			std::swap(a, b);
		// K and X forms alike (the operand is a node), not so le and be
		return add({uint8_t(o == BPF_END ? code : code & ~BPF_X), off, a, b, 0});
	}
	// The operand an instruction's immediate gives a 64-bit (sign-extended)
	// or 32-bit operation.
	NodeId imm(const Insn &in) {
		return constant(in.cls() == BPF_ALU ? uint64_t(uint32_t(in.imm))
		                                    : uint64_t(int64_t(in.imm)));
	}
	// The nodes `n` is computed from, itself included.
	void closure(NodeId n, std::set<NodeId> &out) const {
		if (!out.insert(n).second)
			return;
		const Node &x = nodes_[n];
		if (x.code == kZext || (x.code != kInput && x.code != kConst)) {
			closure(x.a, out);
			if (x.code != kZext)
				closure(x.b, out);
		}
	}
	[[nodiscard]] bool is_const(NodeId n) const { return nodes_[n].code == kConst; }
	[[nodiscard]] bool is_input(NodeId n) const { return nodes_[n].code == kInput; }
	// The operand a 32-bit operation reads: through a zero-extension, and
	// of a constant its low half.
	NodeId low32(NodeId n) {
		const Node &x = nodes_[n];
		if (x.code == kZext)
			return x.a;
		if (x.code == kConst && x.value >> 32)
			return constant(uint32_t(x.value));
		return n;
	}

	// The SWAR population count of x, as clang expands it.
	NodeId popcount(NodeId x, bool w32) {
		const uint8_t c = w32 ? BPF_ALU : BPF_ALU64;
		auto k = [&](uint64_t v) { return constant(w32 ? uint32_t(v) : v); };
		auto f = [&](uint8_t o, NodeId a, NodeId b) { return op(c | o, 0, a, b); };
		const NodeId m1 = k(0x5555555555555555), m2 = k(0x3333333333333333),
		             m4 = k(0x0f0f0f0f0f0f0f0f), h01 = k(0x0101010101010101);
		NodeId v = f(BPF_SUB, x, f(BPF_AND, f(BPF_RSH, x, k(1)), m1));
		v = f(BPF_ADD, f(BPF_AND, v, m2), f(BPF_AND, f(BPF_RSH, v, k(2)), m2));
		v = f(BPF_AND, f(BPF_ADD, v, f(BPF_RSH, v, k(4))), m4);
		return f(BPF_RSH, f(BPF_MUL, v, h01), k(w32 ? 24 : 56));
	}

private:
	static constexpr uint8_t kInput = 0, kConst = 1, kZext = 2; // no ALU code is 0-2

	struct Node {
		uint8_t code;
		int16_t off;
		NodeId a, b;
		uint64_t value;
	};

	NodeId add(const Node &n) {
		auto [it, fresh] = ids_.try_emplace(
		        std::make_tuple(n.code, n.off, n.a, n.b, n.value), NodeId(nodes_.size()));
		if (fresh)
			nodes_.push_back(n);
		return it->second;
	}
	// A 32-bit operation's result is zero-extended already.
	[[nodiscard]] bool is_alu32(NodeId n) const {
		const uint8_t c = nodes_[n].code;
		return c == kZext || (c > kZext && BPF_CLASS(c) == BPF_ALU);
	}

	std::vector<Node> nodes_;
	std::map<std::tuple<uint8_t, int16_t, NodeId, NodeId, uint64_t>, NodeId> ids_;
	NodeId next_input_ = 0;
};

bool is_arith(const Insn &in) {
	return in.cls() == BPF_ALU || in.cls() == BPF_ALU64 || (in.is_ldimm64() && in.src == 0);
}

using Regs = std::array<NodeId, BPF_REG_10 + 1>;

struct Popcount {
	size_t last;           // the final shift: its dst gets the count
	std::vector<size_t> d; // the instructions computing it (the last included)
	uint8_t dst;
	bool w32;
	RegSet holders = 0;  // R0-R9 holding x at `last` once d is gone
	std::string why_not; // the code cannot simply lose d
	RegSet stale = 0;    // registers d wrote last in the window: older values once it is gone
	[[nodiscard]] size_t first() const { return d.front(); }
	[[nodiscard]] std::string what() const {
		return fmt::format("{}{} = popcount{}", w32 ? 'w' : 'r', dst, w32 ? 32 : 64);
	}
};

// Does register value n hold x as an operation of that width reads it?
bool holds(Values &v, NodeId n, NodeId x, bool w32) {
	return n == x || (w32 && v.low32(n) == x);
}

// The instructions of block [start, last] computing popcount(x) into last's
// dst: a backward slice over registers that stops at registers holding x.
// Then what removing them does to the other instructions of the window
// (interleaved by the scheduler) and where x is left.
Popcount slice(const Rewriter &rw, Values &v, const std::vector<Regs> &before, size_t start,
               size_t last, NodeId x, bool w32) {
	const auto at = [&](size_t i) -> const Regs & { return before[i - start]; };
	Popcount p{last, {}, rw.at(last).dst, w32, 0, {}};
	RegSet need = 0;
	auto add_reads = [&](size_t i) {
		for (unsigned r = 0; r <= BPF_REG_10; r++)
			if (regs_read(rw.at(i)) & reg_bit(r) && !holds(v, at(i)[r], x, w32))
				need |= reg_bit(r);
	};
	p.d.push_back(last);
	add_reads(last);
	for (size_t j = last; need && j-- > start;) {
		const RegSet w = regs_written(rw.at(j));
		if (!(w & need))
			continue;
		if (!is_arith(rw.at(j))) {
			p.why_not = "part of it is not register arithmetic";
			return p;
		}
		p.d.push_back(j);
		need &= RegSet(~w);
		add_reads(j);
	}
	if (need) {
		p.why_not = "part of it is computed before the block";
		return p;
	}
	std::reverse(p.d.begin(), p.d.end());
	// The other instructions stay, and must read nothing d wrote.
	Regs now = at(p.first());
	for (size_t k = p.first(), n = 0; k < last; k++) {
		const RegSet w = regs_written(rw.at(k));
		if (n < p.d.size() && p.d[n] == k) {
			n++;
			p.stale |= w;
			continue;
		}
		if (regs_read(rw.at(k)) & p.stale) {
			p.why_not =
			        fmt::format("insn {} in between reads a register it computes", k);
			return p;
		}
		p.stale &= RegSet(~w);
		for (unsigned r = 0; r <= BPF_REG_10; r++)
			if (w & reg_bit(r))
				now[r] = at(k + 1)[r];
	}
	p.stale |= regs_written(rw.at(last));
	for (uint8_t r = 0; r <= BPF_REG_9; r++)
		if (holds(v, now[r], x, w32))
			p.holders |= reg_bit(r);
	return p;
}

// The popcounts of block [start, end): shifts by 24 or 56 whose result is
// the expression of some value x.
std::vector<Popcount> find(const Rewriter &rw, size_t start, size_t end) {
	Values v;
	Regs regs;
	for (NodeId &r : regs)
		r = v.input();
	std::vector<Regs> before; // registers before each insn, and after the last
	std::vector<Popcount> found;
	for (size_t i = start; i < end; i++) {
		const Insn &in = rw.at(i);
		before.push_back(regs);
		if (in.is_ldimm64() && in.src == 0) {
			regs[in.dst] = v.constant(in.imm64());
		} else if (is_arith(in) && BPF_OP(in.code) == BPF_MOV && in.off == 0 &&
		           BPF_SRC(in.code) == BPF_K) {
			regs[in.dst] = v.imm(in);
		} else if (is_arith(in)) {
			const uint8_t o = BPF_OP(in.code);
			const NodeId b = o == BPF_NEG                ? kNone
			                 : o == BPF_END              ? v.constant(uint32_t(in.imm))
			                 : BPF_SRC(in.code) == BPF_X ? regs[in.src]
			                                             : v.imm(in);
			regs[in.dst] =
			        v.op(in.code, in.off, o == BPF_MOV ? kNone : regs[in.dst], b);
		} else {
			for (unsigned r = 0; r <= BPF_REG_10; r++)
				if (regs_written(in) & reg_bit(r))
					regs[r] = v.input();
		}
		const bool w32 = in.code == (BPF_ALU | BPF_RSH | BPF_K) && in.imm == 24;
		if (!w32 && !(in.code == (BPF_ALU64 | BPF_RSH | BPF_K) && in.imm == 56))
			continue;
		std::set<NodeId> expr;
		v.closure(regs[in.dst], expr);
		for (NodeId x : expr) {
			if (v.popcount(x, w32) != regs[in.dst])
				continue;
			before.push_back(regs);
			found.push_back(slice(rw, v, before, start, i, x, w32));
			before.pop_back();
			break;
		}
	}
	return found;
}

class PopcountPass : public Pass {
public:
	std::string_view name() const override { return "popcount"; }
	std::string_view summary() const override {
		return "the SWAR population count clang expands __builtin_popcount{,ll} to -> one "
		       "bpf_popcnt64 kinsn (popcnt; needs kinsn_bitops with native operand forms)";
	}
	bool needs_kinsns() const override { return true; }

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		const KinsnRef *ref = native_operand_form(env.kinsns, kKinsn);
		const Cfg cfg(rw);
		const Kinds kinds(rw, cfg);
		const Liveness live(rw, cfg, kinds);
		size_t done = 0; // windows do not overlap
		for (size_t b = 0; b < cfg.blocks(); b++)
			for (const Popcount &p : find(rw, cfg.block_start(b), cfg.block_end(b))) {
				auto r = rewrite(rw, p, live.live_out(p.last).regs, ref, done);
				sites.push_back({p.last, bool(r),
				                 p.what() + ": " + (r ? *r : r.error().msg)});
				if (r)
					done = p.last + 1;
			}
		return {};
	}

private:
	// The popcount `p` as one kinsn; what changed, or why not.
	static Result<std::string> rewrite(Rewriter &rw, const Popcount &p, RegSet after,
	                                   const KinsnRef *ref, size_t done) {
		if (p.first() < done)
			return make_error(EINVAL, "overlaps the previous one");
		if (!ref)
			return make_error(EINVAL, fmt::format("no native {} operand form on this "
			                                      "machine",
			                                      kKinsn));
		if (!p.why_not.empty())
			return make_error(EINVAL, p.why_not);
		if (!p.holders)
			return make_error(EINVAL, "its input is in no register R0-R9 there");
		// x from a register the kinsn may clobber, else from a copy of it
		const RegSet free = RegSet(p.holders & ~reg_bit(p.dst) & ~after);
		const uint8_t src = uint8_t(std::countr_zero(free ? free : p.holders));
		const bool copy = !free;
		if (p.stale & after & ~reg_bit(p.dst))
			return make_error(EINVAL, "a register it computes is read afterwards");
		// scratch registers, dead afterwards: those it wrote first; x
		// itself if nothing needs it afterwards, else a copy of it
		std::vector<uint8_t> scratch;
		for (bool own : {true, false})
			for (uint8_t r = 0; r <= BPF_REG_9; r++)
				if (r != p.dst && r != src && !(after & reg_bit(r)) &&
				    bool(p.stale & reg_bit(r)) == own)
					scratch.push_back(r);
		if (scratch.size() < (p.w32 ? 1u : 2u) + copy)
			return make_error(EINVAL, "not enough free scratch registers");
		std::vector<Insn> code;
		auto next = scratch.begin();
		uint8_t from = src;
		if (copy) {
			code.push_back({BPF_ALU64 | BPF_MOV | BPF_X, *next, src, 0, 0});
			from = *next++;
		}
		const int32_t imm = p.w32 ? next[0] : next[0] | next[1] << 4;
		code.push_back(
		        make_kinsn(kKinsn, *ref, {p.dst, from, int16_t(p.w32 ? 32 : 64), imm}));
		if (!kinsn_expand(code.back()))
			return make_error(EINVAL, "operands the kinsn does not take");
		// the last first: if the rewriter refuses, nothing has changed
		if (auto r = rw.replace(p.last, code); !r)
			return r.error();
		for (size_t j : p.d)
			if (j != p.last)
				if (auto r = rw.replace(j, {}); !r)
					return r.error();
		return fmt::format("{} insns -> {}{} of r{}", p.d.size(), copy ? "a copy and " : "",
		                   kKinsn, src);
	}
};

} // namespace

std::unique_ptr<Pass> make_popcount_pass() {
	return std::make_unique<PopcountPass>();
}

} // namespace rejit
