// SPDX-License-Identifier: GPL-2.0
// rejit-bench's dump format (write/read round trip, refusals of bad dumps)
// and its host-kernel tier on hand-written programs; the tier's tests skip
// with the reason where the host kernel refuses BPF.
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "bench/collect.hpp"
#include "bench/dump.hpp"
#include "bench/host_tier.hpp"
#include "bench/report.hpp"

namespace {

using namespace rejit::bench;
namespace fs = std::filesystem;

// A fresh directory, removed afterwards.
struct TempDir {
	fs::path path;
	TempDir() {
		char tmpl[] = "/tmp/bench_dump_test.XXXXXX";
		path = mkdtemp(tmpl);
	}
	~TempDir() { fs::remove_all(path); }
};

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
	bpf_insn i{};
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

bool same(const std::vector<bpf_insn> &a, const std::vector<bpf_insn> &b) {
	return a.size() == b.size() &&
	       (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(bpf_insn)) == 0);
}

Image image(uint8_t seed, size_t funcs) {
	Image im;
	for (size_t i = 0; i < 100u + seed; i++)
		im.code.push_back(uint8_t(i * 7 + seed));
	for (size_t f = 0; f < funcs; f++) {
		im.func_addrs.push_back(0xffffffffc0001000ULL + f * 0x40 + seed);
		im.func_lens.push_back(uint32_t(40 + f));
	}
	for (int i = 0; i < 5; i++)
		im.xlated.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, i, 0, 0, seed + i));
	return im;
}

Dump sample_dump() {
	Dump d;
	d.kernel = "6.12.117-bpfrejit";
	d.cpu = "QEMU TCG CPU";
	d.ctx.xdp_buff_size = 56;
	d.ctx.xdp_data_end = 8;
	d.ctx.skb_cb = 40;
	d.ctx.cb_bpf_cb = 8;
	d.kallsyms = {{0xffffffff81000000ULL, "_stext"},
	              {0xffffffff81001000ULL, "__x86_return_thunk"},
	              {0xffffffff81002000ULL, "bpf_map_lookup_elem"}};
	ProgDump a;
	a.name = "siphash";
	a.object = "/x/siphash.bpf.o";
	a.kind = Kind::xdp;
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.inputs = {{1, 2, 3}, {}, std::vector<uint8_t>(1500, 0xab)};
	a.stock = image(1, 1);
	a.rejit = image(2, 3);
	a.kernel_stock = {{2, 0xffffffffffffffffULL}, {2, 0}, {0, 42}};
	a.kernel_rejit = {{2, 1}, {2, 0}, {0, 42}};
	a.passes = {{"rotate", 32}, {"wide-load", 1}};
	a.orig = {insn(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX_VALUE, 0, 0),
	          insn(0, 0, 0, 0, 0), insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
	a.nokinsn = {insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
	a.maps = {{7, "x.rodata", BPF_MAP_TYPE_ARRAY, 4, 3, 1, BPF_F_RDONLY_PROG, true, {9, 8, 7}},
	          {8, "stats", BPF_MAP_TYPE_HASH, 4, 8, 16, 0, false, {}}};
	ProgDump b;
	b.name = "broken";
	b.object = "/y/broken.bpf.o";
	b.kind = Kind::cgroup_skb;
	b.prog_type = BPF_PROG_TYPE_CGROUP_SKB;
	b.inputs = {{5}};
	b.refused = "load failed: Permission denied\nverifier said no";
	b.rejit_error = "prog 3: re-JIT rejected";
	b.kernel_run_problem = "no packet pointers";
	d.progs = {a, b};
	return d;
}

void expect_image_eq(const Image &a, const Image &b) {
	EXPECT_EQ(a.code, b.code);
	EXPECT_EQ(a.func_addrs, b.func_addrs);
	EXPECT_EQ(a.func_lens, b.func_lens);
	EXPECT_TRUE(same(a.xlated, b.xlated));
}

TEST(BenchDump, RoundTrip) {
	TempDir t;
	const Dump d = sample_dump();
	ASSERT_TRUE(write_dump(d, t.path.string()));
	auto r = read_dump(t.path.string());
	ASSERT_TRUE(r) << r.error().str();
	EXPECT_EQ(r->kernel, d.kernel);
	EXPECT_EQ(r->cpu, d.cpu);
	EXPECT_EQ(std::memcmp(&r->ctx, &d.ctx, sizeof(CtxLayout)), 0);
	EXPECT_EQ(r->kallsyms, d.kallsyms);
	ASSERT_EQ(r->progs.size(), d.progs.size());
	for (size_t i = 0; i < d.progs.size(); i++) {
		const ProgDump &x = d.progs[i], &y = r->progs[i];
		EXPECT_EQ(x.name, y.name);
		EXPECT_EQ(x.object, y.object);
		EXPECT_EQ(x.kind, y.kind);
		EXPECT_EQ(x.prog_type, y.prog_type);
		EXPECT_EQ(x.inputs, y.inputs);
		expect_image_eq(x.stock, y.stock);
		expect_image_eq(x.rejit, y.rejit);
		EXPECT_EQ(x.kernel_stock, y.kernel_stock);
		EXPECT_EQ(x.kernel_rejit, y.kernel_rejit);
		EXPECT_EQ(x.passes, y.passes);
		EXPECT_EQ(x.rejit_error, y.rejit_error);
		EXPECT_EQ(x.kernel_run_problem, y.kernel_run_problem);
		EXPECT_TRUE(same(x.orig, y.orig));
		EXPECT_TRUE(same(x.nokinsn, y.nokinsn));
		ASSERT_EQ(x.maps.size(), y.maps.size());
		for (size_t m = 0; m < x.maps.size(); m++) {
			EXPECT_EQ(x.maps[m].id, y.maps[m].id);
			EXPECT_EQ(x.maps[m].name, y.maps[m].name);
			EXPECT_EQ(x.maps[m].type, y.maps[m].type);
			EXPECT_EQ(x.maps[m].key_size, y.maps[m].key_size);
			EXPECT_EQ(x.maps[m].value_size, y.maps[m].value_size);
			EXPECT_EQ(x.maps[m].max_entries, y.maps[m].max_entries);
			EXPECT_EQ(x.maps[m].flags, y.maps[m].flags);
			EXPECT_EQ(x.maps[m].frozen, y.maps[m].frozen);
			EXPECT_EQ(x.maps[m].value, y.maps[m].value);
		}
		EXPECT_EQ(x.refused, y.refused);
	}
}

TEST(BenchDump, Symbol) {
	const Dump d = sample_dump();
	EXPECT_FALSE(d.symbol(0xffffffff80ffffffULL));
	auto s = d.symbol(0xffffffff81001000ULL);
	ASSERT_TRUE(s);
	EXPECT_EQ(s->first, "__x86_return_thunk");
	EXPECT_EQ(s->second, 0u);
	s = d.symbol(0xffffffff81002010ULL);
	ASSERT_TRUE(s);
	EXPECT_EQ(s->first, "bpf_map_lookup_elem");
	EXPECT_EQ(s->second, 0x10u);
}

TEST(BenchDump, BadDumpsAreRefused) {
	TempDir t;
	EXPECT_FALSE(read_dump((t.path / "none").string()));
	ASSERT_TRUE(write_dump(sample_dump(), t.path.string()));
	// a binary file shorter than dump.json says
	fs::resize_file(t.path / "siphash" / "stock.jit", 3);
	auto r = read_dump(t.path.string());
	ASSERT_FALSE(r);
	EXPECT_NE(r.error().msg.find("stock.jit"), std::string::npos) << r.error().msg;
	// a name that would leave the directory
	Dump d = sample_dump();
	d.progs[0].name = "../escape";
	EXPECT_FALSE(write_dump(d, (t.path / "2").string()));
	d.progs[0].name = d.progs[1].name;
	EXPECT_FALSE(write_dump(d, (t.path / "3").string())) << "two rows of one name";
	// malformed JSON
	std::ofstream(t.path / "dump.json") << "{\"kernel\": 1}";
	EXPECT_FALSE(read_dump(t.path.string()));
}

TEST(BenchDump, TestPacket) {
	const std::vector<uint8_t> in = {1, 2, 3};
	auto x = test_packet(Kind::xdp, in);
	ASSERT_EQ(x.size(), 11u);
	EXPECT_EQ(std::vector<uint8_t>(x.begin(), x.begin() + 8), std::vector<uint8_t>(8, 0));
	EXPECT_EQ(std::vector<uint8_t>(x.begin() + 8, x.end()), in);
	auto c = test_packet(Kind::cgroup_skb, in);
	ASSERT_EQ(c.size(), 14 + 11u);
	EXPECT_EQ(c[12], 0x08); // IPv4
	EXPECT_EQ(c[13], 0x00);
	EXPECT_EQ(std::vector<uint8_t>(c.begin() + 14 + 8, c.end()), in);
}

TEST(BenchDump, ObjectSpec) {
	TempDir t;
	std::ofstream(t.path / "a.bpf.o") << "x";
	auto s = parse_object_spec((t.path / "a.bpf.o").string());
	ASSERT_TRUE(s);
	EXPECT_EQ(s->name, "a");
	EXPECT_TRUE(s->prog.empty());
	s = parse_object_spec((t.path / "a.bpf.o:xdp_flow").string());
	ASSERT_TRUE(s);
	EXPECT_EQ(s->name, "xdp_flow");
	EXPECT_EQ(s->prog, "xdp_flow");
	EXPECT_FALSE(parse_object_spec((t.path / "missing.bpf.o").string()));
	// inputs: the files in order, or 64 bytes that are the same every time
	std::ofstream(t.path / "a.in") << "ab";
	std::ofstream(t.path / "a.in.1") << "cde";
	auto ins = read_inputs(t.path.string(), "a");
	ASSERT_TRUE(ins);
	ASSERT_EQ(ins->size(), 2u);
	EXPECT_EQ((*ins)[1], (std::vector<uint8_t>{'c', 'd', 'e'}));
	auto r1 = read_inputs(t.path.string(), "b"), r2 = read_inputs(t.path.string(), "b");
	ASSERT_TRUE(r1 && r2);
	ASSERT_EQ(r1->size(), 1u);
	EXPECT_EQ(r1->front().size(), 64u);
	EXPECT_EQ(*r1, *r2);
}

// Host-kernel tier on hand-written programs.

constexpr uint64_t kFrozen = 0x1000;

// xdp: slot = first 8 input bytes (little-endian) + the frozen map's value
// (+ 1 if `off_by_one`); XDP_PASS.
std::vector<bpf_insn> xdp_prog(bool off_by_one) {
	std::vector<bpf_insn> p = {
	        insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0), // data
	        insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 4, 0), // data_end
	        insn(BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0),
	        insn(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, 16),
	        insn(BPF_JMP | BPF_JGT | BPF_X, 4, 3, 9, 0), // -> r0 = 0
	        insn(BPF_LDX | BPF_MEM | BPF_DW, 4, 2, 8, 0),
	        insn(BPF_LD | BPF_IMM | BPF_DW, 5, BPF_PSEUDO_MAP_IDX_VALUE, 0, 0),
	        insn(0, 0, 0, 0, 0),
	        insn(BPF_LDX | BPF_MEM | BPF_DW, 5, 5, 0, 0),
	        insn(BPF_ALU64 | BPF_ADD | BPF_X, 4, 5, 0, 0),
	        insn(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, off_by_one ? 1 : 0),
	        insn(BPF_STX | BPF_MEM | BPF_DW, 2, 4, 0, 0),
	        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2),
	        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
	        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	return p;
}

// tc / cgroup_skb: cb[0], cb[1] = the first 8 input bytes; returns `ok`.
std::vector<bpf_insn> skb_prog(int ok) {
	const int16_t data = offsetof(__sk_buff, data), end = offsetof(__sk_buff, data_end);
	const int16_t cb0 = offsetof(__sk_buff, cb[0]), cb1 = offsetof(__sk_buff, cb[1]);
	return {
	        insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, data, 0),
	        insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, end, 0),
	        insn(BPF_ALU64 | BPF_MOV | BPF_X, 4, 2, 0, 0),
	        insn(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, 16),
	        insn(BPF_JMP | BPF_JGT | BPF_X, 4, 3, 6, 0),
	        insn(BPF_LDX | BPF_MEM | BPF_W, 4, 2, 8, 0),
	        insn(BPF_STX | BPF_MEM | BPF_W, 1, 4, cb0, 0),
	        insn(BPF_LDX | BPF_MEM | BPF_W, 4, 2, 12, 0),
	        insn(BPF_STX | BPF_MEM | BPF_W, 1, 4, cb1, 0),
	        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, ok),
	        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
	        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
}

uint64_t le64(const std::vector<uint8_t> &in) {
	uint64_t v = 0;
	std::memcpy(&v, in.data(), 8);
	return v;
}

ProgDump host_prog(Kind k) {
	ProgDump p;
	p.name = "host_tier_test";
	p.kind = k;
	// cgroup_skb: 6.18 wants 20 bytes of IPv4 header behind the Ethernet one
	p.inputs = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
	            std::vector<uint8_t>(64, 0xff),
	            {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0, 0, 0, 0}};
	if (k == Kind::xdp) {
		p.prog_type = BPF_PROG_TYPE_XDP;
		p.orig = p.nokinsn = xdp_prog(false);
		std::vector<uint8_t> v(8);
		std::memcpy(v.data(), &kFrozen, 8);
		p.maps = {{1, "t.rodata", BPF_MAP_TYPE_ARRAY, 4, 8, 1, BPF_F_RDONLY_PROG, true, v}};
	} else {
		p.prog_type = k == Kind::tc ? BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE_CGROUP_SKB;
		p.orig = p.nokinsn = skb_prog(k == Kind::tc ? 0 : 1);
	}
	return p;
}

const HostTierOptions kQuick = {200, 3, 2};

TEST(BenchHostTier, Xdp) {
	if (auto why = host_bpf_problem(); !why.empty())
		GTEST_SKIP() << "host kernel tier not available: " << why;
	ProgDump p = host_prog(Kind::xdp);
	auto t = host_tier(p, kQuick);
	ASSERT_TRUE(t) << t.error().str();
	ASSERT_EQ(t->stock.size(), p.inputs.size());
	for (size_t i = 0; i < p.inputs.size(); i++) {
		const RunResult want{2, le64(p.inputs[i]) + kFrozen};
		EXPECT_EQ(t->stock[i], want) << "input " << i;
		EXPECT_EQ(t->rejit[i], want) << "input " << i;
	}
	EXPECT_GT(t->ns_stock, 0);
	EXPECT_GT(t->ns_rejit, 0);
	EXPECT_GT(t->jited_stock, 0u);

	// a rewrite that computes something else shows in its results
	p.nokinsn = xdp_prog(true);
	t = host_tier(p, kQuick);
	ASSERT_TRUE(t) << t.error().str();
	EXPECT_EQ(t->rejit[0].result, le64(p.inputs[0]) + kFrozen + 1);
	EXPECT_NE(t->rejit, t->stock);

	// the frozen map cannot be written by the program: a store is refused
	p.nokinsn = xdp_prog(false);
	p.nokinsn.insert(p.nokinsn.begin() + 8, insn(BPF_ST | BPF_MEM | BPF_DW, 5, 0, 0, 1));
	p.nokinsn[4].off++; // the bounds check still skips to r0 = 0
	t = host_tier(p, kQuick);
	ASSERT_FALSE(t);
	EXPECT_NE(t.error().msg.find("rewrite without kinsns"), std::string::npos) << t.error().msg;
}

TEST(BenchHostTier, SkbKinds) {
	if (auto why = host_bpf_problem(); !why.empty())
		GTEST_SKIP() << "host kernel tier not available: " << why;
	for (Kind k : {Kind::tc, Kind::cgroup_skb}) {
		ProgDump p = host_prog(k);
		auto t = host_tier(p, kQuick);
		ASSERT_TRUE(t) << kind_name(k) << ": " << t.error().str();
		for (size_t i = 0; i < p.inputs.size(); i++) {
			const RunResult want{k == Kind::tc ? 0u : 1u, le64(p.inputs[i])};
			EXPECT_EQ(t->stock[i], want) << kind_name(k) << " input " << i;
		}
	}
}

// The report: micro.json's keys, and which rows the geomeans take.

Row row(std::string name, double ratio, bool agree, bool changed) {
	Row r;
	r.name = std::move(name);
	r.insns_stock = 100;
	r.insns_rejit = changed ? 50 : 100;
	r.jited_stock = 400;
	r.jited_rejit = changed ? 100 : 400;
	r.ns_stock = 10 * ratio;
	r.ns_rejit = 10;
	r.ratio = ratio;
	r.results_agree = agree;
	if (changed)
		r.passes = {{"rotate", 3}};
	return r;
}

TEST(BenchReport, JsonKeys) {
	std::vector<Row> rows = {row("a", 2, true, true), row("b", 1, true, false)};
	rows[1].refused = {"replay stock: calls bpf_map_lookup_elem", "host tier: off"};
	rows[1].ns_stock.reset();
	rows[1].ns_host_stock = 41;
	const auto j = rows_json(rows);
	ASSERT_EQ(j.size(), 2u);
	std::vector<std::string> keys;
	for (const auto &[k, v] : j[0].items())
		keys.push_back(k);
	std::sort(keys.begin(), keys.end());
	const std::vector<std::string> want = {
	        "insns_rejit",   "insns_stock",   "jited_rejit",   "jited_stock", "name",
	        "ns_host_rejit", "ns_host_stock", "ns_native",     "ns_rejit",    "ns_stock",
	        "passes",        "refused",       "results_agree", "type"};
	EXPECT_EQ(keys, want);
	EXPECT_EQ(j[0]["passes"], nlohmann::json::array({"rotate"}));
	EXPECT_TRUE(j[0]["refused"].is_null());
	EXPECT_TRUE(j[0]["ns_native"].is_null());
	EXPECT_EQ(j[0]["type"], "xdp");
	EXPECT_TRUE(j[1]["ns_stock"].is_null());
	EXPECT_EQ(j[1]["ns_host_stock"], 41.0);
	EXPECT_EQ(j[1]["refused"], "replay stock: calls bpf_map_lookup_elem; host tier: off");
}

TEST(BenchReport, GeomeansTakeAgreeingRows) {
	// 2x and 0.5x: geomean 1; the 100x row disagrees and stays out
	std::vector<Row> rows = {row("fast", 2, true, true), row("slow", 0.5, true, false),
	                         row("wrong", 100, false, true)};
	rows[2].mismatches = {"replay re-JIT, input 0: retval 2 result 0x1, expected ..."};
	const std::string t = table(Dump{}, rows, "");
	EXPECT_NE(t.find("geomean, 2 rows"), std::string::npos) << t;
	EXPECT_NE(t.find("1.000x"), std::string::npos) << t;
	// changed rows: only "fast" (2x, code a quarter of the size)
	EXPECT_NE(t.find("geomean, 1 changed"), std::string::npos) << t;
	EXPECT_NE(t.find("2.000x"), std::string::npos) << t;
	EXPECT_NE(t.find("x0.250"), std::string::npos) << t;
	EXPECT_NE(t.find("MISMATCH wrong"), std::string::npos) << t;
	EXPECT_NE(t.find("wrong *"), std::string::npos) << t;
}

} // namespace
