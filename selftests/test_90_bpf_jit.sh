#!/bin/bash
# The kernel's own JIT test suite (lib/test_bpf.ko, ~1000 tests) with the
# JIT on. Every summary line it prints must report 0 failed.
. "$(dirname "$0")/lib.sh"

expect_eq "bpf_jit_enable" "$(cat /proc/sys/net/core/bpf_jit_enable)" 1
dmesg -C
rc=0
modprobe test_bpf || rc=$?
summaries=$(dmesg | grep -E 'test_bpf: .*Summary:' || true)
modprobe -r test_bpf 2>/dev/null || true
[ -n "$summaries" ] || fail "test_bpf printed no summary (modprobe status $rc)"
echo "$summaries" | sed 's/^\[[^]]*\] /  /'
# e.g. "test_bpf: Summary: 1053 PASSED, 0 FAILED, [1041/1041 JIT'ed]"
echo "$summaries" | grep -vq ' 0 FAILED' && fail "test_bpf reports failures"
jited=$(echo "$summaries" | sed -n "s/.*test_bpf: Summary: .*\[\([0-9]*\)\/.*/\1/p")
[ "${jited:-0}" -gt 0 ] || fail "no test was JIT-compiled"
expect_eq "modprobe status" "$rc" 0
