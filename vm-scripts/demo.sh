#!/bin/bash
# The main job (make run), run inside the VM. For now: the patched kernel
# runs a real BPF program on real traffic. An XDP program is attached to a
# veth whose peer lives in another network namespace; pings cross it and the
# program's counters are shown, then the attached program is re-JITed in
# place (BPF_PROG_REJIT via bpftool) and traffic keeps flowing.
# (The daemon's before/after re-JIT table arrives with bpfrejitd.)
set -euo pipefail
. "$REPO/selftests/lib.sh" # veth_pair

obj=$BUILD/selftests/smoke.bpf.o
dir=/sys/fs/bpf/demo
pin=$dir/prog

echo "== kernel: $(uname -r); bpftool: $(command -v bpftool)"
bpftool version | head -1

veth_pair peer veth0 10.201.0

mkdir -p "$dir"
bpftool prog load "$obj" "$pin" type xdp pinmaps "$dir/maps"
bpftool net attach xdp pinned "$pin" dev veth0
echo "== XDP program attached to veth0"
bpftool net show dev veth0

echo "== 20 pings from the peer namespace through the XDP program"
ip netns exec peer ping -c 20 -i 0.05 -q 10.201.0.1 | tail -2

echo "== packets seen by the XDP program, per verdict"
bpftool -j map dump pinned "$dir/maps/verdicts" | python3 -c '
import json, sys
names = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"]
for e in json.load(sys.stdin):
    k, v = e["formatted"]["key"], e["formatted"]["value"]
    if v:
        print(f"  {names[k] if k < len(names) else k:<12} {v}")'
bpftool prog show pinned "$pin"

echo "== re-JIT the attached program in place from its original bytecode"
bpftool prog dump orig pinned "$pin" | head -5
bpftool prog rejit pinned "$pin" orig
ip netns exec peer ping -c 5 -i 0.05 -q 10.201.0.1 | tail -2
bpftool prog show pinned "$pin" # same id, rejit_cnt 1, run on the new image
echo "== live programs as the daemon sees them"
"$BUILD/rejit-daemon/bpfrejitd" --list
