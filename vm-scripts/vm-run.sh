#!/bin/bash
# Boot the patched kernel in QEMU and run one command inside; exit with the
# command's status.
#
#   vm-run.sh [--shell | --systemd] [--timeout SEC] [--mem SIZE] [--smp N] [CMD]
#
# The guest's root is this machine's root, read-only over virtio-9p, so host
# binaries and the repository (same path) are visible in the guest. $VM_DIR/
# share is mounted read-write at the same path and exported to the command
# as $VM_SHARE: that is how files come back. The kernel's modules are bound
# over /lib/modules, the tree-built bpftool comes first in $PATH and
# $KINSN_DIR (the kinsn modules built for this kernel) is exported.
# The serial log is saved as $VM_DIR/serial.log.
#
# With --systemd the root is instead the Debian image of make-rootfs.sh with
# systemd as PID 1 (and the repository shared at its host path); the command
# runs as a systemd unit once the system is up (systemd-init.sh).
#
# Environment: VM_ACCEL=kvm|tcg (default: kvm if /dev/kvm works),
# VM_TIMEOUT (seconds, default 900), VM_APPEND (extra kernel parameters),
# VM_DIR (serial log and share, default $BUILD/vm), FLAVOUR=debug (boot
# build/kernel-debug, see lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

shell=0 systemd=0 timeout=${VM_TIMEOUT:-900} mem=2G smp=2
while [ $# -gt 0 ]; do
	case "$1" in
	--shell) shell=1 ;;
	--systemd) systemd=1 ;;
	--timeout) timeout=$2; shift ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
cmd="$*"
[ $shell -eq 1 ] || [ -n "$cmd" ] || die "usage: vm-run.sh [--shell | --systemd] [CMD]"
[ $systemd -eq 0 ] || [ $shell -eq 0 ] || die "--shell and --systemd do not go together"

kernel=$KOBJ/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no kernel at $kernel: run 'make kernel${FLAVOUR:+-$FLAVOUR}' first"
release=$(kernel_release)

# KVM only when a guest really boots with it (some hosts expose a /dev/kvm
# that cannot run a guest); the answer is cached per host boot.
kvm_works() {
	local cache=$BUILD/vm/kvm-probe boot log
	boot=$(cat /proc/sys/kernel/random/boot_id)
	if [ "$(head -1 "$cache" 2>/dev/null)" = "$boot" ]; then
		[ "$(tail -1 "$cache")" = yes ]
		return
	fi
	mkdir -p "$BUILD/vm"
	log=$(mktemp)
	# In a child shell: a QEMU that aborts is reported there, not here.
	bash -c 'timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 256M \
		-kernel "$1" -append "console=ttyS0 earlyprintk=ttyS0 panic=-1" \
		-no-reboot -nodefaults -display none -serial "file:$2"; exit $?' \
		probe "$kernel" "$log" </dev/null >/dev/null 2>&1 || true
	if grep -q "Linux version" "$log"; then
		printf '%s\nyes\n' "$boot" >"$cache"
	else
		printf '%s\nno\n' "$boot" >"$cache"
	fi
	rm -f "$log"
	[ "$(tail -1 "$cache")" = yes ]
}
accel=${VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	[ -w /dev/kvm ] && kvm_works && accel=kvm
fi
accel_opts=$accel
case "$accel" in
kvm) cpu=host ;;
# One host thread runs all vCPUs in turn: multi-threaded TCG does not give
# x86 cross-modifying code its hardware semantics, and live text patching
# (text_poke_bp(), as BPF_PROG_REJIT of an fentry program does) while
# another vCPU runs that code crashes the guest on a stale int3.
tcg) cpu=max accel_opts=tcg,thread=single ;;
*) die "VM_ACCEL must be kvm or tcg" ;;
esac

vmdir=${VM_DIR:-$BUILD/vm}
share=$vmdir/share
ctl=$(mktemp -d "$share/.ctl.XXXXXX" 2>/dev/null ||
	{ mkdir -p "$share" && mktemp -d "$share/.ctl.XXXXXX"; })
trap 'rm -rf "$ctl"' EXIT
serial=$vmdir/serial.log

printf '%s\n' "$cmd" >"$ctl/cmd"
cat >"$ctl/env" <<ENV
export PATH=$TOOLS/bpftool:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export REPO=$REPO BUILD=$BUILD VM_SHARE=$share KINSN_DIR=$KINSN_DIR
export HOME=/root TERM=${TERM:-linux} LANG=C.UTF-8
export VM_CWD=$PWD VM_SHELL=$shell
PS1='\u@\h:\w# '
ENV

root_opts=trans=virtio,version=9p2000.L,msize=524288,cache=loose
append="console=ttyS0 root=/dev/root rootfstype=9p rootflags=$root_opts ro"
# no_timer_check: under TCG on a loaded host the IO-APIC timer check can
# fail and panic the boot ("IO-APIC + timer doesn't work!").
append+=" panic=-1 oops=panic quiet loglevel=4 no_timer_check"
append+=" VM_CTL=$ctl VM_MODROOT=$MODROOT/lib/modules ${VM_APPEND:-}"
root=/ extra=()
if [ $systemd -eq 1 ]; then
	root=$BUILD/rootfs
	[ -x "$root/lib/systemd/systemd" ] || die "no image at $root: run make-rootfs.sh"
	install -m 0755 "$REPO/vm-scripts/systemd-init.sh" "$root/sbin/bpfrejit-init"
	install -m 0644 "$REPO/vm-scripts/overlay-root.sh" "$root/sbin/overlay-root.sh"
	append+=" init=/sbin/bpfrejit-init VM_REPO=$REPO systemd.show_status=false"
	extra=(-fsdev "local,id=repo,path=$REPO,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=repo,mount_tag=repo)
else
	append+=" init=$REPO/vm-scripts/guest-init.sh"
fi

qemu=(qemu-system-x86_64 -accel "$accel_opts" -cpu "$cpu" -smp "$smp" -m "$mem"
	-kernel "$kernel" -append "$append" -no-reboot -nodefaults
	-no-user-config -display none
	-fsdev "local,id=root,path=$root,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root "${extra[@]}"
	-fsdev "local,id=share,path=$share,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=share,mount_tag=share
	-device virtio-rng-pci)

[ -n "${VM_QUIET:-}" ] || echo "vm-run: $release, $accel, $smp CPUs, $mem$(
	[ $systemd -eq 0 ] || echo ", systemd")" >&2
if [ $shell -eq 1 ]; then
	echo "vm-shell: $release, $accel; leave with 'exit' (or Ctrl-A X)" >&2
	"${qemu[@]}" -serial mon:stdio
else
	rc=0
	timeout -k 10 "$timeout" "${qemu[@]}" \
		-chardev "stdio,id=con,logfile=$serial,signal=on" \
		-serial chardev:con </dev/null || rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "vm-run: guest timed out after ${timeout}s (serial log: $serial)" >&2
		exit 124
	fi
	[ $rc -eq 0 ] || die "qemu failed with status $rc (serial log: $serial)"
fi

if [ ! -f "$ctl/status" ]; then
	echo "vm-run: guest ended without an exit status (crash?); last lines of $serial:" >&2
	tail -n 40 "$serial" >&2 || true
	exit 125
fi
exit "$(cat "$ctl/status")"
