#!/bin/sh
# train.sh: artifacts that keep learning (frost compile --train).
#   - an executable compiled from the embedding model with a linear:2 head
#     trains on a generated data set to the same weights as frost train
#     with the same seed and options, bit for bit (the JIT's default,
#     specialized code and its --no-specialize calls of frost's own
#     kernels); ldd lists only libc and libm, nm no LLVM or
#     protobuf-c symbol;
#   - a checkpoint of OUT train resumes in frost train and the other way
#     round, to the bytes of a run that never stopped;
#   - OUT run --weights uses the learned weights; OUT export writes an ONNX
#     file that ONNX Runtime runs with OUT run's outputs;
#   - docs/examples/train_head.c trains through the .so and through the .o;
#   - bad input: a sample of the wrong shape, other classes, a corrupt
#     checkpoint, one from another artifact: one line, exit 1, nothing
#     overwritten.
#
#   tests/aot/train.sh FROST
set -u
export LC_ALL=C
FROST=$(CDPATH= cd -- "$(dirname -- "$1")" && pwd)/$(basename -- "$1")
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
EMB="$ROOT/models/embedding_model.onnx"
[ -f "$EMB" ] || { echo "train.sh: models/ missing: run scripts/fetch-models"; exit 1; }
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh" # count, fails, check_error (one line, exit 1)
ok() { count=$((count + 1)); echo "ok   $1"; }
bad() { count=$((count + 1)); fails=$((fails + 1)); echo "FAIL $1"; }
PARAMS="frost.head.0.weight frost.head.0.bias"
# The shared libraries of an executable, without the sanitizers' runtime a
# sanitizer build of frost links into artifacts (scripts/test's second run).
SAN=
ldd "$FROST" | grep -q libasan && SAN=1
libs_of() {
  ldd "$1" | awk '{print $1}' | grep -v -e linux-vdso -e ld-linux | sed 's/\.so.*//' |
    { if [ -n "$SAN" ]; then grep -v -e libasan -e libubsan -e libstdc++ -e libgcc_s; else cat; fi; } |
    sort | tr '\n' ' '
}
# same_params DIR1 DIR2: every head parameter's .npy equal byte for byte
same_params() {
  for p in $PARAMS; do cmp -s "$1/$p.npy" "$2/$p.npy" || return 1; done
}

node "$ROOT/tests/cli/make-train-data.js" "$T/data" 24 76,32,1
OPTS="--head linear:2 --batch 8 --lr 1e-2 --seed 1 --epochs 8"

# 1. The executable: compiled, self-contained, trains as frost train does.
cd "$T" || exit 1
if "$FROST" compile "$EMB" --train $OPTS -o "$T/emb2" >"$T/log" 2>&1; then
  ok "compile --train: $(sed -n 1p "$T/log")"
else
  bad "compile --train:"; cat "$T/log"
fi
libs=$(libs_of "$T/emb2")
syms=$(nm "$T/emb2" | grep -ci -e llvm -e protobuf)
if [ "$libs" = "libc libm " ] && [ "$syms" = 0 ]; then
  ok "ldd: libc and libm only; nm: no LLVM or protobuf-c symbol"
else
  bad "ldd/nm: libs '$libs', $syms LLVM/protobuf symbols"
fi
"$T/emb2" train "$T/data" --val-split 0.25 -o "$T/w" >"$T/a.log" 2>&1 || { bad "OUT train:"; cat "$T/a.log"; }
"$FROST" train "$EMB" "$T/data" $OPTS --val-split 0.25 --save-params "$T/p" >"$T/f.log" 2>&1 || { bad "frost train:"; cat "$T/f.log"; }
"$FROST" train "$EMB" "$T/data" $OPTS --val-split 0.25 --no-specialize --save-params "$T/ps" >/dev/null 2>&1
if same_params "$T/p" "$T/w/current/params" && same_params "$T/ps" "$T/w/current/params" &&
   [ "$(grep '^epoch' "$T/a.log" | sed 's/  [0-9.]* s$//')" = "$(grep '^epoch' "$T/f.log" | sed 's/  [0-9.]* s$//')" ]; then
  ok "OUT train: frost train's weights bit for bit, the same epoch lines ($(grep '^kept' "$T/a.log"))"
else
  bad "OUT train differs from frost train"; diff "$T/a.log" "$T/f.log"
fi

# 2. Checkpoints across the two.
rm -rf "$T/ck1" "$T/ck2"
"$T/emb2" train "$T/data" --val-split 0.25 --epochs 4 --checkpoint-dir "$T/ck1" >/dev/null 2>&1
"$FROST" train "$EMB" "$T/data" $OPTS --val-split 0.25 --checkpoint-dir "$T/ck1" --resume \
  --save-params "$T/r1" >"$T/r1.log" 2>&1
"$FROST" train "$EMB" "$T/data" $OPTS --val-split 0.25 --epochs 4 --checkpoint-dir "$T/ck2" >/dev/null 2>&1
"$T/emb2" train "$T/data" --val-split 0.25 --checkpoint-dir "$T/ck2" --resume -o "$T/r2" >"$T/r2.log" 2>&1
if grep -q "resumed from .*epoch 4" "$T/r1.log" && grep -q "resumed from .*epoch 4" "$T/r2.log" &&
   same_params "$T/p" "$T/r1" && same_params "$T/p" "$T/r2/current/params"; then
  ok "checkpoints: OUT train -> frost train and frost train -> OUT train resume to the same bytes"
else
  bad "checkpoints across frost train and the artifact"; cat "$T/r1.log" "$T/r2.log"
fi

# Audio: the melspectrogram front end, windows and pooling compiled in.
node "$ROOT/tests/cli/make-wav-data.js" "$T/wav" 16 1.5
MEL="$ROOT/models/melspectrogram.onnx"
AOPTS="--frontend $MEL --frontend-scale 0.1,2 --window 76 --hop 8 --pool mean --head linear:2 --epochs 6 --lr 1e-2 --batch 8 --seed 3"
if "$FROST" compile "$EMB" --train $AOPTS --clip-samples 24000 -o "$T/aud" >"$T/aud.log" 2>&1 &&
   "$T/aud" train "$T/wav" --val-split 0.25 -o "$T/aw" >>"$T/aud.log" 2>&1 &&
   "$FROST" train "$EMB" "$T/wav" $AOPTS --val-split 0.25 --save-params "$T/ap" >>"$T/aud.log" 2>&1 &&
   grep -q '^front end: 32 clips into 288 windows' "$T/aud.log" &&
   same_params "$T/ap" "$T/aw/current/params"; then
  ok "audio (front end, windows, --pool mean compiled in): frost train's weights bit for bit"
else
  bad "audio artifact:"; cat "$T/aud.log"
fi
right=0
for f in "$T"/wav/*/c00[0-3].wav; do
  want=$(basename "$(dirname "$f")")
  "$T/aud" run --wav "$f" --weights "$T/aw" >"$T/wav.out" 2>&1
  [ "$(sed -n '2p' "$T/wav.out" | awk '{print $1}')" = "$want" ] && right=$((right + 1))
done
if [ "$right" = 8 ]; then
  ok "OUT run --wav: 8 of 8 clips get their class's name first"
else
  bad "OUT run --wav: $right of 8 clips right"; cat "$T/wav.out"
fi

# Images: PNG files decoded and preprocessed (resize, mean, std) by the
# executable, as frost train does; the ppocr classifier cut before its
# classifier (reshape2_0.tmp_0), with a head. Bit for bit against frost
# train, whose JIT inlines the kernels an artifact inlines (with
# --no-specialize it calls frost's own, whose rounding differs in the last
# bits on this model).
PP="$ROOT/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
node "$ROOT/tests/cli/make-png-data.js" "$T/png" 8 200 50
IOPTS="--shape x=1x3x48x192 --cut reshape2_0.tmp_0 --head linear:2 --batch 4 --epochs 6 --lr 1e-2 --resize 48x192 --mean 0.5 --std 0.5 --seed 2"
if "$FROST" compile "$PP" --train $IOPTS -o "$T/ppa" >"$T/img.log" 2>&1 &&
   "$T/ppa" train "$T/png" --val-split 0.25 -o "$T/pw" >>"$T/img.log" 2>&1 &&
   "$FROST" train "$PP" "$T/png" $IOPTS --val-split 0.25 --save-params "$T/pp" >>"$T/img.log" 2>&1 &&
   same_params "$T/pp" "$T/pw/current/params"; then
  ok "images (PNG decoded, resized and normalised by the executable): frost train's weights bit for bit"
else
  bad "image artifact:"; cat "$T/img.log"
fi
AUG="$IOPTS --epochs 3 --hflip --crop-pad 2 --rotate 5 --class-weights 1,2"
if "$FROST" compile "$PP" --train $AUG -o "$T/ppaug" >"$T/aug.log" 2>&1 &&
   "$T/ppaug" train "$T/png" --val-split 0.25 -o "$T/pwa" >>"$T/aug.log" 2>&1 &&
   "$FROST" train "$PP" "$T/png" $AUG --val-split 0.25 --save-params "$T/ppaug.p" >>"$T/aug.log" 2>&1 &&
   same_params "$T/ppaug.p" "$T/pwa/current/params"; then
  ok "augmentation and class weights compiled in: frost train's weights bit for bit"
else
  bad "augmentation artifact:"; cat "$T/aug.log"
fi
libs=$(libs_of "$T/ppa")
if [ "$libs" = "libc libm " ] && "$T/ppa" run --image "$T/png/c1/s001.png" --weights "$T/pw" >"$T/img.out" 2>&1 &&
   grep -q '^  c[01] ' "$T/img.out"; then
  ok "OUT run --image: $(sed -n 2p "$T/img.out" | tr -s ' '); ldd: libc and libm (libpng, zlib, libjpeg static)"
else
  bad "OUT run --image: libs '$libs'"; cat "$T/img.out"
fi

# 3. run with the learned weights, export, ONNX Runtime.
node -e '
  const lib = require(process.argv[1]);
  const b = require("fs").readFileSync(process.argv[2]);
  lib.writeNpy(process.argv[3], "float32", [1, 76, 32, 1],
               new Float32Array(b.buffer.slice(b.byteOffset + 128, b.byteOffset + b.length)));
' "$ROOT/tests/oracle/lib.js" "$T/data/c1/s003.npy" "$T/x.npy"
"$T/emb2" run --input "input_1=$T/x.npy" --output-dir "$T/o0" >/dev/null 2>&1
"$T/emb2" run --input "input_1=$T/x.npy" --weights "$T/w" --output-dir "$T/o1" >/dev/null 2>&1
if [ -f "$T/o1/logits.npy" ] || ls "$T/o1"/*.npy >/dev/null 2>&1; then
  out=$(ls "$T/o1" | head -1)
  if ! cmp -s "$T/o0/$out" "$T/o1/$out"; then
    ok "OUT run --weights: the learned weights change the output"
  else
    bad "OUT run --weights: the same output as the initial weights"
  fi
else
  bad "OUT run --weights: no output"
fi
if "$T/emb2" export "$T/e.onnx" --weights "$T/w" >"$T/e.log" 2>&1 &&
   node "$ROOT/tests/oracle/run-ort.js" "$T/e.onnx" "$T/ort" "input_1=$T/x.npy" >"$T/ort.log" 2>&1 &&
   "$FROST" compare "$T/o1/$out" "$T/ort/$(ls "$T/ort" | head -1)" --rtol 1e-4 --atol 1e-5 >>"$T/ort.log" 2>&1; then
  ok "OUT export: ONNX Runtime runs it with OUT run --weights' outputs ($(cat "$T/e.log"))"
else
  bad "OUT export:"; cat "$T/e.log" "$T/ort.log"
fi

# 4. The C API: docs/examples/train_head.c through the .so and the .o.
mkdir -p "$T/so" "$T/obj"
if "$FROST" compile "$EMB" --train $OPTS --emit shared -o "$T/so/head" >/dev/null 2>&1 &&
   cc -O2 -Wall -Wextra -Werror -o "$T/th" "$ROOT/docs/examples/train_head.c" -I"$T/so" "$T/so/head.so" -lm &&
   LD_LIBRARY_PATH="$T/so" "$T/th" >"$T/th.log" 2>&1; then
  ok "C API through head.so: $(grep accuracy "$T/th.log")"
else
  bad "C API through head.so:"; cat "$T/th.log" 2>/dev/null
fi
if "$FROST" compile "$EMB" --train $OPTS --emit obj -o "$T/obj/head" >/dev/null 2>&1 &&
   cc -O2 -o "$T/tho" "$ROOT/docs/examples/train_head.c" -I"$T/obj" "$T/obj/head.o" -lm &&
   "$T/tho" >"$T/tho.log" 2>&1 && cmp -s "$T/th.log" "$T/tho.log"; then
  ok "C API through head.o: the same run"
else
  bad "C API through head.o:"; cat "$T/tho.log" 2>/dev/null
fi

# 5. Bad input: one line, exit 1, nothing overwritten.
node "$ROOT/tests/cli/make-train-data.js" "$T/shape" 4 76,31,1
node "$ROOT/tests/cli/make-train-data.js" "$T/three" 4 76,32,1
mkdir -p "$T/three/c2" && cp "$T/data/c0/s000.npy" "$T/three/c2/"
cp -r "$T/w" "$T/wsave"
check_error "wrong sample shape" "compiled for samples of" "$T/emb2" train "$T/shape" -o "$T/w"
check_error "other classes" "classes, the artifact" "$T/emb2" train "$T/three" -o "$T/w"
if same_params "$T/wsave/current/params" "$T/w/current/params"; then
  ok "failed runs left -o's weights as they were"
else
  bad "a failed run overwrote -o's weights"
fi
cp -r "$T/w" "$T/wbad"
printf 'garbage' >"$T/wbad/current/state.json"
rm -rf "$T/wbad/previous"
check_error "corrupt checkpoint" "wbad" "$T/emb2" run --input "input_1=$T/x.npy" --weights "$T/wbad"
"$FROST" compile "$EMB" --train --head linear:2 --batch 8 --seed 2 --optimizer sgd -o "$T/other" >/dev/null 2>&1
check_error "checkpoint of another artifact" "optimizer state slots\|trainable" "$T/other" export "$T/o.onnx" --weights "$T/w"
[ -e "$T/o.onnx" ] && bad "export wrote a file after a refused checkpoint"
check_error "train without data" "no DATA" "$T/emb2" train
"$FROST" compile "$EMB" --shape input_1=1x76x32x1 -o "$T/plain" >/dev/null 2>&1
check_error "artifact without --train" "without --train" "$T/plain" train "$T/data"

echo "$((count - fails)) of $count checks passed"
[ "$fails" = 0 ]
