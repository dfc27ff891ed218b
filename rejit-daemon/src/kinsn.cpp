// SPDX-License-Identifier: GPL-2.0
#include "rejit/kinsn.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "kinsn_defs.h"
#include "rejit/rewriter.hpp"

namespace rejit {
namespace {

constexpr size_t kForms = sizeof(kinsn_op_defs) / sizeof(kinsn_op_defs[0]);

const std::array<std::string_view, kForms> &form_names() {
	static const auto names = [] {
		std::array<std::string_view, kForms> n{};
		for (size_t i = 0; i < kForms; i++)
			n[i] = kinsn_op_defs[i].name;
		return n;
	}();
	return names;
}

const kinsn_op_def *def_of(const Insn &in) {
	if (!in.is_kinsn() || in.form == 0 || in.form > kForms)
		return nullptr;
	return &kinsn_op_defs[in.form - 1];
}

} // namespace

const KinsnRef *native_operand_form(const KinsnMap &kinsns, std::string_view name) {
	const auto it = kinsns.find(name);
	return it != kinsns.end() && it->second.operand && it->second.native ? &it->second
	                                                                     : nullptr;
}

std::span<const std::string_view> kinsn_forms() {
	return form_names();
}

uint8_t kinsn_form(std::string_view name) {
	const auto &n = form_names();
	auto it = std::find(n.begin(), n.end(), name);
	return it == n.end() ? 0 : uint8_t(it - n.begin() + 1);
}

std::string_view kinsn_form_name(const Insn &in) {
	const kinsn_op_def *d = def_of(in);
	return d ? std::string_view(d->name) : std::string_view();
}

Insn make_kinsn(std::string_view name, const KinsnRef &ref, KinsnOperands op) {
	Insn in{BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, ref.off, ref.btf_id};
	in.op = op;
	in.form = kinsn_form(name);
	return in;
}

std::optional<KinsnExpansion> kinsn_expand(const Insn &in) {
	const kinsn_op_def *d = def_of(in);
	if (!d)
		return std::nullopt;
	bpf_insn op{};
	op.dst_reg = in.op.dst & 0xf;
	op.src_reg = in.op.src & 0xf;
	op.off = in.op.off;
	op.imm = in.op.imm;
	std::array<bpf_insn, KINSN_OP_MAX> out{};
	u16 clobber = 0;
	const int n = d->expand(&op, out.data(), &clobber);
	if (n < 0 || n > KINSN_OP_MAX)
		return std::nullopt;
	KinsnExpansion e;
	e.clobber = clobber;
	for (int i = 0; i < n; i++) {
		const bpf_insn &r = out[size_t(i)];
		e.insns.push_back({r.code, r.dst_reg, r.src_reg, r.off, r.imm});
	}
	return e;
}

bool kinsn_is_pure(const Insn &in) {
	auto e = kinsn_expand(in);
	if (!e)
		return false;
	const size_t n = e->insns.size();
	for (size_t i = 0; i < n; i++) {
		const Insn &x = e->insns[i];
		if (!check(x).empty())
			return false;
		if (x.cls() == BPF_ALU || x.cls() == BPF_ALU64)
			continue;
		if (!kinsn_seq_branch(x) || x.off < 0 || i + size_t(x.off) + 1 > n)
			return false; // only forward jumps inside the sequence
	}
	return true;
}

bool kinsn_seq_branch(const Insn &x) {
	return is_cond_jump(x);
}

void bind_kinsns(std::span<Insn> insns, const KinsnMap &kinsns) {
	for (Insn &in : insns) {
		if (!in.is_kinsn() || in.form)
			continue;
		uint8_t form = 0;
		unsigned matches = 0;
		for (const auto &[name, ref] : kinsns)
			if (ref.btf_id == in.imm && ref.off == in.off) {
				matches++;
				form = kinsn_form(name);
			}
		if (matches == 1) // ambiguous placeholders stay unknown
			in.form = form;
	}
}

std::map<std::string, int16_t> kinsn_btf_slots(std::span<const Insn> orig, size_t nmaps,
                                               const std::vector<std::string> &modules) {
	std::set<int64_t> used;
	for (const Insn &in : orig)
		if (in.code == (BPF_JMP | BPF_CALL) &&
		    (in.src == BPF_PSEUDO_KFUNC_CALL || in.src == BPF_PSEUDO_KINSN_CALL))
			used.insert(in.off);
	std::vector<std::string> sorted(modules);
	std::sort(sorted.begin(), sorted.end());
	sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
	std::map<std::string, int16_t> slots;
	int64_t next = std::max<int64_t>(1, int64_t(nmaps));
	for (const std::string &m : sorted) {
		while (used.contains(next))
			next++;
		if (next > INT16_MAX)
			break; // no index left: those modules get none
		slots[m] = int16_t(next++);
	}
	return slots;
}

} // namespace rejit
