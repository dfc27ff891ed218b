#!/bin/bash
# The guest runs our kernel with the JIT on and BPF filesystems mounted.
. "$(dirname "$0")/lib.sh"

release=$(uname -r)
note "uname -r: $release"
[[ $release == *-bpfrejit ]] || fail "not the BpfReJIT kernel: $release"
expect_eq "bpf_jit_enable" "$(cat /proc/sys/net/core/bpf_jit_enable)" 1
[ -r /sys/kernel/btf/vmlinux ] || fail "no vmlinux BTF"
mountpoint -q /sys/fs/bpf || fail "bpffs not mounted"
bpftool version | grep -q "$BUILD/tools/bpftool" 2>/dev/null ||
	[ "$(command -v bpftool)" = "$BUILD/tools/bpftool/bpftool" ] ||
	fail "bpftool is not the tree-built one: $(command -v bpftool)"
