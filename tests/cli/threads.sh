#!/bin/sh
# threads.sh: the kernels' threads (runtime/kernels/pool.c) change no bit.
#   - the real models (the embedding model at batch 32, ppocr, the
#     melspectrogram) run with --threads 1 and --threads 2 give the same
#     bytes, with the JIT, --specialize and the interpreter, and an
#     artifact's run --threads 1 and 2 too;
#   - frost train with --threads 1 and 2 (backward through convolutions
#     and pooling) learns the same weights, bit for bit;
#   - --threads out of range: one line, exit 1.
#
#   tests/cli/threads.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"
M="$ROOT/models"
REF="$ROOT/tests/oracle/ref"
[ -f "$M/embedding_model.onnx" ] || { echo "threads.sh: models/ missing: run scripts/fetch-models"; exit 1; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# same NAME DIR1 DIR2: the two folders hold the same files, byte for byte.
same() {
  count=$((count + 1))
  if [ -n "$(ls "$2")" ] && diff -r "$2" "$3" >"$T/diff" 2>&1; then
    echo "ok   $1"
  else
    fail "$1: 1 and 2 threads differ"; head -5 "$T/diff"
  fi
}

# The embedding model's input at batch 32 (seeded).
node -e '
  const lib = require(process.argv[1]);
  const rnd = lib.mulberry32(7), x = new Float32Array(32 * 76 * 32);
  for (let i = 0; i < x.length; i++) x[i] = 4 * rnd() - 2;
  lib.writeNpy(process.argv[2], "float32", [32, 76, 32, 1], x);
' "$ROOT/tests/oracle/lib.js" "$T/emb32.npy"

# model NAME FILE.onnx ARGS...: frost run at 1 and 2 threads per engine.
model() {
  name=$1
  onnx=$2
  shift 2
  for engine in "jit" "jit --specialize" "interp"; do
    tag=$(echo "$engine" | tr -d ' -')
    for t in 1 2; do
      # shellcheck disable=SC2086
      "$FROST" run "$onnx" "$@" --engine $engine --threads $t \
        --output-dir "$T/$name-$tag-$t" >/dev/null 2>"$T/err" || cat "$T/err"
    done
    same "$name, $engine" "$T/$name-$tag-1" "$T/$name-$tag-2"
  done
}
model embedding32 "$M/embedding_model.onnx" --shape input_1=32x76x32x1 \
  --input "input_1=$T/emb32.npy"
model ppocr "$M/ch_ppocr_mobile_v2.0_cls_infer.onnx" --shape x=1x3x48x192 \
  --input "x=$REF/ppocr_cls/x.npy"
model melspectrogram "$M/melspectrogram.onnx" --shape input=1x16000 \
  --input "input=$REF/melspectrogram/input.npy"

# An artifact: its own pool, --threads on its command line.
"$FROST" compile "$M/embedding_model.onnx" --shape input_1=32x76x32x1 \
  -o "$T/emb32" >/dev/null 2>"$T/err" || cat "$T/err"
for t in 1 2; do
  "$T/emb32" run --threads $t --input "input_1=$T/emb32.npy" \
    --output-dir "$T/art-$t" >/dev/null 2>"$T/err" || cat "$T/err"
done
same "artifact run" "$T/art-1" "$T/art-2"
count=$((count + 1))
if "$T/emb32" bench --threads 2 --iters 2 | grep -q "2 threads"; then
  echo "ok   artifact bench --threads 2"
else
  fail "artifact bench --threads 2"
fi

# Training: the last convolutions and their pooling trainable, so the
# backward kernels (dW, pooling's dx, the GEMMs) run on threads.
node "$ROOT/tests/cli/make-train-data.js" "$T/data" 12 76,32,1
for engine in "jit" "interp"; do
  for t in 1 2; do
    "$FROST" train "$M/embedding_model.onnx" "$T/data" --head linear:2 \
      --train-from model/conv2d_16/Conv2D --epochs 2 --lr 1e-2 --batch 8 \
      --seed 1 --engine $engine --threads $t --save-params "$T/p-$engine-$t" \
      >"$T/log" 2>&1 || cat "$T/log"
  done
  same "train, $engine: the same weights" "$T/p-$engine-1" "$T/p-$engine-2"
done

# Bad counts.
check_error "--threads 0" "--threads expects a number of threads in \[1, 256\], not '0'" \
  "$FROST" run "$M/melspectrogram.onnx" --threads 0
check_error "--threads x" "--threads expects a number of threads" \
  "$FROST" bench "$M/melspectrogram.onnx" --threads x
check_error "artifact --threads 0" "--threads expects a number of threads in \[1, 256\], not '0'" \
  "$T/emb32" bench --threads 0
echo "$((count - fails)) of $count thread cases pass"
[ "$fails" -eq 0 ]
