#!/bin/sh
# transfer.sh: the figures of docs/transfer-learning.md, each beside its
# no-backbone baseline on the same split, on the data bench/commands.sh
# and bench/digits.sh generate (spoken commands by espeak-ng, digits by
# ImageMagick; both cached):
#   - few-shot: 6-way 1-shot and 5-shot episodes on the spoken commands of
#     unseen voices (frost fewshot --frontend), backbone vs mel windows;
#   - clustering: k-means (k 10) on the unseen-font digits, the frozen
#     classifier's pooled features vs raw pixels (frost cluster);
#   - domain adaptation: a head trained on the digits (feature cache),
#     evaluated on the unseen fonts inverted (white on black): with the
#     backbone's own statistics, with the training digits' (train
#     --adapt), and after frost adapt-bn on the unlabelled inverted images;
#   - zero-shot: the text-direction classifier as it is, on the unseen
#     digits upright and turned 180 degrees (frost eval --label-map);
#   - self-supervised adaptation: the classifier's last block trained by
#     frost train --ssl on the training digits without their labels, then
#     a linear head on 2 labelled digits per class, beside the head alone
#     on the same labels and a head on the pixels (5 draws of the labels);
#     and the same adaptation on the unlabelled test digits (transductive).
#   - multi-task: the spoken commands' word and the speaker's accent, each
#     task's accuracy on the unseen voices with one head per task (two
#     runs) and with two heads in one run, on mel windows alone (no
#     backbone), on the frozen backbone, and with its last convolution
#     trained (shared by the two heads); mean and 95% interval over SEEDS
#     (default 1 2 3 4 5).
#
#   bench/transfer.sh [FROST] [WORKDIR]
#   ONLY=multitask bench/transfer.sh ...    that section alone
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
FROST=${1:-$ROOT/build/frost}
W=${2:-$ROOT/build}
M="$ROOT/models"
# The data (and the benches' own figures).
sh "$ROOT/bench/commands.sh" "$FROST" "$W/commands" >/dev/null
[ "${ONLY:-}" = multitask ] || sh "$ROOT/bench/digits.sh" "$FROST" "$W/digits" >/dev/null
T="$W/transfer"
mkdir -p "$T"
EMB="$M/embedding_model.onnx"
PP="$M/ch_ppocr_mobile_v2.0_cls_infer.onnx"
AUDIO="--frontend $M/melspectrogram.onnx --frontend-scale 0.1,2 --window 76 --hop 8 --pool mean"
IMG="--resize 48x192 --channels 3 --mean 0.5 --std 0.5 --batch 32 --seed 1"
PCUT=p2o.GlobalAveragePool.19

if [ "${ONLY:-}" != multitask ]; then
echo "## few-shot: 6 spoken commands, unseen voices, 200 episodes"
for k in 1 5; do
  for what in backbone mel; do
    cut=
    [ $what = mel ] && cut="--cut input_1" # the backbone's input: no backbone
    # shellcheck disable=SC2086
    r=$("$FROST" fewshot "$EMB" "$W/commands/test" $AUDIO $cut --episodes 200 \
          --shots $k --queries 10 --batch 32 --seed 1 | tail -1)
    printf '%-9s %s\n' "$what" "$r"
  done
done

echo "## few-shot --finetune: K clips per command of the unseen voices as support, the rest as queries"
# 5 draws of the support; the prototype classifier, then its head trained
# on the support (30 epochs), each measured on the same queries.
for k in 1 5; do
  for s in 1 2 3 4 5; do
    rm -rf "$T/fs-sup" "$T/fs-q"
    for c in $(ls "$W/commands/test"); do
      mkdir -p "$T/fs-sup/$c" "$T/fs-q/$c"
      # shellcheck disable=SC2012
      ls "$W/commands/test/$c" | awk -v s="$s" 'BEGIN { srand(s) } { print rand() "\t" $0 }' |
        sort | cut -f2 >"$T/fs-order"
      head -n "$k" "$T/fs-order" | while read -r f; do cp "$W/commands/test/$c/$f" "$T/fs-sup/$c/"; done
      tail -n +$((k + 1)) "$T/fs-order" | while read -r f; do cp "$W/commands/test/$c/$f" "$T/fs-q/$c/"; done
    done
    # shellcheck disable=SC2086
    "$FROST" fewshot "$EMB" --support "$T/fs-sup" --query "$T/fs-q" $AUDIO --batch 32 \
      --finetune --epochs 30 --lr 1e-3 --seed 1 -o "$T/fs-ft.onnx" >"$T/fs-ft.log" 2>&1
    printf '%s-shot prototypes %s\n' $k "$(sed -n 's/.*(cosine): accuracy \([0-9.]*\)%.*/\1/p' "$T/fs-ft.log")"
    printf '%s-shot finetuned %s\n' $k "$(sed -n 's/^after fine-tuning: accuracy \([0-9.]*\)%.*/\1/p' "$T/fs-ft.log")"
  done
done >"$T/fs-ft.txt"
awk '{ m = $1 " " $2; n[m]++; s[m] += $3; q[m] += $3 * $3 }
  END { for (m in n) { mu = s[m] / n[m]; sd = sqrt((q[m] - n[m] * mu * mu) / (n[m] - 1));
        printf "%-21s %5.1f%% +- %.1f (95%% interval, %d draws)\n", m, mu, 2.776 * sd / sqrt(n[m]), n[m] } }' \
  "$T/fs-ft.txt" | sort

echo "## clustering: digits of unseen fonts, k-means k=10"
for cut in $PCUT x; do
  # shellcheck disable=SC2086
  r=$("$FROST" cluster "$PP" "$W/digits/test" --cut $cut --k 10 $IMG | tail -1)
  printf '%-24s %s\n' "$cut" "$r"
done

echo "## domain adaptation: digits of unseen fonts, inverted"
if [ ! -d "$T/inverted" ]; then
  for d in 0 1 2 3 4 5 6 7 8 9; do
    mkdir -p "$T/inverted/$d"
    for f in "$W/digits/test/$d"/*.png; do
      convert "$f" -negate "$T/inverted/$d/$(basename "$f")"
    done
  done
fi
acc() { sed -n 's/^accuracy: \([0-9.]*%\).*/\1/p'; }
# As trained: the backbone's own statistics (those of PaddleOCR's data).
# shellcheck disable=SC2086
"$FROST" train "$PP" "$W/digits/train" --cut $PCUT --head linear:10 --epochs 30 \
  --lr 1e-2 $IMG -o "$T/digits.onnx" >"$T/digits.log" 2>&1
# AdaBN's protocol: the head learns on the backbone's statistics of its
# own (source) data (--adapt), and at deployment the statistics become the
# target data's (adapt-bn on the unlabelled inverted images).
# shellcheck disable=SC2086
"$FROST" train "$PP" "$W/digits/train" --adapt "$W/digits/train" --cut $PCUT \
  --head linear:10 --epochs 30 --lr 1e-2 $IMG -o "$T/digits-src.onnx" >"$T/digits-src.log" 2>&1
# shellcheck disable=SC2086
"$FROST" adapt-bn "$T/digits-src.onnx" "$T/inverted" $IMG -o "$T/digits-tgt.onnx" >/dev/null
for m in digits digits-src digits-tgt; do
  # shellcheck disable=SC2086
  printf '%-11s upright %7s   inverted %7s\n' "$m" \
    "$("$FROST" eval "$T/$m.onnx" "$W/digits/test" $IMG | acc)" \
    "$("$FROST" eval "$T/$m.onnx" "$T/inverted" $IMG | acc)"
done

echo "## zero-shot: the text-direction classifier on digits upright and turned"
if [ ! -d "$T/direction" ]; then
  mkdir -p "$T/direction/0-up" "$T/direction/1-down"
  for f in "$W/digits/test"/*/*.png; do
    n=$(basename "$(dirname "$f")")-$(basename "$f")
    cp "$f" "$T/direction/0-up/$n"
    convert "$f" -rotate 180 "$T/direction/1-down/$n"
  done
fi
printf 'class,output\n0-up,0\n1-down,1\n' >"$T/direction.csv"
# shellcheck disable=SC2086
"$FROST" eval "$PP" "$T/direction" --label-map "$T/direction.csv" $IMG --shape x=1x3x48x192 |
  grep -E '^accuracy|^  [01]-'

echo "## self-supervised adaptation: the last block on unlabelled digits, then 2 labels per class"
# Two adaptations: 15 epochs of InfoNCE on the 1120 training images (ssl),
# or on the 480 test images (ssl-test: transductive), labels unread; two
# views of 32 images per step.
for set in train test; do
  out=ssl
  [ $set = test ] && out=ssl-test
  if [ ! -f "$T/$out.onnx" ]; then
    # shellcheck disable=SC2086
    "$FROST" train "$PP" "$W/digits/$set" --ssl --train-from p2o.Add.83 --cut $PCUT \
      --head mlp:128,64 --crop-pad 8 --rotate 8 --scale 0.85,1.1 --noise 0.05 \
      --epochs 15 --lr 1e-3 $IMG -o "$T/$out.onnx" >"$T/$out.log" 2>&1
  fi
  echo "$out: $(grep '^epoch' "$T/$out.log" | sed -n '1p;$p' | tr '\n' ' ')"
done
# Draw s: 2 images per class of the training digits (seeded).
few() {
  rm -rf "$T/few$1"
  for d in 0 1 2 3 4 5 6 7 8 9; do
    mkdir -p "$T/few$1/$d"
    # shellcheck disable=SC2012
    ls "$W/digits/train/$d" | awk -v s="$1" 'BEGIN { srand(s) } { print rand() "\t" $0 }' |
      sort | head -2 | cut -f2 | while read -r f; do cp "$W/digits/train/$d/$f" "$T/few$1/$d/"; done
  done
}
for s in 1 2 3 4 5; do
  few $s
  for what in pixels head ssl ssl-test; do
    m=$PP cut=$PCUT
    [ $what = pixels ] && cut=x
    [ $what = ssl ] || [ $what = ssl-test ] && m="$T/$what.onnx"
    # shellcheck disable=SC2086
    "$FROST" train "$m" "$T/few$s" --cut $cut --head linear:10 --epochs 60 --lr 1e-2 \
      $IMG -o "$T/few-$what.onnx" >"$T/few-$what.log" 2>&1
    # shellcheck disable=SC2086
    printf '%s %s\n' $what "$("$FROST" eval "$T/few-$what.onnx" "$W/digits/test" $IMG | acc)"
  done
done >"$T/few.txt"
# mean and 95% interval (Student's t, 4 degrees of freedom) per method
awk '{ sub("%", "", $2); n[$1]++; s[$1] += $2; q[$1] += $2 * $2 }
  END { for (m in n) { mu = s[m] / n[m]; sd = sqrt((q[m] - n[m] * mu * mu) / (n[m] - 1));
        printf "%-7s %5.1f%% +- %.1f (95%% interval, %d draws)\n", m, mu, 2.776 * sd / sqrt(n[m]), n[m] } }' \
  "$T/few.txt" | sort
fi

echo "## multi-task: word and accent of the spoken commands, unseen voices"
# The manifests: path,word,accent (the accent: the file name without its
# voice variant and rate, en-gb-scotland-m7-140.wav: en-gb-scotland).
for set in train test; do
  {
    echo "path,word,accent"
    for f in "$W/commands/$set"/*/*.wav; do
      b=$(basename "$f" .wav)
      echo "$f,$(basename "$(dirname "$f")"),${b%-*-*}"
    done
  } >"$T/$set-tasks.csv"
done
TRAINED="--train-from model/conv2d_19/Conv2D --lr-backbone 1e-3"
# task_acc LOG TASK: the task's validation accuracy at the kept epoch
task_acc() {
  best=$(sed -n 's/^kept epoch \([0-9]*\).*/\1/p' "$1")
  grep "^epoch $best/" "$1" | sed -n "s/.* | $2: [^|]*val loss [0-9.e+-]* acc \([0-9.]*\)%.*/\1/p"
}
: >"$T/multitask.tsv"
: >"$T/multitask-time.tsv"
for seed in ${SEEDS:-1 2 3 4 5}; do
  for base in mel backbone trained; do
    case $base in
      mel) extra="--cut input_1" ;; # the backbone's input: no backbone
      backbone) extra= ;;
      trained) extra=$TRAINED ;;
    esac
    for heads in word accent both; do
      case $heads in
        word) h="--head word:linear:6" ;;
        accent) h="--head accent:linear:6" ;;
        both) h="--head word:linear:6 --head accent:linear:6" ;;
      esac
      log="$T/mt-$base-$heads-s$seed.log"
      t0=$(date +%s.%N)
      # shellcheck disable=SC2086
      "$FROST" train "$EMB" "$T/train-tasks.csv" --val "$T/test-tasks.csv" $AUDIO $extra $h \
        --epochs 40 --lr 1e-2 --batch 32 --seed "$seed" >"$log" 2>&1
      printf '%s\t%s\t%s\n' "$base" "$heads" "$(echo "$(date +%s.%N) - $t0" | bc)" >>"$T/multitask-time.tsv"
      for task in word accent; do
        a=$(task_acc "$log" $task)
        if [ -n "$a" ]; then
          printf '%s\t%s\t%s\t%s\n' "$base" "$heads" "$task" "$a" >>"$T/multitask.tsv"
        fi
      done
    done
  done
done
# mean and 95% interval (Student's t) of each row, seeds pooled
awk -F'\t' '
  { k = $1 "\t" ($2 == "both" ? "two heads" : "one head") "\t" $3; n[k]++; s[k] += $4; q[k] += $4 * $4
    if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
  END {
    split("12.71 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262", t, " ")
    for (i = 1; i <= m; i++) {
      k = order[i]; mean = s[k] / n[k]
      var = n[k] > 1 ? (q[k] - n[k] * mean * mean) / (n[k] - 1) : 0
      ci = n[k] > 1 ? (n[k] - 1 <= 9 ? t[n[k] - 1] : 1.96) * sqrt(var > 0 ? var : 0) / sqrt(n[k]) : 0
      split(k, f, "\t")
      printf "%-9s %-10s %-7s %5.1f%% +- %.1f (%d seeds)\n", f[1], f[2], f[3], mean, ci, n[k]
    }
  }' "$T/multitask.tsv"
echo "## multi-task: seconds a run (front end, backbone, 40 epochs)"
awk -F'\t' '{ k = $1 " " $2; n[k]++; s[k] += $3; if (!(k in o)) o[k] = ++m; key[m] = k }
  END { for (i = 1; i <= m; i++) printf "%-20s %6.1f s\n", key[i], s[key[i]] / n[key[i]] }' \
  "$T/multitask-time.tsv"
