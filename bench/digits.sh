#!/bin/sh
# digits.sh: transfer learning on rendered digits, the three ways frost
# offers, measured on fonts the training never saw.
#
#   bench/digits.sh [FROST] [WORKDIR]
#
# The data: the digits 0-9 rendered by ImageMagick (Debian's imagemagick)
# at 192x48, in 14 training fonts and 6 test fonts (the test fonts are
# unseen), 8 variants each (size and place along the line, seeded). The backbone is PaddleOCR's
# text-direction classifier (models/ch_ppocr_mobile_v2.0_cls_infer.onnx),
# which never saw digit classes.
#   1. raw:      a linear head on the raw pixels (--cut x: no backbone)
#   2. frozen:   a linear head on the frozen backbone's pooled features
#                (--cut at the global average pool, feature cache)
#   3. finetune: the same head, and the backbone's last block trained too
#                (--train-from the block's input)
# Prints each one's validation accuracy on the unseen fonts and its time.
# Each run leaves NAME.log, NAME.jsonl (--log-json), NAME.svg (--plot) and
# a row in runs.tsv: task mode clips seed seconds max-RSS-KB log
# planned-training-bytes (frost dump --stage train; bench/report.js).
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
FROST=${1:-$ROOT/build/frost}
W=${2:-$ROOT/build/digits}
M="$ROOT/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
[ -f "$M" ] || "$ROOT/scripts/fetch-models"
command -v convert >/dev/null 2>&1 && convert -version 2>/dev/null | grep -q ImageMagick ||
  apt-get install -y --no-install-recommends imagemagick fonts-liberation \
    fonts-freefont-ttf fonts-urw-base35 fonts-dejavu-core fonts-dejavu-extra
TRAIN_FONTS="DejaVu-Sans DejaVu-Serif DejaVu-Sans-Mono Liberation-Sans Liberation-Serif
Liberation-Mono FreeSans FreeSerif FreeMono Nimbus-Sans-Regular Nimbus-Roman-Regular Nimbus-Mono-PS-Regular
URW-Bookman-Light C059-Roman"
TEST_FONTS="DejaVu-Sans-Bold Liberation-Sans-Narrow P052-Roman URW-Gothic-Book
Nimbus-Sans-Narrow-Regular FreeSerif-Bold"

render() { # render DIR FONTS SEED: 8 variants per font and digit, the size
  # (24-42 points) and the offset (+-70 px across, +-4 down) drawn from SEED
  r=$3
  for font in $2; do
    for d in 0 1 2 3 4 5 6 7 8 9; do
      mkdir -p "$1/$d"
      v=0
      while [ $v -lt 8 ]; do
        r=$(( (r * 1103515245 + 12345) % 2147483648 ))
        size=$(( 24 + r % 19 ))
        x=$(( (r / 19) % 141 - 70 ))
        y=$(( (r / 2679) % 9 - 4 ))
        f="$1/$d/$font-$v.png"
        [ -f "$f" ] || convert -size 192x48 xc:white -font "$font" -pointsize "$size" \
          -fill black -gravity center -annotate "$(printf '%+d%+d' "$x" "$y")" "$d" \
          -type TrueColor "$f"
        v=$((v + 1))
      done
    done
  done
}
convert -list font | sed -n 's/^ *Font: //p' >"$W.fonts" 2>/dev/null || { mkdir -p "$W"; convert -list font | sed -n 's/^ *Font: //p' >"$W.fonts"; }
for font in $TRAIN_FONTS $TEST_FONTS; do
  grep -qx "$font" "$W.fonts" || { echo "digits: ImageMagick has no font $font"; exit 1; }
done
echo "digits: rendering into $W (cached)"
render "$W/train" "$TRAIN_FONTS" 1
render "$W/test" "$TEST_FONTS" 2

# The classifier's preprocessing: RGB scaled to [-1, 1].
DATA="--resize 48x192 --channels 3 --mean 0.5 --std 0.5 --batch 32 --seed 1"
TIME=
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %M -o $W/maxrss"
: >"$W/runs.tsv"
run() { # run NAME OPTIONS...
  name=$1
  shift
  rm -f "$W/$name.jsonl" "$W/$name.svg" "$W/maxrss"
  # the training memory frost plans (batch 32): the sum of dump's table
  planned=$("$FROST" dump "$M" --stage train --shape x=1x3x48x192 --batch 32 "$@" |
    awk '/^training memory/ { on = 1; next } on && !/^  / { on = 0 }
         on { for (i = 2; i <= NF; i++) if ($i == "bytes") { s += $(i - 1); break } }
         END { print s + 0 }')
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  $TIME "$FROST" train "$M" "$W/train" --val "$W/test" $DATA --log-json "$W/$name.jsonl" \
    --plot "$W/$name.svg" "$@" >"$W/$name.log" 2>&1 || {
    echo "digits: $name failed:"; cat "$W/$name.log"; exit 1; }
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc)
  rss=$(tail -n 1 "$W/maxrss" 2>/dev/null || echo 0)
  printf 'digits\t%s\t112\t1\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$rss" "$W/$name.jsonl" \
    "$planned" >>"$W/runs.tsv"
  best=$(sed -n 's/^kept epoch \([0-9]*\).*/\1/p' "$W/$name.log")
  acc=$(grep "^epoch $best/" "$W/$name.log" | sed 's/.*val loss [0-9.]* acc \([0-9.]*%\).*/\1/')
  ep=$(grep '^epoch' "$W/$name.log" | sed 's/.*  \([0-9.]*\) s$/\1/' | sort -n | sed -n '1p')
  printf '%-9s unseen-font accuracy %7s (best epoch %s)  %5.1f s in all, %s s per epoch, max RSS %s MB\n' \
    "$name" "$acc" "$best" "$secs" "$ep" "$((rss / 1024))"
}
run raw --cut x --head linear:10 --epochs 30 --lr 1e-3
run frozen --cut p2o.GlobalAveragePool.19 --head linear:10 --epochs 30 --lr 1e-2
run finetune --cut p2o.GlobalAveragePool.19 --head linear:10 --epochs 30 --lr 1e-2 \
  --train-from p2o.Add.83 --lr-backbone 1e-3
