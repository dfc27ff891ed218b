// SPDX-License-Identifier: GPL-2.0
#include "rejit/object.hpp"

#include <cstring>
#include <map>
#include <memory>

#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/fd.hpp"

namespace rejit {
namespace {

struct ElfCloser {
	void operator()(Elf *e) const { elf_end(e); }
};

constexpr uint32_t kRodataIdx = 0, kOtherMapIdx = 1;

// The ELF facts libbpf uses to relocate: where each function starts, and
// the relocations of each section, by section name.
struct ElfFacts {
	struct Reloc {
		uint64_t offset; // byte offset in the section
		bool rodata;     // against .rodata
		bool map;        // against a map definition (else other data)
		bool code;       // against code (a callback or subprogram)
		uint64_t sym_value;
	};
	std::map<std::string, uint64_t> func_offset;
	std::map<std::string, std::vector<Reloc>> relocs;
};

Result<ElfFacts> read_elf(const std::string &path) {
	Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return make_error(errno, fmt::format("{}: open", path));
	elf_version(EV_CURRENT);
	std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd.get(), ELF_C_READ, nullptr));
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf.get(), &shstrndx))
		return make_error(EINVAL, fmt::format("{}: not an ELF file", path));
	auto name_of = [&](size_t ndx) -> std::string {
		Elf_Scn *s = elf_getscn(elf.get(), ndx);
		GElf_Shdr sh;
		if (!s || !gelf_getshdr(s, &sh))
			return "";
		const char *n = elf_strptr(elf.get(), shstrndx, sh.sh_name);
		return n ? n : "";
	};
	auto flags_of = [&](size_t ndx) -> uint64_t {
		GElf_Shdr sh;
		Elf_Scn *s = elf_getscn(elf.get(), ndx);
		return s && gelf_getshdr(s, &sh) ? sh.sh_flags : 0;
	};

	ElfFacts f;
	Elf_Data *symtab = nullptr;
	size_t symtab_strndx = 0;
	for (Elf_Scn *s = nullptr; (s = elf_nextscn(elf.get(), s));) {
		GElf_Shdr sh;
		if (gelf_getshdr(s, &sh) && sh.sh_type == SHT_SYMTAB) {
			symtab = elf_getdata(s, nullptr);
			symtab_strndx = sh.sh_link;
		}
	}
	if (!symtab)
		return make_error(EINVAL, fmt::format("{}: no symbol table", path));
	auto symbol = [&](size_t i, GElf_Sym &sym) { return gelf_getsym(symtab, int(i), &sym); };
	GElf_Sym sym;
	for (size_t i = 0; symbol(i, sym); i++)
		if (GELF_ST_TYPE(sym.st_info) == STT_FUNC) {
			const char *n = elf_strptr(elf.get(), symtab_strndx, sym.st_name);
			if (n)
				f.func_offset[n] = sym.st_value;
		}
	for (Elf_Scn *s = nullptr; (s = elf_nextscn(elf.get(), s));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_REL)
			continue;
		Elf_Data *d = elf_getdata(s, nullptr);
		auto &out = f.relocs[name_of(sh.sh_info)];
		GElf_Rel rel;
		for (int i = 0; d && gelf_getrel(d, i, &rel); i++) {
			if (!symbol(GELF_R_SYM(rel.r_info), sym))
				continue;
			const std::string target = name_of(sym.st_shndx);
			out.push_back({rel.r_offset, target == ".rodata",
			               target == ".maps" || target == "maps",
			               (flags_of(sym.st_shndx) & SHF_EXECINSTR) != 0,
			               sym.st_value});
		}
	}
	return f;
}

} // namespace

Result<std::vector<ObjectProgram>> object_programs(const std::string &path) {
	auto facts = read_elf(path);
	if (!facts)
		return facts.error();
	Object obj(bpf_object__open_file(path.c_str(), nullptr));
	if (!obj)
		return make_error(errno, fmt::format("{}: libbpf cannot open it", path));
	PassEnv env;
	if (const bpf_map *ro = bpf_object__find_map_by_name(obj.get(), ".rodata")) {
		size_t size = 0;
		const auto *v = static_cast<const uint8_t *>(bpf_map__initial_value(ro, &size));
		if (v)
			env.frozen_maps.emplace(kRodataIdx, std::vector<uint8_t>(v, v + size));
	}

	std::vector<ObjectProgram> out;
	bpf_program *p;
	bpf_object__for_each_program(p, obj.get()) {
		const char *name = bpf_program__name(p), *sec = bpf_program__section_name(p);
		std::vector<bpf_insn> raw(bpf_program__insns(p),
		                          bpf_program__insns(p) + bpf_program__insn_cnt(p));
		const uint64_t start =
		        facts->func_offset.contains(name) ? facts->func_offset[name] : 0;
		const uint64_t end = start + raw.size() * sizeof(bpf_insn);
		for (const ElfFacts::Reloc &r : facts->relocs[sec]) {
			if (r.offset < start || r.offset >= end || r.code)
				continue;
			bpf_insn &in = raw[(r.offset - start) / sizeof(bpf_insn)];
			if (in.code != (BPF_LD | BPF_IMM | BPF_DW) || &in == &raw.back())
				continue;
			bpf_insn &hi = (&in)[1];
			hi.imm = r.map ? 0 : int32_t(in.imm + r.sym_value);
			in.src_reg = r.map ? BPF_PSEUDO_MAP_IDX : BPF_PSEUDO_MAP_IDX_VALUE;
			in.imm = int32_t(r.rodata ? kRodataIdx : kOtherMapIdx);
		}
		auto insns = decode(raw);
		out.push_back({name, sec,
		               insns ? Result<Program>(Program{std::move(*insns), {}, {}})
		                     : Result<Program>(insns.error()),
		               env});
	}
	return out;
}

} // namespace rejit
