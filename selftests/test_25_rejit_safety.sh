#!/bin/bash
# BPF_PROG_REJIT is no less safe than BPF_PROG_LOAD: the defects a review
# found, each refused or correct now (test_rejit_safety.c says which), and
# nothing in the kernel log while old code is replaced under its feet.
. "$(dirname "$0")/lib.sh"

# Programs drop their module references after a grace period.
unload() {
	local m i
	for m in kinsn_bitops kinsn_movbe; do
		for i in $(seq 100); do
			[ -d /sys/module/$m ] || break
			rmmod $m 2>/dev/null || sleep 0.1
		done
	done
}
trap unload EXIT

before=$(dmesg | wc -l)
"$OBJ/test_rejit_safety" "$KINSN_DIR" "$OBJ"
no_splats_since "$before"
