#!/bin/bash
# BPF_PROG_REJIT: switch on live attach points, failures, permissions,
# stress (10,000 re-JITs under load, 64 programs from 8 threads), then no
# leak: BPF symbols and program allocations back to where they were, and
# kmemleak (the VM tests boot with kmemleak=on) finds nothing.
. "$(dirname "$0")/lib.sh"

kmemleak=/sys/kernel/debug/kmemleak
settle() { sleep 2; } # RCU grace periods and deferred frees

# Re-JITed images get kallsyms entries too: exercise add/delete.
echo 1 >/proc/sys/net/core/bpf_jit_kallsyms
[ -w $kmemleak ] && { echo clear >$kmemleak; } 2>/dev/null || true
settle
syms0=$(bpf_syms) allocs0=$(prog_allocs)

"$OBJ/test_rejit" "$OBJ/rejit.bpf.o" "${REJIT_STRESS:-10000}"

settle
syms1=$(bpf_syms) allocs1=$(prog_allocs)
note "after all programs closed: bpf symbols $syms0 -> $syms1, bpf_prog allocations $allocs0 -> $allocs1"
expect_eq "bpf symbols left behind" "$((syms1 - syms0))" 0
expect_eq "bpf_prog allocations left behind" "$((allocs1 - allocs0))" 0

# (writes fail with EPERM when the boot did not enable it)
if [ -w $kmemleak ] && echo scan 2>/dev/null >$kmemleak; then
	sleep 5
	echo scan >$kmemleak
	leaks=$(grep -c "unreferenced object" $kmemleak || true)
	note "kmemleak: $leaks unreferenced objects"
	[ "$leaks" -eq 0 ] || { head -60 $kmemleak; fail "kmemleak reports leaks"; }
else
	note "kmemleak: not enabled in this boot (VM_APPEND=kmemleak=on), not checked"
fi
