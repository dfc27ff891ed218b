#!/bin/bash
# Hostile BPF_PROG_REJIT: replacements the verifier must refuse, each
# followed by a check that the live programs kept their id, code and exact
# results (controls show the check sees code that gets through); then the
# fuzzer: REJIT_FUZZ_CASES (default 3000) generated candidates from seed
# REJIT_FUZZ_SEED (default: the time), the same checks after each.
. "$(dirname "$0")/lib.sh"

"$OBJ/test_rejit_hostile"

seed=${REJIT_FUZZ_SEED:-$(date +%s)}
note "fuzz seed $seed (REJIT_FUZZ_SEED=$seed replays it)"
"$OBJ/fuzz_rejit" "${REJIT_FUZZ_CASES:-3000}" "$seed"
