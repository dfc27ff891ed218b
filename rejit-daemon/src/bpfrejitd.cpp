// SPDX-License-Identifier: GPL-2.0
// bpfrejitd: profile-guided re-JIT daemon. Samples the run time of every
// live BPF program, re-JITs hot ones with librejit's passes, measures them
// on live traffic and rolls back what got slower. Serves a JSON API on a
// Unix socket for the bpfrejit CLI. Runs under systemd (Type=notify) or in
// the foreground.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <string_view>

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/daemon.hpp"
#include "rejit/fd.hpp"
#include "rejit/live.hpp"

namespace {

using rejit::Fd;
using rejit::Result;

constexpr const char *kDefaultConfig = "/etc/bpfrejitd.json";

uint64_t now_ms() {
	using namespace std::chrono;
	return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Result<Fd> listen_on(const rejit::Config &cfg) {
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::memcpy(addr.sun_path, cfg.socket.c_str(), cfg.socket.size());
	const std::string dir = cfg.socket.substr(0, cfg.socket.rfind('/'));
	if (!dir.empty() && mkdir(dir.c_str(), 0755) && errno != EEXIST)
		return rejit::make_error(errno, "creating " + dir);
	Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return rejit::make_error(errno, "socket");
	unlink(cfg.socket.c_str()); // stale socket of a previous run
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) ||
	    chmod(cfg.socket.c_str(), cfg.socket_mode) || listen(fd.get(), 16))
		return rejit::make_error(errno, "listening on " + cfg.socket);
	return fd;
}

// One request line in, one response line out.
void serve_one(int listen_fd, rejit::Daemon &d) {
	Fd c(accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
	if (!c)
		return;
	timeval tv{1, 0}; // a silent client must not stall the daemon
	setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	std::string line;
	char buf[4096];
	while (line.find('\n') == std::string::npos && line.size() < 65536) {
		const ssize_t n = read(c.get(), buf, sizeof(buf));
		if (n <= 0)
			break;
		line.append(buf, size_t(n));
	}
	auto req = nlohmann::json::parse(line.substr(0, line.find('\n')), nullptr, false);
	const nlohmann::json resp =
	        req.is_discarded() ? nlohmann::json{{"ok", false}, {"error", "request is not JSON"}}
	                           : d.handle(req, now_ms());
	const std::string out = resp.dump() + "\n";
	for (size_t off = 0; off < out.size();) {
		const ssize_t n = write(c.get(), out.data() + off, out.size() - off);
		if (n <= 0)
			break;
		off += size_t(n);
	}
}

int usage(int code) {
	fmt::print(code ? stderr : stdout,
	           "usage: bpfrejitd [--config FILE] [--check-config]\n"
	           "       bpfrejitd --list\n"
	           "Default config: {} (built-in defaults if absent).\n",
	           kDefaultConfig);
	return code;
}

int list_programs() {
	auto ids = rejit::live_prog_ids();
	if (!ids) {
		fmt::print(stderr, "bpfrejitd: {}\n", ids.error().str());
		return 1;
	}
	fmt::print("{:>6} {:<16} {:<24} {:>6} {:>8} {:>5}\n", "id", "type", "name", "insns",
	           "jited", "rejit");
	for (uint32_t id : *ids) {
		auto p = rejit::LiveProg::open(id);
		auto i = p ? p->info() : Result<rejit::ProgInfo>(p.error());
		if (i)
			fmt::print("{:>6} {:<16} {:<24} {:>6} {:>8} {:>5}\n", id, i->type_name,
			           i->name, i->xlated_insns, i->jited_bytes, i->rejit_cnt);
	}
	fmt::print("{} programs\n", ids->size());
	return 0;
}

} // namespace

int main(int argc, char **argv) {
	std::string config_path;
	bool check_only = false;
	for (int i = 1; i < argc; i++) {
		const std::string_view a = argv[i];
		if (a == "--list" && argc == 2)
			return list_programs();
		if (a == "--config" && i + 1 < argc)
			config_path = argv[++i];
		else if (a == "--check-config")
			check_only = true;
		else if (a == "--help" || a == "-h")
			return usage(0);
		else
			return usage(2);
	}

	rejit::Config cfg;
	if (!config_path.empty() || access(kDefaultConfig, F_OK) == 0) {
		auto c = rejit::Config::load(config_path.empty() ? kDefaultConfig : config_path);
		if (!c) {
			fmt::print(stderr, "bpfrejitd: {}\n", c.error().msg);
			return 2;
		}
		cfg = std::move(c).value();
	}
	if (check_only) {
		fmt::print("config ok\n");
		return 0;
	}
	if (!rejit::kernel_has_rejit()) {
		fmt::print(stderr, "bpfrejitd: this kernel has no BPF_PROG_REJIT (boot a "
		                   "BpfReJIT-patched kernel); exiting\n");
		return 1;
	}
	auto stats = rejit::enable_run_stats();
	if (!stats) {
		fmt::print(stderr, "bpfrejitd: {}\n", stats.error().str());
		return 1;
	}
	auto listener = listen_on(cfg);
	if (!listener) {
		fmt::print(stderr, "bpfrejitd: {}\n", listener.error().str());
		return 1;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, nullptr);
	signal(SIGPIPE, SIG_IGN);
	Fd sigfd(signalfd(-1, &mask, SFD_CLOEXEC));

	rejit::Daemon d(cfg);
	d.discover_kinsns(); // logs what there is; again before every optimisation
	d.tick(now_ms());
	fmt::print(stderr, "bpfrejitd: watching programs every {} ms, passes {}, socket {}\n",
	           cfg.interval_ms, cfg.passes, cfg.socket);
	sd_notify(0, "READY=1");

	uint64_t next = now_ms() + cfg.interval_ms;
	for (;;) {
		pollfd fds[2] = {{listener->get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
		const uint64_t now = now_ms();
		const int wait = next > now ? int(next - now) : 0;
		if (poll(fds, 2, wait) < 0 && errno != EINTR)
			break;
		if (fds[1].revents & POLLIN)
			break;
		if (fds[0].revents & POLLIN)
			serve_one(listener->get(), d);
		if (now_ms() >= next) {
			d.tick(now_ms());
			next += cfg.interval_ms;
			if (next < now_ms())
				next = now_ms() + cfg.interval_ms; // fell behind: don't burst
		}
	}
	sd_notify(0, "STOPPING=1");
	d.shutdown();
	unlink(cfg.socket.c_str());
	return 0;
}
