#!/bin/bash
# Regenerate the committed patch series from the kernel work tree:
# commits base..rejit that touch only tools/bpf/bpftool/ go to bpftool-ext/,
# all others to kernel-patches/ (and must come first on the branch, since
# the build applies kernel-patches/series before bpftool-ext/series).
# The cover letter's subject and body come from kernel-patches/DESCRIPTION
# and bpftool-ext/DESCRIPTION.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$SRC/.git" ] || die "no kernel work tree at $SRC"
git_src() { git -C "$SRC" "$@"; }
[ -z "$(git_src status --porcelain --untracked-files=no)" ] ||
	die "$SRC has uncommitted changes: commit them first"

kernel=() bpftool=()
for c in $(git_src rev-list --reverse base..HEAD); do
	if git_src diff-tree --no-commit-id --name-only -r "$c" |
		grep -qv '^tools/bpf/bpftool/'; then
		[ ${#bpftool[@]} -eq 0 ] ||
			die "kernel commit $(git_src log -1 --format='%h %s' "$c") follows a bpftool commit: reorder the branch"
		kernel+=("$c")
	else
		bpftool+=("$c")
	fi
done

# The cover letter's subject is DESCRIPTION's first line, its body the rest.
fill_cover_letter() {
	python3 - "$1" "$2" <<'PY'
import sys
cover, desc = sys.argv[1], sys.argv[2]
subject, _, body = open(desc).read().partition("\n")
text = open(cover).read()
text = text.replace("*** SUBJECT HERE ***", subject.strip(), 1)
text = text.replace("*** BLURB HERE ***", body.strip(), 1)
open(cover, "w").write(text)
PY
}

# export DIR FIRST LAST: format-patch FIRST^..LAST into DIR with its series.
export_range() {
	local dir=$REPO/$1 first=$2 last=$3 desc
	rm -f "$dir"/*.patch
	if [ -n "$first" ]; then
		git_src format-patch -q --zero-commit --no-signature --cover-letter \
			-o "$dir" "$first^..$last"
		fill_cover_letter "$dir/0000-cover-letter.patch" "$dir/DESCRIPTION"
	fi
	(cd "$dir" && ls -1 [0-9]*.patch 2>/dev/null | grep -v '^0000-' || true) >"$dir/series"
	log "$1: $(grep -c . "$dir/series" || true) patches"
}

if [ ${#kernel[@]} -gt 0 ]; then
	export_range kernel-patches "${kernel[0]}" "${kernel[-1]}"
else
	export_range kernel-patches "" ""
fi
if [ ${#bpftool[@]} -gt 0 ]; then
	export_range bpftool-ext "${bpftool[0]}" "${bpftool[-1]}"
else
	export_range bpftool-ext "" ""
fi
# The tree now matches the committed series: no re-apply needed.
bash "$REPO/vm-scripts/fetch-kernel.sh" --stamp-only
