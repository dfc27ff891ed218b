#!/bin/bash
# PID 1 of the test guest (see vm-run.sh). The read-only 9p root becomes the
# lower layer of an overlay on tmpfs, so the guest has a writable root that
# vanishes at power-off. Mount the usual filesystems, run the command (or a
# shell), hand its exit status back and power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

. "$(dirname "$0")/overlay-root.sh"
overlay_root
exec </dev/console >/dev/console 2>&1
umount -l /old-root 2>/dev/null

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# /tmp stays on the overlay: the repository may live under the host's /tmp.
for d in /dev/shm /run; do
	mount -t tmpfs -o mode=1777 tmpfs "$d"
done
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t cgroup2 cgroup2 /sys/fs/cgroup
rm -rf /lib/modules
mkdir -p /lib/modules
mount --bind "$VM_MODROOT" /lib/modules
hostname bpfrejit-vm
ip link set lo up

share=${VM_CTL%/*}
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 share "$share"
. "$VM_CTL/env"
cd "$VM_CWD" || cd /

if [ "$VM_SHELL" = 1 ]; then
	# Not a login shell: /etc/profile would reset $PATH.
	setsid -c bash --rcfile "$VM_CTL/env" -i <>/dev/ttyS0 >&0 2>&0
	rc=$?
else
	bash -c "$(cat "$VM_CTL/cmd")" </dev/null
	rc=$?
fi

echo "$rc" >"$VM_CTL/status"
sync
umount "$share"
echo 0 >/proc/sys/kernel/printk # keep "reboot: Power down" off the output
busybox poweroff -f
