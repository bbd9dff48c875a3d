#!/bin/sh
# check.sh FROST ENGINE: trains every case of tests/oracle/train with frost
# (the case's optimizer, batches and steps, read from its ref.json) and
# compares every trainable parameter after the last step with PyTorch's
# (stepK/), rtol 1e-4. The references come from make-train-refs.py.
# ENGINE: interp or jit (frost train --engine), or artifact (frost compile
# --train with the same options, then the executable's train command).
set -eu
FROST=$1
ENGINE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
fail=0
n=0
for dir in "$HERE"/*/; do
  [ -f "$dir/ref.json" ] || continue
  case=$(basename "$dir")
  # The frost options the reference was made with.
  args=$(node -e '
    const r = require(process.argv[1]);
    const o = r.optimizer, a = [];
    a.push("--optimizer", o.name, "--lr", String(o.lr));
    if (o.name === "sgd") {
      a.push("--momentum", String(o.momentum), "--weight-decay", String(o.weight_decay));
      if (o.nesterov) a.push("--nesterov");
    } else {
      a.push("--beta1", String(o.betas[0]), "--beta2", String(o.betas[1]),
             "--eps", String(o.eps), "--weight-decay", String(o.weight_decay));
    }
    if (r.clip_grad_norm) a.push("--clip-norm", String(r.clip_grad_norm.max_norm));
    if (r.class_weights) a.push("--class-weights", r.class_weights.join(","));
    if (r.label_smoothing) a.push("--label-smoothing", String(r.label_smoothing));
    if (r.bn_train) a.push("--bn-train");
    if (r.schedule) a.push("--schedule", r.schedule.name, "--warmup", String(r.schedule.warmup));
    // --ssl: the data are mirror-symmetric, so --hflip makes equal views
    if (r.ssl) a.push("--ssl", "--hflip", "--temperature", String(r.ssl.temperature));
    a.push("--trainable", r.trainable_regex || ".*");
    a.push("--batch", String(r.batch_size), "--max-steps", String(r.steps));
    console.log(a.join(" ") + "|" + r.steps + "|" + r.trainable.concat(r.statistics || []).join(" "));
  ' "$dir/ref.json")
  opts=${args%%|*}
  rest=${args#*|}
  steps=${rest%%|*}
  names=${rest#*|}
  # artifacts do not compile --ssl (frost compile --train refuses it)
  if [ "$ENGINE" = artifact ] && [ -n "$(node -e 'if (require(process.argv[1]).ssl) console.log(1)' "$dir/ref.json")" ]; then
    echo "skip $case (--ssl: not in artifacts)"; continue
  fi
  n=$((n + 1))
  node "$HERE/make-model.js" "$dir" "$OUT/$case.onnx"
  set -f # the options hold regular expressions
  if [ "$ENGINE" = artifact ]; then
    # shellcheck disable=SC2086
    if ! { "$FROST" compile "$OUT/$case.onnx" --train --no-shuffle --epochs 1000 $opts \
             -o "$OUT/$case.art" && "$OUT/$case.art" train "$dir/data/manifest.csv" \
             -o "$OUT/$case.w"; } > "$OUT/$case.log" 2>&1; then
      set +f
      echo "FAIL $case: the artifact failed:"; cat "$OUT/$case.log"; fail=$((fail + 1)); continue
    fi
    ln -s "$OUT/$case.w/current/params" "$OUT/$case"
  # shellcheck disable=SC2086
  elif ! "$FROST" train "$OUT/$case.onnx" "$dir/data/manifest.csv" --engine "$ENGINE" \
      --no-shuffle --epochs 1000 $opts --save-params "$OUT/$case" > "$OUT/$case.log" 2>&1; then
    set +f
    echo "FAIL $case: frost train failed:"; cat "$OUT/$case.log"; fail=$((fail + 1)); continue
  fi
  set +f
  bad=$fail
  for p in $names; do
    f=$(echo "$p" | sed 's/[^A-Za-z0-9._-]/_/g').npy
    if ! "$FROST" compare "$OUT/$case/$f" "$dir/step$steps/$f" --rtol 1e-4 --atol 1e-6 \
        > "$OUT/cmp" 2>&1; then
      echo "FAIL $case: $p after $steps steps: $(cat "$OUT/cmp")"; fail=$((fail + 1))
    fi
  done
  [ "$fail" -eq "$bad" ] && echo "ok $case ($steps steps, $ENGINE)"
done
[ "$n" -gt 0 ] || { echo "no cases in $HERE"; exit 1; }
[ "$fail" -eq 0 ]
