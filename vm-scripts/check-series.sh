#!/bin/bash
# Check that every patch of the series builds on its own: at each commit of
# base..rejit, run checkpatch on it and compile the directories it touches
# that matter to us (kernel/bpf, the x86 JIT, libbpf). The full kernel is
# built once, by build-kernel.sh, at the tip.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

git_src() { git -C "$SRC" "$@"; }
[ -z "$(git_src status --porcelain --untracked-files=no)" ] ||
	die "$SRC has uncommitted changes"
tip=$(git_src rev-parse --abbrev-ref HEAD)
trap 'git_src checkout -q "$tip"' EXIT

mkdir -p "$BUILD/series-check"
for c in $(git_src rev-list --reverse base..HEAD); do
	git_src checkout -q "$c"
	log "$(git_src log -1 --format='%h %s')"
	# SPACING: checkpatch misreads the anonymous bitfields ("__u32 :32;")
	# that bpf.h and libbpf's opts structs use. FILE_PATH_CHANGES: a new
	# file under tools/bpf/bpftool/ is covered by MAINTAINERS already, and
	# bpftool-only patches may not touch it.
	git_src format-patch -1 --stdout "$c" |
		"$SRC/scripts/checkpatch.pl" --no-tree -q \
			--ignore SPACING,FILE_PATH_CHANGES - ||
		die "checkpatch: $(git_src log -1 --format='%h %s' "$c")"
	make -s -C "$SRC" O="$KOBJ" CC="ccache gcc" LOCALVERSION= -j"$JOBS" \
		kernel/bpf/ arch/x86/net/
	make -s -C "$SRC/tools/lib/bpf" -j"$JOBS" OUTPUT="$BUILD/series-check/" \
		CC="ccache gcc" "$BUILD/series-check/libbpf.a" >/dev/null
done
log "every patch builds"
