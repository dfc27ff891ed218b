// SPDX-License-Identifier: GPL-2.0
// kinsn operand forms in the IR: which kinsns librejit knows the meaning
// of, their expansion into plain BPF, and the fd_array slots their module
// BTFs take in a re-JIT.
//
// An operand form is one two-slot instruction (Insn::is_kinsn()): a call
// with src_reg BPF_PSEUDO_KINSN_CALL naming the kinsn's kfunc (imm: BTF id,
// off: fd_array index of its module BTF) and a second slot carrying the
// operands. Its meaning is the plain sequence kinsn/include/kinsn_defs.h
// gives for those operands, after which the registers of its clobber mask
// are unreadable. That header is the only source of the meaning: the
// analyses, the interpreter and the passes all go through expand().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rejit/insn.hpp"

namespace rejit {

// A kinsn available to the passes: the kfunc's BTF id in its module's BTF
// and the fd_array index the module BTF gets in the re-JIT.
struct KinsnRef {
	int32_t btf_id = 0;
	int16_t off = 1;
	bool operand = true; // has an operand form
	bool native = true;  // ... that this machine's JIT emits as native code
};
// By kfunc name, e.g. "bpf_rol64".
using KinsnMap = std::map<std::string, KinsnRef, std::less<>>;

// The kinsn `name` if this machine's JIT emits its operand form natively,
// else nullptr: the passes that emit operand forms use nothing else.
const KinsnRef *native_operand_form(const KinsnMap &kinsns, std::string_view name);

// Operand forms librejit knows (Insn::form is the index + 1).
std::span<const std::string_view> kinsn_forms();
// Insn::form of the named operand form, 0 if librejit does not know it.
uint8_t kinsn_form(std::string_view name);
// Name of the operand form a pair is bound to, "" if unbound.
std::string_view kinsn_form_name(const Insn &in);

// The pair for operand form `name` (must be known) with operands `op`,
// bound to it.
Insn make_kinsn(std::string_view name, const KinsnRef &ref, KinsnOperands op);

struct KinsnExpansion {
	std::vector<Insn> insns; // plain BPF
	uint16_t clobber = 0;    // bit n: Rn unreadable afterwards
};
// What a bound pair stands for; nullopt if unbound or its operands are
// invalid for the form.
std::optional<KinsnExpansion> kinsn_expand(const Insn &in);
// A bound, valid pair whose expansion only computes on registers (ALU
// instructions and forward conditional jumps inside it; no memory, no
// calls): the analyses then know exactly what it does.
bool kinsn_is_pure(const Insn &in);
// A conditional jump, the only kind of jump an expansion may hold.
bool kinsn_seq_branch(const Insn &x);

// Bind every unbound pair whose (imm, off) names exactly one kinsn of
// `kinsns` that librejit knows.
void bind_kinsns(std::span<Insn> insns, const KinsnMap &kinsns);

// fd_array indexes for module BTFs (sorted names) in a re-JIT of a program
// whose original bytecode is `orig` and that uses `nmaps` maps (fd_array
// 0 .. nmaps-1): each gets the smallest index >= 1 that no map uses and
// that no kfunc call or kinsn of `orig` uses as off (those name load-time
// module BTFs the kernel resolves itself).
std::map<std::string, int16_t> kinsn_btf_slots(std::span<const Insn> orig, size_t nmaps,
                                               const std::vector<std::string> &modules);

} // namespace rejit
