#!/bin/bash
# Runs inside the guest (make vm-test): every selftests/test_NN_name.sh in
# NN order, then one closing line "N passed, N failed". Exit status 0 iff
# none failed. TESTS="smoke bpf_jit" runs a subset (by name).
set -u
cd "$(dirname "$0")"
echo "kernel $(uname -r), $(nproc) CPUs"

passed=0 failed=0 failures=()
for t in test_*.sh; do
	name=${t#test_[0-9][0-9]_}
	name=${name%.sh}
	if [ -n "${TESTS:-}" ] && ! grep -qw "$name" <<<"$TESTS"; then
		continue
	fi
	start=$(date +%s)
	echo "--- $name"
	if bash "$t"; then
		echo "PASS $name ($(($(date +%s) - start))s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name ($(($(date +%s) - start))s)"
		failed=$((failed + 1))
		failures+=("$name")
	fi
done
[ $failed -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
