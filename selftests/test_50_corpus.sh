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
# the corpus.
insmod "$KINSN_DIR/kinsn_bitops.ko"
insmod "$KINSN_DIR/kinsn_crc32c.ko"
insmod "$KINSN_DIR/kinsn_movbe.ko"
trap 'rmmod kinsn_bitops kinsn_crc32c kinsn_movbe 2>/dev/null || true' EXIT
debian=(/usr/lib/x86_64-linux-gnu/bpf/*.o)
[ -e "${debian[0]}" ] || fail "Debian's BPF objects are missing (apt-get install xdp-tools)"
"$BUILD/rejit-daemon/rejit-corpus" --inputs 200 "$OBJ"/corpus/*.bpf.o "${debian[@]}" \
	"$OBJ/workload.bpf.o" "$BUILD"/rejit-daemon/tests/{popcount,crc}.bpf.o
