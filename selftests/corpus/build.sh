#!/bin/bash
# Builds the corpus the passes are proven on (rejit-corpus, test_50_corpus):
# every BPF program of the kernel tree's tools/testing/selftests/bpf/progs,
# compiled with Debian's clang the way the kernel's selftests build them,
# against a vmlinux.h of the patched kernel. Programs that do not compile
# with this clang or kernel config are listed, not fatal. The other part of
# the corpus, Debian's own BPF objects (libxdp1, xdp-tools), is installed
# by deps.sh and used where the packages put them.
#
#   build.sh OUT_DIR        (make selftests calls it)
set -euo pipefail
. "$(dirname "$0")/../../vm-scripts/lib.sh"

out=$1
src=$SRC/tools/testing/selftests/bpf
mkdir -p "$out/include"
"$TOOLS/bpftool/bpftool" btf dump file "$KOBJ/vmlinux" format c >"$out/include/vmlinux.h.new"
cmp -s "$out/include/vmlinux.h.new" "$out/include/vmlinux.h" ||
	mv "$out/include/vmlinux.h.new" "$out/include/vmlinux.h"
rm -f "$out/include/vmlinux.h.new"

# clang's own and the system headers after the selftests' (as their Makefile
# does with get_sys_includes)
sys=$($CLANG -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search/p' |
	grep '^ ' | sed 's/^ /-idirafter /' | tr '\n' ' ')
export out src sys CLANG
export CFLAGS="-g -Wall -Werror -D__TARGET_ARCH_x86 -I$out/include \
-I$TOOLS/libbpf-root/usr/include -I$src -I$SRC/tools/include/uapi \
-Wno-compare-distinct-pointer-types -O2 --target=bpf -mcpu=v3"

compile() { # progs/NAME.c: only when missing or older than its source
	local name obj
	name=$(basename "$1" .c)
	obj=$out/$name.bpf.o
	[ "$obj" -nt "$1" ] && [ "$obj" -nt "$out/include/vmlinux.h" ] && return 0
	# shellcheck disable=SC2086
	$CLANG $CFLAGS $sys -c "$1" -o "$obj" 2>/dev/null || { rm -f "$obj"; echo "$name"; }
}
export -f compile
find "$src/progs" -maxdepth 1 -name '*.c' | sort |
	xargs -P "$(nproc)" -I{} bash -c 'compile {}' >"$out/failed.txt"
echo "corpus: $(find "$out" -maxdepth 1 -name '*.bpf.o' | wc -l) kernel selftests objects" \
	"in $out, $(wc -l <"$out/failed.txt") did not compile (failed.txt)"
