// SPDX-License-Identifier: GPL-2.0
#include "rejit/interp.hpp"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "rejit/cfg.hpp"
#include "rejit/kinsn.hpp"

namespace rejit {
namespace {

// What a register a kinsn clobbered holds here (the verifier lets no one
// read it; a helper argument is not checked, this value then shows).
constexpr uint64_t kClobbered = 0xdead'c10b'bad0'0000ULL;

constexpr uint64_t kStackBase = 0x7000'0000;
constexpr uint64_t kFrame = 512;
constexpr unsigned kMaxFrames = 8;

uint64_t sext(uint64_t v, unsigned bits) {
	const unsigned s = 64 - bits;
	return uint64_t(int64_t(v << s) >> s);
}

uint64_t bswap(uint64_t v, unsigned bits) {
	switch (bits) {
	case 16:
		return __builtin_bswap16(uint16_t(v));
	case 32:
		return __builtin_bswap32(uint32_t(v));
	default:
		return __builtin_bswap64(v);
	}
}

uint64_t trunc(uint64_t v, unsigned bits) {
	return bits == 64 ? v : v & ((uint64_t(1) << bits) - 1);
}

} // namespace

uint64_t alu_value(const Insn &in, uint64_t dst, uint64_t src) {
	if (BPF_OP(in.code) == BPF_END) { // a byte swap or truncation to imm bits
		const unsigned bits = unsigned(in.imm);
		const bool swap = in.cls() == BPF_ALU64 || BPF_SRC(in.code) == BPF_TO_BE;
		return swap ? bswap(dst, bits) : trunc(dst, bits);
	}
	const bool is64 = in.cls() == BPF_ALU64;
	const unsigned bits = is64 ? 64 : 32;
	const bool sgn = in.off == 1; // sdiv / smod
	dst = trunc(dst, bits);
	src = trunc(src, bits);
	const int64_t sd = int64_t(sext(dst, bits)), ss = int64_t(sext(src, bits));
	uint64_t r = 0;
	switch (BPF_OP(in.code)) {
	case BPF_ADD:
		r = dst + src;
		break;
	case BPF_SUB:
		r = dst - src;
		break;
	case BPF_MUL:
		r = dst * src;
		break;
	case BPF_OR:
		r = dst | src;
		break;
	case BPF_AND:
		r = dst & src;
		break;
	case BPF_XOR:
		r = dst ^ src;
		break;
	case BPF_LSH:
		r = dst << (src & (bits - 1));
		break;
	case BPF_RSH:
		r = dst >> (src & (bits - 1));
		break;
	case BPF_ARSH:
		r = uint64_t(sd >> (src & (bits - 1)));
		break;
	case BPF_NEG:
		r = uint64_t(-sd);
		break;
	case BPF_DIV:
		if (src == 0)
			r = 0;
		else if (sgn)
			r = (sd == INT64_MIN && ss == -1) || (!is64 && sd == INT32_MIN && ss == -1)
			            ? dst
			            : uint64_t(sd / ss);
		else
			r = dst / src;
		break;
	case BPF_MOD:
		if (src == 0)
			r = dst;
		else if (sgn)
			r = ss == -1 ? 0 : uint64_t(sd % ss);
		else
			r = dst % src;
		break;
	case BPF_MOV:
		r = in.off ? sext(src, unsigned(in.off)) : src;
		break;
	}
	return trunc(r, bits);
}

bool jump_taken(const Insn &in, uint64_t a, uint64_t b) {
	const unsigned bits = in.cls() == BPF_JMP32 ? 32 : 64;
	a = trunc(a, bits);
	b = trunc(b, bits);
	const int64_t sa = int64_t(sext(a, bits)), sb = int64_t(sext(b, bits));
	switch (BPF_OP(in.code)) {
	case BPF_JEQ:
		return a == b;
	case BPF_JNE:
		return a != b;
	case BPF_JGT:
		return a > b;
	case BPF_JGE:
		return a >= b;
	case BPF_JLT:
		return a < b;
	case BPF_JLE:
		return a <= b;
	case BPF_JSET:
		return a & b;
	case BPF_JSGT:
		return sa > sb;
	case BPF_JSGE:
		return sa >= sb;
	case BPF_JSLT:
		return sa < sb;
	case BPF_JSLE:
		return sa <= sb;
	}
	return false;
}

uint64_t Memory::map(std::string name, uint64_t addr, std::vector<uint8_t> bytes, bool writable) {
	regions_.push_back({std::move(name), addr, std::move(bytes), writable});
	return addr;
}

const std::vector<uint8_t> &Memory::bytes(const std::string &name) const {
	static const std::vector<uint8_t> none;
	for (const Region &r : regions_)
		if (r.name == name)
			return r.bytes;
	return none;
}

Result<const Memory::Region *> Memory::find(uint64_t addr, unsigned size) const {
	for (const Region &r : regions_)
		if (addr >= r.addr && size <= r.bytes.size() &&
		    addr - r.addr <= r.bytes.size() - size)
			return &r;
	return make_error(EFAULT, fmt::format("{}-byte access at {:#x} is outside every "
	                                      "region",
	                                      size, addr));
}

Result<uint64_t> Memory::load(uint64_t addr, unsigned size) const {
	auto r = find(addr, size);
	if (!r)
		return r.error();
	uint64_t v = 0;
	std::memcpy(&v, (*r)->bytes.data() + (addr - (*r)->addr), size); // little-endian host
	return v;
}

Result<void> Memory::store(uint64_t addr, unsigned size, uint64_t v) {
	auto r = find(addr, size);
	if (!r)
		return r.error();
	if (!(*r)->writable)
		return make_error(EACCES,
		                  fmt::format("store to read-only {} at {:#x}", (*r)->name, addr));
	auto *region = const_cast<Region *>(*r);
	std::memcpy(region->bytes.data() + (addr - region->addr), &v, size);
	return {};
}

Result<uint64_t> interpret(std::span<const Insn> prog, Memory &mem, const RunOptions &opt) {
	static_assert(std::endian::native == std::endian::little);
	std::vector<size_t> at_slot; // slot -> index
	for (size_t i = 0; i < prog.size(); i++) {
		at_slot.push_back(i);
		if (prog[i].slots() == 2)
			at_slot.push_back(SIZE_MAX);
	}
	std::vector<size_t> slot_of(prog.size());
	for (size_t s = 0; s < at_slot.size(); s++)
		if (at_slot[s] != SIZE_MAX)
			slot_of[at_slot[s]] = s;

	if (mem.bytes("stack").empty())
		mem.map("stack", kStackBase, std::vector<uint8_t>(kFrame * kMaxFrames), true);
	struct Frame {
		size_t ret;
		uint64_t saved[4];  // R6-R9
		uint16_t clobbered; // of R6-R9
	};
	std::vector<Frame> frames;
	uint64_t r[11] = {};
	r[1] = opt.r1;
	r[10] = kStackBase + kFrame * kMaxFrames; // frames grow down
	// Registers a kinsn clobbered: reading one is what the verifier refuses.
	uint16_t clobbered = 0;
	constexpr uint16_t kCalleeSaved = 0x3c0; // R6-R9

	size_t pc = 0;
	auto jump = [&](int64_t disp) -> Result<void> {
		const int64_t s = int64_t(slot_of[pc]) + 1 + disp;
		if (s < 0 || size_t(s) >= at_slot.size() || at_slot[s] == SIZE_MAX)
			return make_error(EINVAL,
			                  fmt::format("insn {}: jump out of the program", pc));
		pc = at_slot[s];
		return {};
	};
	auto err_at = [&](const Insn &in, const std::string &what) {
		return make_error(EINVAL, fmt::format("insn {} ({}): {}", pc, mnemonic(in), what));
	};
	// One instruction that cannot transfer control (ALU, load, store,
	// ld_imm64), as the program's own or as a kinsn's plain sequence.
	auto straight = [&](const Insn &in) -> Result<void> {
		const uint8_t op = BPF_OP(in.code);
		const uint64_t src =
		        BPF_SRC(in.code) == BPF_X ? r[in.src] : uint64_t(int64_t(in.imm));
		auto err = [&](const std::string &what) { return err_at(in, what); };
		switch (in.cls()) {
		case BPF_ALU:
		case BPF_ALU64:
			if (op == BPF_MOV && in.off == BPF_ADDR_SPACE_CAST &&
			    in.cls() == BPF_ALU64 && BPF_SRC(in.code) == BPF_X)
				return err("arena address space casts are not modelled");
			r[in.dst] = alu_value(in, r[in.dst], src);
			return {};
		case BPF_LDX: {
			const unsigned n = access_bytes(in.code);
			auto v = mem.load(r[in.src] + int64_t(in.off), n);
			if (!v)
				return err(v.error().msg);
			r[in.dst] = BPF_MODE(in.code) == BPF_MEMSX ? sext(*v, n * 8) : *v;
			return {};
		}
		case BPF_ST:
		case BPF_STX: {
			const unsigned n = access_bytes(in.code);
			const uint64_t addr = r[in.dst] + int64_t(in.off);
			uint64_t val = in.cls() == BPF_ST ? uint64_t(int64_t(in.imm)) : r[in.src];
			if (BPF_MODE(in.code) == BPF_ATOMIC) {
				auto old = mem.load(addr, n);
				if (!old)
					return err(old.error().msg);
				const uint64_t cur = *old;
				switch (in.imm & ~BPF_FETCH) {
				case BPF_ADD:
					val = cur + val;
					break;
				case BPF_OR:
					val = cur | val;
					break;
				case BPF_AND:
					val = cur & val;
					break;
				case BPF_XOR:
					val = cur ^ val;
					break;
				case BPF_XCHG & ~BPF_FETCH:
					break;
				case BPF_CMPXCHG & ~BPF_FETCH:
					val = trunc(cur, n * 8) == trunc(r[0], n * 8) ? val : cur;
					r[0] = cur;
					break;
				}
				if (in.imm & BPF_FETCH && in.imm != BPF_CMPXCHG)
					r[in.src] = cur;
			}
			if (auto s = mem.store(addr, n, trunc(val, n * 8)); !s)
				return err(s.error().msg);
			return {};
		}
		case BPF_LD:
			if (!in.is_ldimm64())
				return err("LD_ABS/IND is not modelled");
			if (in.src == 0) {
				r[in.dst] = in.imm64();
			} else {
				auto v = opt.pseudo ? opt.pseudo(in)
				                    : Result<uint64_t>(
				                              make_error(EINVAL, "not modelled"));
				if (!v)
					return err(v.error().msg);
				r[in.dst] = *v;
			}
			return {};
		}
		return err("not straight-line code");
	};
	for (uint64_t step = 0; step < opt.max_steps; step++) {
		if (pc >= prog.size())
			return make_error(EINVAL, "fell off the end of the program");
		if (opt.trace)
			opt.trace(pc);
		const Insn &in = prog[pc];
		const uint8_t op = BPF_OP(in.code);
		const uint64_t src =
		        BPF_SRC(in.code) == BPF_X ? r[in.src] : uint64_t(int64_t(in.imm));
		auto err = [&](const std::string &what) { return err_at(in, what); };
		// Calls read only the arguments their callee takes: not checked.
		if (const uint16_t bad = regs_read(in) & clobbered;
		    bad && (op != BPF_CALL || in.is_kinsn()))
			return err(fmt::format("reads R{}, clobbered by a kinsn",
			                       std::countr_zero(bad)));
		if (in.is_kinsn()) {
			auto e = kinsn_expand(in);
			if (!e)
				return err(in.form ? "kinsn operands invalid for its form"
				                   : "kinsn not modelled (unknown form)");
			for (size_t k = 0; k < e->insns.size(); k++) {
				const Insn &x = e->insns[k];
				if (kinsn_seq_branch(x)) { // forward, inside (kinsn_is_pure)
					const uint64_t b = BPF_SRC(x.code) == BPF_X
					                           ? r[x.src]
					                           : uint64_t(int64_t(x.imm));
					if (jump_taken(x, r[x.dst], b))
						k += size_t(x.off);
				} else if (auto s = straight(x); !s) {
					return s.error();
				}
			}
			clobbered = uint16_t((clobbered & ~regs_written(in)) | e->clobber);
			for (unsigned c = 0; c <= BPF_REG_9; c++)
				if (e->clobber & (1u << c))
					r[c] = kClobbered; // and stray uses (helper args) show
			pc++;
			continue;
		}
		clobbered &= uint16_t(~regs_written(in));
		switch (in.cls()) {
		case BPF_ALU:
		case BPF_ALU64:
		case BPF_LDX:
		case BPF_ST:
		case BPF_STX:
		case BPF_LD:
			if (auto s = straight(in); !s)
				return s.error();
			pc++;
			break;
		default: // JMP, JMP32
			if (op == BPF_EXIT) {
				if (frames.empty())
					return r[0];
				std::memcpy(&r[6], frames.back().saved,
				            sizeof(frames.back().saved));
				clobbered = uint16_t((clobbered & ~kCalleeSaved) |
				                     frames.back().clobbered);
				r[10] += kFrame;
				pc = frames.back().ret;
				frames.pop_back();
			} else if (op == BPF_CALL && in.src == BPF_PSEUDO_CALL) {
				if (frames.size() + 1 >= kMaxFrames)
					return err("call depth");
				Frame f{pc + 1, {}, uint16_t(clobbered & kCalleeSaved)};
				std::memcpy(f.saved, &r[6], sizeof(f.saved));
				frames.push_back(f);
				r[10] -= kFrame;
				if (auto j = jump(in.imm); !j)
					return j.error();
			} else if (op == BPF_CALL) {
				if (!opt.helper || in.src != 0)
					return err(fmt::format("call {} is not modelled", in.imm));
				const uint64_t args[5] = {r[1], r[2], r[3], r[4], r[5]};
				auto v = opt.helper(in.imm, args);
				if (!v)
					return err(v.error().msg);
				r[0] = *v;
				pc++;
			} else if (op == BPF_JCOND) {
				pc++; // may_goto: the budget never runs out here
			} else if (op == BPF_JA) {
				if (auto j = jump(in.cls() == BPF_JMP32 ? in.imm : in.off); !j)
					return j.error();
			} else if (jump_taken(in, r[in.dst], src)) {
				if (auto j = jump(in.off); !j)
					return j.error();
			} else {
				pc++;
			}
		}
	}
	return make_error(ELOOP, fmt::format("no exit after {} steps", opt.max_steps));
}

} // namespace rejit
