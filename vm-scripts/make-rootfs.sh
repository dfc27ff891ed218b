#!/bin/bash
# The guest root with systemd as PID 1 (vm-run.sh --systemd): a minimal
# Debian 12 made with debootstrap, cached in $BUILD/rootfs. Rebuilt only
# when the package list or the version below changes. It holds only what
# the daemon's service and its tests need; the repository and the build are
# shared into the guest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$BUILD/rootfs
stamp=$BUILD/rootfs.stamp
pkgs=systemd,systemd-sysv,dbus,udev,iproute2,python3,procps,kmod
pkgs+=,libfmt9,libelf1,zlib1g,libsystemd0,libcap2,libllvm19 # bpfrejitd, bpftool
want="bookworm $pkgs v1" # bump v1 when the setup below changes
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
# An interrupted debootstrap leaves /proc and /sys mounted in the target.
{ grep -o " $root/[^ ]*" /proc/mounts || true; } | sort -r | xargs -r -n1 umount -l
rm -rf "$root" "$stamp"
log "debootstrap: Debian bookworm with systemd into $root"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$mirror" \
	>"$BUILD/rootfs.log" 2>&1 || {
	tail -20 "$BUILD/rootfs.log" >&2
	die "debootstrap failed (log: $BUILD/rootfs.log)"
}
echo bpfrejit-vm >"$root/etc/hostname"
# No login prompt on the console: the test unit owns it.
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
rm -rf "$root/var/cache/apt/archives/"*.deb
echo "$want" >"$stamp"
log "rootfs ready: $root"
