#!/bin/bash
# The shadow check (bpfrejit shadow, the daemon's check before a re-JIT) on
# the real kernel: standalone copies of a live program's original bytecode
# and of new code run the same generated packets, each on copies of the
# program's maps. The live xdp_flow of workload.bpf.o is loaded but not
# attached, so nothing but this test touches its maps:
#  - its passes' output is the same as the original, and is re-JITed;
#  - its original bytecode handed in as "new code" is the same (no false
#    alarm);
#  - a variant with one constant changed (the return value, or the map key
#    of a counter) is reported different, with the input or map and key,
#    and nothing is re-JITed;
#  - the live maps are byte for byte what they were before every check;
#  - programs it cannot run (a tracepoint, a tail caller) say why.
. "$(dirname "$0")/lib.sh"

D=$BUILD/rejit-daemon
dir=/sys/fs/bpf/shadow
tmp=$(mktemp -d)
cleanup() {
	rm -rf "$dir" "$tmp"
	rmmod kinsn_bitops 2>/dev/null || true
}
trap cleanup EXIT
insmod "$KINSN_DIR/kinsn_bitops.ko"

mkdir -p "$dir"
bpftool prog loadall "$OBJ/workload.bpf.o" "$dir/p" pinmaps "$dir/maps"
flow=$(bpftool -j prog show pinned "$dir/p/xdp_flow" | json '["id"]')
rejit_cnt() { bpftool -j prog show id "$flow" | json '["rejit_cnt"]'; }
# every map xdp_flow was loaded with, dumped (ids taken now: re-JITed code
# with .rodata folded in no longer lists that map)
map_ids=$(bpftool -j prog show id "$flow" | python3 -c 'import json,sys
print(*json.load(sys.stdin)["map_ids"])')
[ "$(wc -w <<<"$map_ids")" = 2 ] || fail "xdp_flow maps: $map_ids"
live_maps() {
	local m
	for m in $map_ids; do
		bpftool -j map dump id "$m"
	done
}

# Live counters that are not zero: an app packet and a non-app one through
# the live program (BPF_PROG_TEST_RUN on the live program writes its maps).
python3 -c 'import sys
p = bytearray(range(57)); p[12:14] = b"\x08\x00"; p[14] = 0x45; p[23] = 17
p[36:38] = b"\x27\x0f"; p[42] = 1; sys.stdout.buffer.write(p)' >"$tmp/app.pkt"
head -c 60 /dev/zero >"$tmp/other.pkt"
bpftool prog run pinned "$dir/p/xdp_flow" data_in "$tmp/app.pkt" repeat 3 >/dev/null
bpftool prog run pinned "$dir/p/xdp_flow" data_in "$tmp/other.pkt" repeat 5 >/dev/null
live_maps >"$tmp/maps.before"
stats=$(bpftool map dump pinned "$dir/maps/stats")
grep -q '"value": 5' <<<"$stats" || fail "live stats map not set up: $stats"
unchanged() { # WHAT: the live maps are as they were
	live_maps >"$tmp/maps.now"
	cmp -s "$tmp/maps.before" "$tmp/maps.now" ||
		fail "$1 changed the live maps: $(diff "$tmp/maps.before" "$tmp/maps.now")"
}

# --- the original bytecode as "new code": the same, every input compared
bpftool prog dump orig pinned "$dir/p/xdp_flow" file "$tmp/orig.bin"
out=$("$D/bpfrejit" shadow "$flow" bytecode "$tmp/orig.bin" inputs 200) ||
	fail "original vs itself: $out"
grep -q "^shadow check of prog $flow: same: 200 of 200 inputs compared, 2 maps$" <<<"$out" ||
	fail "original vs itself: $out"
unchanged "checking the original against itself"
note "original vs itself: ${out#*: }"

# --- variants with one constant changed. bpf_insn records: code, regs
# (dst low nibble), off, imm. "w0 = 2" (XDP_PASS) -> 1 (XDP_DROP); the key
# of the OTHER counter "w1 = 4" -> 5 (a counter xdp_flow never touches).
variant() { # DST IMM NEWIMM OUT: first "wDST = IMM" gets NEWIMM
	python3 - "$tmp/orig.bin" "$@" <<'PY'
import struct, sys
src, dst, imm, new, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
b = bytearray(open(src, "rb").read())
for i in range(0, len(b), 8):
    code, regs, off, k = struct.unpack_from("<BBhi", b, i)
    if code == 0xb4 and regs & 0xf == dst and k == imm:
        struct.pack_into("<i", b, i + 4, new)
        open(out, "wb").write(b)
        print(i // 8)
        sys.exit(0)
sys.exit("no w%d = %d in the original" % (dst, imm))
PY
}
at=$(variant 0 2 1 "$tmp/drop.bin")
out=$("$D/bpfrejit" shadow "$flow" bytecode "$tmp/drop.bin" rejit) &&
	fail "return value variant passed: $out"
grep -q "^shadow check of prog $flow: different: input #0 ([0-9]* bytes): retval 2 vs 1 (original vs rewritten)$" <<<"$out" ||
	fail "return value variant (insn $at): $out"
grep -q "^not re-JITed$" <<<"$out" || fail "return value variant: $out"
expect_eq "rejit_cnt after a different variant" "$(rejit_cnt)" 0
unchanged "checking the return value variant"
note "insn $at w0 = 2 -> 1: ${out%%$'\n'not*}" | sed "s/shadow check of prog $flow: //"

at=$(variant 1 4 5 "$tmp/key.bin")
out=$("$D/bpfrejit" shadow "$flow" bytecode "$tmp/key.bin" rejit) &&
	fail "map key variant passed: $out"
grep -q "^shadow check of prog $flow: different: map stats after 64 inputs: key 04000000: value byte 0: 0x[0-9a-f]* vs 0x05 (original vs rewritten)$" <<<"$out" ||
	fail "map key variant (insn $at): $out"
expect_eq "rejit_cnt after a different variant" "$(rejit_cnt)" 0
unchanged "checking the map key variant"
note "insn $at w1 = 4 -> 5: ${out%%$'\n'not*}" | sed "s/shadow check of prog $flow: //"

# --- the passes' output: the same, and re-JITed
before=$(workload_stats "$dir/maps/stats")
bpftool prog run pinned "$dir/p/xdp_flow" data_in "$tmp/app.pkt" >/dev/null
want=$(stats_delta "$before" "$(workload_stats "$dir/maps/stats")")
live_maps >"$tmp/maps.before"
out=$("$D/bpfrejit" shadow "$flow" rejit) || fail "passes' output: $out"
grep -q "^shadow check of prog $flow: same: 64 of 64 inputs compared, 2 maps$" <<<"$out" ||
	fail "passes' output: $out"
grep -q "^re-JITed$" <<<"$out" || fail "passes' output: $out"
expect_eq "rejit_cnt after the passes' output" "$(rejit_cnt)" 1
rols=$(bpftool prog dump xlated id "$flow" | grep -c "kinsn bpf_rol64") || true
expect_eq "rotates as kinsns in the re-JITed code (checked with them)" "$rols" 2
unchanged "checking and re-JITing the passes' output"
note "passes' output: $(head -1 <<<"$out"); $(sed -n 2p <<<"$out")"
# the re-JITed live program counts an app packet as the original did
counts() { # stats of xdp_flow added by one app packet
	local before
	before=$(workload_stats "$dir/maps/stats")
	bpftool prog run pinned "$dir/p/xdp_flow" data_in "$tmp/app.pkt" >/dev/null
	stats_delta "$before" "$(workload_stats "$dir/maps/stats")"
}
expect_eq "counters of one app packet after the re-JIT" "$(counts)" "$want"

# --- what the check cannot run says why, exits 3 (and is not re-JITed
# by bpfrejit without "rejit")
bpftool prog loadall "$OBJ/rejit.bpf.o" "$dir/r" pinmaps "$dir/r-maps"
unchecked() { # PROG REASON
	local id rc=0 out
	id=$(bpftool -j prog show pinned "$dir/r/$1" | json '["id"]')
	out=$("$D/bpfrejit" shadow "$id" 2>&1) || rc=$?
	expect_eq "exit status of $1 ($out)" "$rc" 3
	grep -q "^shadow check of prog $id: not checked: $2$" <<<"$out" || fail "$1: $out"
	expect_eq "$1 rejit_cnt" "$(bpftool -j prog show id "$id" | json '["rejit_cnt"]')" 0
	note "$1: $(tail -1 <<<"$out" | sed "s/shadow check of prog $id: //")"
}
unchecked tp_tail "type tracepoint (no packet test runs)"
unchecked xdp_tail "prog_array map jmp"
