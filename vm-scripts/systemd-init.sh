#!/bin/bash
# PID 1 of the systemd guest (vm-run.sh --systemd), before systemd: the
# read-only 9p root (the debootstrap image) becomes the lower layer of an
# overlay on tmpfs, the repository and the share are mounted at their host
# paths through fstab, and a unit that runs the command, hands its status
# back and powers off is added. Then systemd takes over as PID 1.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

. "$(dirname "$0")/overlay-root.sh" # installed next to this script by vm-run.sh
overlay_root
umount -l /old-root 2>/dev/null

opts=trans=virtio,version=9p2000.L,msize=524288
share=${VM_CTL%/*}
mkdir -p "$share" "$VM_REPO" /lib/modules
cat >/etc/fstab <<FSTAB
share $share 9p $opts 0 0
repo $VM_REPO 9p $opts,ro 0 0
$VM_MODROOT /lib/modules none bind,x-systemd.requires-mounts-for=$VM_REPO 0 0
FSTAB

cat >/usr/local/sbin/vm-run-cmd <<CMD
#!/bin/bash
. "$VM_CTL/env"
cd "\$VM_CWD" || cd /
bash -c "\$(cat "$VM_CTL/cmd")" </dev/null
echo \$? >"$VM_CTL/status"
sync
echo 0 >/proc/sys/kernel/printk # keep "reboot: Power down" off the output
systemctl poweroff --no-block
CMD
chmod +x /usr/local/sbin/vm-run-cmd
cat >/etc/systemd/system/vm-run-cmd.service <<UNIT
[Unit]
Description=The command vm-run.sh was given
After=multi-user.target
RequiresMountsFor=$share $VM_REPO /lib/modules

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vm-run-cmd
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
UNIT
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf /etc/systemd/system/vm-run-cmd.service /etc/systemd/system/multi-user.target.wants/

exec /lib/systemd/systemd
