#!/bin/sh
# train-vs-torch.sh: train-step throughput, frost against PyTorch, on the
# same networks, data and batches (the cases of bench/train-vs-torch.py),
# at THREADS threads. PyTorch (Debian's python3-torch) builds and times its
# side and exports the networks; frost trains the same parameters of the
# exported models with the same optimizer, JIT-compiled, and its steps
# per second come from its epoch times (the best of 4 epochs). The same
# training compiled into an artifact (frost compile --train) and run by
# its own train command is the third column. Where only the last block
# trains (dw-last), frost runs the frozen part every step (--no-cache), as
# PyTorch does; the last column is frost with its feature cache.
#
#   bench/train-vs-torch.sh [FROST] [WORKDIR] [THREADS]
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
FROST=${1:-$ROOT/build/frost}
W=${2:-$(mktemp -d)}
T=${3:-1}
mkdir -p "$W"
/usr/bin/python3 -c 'import torch' 2>/dev/null || apt-get install -y python3-torch
# Debian's torch calls the system BLAS (libblas.so.3): without OpenBLAS it
# gets the reference BLAS, about 6 GFLOP/s. With OpenBLAS, and its two
# variables unset (else it picks a kernel at half speed), about 200.
[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] ||
  apt-get install -y --no-install-recommends libopenblas-dev
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$T" \
  /usr/bin/python3 "$ROOT/bench/train-vs-torch.py" "$W" "$T" >"$W/torch.txt"
# frost's threads, where it has the option
th=
"$FROST" help train 2>/dev/null | grep -q -- '--threads' && th="--threads $T"
steps_per_s() { # JSON log, steps per epoch
  best=$(sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p' "$1" | sort -g | head -1)
  awk -v s="$best" -v n="$2" 'BEGIN { printf "%.1f", n / s }'
}
printf '%-8s %10s %10s %10s %12s %8s\n' case frost artifact torch "frost-cache" frost/torch
for c in "mlp sgd .* 64 640" "conv sgd .* 64 640" "dw sgd .* 32 320" \
         "dw-last sgd ^(4|7)\\. 32 320" "head adamw .* 64 640"; do
  set -f
  # shellcheck disable=SC2086
  set -- $c
  set +f
  name=$1 opt=$2 re=$3 batch=$4 n=$5
  model=${name%-last}
  spe=$(( (n + batch - 1) / batch ))
  o="--trainable $re --optimizer $opt --lr 0.01 --momentum 0.9 --batch $batch --epochs 4 --no-shuffle"
  [ "$opt" = adamw ] && o="--trainable $re --optimizer adamw --lr 1e-3 --weight-decay 0.01 --batch $batch --epochs 4 --no-shuffle"
  # the JSON logs are appended to: each run starts its own
  rm -f "$W/$name.json" "$W/$name-cache.json"
  set -f
  # shellcheck disable=SC2086
  "$FROST" train "$W/$model/model.onnx" "$W/$model/data/manifest.csv" $o $th --no-cache \
    --log-json "$W/$name.json" >"$W/$name.log" 2>&1 || { cat "$W/$name.log"; exit 1; }
  cache=-
  if [ "$name" = dw-last ]; then
    # shellcheck disable=SC2086
    "$FROST" train "$W/$model/model.onnx" "$W/$model/data/manifest.csv" $o $th \
      --log-json "$W/$name-cache.json" >"$W/$name-cache.log" 2>&1 || { cat "$W/$name-cache.log"; exit 1; }
    cache=$(steps_per_s "$W/$name-cache.json" $spe)
  fi
  # shellcheck disable=SC2086
  "$FROST" compile "$W/$model/model.onnx" --train --no-cache $o -o "$W/$name-art" \
    >"$W/$name-art.log" 2>&1 || { cat "$W/$name-art.log"; exit 1; }
  set +f
  rm -f "$W/$name-art.json"
  # shellcheck disable=SC2086
  "$W/$name-art" train "$W/$model/data/manifest.csv" $th --log-json "$W/$name-art.json" \
    >>"$W/$name-art.log" 2>&1 || { cat "$W/$name-art.log"; exit 1; }
  frost=$(steps_per_s "$W/$name.json" $spe)
  art=$(steps_per_s "$W/$name-art.json" $spe)
  torch=$(sed -n "s/^$name torch //p" "$W/torch.txt")
  printf '%-8s %10s %10s %10s %12s %8.2f\n' "$name" "$frost" "$art" "$torch" "$cache" \
    "$(awk -v a="$frost" -v b="$torch" 'BEGIN { print a / b }')"
done
