#!/bin/sh
# guide.sh: the user guide's command lines run as a user types them.
#   Every ```sh block of docs/user-guide.md that follows the line
#   "<!-- tests/cli/guide.sh runs the next block -->" (the C API's
#   embedding.c and train_head.c) runs as it is written, with sh -e, in a
#   fresh folder laid out as the repository's root (build/frost, models/,
#   docs/), and must succeed: the commands are the guide's text, not a
#   copy of it. Then the programs the blocks built run from another
#   folder (the run path finds the library beside them).
#
#   tests/cli/guide.sh FROST
set -u
FROST=$(CDPATH='' cd -- "$(dirname -- "$1")" && pwd)/$(basename -- "$1")
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"
GUIDE="$ROOT/docs/user-guide.md"
[ -f "$ROOT/models/embedding_model.onnx" ] ||
  { echo "guide.sh: models/ missing: run scripts/fetch-models"; exit 1; }

# The marked blocks, one file each: $T/block.N.
awk -v out="$T/block" '
  /^<!-- tests\/cli\/guide.sh runs the next block -->$/ { want = 1; next }
  want && /^```sh$/ { n++; f = out "." n; printf "" > f; inblock = 1; want = 0; next }
  inblock && /^```$/ { inblock = 0; close(f); next }
  inblock { print > f }
  want && !/^$/ { want = 0 }
' "$GUIDE"
n=$(find "$T" -maxdepth 1 -name 'block.*' | wc -l)
count=$((count + 1))
if [ "$n" -ge 2 ]; then
  echo "ok   guide: $n marked blocks of commands"
else
  echo "FAIL guide: $n marked blocks of commands, expected at least 2 (the C API's)"
  fails=$((fails + 1))
fi

# The user's folder: the repository's root as the guide assumes it.
U="$T/user"
mkdir -p "$U/build"
ln -s "$FROST" "$U/build/frost"
ln -s "$ROOT/models" "$U/models"
ln -s "$ROOT/docs" "$U/docs"
i=1
while [ "$i" -le "$n" ]; do
  b="$T/block.$i"
  count=$((count + 1))
  if (cd "$U" && sh -e "$b") >"$T/out.$i" 2>&1; then
    echo "ok   guide block $i, as typed: $(grep -v '^ ' "$b" | awk '{ print $1 }' | tr '\n' ' ')"
  else
    echo "FAIL guide block $i, as typed:"
    sed 's/^/     | /' "$b"
    tail -5 "$T/out.$i"
    fails=$((fails + 1))
  fi
  i=$((i + 1))
done

# The programs the blocks built (./NAME lines) run from another folder.
for prog in $(sed -n 's|^\./\([A-Za-z_][A-Za-z0-9_]*\)$|\1|p' "$T"/block.* | sort -u); do
  [ -x "$U/$prog" ] || continue
  count=$((count + 1))
  if (cd / && "$U/$prog") >/dev/null 2>"$T/err"; then
    echo "ok   guide: $prog runs from another folder (its library found beside it)"
  else
    echo "FAIL guide: $prog from another folder: $(head -1 "$T/err")"
    fails=$((fails + 1))
  fi
done

expect_done "guide command checks passed"
