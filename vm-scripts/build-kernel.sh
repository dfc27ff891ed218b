#!/bin/bash
# Configure (x86_64_defconfig + vm-scripts/kernel.config, + for FLAVOUR=F
# vm-scripts/kernel-F.config on top) and build the patched kernel out of
# tree in $KOBJ with ccache, then install its modules into $MODROOT for the
# guest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRAGMENTS=("$REPO/vm-scripts/kernel.config")
if [ -n "$FLAVOUR" ]; then
	FRAGMENTS+=("$REPO/vm-scripts/kernel-$FLAVOUR.config")
	[ -f "${FRAGMENTS[1]}" ] || die "FLAVOUR=$FLAVOUR: no ${FRAGMENTS[1]}"
fi
# LOCALVERSION= (set, empty): no "+" for the git tree, release = X.Y.Z-bpfrejit
kmake() {
	make -s -C "$SRC" O="$KOBJ" CC="ccache gcc" HOSTCC="ccache gcc" LOCALVERSION= \
		-j"$JOBS" "$@"
}

# Every option the fragments set must survive olddefconfig (for an option
# set in more than one, the last fragment's line, as merge_config.sh does).
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
	done < <(sed -nE 's/^(# )?(CONFIG_[A-Za-z0-9_]+)[= ].*/\2 &/p' "${FRAGMENTS[@]}" |
		awk '{ last[$1] = substr($0, length($1) + 2) } END { for (k in last) print last[k] }')
	return $bad
}

configure() {
	log "configuring kernel in $KOBJ"
	mkdir -p "$KOBJ"
	kmake x86_64_defconfig >/dev/null
	KCONFIG_CONFIG=$KOBJ/.config "$SRC/scripts/kconfig/merge_config.sh" \
		-m -O "$KOBJ" "$KOBJ/.config" "${FRAGMENTS[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	check_config || die "kernel config fragment not applied"
	cat "${FRAGMENTS[@]}" >"$KOBJ/.fragment"
}

# The fragments the tree was configured with, concatenated: a change to any
# of them (or to the set) reconfigures.
if [ ! -f "$KOBJ/.config" ] || ! cat "${FRAGMENTS[@]}" | cmp -s - "$KOBJ/.fragment"; then
	configure
fi

log "building kernel ($(kernel_release 2>/dev/null || echo new))"
kmake bzImage modules
find "$MODROOT/lib/modules" -mindepth 1 -maxdepth 1 ! -name "$(kernel_release)" \
	-exec rm -rf {} + 2>/dev/null || true
kmake INSTALL_MOD_PATH="$MODROOT" INSTALL_MOD_STRIP=1 DEPMOD=/sbin/depmod \
	modules_install >/dev/null
log "kernel $(kernel_release) ready: $KOBJ/arch/x86/boot/bzImage"
