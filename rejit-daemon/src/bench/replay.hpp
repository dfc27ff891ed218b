// SPDX-License-Identifier: GPL-2.0
// Native replay: JIT images the patched kernel produced (dump.hpp), made
// runnable in user space on the host CPU, run on the benchmark's inputs and
// timed against each other and against the native (clang) build.
//
// An image is copied into an executable mapping at the same relative layout
// its functions had in the kernel (bpf-to-bpf calls are rel32 calls between
// them), with what cannot run in user space patched into its plain form:
// `jmp __x86_return_thunk` -> `ret`, `jmp __x86_indirect_thunk_REG` ->
// `jmp *REG`, call-depth accounting (gs:) -> nops, and the `movabs` of a
// frozen array's value -> the address of a read-only user-space copy.
// Anything else that leaves the image (a helper or kfunc that stays a call,
// a map read through a kernel address, a per-CPU access, a tail call) makes
// the image refused with the reason, never run.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bench/dump.hpp"
#include "rejit/result.hpp"

namespace rejit::bench {

// Packets and contexts for a program kind, one per input, each in its own
// slice of a dedicated mapping (nothing the image writes can reach the
// heap), laid out like the kernel's BPF_PROG_TEST_RUN lays them out: the
// wire packet is test_packet() (cgroup_skb: an Ethernet header first),
// with XDP_PACKET_HEADROOM (256) before it for XDP and NET_SKB_PAD (64, x86
// has NET_IP_ALIGN 0) for skbs; cgroup_skb's data starts after the Ethernet
// header. The context is a fake xdp_buff or sk_buff with the guest's
// offsets (d.ctx); for an xdp_buff data_meta = data, data_hard_start =
// data - 256; for an sk_buff data, len, data_len = 0, protocol (as
// eth_type_trans() would set it), and cb's data_end / data_meta.
//
// cgroup_skb: the cgroup hooks set cb's data_end (bpf_compute_and_save_
// data_end()), the kernel's BPF_PROG_TEST_RUN does not (6.12 net/bpf/
// test_run.c computes data pointers for tc and lwt only): there a program
// reading data_end sees NULL and takes its bounds-check exit.
// like_test_run reproduces that, to compare with the kernel's test run;
// by default the replay runs cgroup_skb programs as the hook does.
class Packets {
public:
	static Result<Packets> make(const CtxLayout &ctx, Kind kind,
	                            const std::vector<std::vector<uint8_t>> &inputs,
	                            bool like_test_run = false);
	Packets(Packets &&) noexcept;
	Packets &operator=(Packets &&) noexcept;
	~Packets();

	[[nodiscard]] size_t size() const { return slots_.size(); }
	[[nodiscard]] Kind kind() const { return kind_; }
	// The context the JITed code gets in rdi.
	[[nodiscard]] void *ctx(size_t i) const { return slots_[i].ctx; }
	// The program's view: its data (the result slot) and data_end.
	[[nodiscard]] uint8_t *data(size_t i) const { return slots_[i].data; }
	[[nodiscard]] uint8_t *data_end(size_t i) const { return slots_[i].data_end; }
	// Zero the result slot and the skb's cb[] (before a checked run).
	void reset(size_t i);
	// What the program left: retval as given, result from the slot (xdp)
	// or cb[0..1] (tc, cgroup_skb).
	[[nodiscard]] RunResult result(size_t i, uint32_t retval) const;

private:
	struct Slot {
		void *ctx;
		uint8_t *data, *data_end;
	};
	Packets() = default;
	CtxLayout layout_{};
	Kind kind_ = Kind::xdp;
	void *mem_ = nullptr;
	size_t len_ = 0;
	std::vector<Slot> slots_;
};

// An image made runnable in user space, its entry at `align` bytes past a
// 64-byte (cache line) boundary; each alignment is its own mapping.
class Replay {
public:
	// The JITed code as the kernel calls it: bpf_func(ctx, insnsi).
	using Fn = uint64_t (*)(const void *ctx, const void *insns);

	// EOPNOTSUPP with the reason if the image cannot run natively (a call
	// or jump to a kernel address that stays one: "calls
	// bpf_map_lookup_elem"; a movabs of a kernel address that is not a
	// frozen array's value: "reads map NAME through a kernel address"; a
	// per-CPU access; a tail call; an instruction capstone cannot decode).
	//
	// redirect_from (the stock image of the same program): the re-JIT
	// image `img` is entered the way its callers enter it in our kernel,
	// through the load-time image's entry: a copy of the stock image's
	// bytes up to its redirect nop (endbr64, the fentry nop, the redirect
	// nop), that nop turned into the `jmp` BPF_PROG_REJIT pokes there
	// (bpf_arch_rejit_redirect()), so the re-JIT figures include the jump
	// callers pay. An unpatched 6.12 JIT has neither the redirect nop in
	// the stock image nor that jump.
	static Result<Replay> make(const Dump &d, const ProgDump &p, const Image &img,
	                           unsigned align = 0, const Image *redirect_from = nullptr);
	Replay(Replay &&) noexcept;
	Replay &operator=(Replay &&) noexcept;
	~Replay();

	// One guarded run on an input (without the slot): a fault (SIGSEGV,
	// SIGBUS, SIGILL, SIGTRAP, SIGFPE) or no return within 2 s becomes an
	// error ("SIGSEGV at image+0x1c (func 0+0x1c) accessing 0x0") instead of
	// killing the process.
	Result<RunResult> run(std::span<const uint8_t> input);
	// Guarded run on prepared packet i (the slot and cb are reset first).
	Result<RunResult> run(Packets &pk, size_t i);

	// The cheap entry for timing loops: entry()(pk.ctx(i), nullptr).
	// Unguarded: run() every input first.
	[[nodiscard]] Fn entry() const { return entry_; }
	// Where the entry is in memory (its alignment, for reports).
	[[nodiscard]] uintptr_t entry_addr() const { return reinterpret_cast<uintptr_t>(entry_); }
	// What was patched, e.g. "3 return thunks, 1 map value"; "" if nothing.
	[[nodiscard]] const std::string &patched() const { return patched_; }

private:
	struct Mem;
	Replay() = default;
	std::unique_ptr<Mem> mem_;
	Fn entry_ = nullptr;
	Kind kind_ = Kind::xdp;
	CtxLayout ctx_{};
	std::string patched_;
};

// The native (clang -O2) build of the micro suite: libmicro_native.so and
// its bench_natives() index (bench/micro/bench.h).
class NativeLib {
public:
	// The program on a packet: data = the result slot, returns the retval.
	using Fn = int (*)(uint8_t *data, uint8_t *data_end);
	struct Bench {
		std::string name;
		Kind kind;
		Fn run;
	};

	static Result<NativeLib> open(const std::string &so);
	NativeLib(NativeLib &&) noexcept;
	NativeLib &operator=(NativeLib &&) noexcept;
	~NativeLib();

	[[nodiscard]] const Bench *find(const std::string &name) const;
	// The expected result of an input (without the slot).
	static RunResult run(const Bench &b, std::span<const uint8_t> input);

private:
	NativeLib() = default;
	void *handle_ = nullptr;
	std::vector<Bench> benches_;
};

struct TimingOptions {
	unsigned samples = 15;
	unsigned calls = 0;     // calls per image per sample; 0: about sample_ms
	double sample_ms = 5.0; // with calls = 0
	std::vector<unsigned> aligns = {0, 16, 32, 48}; // the thread stays on its CPU
};

struct Timing {
	// ns per call: medians over samples, then over alignments
	double ns_stock = NAN, ns_rejit = NAN, ns_native = NAN; // native: NaN if none
	// stock / re-JIT: median of the per-sample paired ratios at each
	// alignment; ratio is the median over alignments, lo/hi their extremes
	double ratio = NAN, ratio_lo = NAN, ratio_hi = NAN;
	double ratio_native = NAN; // re-JIT / native, paired likewise
};

// Time p's stock and re-JIT images (the latter through the stock image's
// redirect, see Replay::make) and native->find(p.name) if any (native may
// be null), cycling through p's inputs call by call, at every alignment.
// Every image is first run on every input under the guard; an error
// (refusal, fault) is returned.
Result<Timing> time_replay(const Dump &d, const ProgDump &p, const NativeLib *native,
                           const TimingOptions &opt = {});

} // namespace rejit::bench
