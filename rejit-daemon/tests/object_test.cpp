// SPDX-License-Identifier: GPL-2.0
// object_programs() on clang-built code with bpf-to-bpf calls: the whole
// program as libbpf loads it (progs/subprog.bpf.c), and the passes over all
// of it.
#include <cstring>
#include <random>
#include <set>
#include <string>

#include <bpf/btf.h>
#include <gtest/gtest.h>

#include "bpf_object.hpp"
#include "rejit/interp.hpp"
#include "rejit/object.hpp"
#include "rejit/pass.hpp"
#include "rejit/rewriter.hpp"
#include "xdp_run.hpp"

namespace {

using namespace rejit;

// progs/subprog.bpf.c in plain C++, with its .rodata defaults: the result
// the program must write, or nullopt where it drops the packet.
constexpr uint32_t kSeed = 0x9e3779b9;
constexpr int kRounds = 3;

uint32_t le32(const uint8_t *p) {
	return p[0] | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t mix(uint64_t h, uint32_t v) {
	for (int i = 0; i < kRounds; i++) {
		h ^= uint32_t(v + kSeed);
		h = (h << 13 | h >> 51) * 0x100000001b3ULL;
	}
	return h ^ v;
}
uint64_t fold(uint64_t h) {
	return (h ^ h >> 29) * 0xbf58476d1ce4e5b9ULL;
}

std::optional<uint64_t> expected(const std::vector<uint8_t> &pkt) {
	if (pkt.size() < 8 + 16)
		return std::nullopt;
	const uint8_t *in = pkt.data() + 8;
	uint64_t h = kSeed;
	h = mix(h, le32(in));
	h = mix(h, le32(in + 4));
	h = mix(h, in[8] | in[9] << 8);
	return fold(h + le32(in + 12));
}

struct Run {
	uint64_t ret;
	std::vector<uint8_t> pkt;
};

Result<Run> run(const std::vector<Insn> &prog, const std::vector<uint8_t> &pkt,
                const PassEnv &env) {
	Memory mem;
	RunOptions opt;
	opt.r1 = test::map_xdp(mem, pkt);
	opt.pseudo = test::map_frozen(mem, env);
	auto r = interpret(prog, mem, opt);
	if (!r)
		return r.error();
	return Run{*r, mem.bytes("packet")};
}

// Slot of each instruction.
std::vector<uint32_t> slots(const std::vector<Insn> &insns) {
	std::vector<uint32_t> s;
	for (uint32_t i = 0, at = 0; i < insns.size(); at += insns[i++].slots())
		s.push_back(at);
	return s;
}

// Names of the functions func_info describes, in its order.
std::vector<std::string> function_names(const Program &p, const std::string &obj) {
	Object o = test::open_object(obj);
	const btf *b = o ? bpf_object__btf(o.get()) : nullptr;
	std::vector<std::string> names;
	for (const FuncInfo &fi : p.func_info) {
		const btf_type *t = b ? btf__type_by_id(b, fi.type_id) : nullptr;
		names.push_back(t && btf_is_func(t) ? btf__name_by_offset(b, t->name_off) : "?");
	}
	return names;
}

// Every bpf-to-bpf call and callback reference reaches a function start,
// and func_info describes exactly those functions, in layout order.
void expect_relocated(const Program &p, const std::string &obj,
                      const std::vector<std::string> &functions) {
	const std::vector<uint32_t> at = slots(p.insns);
	std::set<uint32_t> starts{0}, described;
	for (size_t i = 0; i < p.insns.size(); i++) {
		const Insn &in = p.insns[i];
		const bool call = in.code == (BPF_JMP | BPF_CALL) && in.src == BPF_PSEUDO_CALL;
		const bool func = in.is_ldimm64() && in.src == BPF_PSEUDO_FUNC;
		if (!call && !func)
			continue;
		EXPECT_NE(in.imm, -1) << "unrelocated call at insn " << i;
		const int64_t target = int64_t(at[i]) + in.imm + 1;
		EXPECT_TRUE(target > 0 && std::count(at.begin(), at.end(), uint32_t(target)))
		        << "insn " << i << " reaches slot " << target;
		starts.insert(uint32_t(target));
	}
	for (const FuncInfo &fi : p.func_info)
		described.insert(fi.insn_off);
	EXPECT_EQ(described, starts);
	EXPECT_EQ(function_names(p, obj), functions);
	// The kernel wants a line_info record at each function start.
	std::set<uint32_t> lines;
	for (const LineInfo &li : p.line_info)
		lines.insert(li.insn_off);
	for (uint32_t s : starts)
		EXPECT_TRUE(lines.contains(s)) << "no line_info at function start " << s;
	// The rewriter takes the func_info and line_info as consistent.
	auto rw = Rewriter::create(p.insns, p.line_info, p.func_info);
	EXPECT_TRUE(rw) << rw.error().msg;
}

const ObjectProgram *find(const std::vector<ObjectProgram> &progs, const std::string &name) {
	for (const ObjectProgram &p : progs)
		if (p.name == name)
			return &p;
	return nullptr;
}

// Subprograms are appended in the order libbpf meets their first reference
// (depth first), each once per program, shared ones copied into each.
TEST(Object, SubprogramsAppendedAndRelocated) {
	auto progs = object_programs(BPF_OBJ_DIR "/subprog.bpf.o");
	ASSERT_TRUE(progs) << progs.error().str();
	ASSERT_EQ(progs->size(), 2u);
	const ObjectProgram *main = find(*progs, "xdp_subprog"), *loop = find(*progs, "xdp_loop");
	ASSERT_TRUE(main && loop);
	ASSERT_TRUE(main->prog) << main->prog.error().str();
	ASSERT_TRUE(loop->prog) << loop->prog.error().str();
	EXPECT_EQ(main->section, "xdp");
	// More than the main program's own instructions.
	EXPECT_GT(slot_count(main->prog->insns),
	          slot_count(test::program_insns("subprog.bpf.o", "xdp_subprog")));
	expect_relocated(*main->prog, "subprog.bpf.o", {"xdp_subprog", "le32_at", "mix", "fold"});
	expect_relocated(*loop->prog, "subprog.bpf.o",
	                 {"xdp_loop", "le32_at", "loop_step", "mix", "fold"});
	// .rodata is map index 0 with its initial contents, in subprograms too.
	ASSERT_TRUE(main->env.frozen_maps.contains(0));
	size_t rodata_refs = 0;
	for (const Insn &in : main->prog->insns)
		rodata_refs += in.is_ldimm64() && in.src == BPF_PSEUDO_MAP_IDX_VALUE && in.imm == 0;
	EXPECT_EQ(rodata_refs, 3u); // seed in main, seed and rounds in mix
}

// The relocated program computes what its source says, and so does what
// the passes make of it; the passes reach into the subprograms.
TEST(Object, PassesOverSubprogramsKeepBehaviour) {
	auto op = test::object_program("subprog.bpf.o", "xdp_subprog");
	ASSERT_TRUE(op);
	const Program &before = *op->prog;
	auto passes = passes_by_name("all", &op->env);
	ASSERT_TRUE(passes) << passes.error().msg;
	const Optimized o = run_passes(before, *passes, op->env);
	ASSERT_GT(o.changed(), 0u) << explain(o);
	const uint32_t main_end = before.func_info.size() > 1 ? before.func_info[1].insn_off : 0;
	ASSERT_GT(main_end, 0u);
	size_t in_subprogs = 0;
	for (const PassReport &r : o.reports)
		for (const Site &s : r.sites)
			in_subprogs += s.changed && r.pass == "wide-load" && s.insn >= main_end;
	EXPECT_GT(in_subprogs, 0u) << explain(o);
	EXPECT_EQ(o.prog.func_info.size(), before.func_info.size());
	auto rw = Rewriter::create(o.prog.insns, o.prog.line_info, o.prog.func_info);
	EXPECT_TRUE(rw) << rw.error().msg;

	std::mt19937 rng(7);
	for (int i = 0; i < 2000; i++) {
		std::vector<uint8_t> pkt(i < 30 ? size_t(i) : 20 + rng() % 44);
		for (auto &b : pkt)
			b = uint8_t(rng());
		auto a = run(before.insns, pkt, op->env), b = run(o.prog.insns, pkt, op->env);
		ASSERT_TRUE(a) << a.error().msg;
		ASSERT_TRUE(b) << b.error().msg;
		const auto want = expected(pkt);
		ASSERT_EQ(a->ret, want ? uint64_t(XDP_PASS) : uint64_t(XDP_DROP)) << pkt.size();
		if (want) {
			uint64_t got;
			std::memcpy(&got, a->pkt.data(), 8);
			ASSERT_EQ(got, *want) << "packet " << i;
		}
		ASSERT_EQ(b->ret, a->ret) << "packet " << i;
		ASSERT_EQ(b->pkt, a->pkt) << "packet " << i;
	}
}

// A program libbpf cannot prepare offline (an freplace without the program
// it replaces) is refused with libbpf's reason if it calls a subprogram,
// taken as it is if it calls none, and costs the others nothing.
TEST(Object, WhatLibbpfCannotPrepareOffline) {
	auto progs = object_programs(BPF_OBJ_DIR "/subprog_ext.bpf.o");
	ASSERT_TRUE(progs) << progs.error().str();
	const ObjectProgram *calls = find(*progs, "ext_calls"), *alone = find(*progs, "ext_alone"),
	                    *xdp = find(*progs, "xdp_calls");
	ASSERT_TRUE(calls && alone && xdp);
	ASSERT_FALSE(calls->prog);
	EXPECT_NE(calls->prog.error().msg.find("subprograms not relocated"), std::string::npos)
	        << calls->prog.error().msg;
	EXPECT_NE(calls->prog.error().msg.find("attach program FD is not set"), std::string::npos)
	        << calls->prog.error().msg;
	ASSERT_TRUE(alone->prog) << alone->prog.error().msg;
	EXPECT_EQ(alone->prog->insns, test::program_insns("subprog_ext.bpf.o", "ext_alone"));
	ASSERT_TRUE(xdp->prog) << xdp->prog.error().msg;
	expect_relocated(*xdp->prog, "subprog_ext.bpf.o", {"xdp_calls", "twice"});
	// The map is libbpf's map 0 and .rodata its map 1: here map 1 and 0.
	std::vector<std::pair<uint8_t, int32_t>> refs;
	for (const Insn &in : xdp->prog->insns)
		if (in.is_ldimm64())
			refs.emplace_back(in.src, in.imm);
	EXPECT_EQ(refs, (std::vector<std::pair<uint8_t, int32_t>>{{BPF_PSEUDO_MAP_IDX, 1},
	                                                          {BPF_PSEUDO_MAP_IDX_VALUE, 0}}));
}

} // namespace
