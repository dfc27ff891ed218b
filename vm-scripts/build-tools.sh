#!/bin/bash
# Build libbpf and bpftool from the patched tree, so userspace sees the
# patched UAPI. Outputs:
#   $TOOLS/libbpf-root/usr/{include,lib}   headers + libbpf.a for the daemon
#   $TOOLS/bpftool/bpftool                 first in $PATH inside the VM
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$KOBJ/vmlinux" ] || die "build the kernel first (needs $KOBJ/vmlinux for BTF)"
mkdir -p "$TOOLS/libbpf" "$TOOLS/bpftool"

log "building libbpf from $SRC"
make -s -C "$SRC/tools/lib/bpf" -j"$JOBS" OUTPUT="$TOOLS/libbpf/" \
	CC="ccache gcc" DESTDIR="$TOOLS/libbpf-root" prefix=/usr LIBDIR=/usr/lib \
	install_headers "$TOOLS/libbpf/libbpf.a" >/dev/null
install -C -D -m 0644 "$TOOLS/libbpf/libbpf.a" "$TOOLS/libbpf-root/usr/lib/libbpf.a"
# The UAPI libbpf was built against (tools/include/uapi, kept in sync with
# the patched kernel by the series), so users see the same bpf.h.
for h in bpf.h bpf_common.h btf.h; do
	install -C -D -m 0644 "$SRC/tools/include/uapi/linux/$h" \
		"$TOOLS/libbpf-root/usr/include/linux/$h"
done

log "building bpftool from $SRC"
make -s -C "$SRC/tools/bpf/bpftool" -j"$JOBS" OUTPUT="$TOOLS/bpftool/" \
	CC="ccache gcc" HOSTCC="ccache gcc" CLANG="$CLANG" LLVM_STRIP="$LLVM_STRIP" \
	LLVM_CONFIG=llvm-config-19 VMLINUX_BTF="$KOBJ/vmlinux" >/dev/null
"$TOOLS/bpftool/bpftool" version >&2
