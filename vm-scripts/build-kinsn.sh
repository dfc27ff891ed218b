#!/bin/bash
# Build the kinsn modules (kinsn/) against the patched kernel ($KOBJ).
# Kbuild writes next to the sources, so they are copied to $KINSN_DIR
# ($BUILD/kinsn, $BUILD/kinsn-debug for FLAVOUR=debug) first: the .ko files
# land there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$KOBJ/vmlinux" ] || die "build the kernel first (modules need its BTF)"
mkdir -p "$KINSN_DIR"
cp -r --preserve=timestamps "$REPO/kinsn/." "$KINSN_DIR/"
# Kbuild does not relink external modules when only vmlinux changed, and
# their BTF is split on vmlinux's: a stale one makes the kernel reject it.
for ko in "$KINSN_DIR"/*.ko; do
	[ -e "$ko" ] && [ "$KOBJ/vmlinux" -nt "$ko" ] && rm -f "$ko"
done
log "building kinsn modules in $KINSN_DIR"
make -s -C "$KOBJ" M="$KINSN_DIR" CC="ccache gcc" HOSTCC="ccache gcc" \
	LOCALVERSION= -j"$JOBS" modules
