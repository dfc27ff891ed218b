# Helpers for the VM tests. Source it; each test is a bash script that exits
# 0 on success and prints why it failed otherwise.
# shellcheck shell=bash
set -euo pipefail

OBJ=${BUILD:?}/selftests
# The kinsn modules built for the running kernel (vm-run.sh exports it:
# build/kinsn-debug under the debug kernel).
KINSN_DIR=${KINSN_DIR:-$BUILD/kinsn}
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  $*"; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# JSON field from stdin, e.g. json '["id"]'
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Value of a "bpftool -j map lookup" (hex byte list) as a little-endian number.
map_value() {
	python3 -c 'import json,sys
print(int.from_bytes(bytes(int(b, 16) for b in json.load(sys.stdin)["value"]), "little"))'
}

# workload_stats MAP: xdp_flow's counters (pkts flow seq len hash, keys 0-3
# and 6 of workload.bpf.c) in the pinned stats map MAP.
workload_stats() {
	local k out=""
	for k in 0 1 2 3 6; do
		out+="$(bpftool -j map lookup pinned "$1" key "$k" 0 0 0 | map_value) "
	done
	echo "${out% }"
}

# stats_delta BEFORE AFTER: AFTER - BEFORE, element-wise, modulo 2^64.
stats_delta() {
	python3 -c 'import sys
b, a = (list(map(int, s.split())) for s in sys.argv[1:])
print(*((y - x) % 2**64 for x, y in zip(b, a)))' "$1" "$2"
}

# veth_pair NS DEV NET: veth DEV here (NET.1/24) and DEV-peer in new network
# namespace NS (NET.2/24), both up. Traffic stays inside the guest.
veth_pair() {
	local ns=$1 dev=$2 net=$3
	ip netns add "$ns"
	ip link add "$dev" type veth peer name "$dev-peer" netns "$ns"
	ip addr add "$net.1/24" dev "$dev"
	ip link set "$dev" up
	ip -n "$ns" addr add "$net.2/24" dev "$dev-peer"
	ip -n "$ns" link set "$dev-peer" up
	ip -n "$ns" link set lo up
}

# Kernel images in /proc/kallsyms ("addr t name<TAB>[bpf]"): programs and
# trampolines. The XDP dispatcher's image comes with the first XDP attach
# and stays.
bpf_sym_names() {
	grep -P '\t\[bpf\]$' /proc/kallsyms | awk '{print $3}' | grep -v '^bpf_dispatcher_' |
		sort || true
}
bpf_syms() { bpf_sym_names | wc -l; }
prog_allocs() { grep -c bpf_prog_alloc /proc/vmallocinfo || true; }

# The splats among the kernel log lines after the first $1: "before=$(dmesg
# | wc -l)", run the test, then "[ -z "$(splats_since "$before")" ]".
splats_since() {
	dmesg | tail -n +"$(($1 + 1))" |
		grep -E 'BUG:|WARNING:|Oops|KASAN|circular locking|inconsistent lock state|sleeping function called from invalid context|general protection|int3|rcu.*stall' ||
		true
}

# Fail with the kernel log lines after the first $1 if they show a splat.
no_splats_since() {
	[ -n "$(splats_since "$1")" ] || return 0
	dmesg | tail -n +"$(($1 + 1))" | head -120
	fail "kernel splat"
}
