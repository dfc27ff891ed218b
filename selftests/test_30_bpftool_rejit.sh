#!/bin/bash
# bpftool prog rejit / dump orig / show on live programs: XDP on a veth
# with real pings, a tracepoint and a kprobe, switched to code built from a
# modified source and back; error paths leave the program unchanged.
. "$(dirname "$0")/lib.sh"

B=$OBJ/rejit_tool_b.bpf.o C=$OBJ/rejit_tool_c.bpf.o
dir=/sys/fs/bpf/rt
xdp=(pinned $dir/xdp_prog)
tmp=$(mktemp -d)
cleanup() {
	ip link del rt0 2>/dev/null || true
	ip netns del rt 2>/dev/null || true
	rm -rf "$dir" "$dir-maps" "$dir-links" "$dir-sub" "$tmp"
}
trap cleanup EXIT

veth_pair rt rt0 10.204.0

# XDP half pinned and attached by hand; tracing half auto-attached (its
# links are what is pinned, the programs are found by name) on the same map.
bpftool prog loadall "$OBJ/rejit_tool_xdp.bpf.o" "$dir" pinmaps "$dir-maps"
bpftool net attach xdp "${xdp[@]}" dev rt0
bpftool prog loadall "$OBJ/rejit_tool_trace.bpf.o" "$dir-links" \
	map name counts pinned "$dir-maps/counts" autoattach

count() { bpftool -j map lookup pinned "$dir-maps/counts" key "$1" 0 0 0 | map_value; }
pings() { ip netns exec rt ping -c 3 -i 0.1 -W 1 -q 10.204.0.1 >/dev/null 2>&1; }
getppids() { python3 -c 'import os
for _ in range(10): os.getppid()'; }
rejit_cnt() { bpftool -j prog show "$@" | json '["rejit_cnt"]'; }
btf_id() { bpftool -j prog show "$@" | json '.get("btf_id", 0)'; }

id=$(bpftool -j prog show "${xdp[@]}" | json '["id"]')
btf=$(btf_id "${xdp[@]}")
[ "$btf" -gt 0 ] || fail "the XDP program has no BTF"
expect_eq "rejit_cnt at load" "$(rejit_cnt "${xdp[@]}")" 0
bpftool prog dump orig "${xdp[@]}" file "$tmp/orig-before"
bpftool -j prog dump orig "${xdp[@]}" | json '[0]["disasm"]' >/dev/null ||
	fail "dump orig -j is not JSON"
bpftool prog dump orig "${xdp[@]}" | grep -q "call bpf_map_lookup_elem" ||
	fail "dump orig does not show the helper call"
bpftool prog dump orig "${xdp[@]}" | grep -q "r1 = map\[idx:0\]" ||
	fail "dump orig does not show the map reference as an index"

# XDP: pass -> drop (object from the modified source) -> pass (orig)
pings || fail "pings should pass before the re-JIT"
seen=$(count 0)
bpftool prog rejit "${xdp[@]}" object "$B" prog xdp_prog
pings && fail "pings should be dropped by the new code"
[ "$(count 0)" -ge $((seen + 3)) ] || fail "dropped packets not counted"
expect_eq "prog id after re-JIT" "$(bpftool -j prog show "${xdp[@]}" | json '["id"]')" "$id"
expect_eq "rejit_cnt" "$(rejit_cnt "${xdp[@]}")" 1
expect_eq "BTF after rejit object (functions found by name)" "$(btf_id "${xdp[@]}")" "$btf"
bpftool prog show "${xdp[@]}" | grep -q "rejited_at .* rejit_cnt 1" ||
	fail "plain prog show lacks the re-JIT line"
bpftool prog rejit "${xdp[@]}" orig
pings || fail "pings should pass after 'rejit orig'"
bpftool prog dump orig "${xdp[@]}" file "$tmp/orig-after"
cmp -s "$tmp/orig-before" "$tmp/orig-after" || fail "dump orig changed across re-JITs"
bpftool prog rejit "${xdp[@]}" bytecode "$tmp/orig-before"
pings || fail "pings should pass after 'rejit bytecode'"
expect_eq "rejit_cnt" "$(rejit_cnt "${xdp[@]}")" 3
expect_eq "BTF after rejit orig and bytecode" "$(btf_id "${xdp[@]}")" "$btf"
note "xdp: pass -> drop -> pass, dump orig stable, prog id $id and BTF $btf kept"

# prog profile on a re-JITed program: its fentry/fexit programs load
# against the re-JITed program and see the packets that reach it.
bpftool prog rejit "${xdp[@]}" object "$B" prog xdp_prog
(sleep 0.5; ip netns exec rt ping -c 5 -i 0.2 -W 1 -q 10.204.0.1 >/dev/null 2>&1) &
if out=$(bpftool -j prog profile "${xdp[@]}" duration 3 cycles instructions 2>&1); then
	runs=$(json '[0]["run_cnt"]' <<<"$out")
	[ "$runs" -ge 5 ] || fail "prog profile counted $runs runs: $out"
	note "prog profile of the re-JITed program: $runs runs, $out"
elif grep -q "failed to create event" <<<"$out" &&
	! grep -q "failed to load\|failed to attach" <<<"$out"; then
	# bpftool opens the perf events after loading the profiler programs
	# (against the re-JITed program) and before attaching them
	note "prog profile: profiler loaded against the re-JITed program; no hardware" \
		"PMU in this guest (QEMU/TCG), so the counting half does not run here"
else
	fail "prog profile of a re-JITed program: $out"
fi
wait
bpftool prog rejit "${xdp[@]}" orig

# tracepoint and kprobe: +1 per getppid -> +100 -> +1
for p in tp_prog:1 kp_prog:2; do
	name=${p%:*} key=${p#*:}
	before=$(count "$key"); getppids; d1=$(($(count "$key") - before))
	bpftool prog rejit name "$name" object "$B" prog "$name"
	before=$(count "$key"); getppids; d2=$(($(count "$key") - before))
	bpftool prog rejit name "$name" orig
	before=$(count "$key"); getppids; d3=$(($(count "$key") - before))
	note "$name: 10 getppid() counted as $d1, then $d2, then $d3"
	[ "$d1" -ge 10 ] && [ "$d1" -lt 100 ] || fail "$name before: $d1"
	[ "$d2" -ge 1000 ] && [ $((d2 % 100)) -eq 0 ] || fail "$name after: $d2"
	[ "$d3" -ge 10 ] && [ "$d3" -lt 100 ] || fail "$name restored: $d3"
done

# Errors: clear message, non-zero exit, program unchanged.
must_fail() { # must_fail PATTERN bpftool-args...
	local pat=$1 out
	shift
	if out=$(bpftool prog rejit "$@" 2>&1); then
		fail "bpftool prog rejit $* succeeded"
	fi
	grep -q -- "$pat" <<<"$out" || fail "bpftool prog rejit $*: no '$pat' in: $out"
}
cnt=$(rejit_cnt "${xdp[@]}")
must_fail "can't open" "${xdp[@]}" bytecode /nonexistent
printf 'abcde' >"$tmp/short"
must_fail "whole number of instructions" "${xdp[@]}" bytecode "$tmp/short"
printf '\x95\x00\x00\x00\x00\x00\x00\x00' >"$tmp/exit-only"
must_fail "R0 !read_ok" "${xdp[@]}" bytecode "$tmp/exit-only"
must_fail "map 'counts'" "${xdp[@]}" object "$C" prog xdp_prog
must_fail "no program" "${xdp[@]}" object "$B" prog nosuchprog
must_fail "of type" "${xdp[@]}" object "$B" prog tp_prog
must_fail "get prog\|prog by id\|No such" id 999999 orig
expect_eq "rejit_cnt after failed attempts" "$(rejit_cnt "${xdp[@]}")" "$cnt"
pings || fail "program changed by a failed re-JIT"
note "error paths: 7 refused, program unchanged"

# bpfrejit opt on an object with bpf-to-bpf calls (two static __noinline
# functions, a global one, a bpf_loop callback): with no passes its output
# is byte for byte the bytecode libbpf loaded; with the passes, re-JITed
# into the program libbpf loaded, it computes the same results.
SUB=$BUILD/rejit-daemon/tests/subprog.bpf.o
bpftool prog loadall "$SUB" "$dir-sub"
python3 -c 'import random, sys
r = random.Random(22)
for k in range(8):
	n = 20 if k == 0 else r.randrange(24, 64) # the first is too short
	open(f"{sys.argv[1]}/in{k}", "wb").write(bytes(r.randrange(256) for _ in range(n)))' "$tmp"
results() { # PROG: return value and result slot of each input
	local k
	for k in 0 1 2 3 4 5 6 7; do
		bpftool prog run pinned "$1" data_in "$tmp/in$k" data_out "$tmp/out" |
			grep -o "Return value: [0-9]*"
		od -An -tx1 -N8 "$tmp/out"
	done
}
for p in xdp_subprog xdp_loop; do
	pin=$dir-sub/$p
	"$BUILD/rejit-daemon/bpfrejit" opt "$SUB" prog "$p" passes "" out "$tmp/$p.same" \
		>/dev/null
	bpftool prog dump orig pinned "$pin" file "$tmp/$p.orig"
	cmp -s "$tmp/$p.orig" "$tmp/$p.same" ||
		fail "$p: bpfrejit opt is not the bytecode libbpf loaded"
	want=$(results "$pin")
	grep -q "Return value: 2" <<<"$want" || fail "$p: no packet passed: $want"
	"$BUILD/rejit-daemon/bpfrejit" opt "$SUB" prog "$p" out "$tmp/$p.new" >"$tmp/opt.out"
	cmp -s "$tmp/$p.orig" "$tmp/$p.new" && fail "$p: the passes changed nothing"
	bpftool prog rejit pinned "$pin" bytecode "$tmp/$p.new"
	expect_eq "$p: rejit_cnt" "$(rejit_cnt pinned "$pin")" 1
	expect_eq "$p: results after bpfrejit opt + rejit" "$(results "$pin")" "$want"
	note "$p: $(head -1 "$tmp/opt.out" | sed "s/^== [^:]*: //"), libbpf's bytecode, same results"
done
