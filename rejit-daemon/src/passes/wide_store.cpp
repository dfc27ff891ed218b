// SPDX-License-Identifier: GPL-2.0
// wide-store: one store instead of a value written out byte by byte.
//
// The mirror of wide-load: clang may not assume unaligned access, so a
// store to a field of a packed struct, or p[0] = x >> 24; ...; p[3] = x for
// network order, is a byte store per byte, each of a shifted copy of the
// value: 11 instructions for a u32. Where the bytes of a 2-, 4- or 8-byte
// value go to contiguous memory, in little-endian order they are one store
// of the value, in big-endian order a byte swap of a copy and one store.
//
// The pass follows each basic block's registers as "bytes k.. of value v"
// (a copy keeps that, a right shift by whole bytes moves k, a 32-bit
// operation keeps at most 4 bytes; anything else is a new value) and
// gathers the byte stores by base pointer (a value too) and stored value.
// A group becomes one store where the value sits whole in a register at
// one of the group's stores, when
//  * its bytes are exactly bytes 0..n-1 of the value at offsets o..o+n-1,
//    ascending or descending;
//  * between its first and last store there are only register arithmetic
//    and loads and stores through the same base of other bytes (so
//    nothing can see the memory half written, and nothing else writes
//    those bytes);
//  * the base is not the context, and a stack base is n-aligned there (the
//    verifier insists); a byte-swapped group has a scratch register that
//    is dead there.
// The shifted copies are left for dce.
#include <algorithm>
#include <array>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

static_assert(std::endian::native == std::endian::little,
              "wide-store assumes a little-endian target");

// A register: its low `valid` bytes are bytes k.. of value `id`.
struct Val {
	uint32_t id = 0;
	uint8_t k = 0;
	uint8_t valid = 8;
	[[nodiscard]] bool whole(unsigned n) const { return k == 0 && valid >= n; }
};

struct ByteStore {
	size_t at;
	uint32_t base; // value id of the base pointer
	int16_t off;
	uint32_t value;
	uint8_t byte; // byte `byte` of `value`
};

struct Group {
	std::vector<ByteStore> stores; // by offset
	bool big_endian = false;
	[[nodiscard]] unsigned n() const { return unsigned(stores.size()); }
	[[nodiscard]] int16_t off() const { return stores.front().off; }
	[[nodiscard]] size_t first() const {
		return std::min_element(stores.begin(), stores.end(),
		                        [](auto &a, auto &b) { return a.at < b.at; })
		        ->at;
	}
	[[nodiscard]] size_t last() const {
		return std::max_element(stores.begin(), stores.end(),
		                        [](auto &a, auto &b) { return a.at < b.at; })
		        ->at;
	}
};

bool is_byte_stx(const Insn &in) {
	return in.code == (BPF_STX | BPF_MEM | BPF_B);
}
bool is_store(const Insn &in) {
	return (in.cls() == BPF_STX || in.cls() == BPF_ST) && BPF_MODE(in.code) == BPF_MEM;
}
bool is_load(const Insn &in) {
	return in.code == (BPF_LDX | BPF_MEM | BPF_SIZE(in.code));
}

uint8_t size_code(unsigned n) {
	return n == 2 ? BPF_H : n == 4 ? BPF_W : BPF_DW;
}

class Block {
public:
	Block(const Rewriter &rw, size_t start, size_t end) : rw_(rw), start_(start) {
		for (Val &v : regs_)
			v = fresh();
		for (size_t i = start; i < end; i++) {
			before_.push_back(regs_);
			step(rw.at(i), i);
		}
	}

	// The byte stores of the block that write bytes 0..n-1 of a value to
	// contiguous memory, in either order, n = 8, 4 or 2 (the largest
	// there is: a u32 and a u16 of one value written next to each other
	// give the u32's store; the u16's bytes stay).
	[[nodiscard]] std::vector<Group> groups() const {
		std::map<std::pair<uint32_t, uint32_t>, std::vector<ByteStore>> by;
		for (const ByteStore &s : stores_)
			by[{s.base, s.value}].push_back(s);
		std::vector<Group> out;
		for (auto &[key, v] : by) {
			std::map<int, const ByteStore *> at; // by offset; none twice
			bool twice = false;
			for (const ByteStore &s : v)
				twice |= !at.emplace(s.off, &s).second;
			if (twice)
				continue;
			auto run = [&](int o, unsigned n, bool be) -> std::optional<Group> {
				Group g{{}, be};
				for (unsigned i = 0; i < n; i++) {
					auto it = at.find(o + int(i));
					if (it == at.end() ||
					    it->second->byte != (be ? n - 1 - i : i))
						return std::nullopt;
					g.stores.push_back(*it->second);
				}
				return g;
			};
			for (const ByteStore &s : v) {
				if (s.byte != 0)
					continue;
				for (unsigned n : {8u, 4u, 2u}) {
					auto g = run(s.off, n, false);
					if (!g)
						g = run(s.off - int(n) + 1, n, true);
					if (g) {
						out.push_back(*g);
						break;
					}
				}
			}
		}
		std::sort(out.begin(), out.end(),
		          [](auto &a, auto &b) { return a.last() < b.last(); });
		return out;
	}
	// Registers before instruction i.
	[[nodiscard]] const std::array<Val, BPF_REG_10 + 1> &at(size_t i) const {
		return before_[i - start_];
	}
	// Value id of register r before i, if it is a whole value.
	[[nodiscard]] std::optional<uint32_t> base(size_t i, uint8_t r) const {
		const Val &b = at(i)[r];
		return b.whole(8) ? std::optional(b.id) : std::nullopt;
	}

private:
	Val fresh() { return {next_++, 0, 8}; }

	void step(const Insn &in, size_t i) {
		const uint8_t op = BPF_OP(in.code);
		const bool alu = in.cls() == BPF_ALU || in.cls() == BPF_ALU64;
		if (is_byte_stx(in)) {
			if (const auto b = base(i, in.dst); b && regs_[in.src].valid)
				stores_.push_back(
				        {i, *b, in.off, regs_[in.src].id, regs_[in.src].k});
			return;
		}
		if (alu && op == BPF_MOV && BPF_SRC(in.code) == BPF_X && in.off == 0) {
			Val v = regs_[in.src];
			if (in.cls() == BPF_ALU)
				v.valid = std::min<uint8_t>(v.valid, 4);
			regs_[in.dst] = v;
			return;
		}
		if (alu && op == BPF_RSH && BPF_SRC(in.code) == BPF_K && in.imm % 8 == 0 &&
		    in.imm > 0) {
			Val &v = regs_[in.dst];
			if (in.cls() == BPF_ALU)
				v.valid = std::min<uint8_t>(v.valid, 4);
			const int s = in.imm / 8;
			if (s < v.valid) {
				v.k = uint8_t(v.k + s);
				v.valid = uint8_t(v.valid - s);
				return;
			}
		}
		for (unsigned r = 0; r <= BPF_REG_10; r++)
			if (regs_written(in) & reg_bit(r))
				regs_[r] = fresh();
	}

	const Rewriter &rw_;
	size_t start_;
	uint32_t next_ = 0;
	std::array<Val, BPF_REG_10 + 1> regs_;
	std::vector<std::array<Val, BPF_REG_10 + 1>> before_;
	std::vector<ByteStore> stores_;
};

class WideStorePass : public Pass {
public:
	std::string_view name() const override { return "wide-store"; }
	std::string_view summary() const override {
		return "bytes of a value stored one by one (packed structs, network order) -> one "
		       "store, plus a byte swap for big-endian order";
	}

	Result<void> run(Rewriter &rw, const PassEnv & /*env*/,
	                 std::vector<Site> &sites) const override {
		const Cfg cfg(rw);
		const Kinds kinds(rw, cfg);
		const Liveness live(rw, cfg, kinds);
		for (size_t b = 0; b < cfg.blocks(); b++) {
			const Block blk(rw, cfg.block_start(b), cfg.block_end(b));
			for (const Group &g : blk.groups()) {
				const Insn &any = rw.at(g.stores[0].at);
				const std::string what =
				        fmt::format("{}-byte {} store to [r{}{:+}]", g.n(),
				                    g.big_endian ? "big-endian" : "little-endian",
				                    any.dst, g.off());
				auto r = rewrite(rw, blk, kinds, live, g);
				sites.push_back({g.last(), bool(r),
				                 what + ": " + (r ? *r : r.error().msg)});
			}
		}
		return {};
	}

private:
	static Result<std::string> rewrite(Rewriter &rw, const Block &blk, const Kinds &kinds,
	                                   const Liveness &live, const Group &g) {
		const unsigned n = g.n();
		const uint32_t base = g.stores[0].base;
		auto in_group = [&](size_t i) {
			return std::any_of(g.stores.begin(), g.stores.end(),
			                   [&](auto &s) { return s.at == i; });
		};
		// Nothing in between may see or write those bytes.
		for (size_t i = g.first() + 1; i < g.last(); i++) {
			const Insn &in = rw.at(i);
			if (in_group(i) || in.cls() == BPF_ALU || in.cls() == BPF_ALU64 ||
			    (in.is_ldimm64() && in.src == 0))
				continue;
			// loads and stores through the same base, of other bytes
			const uint8_t base_reg = in.cls() == BPF_LDX ? in.src : in.dst;
			const int lo = in.off, hi = in.off + int(access_bytes(in.code));
			if ((is_store(in) || is_load(in)) && blk.base(i, base_reg) == base &&
			    (hi <= g.off() || lo >= g.off() + int(n)))
				continue;
			return make_error(EINVAL, fmt::format("insn {} in between may see or write "
			                                      "the bytes",
			                                      i));
		}
		// The store goes where the value is whole in a register.
		for (const ByteStore &s : g.stores) {
			const Insn &at = rw.at(s.at);
			const auto &regs = blk.at(s.at);
			int src = -1;
			for (unsigned r = 0; r <= BPF_REG_9 && src < 0; r++)
				if (regs[r].id == g.stores[0].value && regs[r].whole(n))
					src = int(r);
			if (src < 0)
				continue;
			const uint8_t kind = kinds.before(s.at, at.dst);
			if (kind & kCtx)
				return make_error(EINVAL, "the context is written field by field");
			if (kind & kStack) {
				const auto so = kinds.stack_off(s.at, at.dst);
				if (kind != kStack || !so || (*so + g.off()) % int(n))
					return make_error(EINVAL, "not an aligned stack slot");
			}
			std::vector<Insn> code;
			if (g.big_endian) {
				const RegSet busy = live.live_in(s.at).regs | reg_bit(at.dst);
				int t = -1;
				for (unsigned r = 0; r <= BPF_REG_9 && t < 0; r++)
					if (!(busy & reg_bit(r)))
						t = int(r);
				if (t < 0)
					return make_error(EINVAL,
					                  "no free register for the byte swap");
				code.push_back({BPF_ALU64 | BPF_MOV | BPF_X, uint8_t(t),
				                uint8_t(src), 0, 0});
				code.push_back({BPF_ALU | BPF_END | BPF_TO_BE, uint8_t(t), 0, 0,
				                int32_t(8 * n)});
				src = t;
			}
			code.push_back({uint8_t(BPF_STX | BPF_MEM | size_code(n)), at.dst,
			                uint8_t(src), g.off(), 0});
			// the store that stays first: if the rewriter refuses, nothing changed
			if (auto r = rw.replace(s.at, code); !r)
				return r.error();
			for (const ByteStore &o : g.stores)
				if (o.at != s.at)
					if (auto r = rw.replace(o.at, {}); !r)
						return r.error();
			return fmt::format("{} byte stores -> {}one store of r{}", n,
			                   g.big_endian ? "a byte swap and " : "",
			                   g.big_endian ? int(code[0].src) : src);
		}
		return make_error(EINVAL,
		                  "the value is not whole in a register at any of its stores");
	}
};

} // namespace

std::unique_ptr<Pass> make_wide_store_pass() {
	return std::make_unique<WideStorePass>();
}

} // namespace rejit
