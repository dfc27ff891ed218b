#!/bin/bash
# bpfrejitd as a real systemd service (make vm-test-systemd): installed by
# "make install" into the Debian image, systemd as PID 1. Start (Type=notify),
# optimise a live XDP program on real traffic, journald logging, restart,
# kill -9 and Restart=on-failure, a bad config refused at start, stop.
. "$REPO/selftests/lib.sh"
set -o pipefail

unit=bpfrejitd.service
dir=/sys/fs/bpf/svc
fails=0
check() { # WHAT CMD...: one line per check, all run
	if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
state() { bpfrejit -j list | python3 -c "import json,sys
p=[p for p in json.load(sys.stdin)['programs'] if p['id']==$1]
print(p[0]['state'] if p else 'gone')"; }
wait_for() { # SECONDS CMD...
	local t=$(($1 * 5))
	until "${@:2}"; do
		t=$((t - 1))
		[ $t -gt 0 ] || return 1
		sleep 0.2
	done
}
optimized() { [ "$(state "$id")" = optimized ]; }
active() { [ "$(systemctl is-active $unit)" = active ]; }
mainpid() { systemctl show -p MainPID --value $unit; }

echo "systemd $(systemctl --version | head -1 | cut -d' ' -f2), $(systemctl is-system-running)"
check "unit installed by make install" test -f /usr/local/lib/systemd/system/$unit
check "config installed by make install" test -f /etc/bpfrejitd.json
check "bpfrejitd --check-config" bpfrejitd --check-config
cat >/etc/bpfrejitd.json <<JSON
{"interval_ms": 300, "min_runs": 50, "measure_intervals": 2,
 "regression_tolerance": 10, "allow": {"types": ["xdp"]}}
JSON

veth_pair svc svc0 10.207.0
mkdir -p "$dir"
bpftool prog loadall "$BUILD/selftests/workload.bpf.o" "$dir/p" pinmaps "$dir/m"
bpftool net attach xdp pinned "$dir/p/xdp_flow" dev svc0
id=$(bpftool -j prog show pinned "$dir/p/xdp_flow" | json '["id"]')

systemctl start $unit
check "Type=notify start: active" active
check "runs as $(systemctl show -p Type --value $unit) service" \
	test "$(systemctl show -p Type --value $unit)" = notify
ip netns exec svc python3 "$REPO/selftests/udp_send.py" 10.207.0.1 0 --size 16 >/dev/null &
sender=$!
check "xdp_flow optimized by the service" wait_for 120 optimized
kill $sender
wait $sender 2>/dev/null || true
check "rejit_cnt 2 (instrumented, optimized)" test "$(bpftool -j prog show id "$id" | json '["rejit_cnt"]')" = 2
bpfrejit list
check "decisions in the journal" \
	bash -c "journalctl -u $unit -o cat | grep -q 'prog $id xdp_flow (xdp): optimized: kept'"
journalctl -u $unit -o cat | grep "prog $id " | sed 's/^/  journal: /'

before=$(bpftool -j map lookup pinned "$dir/m/stats" key 0 0 0 0 | map_value)
sent=$(ip netns exec svc python3 "$REPO/selftests/udp_send.py" 10.207.0.1 100 --size 8)
after=$(bpftool -j map lookup pinned "$dir/m/stats" key 0 0 0 0 | map_value)
check "re-JITed program counts 100 packets" test $((after - before)) = "${sent%% *}"

old=$(mainpid)
kill -9 "$old"
check "Restart=on-failure after kill -9" \
	wait_for 30 bash -c "[ \"\$(systemctl show -p MainPID --value $unit)\" != $old ] &&
		[ \"\$(systemctl is-active $unit)\" = active ]"
check "program adopted as optimized after the restart" wait_for 10 optimized

systemctl restart $unit
check "systemctl restart" active

cp /etc/bpfrejitd.json /tmp/good.json
echo '{"interval_ms": "fast"}' >/etc/bpfrejitd.json
systemctl restart $unit 2>/dev/null || true # fails: that is the point
check "bad config: the service does not come up" \
	wait_for 10 bash -c "[ \"\$(systemctl is-active $unit)\" != active ]"
check "bad config: the journal names the key" \
	bash -c "set -o pipefail
		journalctl -u $unit -o cat | grep 'interval_ms: must be' | sed 's/^/  journal: /'"
systemctl stop $unit 2>/dev/null || true
systemctl reset-failed $unit 2>/dev/null || true
cp /tmp/good.json /etc/bpfrejitd.json
systemctl start $unit
check "good config again: active" active

systemctl stop $unit
check "stopped" test "$(systemctl is-active $unit)" = inactive
check "stopped cleanly" bash -c "journalctl -u $unit -o cat | grep -q 'keep their verified new code'"

echo "service: $fails failed"
[ $fails -eq 0 ]
