#!/bin/bash
# BPF_PROG_REJIT racing on purpose (test_rejit_races.c says how): links
# attached and detached, the last fd closed mid-re-JIT, prog_array slots
# emptied and refilled, fentry/fexit attached and detached, two re-JITers,
# info readers and id walkers, each against a program being re-JITed over
# and over. Then no BPF symbols or program allocations left behind, and no
# splat in the kernel log lines the test added. REJIT_RACES_SCALE (percent,
# default 100) scales the counts.
. "$(dirname "$0")/lib.sh"

settle() { sleep 2; } # RCU grace periods and deferred frees

# Re-JITed images get kallsyms entries too: exercise add/delete.
echo 1 >/proc/sys/net/core/bpf_jit_kallsyms
settle
syms0=$(bpf_syms) allocs0=$(prog_allocs) names0=$(bpf_sym_names)
before=$(dmesg | wc -l)

rc=0
"$OBJ/test_rejit_races" "$OBJ" "${REJIT_RACES_SCALE:-100}" || rc=$?

no_splats_since "$before"
[ $rc -eq 0 ] || fail "test_rejit_races failed"

settle
syms1=$(bpf_syms) allocs1=$(prog_allocs)
note "after all programs closed: bpf symbols $syms0 -> $syms1, bpf_prog allocations $allocs0 -> $allocs1"
if [ "$syms1" != "$syms0" ]; then
	echo "$names0" >/tmp/bpf-syms-before
	bpf_sym_names >/tmp/bpf-syms-after
	diff /tmp/bpf-syms-before /tmp/bpf-syms-after || true
fi
expect_eq "bpf symbols left behind" "$((syms1 - syms0))" 0
expect_eq "bpf_prog allocations left behind" "$((allocs1 - allocs0))" 0
