// SPDX-License-Identifier: GPL-2.0
// replay_check: the native replay (rejit-daemon/src/bench/replay.cpp) of a
// `rejit-bench dump` against the kernel's own BPF_PROG_TEST_RUN results in
// that dump, for test_35_replay.sh. Every dumped program's stock image and
// re-JIT image (entered through the stock image's redirect) run on every
// input at two alignments; each result must be the kernel's (where the
// dump has none, a cgroup_skb program on 6.12, the re-JIT image's must be
// the stock image's).
//
//   replay_check [--corrupt imm|int3] DUMP_DIR
//
// --corrupt damages the images first, so that the check must fail: imm
// flips the low bit of every `mov r32, imm32` immediate, int3 puts an int3
// on the first instruction after the prologue's endbr64 at the tail call
// landing pad.
// Exit status: 0 all agree, 1 a mismatch or fault, 2 bad usage or dump.
#include <capstone/capstone.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "bench/dump.hpp"
#include "bench/replay.hpp"

using namespace rejit::bench;

namespace {

std::string show(const RunResult &r) {
	return fmt::format("retval {} result {:#x}", r.retval, r.result);
}

// Low bit of every mov r32, imm32 (B8+r, optionally REX.B).
unsigned corrupt_imm(Image &img) {
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_insn *insn = cs_malloc(h);
	const uint8_t *code = img.code.data();
	size_t left = img.code.size();
	uint64_t addr = 0;
	unsigned n = 0;
	while (left && cs_disasm_iter(h, &code, &left, &addr, insn)) {
		const size_t at = insn->address;
		const uint8_t *b = insn->bytes;
		const size_t rex = insn->size == 6 && b[0] == 0x41;
		if (insn->size == 5 + rex && (b[rex] & 0xf8) == 0xb8) {
			img.code[at + rex + 1] ^= 1;
			n++;
		}
	}
	cs_free(insn, 1);
	cs_close(&h);
	return n;
}

// An int3 after the second endbr64 (X86_TAIL_CALL_OFFSET) and its nop.
unsigned corrupt_int3(Image &img) {
	static const uint8_t endbr[] = {0xf3, 0x0f, 0x1e, 0xfa};
	auto &c = img.code;
	if (c.size() < 8 || std::memcmp(c.data(), endbr, 4))
		return 0;
	for (size_t i = 4; i + 4 + 5 < c.size(); i++)
		if (!std::memcmp(c.data() + i, endbr, 4)) {
			c[i + 4 + 5] = 0xcc;
			return 1;
		}
	return 0;
}

} // namespace

int main(int argc, char **argv) {
	std::string corrupt, dir;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--corrupt" && i + 1 < argc)
			corrupt = argv[++i];
		else if (dir.empty() && a[0] != '-')
			dir = a;
		else
			dir.clear(), i = argc;
	}
	if (dir.empty() || !(corrupt.empty() || corrupt == "imm" || corrupt == "int3")) {
		std::fputs("usage: replay_check [--corrupt imm|int3] DUMP_DIR\n", stderr);
		return 2;
	}
	auto d = read_dump(dir);
	if (!d) {
		fmt::print(stderr, "replay_check: {}\n", d.error().str());
		return 2;
	}
	unsigned replayed = 0, refused = 0, bad = 0, rejited = 0, map_values = 0;
	for (auto &p : d->progs) {
		if (!p.refused.empty()) {
			fmt::print("{}: not dumped: {}\n", p.name, p.refused);
			refused++;
			continue;
		}
		// No kernel results (6.12's test run gives cgroup_skb no packet):
		// the replays run as the hook runs the program, and the re-JIT
		// image must compute what the stock image computes.
		const bool no_kernel = !p.kernel_run_problem.empty() && p.kernel_stock.empty();
		if (no_kernel)
			fmt::print("{}: no kernel results ({}): re-JIT checked against stock\n",
			           p.name, p.kernel_run_problem);
		else if (p.kernel_stock.size() != p.inputs.size() ||
		         p.kernel_rejit.size() != p.inputs.size()) {
			fmt::print("{}: {} inputs but {}/{} kernel results\n", p.name,
			           p.inputs.size(), p.kernel_stock.size(), p.kernel_rejit.size());
			bad++;
			continue;
		}
		ProgDump q = p;
		if (corrupt == "imm") {
			corrupt_imm(q.stock);
			corrupt_imm(q.rejit);
		} else if (corrupt == "int3") {
			corrupt_int3(q.stock);
			corrupt_int3(q.rejit);
		}
		const bool has_rejit = p.rejit_error.empty();
		std::string line = fmt::format("{}:", p.name);
		bool refused_here = false;
		for (unsigned align : {0u, 32u}) {
			std::vector<RunResult> stock_replay(q.inputs.size());
			for (int which = 0; which < (has_rejit ? 2 : 1); which++) {
				const char *what = which ? "re-JIT" : "stock";
				auto r = which ? Replay::make(*d, q, q.rejit, align, &q.stock)
				               : Replay::make(*d, q, q.stock, align);
				if (!r) {
					if (align == 0)
						fmt::print("{}: {} refused: {}\n", p.name, what,
						           r.error().msg);
					refused_here = true;
					continue;
				}
				// cgroup_skb as BPF_PROG_TEST_RUN runs it (data_end NULL)
				auto pk = Packets::make(d->ctx, p.kind, q.inputs, !no_kernel);
				if (!pk) {
					fmt::print("{}: {}\n", p.name, pk.error().msg);
					bad++;
					continue;
				}
				unsigned agree = 0;
				for (size_t i = 0; i < q.inputs.size(); i++) {
					auto got = r->run(*pk, i);
					if (got && !which)
						stock_replay[i] = *got;
					// no kernel: stock is the reference, re-JIT must match it
					const bool compare = !no_kernel || which;
					const RunResult want =
					        no_kernel ? stock_replay[i]
					                  : (which ? p.kernel_rejit[i]
					                           : p.kernel_stock[i]);
					if (!got) {
						fmt::print("{}: {} (align {}) input {}: {}\n",
						           p.name, what, align, i, got.error().msg);
						bad++;
					} else if (compare && !(*got == want)) {
						fmt::print("{}: {} (align {}) input {}: replay {}, "
						           "{} {}\n",
						           p.name, what, align, i, show(*got),
						           no_kernel ? "stock replay" : "kernel",
						           show(want));
						bad++;
					} else {
						agree++;
					}
				}
				if (align == 0) {
					line += fmt::format(" {} {}/{} agree", what, agree,
					                    q.inputs.size());
					if (!r->patched().empty())
						line += fmt::format(" ({})", r->patched());
					if (!which &&
					    r->patched().find("map value") != std::string::npos)
						map_values++;
				}
			}
		}
		if (refused_here) {
			refused++;
			continue;
		}
		replayed++;
		if (has_rejit && !p.passes.empty() && p.rejit.code != p.stock.code)
			rejited++;
		for (auto &[pass, sites] : p.passes)
			line += fmt::format(" {}:{}", pass, sites);
		fmt::print("{}\n", line);
	}
	fmt::print("replayed {} programs ({} with re-JITed code, {} reading frozen maps), "
	           "{} refused, {} disagreements\n",
	           replayed, rejited, map_values, refused, bad);
	return bad ? 1 : 0;
}
