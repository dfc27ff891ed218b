// SPDX-License-Identifier: GPL-2.0
#include "rejit/object.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string_view>

#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "rejit/fd.hpp"

namespace rejit {
namespace {

struct ElfCloser {
	void operator()(Elf *e) const { elf_end(e); }
};

constexpr uint32_t kRodataIdx = 0, kOtherMapIdx = 1;

// What libbpf reads from the ELF file to lay a program out and relocate
// it, as far as librejit needs it to check libbpf's layout and to place
// each function's func_info and line_info.
struct ElfFacts {
	struct Reloc {
		bool rodata;        // against .rodata
		bool map;           // against a map definition (else other data)
		bool code;          // against code (a callback or subprogram)
		uint64_t sym_value; // value of the symbol it is against
		bool external;      // against an extern (kfunc, ksym, kconfig)
	};
	struct Func {
		std::string name, section;
		uint64_t off, size; // bytes in the section
	};
	std::vector<Func> funcs;
	// By section name, by byte offset in it.
	std::map<std::string, std::map<uint64_t, Reloc>> relocs;
	// The instructions of each executable section, as clang wrote them.
	std::map<std::string, std::vector<bpf_insn>> code;
	std::vector<uint8_t> btf_ext; // .BTF.ext, empty if none

	[[nodiscard]] const Func *func(const std::string &section, uint64_t off) const {
		for (const Func &f : funcs)
			if (f.section == section && f.off == off)
				return &f;
		return nullptr;
	}
	// A program by name and section as libbpf names them: without the "?"
	// of a section whose programs are not loaded by default.
	[[nodiscard]] const Func *program(const std::string &section,
	                                  const std::string &name) const {
		for (const Func &f : funcs)
			if ((f.section == section || f.section == "?" + section) && f.name == name)
				return &f;
		return nullptr;
	}
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
		if (!gelf_getshdr(s, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			symtab = elf_getdata(s, nullptr);
			symtab_strndx = sh.sh_link;
		}
		Elf_Data *d = sh.sh_type == SHT_PROGBITS ? elf_getdata(s, nullptr) : nullptr;
		if (!d || !d->d_buf)
			continue;
		const auto *bytes = static_cast<const uint8_t *>(d->d_buf);
		const std::string name = name_of(elf_ndxscn(s));
		if (sh.sh_flags & SHF_EXECINSTR) {
			std::vector<bpf_insn> insns(d->d_size / sizeof(bpf_insn));
			std::memcpy(insns.data(), bytes, insns.size() * sizeof(bpf_insn));
			f.code[name] = std::move(insns);
		} else if (name == ".BTF.ext") {
			f.btf_ext.assign(bytes, bytes + d->d_size);
		}
	}
	if (!symtab)
		return make_error(EINVAL, fmt::format("{}: no symbol table", path));
	auto symbol = [&](size_t i, GElf_Sym &sym) { return gelf_getsym(symtab, int(i), &sym); };
	GElf_Sym sym;
	for (size_t i = 0; symbol(i, sym); i++)
		if (GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx != SHN_UNDEF) {
			const char *n = elf_strptr(elf.get(), symtab_strndx, sym.st_name);
			f.funcs.push_back(
			        {n ? n : "", name_of(sym.st_shndx), sym.st_value, sym.st_size});
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
			out[rel.r_offset] = {target == ".rodata",
			                     target == ".maps" || target == "maps",
			                     (flags_of(sym.st_shndx) & SHF_EXECINSTR) != 0,
			                     sym.st_value, sym.st_shndx == SHN_UNDEF};
		}
	}
	return f;
}

// .BTF.ext func_info and line_info as clang wrote them: by section name,
// insn_off in bytes from the start of the section.
struct ExtInfo {
	std::map<std::string, std::vector<FuncInfo>> func;
	std::map<std::string, std::vector<LineInfo>> line;
};

// Section names are BTF strings. What libbpf would ignore (no BTF, a
// malformed .BTF.ext) gives no records.
ExtInfo read_btf_ext(const std::vector<uint8_t> &raw, const btf *btf) {
	auto u32_at = [&](size_t off) {
		uint32_t v = 0;
		if (off + 4 <= raw.size())
			std::memcpy(&v, &raw[off], 4);
		return v;
	};
	ExtInfo out;
	if (!btf || raw.size() < 24 || u32_at(0) != 0x0001eb9f) // magic, version 1, no flags
		return out;
	const uint32_t hdr_len = u32_at(4);
	// One info kind: a record size, then per section its name, a count
	// and the records (the first u32 of each is the byte offset).
	auto records = [&](uint32_t off, uint32_t len, size_t min_size, auto &&take) {
		const size_t start = size_t(hdr_len) + off, end = start + len;
		if (!len || end > raw.size() || end < start)
			return;
		const uint32_t rec_size = u32_at(start);
		if (rec_size < min_size)
			return;
		for (size_t p = start + 4; p + 8 <= end;) {
			const char *sec = btf__name_by_offset(btf, u32_at(p));
			const uint32_t n = u32_at(p + 4);
			p += 8;
			if (!sec || p + size_t(n) * rec_size > end)
				return;
			for (uint32_t i = 0; i < n; i++, p += rec_size)
				take(std::string(sec), p);
		}
	};
	records(u32_at(8), u32_at(12), sizeof(FuncInfo), [&](const std::string &sec, size_t p) {
		out.func[sec].push_back({u32_at(p), u32_at(p + 4)});
	});
	records(u32_at(16), u32_at(20), sizeof(LineInfo), [&](const std::string &sec, size_t p) {
		out.line[sec].push_back({u32_at(p), u32_at(p + 4), u32_at(p + 8), u32_at(p + 12)});
	});
	return out;
}

bool is_pseudo_call(const bpf_insn &in) {
	return in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_CALL;
}
bool is_pseudo_func(const bpf_insn &in) {
	return in.code == (BPF_LD | BPF_IMM | BPF_DW) && in.src_reg == BPF_PSEUDO_FUNC;
}

// Where each function of `main` landed in the instructions libbpf made of
// it (main first, then every subprogram it reaches, each once), keyed by
// its first instruction. Found by following each relocated call or
// callback reference to the function the ELF relocation names, so the
// layout is libbpf's, checked, not recomputed: every instruction must
// belong to exactly one function. `exception_cb`, if set, is the
// function libbpf appends after the ones reached from the main program
// when none of them is it.
Result<std::map<uint32_t, const ElfFacts::Func *>>
function_layout(const ElfFacts &facts, const ElfFacts::Func &main, std::span<const bpf_insn> out,
                const ElfFacts::Func *exception_cb) {
	std::map<uint32_t, const ElfFacts::Func *> at{{0, &main}};
	std::vector<uint32_t> todo{0};
	auto bad = [&](const std::string &why) {
		return make_error(EINVAL, "subprogram layout: " + why);
	};
	while (!todo.empty() || exception_cb) {
		if (todo.empty()) {
			const auto last = std::prev(at.end());
			bool placed = false;
			for (const auto &[start, f] : at)
				placed |= f == exception_cb;
			if (!placed) {
				const uint64_t end =
				        last->first + last->second->size / sizeof(bpf_insn);
				at.emplace(uint32_t(end), exception_cb);
				todo.push_back(uint32_t(end));
			}
			exception_cb = nullptr;
			continue;
		}
		const uint32_t start = todo.back();
		todo.pop_back();
		const ElfFacts::Func &f = *at[start];
		const auto code = facts.code.find(f.section);
		const uint64_t base = f.off / sizeof(bpf_insn), n = f.size / sizeof(bpf_insn);
		if (code == facts.code.end() || base + n > code->second.size() ||
		    start + n > out.size())
			return bad(fmt::format("{} does not fit", f.name));
		const auto relocs = facts.relocs.find(f.section);
		for (uint64_t j = 0; j < n; j++) {
			const bpf_insn &now = out[start + j], &was = code->second[base + j];
			const bool call = is_pseudo_call(now);
			if (!call && !is_pseudo_func(now))
				continue;
			// The .text instruction libbpf resolved the reference to.
			int64_t target;
			const ElfFacts::Reloc *r = nullptr;
			if (relocs != facts.relocs.end())
				if (auto it = relocs->second.find((base + j) * sizeof(bpf_insn));
				    it != relocs->second.end())
					r = &it->second;
			if (r && call)
				target = int64_t(r->sym_value / sizeof(bpf_insn)) + was.imm + 1;
			else if (r)
				target = (int64_t(r->sym_value) + was.imm) /
				         int64_t(sizeof(bpf_insn));
			else if (call && f.section == ".text")
				target = int64_t(base + j) + was.imm + 1;
			else
				return bad(fmt::format("{}+{}: reference without relocation",
				                       f.name, j));
			const ElfFacts::Func *callee =
			        target < 0
			                ? nullptr
			                : facts.func(".text", uint64_t(target) * sizeof(bpf_insn));
			if (!callee)
				return bad(fmt::format("{}+{}: no function at .text insn {}",
				                       f.name, j, target));
			const int64_t now_at = int64_t(start + j) + now.imm + 1;
			if (now_at <= 0 || uint64_t(now_at) >= out.size())
				return bad(fmt::format("{}+{}: relocated out of the program",
				                       f.name, j));
			auto [it, added] = at.emplace(uint32_t(now_at), callee);
			if (!added && it->second != callee)
				return bad(fmt::format("insn {} is both {} and {}", now_at,
				                       it->second->name, callee->name));
			if (added)
				todo.push_back(uint32_t(now_at));
		}
	}
	uint64_t next = 0;
	for (const auto &[start, f] : at) {
		if (start != next)
			return bad(
			        fmt::format("insns {}..{} belong to no function libbpf was asked "
			                    "for (or {} overlaps)",
			                    next, start, f->name));
		next = start + f->size / sizeof(bpf_insn);
	}
	if (next != out.size())
		return bad(fmt::format("{} insns, functions end at {}", out.size(), next));
	return at;
}

// The func_info or line_info records of the laid-out functions, rebased as
// libbpf does (insn index in the whole program). None if the main program
// has none, as libbpf then sends none; a subprogram without any while the
// main program has some is an error for libbpf too.
template <typename Rec>
Result<std::vector<Rec>> rebase(const std::map<std::string, std::vector<Rec>> &by_sec,
                                const std::map<uint32_t, const ElfFacts::Func *> &layout,
                                const char *what) {
	std::vector<Rec> out;
	for (const auto &[start, f] : layout) {
		const auto recs = by_sec.find(f->section);
		size_t found = 0;
		if (recs != by_sec.end())
			for (Rec r : recs->second)
				if (r.insn_off >= f->off && r.insn_off < f->off + f->size) {
					r.insn_off =
					        uint32_t(r.insn_off - f->off) / sizeof(bpf_insn) +
					        start;
					out.push_back(r);
					found++;
				}
		if (!found && start == 0)
			return std::vector<Rec>{};
		if (!found)
			return make_error(EINVAL,
			                  fmt::format("no {} for subprogram {}", what, f->name));
	}
	return out;
}

// What libbpf says while it prepares an object offline: its first warning
// (the reason when it cannot), and the size of each program whose final
// instructions it handed to the loader ("gen: prog_load", in load order).
// Offline tools are single-threaded here.
struct LibbpfLog {
	std::string warning;
	std::vector<size_t> recorded;
};
LibbpfLog *libbpf_log;

int keep_libbpf_message(enum libbpf_print_level level, const char *format, va_list ap) {
	constexpr std::string_view kRecorded = "libbpf: gen: prog_load:";
	if (!libbpf_log ||
	    (level == LIBBPF_DEBUG && !std::string_view(format).starts_with(kRecorded)))
		return 0;
	char buf[512];
	std::vsnprintf(buf, sizeof(buf), format, ap);
	if (level == LIBBPF_DEBUG) {
		size_t cnt = 0;
		if (std::sscanf(buf, "libbpf: gen: prog_load: type %*d insns_cnt %zu", &cnt) == 1)
			libbpf_log->recorded.push_back(cnt);
	} else if (libbpf_log->warning.empty()) {
		libbpf_log->warning = buf;
		while (!libbpf_log->warning.empty() && libbpf_log->warning.back() == '\n')
			libbpf_log->warning.pop_back();
	}
	return 0;
}

class LibbpfMessages {
public:
	LibbpfMessages() : old_(libbpf_set_print(keep_libbpf_message)) { libbpf_log = &log_; }
	~LibbpfMessages() {
		libbpf_set_print(old_);
		libbpf_log = nullptr;
	}
	LibbpfMessages(const LibbpfMessages &) = delete;
	LibbpfMessages &operator=(const LibbpfMessages &) = delete;
	[[nodiscard]] const LibbpfLog &log() const { return log_; }

private:
	LibbpfLog log_;
	libbpf_print_fn_t old_;
};

// An object "loaded" the way `bpftool gen skeleton -L` loads it: libbpf's
// loader-generation mode runs the whole load path offline (subprograms
// appended, calls, callbacks, maps and globals relocated, kfunc calls
// marked) but records map creation and program loads for a loader program
// instead of making syscalls, and leaves each program's final instructions
// in bpf_program__insns(). Map references then carry libbpf's map index
// (BPF_PSEUDO_MAP_IDX[_VALUE]); CO-RE relocations stay as clang wrote
// them, as they are without a kernel.
struct Prepared {
	gen_loader_opts gen{}; // libbpf keeps a pointer to it
	Object obj;
	// The programs libbpf recorded a load of: their instructions are
	// final even where it failed after them (a struct_ops map left out, a
	// prog array with initial slots: steps of the loader, not of the code).
	std::set<const bpf_program *> done;
	std::string why; // why the others are not, if some are not
};

// `only`: that program alone (the others are not relocated), else all.
// Struct_ops and arena maps are left out (creating them needs a kernel),
// which makes libbpf fail after the programs: their code does not need
// them.
Result<std::unique_ptr<Prepared>> prepare(const std::string &path, const char *only) {
	LibbpfMessages messages;
	auto p = std::make_unique<Prepared>();
	p->gen.sz = sizeof(p->gen);
	p->obj.reset(bpf_object__open_file(path.c_str(), nullptr));
	if (!p->obj)
		return make_error(errno, fmt::format("{}: libbpf cannot open it", path));
	// Programs in "?" sections too: they are loadable, only not by default.
	bpf_program *prog;
	bpf_object__for_each_program(prog, p->obj.get()) {
		bpf_program__set_autoload(prog,
		                          !only || !std::strcmp(bpf_program__name(prog), only));
	}
	bpf_map *map;
	bpf_object__for_each_map(map, p->obj.get()) {
		// libbpf would mmap an arena through the fd it pretends to have.
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS ||
		    bpf_map__type(map) == BPF_MAP_TYPE_ARENA)
			bpf_map__set_autocreate(map, false);
		bpf_map__set_pin_path(map, nullptr); // else looked up in bpffs
	}
	if (int err = bpf_object__gen_loader(p->obj.get(), &p->gen))
		return make_error(-err,
		                  fmt::format("libbpf loader mode: {}", messages.log().warning));
	const int err = bpf_object__load(p->obj.get());
	// libbpf loads programs in object order, as for_each_program lists them.
	const std::vector<size_t> &recorded = messages.log().recorded;
	size_t k = 0;
	bpf_object__for_each_program(prog, p->obj.get()) {
		if (!bpf_program__autoload(prog))
			continue;
		if (k == recorded.size() || recorded[k] != bpf_program__insn_cnt(prog))
			break;
		p->done.insert(prog);
		k++;
	}
	if (err)
		p->why = messages.log().warning.empty()
		                 ? fmt::format("libbpf cannot prepare it offline ({})",
		                               std::strerror(-err))
		                 : messages.log().warning;
	return p;
}

// Map references in our convention (see object.hpp), from libbpf's map
// indexes in `obj`.
void renumber_maps(std::vector<bpf_insn> &raw, const bpf_object *obj) {
	const bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
	int64_t rodata_idx = -1, idx = 0;
	const bpf_map *m;
	bpf_object__for_each_map(m, obj) {
		if (m == rodata)
			rodata_idx = idx;
		idx++;
	}
	for (size_t i = 0; i + 1 < raw.size(); i++) {
		bpf_insn &in = raw[i];
		if (in.code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in.src_reg == BPF_PSEUDO_MAP_IDX || in.src_reg == BPF_PSEUDO_MAP_IDX_VALUE)
			in.imm = int32_t(in.imm == rodata_idx ? kRodataIdx : kOtherMapIdx);
		i++;
	}
}

// The exception callback libbpf appends to program `name`: the function a
// BTF decl tag "exception_callback:FUNC" on it names (none if several).
const char *exception_callback(const btf *b, const std::string &name) {
	constexpr std::string_view kTag = "exception_callback:";
	const char *cb = nullptr;
	for (uint32_t i = 1; b && i < btf__type_cnt(b); i++) {
		const btf_type *t = btf__type_by_id(b, i);
		if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1)
			continue;
		const std::string_view tag = btf__name_by_offset(b, t->name_off);
		const btf_type *f = btf__type_by_id(b, t->type);
		if (!tag.starts_with(kTag) || !f || !btf_is_func(f) ||
		    name != btf__name_by_offset(b, f->name_off))
			continue;
		if (cb)
			return nullptr;
		cb = tag.data() + kTag.size();
	}
	return cb;
}

// A program as libbpf relocated it, with func_info and line_info.
Result<Program> relocated(const ElfFacts &facts, const ExtInfo &ext, const std::string &name,
                          const std::string &section, const bpf_program *p, const bpf_object *obj) {
	std::vector<bpf_insn> raw(bpf_program__insns(p),
	                          bpf_program__insns(p) + bpf_program__insn_cnt(p));
	const ElfFacts::Func *main = facts.program(section, name);
	if (!main)
		return make_error(EINVAL, fmt::format("no function symbol in section {}", section));
	const char *cb = exception_callback(bpf_object__btf(obj), name);
	auto layout = function_layout(facts, *main, raw, cb ? facts.program(".text", cb) : nullptr);
	if (!layout)
		return layout.error();
	auto func_info = rebase(ext.func, *layout, "func_info");
	auto line_info = rebase(ext.line, *layout, "line_info");
	if (!func_info || !line_info)
		return func_info ? line_info.error() : func_info.error();
	renumber_maps(raw, obj);
	// A ksym without type is an address libbpf took from this machine's
	// /proc/kallsyms: leave it 0, as clang wrote it, not this machine's.
	for (const auto &[start, f] : *layout) {
		const auto relocs = facts.relocs.find(f->section);
		if (relocs == facts.relocs.end())
			continue;
		for (auto it = relocs->second.lower_bound(f->off);
		     it != relocs->second.end() && it->first < f->off + f->size; ++it) {
			bpf_insn *in = &raw[start + (it->first - f->off) / sizeof(bpf_insn)];
			if (it->second.external && in->code == (BPF_LD | BPF_IMM | BPF_DW) &&
			    !in->src_reg && in + 1 < raw.data() + raw.size())
				in[0].imm = in[1].imm = 0;
		}
	}
	auto insns = decode(raw);
	if (!insns)
		return insns.error();
	return Program{std::move(*insns), std::move(*line_info), std::move(*func_info)};
}

// A program libbpf cannot prepare offline (no type it knows, an freplace
// without its target, ...): its own instructions, with map references
// relocated from the ELF file. Complete only if it calls no subprogram.
Result<Program> unrelocated(const ElfFacts &facts, const std::string &name,
                            const std::string &section, const bpf_program *p, const Error &why) {
	std::vector<bpf_insn> raw(bpf_program__insns(p),
	                          bpf_program__insns(p) + bpf_program__insn_cnt(p));
	for (const bpf_insn &in : raw)
		if (is_pseudo_call(in) || is_pseudo_func(in))
			return make_error(why.err, "subprograms not relocated: " + why.msg);
	const ElfFacts::Func *f = facts.program(section, name);
	const uint64_t start = f ? f->off : 0, end = start + raw.size() * sizeof(bpf_insn);
	if (const auto relocs = facts.relocs.find(f ? f->section : section);
	    relocs != facts.relocs.end())
		for (auto it = relocs->second.lower_bound(start);
		     it != relocs->second.end() && it->first < end; ++it) {
			const ElfFacts::Reloc &r = it->second;
			bpf_insn &in = raw[(it->first - start) / sizeof(bpf_insn)];
			if (r.code || r.external || in.code != (BPF_LD | BPF_IMM | BPF_DW) ||
			    &in == &raw.back())
				continue;
			bpf_insn &hi = (&in)[1];
			hi.imm = r.map ? 0 : int32_t(in.imm + r.sym_value);
			in.src_reg = r.map ? BPF_PSEUDO_MAP_IDX : BPF_PSEUDO_MAP_IDX_VALUE;
			in.imm = int32_t(r.rodata ? kRodataIdx : kOtherMapIdx);
		}
	auto insns = decode(raw);
	if (!insns)
		return insns.error();
	return Program{std::move(*insns), {}, {}};
}

} // namespace

Result<LoadedProgram> load_alone(const std::string &path, const std::string &name) {
	Object obj(bpf_object__open_file(path.c_str(), nullptr));
	if (!obj)
		return make_error(errno, "open");
	LoadedProgram l;
	bpf_program *p;
	bpf_object__for_each_program(p, obj.get()) {
		const bool me = name == bpf_program__name(p);
		bpf_program__set_autoload(p, me);
		if (me)
			l.prog = p;
	}
	if (!l.prog)
		return make_error(ENOENT, "no such program");
	if (int err = bpf_object__load(obj.get()))
		return make_error(-err, "load");
	l.obj = std::move(obj);
	return l;
}

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
	const ExtInfo ext = read_btf_ext(facts->btf_ext, bpf_object__btf(obj.get()));

	// All programs at once; those libbpf did not get to, each alone, so
	// that one program it cannot load does not cost the others.
	auto all = prepare(path, nullptr);
	if (!all)
		return all.error();
	std::vector<ObjectProgram> out;
	bpf_program *p;
	bpf_object__for_each_program(p, obj.get()) {
		const char *name = bpf_program__name(p), *sec = bpf_program__section_name(p);
		auto done_in = [&](const Prepared &pr) -> const bpf_program * {
			const bpf_program *q = bpf_object__find_program_by_name(pr.obj.get(), name);
			return pr.done.contains(q) ? q : nullptr;
		};
		std::unique_ptr<Prepared> alone;
		const Prepared *pr = done_in(**all) ? all->get() : nullptr;
		std::string why = (*all)->why;
		if (!pr) {
			auto a = prepare(path, name);
			if (!a)
				return a.error();
			alone = std::move(*a);
			why = alone->why;
			if (done_in(*alone))
				pr = alone.get();
		}
		if (bpf_program__type(p) == BPF_PROG_TYPE_STRUCT_OPS)
			why = "struct_ops: libbpf needs the kernel's BTF to prepare it";
		else if (why.empty())
			why = "libbpf does not load it";
		out.push_back({name, sec,
		               pr ? relocated(*facts, ext, name, sec, done_in(*pr), pr->obj.get())
		                  : unrelocated(*facts, name, sec, p, make_error(EINVAL, why)),
		               env});
	}
	return out;
}

} // namespace rejit
