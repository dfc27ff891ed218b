#!/bin/bash
# Install the Debian packages the build, the VM and the tests need.
# Cheap when everything is present: apt is only called for what is missing.
set -euo pipefail

PKGS=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev dwarves ccache
	cpio rsync kmod xz-utils python3 git busybox-static
	# BPF toolchain (bpftool skeletons, selftests, corpus)
	clang-19 llvm-19 llvm-19-dev lld-19 libcap-dev zlib1g-dev
	# VM
	qemu-system-x86 iproute2 iputils-ping debootstrap
	# BPF objects shipped by Debian, part of the passes' test corpus
	libxdp1 xdp-tools
	# rejit-daemon (libclang-rt: libFuzzer for the fuzz target)
	cmake pkg-config libgtest-dev libgmock-dev libfmt-dev nlohmann-json3-dev libsystemd-dev
	libclang-rt-19-dev
	# rejit-bench: x86-64 disassembly of JIT images for native replay
	libcapstone-dev
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	--no-install-recommends "${missing[@]}"
