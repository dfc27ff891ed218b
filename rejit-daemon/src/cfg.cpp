// SPDX-License-Identifier: GPL-2.0
#include "rejit/cfg.hpp"

#include <algorithm>
#include <climits>

#include "rejit/kinsn.hpp"

namespace rejit {
namespace {

constexpr RegSet kArgs = reg_bit(1) | reg_bit(2) | reg_bit(3) | reg_bit(4) | reg_bit(5);
constexpr RegSet kCallerSaved = reg_bit(0) | kArgs;
constexpr unsigned kRegs = BPF_REG_10 + 1;
constexpr int32_t kFrame = 512;
constexpr RegSet kAllRegs = 0x7ff;  // R0-R10
constexpr RegSet kWritable = 0x3ff; // R0-R9

bool is_atomic(const Insn &in) {
	return in.cls() == BPF_STX && BPF_MODE(in.code) == BPF_ATOMIC;
}

bool is_ld_abs_ind(const Insn &in) {
	return in.cls() == BPF_LD && !in.is_ldimm64();
}

bool is_call(const Insn &in) {
	return in.code == (BPF_JMP | BPF_CALL) && !in.is_kinsn();
}

// A kinsn whose meaning is not known here (unbound, or not pure) may read
// and write any register and memory.
bool opaque_kinsn(const Insn &in) {
	return in.is_kinsn() && !kinsn_is_pure(in);
}

// Base register of a memory access, or -1.
int mem_base(const Insn &in) {
	switch (in.cls()) {
	case BPF_LDX:
		return in.src;
	case BPF_ST:
	case BPF_STX:
		return in.dst;
	default:
		return -1;
	}
}

// [off, off + size) clipped to the frame, as offsets from its start
// (0 .. kFrame). Clipped before the granules are walked: code not yet
// verified (and the fuzzer's) has offsets far outside the frame.
std::pair<int64_t, int64_t> frame_range(int32_t off, unsigned size) {
	return {std::clamp<int64_t>(int64_t(off) + kFrame, 0, kFrame),
	        std::clamp<int64_t>(int64_t(off) + size + kFrame, 0, kFrame)};
}

} // namespace

Locs Locs::stack_bytes(int32_t off, unsigned size) {
	Locs l;
	const auto [lo, hi] = frame_range(off, size);
	for (int64_t g = lo / 4; lo < hi && g * 4 < hi; g++)
		l.stack.set(size_t(g));
	return l;
}

Locs Locs::stack_covered(int32_t off, unsigned size) {
	Locs l;
	const auto [lo, hi] = frame_range(off, size);
	for (int64_t g = (lo + 3) / 4; g * 4 + 4 <= hi; g++)
		l.stack.set(size_t(g));
	return l;
}

RegSet regs_read(const Insn &in) {
	if (in.is_kinsn()) {
		auto e = kinsn_is_pure(in) ? kinsn_expand(in) : std::nullopt;
		if (!e)
			return kAllRegs;
		// What the sequence reads before writing; after a jump in it a
		// write may not happen, so the old value is read too.
		RegSet read = 0, written = 0;
		bool branched = false;
		for (const Insn &x : e->insns) {
			read |= RegSet(regs_read(x) & ~written);
			branched |= kinsn_seq_branch(x);
			if (branched)
				read |= RegSet(regs_written(x) & ~written);
			else
				written |= regs_written(x);
		}
		return read;
	}
	const RegSet dst = reg_bit(in.dst), src = reg_bit(in.src);
	const bool x = BPF_SRC(in.code) == BPF_X;
	switch (in.cls()) {
	case BPF_ALU:
	case BPF_ALU64:
		if (BPF_OP(in.code) == BPF_MOV)
			return x ? src : 0;
		return RegSet(dst | (x && BPF_OP(in.code) != BPF_END ? src : 0));
	case BPF_LDX:
		return src;
	case BPF_ST:
		return dst;
	case BPF_STX:
		if (is_atomic(in) && in.imm == BPF_CMPXCHG)
			return RegSet(dst | src | reg_bit(0));
		return RegSet(dst | src);
	case BPF_LD:
		if (in.is_ldimm64())
			return 0;
		return RegSet(reg_bit(6) | (BPF_MODE(in.code) == BPF_IND ? src : 0));
	default: // JMP, JMP32
		switch (BPF_OP(in.code)) {
		case BPF_CALL:
			return kArgs;
		case BPF_EXIT:
			return reg_bit(0);
		case BPF_JA:
		case BPF_JCOND:
			return 0;
		default:
			return RegSet(dst | (x ? src : 0));
		}
	}
}

RegSet regs_written(const Insn &in) {
	if (in.is_kinsn()) {
		auto e = kinsn_is_pure(in) ? kinsn_expand(in) : std::nullopt;
		if (!e)
			return kWritable;
		RegSet written = e->clobber; // clobbered: written with an unknown value
		for (const Insn &x : e->insns)
			written |= regs_written(x);
		return written;
	}
	switch (in.cls()) {
	case BPF_ALU:
	case BPF_ALU64:
	case BPF_LDX:
		return reg_bit(in.dst);
	case BPF_STX:
		if (!is_atomic(in))
			return 0;
		if (in.imm == BPF_CMPXCHG)
			return reg_bit(0);
		return (in.imm & BPF_FETCH) ? reg_bit(in.src) : 0;
	case BPF_LD:
		return in.is_ldimm64() ? reg_bit(in.dst) : kCallerSaved;
	case BPF_JMP:
		return BPF_OP(in.code) == BPF_CALL ? kCallerSaved : 0;
	default:
		return 0;
	}
}

bool has_side_effects(const Insn &in) {
	return in.cls() == BPF_ST || in.cls() == BPF_STX || is_ld_abs_ind(in) || is_call(in) ||
	       opaque_kinsn(in);
}

Cfg::Cfg(const Rewriter &rw) : block_of_(rw.size()), succs_(rw.size()), entry_(rw.size()) {
	const size_t n = rw.size();
	std::vector<bool> leader(n + 1, false);
	if (n)
		leader[0] = true;
	for (size_t i = 0; i < n; i++) {
		const Insn &in = rw.at(i);
		const uint8_t op = BPF_OP(in.code);
		const bool ctl = is_control(in) && op != BPF_CALL;
		if (auto t = rw.target(i)) {
			leader[*t] = true; // jump, subprog call or callback target
			if (!ctl)
				entry_[*t] = true;
		}
		if (ctl)
			leader[i + 1] = true;
		if (ctl && op == BPF_EXIT)
			continue;
		if (auto t = rw.target(i); t && ctl)
			succs_[i].push_back(*t);
		const bool unconditional = ctl && op == BPF_JA;
		if (!unconditional && i + 1 < n)
			succs_[i].push_back(i + 1);
	}
	for (size_t i = 0; i < n; i++) {
		if (leader[i])
			start_.push_back(i);
		block_of_[i] = start_.size() - 1;
	}
	preds_.resize(start_.size());
	for (size_t b = 0; b < start_.size(); b++)
		for (size_t s : succs_[block_end(b) - 1])
			if (auto &p = preds_[block_of_[s]]; p.empty() || p.back() != b)
				p.push_back(b); // a branch to the next insn is one edge
}

Kinds::Kinds(const Rewriter &rw, const Cfg &cfg) : in_(rw.size()) {
	const size_t n = rw.size();
	constexpr int32_t kUnknown = Reg::kUnknownOff;
	struct State {
		std::array<Reg, kRegs> reg{};
		std::array<uint8_t, kFrame / 4> granule{}; // kinds spilled there
		bool reached = false;
		bool join(const State &o) {
			if (!o.reached)
				return false;
			if (!reached) {
				*this = o;
				return true;
			}
			bool changed = false;
			for (unsigned r = 0; r < kRegs; r++) {
				Reg &a = reg[r];
				const Reg &b = o.reg[r];
				const uint8_t k = a.kinds | b.kinds;
				const int32_t off =
				        a.stack_off == b.stack_off ? a.stack_off : kUnknown;
				changed |= k != a.kinds || off != a.stack_off;
				a = {k, off};
			}
			for (size_t g = 0; g < granule.size(); g++) {
				changed |= (granule[g] | o.granule[g]) != granule[g];
				granule[g] |= o.granule[g];
			}
			return changed;
		}
	};
	auto reg_of = [](uint8_t k) { return Reg{k, kUnknown}; };
	std::vector<State> in(n);
	for (size_t i = 0; i < n; i++) {
		if (i != 0 && !cfg.is_entry(i))
			continue;
		in[i].reached = true;
		in[i].reg[BPF_REG_1] = reg_of(i == 0 ? kCtx : kAny); // callbacks: any argument
		if (i != 0)
			for (unsigned r = BPF_REG_2; r <= BPF_REG_5; r++)
				in[i].reg[r] = reg_of(kAny);
		in[i].reg[BPF_REG_10] = {kStack, 0};
	}
	// Forward to a fixed point; kinds only grow and offsets only become
	// unknown, so this terminates.
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (!in[i].reached)
				continue;
			in_[i] = in[i].reg; // stack_access() below needs it
			State s = in[i];
			const Insn &x = rw.at(i);
			auto &r = s.reg;
			const uint8_t op = BPF_OP(x.code);
			auto granules = [&](int32_t off, unsigned size, auto fn) {
				const Locs l = Locs::stack_bytes(off, size);
				for (size_t g = 0; g < s.granule.size(); g++)
					if (l.stack[g])
						fn(s.granule[g]);
			};
			// Only 64-bit mov/add/sub keep a pointer a pointer.
			auto alu = [&](const Insn &a) {
				const uint8_t aop = BPF_OP(a.code);
				const bool a64 = a.cls() == BPF_ALU64,
				           ax = BPF_SRC(a.code) == BPF_X;
				if (a64 && aop == BPF_MOV && ax && a.off == 0)
					r[a.dst] = r[a.src];
				else if (a64 && (aop == BPF_ADD || aop == BPF_SUB) && !ax)
					r[a.dst].stack_off =
					        r[a.dst].stack_off == kUnknown
					                ? kUnknown
					                : r[a.dst].stack_off +
					                          (aop == BPF_ADD ? a.imm : -a.imm);
				else if (a64 && (aop == BPF_ADD || aop == BPF_SUB))
					r[a.dst] = reg_of(uint8_t(r[a.dst].kinds | r[a.src].kinds));
				else
					r[a.dst] = reg_of(kOther);
			};
			if (x.is_kinsn()) {
				if (auto e = kinsn_is_pure(x) ? kinsn_expand(x) : std::nullopt) {
					// after a jump in the sequence, a write joins the old value
					bool branched = false;
					for (const Insn &a : e->insns) {
						branched |= kinsn_seq_branch(a);
						if (a.cls() != BPF_ALU && a.cls() != BPF_ALU64)
							continue;
						const Reg old = r[a.dst];
						alu(a);
						if (branched &&
						    (old.kinds != r[a.dst].kinds ||
						     old.stack_off != r[a.dst].stack_off))
							r[a.dst] = reg_of(uint8_t(old.kinds |
							                          r[a.dst].kinds));
					}
					for (unsigned c = 0; c < kRegs; c++)
						if (e->clobber & reg_bit(c))
							r[c] = {}; // unreadable until written
				} else {                           // anything, anywhere
					for (unsigned c = BPF_REG_0; c <= BPF_REG_9; c++)
						r[c] = reg_of(kAny);
					for (auto &g : s.granule)
						g |= kAny;
				}
				for (size_t succ : cfg.succs(i))
					changed |= in[succ].join(s);
				continue;
			}
			switch (x.cls()) {
			case BPF_ALU:
			case BPF_ALU64:
				alu(x);
				break;
			case BPF_LDX: {
				const uint8_t base = r[x.src].kinds;
				uint8_t k = 0;
				if (base & (kCtx | kFromCtx))
					k |= kFromCtx; // context fields, packet data, pointers
					               // behind them
				if (base & kOther)
					k |= kOther;
				if (auto acc = stack_access(rw, i))
					granules(acc->first, acc->second,
					         [&](uint8_t g) { k |= g; });
				else if (base & kStack)
					k = kAny;
				r[x.dst] = reg_of(k);
				break;
			}
			case BPF_ST:
			case BPF_STX: {
				const uint8_t val =
				        x.cls() == BPF_ST ? uint8_t(kOther) : r[x.src].kinds;
				if (auto acc = stack_access(rw, i))
					granules(acc->first, acc->second, [&](uint8_t &g) {
						g = acc->second == 8 && !is_atomic(x)
						            ? val
						            : uint8_t(g | val);
					});
				else if (r[x.dst].kinds & kStack)
					for (auto &g : s.granule)
						g |= val;
				if (is_atomic(x) && (x.imm & BPF_FETCH))
					r[x.imm == BPF_CMPXCHG ? unsigned(BPF_REG_0) : x.src] =
					        reg_of(kOther);
				break;
			}
			case BPF_LD:
				if (x.is_ldimm64()) {
					r[x.dst] = reg_of(kOther);
				} else {
					for (unsigned a = BPF_REG_1; a <= BPF_REG_5; a++)
						r[a] = {};
					r[BPF_REG_0] = reg_of(kOther);
				}
				break;
			default:
				if (op == BPF_CALL) {
					bool stack_arg = false;
					for (unsigned a = BPF_REG_1; a <= BPF_REG_5; a++) {
						stack_arg |= r[a].kinds & kStack;
						r[a] = {}; // clobbered: unreadable until written
					}
					// Helpers return scalars or map/socket/ringbuf pointers;
					// kfuncs and subprograms may return anything.
					r[BPF_REG_0] = reg_of(x.src == 0 ? kOther : kAny);
					if (stack_arg) // helpers write data, callees anything
						for (auto &g : s.granule)
							g |= x.src == 0 ? kOther : kAny;
				}
			}
			for (size_t succ : cfg.succs(i))
				changed |= in[succ].join(s);
		}
	}
	for (size_t i = 0; i < n; i++)
		in_[i] = in[i].reg;
}

std::optional<int32_t> Kinds::stack_off(size_t i, unsigned r) const {
	const Reg &x = in_[i][r];
	if (!(x.kinds & kStack) || x.stack_off == Reg::kUnknownOff || x.kinds != kStack)
		return std::nullopt;
	return x.stack_off;
}

std::optional<std::pair<int32_t, unsigned>> Kinds::stack_access(const Rewriter &rw,
                                                                size_t i) const {
	const Insn &in = rw.at(i);
	const int base = mem_base(in);
	if (base < 0)
		return std::nullopt;
	auto off = stack_off(i, unsigned(base));
	if (!off)
		return std::nullopt;
	return std::pair{*off + in.off, access_bytes(in.code)};
}

bool Kinds::may_write_ctx_memory(const Rewriter &rw, size_t i) const {
	const Insn &in = rw.at(i);
	constexpr uint8_t ctx = kCtx | kFromCtx;
	if (is_ld_abs_ind(in) || opaque_kinsn(in))
		return true;
	if (in.cls() == BPF_ST || in.cls() == BPF_STX)
		return before(i, in.dst) & ctx;
	if (!is_call(in))
		return false;
	if (in.src != 0)
		return true; // kfuncs and subprograms: not modelled
	for (unsigned a = BPF_REG_1; a <= BPF_REG_5; a++)
		if (before(i, a) & ctx)
			return true; // e.g. bpf_xdp_adjust_head(ctx), memory arguments
	return false;
}

Locs locs_read(const Rewriter &rw, const Kinds &k, size_t i) {
	const Insn &in = rw.at(i);
	Locs l{regs_read(in), {}};
	const int base = mem_base(in);
	const bool reads_mem =
	        in.cls() == BPF_LDX || (in.cls() == BPF_STX && BPF_MODE(in.code) == BPF_ATOMIC);
	if (auto acc = k.stack_access(rw, i)) {
		if (reads_mem)
			l.stack |= Locs::stack_bytes(acc->first, acc->second).stack;
	} else if (base >= 0 && (k.before(i, unsigned(base)) & kStack)) {
		l.stack.set(); // stack pointer of unknown offset: could be any granule
	}
	if (opaque_kinsn(in))
		l.stack.set();
	if (is_call(in))
		for (unsigned a = BPF_REG_1; a <= BPF_REG_5; a++) {
			if (!(k.before(i, a) & kStack))
				continue;
			// the callee may read from where the pointer points up to R10
			auto off = k.stack_off(i, a);
			if (off)
				l.stack |= Locs::stack_bytes(*off, unsigned(-*off)).stack;
			else
				l.stack.set();
		}
	return l;
}

Locs locs_written(const Rewriter &rw, const Kinds &k, size_t i) {
	const Insn &in = rw.at(i);
	Locs l{regs_written(in), {}};
	if ((in.cls() == BPF_STX || in.cls() == BPF_ST) && !is_atomic(in))
		if (auto acc = k.stack_access(rw, i))
			l.stack = Locs::stack_covered(acc->first, acc->second).stack;
	return l;
}

Liveness::Liveness(const Rewriter &rw, const Cfg &cfg, const Kinds &kinds)
    : in_(rw.size()), out_(rw.size()) {
	const size_t n = rw.size();
	std::vector<Locs> reads(n), writes(n);
	for (size_t i = 0; i < n; i++) {
		reads[i] = locs_read(rw, kinds, i);
		writes[i] = locs_written(rw, kinds, i);
	}
	// Backward dataflow to a fixed point; reverse order converges fast.
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = n; i-- > 0;) {
			Locs out;
			for (size_t s : cfg.succs(i))
				out = out | in_[s];
			const Locs in = reads[i] | out.without(writes[i]);
			if (!(out == out_[i]) || !(in == in_[i])) {
				out_[i] = out;
				in_[i] = in;
				changed = true;
			}
		}
	}
}

bool reg_flow_reaches(const Rewriter &rw, const Cfg &cfg, size_t from, RegSet from_regs, size_t to,
                      RegSet into_regs) {
	// Only blocks that can still reach `to` matter.
	std::vector<bool> useful(cfg.blocks(), false);
	std::vector<size_t> work{cfg.block_of(to)};
	useful[work.back()] = true;
	while (!work.empty()) {
		const size_t b = work.back();
		work.pop_back();
		for (size_t p : cfg.preds(b))
			if (!useful[p]) {
				useful[p] = true;
				work.push_back(p);
			}
	}
	// Carrying registers before each instruction, grown to a fixed point.
	std::vector<RegSet> carry(rw.size(), 0);
	std::vector<size_t> todo;
	auto flow_into = [&](size_t i, RegSet c) {
		if (c && useful[cfg.block_of(i)] && (carry[i] | c) != carry[i]) {
			carry[i] |= c;
			todo.push_back(i);
		}
	};
	for (size_t s : cfg.succs(from))
		flow_into(s, from_regs);
	while (!todo.empty()) {
		const size_t i = todo.back();
		todo.pop_back();
		const Insn &in = rw.at(i);
		if (i == to && (carry[i] & into_regs))
			return true;
		const RegSet w = regs_written(in);
		const RegSet out =
		        regs_read(in) & carry[i] ? RegSet(carry[i] | w) : RegSet(carry[i] & ~w);
		for (size_t s : cfg.succs(i))
			flow_into(s, out);
	}
	return false;
}

} // namespace rejit
