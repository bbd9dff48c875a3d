#!/bin/sh
# golden.sh: compares `frost dump` output with the committed golden files.
# Each tests/golden/*.cmd holds the dump arguments (paths may use $ROOT and
# $DATA); the expected output is the .txt of the same name.
#
#   tests/golden/golden.sh FROST [--update]
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
DATA=/usr/share/libonnx-testdata/data/node
export ROOT DATA
fails=0
n=0
for cmd in "$ROOT"/tests/golden/*.cmd; do
  [ -f "$cmd" ] || continue
  n=$((n + 1))
  name=$(basename "$cmd" .cmd)
  args=$(eval echo "$(cat "$cmd")")
  # shellcheck disable=SC2086
  got=$("$FROST" dump $args 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ]; then # an error message is never a golden dump
    echo "FAIL $name: frost dump exited with $rc: $got" | head -5
    fails=$((fails + 1))
  elif [ "${2:-}" = "--update" ]; then
    printf '%s\n' "$got" >"$ROOT/tests/golden/$name.txt"
    echo "updated $name"
  elif printf '%s\n' "$got" | diff -u "$ROOT/tests/golden/$name.txt" - >/dev/null; then
    echo "ok   $name"
  else
    echo "FAIL $name"
    printf '%s\n' "$got" | diff -u "$ROOT/tests/golden/$name.txt" -
    fails=$((fails + 1))
  fi
done
echo "$((n - fails)) of $n golden dumps match"
# no dump compared is a failure, not a pass
[ "$n" -gt 0 ] && [ "$fails" -eq 0 ]
