#!/bin/sh
# fold-accuracy.sh: the optimized graph (BatchNormalization and affine ops
# folded into convolutions) against the imported graph, both interpreted:
# outputs may move by float rounding only (rtol 1e-5, atol 1e-6).
#
#   tests/models/fold-accuracy.sh FROST CASE
set -eu
FROST=$1
CASE=$2
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
REF="$ROOT/tests/oracle/ref"
line=$(grep "^$CASE " "$REF/cases.txt")
model=$(echo "$line" | cut -d' ' -f2)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
set --
for spec in $(echo "$line" | cut -d' ' -f3-); do
  set -- "$@" --input "${spec%=*}=$REF/${spec##*=}"
done
"$FROST" run "$ROOT/models/$model" "$@" --engine interp --output-dir "$OUT/imported" >/dev/null
"$FROST" run "$ROOT/models/$model" "$@" --engine opt --output-dir "$OUT/optimized" >/dev/null
for f in "$OUT/imported/"*.npy; do
  "$FROST" compare "$OUT/optimized/$(basename "$f")" "$f" --rtol 1e-5 --atol 1e-6
done
