#!/bin/sh
# commands.sh: spoken commands on a frozen speech backbone, tested on
# voices the training never heard.
#
#   bench/commands.sh [FROST] [WORKDIR]
#
# The data: six words (yes no stop go left right) spoken by espeak-ng in
# six English accents with voice variants (+m1..+m7, +f1..+f4) at two
# rates, converted by sox to 16 kHz mono PCM16, shifted by up to 0.25 s,
# padded to 1 s and mixed with white noise. The test set is the variants
# +m7, +f3 and +f4 of every accent: unseen voices.
# The models: openWakeWord's melspectrogram.onnx as a frozen front end and
# embedding_model.onnx as the frozen backbone (models/, fetched).
#   1. backbone: a linear head on the backbone's embeddings, pooled over a
#      clip's windows (--pool mean; feature cache)
#   2. mel:      the same head on the mel windows alone (--cut at the
#                backbone's input: no backbone), pooled the same way
# Prints each one's accuracy on the unseen voices and its time.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
FROST=${1:-$ROOT/build/frost}
W=${2:-$ROOT/build/commands}
M="$ROOT/models"
[ -f "$M/embedding_model.onnx" ] || "$ROOT/scripts/fetch-models"
command -v espeak-ng >/dev/null 2>&1 && command -v sox >/dev/null 2>&1 ||
  apt-get install -y --no-install-recommends espeak-ng sox
WORDS="yes no stop go left right"
ACCENTS="en-us en-gb en-gb-scotland en-gb-x-rp en-gb-x-gbclan en-gb-x-gbcwmd"
TRAIN_VARIANTS="m1 m2 m3 m4 m5 m6 f1 f2"
TEST_VARIANTS="m7 f3 f4"

speak() { # speak DIR VARIANTS SEED
  r=$3
  for word in $WORDS; do
    mkdir -p "$1/$word"
    for acc in $ACCENTS; do
      for var in $2; do
        for rate in 140 175; do
          f="$1/$word/$acc-$var-$rate.wav"
          [ -f "$f" ] && continue
          r=$(( (r * 1103515245 + 12345) % 2147483648 ))
          shift_s=$(printf '0.%03d' $(( r % 250 )))
          noise=$(printf '0.%03d' $(( (r / 250) % 40 + 5 )))
          espeak-ng -v "$acc+$var" -s "$rate" -w "$W/tmp.wav" "$word"
          sox -R -V1 "$W/tmp.wav" -r 16000 -c 1 -b 16 "$W/tmp16.wav" pad "$shift_s" 1 trim 0 1
          sox -R -V1 -n -r 16000 -c 1 -b 16 "$W/noise.wav" synth 1 whitenoise vol "$noise"
          sox -R -V1 -m "$W/tmp16.wav" "$W/noise.wav" -b 16 "$f" trim 0 1
        done
      done
    done
  done
}
mkdir -p "$W"
echo "commands: speaking into $W (cached)"
speak "$W/train" "$TRAIN_VARIANTS" 1
speak "$W/test" "$TEST_VARIANTS" 2

AUDIO="--frontend $M/melspectrogram.onnx --frontend-scale 0.1,2 --window 76 --hop 8 --pool mean"
run() { # run NAME OPTIONS...
  name=$1
  shift
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$FROST" train "$M/embedding_model.onnx" "$W/train" --val "$W/test" $AUDIO \
    --batch 32 --seed 1 "$@" >"$W/$name.log" 2>&1 || {
    echo "commands: $name failed:"; cat "$W/$name.log"; exit 1; }
  t1=$(date +%s.%N)
  best=$(sed -n 's/^kept epoch \([0-9]*\).*/\1/p' "$W/$name.log")
  acc=$(grep "^epoch $best/" "$W/$name.log" | sed 's/.*val loss [0-9.e+-]* acc \([0-9.]*%\).*/\1/')
  printf '%-9s unseen-voice accuracy %7s (best epoch %s)  %5.1f s in all\n' \
    "$name" "$acc" "$best" "$(echo "$t1 - $t0" | bc)"
}
run backbone --head linear:6 --epochs 40 --lr 1e-2
run mel --cut input_1 --head linear:6 --epochs 40 --lr 1e-2
