#!/bin/sh
# check-gen.sh: the committed hostile inputs are exactly what gen.c writes.
# Regenerate them with: build/tests/frost_hostile_gen tests/hostile
#
#   tests/hostile/check-gen.sh GEN
set -u
GEN=$1
H=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$GEN" "$T" || exit 1
fails=0
for f in "$T"/*; do
  b=$(basename "$f")
  if ! cmp -s "$f" "$H/$b"; then
    echo "FAIL $b differs from gen.c's output (regenerate: frost_hostile_gen tests/hostile)"
    fails=$((fails + 1))
  fi
done
echo "$(ls "$T" | wc -l) generated files checked"
[ "$fails" -eq 0 ]
