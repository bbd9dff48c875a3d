#!/bin/sh
# ssl.sh: frost train --ssl (self-supervised adaptation, InfoNCE over two
# augmented views of each sample) on a small conv network (the PyTorch
# oracle's conv_bn model; tests/oracle/train/check.sh checks its updates
# against PyTorch's):
#   - the loss falls and the views find their pair more often;
#   - -o writes the model with its trained layers changed, its frozen ones
#     and its outputs as they were, no projection head (frost.proj.*), and
#     ONNX Runtime runs it with frost's outputs;
#   - the adapted model then trains a head like any model;
#   - bad input: no augmentation, --val, only the projection head
#     training, one sample, compile --train --ssl: one line, exit 1.
#
#   tests/cli/ssl.sh FROST
set -u
export LC_ALL=C
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh" # count, fails, check_error (one line, exit 1)
ok() { count=$((count + 1)); echo "ok   $1"; }
bad() { count=$((count + 1)); fails=$((fails + 1)); echo "FAIL $1"; }

CASE="$ROOT/tests/oracle/train/conv_bn_sgd"
node "$ROOT/tests/oracle/train/make-model.js" "$CASE" "$T/conv.onnx"
DATA="$CASE/data/manifest.csv" # 12 images 1x8x8 (labels unused)
SSL="--ssl --noise 0.2 --head mlp:8,4 --trainable ^fc\\. --batch 6 --lr 3e-2 --seed 3"

# 1. It learns: the last epoch's loss below the first's, pairs found more.
# shellcheck disable=SC2086
if "$FROST" train "$T/conv.onnx" "$DATA" $SSL --epochs 30 --log-json "$T/log.jsonl" \
     -o "$T/adapted.onnx" >"$T/ssl.log" 2>&1 &&
   grep -q 'without labels, two views each (InfoNCE, temperature 0.1)' "$T/ssl.log" &&
   node -e '
     const l = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")
       .map(JSON.parse).filter(e => e.epoch);
     const a = l[0], b = l[l.length - 1];
     console.log(`loss ${a.train_loss.toFixed(3)} -> ${b.train_loss.toFixed(3)}, ` +
                 `pairs found ${(100 * a.train_acc).toFixed(0)}% -> ${(100 * b.train_acc).toFixed(0)}%`);
     process.exit(l.length === 30 && b.train_loss < 0.8 * a.train_loss &&
                  b.train_acc > a.train_acc ? 0 : 1);
   ' "$T/log.jsonl" >"$T/curve" 2>&1; then
  ok "ssl learns: $(cat "$T/curve")"
else
  bad "ssl learning:"; cat "$T/ssl.log" "$T/curve"
fi

# 2. The adapted model: fc changed, conv as it was, no projection head.
for p in fc.weight conv.weight; do
  node "$ROOT/tests/oracle/onnx-init.js" "$T/conv.onnx" $p "$T/$p.0.npy"
  node "$ROOT/tests/oracle/onnx-init.js" "$T/adapted.onnx" $p "$T/$p.1.npy"
done
if ! cmp -s "$T/fc.weight.0.npy" "$T/fc.weight.1.npy" &&
   cmp -s "$T/conv.weight.0.npy" "$T/conv.weight.1.npy" &&
   ! node "$ROOT/tests/oracle/onnx-init.js" "$T/adapted.onnx" frost.proj.0.weight \
       "$T/p.npy" >/dev/null 2>&1; then
  ok "the adapted model: the trained layer changed, the frozen one kept, no projection"
else
  bad "the adapted model's weights"
fi
x="$CASE/data/s00.npy"
node -e '
  const lib = require(process.argv[1]);
  const b = require("fs").readFileSync(process.argv[2]);
  lib.writeNpy(process.argv[3], "float32", [1, 1, 8, 8],
               new Float32Array(b.buffer.slice(b.byteOffset + 128, b.byteOffset + b.length)));
' "$ROOT/tests/oracle/lib.js" "$x" "$T/x.npy"
if node "$ROOT/tests/oracle/run-ort.js" "$T/adapted.onnx" "$T/ort" "x=$T/x.npy" >"$T/ort.log" 2>&1 &&
   "$FROST" run "$T/adapted.onnx" --input "x=$T/x.npy" --shape x=1x1x8x8 \
     --output-dir "$T/fr" >>"$T/ort.log" 2>&1 && [ -f "$T/fr/logits.npy" ] &&
   "$FROST" compare "$T/fr/logits.npy" "$T/ort/logits.npy" --rtol 1e-4 --atol 1e-5 >>"$T/ort.log" 2>&1; then
  ok "ONNX Runtime runs the adapted model (its output 'logits', frost's values)"
else
  bad "the adapted model in ONNX Runtime:"; cat "$T/ort.log"
fi

# 3. Then a head, as on any model.
if "$FROST" train "$T/adapted.onnx" "$DATA" --head linear:3 --batch 6 --epochs 3 \
     >"$T/head.log" 2>&1 && grep -q '^feature cache' "$T/head.log"; then
  ok "a head trains on the adapted model (feature cache)"
else
  bad "a head on the adapted model:"; cat "$T/head.log"
fi

# 4. Bad input.
mkdir -p "$T/one/a"
cp "$x" "$T/one/a/s.npy"
check_error "ssl without augmentation" "give an augmentation" \
  "$FROST" train "$T/conv.onnx" "$DATA" --ssl --trainable '^fc\.' -o "$T/out/m.onnx"
check_error "ssl with validation" "no --val" \
  "$FROST" train "$T/conv.onnx" "$DATA" --ssl --noise 0.1 --trainable '^fc\.' --val-split 0.2
check_error "ssl training only the projection" "none of the model's layers trains" \
  "$FROST" train "$T/conv.onnx" "$DATA" --ssl --noise 0.1 --head mlp:8,4 -o "$T/out/m.onnx"
check_error "ssl on one sample" "needs at least 2 samples" \
  "$FROST" train "$T/conv.onnx" "$T/one" --ssl --noise 0.1 --trainable '^fc\.'
check_error "compile --train --ssl" "not compiled into artifacts" \
  "$FROST" compile "$T/conv.onnx" --train --ssl --noise 0.1 --trainable '^fc\.' \
  --head linear:3 -o "$T/out/a"

echo "ssl: $((count - fails)) of $count checks passed"
[ "$fails" -eq 0 ]
