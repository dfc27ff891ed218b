// SPDX-License-Identifier: GPL-2.0
#include "rejit/rewriter.hpp"

#include <limits>

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

Result<void> Rewriter::replace(size_t i, std::vector<Insn> with) {
	if (i >= nodes_.size())
		return make_error(EINVAL, fmt::format("insn {}: out of range", i));
	Node &n = nodes_[i];
	if (n.deleted || !n.extra.empty())
		return make_error(EINVAL, fmt::format("insn {}: edited twice", i));
	for (const Insn &in : with) {
		if (is_control(in) || is_pseudo_func(in))
			return make_error(EINVAL, fmt::format("insn {}: replacement must be "
			                                      "straight-line code",
			                                      i));
		if (std::string why = check(in); !why.empty())
			return make_error(EINVAL, fmt::format("insn {}: replacement: {}", i, why));
	}
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
	for (size_t i = 0; i < nodes_.size(); i++) {
		const int64_t t = nodes_[i].target;
		if (t > int64_t(first) && t < int64_t(first + count))
			return make_error(EINVAL, fmt::format("insn {} enters run [{}, {}) at {}",
			                                      i, first, first + count, t));
	}
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

Result<Program> Rewriter::finish() const {
	// New slot of every node; a deleted node takes its successor's slot.
	std::vector<size_t> new_slot(nodes_.size() + 1);
	size_t slot = 0;
	for (size_t i = 0; i < nodes_.size(); i++) {
		new_slot[i] = slot;
		if (nodes_[i].deleted)
			continue;
		slot += nodes_[i].insn.slots();
		for (const Insn &x : nodes_[i].extra)
			slot += x.slots();
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

	Program out;
	out.insns.reserve(nodes_.size());
	for (size_t i = 0; i < nodes_.size(); i++) {
		const Node &n = nodes_[i];
		if (n.deleted)
			continue;
		Insn in = n.insn;
		if (n.target >= 0) {
			auto t = slot_for(static_cast<size_t>(n.target), "reference");
			if (!t)
				return t.error();
			auto r = set_displacement(in, int64_t(*t) - int64_t(new_slot[i]) - 1,
			                          new_slot[i]);
			if (!r)
				return r.error();
		}
		out.insns.push_back(in);
		out.insns.insert(out.insns.end(), n.extra.begin(), n.extra.end());
	}

	// line_info must stay strictly increasing: when deletions fold entries
	// onto one instruction, the last one (which describes it) wins.
	for (LineInfo li : line_info_) {
		auto t = slot_for(li.insn_off, "line_info");
		if (!t)
			return t.error();
		li.insn_off = static_cast<uint32_t>(*t);
		if (!out.line_info.empty() && out.line_info.back().insn_off == li.insn_off)
			out.line_info.back() = li;
		else
			out.line_info.push_back(li);
	}
	for (FuncInfo fi : func_info_) {
		auto t = slot_for(fi.insn_off, "func_info");
		if (!t)
			return t.error();
		if (!out.func_info.empty() && out.func_info.back().insn_off == *t)
			return make_error(
			        EINVAL,
			        fmt::format("subprogram at insn {} would be empty", fi.insn_off));
		fi.insn_off = static_cast<uint32_t>(*t);
		out.func_info.push_back(fi);
	}
	return out;
}

} // namespace rejit
