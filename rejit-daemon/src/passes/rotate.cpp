// SPDX-License-Identifier: GPL-2.0
// rotate: (x << k) | (x >> (w - k)) -> one bpf_rol64 / bpf_rol32 kinsn.
//
// BPF has no rotate, so clang expands every rotate (hashes: SipHash,
// MurmurHash, jhash, xxHash) into a copy, two shifts and an or, and the
// JIT emits all four. The kinsn operand form rol64/rol32 names its
// registers (dst rotated by imm, src a scratch it clobbers) and is one
// `rol reg, imm8` on x86.
//
// The pass numbers the values of a basic block's registers (a copy keeps
// the value number; a 32-bit copy keeps only that of the low half) and
// remembers, for a register whose value is a constant shift of another
// value, the shift and the copy it was made from. An `or P, Q` of a left
// and a right shift of the same value by k and w - k, of the or's width,
// is a rotate (so is Q = u * (c << k) for v = u * c: clang folds the left
// shift of a multiply-rotate into the multiplication); it becomes
// rol(P, k) with Q as scratch: the shifts (or Q's multiplication) and Q's
// copy go, P's copy (if any: the result lands in the copy) stays. That
// needs every instruction from the first one of the window to the or in
// one basic block (no jump lands in between), no other instruction
// between them reading P or Q while they would now hold other values, Q
// dead after the or, registers R0-R9, and the kinsn with a native operand
// form on this machine (PassEnv::kinsns).
#include <algorithm>
#include <array>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

struct Shift {
	bool left;
	unsigned k;
	bool w32;
	uint32_t base;             // value number of the value shifted
	size_t at;                 // the shift
	std::optional<size_t> mov; // the copy that gave the shifted register its value
};

// A register holding u * c, made by the multiplication `at`.
struct Product {
	uint32_t u;
	uint64_t c;
	bool w32;
	size_t at;
	std::optional<size_t> mov; // the copy that gave the register u
};

struct Reg {
	uint32_t id = 0, id32 = 0; // value numbers of the register and of its low half
	std::optional<size_t> mov; // the copy that gave it its current value
	std::optional<Shift> shift;
	std::optional<Product> product;
	std::optional<uint64_t> known; // a constant
};

struct Rotate {
	size_t or_at;
	unsigned p, q; // result, scratch
	bool w32;
	unsigned k; // rotate left by
	Shift sp, sq;
	std::vector<size_t> labels; // jump targets inside the window

	[[nodiscard]] size_t start() const {
		size_t s = std::min(sp.mov.value_or(sp.at), sq.mov.value_or(sq.at));
		return std::min({s, sp.at, sq.at});
	}
	[[nodiscard]] std::string_view kinsn() const { return w32 ? "bpf_rol32" : "bpf_rol64"; }
	[[nodiscard]] std::string what() const {
		return fmt::format("{0}{1} = rol{2}({0}{1}, {3}) (scratch {0}{4})", w32 ? 'w' : 'r',
		                   p, w32 ? 32 : 64, k, q);
	}
};

bool is_shift(const Insn &in) {
	const uint8_t op = BPF_OP(in.code);
	return (in.cls() == BPF_ALU || in.cls() == BPF_ALU64) && BPF_SRC(in.code) == BPF_K &&
	       (op == BPF_LSH || op == BPF_RSH) && in.off == 0;
}

bool is_copy(const Insn &in) {
	return (in.code == (BPF_ALU64 | BPF_MOV | BPF_X) ||
	        in.code == (BPF_ALU | BPF_MOV | BPF_X)) &&
	       in.off == 0;
}

// The rotates of the program, found block by block.
std::vector<Rotate> find_rotates(const Rewriter &rw, const Cfg &cfg) {
	std::vector<Rotate> found;
	std::array<Reg, BPF_REG_10 + 1> regs;
	uint32_t next = 0;
	std::vector<size_t> labels; // since the last reset
	// value number -> (u, c) if the value is u * c
	std::map<uint32_t, std::pair<uint32_t, uint64_t>> products;
	auto fresh = [&](Reg &r) { r = {++next, ++next, {}, {}, {}, {}}; };
	auto reset = [&] {
		for (Reg &r : regs)
			fresh(r);
		labels.clear();
	};
	reset();
	for (size_t i = 0; i < rw.size(); i++) {
		const Insn &in = rw.at(i);
		if (i && cfg.block_start(cfg.block_of(i)) == i)
			labels.push_back(i); // reached by a jump too: values no longer sure
		const uint8_t op = BPF_OP(in.code);
		const bool w32 = in.cls() == BPF_ALU;
		if (is_copy(in)) {
			Reg r = regs[in.src];
			if (w32)
				r.id = ++next; // zero-extended: only the low half is the same
			r.mov = i;
			r.shift.reset();
			r.product.reset();
			if (w32 && r.known)
				r.known = uint32_t(*r.known);
			regs[in.dst] = r;
			continue;
		}
		if (in.code == (BPF_LD | BPF_IMM | BPF_DW) && in.src == 0) {
			fresh(regs[in.dst]);
			regs[in.dst].known = in.imm64();
			continue;
		}
		if ((in.code == (BPF_ALU64 | BPF_MOV | BPF_K) ||
		     in.code == (BPF_ALU | BPF_MOV | BPF_K)) &&
		    in.off == 0) {
			fresh(regs[in.dst]);
			regs[in.dst].known = w32 ? uint32_t(in.imm) : uint64_t(int64_t(in.imm));
			continue;
		}
		// clang folds x * c << k into x * (c << k): a multiply-rotate
		// (xxHash, MurmurHash) shifts only one side
		const bool mul = (in.cls() == BPF_ALU || in.cls() == BPF_ALU64) && op == BPF_MUL &&
		                 in.off == 0;
		if (mul && (BPF_SRC(in.code) == BPF_K || regs[in.src].known)) {
			uint64_t c = BPF_SRC(in.code) == BPF_K ? uint64_t(int64_t(in.imm))
			                                       : *regs[in.src].known;
			if (w32)
				c = uint32_t(c);
			Reg &r = regs[in.dst];
			const Product pr{w32 ? r.id32 : r.id, c, w32, i, r.mov};
			fresh(r);
			r.product = pr;
			products[w32 ? r.id32 : r.id] = {pr.u, c};
			continue;
		}
		if (is_shift(in) && in.imm >= 1 && in.imm < (w32 ? 32 : 64)) {
			Reg &r = regs[in.dst];
			const Shift s{op == BPF_LSH, unsigned(in.imm), w32, w32 ? r.id32 : r.id, i,
			              r.mov};
			fresh(r);
			r.shift = s;
			continue;
		}
		if (in.code == (uint8_t(in.cls()) | BPF_OR | BPF_X) &&
		    (w32 || in.cls() == BPF_ALU64) && in.off == 0 && in.dst != in.src) {
			const auto &sp = regs[in.dst].shift;
			auto sq = regs[in.src].shift;
			// P = v >> m, Q = u * (c << (w - m)) where v = u * c: as if
			// Q were v << (w - m)
			const auto &qp = regs[in.src].product;
			const unsigned w = w32 ? 32 : 64;
			if (sp && !sp->left && qp && qp->w32 == w32 &&
			    products.contains(sp->base)) {
				const auto [u, c] = products.at(sp->base);
				const uint64_t shifted = c << (w - sp->k);
				if (u == qp->u && (w32 ? uint32_t(shifted) : shifted) == qp->c)
					sq = Shift{true, w - sp->k, w32, sp->base, qp->at, qp->mov};
			}
			if (sp && sq && sp->left != sq->left && sp->w32 == w32 && sq->w32 == w32 &&
			    sp->k + sq->k == (w32 ? 32u : 64u) && sp->base == sq->base) {
				Rotate rot{i,   in.dst, in.src, w32, sp->left ? sp->k : sq->k,
				           *sp, *sq,    {}};
				for (size_t l : labels)
					if (l > rot.start())
						rot.labels.push_back(l);
				found.push_back(std::move(rot));
			}
		}
		const RegSet written = regs_written(in);
		for (unsigned r = 0; r <= BPF_REG_10; r++)
			if (written & reg_bit(r))
				fresh(regs[r]);
		if (is_control(in) && op != BPF_CALL)
			reset(); // a new block starts after every jump and exit
	}
	return found;
}

class RotatePass : public Pass {
public:
	std::string_view name() const override { return "rotate"; }
	std::string_view summary() const override {
		return "(x << k) | (x >> (w - k)) -> one bpf_rol64/bpf_rol32 kinsn (needs the "
		       "kinsn_bitops module with native operand forms)";
	}
	bool needs_kinsns() const override { return true; }

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		const Cfg cfg(rw);
		const std::vector<Rotate> rots = find_rotates(rw, cfg);
		if (env.kinsns.empty()) {
			sites.push_back(
			        {0, false,
			         fmt::format("no kinsns available (bpf_rol64, bpf_rol32 "
			                     "with a native operand form): {} rotate idioms "
			                     "left as they are",
			                     rots.size())});
			return {};
		}
		const Kinds kinds(rw, cfg);
		const Liveness live(rw, cfg, kinds);
		std::vector<bool> taken(rw.size(), false);
		for (const Rotate &rot : rots) {
			const std::string what = rot.what();
			auto skip = [&](const std::string &why) {
				sites.push_back({rot.or_at, false, what + ": " + why});
			};
			const auto ref = env.kinsns.find(rot.kinsn());
			if (ref == env.kinsns.end() || !ref->second.operand) {
				skip(fmt::format("no {} operand form on this machine",
				                 rot.kinsn()));
				continue;
			}
			if (!ref->second.native) {
				skip(fmt::format(
				        "{} has no native code here (the JIT would emit its "
				        "plain sequence)",
				        rot.kinsn()));
				continue;
			}
			if (rot.p > BPF_REG_9 || rot.q > BPF_REG_9) {
				skip("registers must be R0-R9");
				continue;
			}
			if (!rot.labels.empty()) {
				skip(fmt::format("a jump lands inside the window at insn {}",
				                 rot.labels.front()));
				continue;
			}
			if (live.live_out(rot.or_at).regs & reg_bit(rot.q)) {
				skip(fmt::format("scratch r{} is live after the or", rot.q));
				continue;
			}
			// The shifts (and Q's copy) go: nobody else may see P or Q in
			// between, where they now hold other values.
			std::vector<size_t> gone{rot.sp.at, rot.sq.at};
			if (rot.sq.mov)
				gone.push_back(*rot.sq.mov);
			const size_t q_from = rot.sq.mov.value_or(rot.sq.at);
			std::optional<size_t> reader;
			for (size_t j = rot.start(); j < rot.or_at && !reader; j++) {
				if (std::find(gone.begin(), gone.end(), j) != gone.end())
					continue;
				const RegSet r = regs_read(rw.at(j));
				if ((j > rot.sp.at && (r & reg_bit(rot.p))) ||
				    (j > q_from && (r & reg_bit(rot.q))))
					reader = j;
			}
			if (reader) {
				skip(fmt::format("insn {} reads r{} or r{} inside the window",
				                 *reader, rot.p, rot.q));
				continue;
			}
			gone.push_back(rot.or_at);
			if (std::any_of(gone.begin(), gone.end(),
			                [&](size_t j) { return taken[j]; })) {
				skip("overlaps another rotate");
				continue;
			}
			const Insn pair =
			        make_kinsn(rot.kinsn(), ref->second,
			                   {uint8_t(rot.p), uint8_t(rot.q), 0, int32_t(rot.k)});
			for (size_t j : gone)
				if (j != rot.or_at)
					if (auto r = rw.replace(j, {}); !r)
						return r;
			if (auto r = rw.replace(rot.or_at, {pair}); !r)
				return r;
			for (size_t j : gone)
				taken[j] = true;
			sites.push_back(
			        {rot.or_at, true,
			         fmt::format("{}: {} insns -> {}{}", what,
			                     gone.size() + (rot.sp.mov ? 1 : 0),
			                     rot.sp.mov ? "the copy + " : "", rot.kinsn())});
		}
		return {};
	}
};

} // namespace

std::unique_ptr<Pass> make_rotate_pass() {
	return std::make_unique<RotatePass>();
}

} // namespace rejit
