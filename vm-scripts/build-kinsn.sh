#!/bin/bash
# Build the kinsn modules (kinsn/) against the patched kernel. Kbuild
# writes next to the sources, so they are copied to $BUILD/kinsn first:
# the .ko files land there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$KOBJ/vmlinux" ] || die "build the kernel first (modules need its BTF)"
mkdir -p "$BUILD/kinsn"
cp -r --preserve=timestamps "$REPO/kinsn/." "$BUILD/kinsn/"
log "building kinsn modules"
make -s -C "$KOBJ" M="$BUILD/kinsn" CC="ccache gcc" HOSTCC="ccache gcc" \
	LOCALVERSION= -j"$JOBS" modules
