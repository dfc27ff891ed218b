# Sourced by the guests' PID 1 scripts (guest-init.sh, systemd-init.sh):
# make the read-only 9p root the lower layer of an overlay on tmpfs and
# switch to it, so the guest has a writable root that vanishes at power-off.
# shellcheck shell=bash
overlay_root() {
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p /run/ovl/upper /run/ovl/work /run/ovl/root
	mount -t overlay overlay \
		-o lowerdir=/,upperdir=/run/ovl/upper,workdir=/run/ovl/work /run/ovl/root
	cd /run/ovl/root || return 1
	mkdir -p old-root
	pivot_root . old-root
}
