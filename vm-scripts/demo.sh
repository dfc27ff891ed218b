#!/bin/bash
# The main job (make run), run inside the VM. For now: the patched kernel
# runs a real BPF program on real traffic. An XDP program is attached to a
# veth whose peer lives in another network namespace; pings cross it and the
# program's counters and the daemon's view of it are shown.
# (The daemon's before/after re-JIT table arrives with bpfrejitd.)
set -euo pipefail

obj=$BUILD/selftests/smoke.bpf.o
dir=/sys/fs/bpf/demo
pin=$dir/prog

echo "== kernel: $(uname -r); bpftool: $(command -v bpftool)"
bpftool version | head -1

ip netns add peer
ip link add veth0 type veth peer name veth1 netns peer
ip addr add 10.201.0.1/24 dev veth0
ip link set veth0 up
ip -n peer addr add 10.201.0.2/24 dev veth1
ip -n peer link set veth1 up
ip -n peer link set lo up

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
echo "== live programs as the daemon sees them"
"$BUILD/rejit-daemon/bpfrejitd" --list
