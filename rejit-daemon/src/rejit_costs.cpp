// SPDX-License-Identifier: GPL-2.0
// rejit-costs: what re-JIT costs on the patched kernel (make bench runs it
// in the VM, vm-scripts/bench-costs.sh).
//
//   rejit-costs latency [--programs N] [--repeat R] [--max-insns M] OBJECT...
//   rejit-costs daemon --bpfrejitd PATH [--programs N,N...] [--seconds S]
//                      [--interval-ms MS]
//   rejit-costs stats [--repeat R] [--runs N]
//
// latency: BPF_PROG_REJIT against BPF_PROG_LOAD of the same bytecode. From
// the programs of OBJECTs that load alone, N of sizes spread evenly on a
// log scale up to M instructions (default 4096: verifying big programs
// takes minutes under TCG); each is loaded by libbpf, then its
// original bytecode (from the kernel) is loaded again as a new program with
// the attributes the live one needs (maps, BTF func_info, expected attach
// type, flags: LiveProg::load_attrs(), as the shadow check loads a copy)
// and re-JITed in place with the same bytecode, alternately, R times each
// after one warm-up (up to 50 while that takes under 1 s); medians of the
// syscalls alone. The re-JITed program must end up with the xlated and
// JITed sizes of the fresh load (same bytecode, same code): a difference
// is printed and the exit status is 1.
//
// daemon: bpfrejitd's CPU use (utime + stime from /proc/PID/stat) over S
// seconds while it watches N idle socket filters loaded here (after its
// start-up and first ticks), per N.
//
// stats: what run-time statistics (BPF_ENABLE_STATS, which bpfrejitd keeps
// on while it runs) cost a program per run: BPF_PROG_TEST_RUN ns/run of a
// small XDP program with them off and on, alternately, R rounds of N runs.
// Needs no BpfReJIT patch: make bench runs it on the host kernel too.
//
// All times are those of the machine it runs on: under QEMU/TCG guest time,
// not hardware time, which the output says; the ratios are what to read.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <cpuid.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/fd.hpp"
#include "rejit/live.hpp"
#include "rejit/object.hpp"
#include "rejit/testrun.hpp"

namespace {

using namespace rejit;
using Clock = std::chrono::steady_clock;

int usage() {
	fmt::print(stderr,
	           "usage: rejit-costs latency [--programs N] [--repeat R] [--max-insns M] "
	           "OBJECT...\n"
	           "       rejit-costs daemon --bpfrejitd PATH [--programs N,N...] [--seconds S] "
	           "[--interval-ms MS]\n"
	           "       rejit-costs stats [--repeat R] [--runs N]\n");
	return 2;
}

// A positive integer argument, or an error naming the option.
Result<long> positive(const std::string &opt, const char *s, long max) {
	char *end = nullptr;
	errno = 0;
	const long v = std::strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > max)
		return make_error(EINVAL,
		                  fmt::format("{} '{}': want an integer 1 .. {}", opt, s, max));
	return v;
}

double median(std::vector<double> v) {
	std::sort(v.begin(), v.end());
	const size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double us_since(Clock::time_point t0) {
	return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// Whose time the clock shows: under QEMU's TCG (CPUID hypervisor leaf
// "TCGTCGTCGTCG") emulated guest time, whose ratios hold but whose
// absolute times are QEMU's; under a hypervisor with hardware
// virtualisation (KVM, ...) the code runs on the CPU itself.
std::string time_base() {
	unsigned a, b, c, d;
	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31)))
		return "hardware time";
	__cpuid(0x40000000, a, b, c, d);
	char sig[13] = {};
	std::memcpy(sig, &b, 4), std::memcpy(sig + 4, &c, 4), std::memcpy(sig + 8, &d, 4);
	if (std::string_view(sig) == "TCGTCGTCGTCG")
		return "TCG guest time, not hardware time";
	return fmt::format("hardware time, in a '{}' guest", sig);
}

// ---- latency

struct Candidate {
	std::string path, name;
	size_t insns = 0; // main program, before libbpf appends subprograms
};

// Types whose standalone load needs nothing bpf_prog_info lacks (no
// attach BTF id or target program).
bool standalone_type(bpf_prog_type t) {
	return t != BPF_PROG_TYPE_TRACING && t != BPF_PROG_TYPE_EXT &&
	       t != BPF_PROG_TYPE_STRUCT_OPS && t != BPF_PROG_TYPE_LSM && t != BPF_PROG_TYPE_UNSPEC;
}

std::vector<Candidate> candidates(const std::vector<std::string> &paths, size_t max_insns) {
	std::vector<Candidate> c;
	for (const std::string &path : paths) {
		Object obj(bpf_object__open_file(path.c_str(), nullptr));
		if (!obj)
			continue;
		bpf_program *p;
		bpf_object__for_each_program(p, obj.get()) {
			const size_t n = bpf_program__insn_cnt(p);
			if (standalone_type(bpf_program__type(p)) && n && n <= max_insns)
				c.push_back({path, bpf_program__name(p), n});
		}
	}
	std::sort(c.begin(), c.end(),
	          [](const Candidate &a, const Candidate &b) { return a.insns < b.insns; });
	return c;
}

struct Latency {
	std::string name; // object:program
	uint32_t insns = 0, jited = 0;
	double load_us = 0, rejit_us = 0;
	size_t samples = 0;
	std::string check; // empty: the re-JITed program matches the fresh load
};

// Loads and re-JITs one program; an error means it is not measurable here
// (does not load alone, or the kernel cannot re-JIT its type).
Result<Latency> measure(const Candidate &c, int repeat) {
	auto l = load_alone(c.path, c.name);
	if (!l)
		return l.error();
	auto live = LiveProg::from_fd(bpf_program__fd(l->prog));
	if (!live)
		return live.error();
	auto orig = live->orig();
	auto maps = orig ? live->orig_maps() : Result<std::vector<Fd>>(orig.error());
	if (!maps)
		return maps.error();
	std::vector<int> map_fds;
	for (const Fd &m : *maps)
		map_fds.push_back(m.get());
	auto attrs = live->load_attrs(*orig, map_fds);
	if (!attrs)
		return attrs.error();
	bpf_prog_info pi{};
	__u32 len = sizeof(pi);
	if (bpf_prog_get_info_by_fd(live->fd(), &pi, &len))
		return make_error(errno, "BPF_OBJ_GET_INFO_BY_FD");
	const std::vector<bpf_insn> raw = encode(orig->insns);

	bpf_prog_load_opts lo{};
	lo.sz = sizeof(lo);
	lo.expected_attach_type = bpf_program__expected_attach_type(l->prog);
	lo.prog_flags = bpf_program__flags(l->prog);
	attrs->set(lo, *orig);
	bpf_prog_rejit_opts ro{};
	ro.sz = sizeof(ro);
	attrs->set(ro, *orig);
	const char *license = pi.gpl_compatible ? "GPL" : "Proprietary";
	const auto type = bpf_program__type(l->prog);

	Latency r;
	std::string obj = std::filesystem::path(c.path).filename();
	for (const char *ext : {".bpf.o", ".o"})
		if (obj.ends_with(ext)) {
			obj.resize(obj.size() - std::strlen(ext));
			break;
		}
	r.name = obj + ":" + c.name;
	std::vector<double> loads, rejits;
	Fd fresh; // the last fresh load, compared with the re-JITed program
	// At least `repeat` samples; small programs take microseconds, where
	// TCG's noise is large: up to 50 of them while that takes under 1 s.
	const auto start = Clock::now();
	for (int i = 0; i <= repeat || (i <= 50 && Clock::now() - start < std::chrono::seconds(1));
	     i++) {
		fresh.reset();
		auto t0 = Clock::now();
		Fd fd(bpf_prog_load(type, pi.name, license, raw.data(), raw.size(), &lo));
		const double load = us_since(t0);
		if (!fd)
			return make_error(errno,
			                  "standalone BPF_PROG_LOAD of the original bytecode");
		t0 = Clock::now();
		if (bpf_prog_rejit(live->fd(), raw.data(), raw.size(), &ro)) {
			const int err = errno;
			// again through librejit, for the verifier log in the message
			auto again = live->rejit(*orig);
			return make_error(err,
			                  again ? "BPF_PROG_REJIT failed once" : again.error().msg);
		}
		const double rejit = us_since(t0);
		fresh = std::move(fd);
		if (i == 0)
			continue; // warm-up: caches, first allocations
		loads.push_back(load);
		rejits.push_back(rejit);
	}
	r.samples = loads.size();
	r.load_us = median(loads);
	r.rejit_us = median(rejits);
	auto a = live->info();
	auto b = LiveProg::from_fd(fresh.get());
	auto bi = b ? b->info() : Result<ProgInfo>(b.error());
	if (!a || !bi)
		return make_error(EIO, "reading the sizes back");
	r.insns = a->xlated_insns;
	r.jited = a->jited_bytes;
	if (a->xlated_insns != bi->xlated_insns || a->jited_bytes != bi->jited_bytes)
		r.check = fmt::format("re-JITed {} insns {} bytes vs loaded {} insns {} bytes",
		                      a->xlated_insns, a->jited_bytes, bi->xlated_insns,
		                      bi->jited_bytes);
	return r;
}

int latency(const std::vector<std::string> &paths, int count, int repeat, size_t max_insns) {
	const auto cands = candidates(paths, max_insns);
	if (cands.empty()) {
		fmt::print(stderr,
		           "rejit-costs: no program of a standalone type with 1 .. {} "
		           "instructions in the objects\n",
		           max_insns);
		return 1;
	}
	fmt::print("BPF_PROG_REJIT vs BPF_PROG_LOAD of the same bytecode ({}; syscall only, "
	           "medians of n >= {} alternated samples)\n",
	           time_base(), repeat);
	fmt::print("{} candidates of {} .. {} insns (main program, as in the object)\n",
	           cands.size(), cands.front().insns, cands.back().insns);
	fmt::print("{:<40} {:>7} {:>7} {:>3} {:>10} {:>10} {:>11}\n", "object:program", "insns",
	           "jited", "n", "load us", "rejit us", "rejit/load");
	std::fflush(stdout);
	// Sizes spread on a log scale from the smallest to the largest
	// candidate; each target takes the nearest untried candidate that
	// loads and re-JITs. Rows print as they come: big programs take long
	// under TCG.
	const double lo = double(cands.front().insns), hi = double(cands.back().insns);
	std::vector<bool> tried(cands.size());
	size_t measured = 0, skipped = 0;
	int bad = 0;
	double log_ratio = 0;
	for (int k = 0; k < count; k++) {
		const double target =
		        count == 1 ? hi : lo * std::pow(hi / lo, double(k) / (count - 1));
		for (int attempt = 0; attempt < 8; attempt++) {
			size_t best = cands.size();
			for (size_t i = 0; i < cands.size(); i++)
				if (!tried[i] &&
				    (best == cands.size() ||
				     std::fabs(std::log(cands[i].insns / target)) <
				             std::fabs(std::log(cands[best].insns / target))))
					best = i;
			if (best == cands.size())
				break;
			tried[best] = true;
			auto m = measure(cands[best], repeat);
			if (!m) {
				skipped++;
				continue;
			}
			const Latency &r = *m;
			fmt::print("{:<40} {:>7} {:>7} {:>3} {:>10.0f} {:>10.0f} {:>11.2f}\n",
			           r.name.substr(0, 40), r.insns, r.jited, r.samples, r.load_us,
			           r.rejit_us, r.rejit_us / r.load_us);
			std::fflush(stdout);
			log_ratio += std::log(r.rejit_us / r.load_us);
			measured++;
			if (!r.check.empty()) {
				fmt::print("  {}: the re-JIT of the same bytecode differs: {}\n",
				           r.name, r.check);
				bad++;
			}
			break;
		}
	}
	if (measured)
		fmt::print("geomean rejit/load {:.2f} over {} programs ({} candidates skipped: not "
		           "loadable alone or not re-JITable)\n",
		           std::exp(log_ratio / measured), measured, skipped);
	else
		fmt::print("no program loaded alone and re-JITed ({} tried)\n", skipped);
	return bad || !measured ? 1 : 0;
}

// ---- daemon

// utime + stime of a process, in seconds.
Result<double> cpu_seconds(pid_t pid) {
	std::ifstream f(fmt::format("/proc/{}/stat", pid));
	std::string s((std::istreambuf_iterator<char>(f)), {});
	const size_t close = s.rfind(')');
	if (close == std::string::npos)
		return make_error(ESRCH, fmt::format("/proc/{}/stat: unreadable", pid));
	std::istringstream in(s.substr(close + 2));
	std::vector<std::string> fields;
	for (std::string w; in >> w;)
		fields.push_back(w);
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15
	if (fields.size() < 13)
		return make_error(EIO, fmt::format("/proc/{}/stat: too few fields", pid));
	return double(std::stoull(fields[11]) + std::stoull(fields[12])) / sysconf(_SC_CLK_TCK);
}

// A child process, killed and reaped when this goes out of scope.
class Child {
public:
	explicit Child(pid_t pid) : pid_(pid) {}
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;
	~Child() { stop(); }
	[[nodiscard]] pid_t pid() const { return pid_; }
	[[nodiscard]] bool running() const {
		return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0;
	}
	void stop() {
		if (pid_ <= 0)
			return;
		kill(pid_, SIGTERM);
		for (int i = 0; i < 100 && waitpid(pid_, nullptr, WNOHANG) == 0; i++)
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		if (kill(pid_, SIGKILL) == 0)
			waitpid(pid_, nullptr, 0);
		pid_ = -1;
	}

private:
	pid_t pid_;
};

std::string slurp(const std::string &path) {
	std::ifstream f(path);
	return {std::istreambuf_iterator<char>(f), {}};
}

struct DaemonRun {
	double cpu_s = 0, wall_s = 0, ticks = 0;
};

Result<DaemonRun> daemon_run(const std::string &bpfrejitd, size_t n, int seconds, int interval_ms,
                             const std::string &dir) {
	// N idle programs, as selftests' many_progs loads them
	const bpf_insn ret0[] = {{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
	                         {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
	std::vector<Fd> progs;
	for (size_t i = 0; i < n; i++) {
		progs.emplace_back(bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "costs_idle", "GPL",
		                                 ret0, 2, nullptr));
		if (!progs.back())
			return make_error(errno,
			                  fmt::format("loading idle program {} of {}", i + 1, n));
	}
	const std::string sock = dir + "/bpfrejitd.sock", log = dir + "/bpfrejitd.log";
	const std::string config = dir + "/bpfrejitd.json";
	std::ofstream(config) << fmt::format(R"({{"interval_ms": {}, "socket": "{}"}})",
	                                     interval_ms, sock)
	                      << "\n";
	unlink(sock.c_str());
	const pid_t pid = fork();
	if (pid < 0)
		return make_error(errno, "fork");
	if (pid == 0) {
		Fd out(open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
		dup2(out.get(), 2);
		execl(bpfrejitd.c_str(), bpfrejitd.c_str(), "--config", config.c_str(), nullptr);
		fmt::print(stderr, "exec {}: {}\n", bpfrejitd, strerror(errno));
		_exit(127);
	}
	Child d(pid);
	// Up once its socket exists; then let it adopt every program and tick
	// a few times, so that only the watching is measured.
	for (int i = 0; i < 600 && access(sock.c_str(), F_OK); i++) {
		if (!d.running())
			return make_error(ECHILD, "bpfrejitd exited: " + slurp(log));
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	if (access(sock.c_str(), F_OK))
		return make_error(ETIMEDOUT, "bpfrejitd did not come up in 30 s: " + slurp(log));
	std::this_thread::sleep_for(std::chrono::milliseconds(3 * interval_ms));
	auto c0 = cpu_seconds(pid);
	const auto t0 = Clock::now();
	std::this_thread::sleep_for(std::chrono::seconds(seconds));
	auto c1 = cpu_seconds(pid);
	const double wall = us_since(t0) / 1e6;
	if (!c0 || !c1 || !d.running())
		return make_error(ECHILD, "bpfrejitd exited while measured: " + slurp(log));
	return DaemonRun{*c1 - *c0, wall, wall * 1000 / interval_ms};
}

int daemon(const std::string &bpfrejitd, const std::vector<size_t> &counts, int seconds,
           int interval_ms) {
	if (access(bpfrejitd.c_str(), X_OK)) {
		fmt::print(stderr, "rejit-costs: --bpfrejitd {}: {}\n", bpfrejitd, strerror(errno));
		return 2;
	}
	rlimit nofile{};
	nofile.rlim_cur = nofile.rlim_max = *std::max_element(counts.begin(), counts.end()) + 256;
	if (setrlimit(RLIMIT_NOFILE, &nofile)) {
		fmt::print(stderr, "rejit-costs: setrlimit: {}\n", strerror(errno));
		return 1;
	}
	char tmpl[] = "/tmp/rejit-costs.XXXXXX";
	if (!mkdtemp(tmpl)) {
		fmt::print(stderr, "rejit-costs: mkdtemp: {}\n", strerror(errno));
		return 1;
	}
	const std::string dir = tmpl;
	fmt::print("bpfrejitd CPU use watching idle programs ({}; utime+stime over {} s after "
	           "start-up, interval_ms {}; % of one CPU)\n",
	           time_base(), seconds, interval_ms);
	fmt::print("{:>9} {:>8} {:>7} {:>12}\n", "programs", "cpu ms", "cpu %", "ms per tick");
	int rc = 0;
	for (size_t n : counts) {
		auto r = daemon_run(bpfrejitd, n, seconds, interval_ms, dir);
		if (!r) {
			fmt::print(stderr, "rejit-costs: {} programs: {}\n", n, r.error().str());
			rc = 1;
			continue;
		}
		fmt::print("{:>9} {:>8.0f} {:>7.2f} {:>12.2f}\n", n, r->cpu_s * 1000,
		           100 * r->cpu_s / r->wall_s, r->cpu_s * 1000 / r->ticks);
	}
	std::filesystem::remove_all(dir);
	return rc;
}

// ---- stats

// ns per run of prog_fd on `pkt`, as BPF_PROG_TEST_RUN measures `runs` runs.
Result<double> ns_per_run(int prog_fd, const std::vector<uint8_t> &pkt, int runs) {
	uint32_t ns = 0;
	if (const RunResult r = test_run(prog_fd, pkt, uint32_t(runs), &ns); r.err)
		return make_error(r.err, "BPF_PROG_TEST_RUN");
	return double(ns); // the kernel's average per run, in ns
}

int stats(int repeat, int runs) {
	// run-time statistics are a static key: on while anyone holds them
	const std::string on = slurp("/proc/sys/kernel/bpf_stats_enabled");
	if (on.empty() || on[0] != '0') {
		fmt::print(stderr,
		           "rejit-costs: kernel.bpf_stats_enabled is '{}': someone keeps "
		           "run-time statistics on, they cannot be measured off\n",
		           on.empty() ? "unreadable" : on.substr(0, 1));
		return 1;
	}
	// A small XDP program reading the packet: bounds check, two loads, a
	// compare; the per-run bookkeeping is what differs.
	const bpf_insn prog[] = {
	        {BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0}, // r2 = ctx->data
	        {BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 4, 0}, // r3 = ctx->data_end
	        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1},       // r0 = XDP_DROP
	        {BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0},
	        {BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, 14},
	        {BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, 3, 0}, // short: drop
	        {BPF_LDX | BPF_MEM | BPF_H, BPF_REG_4, BPF_REG_2, 12, 0},
	        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 2}, // XDP_PASS
	        {BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_4, 0, 0, 0x0008},
	        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	Fd fd(bpf_prog_load(BPF_PROG_TYPE_XDP, "costs_stats", "GPL", prog, std::size(prog),
	                    nullptr));
	if (!fd) {
		fmt::print(stderr, "rejit-costs: loading the test program: {}\n", strerror(errno));
		return 1;
	}
	std::mt19937 rng(1);
	std::vector<uint8_t> pkt = packet(rng);
	std::vector<double> off, onv;
	for (int i = 0; i <= repeat; i++) {
		auto a = ns_per_run(fd.get(), pkt, runs);
		auto s = enable_run_stats();
		auto b = s ? ns_per_run(fd.get(), pkt, runs) : Result<double>(s.error());
		if (!a || !b) {
			fmt::print(stderr, "rejit-costs: {}\n", (!a ? a : b).error().str());
			return 1;
		}
		if (i == 0)
			continue; // warm-up
		off.push_back(*a);
		onv.push_back(*b);
	}
	const double m_off = median(off), m_on = median(onv);
	fmt::print("run-time statistics per program run ({}; BPF_PROG_TEST_RUN of a 10-insn XDP "
	           "program, medians of {} x {} runs)\n",
	           time_base(), repeat, runs);
	fmt::print("{:>12} {:>12} {:>8}\n", "ns/run off", "ns/run on", "on/off");
	fmt::print("{:>12.0f} {:>12.0f} {:>8.2f}\n", m_off, m_on, m_off > 0 ? m_on / m_off : 0.0);
	return 0;
}

} // namespace

int main(int argc, char **argv) {
	if (argc < 2)
		return usage();
	const std::string cmd = argv[1];
	if (cmd != "latency" && cmd != "daemon" && cmd != "stats") {
		fmt::print(stderr, "rejit-costs: unknown command '{}'\n", cmd);
		return usage();
	}
	long count = 10, repeat = 5, max_insns = 4096, seconds = 20, interval = 1000, runs = 100000;
	std::string bpfrejitd;
	std::vector<size_t> counts = {100, 500};
	std::vector<std::string> objects;
	for (int i = 2; i < argc; i++) {
		const std::string a = argv[i];
		const bool value = i + 1 < argc;
		if (a == "--programs" && value && cmd == "daemon") {
			counts.clear();
			std::stringstream list(argv[++i]);
			for (std::string n; std::getline(list, n, ',');) {
				auto c = positive("--programs", n.c_str(), 100000);
				if (!c) {
					fmt::print(stderr, "rejit-costs: {}\n", c.error().msg);
					return 2;
				}
				counts.push_back(size_t(*c));
			}
			if (counts.empty())
				return usage();
			continue;
		}
		if (a == "--bpfrejitd" && value && cmd == "daemon") {
			bpfrejitd = argv[++i];
			continue;
		}
		long *dst = nullptr, max = 0;
		if (a == "--programs" && cmd == "latency")
			dst = &count, max = 1000;
		else if (a == "--repeat" && cmd != "daemon")
			dst = &repeat, max = 1000;
		else if (a == "--max-insns" && cmd == "latency")
			dst = &max_insns, max = 1000000;
		else if (a == "--seconds" && cmd == "daemon")
			dst = &seconds, max = 3600;
		else if (a == "--interval-ms" && cmd == "daemon")
			dst = &interval, max = 3600000;
		else if (a == "--runs" && cmd == "stats")
			dst = &runs, max = 100000000;
		if (dst) {
			if (!value)
				return usage();
			auto v = positive(a, argv[++i], max);
			if (!v) {
				fmt::print(stderr, "rejit-costs: {}\n", v.error().msg);
				return 2;
			}
			*dst = *v;
		} else if (a.starts_with("-") || cmd != "latency") {
			fmt::print(stderr, "rejit-costs {}: unexpected '{}'\n", cmd, a);
			return usage();
		} else {
			objects.push_back(a);
		}
	}
	if (cmd == "latency" && objects.empty()) {
		fmt::print(stderr, "rejit-costs latency: no OBJECT\n");
		return usage();
	}
	if (cmd == "daemon" && bpfrejitd.empty()) {
		fmt::print(stderr, "rejit-costs daemon: --bpfrejitd PATH is required\n");
		return usage();
	}
	if (interval < 10) {
		fmt::print(stderr, "rejit-costs: --interval-ms: bpfrejitd takes 10 .. 3600000\n");
		return 2;
	}
	if (cmd != "stats" && !kernel_has_rejit()) {
		fmt::print(stderr, "rejit-costs: this kernel has no BPF_PROG_REJIT (boot a "
		                   "BpfReJIT-patched kernel)\n");
		return 1;
	}
	libbpf_set_print([](libbpf_print_level, const char *, va_list) { return 0; });
	if (cmd == "latency")
		return latency(objects, int(count), int(repeat), size_t(max_insns));
	if (cmd == "daemon")
		return daemon(bpfrejitd, counts, int(seconds), int(interval));
	return stats(int(repeat), int(runs));
}
