// SPDX-License-Identifier: GPL-2.0
// BPF objects compiled by clang for the tests (see tests/CMakeLists.txt).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include "rejit/insn.hpp"
#include "rejit/object.hpp"

namespace rejit::test {

inline Object open_object(const std::string &name) {
	return Object(
	        bpf_object__open_file((std::string(BPF_OBJ_DIR "/") + name).c_str(), nullptr));
}

inline std::vector<bpf_insn> raw_insns(const bpf_program *p) {
	return {bpf_program__insns(p), bpf_program__insns(p) + bpf_program__insn_cnt(p)};
}

// Decoded instructions of program `prog` in object `obj`; fails the test if
// either is missing.
inline std::vector<Insn> program_insns(const std::string &obj, const char *prog) {
	Object o = open_object(obj);
	if (!o)
		return {};
	const bpf_program *p = bpf_object__find_program_by_name(o.get(), prog);
	if (!p)
		return {};
	auto dec = decode(raw_insns(p));
	return dec ? std::move(dec).value() : std::vector<Insn>{};
}

// Program `name` of `obj` as object_programs() gives it (with its .rodata in
// env); fails the test if it is missing.
inline std::optional<ObjectProgram> object_program(const char *obj, const char *name) {
	auto progs = object_programs(std::string(BPF_OBJ_DIR "/") + obj);
	if (!progs) {
		ADD_FAILURE() << progs.error().str();
		return std::nullopt;
	}
	for (ObjectProgram &p : *progs)
		if (p.name == name && p.prog)
			return std::move(p);
	ADD_FAILURE() << name << " not in " << obj;
	return std::nullopt;
}

} // namespace rejit::test
