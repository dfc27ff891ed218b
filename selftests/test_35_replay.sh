#!/bin/bash
# The native replay of rejit-bench (rejit-daemon/src/bench/replay.cpp) on
# real images of this kernel: `rejit-bench dump` loads a few programs,
# keeps their stock images, re-JITs them with the daemon's passes (kinsn
# modules loaded) and records BPF_PROG_TEST_RUN on several inputs; then
# replay_check runs both images in user space (the re-JIT one through the
# stock image's redirect) on the same inputs at two alignments and compares
# retval and result with the kernel's, input by input:
#  - every image that is not refused agrees with the kernel, among them a
#    two-function image, frozen .rodata reads, xdp, tc and cgroup_skb
#    contexts, and images the passes changed (6.12's test run gives a
#    cgroup_skb program no packet: rejit-bench dump records no kernel
#    results for it, and its re-JIT replay is checked against its stock
#    replay, both run as the cgroup hook runs them);
#  - a program that reaches a mutable map is refused with the reason;
#  - an image with corrupted bytes (immediates off by one, or an int3)
#    disagrees or faults, is reported and does not kill the check.
# No time is measured or asserted.
. "$(dirname "$0")/lib.sh"

D=$BUILD/rejit-daemon
T=$D/tests
tmp=$(mktemp -d)
mods="kinsn_bitops kinsn_crc32c kinsn_movbe"
cleanup() {
	rm -rf "$tmp"
	# shellcheck disable=SC2086
	rmmod $mods 2>/dev/null || true
}
trap cleanup EXIT
for m in $mods; do
	insmod "$KINSN_DIR/$m.ko"
done

# The objects beside their inputs (NAME.in, NAME.in.1 ...): 6 pseudo-random
# inputs of 24 to 120 bytes per program, the same every run.
mkdir "$tmp/objs"
specs=()
add() { # OBJ [PROG]: copy OBJ, inputs for the row (PROG or the file name)
	local obj=$1 prog=${2:-} base row
	base=$(basename "$obj")
	cp -n "$obj" "$tmp/objs/$base"
	row=${prog:-${base%.bpf.o}}
	python3 - "$tmp/objs/$row" <<-'EOF'
		import random, sys
		rng = random.Random(sys.argv[1].rsplit("/", 1)[1])
		for k in range(6):
		    n = rng.randrange(24, 121)
		    name = sys.argv[1] + ".in" + ("" if k == 0 else f".{k}")
		    with open(name, "wb") as f:
		        f.write(bytes(rng.randrange(256) for _ in range(n)))
	EOF
	specs+=("$tmp/objs/$base${prog:+:$prog}")
}
add "$OBJ/replay_calls.bpf.o" replay_xdp
add "$OBJ/replay_calls.bpf.o" replay_tc
add "$OBJ/replay_calls.bpf.o" replay_cgroup
for p in rotate rodata store branchy bitfield be_load popcount zext sample; do
	add "$T/$p.bpf.o"
done
add "$T/crc.bpf.o" xdp_crc32c
add "$T/packed.bpf.o" xdp_packed

"$D/rejit-bench" dump "$tmp/dump" "${specs[@]}" >"$tmp/dump.out" 2>&1 ||
	fail "rejit-bench dump: $(cat "$tmp/dump.out")"
note "$(tail -1 "$tmp/dump.out")"

"$T/replay_check" "$tmp/dump" >"$tmp/check.out" 2>&1 ||
	fail "replay disagrees with BPF_PROG_TEST_RUN: $(cat "$tmp/check.out")"
sed 's/^/  /' "$tmp/check.out"
summary=$(tail -1 "$tmp/check.out")
read -r replayed rejited maps refused <<<"$(sed -E \
	's/replayed ([0-9]+) programs \(([0-9]+) with re-JITed code, ([0-9]+) reading frozen maps\), ([0-9]+) refused.*/\1 \2 \3 \4/' \
	<<<"$summary")"
[ "$replayed" -ge 10 ] || fail "only $replayed programs replayed: $summary"
[ "$rejited" -ge 3 ] || fail "only $rejited re-JITed images replayed: $summary"
[ "$maps" -ge 2 ] || fail "frozen map reads replayed in $maps programs: $summary"
for p in replay_xdp replay_tc replay_cgroup rotate; do
	grep -qE "^$p: stock 6/6 agree.* re-JIT 6/6 agree" "$tmp/check.out" ||
		fail "$p not replayed on all inputs: $(grep "^$p" "$tmp/check.out")"
done
# a program that reaches a mutable map through its kernel address (the
# verifier inlined its array lookup) is refused with the reason, never run
grep -qE '^sample: stock refused: .*map counters through a kernel address' "$tmp/check.out" ||
	fail "sample not refused for its map: $(grep '^sample' "$tmp/check.out")"

# Corrupted images: the check must fail, say where, and still finish.
for how in imm int3; do
	if "$T/replay_check" --corrupt "$how" "$tmp/dump" >"$tmp/bad.$how" 2>&1; then
		fail "--corrupt $how: the replay still agrees: $(cat "$tmp/bad.$how")"
	fi
	tail -1 "$tmp/bad.$how" | grep -qE '^replayed [0-9]+ programs.*, [1-9][0-9]* disagreements' ||
		fail "--corrupt $how: no summary: $(tail -3 "$tmp/bad.$how")"
	note "--corrupt $how: $(tail -1 "$tmp/bad.$how")"
done
grep -qE '^rotate: stock \(align 0\) input 0: SIGTRAP at image\+0x' "$tmp/bad.int3" ||
	fail "--corrupt int3: no SIGTRAP reported for rotate: $(grep '^rotate' "$tmp/bad.int3")"
# off-by-one immediates: wrong values (not faults) in several programs
wrong=$(grep -E '^[a-z0-9_]+: (stock|re-JIT) \(align [0-9]+\) input [0-9]+: replay retval' \
	"$tmp/bad.imm" | cut -d: -f1 | sort -u | xargs)
[ "$(wc -w <<<"$wrong")" -ge 3 ] || fail "--corrupt imm: wrong values only in '$wrong'"
note "--corrupt imm: wrong results in $wrong"
echo "ok"
