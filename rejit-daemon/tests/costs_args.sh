#!/bin/bash
# rejit-costs and rejit-corpus refuse bad arguments with exit status 2 and
# a message that names the problem, before they touch the kernel (so this
# runs on any host).
#
#   costs_args.sh BUILD_DIR
set -u
B=${1:?usage: costs_args.sh BUILD_DIR}
failed=0

# expect TOOL_AND_ARGS... -- PATTERN: exit 2 and PATTERN on stderr
expect() {
	local args=() pattern out rc
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	pattern=$2
	out=$("${args[@]}" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 2 ] || ! grep -q -- "$pattern" <<<"$out"; then
		echo "FAIL: ${args[*]}: exit $rc, wanted 2 and '$pattern'; got: $out"
		failed=1
	fi
}

C=$B/rejit-costs
expect "$C" -- "usage: rejit-costs latency"
expect "$C" frobnicate -- "unknown command 'frobnicate'"
expect "$C" latency -- "latency: no OBJECT"
expect "$C" latency --programs 0 x.o -- "--programs '0': want an integer 1 .. 1000"
expect "$C" latency --repeat 2x x.o -- "--repeat '2x'"
expect "$C" latency --max-insns -5 x.o -- "--max-insns '-5'"
expect "$C" latency --seconds 5 x.o -- "latency: unexpected '--seconds'"
expect "$C" daemon -- "--bpfrejitd PATH is required"
expect "$C" daemon --bpfrejitd /bin/true --programs 100,x -- "--programs 'x'"
expect "$C" daemon --bpfrejitd /bin/true --interval-ms 5 -- "bpfrejitd takes 10 .. 3600000"
expect "$C" stats extra -- "stats: unexpected 'extra'"
expect "$C" stats --runs 0 -- "--runs '0'"
R=$B/rejit-corpus
expect "$R" --source "two words" x.o -- "a label is one word"
expect "$R" --source all x.o -- "a label is one word"
expect "$R" --source ours -- "usage: rejit-corpus"
expect "$R" --frob x.o -- "usage: rejit-corpus"

[ $failed -eq 0 ] && echo "all bad arguments refused"
exit $failed
