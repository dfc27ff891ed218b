# Helpers for the VM tests. Source it; each test is a bash script that exits
# 0 on success and prints why it failed otherwise.
# shellcheck shell=bash
set -euo pipefail

OBJ=${BUILD:?}/selftests
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  $*"; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# JSON field from stdin, e.g. json '["id"]'
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Value of a "bpftool -j map lookup" (hex byte list) as a little-endian number.
map_value() {
	python3 -c 'import json,sys
print(int.from_bytes(bytes(int(b, 16) for b in json.load(sys.stdin)["value"]), "little"))'
}
