#!/bin/bash
# Prepare $SRC: the pinned Debian linux-source-6.12 as a git repo whose
# first commit is the pristine tree (tag "base"), with kernel-patches/series
# and then bpftool-ext/series applied by "git am" on branch "rejit".
#
# "--stamp-only" records the current tree as matching the series.
# Re-runs are free while neither the base nor the patch files changed.
# When they changed, the branch is rebuilt from "base"; the previous branch
# head is kept as backup/<date> so no local commit is ever lost.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$REPO/vm-scripts/kernel-version"

series_files() {
	local dir
	for dir in kernel-patches bpftool-ext; do
		[ -f "$REPO/$dir/series" ] || continue
		{ grep -v -e '^\s*#' -e '^\s*$' "$REPO/$dir/series" || true; } |
			sed "s|^|$REPO/$dir/|"
	done
}

# The stamp names everything the tree is made of.
stamp() {
	{
		echo "$LINUX_SOURCE_PKG $(installed_version)"
		series_files | while read -r f; do
			[ -f "$f" ] || die "series names missing patch $f"
			sha256sum <"$f"
		done
	} | sha256sum | cut -d' ' -f1
}

installed_version() {
	dpkg-query -W -f='${Version}' "$LINUX_SOURCE_PKG" 2>/dev/null || true
}

install_source() {
	[ "$(installed_version)" = "$LINUX_SOURCE_VERSION" ] && return
	local sudo=
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	log "installing $LINUX_SOURCE_PKG=$LINUX_SOURCE_VERSION"
	$sudo apt-get update -qq
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		"$LINUX_SOURCE_PKG=$LINUX_SOURCE_VERSION"; then
		cat >&2 <<-MSG
		**********************************************************************
		WARNING: pinned $LINUX_SOURCE_PKG $LINUX_SOURCE_VERSION is not served
		any more; falling back to the newest $LINUX_SOURCE_PKG. If the series
		does not apply, rebase it and update vm-scripts/kernel-version.
		**********************************************************************
		MSG
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
			"$LINUX_SOURCE_PKG"
	fi
}

git_src() { git -C "$SRC" "$@"; }

create_repo() {
	local tarball=/usr/src/$LINUX_SOURCE_PKG.tar.xz tmp
	[ -f "$tarball" ] || die "$tarball not found"
	log "unpacking $tarball into $SRC"
	tmp=$(mktemp -d "$BUILD/linux.XXXXXX")
	tar -C "$tmp" -xf "$tarball"
	rm -rf "$SRC"
	mv "$tmp"/* "$SRC"
	rmdir "$tmp"
	git_src init -q -b rejit
	git_src config user.name "${GIT_AUTHOR_NAME:-BpfReJIT build}"
	git_src config user.email "${GIT_AUTHOR_EMAIL:-bpfrejit@localhost}"
	git_src config core.abbrev 12
	git_src config gc.auto 0
	git_src add -A -f
	git_src commit -q -m "Linux $(make -s -C "$SRC" kernelversion) from Debian $LINUX_SOURCE_PKG $(installed_version)"
	git_src tag base
}

apply_series() {
	local p
	if [ -n "$(git_src status --porcelain --untracked-files=no)" ]; then
		die "$SRC has uncommitted changes; commit them and run 'make export-patches' first"
	fi
	if [ "$(git_src rev-parse HEAD)" != "$(git_src rev-parse base)" ]; then
		local backup="backup/$(date +%Y%m%d-%H%M%S)"
		git_src branch -f "$backup" HEAD
		log "previous branch saved as $backup"
	fi
	git_src checkout -q -B rejit base
	series_files | while read -r p; do
		if ! git_src am -q "$p"; then
			git_src am --abort || true
			die "patch does not apply to $(git_src log -1 --format=%s base): $p"
		fi
	done
	log "applied $(git_src rev-list --count base..HEAD) patches on base"
}

mkdir -p "$BUILD"
install_source
want=$(stamp)
if [ "${1:-}" = --stamp-only ]; then # export-patches.sh: tree == series
	echo "$want" >"$BUILD/linux.stamp"
	exit 0
fi
if [ -d "$SRC/.git" ] && [ "$(cat "$BUILD/linux.stamp" 2>/dev/null)" = "$want" ]; then
	exit 0
fi
if [ ! -d "$SRC/.git" ] ||
	! git_src log -1 --format=%s base 2>/dev/null | grep -qF "$(installed_version)"; then
	create_repo
fi
apply_series
echo "$want" >"$BUILD/linux.stamp"
