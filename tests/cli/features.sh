#!/bin/sh
# features.sh: frost extract and frost train --features as one process
# (tests/cli/mpi.sh runs them under mpirun):
#   - the features a head trains on give the bytes of the feature cache;
#   - the folder: shards, labels, the manifest; an extraction replaces an
#     earlier one, never a folder of other files;
#   - bad options, folders and manifests: one line, exit 1, nothing left.
#
#   tests/cli/features.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"
EMB="$ROOT/models/embedding_model.onnx"
[ -f "$EMB" ] || { echo "features.sh: models/ missing: run scripts/fetch-models"; exit 1; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() {
  name=$1
  shift
  count=$((count + 1))
  if "$@"; then echo "ok   $name"; else fail "$name"; cat "$T/log"; fi
}

node "$ROOT/tests/cli/make-train-data.js" "$T/data" 12 76,32,1
A="--head linear:2 --val-split 0.25 --epochs 4 --lr 1e-2 --batch 8 --seed 1"
# shellcheck disable=SC2086
"$FROST" train "$EMB" "$T/data" $A --save-params "$T/cache" >"$T/log" 2>&1
"$FROST" extract "$EMB" "$T/data" --cut conv2d_19 --batch 5 -o "$T/feat" >"$T/log" 2>&1
ok "extract: the shard, the labels, the manifest" \
  sh -c "grep -q '^features: 24 samples .* 96 floats each' '$T/log' &&
         [ -f '$T/feat/shard-00000.npy' ] && [ -f '$T/feat/labels.npy' ] &&
         grep -q '\"cut\": \"conv2d_19\"' '$T/feat/features.json'"
# shellcheck disable=SC2086
"$FROST" train "$EMB" --features "$T/feat" $A --save-params "$T/feat-p" -o "$T/f.onnx" >"$T/log" 2>&1
same=1
for f in "$T"/cache/*.npy; do cmp -s "$f" "$T/feat-p/$(basename "$f")" || same=0; done
ok "train --features: the bytes of the feature cache" [ $same = 1 ] && [ -s "$T/f.onnx" ]
"$FROST" extract "$EMB" "$T/data" --cut conv2d_19 -o "$T/feat" >"$T/log" 2>&1
ok "extract again into the folder: replaced" [ "$(ls "$T/feat" | wc -l)" = 3 ]
# Numeric targets: targets.npy, and a --loss mse head trains on them.
printf 'path,a,b\n' >"$T/data/num.csv"
for i in 0 1 2 3 4 5; do printf 'c0/s00%d.npy,%d,1\n' $i $i >>"$T/data/num.csv"; done
"$FROST" extract "$EMB" "$T/data/num.csv" --cut conv2d_19 -o "$T/num" >"$T/log" 2>&1 &&
  "$FROST" train "$EMB" --features "$T/num" --head linear:2 --loss mse --epochs 2 --batch 3 >"$T/log" 2>&1
ok "numbers: targets.npy, trained with --loss mse" [ -f "$T/num/targets.npy" ]

# Errors.
mkdir -p "$T/foreign" && echo x >"$T/foreign/notes.txt"
expect_error extract-no-cut "give --cut VALUE" -- extract "$EMB" "$T/data" -o "$T/out"
expect_error extract-no-out "give -o DIR" -- extract "$EMB" "$T/data" --cut conv2d_19
expect_error extract-no-data "no DATA" -- extract "$EMB" --cut conv2d_19 -o "$T/out"
expect_error extract-bad-cut "no value named 'nope'" -- extract "$EMB" "$T/data" --cut nope -o "$T/out"
expect_error extract-foreign-folder "holds 'notes.txt'" -- extract "$EMB" "$T/data" --cut conv2d_19 -o "$T/foreign"
expect_error features-and-data "DATA or --features DIR, not both" -- train "$EMB" "$T/data" --features "$T/feat" --head linear:2
expect_error features-missing "nothere: not features frost extract wrote" -- train "$EMB" --features "$T/nothere" --head linear:2
expect_error features-other-cut "--cut conv2d_18: the features in .* are 'conv2d_19'" -- train "$EMB" --features "$T/feat" --cut conv2d_18 --head linear:2
expect_error features-other-model "features of another model" -- train "$ROOT/models/alexa_v0.1.onnx" --features "$T/feat" --head linear:2
expect_error features-no-cache "not with --no-cache" -- train "$EMB" --features "$T/feat" --head linear:2 --no-cache
expect_error features-trained-before-cut "the trained layers start at" -- train "$EMB" --features "$T/feat" --head linear:2 --trainable conv2d_19
cp -r "$T/feat" "$T/bad"
sed 's/"samples": 24/"samples": 25/' "$T/feat/features.json" >"$T/bad/features.json"
expect_error features-count "the shards hold 24 samples, not 25\|labels.npy: not int32 \[25\]" -- train "$EMB" --features "$T/bad" --head linear:2
sed 's/"format": "frost-features-1"/"format": "frost-features-9"/' "$T/feat/features.json" >"$T/bad/features.json"
expect_error features-format "format 'frost-features-9'" -- train "$EMB" --features "$T/bad" --head linear:2
head -c 70 "$T/feat/features.json" >"$T/bad/features.json"
expect_error features-truncated "features.json: " -- train "$EMB" --features "$T/bad" --head linear:2
cp "$T/feat/features.json" "$T/bad/features.json"
node -e '
  const lib = require(process.argv[1]);
  lib.writeNpy(process.argv[2], "int32", [24], new Int32Array(24).fill(7));
' "$ROOT/tests/oracle/lib.js" "$T/bad/labels.npy"
expect_error features-label-range "label 7 of sample 0 is not one of the 2 classes" -- train "$EMB" --features "$T/bad" --head linear:2
cp "$T/feat/labels.npy" "$T/bad/labels.npy"
head -c 300 "$T/feat/shard-00000.npy" >"$T/bad/shard-00000.npy"
expect_error features-short-shard "shard-00000.npy: " -- train "$EMB" --features "$T/bad" --head linear:2

expect_done "features cases behave"
