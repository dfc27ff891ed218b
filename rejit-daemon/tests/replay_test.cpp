// SPDX-License-Identifier: GPL-2.0
// The native replay (src/bench/replay.cpp) on hand-assembled images shaped
// like the x86 JIT's: prologue with the fentry and redirect nops, returns
// through `jmp __x86_return_thunk`, map values as movabs, bpf-to-bpf calls
// as rel32 calls between functions the kernel placed apart.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <unistd.h>

#include "bench/collect.hpp"
#include "bench/replay.hpp"

namespace rejit::bench {
namespace {

constexpr uint64_t kRetThunk = 0xffffffff81a0adf0;
constexpr uint64_t kRaxThunk = 0xffffffff81a0a1c0;
constexpr uint64_t kLookup = 0xffffffff81234560;
constexpr uint64_t kProg = 0xffffffffc0001000; // where "the kernel" put an image
constexpr uint64_t kMapValue = 0xffff888012345000;

Dump make_dump() {
	Dump d;
	d.ctx.xdp_buff_size = 56;
	d.ctx.xdp_data = 0;
	d.ctx.xdp_data_end = 8;
	d.ctx.xdp_data_meta = 16;
	d.ctx.xdp_data_hard_start = 24;
	d.ctx.skb_size = 232;
	d.ctx.skb_len = 112;
	d.ctx.skb_data_len = 116;
	d.ctx.skb_protocol = 180;
	d.ctx.skb_data = 200;
	d.ctx.skb_cb = 40;
	d.ctx.cb_bpf_cb = 8;
	d.ctx.cb_data_meta = 32;
	d.ctx.cb_data_end = 40;
	d.kallsyms = {{0xffffffff81000000, "_stext"},
	              {kLookup, "bpf_map_lookup_elem"},
	              {kRaxThunk, "__x86_indirect_thunk_array"},
	              {kRaxThunk, "__x86_indirect_thunk_rax"},
	              {kRetThunk, "__x86_return_thunk"}};
	return d;
}

// x86-64 bytes at a kernel address, with rel32 branches to absolute targets.
struct Asm {
	uint64_t at;
	std::vector<uint8_t> b;
	explicit Asm(uint64_t addr) : at(addr) {}
	Asm &operator()(std::initializer_list<uint8_t> bytes) {
		b.insert(b.end(), bytes);
		return *this;
	}
	Asm &rel32(uint8_t op, uint64_t target) {
		b.push_back(op);
		const int32_t r = int32_t(int64_t(target - (at + b.size() + 4)));
		b.insert(b.end(), reinterpret_cast<const uint8_t *>(&r),
		         reinterpret_cast<const uint8_t *>(&r) + 4);
		return *this;
	}
	Asm &imm64(uint64_t v) {
		b.insert(b.end(), reinterpret_cast<const uint8_t *>(&v),
		         reinterpret_cast<const uint8_t *>(&v) + 8);
		return *this;
	}
	// The JIT's prologue of a main program without stack and tail calls.
	Asm &prologue(bool main = true) {
		(*this)({0xf3, 0x0f, 0x1e, 0xfa});       // endbr64
		(*this)({0x0f, 0x1f, 0x44, 0x00, 0x00}); // fentry nop
		if (main)
			(*this)({0x0f, 0x1f, 0x44, 0x00, 0x00}); // redirect nop
		(*this)({0x0f, 0x1f, 0x00});                     // nop3
		(*this)({0x55, 0x48, 0x89, 0xe5});               // push rbp; mov rbp, rsp
		(*this)({0xf3, 0x0f, 0x1e, 0xfa});               // endbr64
		if (main)
			(*this)({0x0f, 0x1f, 0x44, 0x00, 0x00}); // tail call landing pad
		return *this;
	}
	Asm &epilogue() { return (*this)({0xc9}).rel32(0xe9, kRetThunk); } // leave; jmp thunk
	// rax = data (xdp_buff.data at 0), rdx = the input's first 8 bytes
	Asm &load_input() { return (*this)({0x48, 0x8b, 0x47, 0x00, 0x48, 0x8b, 0x50, 0x08}); }
	// slot = rdx; eax = XDP_PASS
	Asm &store_pass() { return (*this)({0x48, 0x89, 0x10, 0xb8, 0x02, 0x00, 0x00, 0x00}); }
};

Image image(std::initializer_list<Asm> funcs) {
	Image img;
	for (auto &f : funcs) {
		img.func_addrs.push_back(f.at);
		img.func_lens.push_back(uint32_t(f.b.size()));
		img.code.insert(img.code.end(), f.b.begin(), f.b.end());
	}
	return img;
}

// An xlated ld_imm64: src_reg, first and second imm.
std::vector<bpf_insn> ld_imm64_pair(uint8_t src, int32_t lo, int32_t hi) {
	bpf_insn first{}, second{};
	first.code = BPF_LD | BPF_IMM | BPF_DW;
	first.src_reg = src;
	first.imm = lo;
	second.imm = hi;
	return {first, second};
}

std::vector<uint8_t> u64_input(uint64_t v) {
	std::vector<uint8_t> in(16, 0xaa);
	std::memcpy(in.data(), &v, 8);
	return in;
}

// slot = input + 1, through the return thunk.
Asm plus(uint64_t at, uint8_t k) {
	Asm a(at);
	a.prologue().load_input()({0x48, 0x83, 0xc2, k}).store_pass().epilogue();
	return a;
}

ProgDump prog(Image stock, Kind k = Kind::xdp) {
	ProgDump p;
	p.name = "t";
	p.kind = k;
	p.stock = std::move(stock);
	p.rejit = p.stock;
	p.inputs = {u64_input(1), u64_input(41), u64_input(~0ull)};
	return p;
}

TEST(Replay, RunsAnImageThroughItsReturnThunk) {
	const Dump d = make_dump();
	const ProgDump p = prog(image({plus(kProg, 1)}));
	for (unsigned align : {0u, 16u, 48u}) {
		auto r = Replay::make(d, p, p.stock, align);
		ASSERT_TRUE(r) << r.error().msg;
		EXPECT_EQ(r->entry_addr() % 64, align);
		EXPECT_EQ(r->patched(), "1 return thunk");
		for (uint64_t v : {0ull, 41ull, 0xffffffffffffffffull}) {
			auto res = r->run(u64_input(v));
			ASSERT_TRUE(res) << res.error().msg;
			EXPECT_EQ(res->retval, 2u);
			EXPECT_EQ(res->result, v + 1);
		}
	}
}

TEST(Replay, RefusesAHelperCall) {
	const Dump d = make_dump();
	Asm a(kProg);
	a.prologue().rel32(0xe8, kLookup).epilogue();
	const ProgDump p = prog(image({a}));
	auto r = Replay::make(d, p, p.stock);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().err, EOPNOTSUPP);
	EXPECT_EQ(r.error().msg, "calls bpf_map_lookup_elem");
}

TEST(Replay, RefusesAJumpOutOfTheImage) {
	const Dump d = make_dump();
	Asm a(kProg);
	a.prologue().rel32(0xe9, kLookup + 0x10);
	const ProgDump p = prog(image({a}));
	auto r = Replay::make(d, p, p.stock);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().msg, "jumps to bpf_map_lookup_elem+0x10");
}

TEST(Replay, PatchesARetpolineIntoAnIndirectJump) {
	const Dump d = make_dump();
	// rax = the body after the jmp through __x86_indirect_thunk_rax (from
	// call next; pop rax: the replay refuses RIP-relative addressing)
	Asm a(kProg);
	a.prologue()({0xe8, 0, 0, 0, 0, 0x58});             // call .+5; pop rax
	a({0x48, 0x83, 0xc0, 0x0a}).rel32(0xe9, kRaxThunk); // add rax, 10; jmp thunk
	a.load_input()({0x48, 0x83, 0xc2, 0x05}).store_pass().epilogue();
	const ProgDump p = prog(image({a}));
	auto r = Replay::make(d, p, p.stock);
	ASSERT_TRUE(r) << r.error().msg;
	EXPECT_EQ(r->patched(), "1 retpoline, 1 return thunk");
	auto res = r->run(u64_input(10));
	ASSERT_TRUE(res) << res.error().msg;
	EXPECT_EQ(res->result, 15u);
}

// movabs rcx, &value + 8; mov rdx, [rcx]; the slot gets it.
Asm reads_map(uint64_t plain) {
	Asm a(kProg);
	a.prologue()({0x48, 0xb9}).imm64(kMapValue + 8);
	a({0x48, 0xbe}).imm64(plain); // movabs rsi, plain
	a({0x48, 0x8b, 0x47, 0x00, 0x48, 0x8b, 0x11, 0x48, 0x31, 0xf2});
	return a.store_pass().epilogue(); // slot = value ^ plain
}

ProgDump map_prog(bool frozen, uint64_t plain, size_t n_plain = 1) {
	ProgDump p = prog(image({reads_map(plain)}));
	MapDump m;
	m.id = 7;
	m.name = "t.rodata";
	m.type = BPF_MAP_TYPE_ARRAY;
	m.key_size = 4;
	m.value_size = 16;
	m.max_entries = 1;
	m.frozen = frozen;
	m.value.resize(16);
	const uint64_t v = 0x1122334455667788;
	std::memcpy(m.value.data() + 8, &v, 8);
	p.maps = {m};
	auto mv = ld_imm64_pair(BPF_PSEUDO_MAP_VALUE, 7, 8);
	p.stock.xlated.insert(p.stock.xlated.end(), mv.begin(), mv.end());
	for (size_t i = 0; i < n_plain; i++) {
		auto c = ld_imm64_pair(0, int32_t(uint32_t(plain)), int32_t(plain >> 32));
		p.stock.xlated.insert(p.stock.xlated.end(), c.begin(), c.end());
	}
	p.rejit = p.stock;
	return p;
}

TEST(Replay, ReadsAFrozenMapFromAUserCopy) {
	const Dump d = make_dump();
	const uint64_t plain = 0x0123456789abcdef;
	const ProgDump p = map_prog(true, plain);
	auto r = Replay::make(d, p, p.stock);
	ASSERT_TRUE(r) << r.error().msg;
	EXPECT_EQ(r->patched(), "1 map value, 1 return thunk");
	auto res = r->run(u64_input(0));
	ASSERT_TRUE(res) << res.error().msg;
	EXPECT_EQ(res->result, 0x1122334455667788 ^ plain);
}

TEST(Replay, RefusesAMutableMap) {
	const Dump d = make_dump();
	const ProgDump p = map_prog(false, 0x0123456789abcdef);
	auto r = Replay::make(d, p, p.stock);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().msg, "reads map t.rodata through a kernel address");
}

TEST(Replay, RefusesWhenMovabsDoNotMatchTheXlatedProgram) {
	const Dump d = make_dump();
	// a 64-bit constant in the xlated program the code does not have
	auto r = Replay::make(d, map_prog(true, 0x0123456789abcdef, 2),
	                      map_prog(true, 0x0123456789abcdef, 2).stock);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().msg, "2 movabs in the code for 3 64-bit loads in the xlated program");
	// the constant differs from the code's
	ProgDump p = map_prog(true, 0x0123456789abcdef);
	p.stock.xlated[2].imm = 0x12345;
	auto r2 = Replay::make(d, p, p.stock);
	ASSERT_FALSE(r2);
	EXPECT_NE(r2.error().msg.find("where insn 2 loads 0x123456700012345"), std::string::npos)
	        << r2.error().msg;
}

TEST(Replay, KeepsTheLayoutOfBpfToBpfCalls) {
	const Dump d = make_dump();
	// The subprogram 2 MiB below the main program, as two prog packs.
	const uint64_t sub_at = kProg - 0x200000;
	Asm sub(sub_at);
	sub.prologue(false).load_input()({0x48, 0x6b, 0xd2, 0x03}).store_pass().epilogue();
	Asm main(kProg);
	// call-depth accounting before the call: sarq $5, %gs:0x20fd0
	main.prologue()({0x65, 0x48, 0xc1, 0x3c, 0x25, 0xd0, 0x0f, 0x02, 0x00, 0x05});
	main.rel32(0xe8, sub_at).epilogue();
	const ProgDump p = prog(image({main, sub}));
	auto r = Replay::make(d, p, p.stock, 32);
	ASSERT_TRUE(r) << r.error().msg;
	EXPECT_EQ(r->entry_addr() % 64, 32u);
	EXPECT_EQ(r->patched(), "1 call depth accounting, 2 return thunks");
	auto res = r->run(u64_input(7));
	ASSERT_TRUE(res) << res.error().msg;
	EXPECT_EQ(res->result, 21u);
	EXPECT_EQ(res->retval, 2u);

	// 900 MiB apart still maps (only the pages with code are touched)
	ProgDump wide = prog(image({plus(kProg, 1), plus(kProg - (900ull << 20), 1)}));
	auto w = Replay::make(d, wide, wide.stock);
	ASSERT_TRUE(w) << w.error().msg;
	auto wr = w->run(u64_input(1));
	ASSERT_TRUE(wr) << wr.error().msg;
	EXPECT_EQ(wr->result, 2u);
	ProgDump far = prog(image({plus(kProg, 1), plus(kProg - (3ull << 30), 1)}));
	auto f = Replay::make(d, far, far.stock);
	ASSERT_FALSE(f);
	EXPECT_EQ(f.error().err, EOPNOTSUPP);
}

TEST(Replay, EntersTheReJitImageThroughTheStockRedirect) {
	const Dump d = make_dump();
	ProgDump p = prog(image({plus(kProg, 1)}));
	p.rejit = image({plus(kProg + 0x5000, 2)});
	auto r = Replay::make(d, p, p.rejit, 16, &p.stock);
	ASSERT_TRUE(r) << r.error().msg;
	EXPECT_EQ(r->entry_addr() % 64, 16u);
	EXPECT_EQ(r->patched(), "1 redirect, 1 return thunk");
	auto res = r->run(u64_input(40));
	ASSERT_TRUE(res) << res.error().msg;
	EXPECT_EQ(res->result, 42u);
	// a stock image without the redirect nop is not our kernel's
	ProgDump q = p;
	q.stock.code[9] = 0x90;
	EXPECT_FALSE(Replay::make(d, q, q.rejit, 0, &q.stock));
}

TEST(Replay, ReportsAFaultInsteadOfCrashing) {
	const Dump d = make_dump();
	ProgDump p = prog(image({plus(kProg, 1)}));
	// mov rax, [rdi+0x40] instead of [rdi+0]: past the xdp_buff, zeros
	p.stock.code[30 + 3] = 0x40;
	auto r = Replay::make(d, p, p.stock);
	ASSERT_TRUE(r) << r.error().msg;
	auto res = r->run(u64_input(1));
	ASSERT_FALSE(res);
	EXPECT_EQ(res.error().msg, "SIGSEGV at image+0x22 (func 0+0x22) accessing 0x8");
	// ud2
	p.stock.code[30] = 0x0f;
	p.stock.code[31] = 0x0b;
	auto u = Replay::make(d, p, p.stock);
	ASSERT_TRUE(u) << u.error().msg;
	res = u->run(u64_input(1));
	ASSERT_FALSE(res);
	EXPECT_EQ(res.error().msg.rfind("SIGILL at image+0x1e", 0), 0u) << res.error().msg;
	// and a good image still runs afterwards
	const ProgDump good = prog(image({plus(kProg, 1)}));
	auto g = Replay::make(d, good, good.stock);
	ASSERT_TRUE(g);
	auto ok = g->run(u64_input(1));
	ASSERT_TRUE(ok) << ok.error().msg;
	EXPECT_EQ(ok->result, 2u);
}

TEST(Replay, StopsAnImageThatDoesNotReturn) {
	const Dump d = make_dump();
	Asm a(kProg);
	a.prologue()({0xeb, 0xfe}); // jmp .
	const ProgDump p = prog(image({a}));
	auto r = Replay::make(d, p, p.stock);
	ASSERT_TRUE(r) << r.error().msg;
	auto res = r->run(u64_input(1));
	ASSERT_FALSE(res);
	EXPECT_EQ(res.error().err, ETIMEDOUT);
}

// tc / cgroup_skb: data from skb->data, result into cb[0..1], retval the
// protocol as stored (network order).
Asm skb_prog() {
	Asm a(kProg);
	a.prologue()({0x48, 0x8b, 0x87, 200, 0, 0, 0});              // mov rax, [rdi+200]
	a({0x48, 0x8b, 0x50, 0x08});                                 // mov rdx, [rax+8]
	a({0x8b, 0x8f, 112, 0, 0, 0, 0x48, 0x01, 0xca});             // mov ecx, len; add rdx, rcx
	a({0x89, 0x57, 48, 0x48, 0xc1, 0xea, 0x20, 0x89, 0x57, 52}); // cb[0], cb[1]
	a({0x0f, 0xb7, 0x87, 180, 0, 0, 0});                         // movzx eax, protocol
	return a.epilogue();
}

TEST(Replay, BuildsSkbContextsLikeTheKernelsTestRun) {
	const Dump d = make_dump();
	std::vector<uint8_t> in = u64_input(0x100000005);
	in[4] = 0x86, in[5] = 0xdd; // bytes 12, 13 of slot + input: IPv6
	uint64_t first;
	std::memcpy(&first, in.data(), 8);
	for (Kind k : {Kind::tc, Kind::cgroup_skb}) {
		const ProgDump p = prog(image({skb_prog()}), k);
		auto r = Replay::make(d, p, p.stock);
		ASSERT_TRUE(r) << r.error().msg;
		auto res = r->run(in);
		ASSERT_TRUE(res) << res.error().msg;
		const uint32_t len =
		        uint32_t(8 + in.size()); // cgroup_skb: after its Ethernet header
		EXPECT_EQ(res->result, first + len);
		// tc: eth_type_trans() of the packet's own bytes; cgroup_skb: the
		// Ethernet header in front says IPv4
		EXPECT_EQ(res->retval, k == Kind::tc ? 0xdd86u : 0x0008u);
	}
}

TEST(Replay, PacketsSitAtTheKernelsHeadroom) {
	const Dump d = make_dump();
	auto x = Packets::make(d.ctx, Kind::xdp, {{1, 2, 3}});
	ASSERT_TRUE(x) << x.error().msg;
	EXPECT_EQ(reinterpret_cast<uintptr_t>(x->data(0)) % 64, 0u); // 256 past a line
	EXPECT_EQ(x->data_end(0) - x->data(0), 11);
	uint8_t *hard;
	std::memcpy(&hard, static_cast<uint8_t *>(x->ctx(0)) + 24, 8);
	EXPECT_EQ(x->data(0) - hard, 256);
	auto c = Packets::make(d.ctx, Kind::cgroup_skb, {{1, 2, 3}});
	ASSERT_TRUE(c) << c.error().msg;
	EXPECT_EQ(reinterpret_cast<uintptr_t>(c->data(0)) % 64, 14u);
	uint8_t *end;
	std::memcpy(&end, static_cast<uint8_t *>(c->ctx(0)) + 40 + 40, 8);
	EXPECT_EQ(end, c->data_end(0));
	// BPF_PROG_TEST_RUN leaves a cgroup_skb's data_end NULL
	auto t = Packets::make(d.ctx, Kind::cgroup_skb, {{1, 2, 3}}, true);
	ASSERT_TRUE(t) << t.error().msg;
	std::memcpy(&end, static_cast<uint8_t *>(t->ctx(0)) + 40 + 40, 8);
	EXPECT_EQ(end, nullptr);
	CtxLayout bad = d.ctx;
	bad.skb_size = 100;
	EXPECT_FALSE(Packets::make(bad, Kind::tc, {{1}}));
}

TEST(Replay, NativeLibAndTiming) {
	auto lib = NativeLib::open(REPLAY_NATIVE_SO);
	ASSERT_TRUE(lib) << lib.error().msg;
	const NativeLib::Bench *b = lib->find("replay_plus1");
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(b->kind, Kind::xdp);
	EXPECT_EQ(lib->find("nope"), nullptr);
	const Dump d = make_dump();
	ProgDump p = prog(image({plus(kProg, 1)}));
	p.name = "replay_plus1";
	p.rejit = image({plus(kProg + 0x5000, 1)});
	for (auto &in : p.inputs) {
		auto r = Replay::make(d, p, p.stock);
		ASSERT_TRUE(r);
		auto res = r->run(in);
		ASSERT_TRUE(res) << res.error().msg;
		EXPECT_EQ(*res, NativeLib::run(*b, in));
	}
	TimingOptions o;
	o.samples = 3;
	o.calls = 2000;
	o.aligns = {0, 32};
	auto t = time_replay(d, p, &*lib, o);
	ASSERT_TRUE(t) << t.error().msg;
	// No time is asserted: only that every figure was measured.
	for (double v : {t->ns_stock, t->ns_rejit, t->ns_native, t->ratio, t->ratio_native})
		EXPECT_TRUE(std::isfinite(v) && v > 0);
	EXPECT_LE(t->ratio_lo, t->ratio_hi);
	// without a native build: NaN there; a faulting image: an error
	auto t2 = time_replay(d, p, nullptr, o);
	ASSERT_TRUE(t2) << t2.error().msg;
	EXPECT_TRUE(std::isnan(t2->ns_native));
	p.rejit.code[30 + 3] = 0x40;
	auto t3 = time_replay(d, p, nullptr, o);
	ASSERT_FALSE(t3);
	EXPECT_NE(t3.error().msg.find("re-JIT, input 0: SIGSEGV"), std::string::npos)
	        << t3.error().msg;
}

// ---- real images: the host kernel's own JIT -----------------------------

// The program's image, function addresses and xlated code, and its maps.
bool host_prog(int fd, ProgDump &p) {
	auto im = prog_image(fd);
	if (!im)
		return false;
	p.stock = std::move(im).value();
	bpf_prog_info n{};
	__u32 len = sizeof(n);
	if (bpf_prog_get_info_by_fd(fd, &n, &len))
		return false;
	std::vector<uint32_t> map_ids(n.nr_map_ids);
	bpf_prog_info w{};
	w.nr_map_ids = n.nr_map_ids;
	w.map_ids = reinterpret_cast<uintptr_t>(map_ids.data());
	len = sizeof(w);
	if (bpf_prog_get_info_by_fd(fd, &w, &len))
		return false;
	for (uint32_t id : map_ids) {
		const int mfd = bpf_map_get_fd_by_id(id);
		bpf_map_info mi{};
		__u32 ml = sizeof(mi);
		if (mfd < 0 || bpf_map_get_info_by_fd(mfd, &mi, &ml))
			return false;
		MapDump m;
		m.id = id;
		m.name = mi.name;
		m.type = mi.type;
		m.value_size = mi.value_size;
		m.max_entries = mi.max_entries;
		// libbpf freezes what it maps read-only for programs (.rodata)
		m.frozen = mi.map_flags & BPF_F_RDONLY_PROG;
		m.value.resize(mi.value_size);
		uint32_t key = 0;
		if (m.type == BPF_MAP_TYPE_ARRAY && bpf_map_lookup_elem(mfd, &key, m.value.data()))
			return false;
		close(mfd);
		p.maps.push_back(std::move(m));
	}
	return true;
}

// The clang-built test objects loaded into the kernel this test runs on:
// their images replayed here agree with BPF_PROG_TEST_RUN on the same
// packets. On this kernel's JIT the returns may go through a return thunk
// (SRSO, retbleed) and the image has no redirect nop (not our kernel).
TEST(Replay, HostKernelImagesAgreeWithTheTestRun) {
	auto ctx = ctx_layout();
	if (!ctx)
		GTEST_SKIP() << ctx.error().msg;
	auto syms = kallsyms();
	if (!syms)
		GTEST_SKIP() << syms.error().msg;
	Dump d;
	d.ctx = *ctx;
	d.kallsyms = std::move(syms).value();
	std::mt19937 rng(35);
	unsigned replayed = 0, thunks = 0, maps = 0;
	for (const char *o : {"rotate", "rodata", "store", "branchy", "bitfield", "be_load",
	                      "popcount", "zext", "crc", "packed"}) {
		const std::string path = fmt::format("{}/{}.bpf.o", BPF_OBJ_DIR, o);
		bpf_object *obj = bpf_object__open_file(path.c_str(), nullptr);
		ASSERT_TRUE(obj) << path;
		if (bpf_object__load(obj)) {
			bpf_object__close(obj);
			GTEST_SKIP() << "cannot load BPF programs here: " << strerror(errno);
		}
		bpf_program *prog;
		bpf_object__for_each_program(prog, obj) {
			ProgDump p;
			p.name = bpf_program__name(prog);
			const int fd = bpf_program__fd(prog);
			ASSERT_TRUE(host_prog(fd, p)) << p.name;
			auto r = Replay::make(d, p, p.stock, replayed % 4 * 16);
			ASSERT_TRUE(r) << p.name << ": " << r.error().msg;
			thunks += r->patched().find("return thunk") != std::string::npos;
			maps += r->patched().find("map value") != std::string::npos;
			for (int k = 0; k < 6; k++) {
				std::vector<uint8_t> in(32 + rng() % 64);
				for (auto &b : in)
					b = uint8_t(rng());
				std::vector<uint8_t> pkt(8 + in.size()), out(pkt.size());
				std::copy(in.begin(), in.end(), pkt.begin() + 8);
				LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt.data(),
				            .data_out = out.data(),
				            .data_size_in = uint32_t(pkt.size()),
				            .data_size_out = uint32_t(out.size()));
				ASSERT_EQ(bpf_prog_test_run_opts(fd, &t), 0) << p.name;
				RunResult want{t.retval, 0};
				std::memcpy(&want.result, out.data(), 8);
				auto got = r->run(in);
				ASSERT_TRUE(got) << p.name << ": " << got.error().msg;
				EXPECT_EQ(got->retval, want.retval) << p.name << " input " << k;
				EXPECT_EQ(got->result, want.result) << p.name << " input " << k;
			}
			replayed++;
		}
		bpf_object__close(obj);
	}
	EXPECT_GE(replayed, 12u);
	EXPECT_GE(maps, 2u); // rodata's and crc's tables
	std::printf("replayed %u host-kernel images, %u through a return thunk\n", replayed,
	            thunks);
}

} // namespace
} // namespace rejit::bench
