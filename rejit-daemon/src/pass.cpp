// SPDX-License-Identifier: GPL-2.0
#include "rejit/pass.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "passes/passes.hpp"

namespace rejit {

size_t PassReport::changed() const {
	return std::count_if(sites.begin(), sites.end(), [](const Site &s) { return s.changed; });
}

size_t Optimized::changed() const {
	size_t n = 0;
	for (const PassReport &r : reports)
		n += r.changed();
	return n;
}

std::vector<std::unique_ptr<Pass>> all_passes() {
	std::vector<std::unique_ptr<Pass>> v;
	v.push_back(make_layout_pass()); // first: the profile names original code
	v.push_back(make_wide_load_pass());
	v.push_back(make_wide_store_pass());
	v.push_back(make_zext_pass());
	v.push_back(make_const_fold_pass());
	v.push_back(make_rotate_pass());
	v.push_back(make_bextr_pass());
	v.push_back(make_select_pass());
	v.push_back(make_popcount_pass());
	v.push_back(make_crc_pass());
	v.push_back(make_be_load_pass()); // after wide-load, which makes load + swap pairs
	v.push_back(make_dce_pass());
	return v;
}

Result<std::vector<std::unique_ptr<Pass>>> passes_by_name(std::string_view list,
                                                          const PassEnv *env) {
	auto known = all_passes();
	if (list == "all") {
		if (env && env->kinsns.empty())
			std::erase_if(known, [](const auto &p) { return p->needs_kinsns(); });
		return known;
	}
	std::vector<std::unique_ptr<Pass>> picked;
	while (!list.empty()) {
		const size_t comma = list.find(',');
		const std::string_view name = list.substr(0, comma);
		list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
		auto it = std::find_if(known.begin(), known.end(),
		                       [&](const auto &p) { return p && p->name() == name; });
		if (it == known.end()) {
			std::string names;
			for (const auto &p : all_passes())
				names += fmt::format(" {}", p->name());
			return make_error(EINVAL,
			                  fmt::format("unknown pass '{}' (known:{})", name, names));
		}
		picked.push_back(std::move(*it));
	}
	return picked;
}

Optimized run_passes(const Program &in, const std::vector<std::unique_ptr<Pass>> &passes,
                     const PassEnv &env) {
	Optimized o{in, {}};
	bind_kinsns(o.prog.insns, env.kinsns);
	for (const auto &pass : passes) {
		PassReport rep{std::string(pass->name()), {}, slot_count(o.prog.insns), 0};
		std::vector<size_t> slot_of; // sites are reported at slots, as bpftool shows
		for (size_t i = 0, slot = 0; i < o.prog.insns.size();
		     slot += o.prog.insns[i++].slots())
			slot_of.push_back(slot);
		auto apply = [&]() -> Result<Program> {
			auto rw =
			        Rewriter::create(o.prog.insns, o.prog.line_info, o.prog.func_info);
			if (!rw)
				return rw.error();
			if (auto r = pass->run(*rw, env, rep.sites); !r)
				return r.error();
			return rw->finish();
		};
		auto out = apply();
		for (Site &s : rep.sites)
			s.insn = s.insn < slot_of.size() ? slot_of[s.insn] : s.insn;
		if (out) {
			o.prog = std::move(out).value();
		} else {
			// All or nothing per pass: drop its edits, say why.
			for (Site &s : rep.sites)
				s.changed = false;
			rep.sites.push_back({0, false, "pass abandoned: " + out.error().str()});
		}
		rep.insns_after = slot_count(o.prog.insns);
		o.reports.push_back(std::move(rep));
	}
	return o;
}

std::string explain(const Optimized &o, bool with_skipped) {
	std::string s;
	for (const PassReport &r : o.reports) {
		s += fmt::format("pass {}: {} changed, {} skipped, insns {} -> {}\n", r.pass,
		                 r.changed(), r.skipped(), r.insns_before, r.insns_after);
		for (const Site &site : r.sites)
			if (site.changed || with_skipped)
				s += fmt::format("  {:>5} {} {}\n", site.insn,
				                 site.changed ? "changed" : "skipped", site.what);
	}
	return s;
}

} // namespace rejit
