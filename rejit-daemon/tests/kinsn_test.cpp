// SPDX-License-Identifier: GPL-2.0
// kinsn operand forms in librejit: codec, rewriter, analyses, interpreter
// and the fd_array slots of module BTFs.
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "asm.hpp"
#include "kinsn_defs.h"
#include "rejit/cfg.hpp"
#include "rejit/interp.hpp"
#include "rejit/kinsn.hpp"
#include "rejit/pass.hpp"
#include "rejit/rewriter.hpp"

namespace {

using namespace rejit;
using namespace rejit::test::asm_;

constexpr KinsnRef kRef{4242, 3, true, true};

Insn rol(unsigned w, uint8_t dst, uint8_t src, int32_t k) {
	return make_kinsn(w == 64 ? "bpf_rol64" : "bpf_rol32", kRef, {dst, src, 0, k});
}

TEST(KinsnCodec, PairIsOneInsnOfTwoSlots) {
	const std::vector<bpf_insn> in{
	        raw(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
	        raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 3, 4242),
	        raw(0, 1, 2, -7, 13),
	        raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	auto dec = decode(in);
	ASSERT_TRUE(dec) << dec.error().msg;
	ASSERT_EQ(dec->size(), 3u);
	const Insn &k = (*dec)[1];
	EXPECT_TRUE(k.is_kinsn());
	EXPECT_EQ(k.slots(), 2u);
	EXPECT_EQ(k.imm, 4242);
	EXPECT_EQ(k.off, 3);
	EXPECT_EQ(k.op, (KinsnOperands{1, 2, -7, 13}));
	EXPECT_EQ(k.form, 0) << "decode cannot know which kinsn imm names";
	EXPECT_EQ(slot_count(*dec), in.size());
	const auto again = encode(*dec);
	ASSERT_EQ(again.size(), in.size());
	EXPECT_EQ(std::memcmp(again.data(), in.data(), in.size() * sizeof(bpf_insn)), 0);
	EXPECT_EQ(mnemonic(k), "kinsn");
	EXPECT_EQ(mnemonic(rol(64, 1, 2, 3)), "kinsn bpf_rol64");
}

TEST(KinsnCodec, RejectsMalformedPairs) {
	auto why = [](std::vector<bpf_insn> p) {
		auto d = decode(p);
		return d ? std::string() : d.error().msg;
	};
	EXPECT_NE(why({raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 1, 1)}).find("truncated"),
	          std::string::npos);
	EXPECT_NE(why({raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 1, 1),
	               raw(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0)})
	                  .find("code 0"),
	          std::string::npos);
	EXPECT_NE(why({raw(BPF_JMP | BPF_CALL, 1, BPF_PSEUDO_KINSN_CALL, 1, 1), raw(0, 1, 2, 0, 1)})
	                  .find("dst_reg"),
	          std::string::npos);
	EXPECT_NE(
	        why({raw(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KINSN_CALL, 1, 1), raw(0, 11, 2, 0, 1)})
	                .find("above R10"),
	        std::string::npos);
	// operands on anything else are not encodable
	Insn bad = mov(1, 0);
	bad.op.imm = 1;
	EXPECT_FALSE(check(bad).empty());
}

TEST(KinsnRewriter, JumpsCountTwoSlotsAndNeverLandInside) {
	// jeq skips the pair (slots 1-2) to the exit at slot 3
	std::vector<Insn> p{jeq(1, 0, 2), rol(64, 1, 2, 5), exit_insn()};
	auto rw = Rewriter::create(p);
	ASSERT_TRUE(rw) << rw.error().msg;
	EXPECT_EQ(*rw->target(0), 2u);
	ASSERT_TRUE(rw->replace(0, {mov(3, 0), mov(4, 0)})); // pairs move along
	auto out = rw->finish();
	ASSERT_TRUE(out) << out.error().msg;
	EXPECT_EQ(out->insns[2], p[1]);
	EXPECT_EQ(out->insns[2].form, p[1].form) << "the binding survives edits";
	// a jump into the operand slot is refused
	std::vector<Insn> q{jeq(1, 0, 1), rol(64, 1, 2, 5), exit_insn()};
	EXPECT_FALSE(Rewriter::create(q));
	// a pair is straight-line code: it may replace an instruction
	auto rw2 = Rewriter::create(p);
	EXPECT_TRUE(rw2->replace(1, {rol(32, 3, 4, 1), rol(64, 1, 2, 5)}));
}

TEST(KinsnExpand, IsTheHeadersSequence) {
	const Insn k = rol(64, 3, 7, 13);
	auto e = kinsn_expand(k);
	ASSERT_TRUE(e);
	bpf_insn op{}, want[KINSN_OP_MAX];
	op.dst_reg = 3, op.src_reg = 7, op.imm = 13;
	u16 clobber = 0;
	const int n = kinsn_rol64_expand(&op, want, &clobber);
	ASSERT_EQ(e->insns.size(), size_t(n));
	for (int i = 0; i < n; i++)
		EXPECT_EQ(e->insns[size_t(i)], (Insn{want[i].code, want[i].dst_reg, want[i].src_reg,
		                                     want[i].off, want[i].imm}));
	EXPECT_EQ(e->clobber, clobber);
	EXPECT_EQ(e->clobber, reg_bit(7));
	// invalid operands: no meaning
	EXPECT_FALSE(kinsn_expand(rol(64, 3, 3, 13)));
	EXPECT_FALSE(kinsn_expand(rol(64, 3, 7, 64)));
	EXPECT_FALSE(kinsn_expand(rol(32, 3, 7, 32)));
	EXPECT_FALSE(kinsn_expand(rol(64, 10, 7, 1)));
	Insn unbound = k;
	unbound.form = 0;
	EXPECT_FALSE(kinsn_expand(unbound));
}

TEST(KinsnAnalysis, ReadsAndWritesWhatItsExpansionDoes) {
	const Insn k = rol(64, 1, 2, 9);
	EXPECT_EQ(regs_read(k), reg_bit(1));
	EXPECT_EQ(regs_written(k), reg_bit(1) | reg_bit(2));
	EXPECT_FALSE(has_side_effects(k));
	EXPECT_FALSE(is_control(k));
	Insn unknown = k;
	unknown.form = 0; // could do anything
	EXPECT_EQ(regs_read(unknown) & 0x3ff, 0x3ff);
	EXPECT_TRUE(has_side_effects(unknown));
}

TEST(KinsnAnalysis, LivenessOfAPair) {
	// r2 = 5 is dead: the pair overwrites its scratch before reading it
	std::vector<Insn> p{mov(1, 7), mov(2, 5), rol(64, 1, 2, 9), movx(0, 1), exit_insn()};
	auto rw = Rewriter::create(p);
	ASSERT_TRUE(rw);
	const Cfg cfg(*rw);
	const Kinds kinds(*rw, cfg);
	const Liveness live(*rw, cfg, kinds);
	EXPECT_EQ(live.live_in(2).regs & 0x3ff, reg_bit(1));
	EXPECT_FALSE(live.live_out(1).regs & reg_bit(2));
	EXPECT_FALSE(live.live_out(2).regs & reg_bit(2));
	// dce drops the dead mov, keeps the pair whose result is used...
	auto dce = passes_by_name("dce");
	ASSERT_TRUE(dce);
	auto o = run_passes(Program{p, {}, {}}, *dce);
	EXPECT_EQ(o.prog.insns, (std::vector<Insn>{mov(1, 7), p[2], movx(0, 1), exit_insn()}));
	// ... and drops one whose result nothing reads
	std::vector<Insn> q{mov(0, 0), mov(1, 7), rol(64, 1, 2, 9), exit_insn()};
	o = run_passes(Program{q, {}, {}}, *dce);
	EXPECT_EQ(o.prog.insns, (std::vector<Insn>{mov(0, 0), exit_insn()}));
}

TEST(KinsnInterp, RunsTheMeaningAndPoisonsTheScratch) {
	std::mt19937_64 rng(7);
	for (int i = 0; i < 2000; i++) {
		const uint64_t x = rng();
		const int k64 = int(rng() % 63) + 1, k32 = int(rng() % 31) + 1;
		Memory m1, m2;
		auto a = interpret(std::vector<Insn>{ldimm64(3, x), rol(64, 3, 4, k64), movx(0, 3),
		                                     exit_insn()},
		                   m1, {});
		auto b = interpret(std::vector<Insn>{ldimm64(3, x), rol(32, 3, 4, k32), movx(0, 3),
		                                     exit_insn()},
		                   m2, {});
		ASSERT_TRUE(a && b);
		EXPECT_EQ(*a, kinsn_rol64(x, uint64_t(k64), 0)) << std::hex << x << " " << k64;
		EXPECT_EQ(*b, kinsn_rol32(x, uint64_t(k32), 0)) << std::hex << x << " " << k32;
	}
	Memory m;
	auto r = interpret(std::vector<Insn>{mov(3, 1), rol(64, 3, 4, 1), movx(0, 4), exit_insn()},
	                   m, {});
	ASSERT_FALSE(r);
	EXPECT_NE(r.error().msg.find("clobbered"), std::string::npos) << r.error().msg;
	// a kinsn reading a clobbered register is caught too
	Memory m4;
	r = interpret(std::vector<Insn>{mov(3, 1), rol(64, 3, 4, 1), rol(64, 4, 5, 1), movx(0, 3),
	                                exit_insn()},
	              m4, {});
	ASSERT_FALSE(r);
	EXPECT_NE(r.error().msg.find("R4, clobbered"), std::string::npos) << r.error().msg;
	// written again, readable again
	Memory m3;
	EXPECT_TRUE(interpret(
	        std::vector<Insn>{mov(3, 1), rol(64, 3, 4, 1), mov(4, 0), movx(0, 4), exit_insn()},
	        m3, {}));
}

TEST(KinsnBind, ByBtfIdAndOffsetOnlyWhenUnambiguous) {
	std::vector<Insn> p{rol(64, 1, 2, 3)};
	p[0].form = 0;
	bind_kinsns(p, {{"bpf_rol32", {4242, 1}}});
	EXPECT_EQ(p[0].form, 0) << "other fd_array index";
	bind_kinsns(p, {{"bpf_rol64", {4242, 3}}, {"bpf_rol32", {4242, 3}}});
	EXPECT_EQ(p[0].form, 0) << "ambiguous";
	bind_kinsns(p, {{"bpf_rol64", {4242, 3}}, {"bpf_rol32", {4243, 3}}});
	EXPECT_EQ(kinsn_form_name(p[0]), "bpf_rol64");
}

TEST(KinsnSlots, AvoidMapsAndLoadTimeKfuncBtfs) {
	const std::vector<std::string> bitops{"kinsn_bitops"};
	std::vector<Insn> none{exit_insn()};
	EXPECT_EQ(kinsn_btf_slots(none, 0, bitops).at("kinsn_bitops"), 1);
	EXPECT_EQ(kinsn_btf_slots(none, 1, bitops).at("kinsn_bitops"), 1);
	EXPECT_EQ(kinsn_btf_slots(none, 4, bitops).at("kinsn_bitops"), 4);
	Insn kfunc{BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 4, 77};
	Insn kfunc5 = kfunc;
	kfunc5.off = 5;
	std::vector<Insn> calls{kfunc, kfunc5, exit_insn()};
	EXPECT_EQ(kinsn_btf_slots(calls, 4, bitops).at("kinsn_bitops"), 6);
	auto two = kinsn_btf_slots(calls, 0, {"kinsn_crc32c", "kinsn_bitops"});
	EXPECT_EQ(two.at("kinsn_bitops"), 1);
	EXPECT_EQ(two.at("kinsn_crc32c"), 2);
}

} // namespace
