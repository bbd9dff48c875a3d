#!/bin/sh
# memcheck-conformance.sh: ONNX node tests under valgrind's memcheck, so
# that a read of uninitialised memory, an invalid access or a leak in any
# op's path (import, shape inference, planning, the engine) fails the
# suite. The list tests/conformance/memcheck.txt covers every op of the
# passing node tests at least once (made by tests/conformance/cover.py,
# smallest test per op). valgrind follows the runner's forked children.
#
#   tests/cli/memcheck-conformance.sh FROST ENGINE [PART/PARTS]
#
# PART/PARTS (e.g. 1/2) runs every PARTS-th test from the PART-th, so
# that ctest can spread the slow JIT run over both cores.
set -u
FROST=$1
ENGINE=$2
PART=${3:-1/1}
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
LIST="$ROOT/tests/conformance/memcheck.txt"

if ldd "$FROST" 2>/dev/null | grep -q -e libasan -e libubsan; then
  echo "memcheck-conformance.sh: skipped (frost is built with sanitizers)"
  exit 77
fi
if ! command -v valgrind >/dev/null 2>&1; then
  echo "memcheck-conformance.sh: valgrind is missing (scripts/setup installs it)" >&2
  exit 1
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
k=${PART%/*}
n=${PART#*/}
grep -v '^#' "$LIST" | awk -v k="$k" -v n="$n" 'NF && (NR - k) % n == 0' >"$T/list"
echo "memcheck-conformance.sh: $(wc -l <"$T/list") tests, engine $ENGINE, part $PART"
# A child with a valgrind error exits 99: the runner counts it as an error,
# and --expect makes that a regression.
valgrind -q --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect,possible \
  --show-leak-kinds=definite,indirect,possible \
  "$FROST" conformance --engine "$ENGINE" -v --timeout 300 \
  --only "$T/list" --expect "$T/list"
