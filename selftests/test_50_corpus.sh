#!/bin/bash
# The passes on code nobody here wrote: the kernel's BPF selftests programs
# (built by selftests/corpus/build.sh), Debian's BPF objects (libxdp1,
# xdp-tools) and our workload. Every rewritten program must pass the real
# verifier, and where BPF_PROG_TEST_RUN can run it, behave identically to
# the original on generated packets (see rejit-daemon/src/rejit_corpus.cpp).
. "$(dirname "$0")/lib.sh"

# With kinsn_bitops, kinsn_crc32c and kinsn_movbe loaded, the kinsn passes
# (rotate, select, bextr, popcount, crc, be-load) run too and the kernel
# checks their operand-form kinsns in real code. Our own test programs for
# the passes that find nothing in the selftests (popcount, crc) are part of
# the corpus. The code-size table per source must add up, and a re-JIT of
# unchanged bytecode must give the code of a fresh load (rejit-costs).
out=$(mktemp)
trap 'rm -f "$out"; rmmod kinsn_bitops kinsn_crc32c kinsn_movbe 2>/dev/null || true' EXIT
insmod "$KINSN_DIR/kinsn_bitops.ko"
insmod "$KINSN_DIR/kinsn_crc32c.ko"
insmod "$KINSN_DIR/kinsn_movbe.ko"
debian=(/usr/lib/x86_64-linux-gnu/bpf/*.o)
[ -e "${debian[0]}" ] || fail "Debian's BPF objects are missing (apt-get install xdp-tools)"
# Code size per source: the table must add up to the per-program rows
# (selftests/corpus/check_sizes.py).
"$BUILD/rejit-daemon/rejit-corpus" --inputs 200 --source selftests "$OBJ"/corpus/*.bpf.o \
	--source xdp-tools "${debian[@]}" --source ours "$OBJ/workload.bpf.o" \
	"$BUILD"/rejit-daemon/tests/{popcount,crc}.bpf.o | tee "$out"
python3 "$REPO/selftests/corpus/check_sizes.py" "$out"
# BPF_PROG_REJIT of a program's own original bytecode must give the xlated
# and JITed sizes a fresh BPF_PROG_LOAD of it gives (rejit-costs exits 1
# otherwise; its times are printed, not checked).
"$BUILD/rejit-daemon/rejit-costs" latency --programs 4 --repeat 1 --max-insns 600 \
	"${debian[@]}" "$OBJ/workload.bpf.o"
