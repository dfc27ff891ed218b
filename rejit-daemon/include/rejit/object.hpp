// SPDX-License-Identifier: GPL-2.0
// The programs of a BPF ELF object, offline, in the form the passes see on
// a live program: for `bpfrejit opt`, the corpus and the unit tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <bpf/libbpf.h>

#include "rejit/pass.hpp"

namespace rejit {

// A libbpf object, closed when it goes out of scope.
struct ObjectCloser {
	void operator()(bpf_object *o) const { bpf_object__close(o); }
};
using Object = std::unique_ptr<bpf_object, ObjectCloser>;

// Program `name` of the object file at `path` loaded into the kernel alone
// (the others not loaded), with its object, which owns it.
struct LoadedProgram {
	Object obj;
	bpf_program *prog = nullptr;
};
Result<LoadedProgram> load_alone(const std::string &path, const std::string &name);

struct ObjectProgram {
	std::string name;
	std::string section;
	// The program as libbpf loads it: the main program, then every
	// subprogram it calls or hands as a callback (directly or not), once,
	// in libbpf's order, with calls and callback references relocated and
	// the func_info and line_info of .BTF.ext (none without BTF); or why
	// it could not be made. Map references follow the convention below;
	// CO-RE relocations stay as clang wrote them (no kernel BTF offline),
	// kfunc calls are BPF_PSEUDO_KFUNC_CALL with BTF id 0. Where libbpf
	// cannot prepare a program without a kernel (struct_ops, an freplace
	// without its target, an unknown section), its own instructions if it
	// calls no subprogram, else an error with libbpf's reason.
	Result<Program> prog;
	PassEnv env;
};

// Map references are what the kernel reports for a loaded program: loads
// of .rodata become BPF_PSEUDO_MAP_IDX_VALUE of map index 0, whose value,
// frozen as libbpf freezes it at load, is .rodata's initial contents; other
// map and global data references point at index 1, of unknown contents.
// The relocation is libbpf's own (its loader-generation mode, no kernel
// needed). Not thread-safe: it swaps libbpf's print function meanwhile.
Result<std::vector<ObjectProgram>> object_programs(const std::string &path);

} // namespace rejit
