// SPDX-License-Identifier: GPL-2.0
// bpfrejitd: profile-guided re-JIT daemon. For now it only enumerates the
// live BPF programs (--list); profiling and re-JIT arrive with their issues.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/fd.hpp"
#include "rejit/insn.hpp"

namespace {

int list_programs() {
	__u32 id = 0;
	int n = 0;
	fmt::print("{:>6} {:<16} {:<24} {:>6} {:>8}\n", "id", "type", "name", "insns", "jited");
	while (bpf_prog_get_next_id(id, &id) == 0) {
		rejit::Fd fd(bpf_prog_get_fd_by_id(id));
		if (!fd)
			continue; // raced with unload
		bpf_prog_info info{};
		__u32 len = sizeof(info);
		if (bpf_prog_get_info_by_fd(fd.get(), &info, &len))
			continue;
		fmt::print("{:>6} {:<16} {:<24} {:>6} {:>8}\n", id,
		           libbpf_bpf_prog_type_str(bpf_prog_type(info.type)) ?: "?", info.name,
		           info.xlated_prog_len / sizeof(bpf_insn), info.jited_prog_len);
		n++;
	}
	if (errno != ENOENT) {
		fmt::print(stderr, "bpfrejitd: enumerating programs: {}\n", std::strerror(errno));
		return 1;
	}
	fmt::print("{} programs\n", n);
	return 0;
}

} // namespace

int main(int argc, char **argv) {
	if (argc == 2 && std::string_view(argv[1]) == "--list")
		return list_programs();
	fmt::print(stderr, "usage: bpfrejitd --list\n");
	return 2;
}
