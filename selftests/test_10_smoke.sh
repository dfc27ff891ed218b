#!/bin/bash
# Load a BPF program with the tree-built bpftool, run it through
# BPF_PROG_TEST_RUN and check both return values and map side effects; the
# daemon (linked against the tree-built libbpf) must see it too.
. "$(dirname "$0")/lib.sh"

dir=/sys/fs/bpf/smoke-test
pin=$dir/prog
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
bpftool prog load "$OBJ/smoke.bpf.o" "$pin" type xdp pinmaps "$dir/maps"

# prog run: "Return value: N, duration (average): Mns"
run() {
	local pkt=/tmp/pkt.$$
	printf "$1" >"$pkt"
	head -c 60 /dev/zero >>"$pkt"
	bpftool prog run pinned "$pin" data_in "$pkt" repeat "$2" |
		sed -n 's/^Return value: \([0-9]*\),.*/\1/p'
	rm -f "$pkt"
}
expect_eq "verdict for 0x42 frame" "$(run '\x42' 1)" 1 # XDP_DROP
expect_eq "verdict for 0x17 frame" "$(run '\x17' 5)" 2 # XDP_PASS

count() {
	bpftool -j map lookup pinned "$dir/maps/verdicts" key "$1" 0 0 0 | map_value
}
expect_eq "drops counted" "$(count 1)" 1
expect_eq "passes counted" "$(count 2)" 5

id=$(bpftool -j prog show pinned "$pin" | json '["id"]')
jited=$(bpftool -j prog show pinned "$pin" | json '["bytes_jited"]')
[ "$jited" -gt 0 ] || fail "program not JIT-compiled"
note "prog id $id, $jited bytes JITed"
"$BUILD/rejit-daemon/bpfrejitd" --list | grep -E "^ *$id +xdp +smoke " ||
	fail "bpfrejitd --list does not show prog $id"
