#!/bin/bash
# make bench, sections after the main table: code size on the corpus and
# what re-JIT costs, measured on the patched kernel in the VM.
#
#   bench-costs.sh            boot the VM and run the sections in it
#   bench-costs.sh --guest    run them here (inside a VM already booted)
#
# 1. JITed bytes before/after re-JIT on a subset of the corpus of make test
#    (test_50_corpus.sh runs all of it in 8 to 18 minutes; here every
#    CORPUS_EVERY-th kernel selftests object, all of Debian's libxdp and
#    xdp-tools objects and ours, CORPUS_INPUTS test-run packets each), per
#    source; the per-program table goes to build/bench/corpus-sizes.txt.
# 2. BPF_PROG_REJIT against BPF_PROG_LOAD of the same bytecode on
#    LATENCY_PROGRAMS corpus programs of sizes up to LATENCY_MAX_INSNS.
# 3. bpfrejitd's CPU use watching 100 and 500 idle programs for
#    DAEMON_SECONDS each.
# 4. What the run-time statistics bpfrejitd keeps on cost a program run,
#    off and on (then also on the host's own kernel, real hardware, when
#    it lets root load BPF).
# Under QEMU/TCG the times are guest time, not hardware time: the tool
# says so in each heading, and the ratios are what to read.
set -euo pipefail

CORPUS_EVERY=${CORPUS_EVERY:-16}
CORPUS_INPUTS=${CORPUS_INPUTS:-20}
LATENCY_PROGRAMS=${LATENCY_PROGRAMS:-8}
LATENCY_MAX_INSNS=${LATENCY_MAX_INSNS:-2000}
DAEMON_SECONDS=${DAEMON_SECONDS:-8}

if [ "${1:-}" != --guest ]; then
	. "$(dirname "$0")/lib.sh"
	export VM_DIR=${VM_DIR:-$BUILD/vm}
	rm -f "$VM_DIR/share/corpus-sizes.txt"
	status=0
	# the guest does not inherit this environment: the settings go in the command
	"$REPO/vm-scripts/vm-run.sh" --timeout 900 -- "CORPUS_EVERY=$CORPUS_EVERY \
CORPUS_INPUTS=$CORPUS_INPUTS LATENCY_PROGRAMS=$LATENCY_PROGRAMS \
LATENCY_MAX_INSNS=$LATENCY_MAX_INSNS DAEMON_SECONDS=$DAEMON_SECONDS \
$REPO/vm-scripts/bench-costs.sh --guest" || status=$?
	mkdir -p "$BUILD/bench"
	[ ! -f "$VM_DIR/share/corpus-sizes.txt" ] ||
		mv "$VM_DIR/share/corpus-sizes.txt" "$BUILD/bench/corpus-sizes.txt"
	# The statistics need no BpfReJIT patch: their cost on this CPU too.
	echo
	echo "the same on this machine's own kernel ($(uname -r)):"
	"$BUILD/rejit-daemon/rejit-costs" stats --repeat 5 --runs 200000 ||
		echo "not available here (root and BPF_PROG_TEST_RUN needed)"
	exit $status
fi

: "${BUILD:?run in the VM through vm-run.sh}" "${REPO:?}" "${KINSN_DIR:?}"
D=$BUILD/rejit-daemon
OBJ=$BUILD/selftests
out=${VM_SHARE:-/tmp}/corpus-sizes.txt

insmod "$KINSN_DIR/kinsn_bitops.ko"
insmod "$KINSN_DIR/kinsn_crc32c.ko"
insmod "$KINSN_DIR/kinsn_movbe.ko"
trap 'rmmod kinsn_bitops kinsn_crc32c kinsn_movbe 2>/dev/null || true' EXIT

SECONDS=0
echo
echo "== code size on the corpus (JITed bytes; load-time image vs re-JIT)"
selftests=()
i=0
for o in "$OBJ"/corpus/*.bpf.o; do
	[ $((i++ % CORPUS_EVERY)) -eq 0 ] && selftests+=("$o")
done
debian=(/usr/lib/x86_64-linux-gnu/bpf/*.o)
[ -e "${debian[0]}" ] || debian=()
echo "subset: ${#selftests[@]} of $i kernel selftests objects (every ${CORPUS_EVERY}th)," \
	"${#debian[@]} Debian libxdp/xdp-tools objects, ours; $CORPUS_INPUTS packets per" \
	"test run (make test runs the whole corpus)"
status=0
"$D/rejit-corpus" --inputs "$CORPUS_INPUTS" --source selftests "${selftests[@]}" \
	${debian[0]+--source xdp-tools "${debian[@]}"} --source ours "$OBJ/workload.bpf.o" \
	"$D"/tests/{popcount,crc}.bpf.o >"$out" 2>&1 || status=$?
sed -n '/^verifier: /p; /^xlated insns after/p; /^code size per source/,$p' "$out"
python3 "$REPO/selftests/corpus/check_sizes.py" "$out" || status=1
[ $status -eq 0 ] || echo "rejit-corpus failed ($status): see corpus-sizes.txt"
echo "per-program table: build/bench/corpus-sizes.txt ($SECONDS s in the VM)"
rmmod kinsn_bitops kinsn_crc32c kinsn_movbe

SECONDS=0
echo
echo "== what re-JIT costs"
"$D/rejit-costs" latency --programs "$LATENCY_PROGRAMS" --repeat 5 \
	--max-insns "$LATENCY_MAX_INSNS" "$OBJ"/corpus/*.bpf.o "${debian[@]}" \
	"$OBJ/workload.bpf.o" || status=1
echo
"$D/rejit-costs" daemon --bpfrejitd "$D/bpfrejitd" --programs 100,500 \
	--seconds "$DAEMON_SECONDS" || status=1
echo "bpfrejitd turns run-time statistics on itself (BPF_ENABLE_STATS) for as long as" \
	"it runs, so its own CPU use does not depend on kernel.bpf_stats_enabled; every" \
	"program run pays for them meanwhile:"
"$D/rejit-costs" stats --repeat 5 --runs 20000 || status=1
echo "($SECONDS s in the VM)"
exit $status
