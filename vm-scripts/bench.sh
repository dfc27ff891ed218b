#!/bin/bash
# make bench, first section: the micro suite end to end (issue 22).
#
#   BENCH_OBJS='dir/a.bpf.o dir/b.bpf.o' vm-scripts/bench.sh
#
# 1. builds the micro suite (bench/micro: BPF objects, native library,
#    inputs) into build/bench/micro;
# 2. boots the patched kernel, loads every kinsn module that loads and runs
#    `rejit-bench dump` there: each program's stock image, its re-JIT by
#    bpfrejitd's passes, the kernel's test-run results (build/bench/dump);
# 3. runs `rejit-bench replay` on this machine: the images replayed on this
#    CPU next to the clang build, the host-kernel tier; prints one table and
#    writes build/bench/micro.json.
#
# BENCH_OBJS: more XDP/tc/cgroup_skb objects that follow the micro suite's
# convention (8-byte result slot, then the input), one program each or
# PATH:PROG; inputs dir/NAME.in, dir/NAME.in.1 ... beside each (NAME: the
# file name without .bpf.o, or PROG), or 64 pseudo-random bytes; expected
# result: what the stock image computes. The workload's xdp_flow (maps, helpers)
# always comes along for the host-kernel tier.
#
# Environment: BENCH_OBJS, BENCH_SAMPLES (timing samples, default the
# tools' own), VM_DIR (default build/vm), BENCH_HOST_TIER=0 (skip that tier).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/bench
micro=$out/micro
bin=$BUILD/rejit-daemon/rejit-bench
[ -x "$bin" ] || die "no $bin: run 'make daemon' first"
export VM_DIR=${VM_DIR:-$BUILD/vm}

log "building the micro suite"
make -s -C "$REPO/bench/micro" OUT="$micro" LIBBPF_INC="$TOOLS/libbpf-root/usr/include"

objs=()
declare -A seen
for o in "$micro"/*.bpf.o; do
	objs+=("$o")
	seen[$(basename "$o" .bpf.o)]=1
done
[ ${#objs[@]} -gt 0 ] || die "no micro benchmarks built in $micro"
for o in ${BENCH_OBJS:-}; do
	prog=
	if [ ! -f "$o" ] && [ -f "${o%:*}" ]; then # PATH:PROG
		prog=${o##*:} o=${o%:*}
	fi
	[ -f "$o" ] || die "BENCH_OBJS: no such file: $o"
	o=$(realpath "$o")
	name=$(basename "$o"); name=${name%.o}; name=${name%.bpf}
	if [ -n "$prog" ]; then
		name=$prog o=$o:$prog
	fi
	[ -z "${seen[$name]:-}" ] || die "BENCH_OBJS: a benchmark named $name is already in the run ($o)"
	seen[$name]=1
	objs+=("$o")
done

# The workload program of `make run`: not the convention (it counts into
# a map), a UDP packet to its port so that it takes its counting path. The
# slot's 8 zero bytes are the destination MAC and 2 bytes of the source.
wl=$out/workload
mkdir -p "$wl"
cp "$BUILD/selftests/workload.bpf.o" "$wl/"
{
	printf '\x02\x00\x00\x01\x08\x00'				# src MAC tail, IPv4
	printf '\x45\x00\x00\x3b\x00\x00\x40\x00\x40\x11\x00\x00'	# IPv4, UDP
	printf '\x0a\x00\x00\x01\x0a\x00\x00\x02'
	printf '\x30\x39\x27\x0f\x00\x27\x00\x00'			# UDP to 9999
	printf '\x01\x00\x00\x12\x34\x07\x00\x00\x00\x00\x00\x00\x00\x10\x00' # app header
	printf '0123456789abcdef'					# payload
} >"$wl/xdp_flow.in"
objs+=("$wl/workload.bpf.o:xdp_flow")

share=$VM_DIR/share
mkdir -p "$share"
rm -rf "$share/bench-dump"
log "dumping ${#objs[@]} programs in the patched kernel (QEMU)"
"$REPO/vm-scripts/vm-run.sh" --timeout 1800 -- \
	"for m in \$KINSN_DIR/*.ko; do insmod \$m 2>/dev/null || echo \"kinsn: \$m did not load\" >&2; done
	 $bin dump \$VM_SHARE/bench-dump ${objs[*]}"
rm -rf "$out/dump"
mv "$share/bench-dump" "$out/dump"

log "replaying on this CPU, host-kernel tier"
args=(--native "$micro/libmicro_native.so" --json "$out/micro.json")
[ "${BENCH_HOST_TIER:-1}" = 1 ] || args+=(--no-host-tier)
[ -z "${BENCH_SAMPLES:-}" ] || args+=(--samples "$BENCH_SAMPLES")
"$bin" replay "$out/dump" "${args[@]}"
