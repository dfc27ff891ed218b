// SPDX-License-Identifier: GPL-2.0
// Live BPF programs in the running kernel: what they are, their original
// bytecode, and BPF_PROG_REJIT. Needs the BpfReJIT kernel patches.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rejit/fd.hpp"
#include "rejit/pass.hpp"
#include "rejit/result.hpp"
#include "rejit/rewriter.hpp"

namespace rejit {

struct ProgInfo {
	uint32_t id = 0;
	uint32_t type = 0;
	std::string type_name;
	std::string name;
	std::string tag; // hex
	uint64_t run_cnt = 0;
	uint64_t run_time_ns = 0;
	uint32_t rejit_cnt = 0;
	uint32_t xlated_insns = 0;
	uint32_t jited_bytes = 0;
	uint32_t orig_insns = 0;
};

// A kinsn registered on this machine: /sys/kernel/bpf_kinsn/<name>/.
struct KinsnInfo {
	std::string name;            // its kfunc
	std::string module;          // owner module, whose BTF has the kfunc
	bool operand = false;        // has an operand form
	bool native_operand = false; // ... that this machine's JIT emits natively
	int32_t btf_id = 0;          // of the kfunc in the module's BTF; 0: not found
	std::string problem;         // why it cannot be used, if it cannot
};

// The kinsns of the running kernel, with an fd of each module's BTF (the
// fd_array entry a re-JIT using them needs).
class Kinsns {
public:
	// No sysfs directory means no kinsns, not an error.
	static Result<Kinsns> discover(const std::string &dir = "/sys/kernel/bpf_kinsn");

	[[nodiscard]] const std::vector<KinsnInfo> &list() const { return list_; }
	// Usable ones: BTF id and module BTF found.
	[[nodiscard]] bool empty() const;
	// Module BTF fd, -1 if none (also for kinsns built into vmlinux, whose
	// off is 0 as for vmlinux kfuncs).
	[[nodiscard]] int btf_fd(const std::string &module) const;
	[[nodiscard]] std::vector<std::string> modules() const;
	// The usable kinsns for a PassEnv, off from `slots` (module -> index).
	[[nodiscard]] KinsnMap refs(const std::map<std::string, int16_t> &slots) const;
	// One line for logs: "bpf_rol64 (kinsn_bitops, operand form, native), ...".
	[[nodiscard]] std::string describe() const;

private:
	std::vector<KinsnInfo> list_;
	std::map<std::string, Fd> btf_;
};

// What a load of a program's code needs besides the instructions, for
// BPF_PROG_REJIT of the live program and for a standalone BPF_PROG_LOAD of
// a copy (shadow check): fd_array (maps at the indexes the code names,
// kinsn module BTFs at theirs) and the program's BTF with func_info.
struct LoadAttrs {
	std::vector<int> fd_array;
	Fd btf; // the program's BTF, when the code has func_info
	uint32_t btf_id = 0;

	// Points the fd_array and BTF fields of a bpf_prog_load_opts or
	// bpf_prog_rejit_opts at these attributes and p's func_info (both must
	// outlive the opts).
	template <typename Opts>
	void set(Opts &o, const Program &p) const {
		static_assert(sizeof(FuncInfo) == sizeof(bpf_func_info));
		o.fd_array = fd_array.empty() ? nullptr : fd_array.data();
		if (btf) {
			o.prog_btf_fd = uint32_t(btf.get());
			o.func_info = p.func_info.data();
			o.func_info_cnt = uint32_t(p.func_info.size());
			o.func_info_rec_size = sizeof(bpf_func_info);
		}
	}
};

class LiveProg {
public:
	static Result<LiveProg> open(uint32_t id);
	// The program behind `fd` (duplicated; the caller keeps its fd).
	static Result<LiveProg> from_fd(int fd);

	[[nodiscard]] uint32_t id() const { return id_; }
	[[nodiscard]] int fd() const { return fd_.get(); }
	[[nodiscard]] Result<ProgInfo> info() const;
	// The bytecode as loaded, with func_info if the program has BTF; map
	// references index info's orig_map_ids.
	[[nodiscard]] Result<Program> orig() const;
	// What the passes may know about the maps orig() refers to: the values
	// of those that can never change (frozen_maps); with `kinsns`, those
	// too, each module BTF at an fd_array index of its own for this
	// program (kinsn_btf_slots()).
	[[nodiscard]] Result<PassEnv> pass_env(const Kinsns *kinsns = nullptr) const;
	// BPF_PROG_REJIT with `p`, whose map references index the same maps as
	// orig() (and with the program's BTF if p has func_info). If p has
	// kinsn operand forms from pass_env(kinsns), their module BTFs go into
	// fd_array at the indexes pass_env() gave them; `extra` is one more map
	// at fd_array index spare_map_index(). On failure the program is
	// unchanged and the error carries the end of the verifier log.
	Result<void> rejit(const Program &p, const Kinsns *kinsns = nullptr, int extra = -1) const;
	// An fd_array index for one more map: past the program's maps and
	// every index its kfunc calls name.
	[[nodiscard]] Result<uint32_t> spare_map_index() const;
	// The attributes that load `p` with `maps` (fds at the indexes of
	// orig_map_ids; the live maps for rejit(), copies for a shadow check);
	// kinsns and extra as for rejit(). The fds in fd_array stay owned by
	// the caller and kinsns.
	Result<LoadAttrs> load_attrs(const Program &p, const std::vector<int> &maps,
	                             const Kinsns *kinsns = nullptr, int extra = -1) const;
	// The maps the original bytecode was loaded with, in orig_map_ids order.
	[[nodiscard]] Result<std::vector<Fd>> orig_maps() const;
	// Does the running code use an edge-counter map (instrumented tier)?
	[[nodiscard]] Result<bool> has_edge_counters() const;
	// The programs in the prog_arrays it uses (it may tail-call them).
	[[nodiscard]] Result<std::vector<uint32_t>> tail_call_targets() const;

private:
	LiveProg(uint32_t id, Fd fd) : id_(id), fd_(std::move(fd)) {}
	Result<std::vector<FuncInfo>> func_info(const Program &orig) const;

	uint32_t id_;
	Fd fd_;
};

// The edge counters of the instrumented tier: a per-CPU array of one
// element of `counters` u64s (the kernel addresses the running CPU's copy
// for a ld_imm64 of it), named kEdgeMapName so that a restarted daemon
// knows code it left instrumented. read_edge_map() sums the CPUs' copies.
inline constexpr const char *kEdgeMapName = "rejit_edges";
inline constexpr size_t kMaxEdgeCounters = 4096; // per-CPU values: 32 KiB at most
Result<Fd> create_edge_map(size_t counters);
Result<std::vector<uint64_t>> read_edge_map(int fd, size_t counters);

// The last lines (about 2000 bytes) of a NUL-terminated verifier log buffer.
std::string verifier_log_tail(std::string log);

// Has the map behind fd been frozen (BPF_MAP_FREEZE)?
bool map_frozen(int fd);

// Ids of every loaded program.
Result<std::vector<uint32_t>> live_prog_ids();

// Turn on run_cnt/run_time_ns accounting (BPF_ENABLE_STATS) for as long as
// the returned fd is open.
Result<Fd> enable_run_stats();

// Does the running kernel implement BPF_PROG_REJIT?
bool kernel_has_rejit();

} // namespace rejit
