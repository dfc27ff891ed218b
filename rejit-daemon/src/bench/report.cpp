// SPDX-License-Identifier: GPL-2.0
#include "bench/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <sys/utsname.h>

#include <fmt/format.h>

#include "bench/collect.hpp"

namespace rejit::bench {
namespace {

std::string show(const RunResult &r) {
	return fmt::format("retval {} result {:#x}", r.retval, r.result);
}

std::string first_line(const std::string &s) {
	return s.substr(0, s.find('\n'));
}

// Compare one tier's results with the expected ones, input by input.
void check(Row &row, const std::string &tier, const std::vector<RunResult> &got,
           const std::vector<RunResult> &want) {
	if (got.size() != want.size()) {
		row.mismatches.push_back(
		        fmt::format("{}: {} results for {} inputs", tier, got.size(), want.size()));
		return;
	}
	for (size_t i = 0; i < got.size(); i++)
		if (got[i] != want[i]) {
			row.mismatches.push_back(fmt::format("{}, input {}: {}, expected {}", tier,
			                                     i, show(got[i]), show(want[i])));
			return; // the first one says enough
		}
}

// Run an image on every input under the replay's guard; nullopt if it is
// refused (the reason goes to row.refused).
std::optional<std::vector<RunResult>> replay_results(Row &row, const Dump &d, const ProgDump &p,
                                                     const Image &img, const Image *redirect_from,
                                                     const std::string &tier) {
	auto rp = Replay::make(d, p, img, 0, redirect_from);
	if (!rp) {
		row.refused.push_back(fmt::format("{}: {}", tier, rp.error().msg));
		return std::nullopt;
	}
	std::vector<RunResult> rs;
	if (p.inputs.empty())
		return rs;
	// one mapping for all inputs, as time_replay() runs them
	auto pk = Packets::make(d.ctx, p.kind, p.inputs);
	if (!pk) {
		row.mismatches.push_back(fmt::format("{}, input 0: {}", tier, pk.error().msg));
		return std::nullopt;
	}
	for (size_t i = 0; i < p.inputs.size(); i++) {
		auto r = rp->run(*pk, i);
		if (!r) {
			row.mismatches.push_back(
			        fmt::format("{}, input {}: {}", tier, i, r.error().msg));
			return std::nullopt;
		}
		rs.push_back(*r);
	}
	return rs;
}

Row evaluate_one(const Dump &d, const ProgDump &p, const NativeLib *native,
                 const std::string &host_problem, const ReportOptions &o) {
	Row row;
	row.name = p.name;
	row.kind = p.kind;
	row.passes = p.passes;
	if (!p.refused.empty()) {
		row.refused.push_back("not dumped: " + first_line(p.refused));
		return row;
	}
	row.insns_stock = p.stock.xlated_insns();
	row.insns_rejit = p.rejit.xlated_insns();
	row.jited_stock = p.stock.code.size();
	row.jited_rejit = p.rejit.code.size();
	if (!p.rejit_error.empty())
		row.refused.push_back("re-JIT refused by the kernel (stock image kept): " +
		                      first_line(p.rejit_error));

	std::vector<RunResult> want;
	const NativeLib::Bench *nb = native ? native->find(p.name) : nullptr;
	if (nb && nb->kind != p.kind) {
		row.mismatches.push_back(fmt::format("the native build is {}, the object {}",
		                                     kind_name(nb->kind), kind_name(p.kind)));
		nb = nullptr;
	}
	auto rs = replay_results(row, d, p, p.stock, nullptr, "replay stock");
	auto rr = rs ? replay_results(row, d, p, p.rejit, &p.stock, "replay re-JIT") : std::nullopt;
	std::optional<HostTier> h;
	if (!host_problem.empty()) {
		row.refused.push_back("host tier: not available: " + host_problem);
	} else if (!o.host_tier) {
		row.refused.push_back("host tier: off (--no-host-tier)");
	} else if (auto t = host_tier(p, o.host); !t) {
		row.refused.push_back("host tier: " + first_line(error_text(t.error())));
	} else {
		h = std::move(t).value();
		row.ns_host_stock = h->ns_stock;
		row.ns_host_rejit = h->ns_rejit;
		row.host_lo = h->ratio_lo;
		row.host_hi = h->ratio_hi;
	}
	if (!p.kernel_run_problem.empty())
		row.refused.push_back("kernel test run: " + p.kernel_run_problem);
	const bool kernel_ran = p.kernel_run_problem.empty();

	// Expected: the native build's results, else what the stock image
	// computes: in the patched kernel, else (no kernel run, see
	// kernel_run_problem) in the replay or on the host kernel.
	if (nb) {
		row.expected_from = "native";
		for (const auto &in : p.inputs)
			want.push_back(NativeLib::run(*nb, in));
	} else if (kernel_ran) {
		row.expected_from = "stock kernel run";
		want = p.kernel_stock;
	} else if (rs) {
		row.expected_from = "stock replay";
		want = *rs;
	} else if (h) {
		row.expected_from = "stock on the host kernel";
		want = h->stock;
	} else {
		row.refused.push_back("no tier ran: nothing to check");
		return row;
	}
	if (kernel_ran) {
		check(row, "kernel stock", p.kernel_stock, want);
		check(row, "kernel re-JIT", p.kernel_rejit, want);
	}
	if (rs)
		check(row, "replay stock", *rs, want);
	if (rr)
		check(row, "replay re-JIT", *rr, want);
	if (h) {
		check(row, "host kernel, original bytecode", h->stock, want);
		check(row, "host kernel, rewrite without kinsns", h->rejit, want);
	}
	// time only code that computes the right thing
	if (rs && rr && row.mismatches.empty()) {
		auto t = time_replay(d, p, nb ? native : nullptr, o.timing);
		if (!t) {
			row.refused.push_back("replay timing: " + t.error().str());
		} else {
			auto val = [](double v) {
				return std::isnan(v) ? std::nullopt : std::optional<double>(v);
			};
			row.ns_stock = val(t->ns_stock);
			row.ns_rejit = val(t->ns_rejit);
			row.ns_native = val(t->ns_native);
			row.ratio = val(t->ratio);
			row.ratio_lo = val(t->ratio_lo);
			row.ratio_hi = val(t->ratio_hi);
			row.ratio_native = val(t->ratio_native);
		}
	}
	// at least the expected results' tier ran
	row.results_agree = row.mismatches.empty();
	return row;
}

std::string host_kernel() {
	utsname u{};
	uname(&u);
	return u.release;
}

double geomean(const std::vector<double> &v) {
	double s = 0;
	for (double x : v)
		s += std::log(x);
	return v.empty() ? NAN : std::exp(s / double(v.size()));
}

std::string opt_ns(const std::optional<double> &v) {
	if (!v)
		return "-";
	return *v < 10 ? fmt::format("{:.2f}", *v) : fmt::format("{:.1f}", *v);
}

std::string opt_x(const std::optional<double> &v) {
	return v ? fmt::format("{:.2f}x", *v) : "-";
}

std::string passes_str(const Row &r) {
	std::string s;
	for (const auto &[name, sites] : r.passes)
		s += fmt::format("{}{} {}", s.empty() ? "" : ", ", name, sites);
	return s.empty() ? "-" : s;
}

// Geomean line over the rows `pick` selects (all included rows, or those a
// pass changed).
std::vector<std::string> geomean_cells(const std::vector<Row> &rows, bool changed_only, size_t &n) {
	std::vector<double> ratio, native, host, bytes, insns;
	n = 0;
	for (const Row &r : rows) {
		if (!r.included() || (changed_only && r.passes.empty()))
			continue;
		n++;
		ratio.push_back(*r.ratio);
		if (r.ratio_native)
			native.push_back(*r.ratio_native);
		if (r.ns_host_stock && r.ns_host_rejit && *r.ns_host_rejit > 0)
			host.push_back(*r.ns_host_stock / *r.ns_host_rejit);
		if (r.jited_stock)
			bytes.push_back(double(r.jited_rejit) / double(r.jited_stock));
		if (r.insns_stock)
			insns.push_back(double(r.insns_rejit) / double(r.insns_stock));
	}
	auto g = [](const std::vector<double> &v, const char *fmtstr) -> std::string {
		return v.empty() ? "-" : fmt::format(fmt::runtime(fmtstr), geomean(v), v.size());
	};
	return {g(insns, "x{:.3f}"),       g(bytes, "x{:.3f}"),    "", "", "", g(ratio, "{:.3f}x"),
	        g(native, "{:.2f}x ({})"), g(host, "{:.3f}x ({})")};
}

} // namespace

std::vector<Row> evaluate(const Dump &d, const NativeLib *native, const std::string &host_problem,
                          const ReportOptions &o) {
	std::vector<Row> rows;
	for (size_t i = 0; i < d.progs.size(); i++) {
		const ProgDump &p = d.progs[i];
		fmt::print(stderr, "[{}/{}] {}\n", i + 1, d.progs.size(), p.name);
		rows.push_back(evaluate_one(d, p, native, host_problem, o));
	}
	return rows;
}

std::string table(const Dump &d, const std::vector<Row> &rows, const std::string &host_problem) {
	const std::vector<std::string> head = {"benchmark",     "type",
	                                       "insns s>r",     "JIT bytes s>r",
	                                       "ns stock",      "ns re-JIT",
	                                       "ns clang",      "stock/re-JIT [lo-hi]",
	                                       "re-JIT/clang",  "host s/r [lo-hi]",
	                                       "passes (sites)"};
	std::vector<std::vector<std::string>> cells;
	for (const Row &r : rows) {
		std::string ratio = opt_x(r.ratio);
		if (r.ratio && r.ratio_lo && r.ratio_hi)
			ratio += fmt::format(" [{:.2f}-{:.2f}]", *r.ratio_lo, *r.ratio_hi);
		std::string host = "-";
		if (r.ns_host_stock && r.ns_host_rejit && *r.ns_host_rejit > 0) {
			host = fmt::format("{:.2f}x", *r.ns_host_stock / *r.ns_host_rejit);
			if (r.host_lo && r.host_hi)
				host += fmt::format(" [{:.2f}-{:.2f}]", *r.host_lo, *r.host_hi);
		}
		const bool dumped = r.jited_stock != 0;
		cells.push_back({r.name + (r.included() ? "" : " *"),
		                 std::string(kind_name(r.kind)),
		                 dumped ? fmt::format("{}>{}", r.insns_stock, r.insns_rejit) : "-",
		                 dumped ? fmt::format("{}>{}", r.jited_stock, r.jited_rejit) : "-",
		                 opt_ns(r.ns_stock), opt_ns(r.ns_rejit), opt_ns(r.ns_native), ratio,
		                 opt_x(r.ratio_native), host, passes_str(r)});
	}
	size_t n_all = 0, n_changed = 0;
	auto g_all = geomean_cells(rows, false, n_all);
	auto g_changed = geomean_cells(rows, true, n_changed);
	auto geo_row = [](std::string label, const std::vector<std::string> &g) {
		std::vector<std::string> c = {std::move(label), ""};
		c.insert(c.end(), g.begin(), g.end());
		c.push_back("");
		return c;
	};
	const size_t n_rows = cells.size();
	cells.push_back(geo_row(fmt::format("geomean, {} rows", n_all), g_all));
	cells.push_back(geo_row(fmt::format("geomean, {} changed", n_changed), g_changed));

	std::vector<size_t> w(head.size());
	for (size_t c = 0; c < head.size(); c++) {
		w[c] = head[c].size();
		for (const auto &row : cells)
			w[c] = std::max(w[c], row[c].size());
	}
	std::string out;
	out += fmt::format("Micro benchmarks, {} programs.\n", rows.size());
	out += fmt::format("  replay tier: JIT images of the patched kernel {} (stock = as loaded, "
	                   "re-JIT = after bpfrejitd's passes with the kinsn modules, entered "
	                   "through the stock entry's redirect jump) run in user space on the "
	                   "host CPU, {}\n",
	                   d.kernel, cpu_model());
	out += "  clang: the same C built with clang -O2 -march=native, same harness\n";
	out += host_problem.empty()
	               ? fmt::format("  host tier: host kernel {} (its own JIT), "
	                             "BPF_PROG_TEST_RUN ns/run, original bytecode / rewrite "
	                             "without kinsns\n",
	                             host_kernel())
	               : fmt::format("  host tier: not available: {}\n", host_problem);
	out += "  ratios > 1: re-JIT faster; x: re-JIT / stock size; * = left out of the "
	       "geomeans (see below)\n\n";
	auto line = [&](const std::vector<std::string> &row) {
		std::string l;
		for (size_t c = 0; c < row.size(); c++) {
			const bool left = c < 2 || c + 1 == row.size();
			l += left ? fmt::format("{:<{}}", row[c], w[c])
			          : fmt::format("{:>{}}", row[c], w[c]);
			l += c + 1 == row.size() ? "" : "  ";
		}
		while (!l.empty() && l.back() == ' ')
			l.pop_back();
		return l + "\n";
	};
	out += line(head);
	size_t total = 0;
	for (size_t x : w)
		total += x + 2;
	const std::string rule(std::min<size_t>(total, 200), '-');
	out += rule + "\n";
	for (size_t i = 0; i < cells.size(); i++) {
		if (i == n_rows)
			out += rule + "\n";
		out += line(cells[i]);
	}
	// why rows are out, then what did not run
	std::string notes;
	for (const Row &r : rows) {
		for (const auto &m : r.mismatches)
			notes += fmt::format("  MISMATCH {}: {} (expected: {})\n", r.name, m,
			                     r.expected_from);
		if (r.results_agree && !r.ratio)
			notes += fmt::format("  {}: no replay-tier figure\n", r.name);
	}
	std::string refusals;
	for (const Row &r : rows)
		for (const auto &why : r.refused)
			if (!host_problem.empty() && why.starts_with("host tier: not available"))
				continue; // said once in the header
			else
				refusals += fmt::format("  {}: {}\n", r.name, why);
	if (!notes.empty())
		out += "\nLeft out of the geomeans:\n" + notes;
	if (!refusals.empty())
		out += "\nNot run:\n" + refusals;
	return out;
}

nlohmann::json rows_json(const std::vector<Row> &rows) {
	auto opt = [](const std::optional<double> &v) -> nlohmann::json {
		return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
	};
	nlohmann::json a = nlohmann::json::array();
	for (const Row &r : rows) {
		nlohmann::json passes = nlohmann::json::array();
		for (const auto &[name, sites] : r.passes)
			passes.push_back(name);
		std::string refused;
		for (const auto &why : r.refused)
			refused += (refused.empty() ? "" : "; ") + why;
		a.push_back({{"name", r.name},
		             {"type", kind_name(r.kind)},
		             {"passes", passes},
		             {"insns_stock", r.insns_stock},
		             {"insns_rejit", r.insns_rejit},
		             {"jited_stock", r.jited_stock},
		             {"jited_rejit", r.jited_rejit},
		             {"ns_stock", opt(r.ns_stock)},
		             {"ns_rejit", opt(r.ns_rejit)},
		             {"ns_native", opt(r.ns_native)},
		             {"ns_host_stock", opt(r.ns_host_stock)},
		             {"ns_host_rejit", opt(r.ns_host_rejit)},
		             {"results_agree", r.results_agree},
		             {"refused", refused.empty() ? nlohmann::json(nullptr)
		                                         : nlohmann::json(refused)}});
	}
	return a;
}

} // namespace rejit::bench
