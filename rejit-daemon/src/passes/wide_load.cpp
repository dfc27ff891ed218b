// SPDX-License-Identifier: GPL-2.0
// wide-load: one load instead of a value recomposed from byte loads.
//
// LLVM's BPF backend may not assume unaligned access, so every field of a
// packed struct (struct ethhdr's h_proto, custom headers) or a byte-wise
// read such as p[0] << 8 | p[1] becomes byte loads, shifts and ors: 10
// instructions for a u32. The kernel JIT emits them one by one. Where the
// bytes are contiguous, the value is one little-endian load (x86-64 and
// arm64 load unaligned at full speed), and for the big-endian order one
// load plus a byte swap.
//
// The pass evaluates extended basic blocks (a block and the blocks that have
// it as their only predecessor) symbolically: a register or a spilled stack
// slot holds either an unknown value or "bytes of memory at base + off,
// placed at byte positions p, zero elsewhere". clang hoists such byte loads
// above helper calls and spills them, so both are followed. A complete value
// (positions 0..n-1, n = 2, 4 or 8, offsets ascending or descending) ending
// at an `or` is a candidate. It becomes one load at that `or` when
//  * the base register still holds the same pointer there;
//  * the memory cannot have changed since the first byte load: no store or
//    call in between, or, for memory reached from the context (packet
//    data), none that can write it (see Kinds::may_write_ctx_memory);
//  * every register and stack slot the chain wrote is dead afterwards.
// Stack pointers must be aligned (the verifier insists). A context field
// read byte by byte would fail verification as a wide load; the daemon then
// leaves the program alone.
#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "passes/passes.hpp"
#include "rejit/cfg.hpp"

namespace rejit {
namespace {

static_assert(std::endian::native == std::endian::little,
              "wide-load assumes a little-endian target");

// Value of a register or slot as bytes of memory placed at byte positions.
struct Bytes {
	unsigned base = 0;
	uint32_t base_version = 0;
	uint8_t base_kinds = 0;
	std::array<int32_t, 8> off{}; // memory offset of the byte at position p
	uint8_t present = 0;          // bit p: position p holds a byte
	std::vector<size_t> insns;    // instructions that built the value, sorted

	[[nodiscard]] unsigned top() const { return present ? 8 - std::countl_zero(present) : 0; }
	void add(size_t i) { insns.insert(std::upper_bound(insns.begin(), insns.end(), i), i); }
};

struct Candidate {
	size_t final_insn;
	unsigned dst;
	unsigned width; // bytes
	Bytes bytes;
};

// Is `b` n contiguous bytes at positions 0..n-1? Returns the lowest memory
// offset and whether the order is big-endian.
std::optional<std::pair<int32_t, bool>> contiguous(const Bytes &b) {
	const unsigned n = b.top();
	if ((n != 2 && n != 4 && n != 8) || b.present != uint8_t((1u << n) - 1))
		return std::nullopt;
	bool le = true, be = true;
	for (unsigned p = 0; p < n; p++) {
		le &= b.off[p] == b.off[0] + int32_t(p);
		be &= b.off[p] == b.off[n - 1] + int32_t(n - 1 - p);
	}
	if (le)
		return std::pair{b.off[0], false};
	if (be)
		return std::pair{b.off[n - 1], true};
	return std::nullopt;
}

// Symbolic state along an extended basic block.
struct State {
	std::array<std::optional<Bytes>, BPF_REG_10 + 1> reg;
	std::map<int32_t, std::pair<unsigned, Bytes>> slot; // R10 offset -> size, value
	std::array<uint32_t, BPF_REG_10 + 1> version{};
};

class Scan {
public:
	Scan(const Rewriter &rw, const Cfg &cfg, const Kinds &kinds) : rw_(rw), kinds_(kinds) {
		std::vector<State> exit(cfg.blocks());
		for (size_t b = 0; b < cfg.blocks(); b++) {
			const auto &preds = cfg.preds(b);
			State s;
			if (preds.size() == 1 && preds[0] < b && !cfg.is_entry(cfg.block_start(b)))
				s = exit[preds[0]]; // continues its predecessor's EBB
			for (size_t i = cfg.block_start(b); i < cfg.block_end(b); i++)
				step(s, i);
			exit[b] = std::move(s);
		}
	}
	std::vector<Candidate> candidates;

private:
	void step(State &s, size_t i) {
		const Insn &in = rw_.at(i);
		const uint8_t op = BPF_OP(in.code);
		const bool alu64 = in.cls() == BPF_ALU64, alu = alu64 || in.cls() == BPF_ALU;
		const bool x = BPF_SRC(in.code) == BPF_X;
		const unsigned limit = alu64 ? 8 : 4; // ALU32 results are 4 bytes
		auto &reg = s.reg;
		std::optional<Bytes> result;

		if (in.code == (BPF_LDX | BPF_MEM | BPF_B)) {
			Bytes b;
			b.base = in.src;
			b.base_version = s.version[in.src];
			b.base_kinds = kinds_.before(i, in.src);
			b.off[0] = in.off;
			b.present = 1;
			b.insns = {i};
			result = std::move(b);
		} else if (alu && op == BPF_LSH && !x && reg[in.dst] && in.imm % 8 == 0 &&
		           in.imm > 0 && reg[in.dst]->top() + unsigned(in.imm) / 8 <= limit) {
			Bytes b = *reg[in.dst];
			const unsigned sh = unsigned(in.imm) / 8;
			for (unsigned p = 8; p-- > sh;)
				b.off[p] = b.off[p - sh];
			b.present = uint8_t(b.present << sh);
			b.add(i);
			result = std::move(b);
		} else if (alu && op == BPF_MOV && x && in.off == 0 && reg[in.src] &&
		           reg[in.src]->top() <= limit) {
			result = *reg[in.src];
			result->add(i);
		} else if (alu && op == BPF_OR && x && reg[in.dst] && reg[in.src] &&
		           in.dst != in.src) {
			result = merge(*reg[in.dst], *reg[in.src], limit, i);
		} else if (auto acc = kinds_.stack_access(rw_, i);
		           acc && BPF_MODE(in.code) == BPF_MEM) {
			const auto [off, size] = *acc;
			if (in.cls() == BPF_LDX && size >= 4) { // fill
				auto it = s.slot.find(off);
				if (it != s.slot.end() && it->second.first == size) {
					result = it->second.second;
					result->add(i);
				}
			}
		}

		if (has_side_effects(in))
			effects(s, i);
		if (result && op == BPF_OR)
			maybe_candidate(s, *result, in.dst, i);
		if (in.cls() == BPF_STX && BPF_MODE(in.code) == BPF_MEM &&
		    access_bytes(in.code) >= 4 && reg[in.src] &&
		    reg[in.src]->top() <= access_bytes(in.code))
			if (auto acc = kinds_.stack_access(rw_, i)) { // spill
				Bytes b = *reg[in.src];
				b.add(i);
				s.slot[acc->first] = {acc->second, std::move(b)};
			}
		const RegSet written = regs_written(in);
		for (unsigned r = 0; r <= BPF_REG_10; r++) {
			if (!(written & reg_bit(r)))
				continue;
			s.version[r] = ++next_version_;
			reg[r].reset();
		}
		if (result)
			reg[in.dst] = std::move(result);
	}

	// A store or call at i: forget every value it may invalidate.
	void effects(State &s, size_t i) {
		const bool ctx_safe = !kinds_.may_write_ctx_memory(rw_, i);
		auto stale = [&](const std::optional<Bytes> &b) {
			return b && !(ctx_safe && b->base_kinds == kFromCtx);
		};
		for (auto &r : s.reg)
			if (stale(r))
				r.reset();
		// Stack slots: a store over one, or a call with a stack pointer.
		const Locs clobbered = locs_written(rw_, kinds_, i) | locs_read(rw_, kinds_, i);
		const bool call = BPF_CLASS(rw_.at(i).code) == BPF_JMP;
		const auto acc = kinds_.stack_access(rw_, i);
		for (auto it = s.slot.begin(); it != s.slot.end();) {
			const Locs mine = Locs::stack_bytes(it->first, it->second.first);
			const bool overwritten =
			        acc ? (Locs::stack_bytes(acc->first, acc->second) & mine).any()
			            : (call && (clobbered & mine).any()) ||
			                        (!call &&
			                         (kinds_.before(i, rw_.at(i).dst) & kStack));
			if (overwritten || stale(it->second.second))
				it = s.slot.erase(it);
			else
				++it;
		}
	}

	static std::optional<Bytes> merge(const Bytes &a, const Bytes &b, unsigned limit,
	                                  size_t i) {
		if (a.base != b.base || a.base_version != b.base_version ||
		    (a.present & b.present) || std::max(a.top(), b.top()) > limit)
			return std::nullopt;
		Bytes m = a;
		for (unsigned p = 0; p < 8; p++)
			if (b.present & (1u << p))
				m.off[p] = b.off[p];
		m.present |= b.present;
		for (size_t j : b.insns)
			if (!std::binary_search(m.insns.begin(), m.insns.end(), j))
				m.add(j);
		m.add(i);
		return m;
	}

	void maybe_candidate(const State &s, const Bytes &b, unsigned dst, size_t i) {
		// The wide load reads base at i, before i writes dst.
		if (b.base_version != s.version[b.base])
			return;
		if (contiguous(b))
			candidates.push_back({i, dst, b.top(), b});
	}

	const Rewriter &rw_;
	const Kinds &kinds_;
	uint32_t next_version_ = 0;
};

// Is every value that an instruction of the chain (other than the last)
// wrote used only inside the chain? Walks forward along the chain's blocks;
// on side exits the value must be dead.
bool chain_is_private(const Rewriter &rw, const Cfg &cfg, const Kinds &kinds, const Liveness &live,
                      const Candidate &c) {
	const auto &S = c.bytes.insns;
	const auto in_chain = [&](size_t j) { return std::binary_search(S.begin(), S.end(), j); };
	// The chain's blocks, first to last, each the only predecessor of the next.
	std::vector<size_t> path{cfg.block_of(c.final_insn)};
	while (path.back() != cfg.block_of(S.front()))
		path.push_back(cfg.preds(path.back()).front());
	std::reverse(path.begin(), path.end());

	for (size_t x : S) {
		if (x == c.final_insn)
			continue;
		const Insn &xi = rw.at(x);
		const Locs w = xi.cls() == BPF_STX
		                       ? Locs::stack_bytes(kinds.stack_access(rw, x)->first,
		                                           access_bytes(xi.code))
		                       : Locs{regs_written(xi), {}};
		auto p = std::find(path.begin(), path.end(), cfg.block_of(x));
		size_t j = x + 1;
		for (bool done = false; !done;) {
			const size_t end = cfg.block_end(*p);
			for (; j < end; j++) {
				if ((locs_read(rw, kinds, j) & w).any() && !in_chain(j))
					return false;
				if ((locs_written(rw, kinds, j) & w) == w) {
					done = true;
					break;
				}
			}
			if (done)
				break;
			if (p + 1 == path.end())
				return !(live.live_out(end - 1) & w).any();
			const size_t next = cfg.block_start(*(p + 1));
			for (size_t succ : cfg.succs(end - 1))
				if (succ != next && (live.live_in(succ) & w).any())
					return false;
			++p;
			j = next;
		}
	}
	return true;
}

class WideLoad : public Pass {
public:
	std::string_view name() const override { return "wide-load"; }
	std::string_view summary() const override {
		return "byte loads + shifts + ors -> one (byte-swapped) wide load";
	}

	Result<void> run(Rewriter &rw, const PassEnv &, std::vector<Site> &sites) const override {
		const Cfg cfg(rw);
		const Kinds kinds(rw, cfg);
		const Liveness live(rw, cfg, kinds);
		std::vector<Candidate> cands = Scan(rw, cfg, kinds).candidates;
		// Widest first: a u64 built from two u32 halves is one load, not two.
		std::stable_sort(
		        cands.begin(), cands.end(),
		        [](const Candidate &a, const Candidate &b) { return a.width > b.width; });
		std::vector<bool> taken(rw.size(), false);
		for (const Candidate &c : cands) {
			if (std::any_of(c.bytes.insns.begin(), c.bytes.insns.end(),
			                [&](size_t j) { return taken[j]; }))
				continue; // part of a wider load already
			auto [off, be] = *contiguous(c.bytes);
			const std::string what = fmt::format("{} {}-byte load r{} = [r{}{:+}]",
			                                     be ? "big-endian" : "little-endian",
			                                     c.width, c.dst, c.bytes.base, off);
			if (c.bytes.base == BPF_REG_10 && off % int32_t(c.width)) {
				sites.push_back(
				        {c.final_insn, false, what + ": unaligned stack access"});
				continue;
			}
			if (!chain_is_private(rw, cfg, kinds, live, c)) {
				sites.push_back(
				        {c.final_insn, false,
				         what + ": an intermediate value is used elsewhere"});
				continue;
			}
			if (auto r = rewrite(rw, c, off, be); !r)
				return r;
			for (size_t j : c.bytes.insns)
				taken[j] = true;
			sites.push_back({c.final_insn, true,
			                 fmt::format("{} ({} insns -> {})", what,
			                             c.bytes.insns.size(), be ? 2 : 1)});
		}
		std::sort(sites.begin(), sites.end(),
		          [](const Site &a, const Site &b) { return a.insn < b.insn; });
		return {};
	}

private:
	static Result<void> rewrite(Rewriter &rw, const Candidate &c, int32_t off, bool be) {
		static constexpr uint8_t size_of[9] = {0, 0, BPF_H, 0, BPF_W, 0, 0, 0, BPF_DW};
		std::vector<Insn> with{{uint8_t(BPF_LDX | BPF_MEM | size_of[c.width]),
		                        uint8_t(c.dst), uint8_t(c.bytes.base), int16_t(off), 0}};
		if (be)
			with.push_back({BPF_ALU | BPF_END | BPF_TO_BE, uint8_t(c.dst), 0, 0,
			                int32_t(c.width * 8)});
		for (size_t j : c.bytes.insns)
			if (j != c.final_insn)
				if (auto r = rw.replace(j, {}); !r)
					return r;
		return rw.replace(c.final_insn, std::move(with));
	}
};

} // namespace

std::unique_ptr<Pass> make_wide_load_pass() {
	return std::make_unique<WideLoad>();
}

} // namespace rejit
