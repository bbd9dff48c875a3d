#!/bin/sh
# memcheck-conformance.sh: ONNX node tests under valgrind's memcheck, so
# that a read of uninitialised memory, an invalid access or a leak in any
# op's path (import, shape inference, planning, the engine) fails the
# suite. valgrind follows the runner's forked children. The lists, made by
# tests/conformance/cover.py (smallest test each):
#   - interp: tests/conformance/memcheck.txt, every op of the passing node
#     tests (159 tests, about 25 s);
#   - jit: tests/conformance/memcheck-jit.txt, every kernel plan (what the
#     JIT adds to the interpreter's path: the plan's parameter block as an
#     LLVM constant and the call of its entry) and the fallback to the
#     interpreter (31 tests; every op would be 159 tests at 4-5 s each under
#     valgrind, 12 CPU minutes). With --no-specialize: the nodes call
#     frost's kernel entries (124 s of CPU under valgrind); the JIT's
#     default, specialized code takes 223 s for the same tests (the loop
#     vectorizer and the rest of LLVM's passes per test), and passes too;
#     tests/cli/memcheck.sh runs it on a real model, compiled and cached.
#
#   tests/cli/memcheck-conformance.sh FROST ENGINE
set -u
FROST=$1
ENGINE=$2
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
LIST="$ROOT/tests/conformance/memcheck.txt"
SPEC=
[ "$ENGINE" = jit ] && LIST="$ROOT/tests/conformance/memcheck-jit.txt" &&
  SPEC=--no-specialize

. "$ROOT/tests/lib/valgrind.sh"
need_valgrind "$FROST" memcheck-conformance.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
grep -v '^#' "$LIST" | awk 'NF' >"$T/list"
echo "memcheck-conformance.sh: $(wc -l <"$T/list") tests, engine $ENGINE"
# A child with a valgrind error exits 99: the runner counts it as an error,
# and --expect makes that a regression.
valgrind -q --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect,possible \
  --show-leak-kinds=definite,indirect,possible \
  "$FROST" conformance --engine "$ENGINE" $SPEC -v --timeout 300 \
  --only "$T/list" --expect "$T/list"
