// SPDX-License-Identifier: GPL-2.0
#include "rejit/rewriter.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <fmt/format.h>

namespace rejit {
namespace {

bool is_jump(const Insn &in) {
	const uint8_t cls = in.cls(), op = BPF_OP(in.code);
	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

bool is_gotol(const Insn &in) {
	return in.code == (BPF_JMP32 | BPF_JA);
}

bool is_pseudo_call(const Insn &in) {
	return in.code == (BPF_JMP | BPF_CALL) && in.src == BPF_PSEUDO_CALL;
}

bool is_pseudo_func(const Insn &in) {
	return in.is_ldimm64() && in.src == BPF_PSEUDO_FUNC;
}

// The pc-relative displacement of `in`, counted from the next slot.
int64_t displacement(const Insn &in) {
	return is_jump(in) && !is_gotol(in) ? in.off : in.imm;
}

Result<void> set_displacement(Insn &in, int64_t d, size_t slot) {
	if (is_jump(in) && !is_gotol(in)) {
		if (d < std::numeric_limits<int16_t>::min() ||
		    d > std::numeric_limits<int16_t>::max())
			return make_error(ERANGE,
			                  fmt::format("slot {}: jump offset {} does not fit "
			                              "16 bits (use gotol)",
			                              slot, d));
		in.off = static_cast<int16_t>(d);
	} else {
		in.imm = static_cast<int32_t>(d);
	}
	return {};
}

} // namespace

bool is_pc_relative(const Insn &in) {
	return is_jump(in) || is_pseudo_call(in) || is_pseudo_func(in);
}

bool is_control(const Insn &in) {
	const uint8_t cls = in.cls();
	return (cls == BPF_JMP || cls == BPF_JMP32) && !in.is_kinsn(); // kinsns run inline
}

bool is_cond_jump(const Insn &in) {
	const uint8_t op = BPF_OP(in.code);
	return (in.cls() == BPF_JMP || in.cls() == BPF_JMP32) && op != BPF_JA && op != BPF_CALL &&
	       op != BPF_EXIT && op != BPF_JCOND;
}

Result<Rewriter> Rewriter::create(std::span<const Insn> insns, std::span<const LineInfo> line_info,
                                  std::span<const FuncInfo> func_info) {
	// slot -> instruction index; -1 for the second half of an ld_imm64 or
	// a kinsn operand form
	std::vector<int64_t> at_slot;
	std::vector<size_t> slot_of;
	for (size_t i = 0; i < insns.size(); i++) {
		slot_of.push_back(at_slot.size());
		at_slot.push_back(static_cast<int64_t>(i));
		if (insns[i].slots() == 2)
			at_slot.push_back(-1);
	}
	auto resolve = [&](int64_t slot, const char *what, size_t from) -> Result<size_t> {
		if (slot < 0 || slot >= static_cast<int64_t>(at_slot.size()) || at_slot[slot] < 0)
			return make_error(EINVAL, fmt::format("insn {}: {} to slot {} is not an "
			                                      "instruction of the program",
			                                      from, what, slot));
		return static_cast<size_t>(at_slot[slot]);
	};

	Rewriter rw;
	rw.nodes_.reserve(insns.size());
	for (size_t i = 0; i < insns.size(); i++) {
		Node n;
		n.insn = insns[i];
		if (is_pc_relative(insns[i])) {
			auto t = resolve(int64_t(slot_of[i]) + 1 + displacement(insns[i]),
			                 "reference", i);
			if (!t)
				return t.error();
			n.target = static_cast<int64_t>(*t);
		}
		rw.nodes_.push_back(std::move(n));
	}
	rw.order_.resize(rw.nodes_.size());
	std::iota(rw.order_.begin(), rw.order_.end(), size_t(0));
	// line/func info are kept keyed by instruction index until finish()
	auto rekey = [&](auto &out, auto in, const char *what) -> Result<void> {
		for (auto info : in) {
			auto t = resolve(info.insn_off, what, info.insn_off);
			if (!t)
				return t.error();
			info.insn_off = static_cast<uint32_t>(*t);
			out.push_back(info);
		}
		return {};
	};
	if (auto r = rekey(rw.line_info_, line_info, "line_info"); !r)
		return r.error();
	if (auto r = rekey(rw.func_info_, func_info, "func_info"); !r)
		return r.error();
	return rw;
}

std::optional<size_t> Rewriter::target(size_t i) const {
	if (nodes_[i].target < 0)
		return std::nullopt;
	return static_cast<size_t>(nodes_[i].target);
}

Result<void> Rewriter::check_straight(size_t i, const std::vector<Insn> &code) {
	for (const Insn &in : code) {
		if (is_control(in) || is_pseudo_func(in))
			return make_error(EINVAL, fmt::format("insn {}: replacement must be "
			                                      "straight-line code",
			                                      i));
		if (std::string why = check(in); !why.empty())
			return make_error(EINVAL, fmt::format("insn {}: replacement: {}", i, why));
	}
	return {};
}

Result<void> Rewriter::replace(size_t i, std::vector<Insn> with) {
	if (i >= nodes_.size())
		return make_error(EINVAL, fmt::format("insn {}: out of range", i));
	Node &n = nodes_[i];
	if (n.deleted || !n.extra.empty() ||
	    (with.empty() && (!n.prefix.empty() || n.then_jump >= 0)))
		return make_error(EINVAL, fmt::format("insn {}: edited twice", i));
	if (auto r = check_straight(i, with); !r)
		return r;
	n.target = -1;
	if (with.empty()) {
		n.deleted = true;
		return {};
	}
	n.insn = with.front();
	n.extra.assign(with.begin() + 1, with.end());
	return {};
}

Result<void> Rewriter::replace_run(size_t first, size_t count, std::vector<Insn> with) {
	if (count == 0 || first + count > nodes_.size())
		return make_error(EINVAL,
		                  fmt::format("run [{}, {}) out of range", first, first + count));
	for (size_t i = 0; i < nodes_.size(); i++)
		for (const int64_t t : {nodes_[i].target, nodes_[i].then_jump})
			if (t > int64_t(first) && t < int64_t(first + count))
				return make_error(EINVAL,
				                  fmt::format("insn {} enters run [{}, {}) at {}",
				                              i, first, first + count, t));
	const auto pos = std::find(order_.begin(), order_.end(), first) - order_.begin();
	for (size_t k = 1; k < count; k++)
		if (size_t(pos) + k >= order_.size() || order_[size_t(pos) + k] != first + k)
			return make_error(EINVAL, fmt::format("run [{}, {}) is not laid out in one "
			                                      "piece",
			                                      first, first + count));
	if (auto r = replace(first, std::move(with)); !r)
		return r;
	for (size_t i = first + 1; i < first + count; i++)
		if (auto r = replace(i, {}); !r)
			return r;
	return {};
}

Result<void> Rewriter::jump_always(size_t i) {
	if (i >= nodes_.size())
		return make_error(EINVAL, fmt::format("insn {}: out of range", i));
	Node &n = nodes_[i];
	if (n.deleted || !n.extra.empty())
		return make_error(EINVAL, fmt::format("insn {}: edited twice", i));
	const uint8_t op = BPF_OP(n.insn.code);
	if (!is_jump(n.insn) || op == BPF_JA || op == BPF_JCOND)
		return make_error(EINVAL, fmt::format("insn {}: not a conditional jump", i));
	n.insn = Insn{BPF_JMP | BPF_JA, 0, 0, n.insn.off, 0};
	return {};
}

Result<void> Rewriter::insert_before(size_t i, std::vector<Insn> code) {
	if (i >= nodes_.size())
		return make_error(EINVAL, fmt::format("insn {}: out of range", i));
	if (nodes_[i].deleted)
		return make_error(EINVAL, fmt::format("insn {}: deleted", i));
	if (auto r = check_straight(i, code); !r)
		return r;
	auto &prefix = nodes_[i].prefix;
	prefix.insert(prefix.end(), code.begin(), code.end());
	return {};
}

Result<void> Rewriter::invert_jump(size_t i, size_t to) {
	if (i >= nodes_.size() || to >= nodes_.size())
		return make_error(EINVAL, fmt::format("insn {}: out of range", i));
	Node &n = nodes_[i];
	// with a `ja` after it (the end of a moved run), it falls through nowhere
	if (n.deleted || !n.extra.empty() || n.then_jump >= 0)
		return make_error(EINVAL, fmt::format("insn {}: edited twice", i));
	// BPF_JEQ..BPF_JSLE and their inverse
	static constexpr uint8_t inverse[16] = {
	        0, BPF_JNE, BPF_JLE, BPF_JLT, 0,        BPF_JEQ,  BPF_JSLE, BPF_JSLT,
	        0, 0,       BPF_JGE, BPF_JGT, BPF_JSGE, BPF_JSGT, 0,        0};
	const uint8_t inv = inverse[BPF_OP(n.insn.code) >> 4];
	if (!is_jump(n.insn) || n.insn.src == BPF_PSEUDO_CALL || !inv)
		return make_error(EINVAL, fmt::format("insn {}: not a jump with an inverse", i));
	n.insn.code = uint8_t((n.insn.code & ~BPF_OP(0xff)) | inv);
	n.target = int64_t(to);
	return {};
}

// Can control run from node i into the next node laid out?
bool Rewriter::falls_through(size_t i) const {
	const Node &n = nodes_[i];
	if (n.then_jump >= 0)
		return false;
	if (n.deleted || !n.extra.empty())
		return true;
	const uint8_t op = BPF_OP(n.insn.code);
	const bool jmp = n.insn.cls() == BPF_JMP || n.insn.cls() == BPF_JMP32;
	return !(jmp && (op == BPF_EXIT || op == BPF_JA));
}

Result<void> Rewriter::move_run(size_t first, size_t count, size_t before) {
	const size_t n = nodes_.size();
	if (count == 0 || first + count > n || before > n ||
	    (before >= first && before < first + count))
		return make_error(EINVAL,
		                  fmt::format("move of run [{}, {}) before {}: out of range", first,
		                              first + count, before));
	auto fail = [&](std::string_view why) {
		return make_error(EINVAL, fmt::format("move of run [{}, {}) before {}: {}", first,
		                                      first + count, before, why));
	};
	if (std::any_of(nodes_.begin(), nodes_.end(), [](const Node &x) { return x.deleted; }))
		return fail("deletions already made");
	const size_t pos = size_t(std::find(order_.begin(), order_.end(), first) - order_.begin());
	for (size_t k = 1; k < count; k++)
		if (pos + k >= n || order_[pos + k] != first + k)
			return fail("not laid out in one piece");
	const size_t last = first + count - 1;
	const bool tail = falls_through(last);
	if (tail && pos + count >= n)
		return fail("falls off the end");
	if (tail && nodes_[last].then_jump >= 0)
		return fail("edited twice");
	std::vector<size_t> order(order_);
	order.erase(order.begin() + long(pos), order.begin() + long(pos + count));
	const size_t at =
	        before == n ? order.size()
	                    : size_t(std::find(order.begin(), order.end(), before) - order.begin());
	if (at == 0)
		return fail("the program entry stays first");
	if (falls_through(order[at - 1]))
		return fail("the instruction before the new place falls through");
	if (tail)
		nodes_[last].then_jump = int64_t(order_[pos + count]);
	order.insert(order.begin() + long(at), order_.begin() + long(pos),
	             order_.begin() + long(pos + count));
	order_ = std::move(order);
	return {};
}

Result<Program> Rewriter::finish() const {
	auto slots = [](const std::vector<Insn> &v) {
		size_t k = 0;
		for (const Insn &x : v)
			k += x.slots();
		return k;
	};
	// New slot of every node (of its prefix, where references land) and of
	// its instruction; a deleted node takes its layout successor's slot.
	std::vector<size_t> new_slot(nodes_.size() + 1), insn_slot(nodes_.size());
	size_t slot = 0;
	for (size_t i : order_) {
		const Node &n = nodes_[i];
		new_slot[i] = slot;
		if (n.deleted)
			continue;
		slot += slots(n.prefix);
		insn_slot[i] = slot;
		slot += n.insn.slots() + slots(n.extra) + (n.then_jump >= 0 ? 1 : 0);
	}
	new_slot[nodes_.size()] = slot; // "past the end", only valid if unused
	const size_t total = slot;

	auto slot_for = [&](size_t node, const char *what) -> Result<size_t> {
		if (new_slot[node] >= total)
			return make_error(EINVAL, fmt::format("{} to insn {} points past the end "
			                                      "after deletions",
			                                      what, node));
		return new_slot[node];
	};
	auto aim = [&](Insn &in, int64_t target, size_t at) -> Result<void> {
		auto t = slot_for(static_cast<size_t>(target), "reference");
		if (!t)
			return t.error();
		return set_displacement(in, int64_t(*t) - int64_t(at) - 1, at);
	};

	Program out;
	out.insns.reserve(nodes_.size());
	for (size_t i : order_) {
		const Node &n = nodes_[i];
		if (n.deleted)
			continue;
		out.insns.insert(out.insns.end(), n.prefix.begin(), n.prefix.end());
		Insn in = n.insn;
		if (n.target >= 0)
			if (auto r = aim(in, n.target, insn_slot[i]); !r)
				return r.error();
		out.insns.push_back(in);
		out.insns.insert(out.insns.end(), n.extra.begin(), n.extra.end());
		if (n.then_jump >= 0) {
			Insn ja{BPF_JMP | BPF_JA, 0, 0, 0, 0};
			const size_t at = insn_slot[i] + in.slots() + slots(n.extra);
			if (auto r = aim(ja, n.then_jump, at); !r)
				return r.error();
			out.insns.push_back(ja);
		}
	}

	// line_info must stay strictly increasing: when deletions fold entries
	// onto one instruction, the last one (which describes it) wins.
	std::vector<LineInfo> lines;
	for (LineInfo li : line_info_) {
		auto t = slot_for(li.insn_off, "line_info");
		if (!t)
			return t.error();
		li.insn_off = static_cast<uint32_t>(*t);
		lines.push_back(li);
	}
	std::stable_sort(lines.begin(), lines.end(), [](const LineInfo &a, const LineInfo &b) {
		return a.insn_off < b.insn_off;
	});
	for (const LineInfo &li : lines) {
		if (!out.line_info.empty() && out.line_info.back().insn_off == li.insn_off)
			out.line_info.back() = li;
		else
			out.line_info.push_back(li);
	}
	for (FuncInfo fi : func_info_) {
		auto t = slot_for(fi.insn_off, "func_info");
		if (!t)
			return t.error();
		if (!out.func_info.empty() && out.func_info.back().insn_off >= *t)
			return make_error(
			        EINVAL,
			        fmt::format("subprogram at insn {} would be empty", fi.insn_off));
		fi.insn_off = static_cast<uint32_t>(*t);
		out.func_info.push_back(fi);
	}
	return out;
}

} // namespace rejit
