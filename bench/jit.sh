#!/bin/sh
# jit.sh: the figures of docs/performance.md's section on the default JIT
# and its code cache, for every model of models/ (the shapes of the other
# tables, the embedding model at batch 1 and 32):
#   - the first run (an empty code cache): frost bench's compile time, and
#     the CPU time of the whole process (frost bench --iters 1);
#   - the second run (the code from the cache): the same, and the time from
#     the loaded model to runnable code (--time-passes: the passes and the
#     JIT's stages);
#   - run time, minimum and median of frost bench, with the JIT's default,
#     with --no-specialize, and of the artifact frost compile makes (OUT
#     bench); with BASE (another frost, e.g. a build of an older commit),
#     the same for its default and its --specialize.
# Each figure is the minimum over ROUNDS rounds (default 3): the machine may
# be shared.
#
#   bench/jit.sh [FROST] [BASE]     (ITERS=300 ROUNDS=3)
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
FROST=${1:-$ROOT/build/frost}
BASE=${2:-}
ITERS=${ITERS:-300}
ROUNDS=${ROUNDS:-3}
M="$ROOT/models"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# min A B: the smaller number ("" counts as none).
min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "") print a; else print (a + 0 < b + 0) ? a : b }'; }
# bench OUT FROST ARGS...: frost bench's output into OUT, and its CPU time
# (user + system, s) into OUT.cpu.
bench() {
  b_out=$1
  shift
  /usr/bin/time -f "%U %S" -o "$b_out.t" "$@" >"$b_out" 2>"$b_out.err"
  awk '{ print $1 + $2 }' "$b_out.t" >"$b_out.cpu"
}
compile_ms() { sed -n 's/^compile: \([0-9.]*\) ms.*/\1/p' "$1"; }
run_min() { sed -n 's/^runs: [0-9]*, min \([0-9.]*\) ms.*/\1/p' "$1"; }
run_med() { sed -n 's/^median_ms=//p' "$1"; }
# From --time-passes: the passes' total plus the JIT's.
ready_ms() { awk '/pass execution/ { p = 1 } /JIT times/ { p = 2 }
  / total$/ { s += $1 } END { print s }' "$1.err"; }

printf '%s\n' \
  "embedding 1x76x32x1|$M/embedding_model.onnx|--shape input_1=1x76x32x1" \
  "embedding 32x76x32x1|$M/embedding_model.onnx|--shape input_1=32x76x32x1" \
  "melspectrogram 1x16000|$M/melspectrogram.onnx|--shape input=1x16000" \
  "ppocr cls 1x3x48x192|$M/ch_ppocr_mobile_v2.0_cls_infer.onnx|--shape x=1x3x48x192" \
  "hey_mycroft|$M/hey_mycroft_v0.1.onnx|" \
  "alexa|$M/alexa_v0.1.onnx|" \
  "timer|$M/timer_v0.1.onnx|" >"$T/cases"
echo "| case | first run: compile ms / process CPU s | cached: compile ms / process CPU s / model to code ms | jit min / median ms | --no-specialize | artifact |${BASE:+ base default | base --specialize: compile ms, min / median |}"
while IFS='|' read -r name model shape; do
  [ -f "$model" ] || continue
  it=$ITERS
  case $name in *32x*) it=$((ITERS / 15 + 1)) ;; esac
  # shellcheck disable=SC2086
  "$FROST" compile "$model" $shape -o "$T/art" >/dev/null 2>&1
  fc= fp= cc= cp= cr= jm= jd= nm= nd= am= ad= bm= bd= sc= sm= sd=
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    r=$((r + 1))
    rm -rf "$T/cache"
    # shellcheck disable=SC2086
    FROST_CACHE_DIR="$T/cache" bench "$T/first" "$FROST" bench "$model" $shape --iters 1
    # shellcheck disable=SC2086
    FROST_CACHE_DIR="$T/cache" bench "$T/hit" "$FROST" bench "$model" $shape --iters 1 --time-passes
    # shellcheck disable=SC2086
    FROST_CACHE_DIR="$T/cache" bench "$T/run" "$FROST" bench "$model" $shape --iters "$it"
    # shellcheck disable=SC2086
    bench "$T/calls" "$FROST" bench "$model" $shape --iters "$it" --no-specialize
    bench "$T/art.out" "$T/art" bench --iters "$it"
    fc=$(min "$fc" "$(compile_ms "$T/first")")
    fp=$(min "$fp" "$(cat "$T/first.cpu")")
    cc=$(min "$cc" "$(compile_ms "$T/hit")")
    cp=$(min "$cp" "$(cat "$T/hit.cpu")")
    cr=$(min "$cr" "$(ready_ms "$T/hit")")
    jm=$(min "$jm" "$(run_min "$T/run")")
    jd=$(min "$jd" "$(run_med "$T/run")")
    nm=$(min "$nm" "$(run_min "$T/calls")")
    nd=$(min "$nd" "$(run_med "$T/calls")")
    am=$(min "$am" "$(run_min "$T/art.out")")
    ad=$(min "$ad" "$(run_med "$T/art.out")")
    if [ -n "$BASE" ]; then
      # shellcheck disable=SC2086
      bench "$T/base" "$BASE" bench "$model" $shape --iters "$it"
      # shellcheck disable=SC2086
      bench "$T/spec" "$BASE" bench "$model" $shape --iters "$it" --specialize
      bm=$(min "$bm" "$(run_min "$T/base")")
      bd=$(min "$bd" "$(run_med "$T/base")")
      sc=$(min "$sc" "$(compile_ms "$T/spec")")
      sm=$(min "$sm" "$(run_min "$T/spec")")
      sd=$(min "$sd" "$(run_med "$T/spec")")
    fi
  done
  printf '| %s | %s / %s | %s / %s / %s | %s / %s | %s / %s | %s / %s |' "$name" \
    "$fc" "$fp" "$cc" "$cp" "$cr" "$jm" "$jd" "$nm" "$nd" "$am" "$ad"
  [ -z "$BASE" ] || printf ' %s / %s | %s, %s / %s |' "$bm" "$bd" "$sc" "$sm" "$sd"
  echo
done <"$T/cases"
