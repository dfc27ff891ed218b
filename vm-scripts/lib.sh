# Shared settings for the vm-scripts. Source it; do not run it.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
SRC=$BUILD/linux		# kernel git work tree (pristine base + series)
# FLAVOUR=debug: the same tree built as a second kernel with
# vm-scripts/kernel-debug.config on top of kernel.config (make test-debug);
# its objects, modules and kinsn modules have their own directories.
FLAVOUR=${FLAVOUR:-}
sfx=${FLAVOUR:+-$FLAVOUR}
KOBJ=${KOBJ:-$BUILD/kernel$sfx}		# out-of-tree kernel objects
MODROOT=${MODROOT:-$BUILD/modroot$sfx}	# modules_install destination
KINSN_DIR=${KINSN_DIR:-$BUILD/kinsn$sfx}	# kinsn modules built against $KOBJ
unset sfx
TOOLS=$BUILD/tools		# libbpf + bpftool built from $SRC
JOBS=${JOBS:-$(nproc)}

# ccache: make hits independent of where the repo is cloned.
export CCACHE_BASEDIR=$REPO
export CCACHE_NOHASHDIR=true
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-time_macros}

CLANG=${CLANG:-clang-19}
LLVM_STRIP=${LLVM_STRIP:-llvm-strip-19}

die() { echo "error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

# Kernel release string of the built tree, e.g. 6.12.117-bpfrejit.
kernel_release() { cat "$KOBJ/include/config/kernel.release"; }
