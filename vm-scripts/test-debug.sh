#!/bin/bash
# make test-debug: boot the debug kernel (FLAVOUR=debug: build/kernel-debug,
# vm-scripts/kernel-debug.config on top of kernel.config: KASAN, lockdep,
# might_sleep, debug objects, kmemleak on) with its own kinsn modules
# (build/kinsn-debug), run the VM tests but those in DEBUG_SKIP, then scan
# the guest's whole kernel log and a last kmemleak report for splats. Fails
# if a test failed or the kernel complained about anything.
#
#   test-debug.sh            TESTS='rejit kinsn' for a subset by name;
#                            DEBUG_SKIP (default "bpf_jit corpus"),
#                            DEBUG_TIMEOUT (s), DEBUG_MEM (QEMU -m);
#                            REJIT_FUZZ_CASES, REJIT_FUZZ_SEED for the
#                            fuzzer in rejit_hostile (a campaign);
#                            REJIT_TIME_SCALE (default 5) for the
#                            daemon's wall-clock windows in test_40.
#
# The serial log and share are build/vm-debug/ (a normal VM run may go on
# at the same time); the kernel log is build/vm-debug/share/debug/dmesg and
# the splats found, with 40 lines after each, build/vm-debug/splats.txt.
set -euo pipefail
export FLAVOUR=debug
. "$(dirname "$0")/lib.sh"
export VM_DIR=${VM_DIR:-$BUILD/vm-debug}

# bpf_jit (lib/test_bpf.ko) tests the JIT of the base kernel, not the
# series; corpus loads 3,400 programs through the verifier, which takes
# hours under KASAN + lockdep on TCG.
skip=${DEBUG_SKIP-bpf_jit corpus}
tests=${TESTS:-}
if [ -z "$tests" ]; then
	for t in "$REPO"/selftests/test_[0-9][0-9]_*.sh; do
		name=${t##*/test_[0-9][0-9]_}
		name=${name%.sh}
		grep -qw -- "$name" <<<"$skip" || tests+="$name "
	done
fi
tests=${tests% }

out=$VM_DIR/share/debug
rm -rf "$out"
mkdir -p "$out"
# In the guest: the tests, then a kmemleak scan (the same two-scan dance as
# test_20) and the whole kernel log, into $out.
guest="TESTS='$tests' REJIT_TIME_SCALE=${REJIT_TIME_SCALE:-5} REJIT_FUZZ_CASES=${REJIT_FUZZ_CASES:-} REJIT_FUZZ_SEED=${REJIT_FUZZ_SEED:-} \\
	$REPO/selftests/run-vm-tests.sh; rc=\$?
k=/sys/kernel/debug/kmemleak
if echo scan 2>/dev/null >\$k; then sleep 5; echo scan >\$k; cat \$k >$out/kmemleak; fi
grep -E 'debug_locks:|chain lookup misses:|lock-classes:' /proc/lockdep_stats >$out/lockdep 2>/dev/null
dmesg >$out/dmesg
exit \$rc"

log "debug kernel: tests: $tests"
start=$(date +%s)
rc=0
# loglevel=5: warnings (lockdep, WARN) reach the serial log as well, in case
# the guest dies before its log is saved. The log buffer is 2 MB
# (CONFIG_LOG_BUF_SHIFT=21 in the fragment).
# no5lvl: with -cpu max the guest has LA57, and an interrupt taken while
# identify_cpu() rebuilds the CPU's feature bits (LA57 briefly clear) makes
# KASAN see 5-level direct-map addresses as unshadowed: a "wild-memory-
# access" report at boot that also switches lockdep off.
# acpi=noirq: each virtio device's ACPI _PRT evaluation otherwise runs into
# the AML loop timeout (30 s) under KASAN + lockdep on TCG; MSI-X is used.
VM_APPEND="kmemleak=on loglevel=5 no5lvl acpi=noirq ${VM_APPEND:-}" \
	"$REPO/vm-scripts/vm-run.sh" \
	--timeout "${DEBUG_TIMEOUT:-10800}" --mem "${DEBUG_MEM:-4G}" -- "$guest" || rc=$?
log "debug kernel: tests finished with status $rc after $(($(date +%s) - start)) s"

# The guest's dmesg when it got that far, else the kernel lines of the
# serial log (timestamped).
klog=$out/dmesg
if [ ! -s "$klog" ]; then
	klog=$out/serial-kernel
	grep -aE '^\[ *[0-9]+\.[0-9]+\]' "$VM_DIR/serial.log" >"$klog" || true
	log "no kernel log from the guest; scanning the serial log's kernel lines"
fi
splat='\bBUG:|WARNING:|KASAN|Oops|general protection fault|kernel BUG at|Kernel panic'
splat+='|possible (circular|recursive) locking|inconsistent lock state|lock held when returning'
splat+='|sleeping function called from invalid context|suspicious RCU usage|ODEBUG:'
splat+='|list_(add|del) corruption|detected stalls?|self-detected stall|blocked for more than'
splats=$(grep -acE "$splat" "$klog" || true)
leaks=$(grep -ac "unreferenced object" "$out/kmemleak" 2>/dev/null || true)
{
	grep -aE -A40 "$splat" "$klog" || true
	[ "${leaks:-0}" -eq 0 ] || cat "$out/kmemleak"
} >"$VM_DIR/splats.txt"
[ ! -s "$out/lockdep" ] || sed 's/^ */  lockdep: /' "$out/lockdep" >&2
if [ -f "$out/kmemleak" ]; then
	log "debug kernel: $splats splat lines in the kernel log, $leaks kmemleak reports"
else
	log "debug kernel: $splats splat lines in the kernel log, kmemleak not read"
fi
if [ "$splats" -gt 0 ] || [ "${leaks:-0}" -gt 0 ]; then
	head -n 120 "$VM_DIR/splats.txt" >&2
	log "debug kernel: splats, see $VM_DIR/splats.txt (kernel log $klog)"
	[ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
