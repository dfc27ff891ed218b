#!/bin/bash
# Build the kinsn modules (kinsn/) against the patched kernel. Kbuild
# writes next to the sources, so they are copied to $BUILD/kinsn first:
# the .ko files land there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$KOBJ/vmlinux" ] || die "build the kernel first (modules need its BTF)"
mkdir -p "$BUILD/kinsn"
cp -r --preserve=timestamps "$REPO/kinsn/." "$BUILD/kinsn/"
# Kbuild does not relink external modules when only vmlinux changed, and
# their BTF is split on vmlinux's: a stale one makes the kernel reject it.
for ko in "$BUILD"/kinsn/*.ko; do
	[ -e "$ko" ] && [ "$KOBJ/vmlinux" -nt "$ko" ] && rm -f "$ko"
done
log "building kinsn modules"
make -s -C "$KOBJ" M="$BUILD/kinsn" CC="ccache gcc" HOSTCC="ccache gcc" \
	LOCALVERSION= -j"$JOBS" modules
