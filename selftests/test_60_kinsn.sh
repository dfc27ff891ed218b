#!/bin/bash
# kinsn modules: native x86 code inline in JITed images, every kinsn equal
# to its meaning on >= 100,000 inputs with native code and with the C
# bodies, module pinned while used, clear failure without the module; the
# operand form (BPF_PSEUDO_KINSN_CALL) likewise, plus its refusals, its
# sysfs description and a re-JIT into it; bpftool's view of the registry
# and of an inline crc32 in a JITed image.
. "$(dirname "$0")/lib.sh"

"$OBJ/test_kinsn" "$OBJ/kinsn.bpf.o" "$KINSN_DIR"
"$OBJ/test_kinsn_op" "$KINSN_DIR"
"$OBJ/test_kinsn_mem" "$OBJ/kinsn_mem.bpf.o" "$KINSN_DIR"
dmesg | grep -o 'kinsn_matrix: tier amx: .*' | tail -1 | sed 's/^/  /'

# bpftool kinsn: the registry as users see it, plain and JSON.
insmod "$KINSN_DIR/kinsn_bitops.ko"
insmod "$KINSN_DIR/kinsn_crc32c.ko" native=0
insmod "$KINSN_DIR/kinsn_matrix.ko"
trap 'rmmod kinsn_bitops kinsn_crc32c kinsn_matrix 2>/dev/null || true' EXIT
bpftool kinsn list | sed 's/^/  /'
rol=$(bpftool -j kinsn show name bpf_rol64)
expect_eq "bpf_rol64 module" "$(json '[0]["module"]' <<<"$rol")" kinsn_bitops
expect_eq "bpf_rol64 forms" "$(json '[0]["forms"]' <<<"$rol")" "['call', 'operand']"
expect_eq "bpf_rol64 native" "$(json '[0]["native"]' <<<"$rol")" "['call', 'operand']"
want_id=$(bpftool btf dump file /sys/kernel/btf/kinsn_bitops | awk -F"[][ ']+" '/FUNC .bpf_rol64./ {print $2}')
expect_eq "bpf_rol64 btf_id" "$(json '[0]["btf_id"]' <<<"$rol")" "$want_id"
crc=$(bpftool -j kinsn show name bpf_crc32c_u64)
expect_eq "bpf_crc32c_u64 native (native=0)" "$(json '[0]["native"]' <<<"$crc")" "[]"
# Function-like kinsns: listed, their body is all there is.
dot=$(bpftool -j kinsn show name bpf_dot_i8)
expect_eq "bpf_dot_i8 module" "$(json '[0]["module"]' <<<"$dot")" kinsn_matrix
expect_eq "bpf_dot_i8 forms" "$(json '[0]["forms"]' <<<"$dot")" "['call']"
expect_eq "bpf_dot_i8 native" "$(json '[0]["native"]' <<<"$dot")" "[]"
expect_eq "kinsns listed" "$(bpftool -j kinsn list | json '.__len__()')" 17
if bpftool kinsn show name nosuch 2>/dev/null; then fail "unknown kinsn listed"; fi
rmmod kinsn_bitops kinsn_crc32c kinsn_matrix
expect_eq "kinsns after rmmod" "$(bpftool -j kinsn list)" "[]"
note "bpftool kinsn: 17 kinsns with module, BTF id, forms and native forms; none after rmmod"

# The issue's acceptance, as a user sees it: a clang-built program calling
# bpf_crc32c_u64 is JITed to an inline crc32 instruction, which bpftool's
# disassembly of the image shows, and no call.
dir=/sys/fs/bpf/kinsn-jited
for m in kinsn_crc32c kinsn_bitops kinsn_prefetch kinsn_movbe; do
	insmod "$KINSN_DIR/$m.ko"
done
trap 'rm -rf "$dir"; rmmod kinsn_crc32c kinsn_bitops kinsn_prefetch kinsn_movbe 2>/dev/null || true' EXIT
log=$(bpftool prog loadall "$OBJ/kinsn.bpf.o" "$dir" 2>&1) || fail "bpftool prog loadall: $log"
insns=$(bpftool prog dump jited pinned "$dir/test_bpf_crc32c_u64" | grep -E '^\s*[0-9a-f]+:')
crc=$(grep -E '\bcrc32' <<<"$insns" | head -1 || true)
[ -n "$crc" ] || fail "no crc32 in the JITed image of test_bpf_crc32c_u64: $insns"
if grep -qE '\bcall' <<<"$insns"; then
	fail "test_bpf_crc32c_u64 still calls: $(grep -E '\bcall' <<<"$insns")"
fi
rm -rf "$dir"
# unpinned programs go after an RCU grace period; until then they hold the modules
for m in kinsn_crc32c kinsn_bitops kinsn_prefetch kinsn_movbe; do
	for _ in $(seq 50); do rmmod "$m" 2>/dev/null && break; sleep 0.2; done
done
expect_eq "kinsns after the programs are gone" "$(bpftool -j kinsn list)" "[]"
note "bpftool prog dump jited test_bpf_crc32c_u64: $(sed 's/^ *//' <<<"$crc"), no call"
