#!/bin/sh
# check-gen.sh: gen.c is deterministic: a fresh run writes exactly the
# files of DATA (what the build generated, which the tests use).
#
#   tests/hostile/check-gen.sh GEN DATA
set -u
GEN=$1
DATA=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$GEN" "$T" || exit 1
fails=0
for f in $(cd "$T" && find . -type f | sort); do
  if ! cmp -s "$T/$f" "$DATA/$f"; then
    echo "FAIL $f differs between two runs of gen.c"
    fails=$((fails + 1))
  fi
done
n=$(cd "$T" && find . -type f | wc -l)
echo "$n generated files checked"
[ "$n" -ge 100 ] && [ "$fails" -eq 0 ]
