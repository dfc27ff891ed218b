#!/bin/bash
# kinsn modules: native x86 code inline in JITed images, every kinsn equal
# to its meaning on >= 100,000 inputs with native code and with the C
# bodies, module pinned while used, clear failure without the module; the
# operand form (BPF_PSEUDO_KINSN_CALL) likewise, plus its refusals, its
# sysfs description and a re-JIT into it.
. "$(dirname "$0")/lib.sh"

"$OBJ/test_kinsn" "$OBJ/kinsn.bpf.o" "$BUILD/kinsn"
"$OBJ/test_kinsn_op" "$BUILD/kinsn"
