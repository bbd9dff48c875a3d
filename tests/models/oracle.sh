#!/bin/sh
# oracle.sh: runs one real model on the seeded inputs of tests/oracle/ref and
# compares every output with ONNX Runtime's (rtol 1e-3, atol 1e-4). With
# --engine jit, the JIT must have compiled the model (no interpreter fallback).
#
#   tests/models/oracle.sh FROST CASE [extra frost run options...]
set -eu
FROST=$1
CASE=$2
shift 2
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
REF="$ROOT/tests/oracle/ref"
line=$(grep "^$CASE " "$REF/cases.txt")
model=$(echo "$line" | cut -d' ' -f2)
if [ ! -f "$ROOT/models/$model" ]; then
  echo "oracle.sh: models/$model missing: run scripts/fetch-models" >&2
  exit 1
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
set -- "$@"
for spec in $(echo "$line" | cut -d' ' -f3-); do
  name=${spec%=*}
  file=${spec##*=}
  set -- "$@" --input "$name=$REF/$file"
done
"$FROST" run "$ROOT/models/$model" "$@" --output-dir "$OUT" 2>"$OUT/stderr" || {
  cat "$OUT/stderr" >&2
  exit 1
}
cat "$OUT/stderr" >&2
# The JIT declining a graph runs it with the interpreter (a note, status 0):
# a JIT test must then fail, not pass on the interpreter's outputs.
case " $* " in
*" --engine jit "*)
  if grep -q "ran with the interpreter" "$OUT/stderr"; then
    echo "oracle.sh: $CASE: the JIT declined the model, the interpreter ran it" >&2
    exit 1
  fi
  ;;
esac
n=0
for want in "$REF/$CASE/out/"*.npy; do
  "$FROST" compare "$OUT/$(basename "$want")" "$want" --rtol 1e-3 --atol 1e-4
  n=$((n + 1))
done
[ "$n" -gt 0 ]
