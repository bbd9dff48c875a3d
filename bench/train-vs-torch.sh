#!/bin/sh
# train-vs-torch.sh: train-step throughput, frost against PyTorch, on the
# same networks, data, batch (64) and one thread. PyTorch (Debian's
# python3-torch) builds and times its side (bench/train-vs-torch.py) and
# exports the networks; frost trains every parameter of the exported
# models with the same optimizer (SGD, momentum 0.9), JIT-compiled, and
# its steps per second come from its epoch times (the best of 6 epochs,
# 10 steps each; the feature cache does not apply: everything trains).
# The same training compiled into an artifact (frost compile --train) and
# run by its own train command is the third column.
#
#   bench/train-vs-torch.sh [FROST] [WORKDIR]
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
FROST=${1:-$ROOT/build/frost}
W=${2:-$(mktemp -d)}
mkdir -p "$W"
/usr/bin/python3 -c 'import torch' 2>/dev/null || apt-get install -y python3-torch
# Debian's torch calls the system BLAS (libblas.so.3): without OpenBLAS it
# gets the reference BLAS, about 6 GFLOP/s. With OpenBLAS, and its two
# variables unset (else it picks a kernel at half speed), about 200.
[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] ||
  apt-get install -y --no-install-recommends libopenblas-dev
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
  /usr/bin/python3 "$ROOT/bench/train-vs-torch.py" "$W" >"$W/torch.txt"
for net in mlp conv; do
  set -f
  "$FROST" train "$W/$net/model.onnx" "$W/$net/data/manifest.csv" --trainable '.*' \
    --optimizer sgd --lr 0.01 --momentum 0.9 --batch 64 --epochs 6 --no-shuffle \
    --log-json "$W/$net.json" >"$W/$net.log" 2>&1 || { cat "$W/$net.log"; exit 1; }
  "$FROST" compile "$W/$net/model.onnx" --train --trainable '.*' \
    --optimizer sgd --lr 0.01 --momentum 0.9 --batch 64 --epochs 6 --no-shuffle \
    -o "$W/$net-art" >"$W/$net-art.log" 2>&1 || { cat "$W/$net-art.log"; exit 1; }
  rm -f "$W/$net-art.json"
  "$W/$net-art" train "$W/$net/data/manifest.csv" --log-json "$W/$net-art.json" \
    >>"$W/$net-art.log" 2>&1 || { cat "$W/$net-art.log"; exit 1; }
  set +f
  best=$(sed 's/.*"seconds": \([0-9.e+-]*\).*/\1/' "$W/$net.json" | sort -g | head -1)
  frost=$(awk -v s="$best" 'BEGIN { print 10 / s }')
  best=$(sed 's/.*"seconds": \([0-9.e+-]*\).*/\1/' "$W/$net-art.json" | sort -g | head -1)
  art=$(awk -v s="$best" 'BEGIN { print 10 / s }')
  torch=$(sed -n "s/^$net torch //p" "$W/torch.txt")
  printf '%-5s frost %8.1f steps/s   artifact %8.1f steps/s   torch %8.1f steps/s   frost/torch %.2f\n' \
    "$net" "$frost" "$art" "$torch" "$(awk -v a="$frost" -v b="$torch" 'BEGIN { print a / b }')"
done
