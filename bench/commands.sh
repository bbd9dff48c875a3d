#!/bin/sh
# commands.sh: spoken commands on a frozen speech backbone, tested on
# voices the training never heard.
#
#   bench/commands.sh [FROST] [WORKDIR]
#   CURVE="4 8 16 32" SEEDS="1 2 3" bench/commands.sh ...   and a learning curve
#
# The data: six words (yes no stop go left right) spoken by espeak-ng in
# six English accents with voice variants (+m1..+m7, +f1..+f4) at two
# rates, converted by sox to 16 kHz mono PCM16, shifted by up to 0.25 s,
# padded to 1 s and mixed with white noise. The test set is the variants
# +m7, +f3 and +f4 of every accent: unseen voices. A new voice for
# learning on the device (scripts/demo): espeak-ng's Spanish voice (es+m2)
# saying the same English words, a strong accent, at 4 rates and 4
# pitches; newvoice/few holds its 4 clips per word at pitch 40,
# newvoice/rest the other 12.
# The models: openWakeWord's melspectrogram.onnx as a frozen front end and
# embedding_model.onnx as the frozen backbone (models/, fetched).
#   1. backbone: a linear head on the backbone's embeddings, pooled over a
#      clip's windows (--pool mean; feature cache)
#   2. mel:      the same head on the mel windows alone (--cut at the
#                backbone's input: no backbone), pooled the same way
# Prints each one's accuracy on the unseen voices and its time. With CURVE,
# both are trained again on N clips per word for each N in CURVE, drawn
# from the training set by each seed in SEEDS (CSV manifests in curve/).
# Each run leaves NAME.log, NAME.jsonl (--log-json) and a row in runs.tsv:
# task mode clips-per-word seed seconds max-RSS-KB log (bench/report.js).
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
          r=$(( (r * 1103515245 + 12345) % 2147483648 ))
          [ -f "$f" ] || clip "$f" "$acc+$var" "$rate" "" "$r"
        done
      done
    done
  done
}
clip() { # clip FILE VOICE RATE PITCH R: $word spoken, shifted and noised
  # by R; PITCH empty: the voice's own
  shift_s=$(printf '0.%03d' $(( $5 % 250 )))
  noise=$(printf '0.%03d' $(( ($5 / 250) % 40 + 5 )))
  espeak-ng -v "$2" -s "$3" ${4:+-p "$4"} -w "$W/tmp.wav" "$word"
  sox -R -V1 "$W/tmp.wav" -r 16000 -c 1 -b 16 "$W/tmp16.wav" pad "$shift_s" 1 trim 0 1
  sox -R -V1 -n -r 16000 -c 1 -b 16 "$W/noise.wav" synth 1 whitenoise vol "$noise"
  sox -R -V1 -m "$W/tmp16.wav" "$W/noise.wav" -b 16 "$1" trim 0 1
}
newvoice() { # newvoice VOICE SEED: 16 clips per word, 4 in few/, 12 in rest/
  r=$2
  for word in $WORDS; do
    mkdir -p "$W/newvoice/few/$word" "$W/newvoice/rest/$word"
    for rate in 120 150 180 210; do
      for pitch in 20 40 60 80; do
        r=$(( (r * 1103515245 + 12345) % 2147483648 ))
        part=rest
        [ "$pitch" = 40 ] && part=few
        f="$W/newvoice/$part/$word/$rate-$pitch.wav"
        [ -f "$f" ] || clip "$f" "$1" "$rate" "$pitch" "$r"
      done
    done
  done
}
mkdir -p "$W"
echo "commands: speaking into $W (cached)"
speak "$W/train" "$TRAIN_VARIANTS" 1
speak "$W/test" "$TEST_VARIANTS" 2
newvoice es+m2 3
rm -f "$W/tmp.wav" "$W/tmp16.wav" "$W/noise.wav"

# subset N SEED: a manifest of N training clips per word, drawn by SEED
subset() {
  m="$W/curve/n$1-s$2.csv"
  mkdir -p "$W/curve"
  echo "path,label" >"$m"
  for word in $WORDS; do
    (cd "$W/train/$word" && ls) | awk -v n="$1" -v s="$2" -v w="$word" '
      BEGIN { r = s * 7919 + 1 }
      { r = (r * 16807) % 2147483647; print r, "../train/" w "/" $0 "," w }' |
      sort -n | head -n "$1" | cut -d' ' -f2- >>"$m"
  done
  echo "$m"
}

AUDIO="--frontend $M/melspectrogram.onnx --frontend-scale 0.1,2 --window 76 --hop 8 --pool mean"
TIME=
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %M -o $W/maxrss"
: >"$W/runs.tsv"
run() { # run NAME MODE CLIPS SEED DATA OPTIONS...
  name=$1 mode=$2 clips=$3 seed=$4 data=$5
  shift 5
  rm -f "$W/$name.jsonl" "$W/maxrss"
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  $TIME "$FROST" train "$M/embedding_model.onnx" "$data" --val "$W/test" $AUDIO \
    --batch 32 --seed "$seed" --log-json "$W/$name.jsonl" "$@" >"$W/$name.log" 2>&1 || {
    echo "commands: $name failed:"; cat "$W/$name.log"; exit 1; }
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc)
  rss=$(tail -n 1 "$W/maxrss" 2>/dev/null || echo 0)
  printf 'commands\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$clips" "$seed" "$secs" "$rss" \
    "$W/$name.jsonl" >>"$W/runs.tsv"
  best=$(sed -n 's/^kept epoch \([0-9]*\).*/\1/p' "$W/$name.log")
  acc=$(grep "^epoch $best/" "$W/$name.log" | sed 's/.*val loss [0-9.e+-]* acc \([0-9.]*%\).*/\1/')
  printf '%-16s unseen-voice accuracy %7s (best epoch %s)  %5.1f s in all\n' \
    "$name" "$acc" "$best" "$secs"
}
HEAD="--head linear:6 --epochs 40 --lr 1e-2"
# shellcheck disable=SC2086
run backbone backbone 96 1 "$W/train" $HEAD --plot "$W/backbone.svg"
# shellcheck disable=SC2086
run mel mel 96 1 "$W/train" --cut input_1 $HEAD --plot "$W/mel.svg"
for n in ${CURVE:-}; do
  for s in ${SEEDS:-1}; do
    m=$(subset "$n" "$s")
    # shellcheck disable=SC2086
    run "backbone-n$n-s$s" backbone "$n" "$s" "$m" $HEAD
    # shellcheck disable=SC2086
    run "mel-n$n-s$s" mel "$n" "$s" "$m" --cut input_1 $HEAD
  done
done
