// SPDX-License-Identifier: GPL-2.0
// bpfrejit: command-line client of bpfrejitd, and offline optimiser.
//
//   bpfrejit [-s SOCKET] [-j] status | list | profile ID | explain ID
//                              | optimize ID | rollback ID
//   bpfrejit opt OBJECT|BYTECODE [prog NAME] [passes LIST] [kinsns LIST]
//                [out FILE] [dump]                   (no daemon needed)
//   bpfrejit shadow ID [bytecode FILE | passes LIST] [inputs N] [rejit]
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rejit/fd.hpp"
#include "rejit/insn.hpp"
#include "rejit/kinsn.hpp"
#include "rejit/live.hpp"
#include "rejit/object.hpp"
#include "rejit/pass.hpp"
#include "rejit/shadow.hpp"

namespace {

using json = nlohmann::json;

int fail(const std::string &msg) {
	fmt::print(stderr, "bpfrejit: {}\n", msg);
	return 1;
}

int usage(int code) {
	fmt::print(code ? stderr : stdout,
	           "usage: bpfrejit [-s SOCKET] [-j] {{status | list | profile ID | explain ID |\n"
	           "                                  optimize ID | rollback ID}}\n"
	           "       bpfrejit opt OBJECT|BYTECODE [prog NAME] [passes LIST] [kinsns LIST]\n"
	           "                    [out FILE] [dump]\n"
	           "       bpfrejit shadow ID [bytecode FILE | passes LIST] [inputs N] [rejit]\n"
	           "\n"
	           "opt runs the passes (LIST: comma-separated, default all; \"\" none) over\n"
	           "the programs of a BPF ELF object, each as libbpf loads it (with the\n"
	           "subprograms it calls, relocated; .rodata is map 0, other maps 1), or over\n"
	           "raw bytecode (struct bpf_insn records, as 'bpftool prog dump orig PROG\n"
	           "file FILE' writes them), offline. out FILE writes the one program's new\n"
	           "bytecode there, raw, for 'bpftool prog rejit PROG bytecode FILE'.\n"
	           "kinsns LIST (e.g. rol64,rol32, or all) pretends those kinsns exist with\n"
	           "native operand forms (BTF id 0, fd_array index 1 placeholders), to see\n"
	           "what passes that need them (rotate) would do.\n"
	           "dump lists each program's instructions before and after.\n"
	           "\n"
	           "shadow runs the daemon's shadow check on live program ID (no daemon\n"
	           "needed): standalone copies of its original bytecode and of new code (the\n"
	           "passes' output, or raw bytecode FILE) run N generated packets (default\n"
	           "64) on copies of its maps and are compared. rejit then re-JITs the\n"
	           "program with the new code unless it behaved differently. Exit status 0:\n"
	           "same, 1: different (or an error), 3: not checked (says why).\n");
	return code;
}

rejit::Result<json> request(const std::string &sock, const json &req) {
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (sock.size() >= sizeof(addr.sun_path))
		return rejit::make_error(ENAMETOOLONG, sock);
	std::memcpy(addr.sun_path, sock.c_str(), sock.size());
	rejit::Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd || connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)))
		return rejit::make_error(errno, fmt::format("connecting to bpfrejitd at {} (is it "
		                                            "running?)",
		                                            sock));
	const std::string line = req.dump() + "\n";
	if (write(fd.get(), line.data(), line.size()) != ssize_t(line.size()))
		return rejit::make_error(errno, "sending request");
	std::string resp;
	char buf[4096];
	for (ssize_t n; (n = read(fd.get(), buf, sizeof(buf))) > 0;)
		resp.append(buf, size_t(n));
	auto j = json::parse(resp, nullptr, false);
	if (j.is_discarded())
		return rejit::make_error(EPROTO, "bpfrejitd sent something that is not JSON");
	return j;
}

void print_list(const json &progs) {
	constexpr auto row = "{:>5} {:<16} {:<14} {:<11} {:>10} {:>10} {:>10} {:>7} {:>7} {:>11} "
	                     "{:>11} {:<11}  {}\n";
	fmt::print(row, "id", "name", "type", "state", "runs", "ns/run-old", "ns/run-new",
	           "speedup", "instr", "insns", "jited", "shadow", "passes");
	for (const json &p : progs) {
		auto ns = [&](const char *k) { return fmt::format("{:.0f}", p[k].get<double>()); };
		auto pair = [&](const char *a, const char *b) {
			return p[a].get<unsigned>() ? fmt::format("{}->{}", p[a].get<unsigned>(),
			                                          p[b].get<unsigned>())
			                            : std::string("-");
		};
		// the verdict's first words: same, different, not checked, off
		auto verdict = [](const json &p) {
			const std::string v = p.value("shadow", "");
			return v.empty() ? std::string("-") : v.substr(0, v.find(':'));
		};
		auto ratio = [&](const char *k) {
			const double x = p[k].get<double>();
			return x ? fmt::format("{:.2f}x", x) : std::string("-");
		};
		fmt::print(row, p["id"].get<unsigned>(), p["name"].get<std::string>(),
		           p["type"].get<std::string>(), p["state"].get<std::string>(),
		           p["runs"].get<uint64_t>(), ns("ns_per_run_before"),
		           ns("ns_per_run_after"), ratio("speedup"),
		           ratio("instrumentation_overhead"), pair("insns_before", "insns_after"),
		           pair("jited_before", "jited_after"), verdict(p),
		           p["passes"].get<std::string>());
	}
}

void print_program(const json &p) {
	for (const auto &[k, v] : p.items())
		if (k != "explain")
			fmt::print("{:<18} {}\n", k,
			           v.is_string() ? v.get<std::string>() : v.dump());
	if (p.contains("explain") && !p["explain"].get<std::string>().empty())
		fmt::print("\n{}", p["explain"].get<std::string>());
}

int client(const std::string &sock, bool as_json, const std::vector<std::string> &args) {
	json req{{"cmd", args[0]}};
	if (args.size() == 2) {
		char *end = nullptr;
		const unsigned long id = std::strtoul(args[1].c_str(), &end, 10);
		if (*end || args[1].empty())
			return fail(fmt::format("{}: program id must be a number, not '{}'",
			                        args[0], args[1]));
		req["id"] = id;
	} else if (args.size() > 2) {
		return usage(2);
	}
	auto resp = request(sock, req);
	if (!resp)
		return fail(resp.error().str());
	if (as_json) {
		fmt::print("{}\n", resp->dump(2));
		return (*resp)["ok"] == true ? 0 : 1;
	}
	if ((*resp)["ok"] != true && resp->contains("error"))
		return fail((*resp)["error"].get<std::string>());
	if (args[0] == "list")
		print_list((*resp)["programs"]);
	else if (resp->contains("program"))
		print_program((*resp)["program"]);
	else
		for (const auto &[k, v] : resp->items())
			fmt::print("{:<10} {}\n", k,
			           v.is_string() ? v.get<std::string>() : v.dump());
	return (*resp)["ok"] == true ? 0 : 1;
}

// "rol64,rol32" or "all": kinsns with placeholder BTF id and fd_array index.
rejit::Result<rejit::KinsnMap> pretend_kinsns(std::string_view list) {
	rejit::KinsnMap m;
	while (!list.empty()) {
		const size_t comma = list.find(',');
		std::string name(list.substr(0, comma));
		list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
		if (name == "all") {
			for (std::string_view f : rejit::kinsn_forms())
				m[std::string(f)] = {0, 1, true, true};
			continue;
		}
		if (!name.starts_with("bpf_"))
			name = "bpf_" + name;
		if (!rejit::kinsn_form(name)) {
			std::string known;
			for (std::string_view f : rejit::kinsn_forms())
				known += fmt::format(" {}", f.substr(4));
			return rejit::make_error(EINVAL, fmt::format("kinsns: no operand form {} "
			                                             "(known:{})",
			                                             name, known));
		}
		m[name] = {0, 1, true, true};
	}
	return m;
}

// Raw bytecode: a whole number of instructions, nothing else known (no
// map contents, so const-fold folds arithmetic only).
rejit::Result<std::vector<rejit::ObjectProgram>> raw_program(const std::string &path,
                                                             const std::string &bytes) {
	if (bytes.empty() || bytes.size() % sizeof(bpf_insn))
		return rejit::make_error(EINVAL,
		                         fmt::format("{}: not an ELF object, and {} bytes are "
		                                     "not whole instructions",
		                                     path, bytes.size()));
	std::vector<bpf_insn> raw(bytes.size() / sizeof(bpf_insn));
	std::memcpy(raw.data(), bytes.data(), bytes.size());
	auto insns = rejit::decode(raw);
	if (!insns)
		return rejit::make_error(EINVAL, fmt::format("{}: {}", path, insns.error().msg));
	rejit::Program p;
	p.insns = std::move(insns).value();
	std::vector<rejit::ObjectProgram> progs;
	progs.push_back({"bytecode", path, std::move(p), {}});
	return progs;
}

rejit::Result<std::vector<rejit::ObjectProgram>> programs_in(const std::string &path) {
	std::ifstream f(path, std::ios::binary);
	if (!f)
		return rejit::make_error(errno, "opening " + path);
	const std::string bytes{std::istreambuf_iterator<char>(f), {}};
	if (bytes.starts_with("\x7f"
	                      "ELF"))
		return rejit::object_programs(path);
	return raw_program(path, bytes);
}

rejit::Result<void> write_bytecode(const std::string &path, const rejit::Program &p) {
	const auto raw = rejit::encode(p.insns);
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	if (!f || !f.write(reinterpret_cast<const char *>(raw.data()),
	                   std::streamsize(raw.size() * sizeof(bpf_insn))))
		return rejit::make_error(errno, "writing " + path);
	return {};
}

// A listing by slot, as the kernel numbers instructions.
void print_insns(std::string_view what, const std::vector<rejit::Insn> &insns) {
	fmt::print("-- {}:\n", what);
	size_t slot = 0;
	for (const rejit::Insn &in : insns) {
		fmt::print("{:5}: {}\n", slot, rejit::disasm(in));
		slot += in.slots();
	}
}

// Offline: run the passes over the programs of a BPF ELF object or bytecode.
int optimize_object(const std::vector<std::string> &args) {
	std::string prog_name, pass_list = "all", out;
	rejit::KinsnMap kinsns;
	bool dump = false;
	for (size_t i = 2; i < args.size(); i += 2) {
		if (args[i] == "dump") {
			dump = true;
			i--;
		} else if (i + 1 == args.size()) {
			return usage(2);
		} else if (args[i] == "prog") {
			prog_name = args[i + 1];
		} else if (args[i] == "passes") {
			pass_list = args[i + 1];
		} else if (args[i] == "out") {
			out = args[i + 1];
		} else if (args[i] == "kinsns") {
			auto k = pretend_kinsns(args[i + 1]);
			if (!k)
				return fail(k.error().msg);
			kinsns = std::move(k).value();
		} else {
			return usage(2);
		}
	}
	auto passes = rejit::passes_by_name(pass_list);
	if (!passes)
		return fail(passes.error().msg);
	if (!out.empty() && !kinsns.empty())
		return fail("out: pretended kinsns have placeholder BTF ids; such code would not "
		            "load");
	auto progs = programs_in(args[1]);
	if (!progs)
		return fail(progs.error().str());
	if (!out.empty() && prog_name.empty() && progs->size() != 1)
		return fail(fmt::format("out: {} has {} programs; name one with prog NAME", args[1],
		                        progs->size()));
	int rc = 0, seen = 0;
	for (const rejit::ObjectProgram &op : *progs) {
		if (!prog_name.empty() && prog_name != op.name)
			continue;
		seen++;
		if (!op.prog) {
			rc = fail(fmt::format("{}: {}", op.name, op.prog.error().msg));
			continue;
		}
		rejit::PassEnv env = op.env;
		env.kinsns = kinsns;
		auto o = rejit::run_passes(*op.prog, *passes, env);
		fmt::print("== {} ({}): {} -> {} insns, {} sites changed\n{}", op.name, op.section,
		           rejit::slot_count(op.prog->insns), rejit::slot_count(o.prog.insns),
		           o.changed(), rejit::explain(o));
		if (dump) {
			print_insns("before", op.prog->insns);
			print_insns("after", o.prog.insns);
		}
		if (out.empty())
			continue;
		if (auto w = write_bytecode(out, o.prog); !w)
			return fail(w.error().str());
		fmt::print("wrote {} ({} insns)\n", out, rejit::slot_count(o.prog.insns));
	}
	if (!seen)
		return fail(prog_name.empty()
		                    ? fmt::format("{}: no programs", args[1])
		                    : fmt::format("{}: no program {}", args[1], prog_name));
	return rc;
}

// A whole positive number of at most `max`, or 0.
unsigned long number(const std::string &s, unsigned long max) {
	char *end = nullptr;
	const unsigned long n = std::strtoul(s.c_str(), &end, 10);
	return s.empty() || *end || n > max ? 0 : n;
}

// The daemon's shadow check on a live program, by hand.
int shadow(const std::vector<std::string> &args) {
	const unsigned long id = number(args[1], UINT32_MAX);
	if (!id)
		return fail(fmt::format("shadow: program id must be a number, not '{}'", args[1]));
	std::string file, pass_list;
	rejit::ShadowOptions opts;
	bool rejit = false;
	for (size_t i = 2; i < args.size(); i++) {
		if (args[i] == "rejit") {
			rejit = true;
		} else if (i + 1 == args.size()) {
			return usage(2);
		} else if (args[i] == "bytecode") {
			file = args[++i];
		} else if (args[i] == "passes") {
			pass_list = args[++i];
		} else if (args[i] == "inputs") {
			opts.inputs = unsigned(number(args[++i], 100'000));
			if (!opts.inputs)
				return fail("shadow: inputs must be 1 .. 100000");
		} else {
			return usage(2);
		}
	}
	if (!file.empty() && !pass_list.empty())
		return fail("shadow: bytecode FILE or passes LIST, not both");
	auto live = rejit::LiveProg::open(uint32_t(id));
	auto orig = live ? live->orig() : rejit::Result<rejit::Program>(live.error());
	if (!orig)
		return fail(orig.error().str());
	auto kinsns = rejit::Kinsns::discover();
	if (!kinsns)
		return fail(kinsns.error().str());
	rejit::Program code;
	if (!file.empty()) {
		auto progs = programs_in(file);
		if (!progs)
			return fail(progs.error().str());
		if (progs->size() != 1 || !progs->front().prog)
			return fail(
			        fmt::format("shadow: {}: want raw bytecode of one program", file));
		code = *progs->front().prog;
	} else {
		auto env = live->pass_env(&*kinsns);
		auto passes =
		        env ? rejit::passes_by_name(pass_list.empty() ? "all" : pass_list, &*env)
		            : decltype(rejit::passes_by_name(""))(env.error());
		if (!passes)
			return fail(passes.error().str());
		auto o = rejit::run_passes(*orig, *passes, *env);
		fmt::print("passes: {} sites changed, {} -> {} insns\n", o.changed(),
		           rejit::slot_count(orig->insns), rejit::slot_count(o.prog.insns));
		code = std::move(o.prog);
	}
	auto v = rejit::shadow_check(*live, *orig, code, &*kinsns, opts);
	if (!v)
		return fail(v.error().str());
	fmt::print("shadow check of prog {}: {}\n", id, v->str());
	if (v->kind == rejit::ShadowVerdict::Different) {
		if (rejit)
			fmt::print("not re-JITed\n");
		return 1;
	}
	if (rejit) {
		if (auto res = live->rejit(code, &*kinsns); !res)
			return fail(res.error().str());
		fmt::print("re-JITed\n");
	}
	return v->kind == rejit::ShadowVerdict::Same ? 0 : 3;
}

} // namespace

int main(int argc, char **argv) {
	std::string sock = "/run/bpfrejitd/bpfrejitd.sock";
	bool as_json = false;
	std::vector<std::string> args;
	for (int i = 1; i < argc; i++) {
		const std::string_view a = argv[i];
		if (a == "-s" && i + 1 < argc)
			sock = argv[++i];
		else if (a == "-j" || a == "--json")
			as_json = true;
		else if (a == "-h" || a == "--help")
			return usage(0);
		else
			args.emplace_back(a);
	}
	if (args.empty())
		return usage(2);
	if (args[0] == "opt" && args.size() >= 2)
		return optimize_object(args);
	if (args[0] == "shadow" && args.size() >= 2)
		return shadow(args);
	static const char *const with_id[] = {"profile", "explain", "optimize", "rollback"};
	const bool needs_id =
	        std::find(std::begin(with_id), std::end(with_id), args[0]) != std::end(with_id);
	if ((args[0] == "status" || args[0] == "list") && args.size() == 1)
		return client(sock, as_json, args);
	if (needs_id && args.size() == 2)
		return client(sock, as_json, args);
	return usage(2);
}
