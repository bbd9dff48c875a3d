#!/bin/sh
# transfer.sh: transfer learning without a trained head, on small
# synthetic data and the real embedding model:
#   - frost fewshot: prototypes from a support set classify the queries;
#     the exported prototype classifier runs in ONNX Runtime with frost's
#     outputs and gives the same decisions (frost eval); episodes report a
#     mean with its 95% interval;
#   - frost cluster: k-means++ on the frozen features finds the two
#     classes (purity, ARI, NMI), and the CSV names each sample's cluster;
#   - frost adapt-bn: the statistics of a BatchNormalization on the input
#     become the data's (per-channel mean of the full batches' means, and
#     of their variances), exported, and ONNX Runtime runs the result;
#   - frost eval --label-map: an identity map gives plain eval's accuracy,
#     a permuted one another;
#   - bad input: a query class without support, --k larger than the data,
#     a label map naming an output that does not exist: one line, exit 1.
#
#   tests/cli/transfer.sh FROST
set -u
export LC_ALL=C
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
EMB="$ROOT/models/embedding_model.onnx"
[ -f "$EMB" ] || { echo "transfer.sh: models/ missing: run scripts/fetch-models"; exit 1; }
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh" # count, fails, check_error (one line, exit 1)
ok() { count=$((count + 1)); echo "ok   $1"; }
bad() { count=$((count + 1)); fails=$((fails + 1)); echo "FAIL $1"; }

node "$ROOT/tests/cli/make-train-data.js" "$T/sup" 4 76,32,1
node "$ROOT/tests/cli/make-train-data.js" "$T/q" 24 76,32,1

# 1. Few-shot.
if "$FROST" fewshot "$EMB" --support "$T/sup" --query "$T/q" --batch 8 -o "$T/proto.onnx" >"$T/fs.log" 2>&1 &&
   acc=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' "$T/fs.log") &&
   awk -v a="$acc" 'BEGIN { exit !(a >= 90) }'; then
  ok "fewshot: $(grep accuracy "$T/fs.log")"
else
  bad "fewshot:"; cat "$T/fs.log"
fi
if "$FROST" eval "$T/proto.onnx" "$T/q" --batch 8 >"$T/ev.log" 2>&1 &&
   grep -q "accuracy: $acc%" "$T/ev.log"; then
  ok "the prototype classifier: frost eval decides as fewshot ($acc%)"
else
  bad "prototype classifier eval:"; cat "$T/ev.log"
fi
node -e '
  const lib = require(process.argv[1]);
  const b = require("fs").readFileSync(process.argv[2]);
  lib.writeNpy(process.argv[3], "float32", [1, 76, 32, 1],
               new Float32Array(b.buffer.slice(b.byteOffset + 128, b.byteOffset + b.length)));
' "$ROOT/tests/oracle/lib.js" "$T/q/c1/s005.npy" "$T/x.npy"
if node "$ROOT/tests/oracle/run-ort.js" "$T/proto.onnx" "$T/ort" "input_1=$T/x.npy" >"$T/ort.log" 2>&1 &&
   "$FROST" run "$T/proto.onnx" --input "input_1=$T/x.npy" --shape input_1=1x76x32x1 \
     --output-dir "$T/fr" >>"$T/ort.log" 2>&1 &&
   "$FROST" compare "$T/fr/logits.npy" "$T/ort/logits.npy" --rtol 1e-4 --atol 1e-5 >>"$T/ort.log" 2>&1; then
  ok "the prototype classifier in ONNX Runtime: frost's outputs"
else
  bad "prototype classifier in ONNX Runtime:"; cat "$T/ort.log"
fi
if "$FROST" fewshot "$EMB" "$T/q" --episodes 10 --shots 1 --queries 5 --batch 8 >"$T/ep.log" 2>&1 &&
   grep -q '^2-way 1-shot, 5 queries per class, 10 episodes (cosine): accuracy [0-9.]*% +- [0-9.]* (95% interval)' "$T/ep.log"; then
  ok "fewshot episodes: $(tail -1 "$T/ep.log")"
else
  bad "fewshot episodes:"; cat "$T/ep.log"
fi

if "$FROST" fewshot "$EMB" --support "$T/sup" --query "$T/q" --batch 8 --finetune \
     --epochs 3 --lr 1e-3 -o "$T/ft.onnx" >"$T/ft.log" 2>&1 &&
   grep -q '^fine-tuning the prototype head' "$T/ft.log" &&
   "$FROST" eval "$T/ft.onnx" "$T/q" --batch 8 >"$T/fte.log" 2>&1 &&
   fa=$(sed -n 's/^after fine-tuning: accuracy \([0-9.]*%\).*/\1/p' "$T/ft.log") &&
   [ -n "$fa" ] && grep -q "^accuracy: $fa" "$T/fte.log" &&
   node "$ROOT/tests/oracle/onnx-init.js" "$T/proto.onnx" frost.head.0.weight "$T/w0.npy" &&
   node "$ROOT/tests/oracle/onnx-init.js" "$T/ft.onnx" frost.head.0.weight "$T/w1.npy" &&
   ! cmp -s "$T/w0.npy" "$T/w1.npy"; then
  ok "fewshot --finetune: the prototype head trained, its query accuracy that of frost eval ($fa)"
else
  bad "fewshot --finetune:"; cat "$T/ft.log" "$T/fte.log"
fi

# 2. Clustering.
if "$FROST" cluster "$EMB" "$T/q" --k 2 --batch 8 -o "$T/cl.csv" >"$T/cl.log" 2>&1 &&
   pur=$(sed -n 's/.*purity \([0-9.]*\),.*/\1/p' "$T/cl.log") &&
   awk -v p="$pur" 'BEGIN { exit !(p >= 0.9) }' &&
   [ "$(wc -l <"$T/cl.csv")" = 49 ] && head -1 "$T/cl.csv" | grep -q '^path,cluster$'; then
  ok "cluster: $(grep purity "$T/cl.log")"
else
  bad "cluster:"; cat "$T/cl.log"
fi

# 3. AdaBN on a model that is one BatchNormalization of its input: the new
# statistics are the data's, computed here from the .npy files.
mkdir -p "$T/bn/init" "$T/bnd"
node -e '
  const fs = require("fs"), lib = require(process.argv[1]), dir = process.argv[2];
  const m = {ir_version: 7, opset: [{domain: "", version: 13}],
    inputs: [{name: "x", elem_type: 1, dims: ["batch", 2, 3, 3]}],
    outputs: [{name: "y", elem_type: 1, dims: ["batch", 2, 3, 3]}],
    initializers: ["w", "b", "mean", "var"].map(n => ({name: n, file: n + ".npy"})),
    nodes: [{op: "BatchNormalization", name: "bn", inputs: ["x", "w", "b", "mean", "var"],
             outputs: ["y"], attrs: [{name: "epsilon", type: "float", value: 1e-5}]}]};
  fs.writeFileSync(dir + "/model.json", JSON.stringify(m));
  lib.writeNpy(dir + "/init/w.npy", "float32", [2], new Float32Array([1, 2]));
  lib.writeNpy(dir + "/init/b.npy", "float32", [2], new Float32Array([0, 1]));
  lib.writeNpy(dir + "/init/mean.npy", "float32", [2], new Float32Array([0, 0]));
  lib.writeNpy(dir + "/init/var.npy", "float32", [2], new Float32Array([1, 1]));
  // 12 samples, 3 full batches of 4 and a short one of 2 (left out)
  const rnd = lib.mulberry32(3), rows = ["path,label"], all = [[], []];
  for (let i = 0; i < 14; i++) {
    const d = new Float32Array(18);
    for (let k = 0; k < 18; k++) d[k] = (k < 9 ? 3 : -2) + 4 * rnd();
    lib.writeNpy(process.argv[3] + "/s" + i + ".npy", "float32", [2, 3, 3], d);
    rows.push("s" + i + ".npy,c" + (i % 2));
  }
  fs.writeFileSync(process.argv[3] + "/manifest.csv", rows.join("\n") + "\n");
' "$ROOT/tests/oracle/lib.js" "$T/bn" "$T/bnd"
node "$ROOT/tests/oracle/train/make-model.js" "$T/bn" "$T/bn.onnx"
if "$FROST" adapt-bn "$T/bn.onnx" "$T/bnd/manifest.csv" --batch 4 -o "$T/bn-a.onnx" >"$T/bn.log" 2>&1 &&
   node "$ROOT/tests/oracle/onnx-init.js" "$T/bn-a.onnx" mean "$T/got-mean.npy" &&
   node "$ROOT/tests/oracle/onnx-init.js" "$T/bn-a.onnx" var "$T/got-var.npy" &&
   node -e '
     const fs = require("fs"), dir = process.argv[1];
     const readNpy = f => {
       const b = fs.readFileSync(f), h = b.readUInt16LE(8);
       return new Float32Array(b.buffer.slice(b.byteOffset + 10 + h, b.byteOffset + b.length));
     };
     const got = {mean: readNpy(process.argv[2]), var: readNpy(process.argv[3])};
     const lib = {readNpy: f => ({data: readNpy(f)})};
     // per batch: per-channel mean and variance (the population variance,
     // as ONNX defines training mode; PyTorch keeps the unbiased one); the
     // statistics are their means
     const m = [0, 0], v = [0, 0];
     for (let b = 0; b < 3; b++)
       for (let c = 0; c < 2; c++) {
         const xs = [];
         for (let i = 4 * b; i < 4 * b + 4; i++) {
           const a = lib.readNpy(dir + "/s" + i + ".npy").data;
           for (let k = 9 * c; k < 9 * c + 9; k++) xs.push(a[k]);
         }
         const mu = xs.reduce((s, x) => s + x, 0) / xs.length;
         const va = xs.reduce((s, x) => s + (x - mu) * (x - mu), 0) / xs.length;
         m[c] += mu / 3;
         v[c] += va / 3;
       }
     const close = (a, b) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));
     for (let c = 0; c < 2; c++)
       if (!close(got.mean[c], m[c]) || !close(got.var[c], v[c])) {
         console.log("channel", c, "mean", got.mean[c], "want", m[c], "var", got.var[c], "want", v[c]);
         process.exit(1);
       }
   ' "$T/bnd" "$T/got-mean.npy" "$T/got-var.npy" >>"$T/bn.log" 2>&1; then
  ok "adapt-bn: the statistics are the data's ($(head -1 "$T/bn.log" | cut -c1-60)...)"
else
  bad "adapt-bn:"; cat "$T/bn.log"
fi
node -e '
  const lib = require(process.argv[1]), b = require("fs").readFileSync(process.argv[2]);
  const a = new Float32Array(b.buffer.slice(b.byteOffset + 10 + b.readUInt16LE(8), b.byteOffset + b.length));
  lib.writeNpy(process.argv[3], "float32", [1, 2, 3, 3], a);
' "$ROOT/tests/oracle/lib.js" "$T/bnd/s0.npy" "$T/bx.npy"
if node "$ROOT/tests/oracle/run-ort.js" "$T/bn-a.onnx" "$T/bort" "x=$T/bx.npy" >"$T/bo.log" 2>&1 &&
   "$FROST" run "$T/bn-a.onnx" --input "x=$T/bx.npy" --shape x=1x2x3x3 --output-dir "$T/bfr" >>"$T/bo.log" 2>&1 &&
   "$FROST" compare "$T/bfr/y.npy" "$T/bort/y.npy" --rtol 1e-5 --atol 1e-6 >>"$T/bo.log" 2>&1; then
  ok "adapt-bn: ONNX Runtime runs the adapted model with frost's outputs"
else
  bad "adapt-bn in ONNX Runtime:"; cat "$T/bo.log"
fi

# 4. Zero-shot: the prototype classifier evaluated through label maps.
printf 'class,output\nc0,0\nc1,1\n' >"$T/id.csv"
printf 'c0,1\nc1,0\n' >"$T/swap.csv"
if "$FROST" eval "$T/proto.onnx" "$T/q" --batch 8 --label-map "$T/id.csv" >"$T/z1.log" 2>&1 &&
   grep -q "accuracy: $acc%" "$T/z1.log" &&
   "$FROST" eval "$T/proto.onnx" "$T/q" --batch 8 --label-map "$T/swap.csv" >"$T/z2.log" 2>&1 &&
   ! grep -q "accuracy: $acc%" "$T/z2.log"; then
  ok "eval --label-map: identity $acc%, swapped $(sed -n 's/^accuracy: \([0-9.]*%\).*/\1/p' "$T/z2.log")"
else
  bad "eval --label-map:"; cat "$T/z1.log" "$T/z2.log"
fi

# 5. Bad input.
mkdir -p "$T/q3/c2" && cp -r "$T/q/c0" "$T/q/c1" "$T/q3/" && cp "$T/q/c0/s000.npy" "$T/q3/c2/"
check_error "fewshot: a query class without support" "class 'c2' has no support" \
  "$FROST" fewshot "$EMB" --support "$T/sup" --query "$T/q3"
check_error "fewshot: too few samples for the shots" "has 4 samples" \
  "$FROST" fewshot "$EMB" "$T/sup" --episodes 3 --shots 4
check_error "cluster: --k larger than the data" "more clusters than the 8 samples" \
  "$FROST" cluster "$EMB" "$T/sup" --k 9
printf 'c0,0\nc1,7\n' >"$T/badmap.csv"
check_error "eval: a label map naming no output" "output 7 does not exist" \
  "$FROST" eval "$T/proto.onnx" "$T/q" --label-map "$T/badmap.csv"
check_error "adapt-bn: no BatchNormalization" "no BatchNormalization" \
  "$FROST" adapt-bn "$EMB" "$T/sup" -o "$T/nobn.onnx"

echo "$((count - fails)) of $count transfer checks passed"
[ "$fails" = 0 ]
