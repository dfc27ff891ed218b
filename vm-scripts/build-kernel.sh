#!/bin/bash
# Configure (x86_64_defconfig + vm-scripts/kernel.config) and build the
# patched kernel out of tree in $KOBJ with ccache, then install its modules
# into $MODROOT for the guest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRAGMENT=$REPO/vm-scripts/kernel.config
# LOCALVERSION= (set, empty): no "+" for the git tree, release = X.Y.Z-bpfrejit
kmake() {
	make -s -C "$SRC" O="$KOBJ" CC="ccache gcc" HOSTCC="ccache gcc" LOCALVERSION= \
		-j"$JOBS" "$@"
}

# Every option the fragment sets must survive olddefconfig.
check_config() {
	local line bad=0
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$KOBJ/.config" || {
			echo "config: '$line' did not survive (unmet dependency?)" >&2
			bad=1
		} ;;
		"# CONFIG_"*" is not set")
			grep -q "^${line:2:-11}=" "$KOBJ/.config" && {
				echo "config: '$line' is set anyway" >&2
				bad=1
			} ;;
		esac
	done <"$FRAGMENT"
	return $bad
}

configure() {
	log "configuring kernel in $KOBJ"
	mkdir -p "$KOBJ"
	kmake x86_64_defconfig >/dev/null
	KCONFIG_CONFIG=$KOBJ/.config "$SRC/scripts/kconfig/merge_config.sh" \
		-m -O "$KOBJ" "$KOBJ/.config" "$FRAGMENT" >/dev/null
	kmake olddefconfig >/dev/null
	check_config || die "kernel config fragment not applied"
	cp "$FRAGMENT" "$KOBJ/.fragment"
}

if [ ! -f "$KOBJ/.config" ] || ! cmp -s "$FRAGMENT" "$KOBJ/.fragment"; then
	configure
fi

log "building kernel ($(kernel_release 2>/dev/null || echo new))"
kmake bzImage modules
find "$MODROOT/lib/modules" -mindepth 1 -maxdepth 1 ! -name "$(kernel_release)" \
	-exec rm -rf {} + 2>/dev/null || true
kmake INSTALL_MOD_PATH="$MODROOT" INSTALL_MOD_STRIP=1 DEPMOD=/sbin/depmod \
	modules_install >/dev/null
log "kernel $(kernel_release) ready: $KOBJ/arch/x86/boot/bzImage"
