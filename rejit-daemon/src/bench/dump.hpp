// SPDX-License-Identifier: GPL-2.0
// What `rejit-bench dump` brings out of the patched kernel (in the VM) for
// `rejit-bench replay` on the host: per benchmark program, its inputs, its
// load-time ("stock") and re-JITed images as the kernel reported them, the
// kernel's own test-run results, and what the host-kernel tier needs to
// load it again (original bytecode, the rewrite made without kinsns, the
// shapes and frozen contents of its maps).
//
// On disk: DIR/dump.json (everything but bytes), DIR/kallsyms (the guest's
// /proc/kallsyms) and DIR/NAME/{stock,rejit}.{jit,xlated},
// DIR/NAME/{orig,nokinsn}.insns, DIR/NAME/map<i>.value, DIR/NAME/in.<k>.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rejit/result.hpp"

namespace rejit::bench {

enum class Kind { xdp, tc, cgroup_skb };
std::string_view kind_name(Kind k); // "xdp", "tc", "cgroup_skb"
std::optional<Kind> kind_from_prog_type(uint32_t prog_type);
std::optional<Kind> kind_from_name(std::string_view name);

// Where the result slot starts in what BPF_PROG_TEST_RUN is handed:
// cgroup_skb programs see the packet from its network header, the kernel
// pulls a 14-byte Ethernet header first (bench.h, BENCH_L3_OFF).
size_t slot_offset(Kind k);
// The packet BPF_PROG_TEST_RUN gets for an input: [Ethernet header for
// cgroup_skb (IPv4)], 8 zero bytes (the result slot), the input.
std::vector<uint8_t> test_packet(Kind k, std::span<const uint8_t> input);

// Offsets the JIT compiled context accesses to, from the guest's vmlinux
// BTF: the replay builds contexts with this layout.
struct CtxLayout {
	uint32_t xdp_buff_size = 0;
	uint32_t xdp_data = 0, xdp_data_end = 0, xdp_data_meta = 0, xdp_data_hard_start = 0;
	uint32_t skb_size = 0;
	uint32_t skb_data = 0, skb_len = 0, skb_data_len = 0, skb_protocol = 0;
	// skb->cb: struct bpf_skb_data_end (qdisc_skb_cb, data_meta, data_end)
	uint32_t skb_cb = 0;
	uint32_t cb_data_end = 0;  // offsetof(bpf_skb_data_end, data_end)
	uint32_t cb_data_meta = 0; // offsetof(bpf_skb_data_end, data_meta)
	uint32_t cb_bpf_cb = 0;    // offsetof(qdisc_skb_cb, data): __sk_buff->cb[]
};

// One JITed image: bpf_prog_info's jited_prog_insns (functions back to
// back, in jited_func_lens order), jited_ksyms and xlated_prog_insns.
struct Image {
	std::vector<uint8_t> code;
	std::vector<uint64_t> func_addrs;
	std::vector<uint32_t> func_lens;
	std::vector<bpf_insn> xlated; // map loads as map id (imm) + offset
	[[nodiscard]] size_t xlated_insns() const { return xlated.size(); }
};

// What one BPF_PROG_TEST_RUN (or a replay, or the native build) gave.
struct RunResult {
	uint32_t retval = 0;
	uint64_t result = 0; // the slot (xdp) or skb->cb[0..1] (tc, cgroup_skb)
	bool operator==(const RunResult &) const = default;
};

// A map the program references, in orig_map_ids order.
struct MapDump {
	uint32_t id = 0;
	std::string name;
	uint32_t type = 0, key_size = 0, value_size = 0, max_entries = 0, flags = 0;
	bool frozen = false;
	// Element 0 of a single-element array (frozen or not: .data and .bss
	// start with it), read right after the load; else empty.
	std::vector<uint8_t> value;
};

struct ProgDump {
	std::string name;   // file name without .bpf.o (micro: the benchmark)
	std::string object; // path of the object it came from
	Kind kind = Kind::xdp;
	uint32_t prog_type = 0;
	std::vector<std::vector<uint8_t>> inputs; // without the 8-byte slot
	Image stock;                              // as loaded
	Image rejit;                              // after the daemon's passes
	std::vector<RunResult> kernel_stock;      // per input, in the VM
	std::vector<RunResult> kernel_rejit;
	// Why kernel_stock/kernel_rejit are empty though the program loaded:
	// 6.12's BPF_PROG_TEST_RUN gives cgroup_skb programs no packet
	// pointers (data_end stays 0), so their runs say nothing.
	std::string kernel_run_problem;
	std::vector<std::pair<std::string, size_t>> passes; // that changed it: sites
	std::string rejit_error; // the re-JIT was refused: why (then rejit == stock)
	// Host-kernel tier: map references are BPF_PSEUDO_MAP_IDX(_VALUE) into maps.
	std::vector<bpf_insn> orig;
	std::vector<bpf_insn> nokinsn; // the passes that need no kinsn module
	std::vector<MapDump> maps;
	std::string refused; // why this program could not be dumped at all
};

struct Dump {
	std::string kernel; // uname -r of the guest
	std::string cpu;    // model name of the guest CPU
	CtxLayout ctx;
	std::vector<std::pair<uint64_t, std::string>> kallsyms; // sorted by address
	std::vector<ProgDump> progs;
	// The symbol at or before addr with its offset, if any.
	[[nodiscard]] std::optional<std::pair<std::string, uint64_t>> symbol(uint64_t addr) const;
};

Result<void> write_dump(const Dump &d, const std::string &dir);
Result<Dump> read_dump(const std::string &dir);

} // namespace rejit::bench
