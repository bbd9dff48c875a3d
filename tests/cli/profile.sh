#!/bin/sh
# profile.sh: --profile times every node of the JIT's code.
#   - frost bench on the melspectrogram: the table counts the runs (warm-up
#     and timed), lists nodes that took time, each with an op of the
#     model's optimized graph, and the by-op table adds up to 100%;
#   - its time per run is near the bench's own median (the ticks cover the
#     whole compiled function);
#   - frost run with the interpreter: a note, the outputs as usual;
#   - frost train: the train step's profile, with its backward ops.
#
#   tests/cli/profile.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
M="$ROOT/models"
[ -f "$M/melspectrogram.onnx" ] || { echo "profile.sh: models/ missing: run scripts/fetch-models"; exit 1; }
count=0
fails=0
ok() { count=$((count + 1)); echo "ok   $1"; }
fail() { count=$((count + 1)); fails=$((fails + 1)); echo "FAIL $1"; }

# bench: 3 warm-up runs and 20 timed ones
"$FROST" bench "$M/melspectrogram.onnx" --shape input=1x16000 --iters 20 --threads 1 \
  --profile >"$T/bench.txt" 2>"$T/bench.err" || { cat "$T/bench.err"; exit 1; }
grep -q "node profile: 23 runs" "$T/bench.txt" && ok "bench: 23 runs profiled" ||
  fail "bench: the run count: $(grep 'node profile' "$T/bench.txt")"
# node rows: "ms/run pct% OP name: output shape", between the two headers
sed -n '/node profile/,/by op/p' "$T/bench.txt" | sed '1,2d;$d' >"$T/nodes.txt"
"$FROST" dump "$M/melspectrogram.onnx" --shape input=1x16000 --stage optimized >"$T/ir.txt" 2>&1
rows=0 bad=0
while read -r ms pct op rest; do
  rows=$((rows + 1))
  awk -v m="$ms" 'BEGIN { exit !(m >= 0) }' || bad=$((bad + 1))
  grep -q "= $op(" "$T/ir.txt" || { bad=$((bad + 1)); echo "  no $op node in the optimized IR"; }
done <"$T/nodes.txt"
[ "$rows" -ge 3 ] && [ "$bad" = 0 ] && ok "bench: $rows node rows with time, ops of the graph" ||
  fail "bench: node rows $rows, $bad bad: $(cat "$T/nodes.txt")"
sum=$(sed -n '/by op/,$p' "$T/bench.txt" | awk '$2 ~ /%$/ { sub("%", "", $2); s += $2 } END { print s }')
awk -v s="$sum" 'BEGIN { exit !(s > 99 && s < 101) }' && ok "bench: by op adds up to $sum%" ||
  fail "bench: by op adds up to $sum%"
per=$(sed -n 's/.*runs, \([0-9.]*\) ms per run.*/\1/p' "$T/bench.txt")
med=$(sed -n 's/^median_ms=//p' "$T/bench.txt")
awk -v p="$per" -v m="$med" 'BEGIN { exit !(p > 0.3 * m && p < 3 * m) }' &&
  ok "bench: $per ms per profiled run, median $med ms" ||
  fail "bench: $per ms per profiled run against a median of $med ms"

# the interpreter: a note, and the run's outputs
"$FROST" run "$M/melspectrogram.onnx" --engine interp --profile \
  --input input="$ROOT/tests/oracle/ref/melspectrogram/input.npy" >"$T/run.txt" 2>"$T/run.err"
st=$?
[ "$st" = 0 ] && grep -q "note: --profile: the model ran with the interpreter" "$T/run.err" &&
  grep -q "^output" "$T/run.txt" && ok "run --engine interp: a note" ||
  fail "run --engine interp --profile: status $st: $(cat "$T/run.err")"

# train: the step's nodes, backward ones among them
D="$ROOT/tests/oracle/train/conv_bn_sgd"
node "$ROOT/tests/oracle/train/make-model.js" "$D" "$T/conv.onnx"
"$FROST" train "$T/conv.onnx" "$D/data/manifest.csv" --optimizer sgd --batch 6 \
  --trainable '.*' --max-steps 4 --no-cache --profile >"$T/train.txt" 2>"$T/train.err"
st=$?
[ "$st" = 0 ] && grep -q "profile of the train step" "$T/train.txt" &&
  grep -q "node profile: 4 runs" "$T/train.txt" &&
  sed -n '/node profile/,/by op/p' "$T/train.txt" | grep -q "frost.ConvGradWeight" &&
  ok "train: the step's profile, its backward ops" ||
  fail "train --profile: status $st: $(tail -3 "$T/train.err") $(grep -A3 'node profile' "$T/train.txt")"

echo "$count cases, $fails failed"
[ "$fails" = 0 ]
