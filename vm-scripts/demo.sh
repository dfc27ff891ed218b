#!/bin/bash
# The main job (make run), run inside the VM on the patched kernel: real
# XDP programs on real traffic, bpfrejitd finds them hot, re-JITs them in
# place with its passes, measures them on live packets and keeps or rolls
# back. Prints the daemon's before/after table and its log of decisions.
#
# Times are wall-clock nanoseconds per call under QEMU/TCG (emulated CPU):
# they show the direction, not what real hardware gains. Instruction counts
# and JITed sizes are exact.
set -euo pipefail
. "$REPO/selftests/lib.sh" # veth_pair, json, map_value

D=$BUILD/rejit-daemon
obj=$BUILD/selftests/workload.bpf.o
dir=/sys/fs/bpf/demo
sock=/run/bpfrejitd/bpfrejitd.sock
log=$(mktemp)

echo "== kernel $(uname -r); $(bpftool version | head -1)"
veth_pair peer veth0 10.201.0
mkdir -p "$dir"
bpftool prog loadall "$obj" "$dir/progs" pinmaps "$dir/maps"
bpftool net attach xdp pinned "$dir/progs/xdp_flow" dev veth0
id=$(bpftool -j prog show pinned "$dir/progs/xdp_flow" | json '["id"]')
echo "== XDP parser xdp_flow (prog $id) attached to veth0; its original code:"
bpftool prog show id "$id"

insmod "$KINSN_DIR/kinsn_bitops.ko"
insmod "$KINSN_DIR/kinsn_movbe.ko"
echo "== kinsn_bitops and kinsn_movbe loaded: hardware instructions the rotate and be-load passes may use"
bpftool kinsn list name bpf_rol64
bpftool kinsn list name bpf_load_be32

cat >"$log.json" <<JSON
{"interval_ms": 500, "min_runs": 200, "measure_intervals": 4,
 "regression_tolerance": 0.25, "allow": {"types": ["xdp"]}}
JSON
echo "== starting bpfrejitd: sample every 500 ms, hot at 200 runs/interval"
"$D/bpfrejitd" --config "$log.json" 2>"$log" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; rm -f "$log" "$log.json"' EXIT
for _ in $(seq 50); do "$D/bpfrejit" status >/dev/null 2>&1 && break; sleep 0.1; done

echo "== traffic: UDP application packets from the peer namespace"
ip netns exec peer python3 "$REPO/selftests/udp_send.py" 10.201.0.1 0 --size 32 >/dev/null &
sender=$!
state=watching
for _ in $(seq 600); do
	state=$("$D/bpfrejit" -j list | python3 -c "import json,sys
print([p['state'] for p in json.load(sys.stdin)['programs'] if p['id']==$id][0])")
	case $state in watching | profiling | measuring) sleep 0.2 ;; *) break ;; esac
done
kill $sender
wait $sender 2>/dev/null || true

echo "== bpfrejit list (ns/run: before and after, TCG wall-clock)"
"$D/bpfrejit" list
echo "== the daemon's decisions"
cat "$log"
echo "== what the passes changed"
"$D/bpfrejit" explain "$id" | sed -n '/^pass /,$p'
echo "== the live program now (same id, attachment and maps)"
bpftool prog show id "$id"
bpftool net show dev veth0 | grep -A1 xdp || true

echo "== behaviour: 200 packets, counters (pkts flow seq len hash) vs what was sent"
before=$(workload_stats "$dir/maps/stats")
sent=$(ip netns exec peer python3 "$REPO/selftests/udp_send.py" 10.201.0.1 200 --size 24 --first 7)
got=$(stats_delta "$before" "$(workload_stats "$dir/maps/stats")")
echo "  sent:    $sent"
echo "  counted: $got"
[ "$got" = "$sent" ] && echo "  identical" || { echo "  DIFFERENT"; exit 1; }
[ "$state" = optimized ] || [ "$state" = rolled-back ] ||
	{ echo "daemon ended in state $state"; exit 1; }
