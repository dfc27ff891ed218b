// SPDX-License-Identifier: GPL-2.0
// crc: the table-driven CRC32C byte step -> one bpf_crc32c_u8 kinsn.
//
// Software CRCs are written with a 256-entry table:
//
//	crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8);
//
// and x86 has the CRC32C step of a byte as one instruction (crc32). The
// pass proves, not guesses, that a value is that step. Every operation of
// the idiom is linear over GF(2) (xor, shifts, masks with constants), and
// so is a CRC table: table[i ^ j] = table[i] ^ table[j]. So each basic block
// is evaluated bit by bit, every bit of every register an exclusive or of
// constant and input bits, an input being anything else (a register at the
// block's start, a packet load, a call's result); a 32-bit load from a
// frozen map (.rodata) at a linear index is the exclusive or of the table
// entries of the index bits, where the table is linear. Where a register's
// bits are exactly crc32c_u8(c, b) of two inputs c and b, whatever the
// instructions and registers clang chose, the backward slice computing it
// goes and the kinsn takes its place on the registers holding c and b:
// where the slice ends, or where it starts if clang reused the byte's
// register in between. Needed: the slice is register arithmetic and loads
// in one block; nothing else reads what it computed (constants it loaded,
// such as a hoisted table pointer, stay where something else reads them);
// c and b are in registers R0-R9 there; a scratch register is dead; the
// kinsn has a native operand form on this machine.
#include <algorithm>
#include <array>
#include <bit>
#include <optional>

#include <fmt/format.h>

#include "kinsn_defs.h"
#include "passes/passes.hpp"
#include "rejit/cfg.hpp"
#include "rejit/interp.hpp"

namespace rejit {
namespace {

constexpr std::string_view kKinsn = "bpf_crc32c_u8";

// An affine bit: `one` xor the input bits in `vars` (sorted; an input bit
// is group << 6 | bit).
struct Bit {
	bool one = false;
	std::vector<uint32_t> vars;
	bool operator==(const Bit &) const = default;
	[[nodiscard]] bool is_const() const { return vars.empty(); }
};

Bit operator^(const Bit &a, const Bit &b) {
	Bit r{a.one != b.one, {}};
	std::set_symmetric_difference(a.vars.begin(), a.vars.end(), b.vars.begin(), b.vars.end(),
	                              std::back_inserter(r.vars));
	return r;
}

using Word = std::array<Bit, 64>;

Word constant(uint64_t v) {
	Word w;
	for (unsigned i = 0; i < 64; i++)
		w[i].one = v >> i & 1;
	return w;
}

std::optional<uint64_t> const_value(const Word &w) {
	uint64_t v = 0;
	for (unsigned i = 0; i < 64; i++) {
		if (!w[i].is_const())
			return std::nullopt;
		v |= uint64_t(w[i].one) << i;
	}
	return v;
}

// x with bits [1, width) zero: a value 0 or 1 (in bit 0).
bool single_bit(const Word &w, unsigned width) {
	for (unsigned i = 1; i < width; i++)
		if (w[i] != Bit{})
			return false;
	return true;
}

// A register: linear bits, or a pointer into a frozen map plus a linear
// byte index (what `r = table ll; r += index` gives).
struct Val {
	bool ptr = false;
	Word w{};         // !ptr
	uint32_t map = 0; // ptr
	int64_t off = 0;
	Word idx{};
	bool operator==(const Val &) const = default;
};

// The linear value of the ALU operation `in` on a and b (b: its operand),
// nullopt if it is not linear in them.
std::optional<Word> alu(const Insn &in, Word a, Word b) {
	const uint8_t op = BPF_OP(in.code);
	const unsigned width = in.cls() == BPF_ALU ? 32 : 64;
	Word r{};
	if (op == BPF_END) { // truncation, or a byte swap of the low imm bits
		const unsigned bits = unsigned(in.imm);
		const bool swap = in.cls() == BPF_ALU64 || BPF_SRC(in.code) == BPF_TO_BE;
		if (bits != 16 && bits != 32 && bits != 64)
			return std::nullopt;
		for (unsigned i = 0; i < bits; i++)
			r[i] = swap ? a[(bits / 8 - 1 - i / 8) * 8 + i % 8] : a[i];
		return r; // the upper bits are zero
	}
	for (unsigned i = width; i < 64; i++)
		a[i] = b[i] = {};
	const auto ca = const_value(a), cb = const_value(b);
	if (ca && cb)
		return constant(alu_value(in, *ca, *cb));
	switch (op) {
	case BPF_MOV:
		if (in.off)
			return std::nullopt; // sign-extending
		r = b;
		break;
	case BPF_XOR:
		for (unsigned i = 0; i < width; i++)
			r[i] = a[i] ^ b[i];
		break;
	case BPF_AND:
	case BPF_OR:
		for (unsigned i = 0; i < width; i++) {
			const Bit *k = a[i].is_const() ? &a[i] : b[i].is_const() ? &b[i] : nullptr;
			const Bit &other = k == &a[i] ? b[i] : a[i];
			if (!k)
				return std::nullopt;
			r[i] = (k->one == (op == BPF_AND)) ? other : Bit{k->one, {}};
		}
		break;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH: {
		if (!cb)
			return std::nullopt;
		const unsigned n = unsigned(*cb & (width - 1));
		for (unsigned i = 0; i < width; i++) {
			const unsigned from = op == BPF_LSH ? i - n : i + n;
			if (op == BPF_LSH ? i >= n : from < width)
				r[i] = a[from];
			else if (op == BPF_ARSH)
				r[i] = a[width - 1];
		}
		break;
	}
	case BPF_NEG: // of 0 or 1: all bits that bit
		if (!single_bit(a, width))
			return std::nullopt;
		for (unsigned i = 0; i < width; i++)
			r[i] = a[0];
		break;
	case BPF_MUL: { // 0 or 1 times a constant
		const Word &x = ca ? b : a;
		const auto k = ca ? ca : cb;
		if (!k || !single_bit(x, width))
			return std::nullopt;
		for (unsigned i = 0; i < width; i++)
			r[i] = *k >> i & 1 ? x[0] : Bit{};
		break;
	}
	case BPF_ADD:
	case BPF_SUB:
		if (cb == 0)
			return a;
		if (op == BPF_ADD && ca == 0)
			return b;
		return std::nullopt;
	default:
		return std::nullopt;
	}
	return r;
}

// crc32c_u8(c, b) of input groups c (32 bits; none: 0) and b (8 bits).
Word crc_of(std::optional<uint32_t> c, uint32_t b) {
	Word r{};
	for (unsigned j = c ? 0 : 32; j < 40; j++) {
		const uint64_t col = j < 32 ? kinsn_crc32c_u8(1ull << j, 0, 0)
		                            : kinsn_crc32c_u8(0, 1ull << (j - 32), 0);
		const uint32_t var = j < 32 ? *c << 6 | j : b << 6 | (j - 32);
		for (unsigned i = 0; i < 32; i++)
			if (col >> i & 1)
				r[i] = r[i] ^ Bit {
					false, {
						var
					}
				};
	}
	return r;
}

// The CRC k with crc32c_u8(k, 0) == v, if there is one: the top byte of
// table[k & 0xff] is v's (k >> 8 has none), and it tells k & 0xff.
std::optional<uint32_t> crc_preimage(uint32_t v) {
	for (uint32_t x = 0; x < 256; x++) {
		const auto t = uint32_t(kinsn_crc32c_u8(x, 0, 0));
		const uint32_t k = (v ^ t) << 8 | x;
		if (t >> 24 == v >> 24 && kinsn_crc32c_u8(k, 0, 0) == v)
			return k;
	}
	return std::nullopt;
}

using Regs = std::array<Val, BPF_REG_10 + 1>;

// A CRC step found: insn `last` computes crc32c_u8(c, b) of input b and
// input c, or without c of the constant k.
struct Match {
	size_t last;
	std::optional<uint32_t> c;
	uint32_t k = 0;
	uint32_t b = 0;
};

// Symbolic evaluation of one block. The result of each CRC step found is
// an input from there on, as it is once the kinsn computes it: so the next
// step of a chain is found too.
class Block {
public:
	Block(const Rewriter &rw, const PassEnv &env, size_t start, size_t end)
	    : env_(env), start_(start) {
		Regs regs;
		for (Val &r : regs)
			r = input(64);
		for (size_t i = start; i < end; i++) {
			const Insn &in = rw.at(i);
			before_.push_back(regs);
			step(in, regs);
			if (in.cls() != BPF_ALU && in.cls() != BPF_ALU64)
				continue;
			if (auto m = crc(regs[in.dst])) {
				m->last = i;
				matches_.push_back(*m);
				regs[in.dst] = input(64);
			}
		}
		before_.push_back(regs);
	}
	[[nodiscard]] const std::vector<Match> &matches() const { return matches_; }
	// Registers before insn i (end: after the last).
	[[nodiscard]] const Regs &at(size_t i) const { return before_[i - start_]; }
	// The register value that is input group g.
	[[nodiscard]] const Val &group(uint32_t g) const { return groups_[g]; }

private:
	// Is `v` crc32c_u8 of two inputs, or of a constant and an input?
	[[nodiscard]] static std::optional<Match> crc(const Val &v) {
		if (v.ptr)
			return std::nullopt;
		std::vector<uint32_t> gs;
		uint64_t ones = 0;
		for (unsigned i = 0; i < 64; i++) {
			ones |= uint64_t(v.w[i].one) << i;
			for (uint32_t x : v.w[i].vars)
				if (std::find(gs.begin(), gs.end(), x >> 6) == gs.end())
					gs.push_back(x >> 6);
		}
		if (gs.size() == 2 && !ones) {
			for (auto [c, b] : {std::pair{gs[0], gs[1]}, std::pair{gs[1], gs[0]}})
				if (crc_of(c, b) == v.w)
					return Match{0, c, 0, b};
		} else if (gs.size() == 1 && ones >> 32 == 0) {
			Word w = v.w;
			for (Bit &bit : w)
				bit.one = false;
			const auto k = crc_preimage(uint32_t(ones));
			if (k && crc_of(std::nullopt, gs[0]) == w)
				return Match{0, std::nullopt, *k, gs[0]};
		}
		return std::nullopt;
	}

	Val input(unsigned width) {
		const auto g = uint32_t(groups_.size());
		Val v;
		for (unsigned i = 0; i < width; i++)
			v.w[i].vars = {g << 6 | i};
		groups_.push_back(v);
		return v;
	}

	void step(const Insn &in, Regs &regs) {
		const uint8_t op = BPF_OP(in.code);
		Val &dst = regs[in.dst];
		const Val src = BPF_SRC(in.code) == BPF_X
		                        ? regs[in.src]
		                        : Val{false, constant(uint64_t(int64_t(in.imm)))};
		if (in.is_ldimm64()) {
			if (in.src == 0)
				dst = {false, constant(in.imm64())};
			else if (in.src == BPF_PSEUDO_MAP_IDX_VALUE &&
			         env_.frozen_maps.contains(uint32_t(in.imm)))
				dst = {true, {}, uint32_t(in.imm), in.imm_hi, {}};
			else
				dst = input(64);
			return;
		}
		if (in.cls() == BPF_ALU || in.cls() == BPF_ALU64) {
			const bool mov = op == BPF_MOV,
			           ptr_op = in.cls() == BPF_ALU64 && (mov || op == BPF_ADD);
			if ((src.ptr || (dst.ptr && !mov)) && !ptr_op) {
				dst = input(64);
			} else if (src.ptr || (dst.ptr && !mov)) {
				dst = pointer(in, dst, src);
			} else {
				auto w = alu(in, dst.ptr ? Word{} : dst.w,
				             op == BPF_NEG ? Word{} : src.w);
				dst = w ? Val{false, *w} : input(64);
			}
			return;
		}
		if (in.cls() == BPF_LDX && BPF_MODE(in.code) == BPF_MEM) {
			const unsigned n = access_bytes(in.code);
			auto w = regs[in.src].ptr && n == 4 ? table(regs[in.src], in.off)
			                                    : std::nullopt;
			dst = w ? Val{false, *w} : input(8 * n);
			return;
		}
		for (unsigned r = 0; r <= BPF_REG_10; r++)
			if (regs_written(in) & reg_bit(r))
				regs[r] = input(64);
	}

	// A 64-bit copy or addition with a pointer.
	Val pointer(const Insn &in, const Val &dst, const Val &src) {
		if (BPF_OP(in.code) == BPF_MOV)
			return src;
		const Val &p = dst.ptr ? dst : src, &x = dst.ptr ? src : dst;
		if (x.ptr || (BPF_SRC(in.code) == BPF_X && const_value(p.idx) != 0))
			return input(64);
		Val r = p;
		if (BPF_SRC(in.code) == BPF_K)
			r.off += in.imm;
		else
			r.idx = x.w;
		return r;
	}

	// A 4-byte load at p + off from a linear 256-entry table: the xor of
	// the entries of the index's bits 2-9, which must be all it has.
	std::optional<Word> table(const Val &p, int16_t off) {
		const std::vector<uint8_t> &v = env_.frozen_maps.at(p.map);
		const int64_t base = p.off + off;
		if (base < 0 || uint64_t(base) + 1024 > v.size())
			return std::nullopt;
		for (unsigned i = 0; i < 64; i++)
			if ((i < 2 || i >= 10) && p.idx[i] != Bit{})
				return std::nullopt;
		std::array<uint32_t, 256> t;
		for (unsigned i = 0; i < 256; i++)
			t[i] = uint32_t(read_le(v.data() + base + 4 * i, 4));
		for (unsigned i = 0; i < 256; i++) {
			uint32_t x = 0;
			for (unsigned k = 0; k < 8; k++)
				if (i >> k & 1)
					x ^= t[1u << k];
			if (t[i] != x)
				return std::nullopt; // not linear
		}
		Word r{};
		for (unsigned k = 0; k < 8; k++)
			for (unsigned i = 0; i < 32; i++)
				if (t[1u << k] >> i & 1)
					r[i] = r[i] ^ p.idx[k + 2];
		return r;
	}

	static uint64_t read_le(const uint8_t *p, unsigned n) {
		uint64_t v = 0;
		for (unsigned i = n; i--;)
			v = v << 8 | p[i];
		return v;
	}

	const PassEnv &env_;
	size_t start_;
	std::vector<Val> groups_;
	std::vector<Regs> before_;
	std::vector<Match> matches_;
};

struct Crc {
	size_t last = 0;       // its dst gets the CRC
	std::vector<size_t> d; // the instructions computing it that go (last included)
	uint8_t dst = 0;
	std::optional<uint32_t> c; // the CRC is an input, else the constant k
	uint32_t k = 0;
	RegSet c_holders = 0, b_holders = 0; // R0-R9 holding c and b at last once d is gone
	RegSet c_first = 0, b_first = 0;     // ... and before its first instruction
	bool dst_untouched = true;           // nothing else between first and last uses dst
	RegSet stale = 0;                    // registers d wrote last: wrong once it is gone
	std::string why_not;
	[[nodiscard]] size_t first() const { return d.front(); }
};

bool writes_only_constants(const Insn &in) {
	return (in.is_ldimm64() && in.src != BPF_PSEUDO_MAP_IDX) ||
	       ((in.cls() == BPF_ALU || in.cls() == BPF_ALU64) && BPF_OP(in.code) == BPF_MOV &&
	        BPF_SRC(in.code) == BPF_K);
}

// The instructions of block [start, last] computing last's dst from inputs
// c and b: a backward slice over registers, stopping at registers that
// hold c or b. Then what removing them does to the others.
Crc slice(const Rewriter &rw, const Block &blk, size_t start, const Match &m, RegSet after) {
	const size_t last = m.last;
	Crc p;
	p.last = last, p.dst = rw.at(last).dst, p.c = m.c, p.k = m.k;
	auto is_c = [&](const Val &v) { return m.c && v == blk.group(*m.c); };
	auto is_input = [&](const Val &v) { return is_c(v) || v == blk.group(m.b); };
	RegSet need = 0;
	auto add_reads = [&](size_t i) {
		for (unsigned r = 0; r <= BPF_REG_10; r++)
			if (regs_read(rw.at(i)) & reg_bit(r) && !is_input(blk.at(i)[r]))
				need |= reg_bit(r);
	};
	p.d.push_back(last);
	add_reads(last);
	for (size_t j = last; need && j-- > start;) {
		const Insn &in = rw.at(j);
		const RegSet w = regs_written(in);
		if (!(w & need))
			continue;
		need &= RegSet(~w);
		if (in.cls() != BPF_ALU && in.cls() != BPF_ALU64 && in.cls() != BPF_LDX &&
		    !writes_only_constants(in)) {
			p.why_not = fmt::format("insn {} in it is not arithmetic or a load", j);
			return p;
		}
		p.d.push_back(j);
		add_reads(j);
	}
	if (need) {
		p.why_not = "part of it is computed before the block";
		return p;
	}
	std::reverse(p.d.begin(), p.d.end());
	// What goes must not be missed by what stays: a constant (a table
	// pointer, a mask) that is also used elsewhere stays.
	std::array<int64_t, BPF_REG_10 + 1> writer;
	writer.fill(-1);
	auto keep_constants = [&](RegSet regs) {
		for (uint8_t r = 0; r <= BPF_REG_10; r++)
			if (regs & reg_bit(r) && writer[r] >= 0 &&
			    writes_only_constants(rw.at(size_t(writer[r])))) {
				std::erase(p.d, size_t(writer[r]));
				p.stale &= RegSet(~reg_bit(r));
				p.dst_untouched &= r != p.dst;
			}
	};
	for (size_t k = p.first(); k < last; k++) {
		const RegSet w = regs_written(rw.at(k));
		if (std::binary_search(p.d.begin(), p.d.end(), k)) {
			for (uint8_t r = 0; r <= BPF_REG_10; r++)
				if (w & reg_bit(r))
					writer[r] = int64_t(k);
			p.stale |= w;
			continue;
		}
		keep_constants(regs_read(rw.at(k)) & p.stale);
		if (regs_read(rw.at(k)) & p.stale) {
			p.why_not =
			        fmt::format("insn {} in between reads a register it computes", k);
			return p;
		}
		if ((regs_read(rw.at(k)) | w) & reg_bit(p.dst))
			p.dst_untouched = false;
		p.stale &= RegSet(~w);
	}
	keep_constants(RegSet(p.stale & after & ~reg_bit(p.dst)));
	if (p.stale & after & ~reg_bit(p.dst)) {
		p.why_not = "a register it computes is read afterwards";
		return p;
	}
	p.stale |= regs_written(rw.at(last));
	// the registers at last once the slice is gone
	Regs now = blk.at(p.first());
	for (size_t k = p.first(); k < last; k++)
		if (!std::binary_search(p.d.begin(), p.d.end(), k))
			for (unsigned r = 0; r <= BPF_REG_10; r++)
				if (regs_written(rw.at(k)) & reg_bit(r))
					now[r] = blk.at(k + 1)[r];
	auto holders = [&](const Regs &regs, RegSet &c, RegSet &b) {
		for (uint8_t r = 0; r <= BPF_REG_9; r++) {
			if (is_c(regs[r]))
				c |= reg_bit(r);
			if (regs[r] == blk.group(m.b))
				b |= reg_bit(r);
		}
	};
	holders(now, p.c_holders, p.b_holders);
	holders(blk.at(p.first()), p.c_first, p.b_first);
	return p;
}

// Worth evaluating: a pointer into a frozen map and a 4-byte load.
bool has_table_load(const Rewriter &rw, const PassEnv &env, size_t start, size_t end) {
	bool ptr = false, load = false;
	for (size_t i = start; i < end; i++) {
		const Insn &in = rw.at(i);
		ptr |= in.is_ldimm64() && in.src == BPF_PSEUDO_MAP_IDX_VALUE &&
		       env.frozen_maps.contains(uint32_t(in.imm));
		load |= in.code == (BPF_LDX | BPF_MEM | BPF_W);
	}
	return ptr && load;
}

class CrcPass : public Pass {
public:
	std::string_view name() const override { return "crc"; }
	std::string_view summary() const override {
		return "the table-driven CRC32C byte step (table in .rodata or another frozen map) "
		       "-> one bpf_crc32c_u8 kinsn (crc32; needs kinsn_crc32c with native operand "
		       "forms)";
	}
	bool needs_kinsns() const override { return true; }

	Result<void> run(Rewriter &rw, const PassEnv &env,
	                 std::vector<Site> &sites) const override {
		const KinsnRef *ref = native_operand_form(env.kinsns, kKinsn);
		if (env.frozen_maps.empty())
			return {};
		const Cfg cfg(rw);
		const Kinds kinds(rw, cfg);
		const Liveness live(rw, cfg, kinds);
		for (size_t bl = 0; bl < cfg.blocks(); bl++) {
			const size_t start = cfg.block_start(bl), end = cfg.block_end(bl);
			if (!has_table_load(rw, env, start, end))
				continue;
			const Block blk(rw, env, start, end);
			std::vector<bool> edited(rw.size()); // by an earlier rewrite
			// Registers an earlier rewrite of the block left with other
			// values than the code had, from that index on until written.
			std::array<int64_t, BPF_REG_10 + 1> stale_from;
			stale_from.fill(-1);
			size_t prev = start;
			for (const Match &m : blk.matches()) {
				const RegSet after = live.live_out(m.last).regs;
				Crc p = slice(rw, blk, start, m, after);
				auto valid_at = [&](size_t q) {
					RegSet ok = RegSet(~0u);
					for (uint8_t r = 0; r <= BPF_REG_10; r++) {
						bool written = stale_from[r] < 0;
						for (auto k = size_t(stale_from[r] + 1);
						     !written && k < q; k++)
							written =
							        !edited[k] &&
							        !std::binary_search(p.d.begin(),
							                            p.d.end(), k) &&
							        regs_written(rw.at(k)) & reg_bit(r);
						if (!written)
							ok &= RegSet(~reg_bit(r));
					}
					return ok;
				};
				// the kinsn where the slice ends, else where it starts
				// (the byte's register may be reused in between)
				RegSet ok = valid_at(m.last);
				auto r = rewrite(rw, p,
				                 {m.last, RegSet(p.c_holders & ok),
				                  RegSet(p.b_holders & ok), after},
				                 ref, edited);
				if (!r && p.why_not.empty() && p.dst_untouched &&
				    p.first() >= prev) {
					ok = valid_at(p.first());
					if (auto early = rewrite(rw, p,
					                         {p.first(), RegSet(p.c_first & ok),
					                          RegSet(p.b_first & ok),
					                          live.live_in(p.first()).regs},
					                         ref, edited))
						r = std::move(early);
				}
				sites.push_back({m.last, bool(r),
				                 fmt::format("r{} = crc32c_u8: {}", p.dst,
				                             r ? r->what : r.error().msg)});
				if (!r)
					continue;
				prev = m.last + 1;
				for (size_t j : p.d)
					edited[j] = true;
				for (uint8_t x = 0; x <= BPF_REG_10; x++) {
					if (x ==
					    p.dst) { // the CRC, as the code had it, from last on
						stale_from[x] = -1;
						continue;
					}
					if (p.stale & reg_bit(x)) // its last write went
						stale_from[x] =
						        std::max(stale_from[x], int64_t(m.last));
					if (r->clobbered & reg_bit(x))
						stale_from[x] =
						        std::max(stale_from[x], int64_t(r->at));
				}
			}
		}
		return {};
	}

private:
	struct Done {
		std::string what;
		size_t at;        // where the kinsn went
		RegSet clobbered; // registers its code leaves with other values
	};

	// Where the kinsn goes, the registers holding c and b there, and those
	// live after it.
	struct Place {
		size_t at;
		RegSet c_holders, b_holders, after;
	};

	static Result<Done> rewrite(Rewriter &rw, const Crc &p, Place place, const KinsnRef *ref,
	                            const std::vector<bool> &edited) {
		if (!ref)
			return make_error(
			        EINVAL,
			        fmt::format("no native {} operand form on this machine", kKinsn));
		if (!p.why_not.empty())
			return make_error(EINVAL, p.why_not);
		for (size_t j : p.d)
			if (edited[j])
				return make_error(EINVAL, "overlaps the previous one");
		const RegSet after = place.after;
		const RegSet c_holders = place.c_holders, b_holders = place.b_holders;
		if ((p.c && !c_holders) || !b_holders)
			return make_error(EINVAL, "its CRC or byte is in no register R0-R9 there");
		auto first = [](RegSet set) { return uint8_t(std::countr_zero(set)); };
		auto dead = [&](RegSet not_these) {
			for (uint8_t r = 0; r <= BPF_REG_9; r++)
				if (!(after & reg_bit(r)) && !(not_these & reg_bit(r)))
					return int(r);
			return -1;
		};
		// Where the kinsn runs: dst if it holds the CRC (or gets the
		// constant); else a dead register holding it, copied to dst after;
		// else dst, after a copy of the CRC (and of the byte, if dst has
		// it, first).
		uint8_t d = p.dst;
		bool move_after = false;
		if (p.c && !(c_holders & reg_bit(p.dst)))
			for (uint8_t r = 0; r <= BPF_REG_9 && !move_after; r++)
				if (c_holders & reg_bit(r) & ~after && b_holders & ~reg_bit(r))
					d = r, move_after = true;
		// the byte's register: one nothing needs afterwards can be the scratch
		auto free_after = [&](uint8_t r) {
			return !(after & reg_bit(r)) || (move_after && r == p.dst);
		};
		const RegSet bs = RegSet(b_holders & ~reg_bit(d));
		uint8_t b = bs ? first(bs) : 0;
		for (uint8_t r = 0; r <= BPF_REG_9; r++)
			if (bs & reg_bit(r) && free_after(r))
				b = r;
		std::vector<Insn> code;
		if (!bs) { // only dst has it
			const int t = dead(reg_bit(d) | c_holders);
			if (t < 0)
				return make_error(EINVAL,
				                  "no free register for a copy of the byte");
			code.push_back({BPF_ALU64 | BPF_MOV | BPF_X, uint8_t(t), d, 0, 0});
			b = uint8_t(t);
		}
		if (!p.c)
			code.push_back({BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, int32_t(p.k)});
		else if (!(c_holders & reg_bit(d)))
			code.push_back({BPF_ALU64 | BPF_MOV | BPF_X, d, first(c_holders), 0, 0});
		const int t = free_after(b) ? b : dead(reg_bit(d) | reg_bit(b));
		if (t < 0)
			return make_error(EINVAL, "no free scratch register");
		code.push_back(make_kinsn(kKinsn, *ref, {d, b, 0, t}));
		if (!kinsn_expand(code.back()))
			return make_error(EINVAL, "operands the kinsn does not take");
		if (move_after)
			code.push_back({BPF_ALU64 | BPF_MOV | BPF_X, p.dst, d, 0, 0});
		const size_t n = code.size();
		// the kinsn first: if the rewriter refuses, nothing has changed
		if (auto r = rw.replace(place.at, code); !r)
			return r.error();
		for (size_t j : p.d)
			if (j != place.at)
				if (auto r = rw.replace(j, {}); !r)
					return r.error();
		RegSet clobbered = reg_bit(uint8_t(t));
		for (const Insn &in : code)
			clobbered |= regs_written(in);
		return Done{fmt::format("{} insns -> {}{} r{}, r{}{}", p.d.size(),
		                        n > 1 ? "a move and " : "", kKinsn, d, b,
		                        p.c ? "" : fmt::format(" from {:#x}", p.k)),
		            place.at, clobbered};
	}
};

} // namespace

std::unique_ptr<Pass> make_crc_pass() {
	return std::make_unique<CrcPass>();
}

} // namespace rejit
