// SPDX-License-Identifier: GPL-2.0
// The kernel side of rejit-bench: BPF_PROG_TEST_RUN of a benchmark program
// (both kernels), and `rejit-bench dump` (the patched kernel, in the VM):
// load each object, keep its stock image, re-JIT it as bpfrejitd does and
// keep that image too, with everything the host needs (dump.hpp).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "bench/dump.hpp"

namespace rejit::bench {

// One BPF_PROG_TEST_RUN of a benchmark program on test_packet(k, input):
// its return value and result (xdp: the slot as the program left it;
// tc, cgroup_skb: skb->cb[0..1] from the context it left). With repeat > 1,
// *duration gets the kernel's average time per run in ns.
Result<RunResult> kernel_run(int prog_fd, Kind k, std::span<const uint8_t> input,
                             uint32_t repeat = 1, uint32_t *duration = nullptr);
// kernel_run() on every input in turn; an error says which ("input 3: ...").
Result<std::vector<RunResult>> kernel_runs(int prog_fd, Kind k,
                                           const std::vector<std::vector<uint8_t>> &inputs);

// The context layouts of the running kernel, from its BTF (vmlinux).
Result<CtxLayout> ctx_layout();

// /proc/kallsyms sorted by address; EPERM if it shows no addresses.
Result<std::vector<std::pair<uint64_t, std::string>>> kallsyms();

// The image the kernel runs for prog_fd now: JITed code, function
// addresses and lengths, xlated instructions.
Result<Image> prog_image(int prog_fd);

// An error for people: its first line with strerror(err) appended, then
// the rest of its message (a verifier log) on the lines below.
std::string error_text(const Error &e);

// "model name" of /proc/cpuinfo's first CPU ("unknown" if none).
std::string cpu_model();

// The inputs of a benchmark: DIR/NAME.in, NAME.in.1, NAME.in.2 ... as long
// as they exist (raw bytes, no slot); none: 64 pseudo-random bytes that are
// the same on every run.
Result<std::vector<std::vector<uint8_t>>> read_inputs(const std::string &dir,
                                                      const std::string &name);

// An object argument: PATH (one XDP/tc/cgroup_skb program; the row is named
// after the file without .bpf.o) or PATH:PROG (that program of the object;
// the row is named PROG). Inputs are looked up beside the object under the
// row's name.
struct ObjectSpec {
	std::string path;
	std::string prog; // empty: the only program
	std::string name;
};
Result<ObjectSpec> parse_object_spec(const std::string &arg);

// Load, measure and re-JIT every object in the running (patched) kernel.
// An object that cannot be loaded or tested becomes a row with `refused`
// set; only a problem with the machine itself (no kallsyms, no BTF) fails.
Result<Dump> collect(const std::vector<ObjectSpec> &objects);

} // namespace rejit::bench
