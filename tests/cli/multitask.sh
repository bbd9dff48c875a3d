#!/bin/sh
# multitask.sh: frost train with several heads on one frozen backbone (the
# embedding model), on a generated two-task data set where each task is
# learnable from its own part of the input (tests/cli/make-multitask-data.js):
#   - both heads learn their task (validation accuracy of each >= 90%), the
#     epoch line and the JSON log carry each task's numbers;
#   - with the second task weighing 0, the first head's weights equal a
#     single-head run on the first task's labels alone, bit for bit;
#   - an empty cell masks the sample for that task only: at lr 0, the
#     validation loss and accuracy of a task are those of the set without
#     the rows it has no label for;
#   - the exported model has one output per head, named by it, which ONNX
#     Runtime runs with frost's outputs (rtol 1e-4); frost eval --task;
#   - a run stopped after 2 epochs and resumed ends with the same bytes;
#   - bad input: one line, exit 1.
#
#   tests/cli/multitask.sh FROST
set -u
export LC_ALL=C
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
EMB="$ROOT/models/embedding_model.onnx"
[ -f "$EMB" ] || { echo "multitask.sh: models/ missing: run scripts/fetch-models"; exit 1; }
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh" # count, fails, check_error (one line, exit 1)
ok() { count=$((count + 1)); echo "ok   $1"; }
bad() { count=$((count + 1)); fails=$((fails + 1)); echo "FAIL $1"; }

node "$ROOT/tests/cli/make-multitask-data.js" "$T/d" 60
D="$T/d/tasks.csv"
OPTS="--val-split 0.25 --epochs 8 --lr 1e-2 --batch 8 --seed 1"
HEADS="--head time:linear:2 --head band:mlp:16,3"

# 1. Two heads, each learns its task.
if "$FROST" train "$EMB" "$D" $HEADS $OPTS -o "$T/mt.onnx" --log-json "$T/log.json" \
     >"$T/mt.log" 2>&1 &&
   grep -q '^data: .*tasks: time 2 classes (44 labelled, weight 1), band 3 classes (35 labelled, weight 1)' "$T/mt.log" &&
   best=$(sed -n 's/^kept epoch \([0-9]*\).*/\1/p' "$T/mt.log") &&
   grep "^epoch $best/" "$T/mt.log" | grep -q ' | time: train loss .* val loss .* | band: train loss .* val loss ' &&
   node -e '
     const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
     const e = JSON.parse(lines[Number(process.argv[2]) - 1]);
     for (const k of ["time", "band"])
       if (!(e.tasks[k].val_acc >= 0.9) || !(e.tasks[k].train_loss >= 0)) process.exit(1);
     if (Math.abs(e.val_acc - (e.tasks.time.val_acc + e.tasks.band.val_acc) / 2) > 1e-12) process.exit(1);
   ' "$T/log.json" "$best"; then
  ok "two heads: $(grep "^epoch $best/" "$T/mt.log" | sed 's/.*lr [^|]*| //')"
else
  bad "two heads:"; cat "$T/mt.log"
fi

# 2. The second task weighing 0: the first head trains as if alone.
"$FROST" train "$EMB" "$D" $HEADS --task-weight band:0 $OPTS --save-params "$T/p_w0" >"$T/w0.log" 2>&1
"$FROST" train "$EMB" "$T/d/time.csv" --head linear:2 $OPTS --save-params "$T/p_one" >"$T/one.log" 2>&1
if cmp -s "$T/p_w0/frost.head.time.0.weight.npy" "$T/p_one/frost.head.0.weight.npy" &&
   cmp -s "$T/p_w0/frost.head.time.0.bias.npy" "$T/p_one/frost.head.0.bias.npy" &&
   [ "$(grep '^kept' "$T/w0.log")" = "$(grep '^kept' "$T/one.log")" ]; then
  ok "task weight 0: the other head's weights are a single-head run's, bit for bit"
else
  bad "task weight 0 against a single head:"; tail -3 "$T/w0.log" "$T/one.log"
fi

# 3. Masking: at lr 0 (the initial weights), the band task's validation
# numbers on the set with empty band cells are those on its labelled rows.
awk -F, 'NR == 1 || $3 != ""' "$D" >"$T/d/labelled.csv"
for v in tasks labelled; do
  "$FROST" train "$EMB" "$D" $HEADS --val "$T/d/$v.csv" --epochs 1 --lr 0 --batch 8 \
    --log-json "$T/$v.json" >"$T/$v.log" 2>&1
done
if node -e '
     const f = (p) => JSON.parse(require("fs").readFileSync(p, "utf8").trim()).tasks;
     const a = f(process.argv[1]), b = f(process.argv[2]);
     if (a.band.val_acc !== b.band.val_acc ||
         Math.abs(a.band.val_loss - b.band.val_loss) > 1e-6 * b.band.val_loss) process.exit(1);
     if (a.time.val_loss === b.time.val_loss) process.exit(1); /* more rows */
   ' "$T/tasks.json" "$T/labelled.json"; then
  ok "an empty cell masks the sample for its task only"
else
  bad "masking:"; cat "$T/tasks.log" "$T/labelled.log" "$T/tasks.json" "$T/labelled.json"
fi

# 4. The export: an output per head, in ONNX Runtime as in frost.
node "$ROOT/tests/cli/stack-npy.js" "$T/x4.npy" 76,32,1 "$T"/d/s00[0125].npy
if node "$ROOT/tests/oracle/run-ort.js" "$T/mt.onnx" "$T/ort" "input_1=$T/x4.npy" >"$T/err" 2>&1 &&
   "$FROST" run "$T/mt.onnx" --input "input_1=$T/x4.npy" --shape input_1=4,76,32,1 \
     --output-dir "$T/fr" >>"$T/err" 2>&1 &&
   [ "$(ls "$T/ort" | tr '\n' ' ')" = "band.npy time.npy " ] &&
   "$FROST" compare "$T/fr/time.npy" "$T/ort/time.npy" --rtol 1e-4 --atol 1e-5 >>"$T/err" 2>&1 &&
   "$FROST" compare "$T/fr/band.npy" "$T/ort/band.npy" --rtol 1e-4 --atol 1e-5 >>"$T/err" 2>&1; then
  ok "export: outputs time and band, ONNX Runtime gives frost's"
else
  bad "export:"; cat "$T/err"
fi
if "$FROST" eval "$T/mt.onnx" "$D" --task band --batch 8 --json "$T/ev.json" >"$T/ev.log" 2>&1 &&
   grep -q '^task: band (the output and the column; 51 samples labelled)' "$T/ev.log" &&
   node -e '
     const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
     if (r.samples !== 51 || !(r.accuracy >= 0.9) || r.classes.join() !== "high,low,mid") process.exit(1);
   ' "$T/ev.json"; then
  ok "eval --task band: $(grep accuracy "$T/ev.log")"
else
  bad "eval --task:"; cat "$T/ev.log"
fi

# 5. Checkpoints: 2 epochs, then resumed to 4, against 4 at once.
"$FROST" train "$EMB" "$D" $HEADS --val-split 0.25 --epochs 4 --lr 1e-2 --batch 8 \
  --save-params "$T/p4" >/dev/null 2>&1
"$FROST" train "$EMB" "$D" $HEADS --val-split 0.25 --epochs 2 --lr 1e-2 --batch 8 \
  --checkpoint-dir "$T/ck" >/dev/null 2>&1
"$FROST" train "$EMB" "$D" $HEADS --val-split 0.25 --epochs 4 --lr 1e-2 --batch 8 \
  --checkpoint-dir "$T/ck" --resume --save-params "$T/p2r" >"$T/r.log" 2>&1
same=1
for f in "$T"/p4/*.npy; do cmp -s "$f" "$T/p2r/$(basename "$f")" || same=0; done
if [ $same -eq 1 ] && [ "$(ls "$T/p4" | wc -l)" -eq 6 ] && grep -q '^resumed from' "$T/r.log"; then
  ok "resume: the same bytes as a run that never stopped"
else
  bad "resume:"; cat "$T/r.log"
fi

# 6. Bad input: one line, exit 1.
E="$FROST train $EMB $D --epochs 1 --batch 8"
check_error "a head name repeated" "two heads are named 'time'" \
  $E --head time:linear:2 --head time:linear:2
check_error "a head without its column" "tasks.csv: no column 'colour' (the header is path,time,band)" \
  $E --head time:linear:2 --head colour:linear:3
check_error "a head of too few classes" "'band:linear:2' ends with 2 outputs, the column 'band' of .* has 3 classes" \
  $E --head time:linear:2 --head band:linear:2
check_error "--task-weight naming no head" "--task-weight 'colour': no head is named 'colour'" \
  $E $HEADS --task-weight colour:1
check_error "--task-weight without named heads" "--task-weight 'time': no head is named so" \
  $E --head linear:2 --task-weight time:1
check_error "--task-weight not a number" "--task-weight 'band:x': expected NAME:W" \
  $E $HEADS --task-weight band:x
check_error "every task weighing 0" "every task weighs 0" \
  $E $HEADS --task-weight time:0 --task-weight band:0
check_error "a head without a name among several" "with several heads each has a name" \
  $E --head linear:2 --head band:linear:3
check_error "a bad head name" "a head's name is a letter then" \
  $E --head 1t:linear:2 --head band:linear:3
check_error "named heads on a folder" "a folder; labels by column name" \
  "$FROST" train "$EMB" "$T/d" $HEADS
check_error "named heads with mse" "several heads are classifiers" \
  $E $HEADS --loss mse
check_error "compile --train with several heads" "compile --train: artifacts train one head" \
  "$FROST" compile "$EMB" --train $HEADS -o "$T/out/a"
check_error "eval --task of no output" "has no output named 'time'" \
  "$FROST" eval "$EMB" "$D" --task time
check_error "eval --task of no column" "no column 'colour'" \
  "$FROST" eval "$T/mt.onnx" "$D" --task colour

echo "$((count - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
