#!/bin/sh
# mpi.sh: frost under mpirun (docs/distributed.md), on a linear head over
# the frozen embedding model and a generated two-class data set:
#   - 1, 2 and 4 ranks train to the same weights (float rounding of the
#     sum over ranks: rtol 1e-5), 2 ranks twice to the same bytes; also
#     without the feature cache and with augmentation (--noise), where
#     each rank runs the backbone on its share of every batch;
#   - rank 0 alone writes: one log, one --log-json, one model;
#   - frost extract on 2 ranks, then train --features on 1 and 3 ranks:
#     the weights of training with the cache;
#   - a file that one rank cannot read: one error line naming the rank and
#     the file, exit 1, no output left;
#   - a rank killed mid-training: the job ends within seconds, mpirun says
#     so, the checkpoint is whole and the run resumes on 1 rank (and a
#     run of 1 resumes on 2) to the weights of a run that never stopped.
#
#   tests/cli/mpi.sh FROST MPIRUN
# shellcheck disable=SC2086 # $A, $K, $B: the options of a run, split
set -u
FROST=$1
MPIRUN=$2
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"
EMB="$ROOT/models/embedding_model.onnx"
[ -f "$EMB" ] || { echo "mpi.sh: models/ missing: run scripts/fetch-models"; exit 1; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# As root (CI), mpirun wants these; more ranks than cores needs
# --oversubscribe; -q keeps mpirun's notes out of frost's one error line.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The sanitizer build: Open MPI's own allocations at exit are not frost's.
if ldd "$FROST" 2>/dev/null | grep -q libasan; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
TIME_LIMIT=60
mpi() { np=$1; shift; bounded "$MPIRUN" -q --oversubscribe -np "$np" "$FROST" "$@"; }
# same A B: every parameter of A's folder in B's, within rtol 1e-5.
same() {
  for f in "$1"/*.npy; do
    "$FROST" compare "$2/$(basename "$f")" "$f" --rtol 1e-5 --atol 1e-6 >"$T/cmp" 2>&1 || return 1
  done
  [ -n "$(ls "$1")" ]
}
# identical A B: the same bytes.
identical() {
  for f in "$1"/*.npy; do cmp -s "$f" "$2/$(basename "$f")" || return 1; done
  [ -n "$(ls "$1")" ]
}
# case NAME COND...: one case, passing when COND succeeds; else LOG shown.
case_ok() {
  name=$1
  shift
  count=$((count + 1))
  if "$@"; then echo "ok   $name"; else fail "$name:"; cat "$T/log" "$T/cmp" 2>/dev/null | head -40; fi
}
# mpi_error NAME PATTERN NP ARGS...: exit 1 and one line on stderr,
# "frost: error: " then PATTERN; nothing left in $T/out.
mpi_error() {
  name=$1
  pattern=$2
  np=$3
  shift 3
  count=$((count + 1))
  rm -rf "$T/out"
  mpi "$np" "$@" >"$T/stdout" 2>"$T/stderr"
  rc=$?
  if [ "$rc" -ne 1 ] || [ "$(wc -l <"$T/stderr")" -ne 1 ] ||
     ! grep -q "^frost: error: $pattern" "$T/stderr"; then
    echo "FAIL $name: rc=$rc, expected /$pattern/, stderr:"
    head -c 2000 "$T/stderr"
    fails=$((fails + 1))
  elif no_leftovers "$name"; then
    echo "ok   $name: $(cut -c1-160 "$T/stderr")"
  fi
}

node "$ROOT/tests/cli/make-train-data.js" "$T/data" 24 76,32,1
A="--head linear:2 --val-split 0.25 --epochs 6 --lr 1e-2 --batch 8 --seed 1"

# 1. The feature cache: 1, 2 and 4 ranks (the last short batch of 4
# samples leaves ranks 2 and 3 of 4 without one).
"$FROST" train "$EMB" "$T/data" $A --save-params "$T/p1" >"$T/log1" 2>&1
mpi 2 train "$EMB" "$T/data" $A --save-params "$T/p2" -o "$T/m2.onnx" \
  --log-json "$T/j2.json" >"$T/log" 2>&1
case_ok "2 ranks: the weights of 1 process" same "$T/p1" "$T/p2"
case_ok "2 ranks: rank 0 alone writes (one cache line, 6 epochs, one model)" \
  sh -c "[ \$(grep -c '^feature cache: 48 samples .* on 2 ranks' '$T/log') = 1 ] &&
         [ \$(grep -c '^epoch ' '$T/log') = 6 ] && [ \$(wc -l <'$T/j2.json') = 6 ] &&
         [ \$(grep -c '^wrote ' '$T/log') = 1 ] && [ -s '$T/m2.onnx' ]"
mpi 2 train "$EMB" "$T/data" $A --save-params "$T/p2b" >"$T/log" 2>&1
case_ok "2 ranks twice: the same bytes" identical "$T/p2" "$T/p2b"
mpi 4 train "$EMB" "$T/data" $A --save-params "$T/p4" >"$T/log" 2>&1
case_ok "4 ranks: the weights of 1 process" same "$T/p1" "$T/p4"

# 2. Without the cache, and augmented: each rank runs the backbone on its
# share; the noise is drawn for the whole batch on every rank.
"$FROST" train "$EMB" "$T/data" $A --no-cache --noise 0.05 --save-params "$T/n1" >"$T/log" 2>&1
mpi 2 train "$EMB" "$T/data" $A --no-cache --noise 0.05 --save-params "$T/n2" >"$T/log" 2>&1
case_ok "2 ranks, --no-cache --noise: the weights of 1 process" same "$T/n1" "$T/n2"

# 3. frost extract on 2 ranks; train --features on 1 and 3.
mpi 2 extract "$EMB" "$T/data" --cut conv2d_19 -o "$T/feat" >"$T/log" 2>&1
case_ok "extract on 2 ranks: 2 shards, labels, the manifest" \
  sh -c "[ -f '$T/feat/shard-00000.npy' ] && [ -f '$T/feat/shard-00001.npy' ] &&
         [ -f '$T/feat/labels.npy' ] && grep -q '\"samples\": 48' '$T/feat/features.json'"
"$FROST" train "$EMB" --features "$T/feat" $A --save-params "$T/f1" >"$T/log" 2>&1
case_ok "train --features (1 process): the weights of the cache" same "$T/p1" "$T/f1"
mpi 3 train "$EMB" --features "$T/feat" $A --save-params "$T/f3" >"$T/log" 2>&1
case_ok "train --features on 3 ranks (2 shards): the weights of the cache" same "$T/p1" "$T/f3"

# 4. Errors: one line, the rank and the file. Samples 24-47 (c1/) are
# rank 1's block of 2; sample 0 every rank reads (the samples' shape).
cp -r "$T/data" "$T/bad"
head -c 100 "$T/data/c1/s005.npy" >"$T/bad/c1/s005.npy"
mpi_error "train: rank 1 cannot read a sample" "rank 1: .*/bad/c1/s005.npy: " \
  2 train "$EMB" "$T/bad" --head linear:2 --epochs 1 --batch 8 -o "$T/out/m.onnx"
mpi_error "train --no-cache: rank 1 cannot read a sample" "rank 1: .*/bad/c1/s005.npy: " \
  2 train "$EMB" "$T/bad" --head linear:2 --epochs 1 --batch 8 --no-cache
mpi_error "extract: rank 1 cannot read a sample" "rank 1: .*/bad/c1/s005.npy: " \
  2 extract "$EMB" "$T/bad" --cut conv2d_19 -o "$T/out"
cp -r "$T/feat" "$T/badfeat"
head -c 100 "$T/feat/shard-00001.npy" >"$T/badfeat/shard-00001.npy"
mpi_error "train --features: rank 1 cannot read its shard" "rank 1: .*/badfeat/shard-00001.npy: " \
  2 train "$EMB" --features "$T/badfeat" --head linear:2 --epochs 1
mpi_error "every rank fails alike: no rank named" "/.*/nothere: cannot open" \
  2 train "$EMB" "$T/nothere" --head linear:2
mpi_error "--bn-train on 2 ranks" "--bn-train: .*not on 2 ranks" \
  2 train "$EMB" "$T/data" --head linear:2 --bn-train --trainable .
mpi_error "--ssl on 2 ranks" "--ssl .*not on 2 ranks" \
  2 train "$EMB" "$T/data" --head linear:2 --ssl --noise 0.1
node "$ROOT/tests/cli/make-multitask-data.js" "$T/mt" 8
mpi_error "several heads on 2 ranks" "several heads: not on 2 ranks" \
  2 train "$EMB" "$T/mt/tasks.csv" --head time:linear:2 --head band:linear:3
mpi_error "--features: another model's" ".*/feat: features of another model" \
  2 train "$ROOT/models/alexa_v0.1.onnx" --features "$T/feat" --head linear:2

# 5. A rank killed mid-training: the job runs the backbone every step
# (--no-cache: a few seconds); the runs compared with it use the cache
# (the same weights, faster).
K="--head linear:2 --epochs 40 --lr 1e-2 --batch 8 --seed 1"
"$FROST" train "$EMB" "$T/data" $K --save-params "$T/k1" >/dev/null 2>&1
"$MPIRUN" --oversubscribe -np 2 "$FROST" train "$EMB" "$T/data" $K --no-cache \
  --checkpoint-dir "$T/ck" >"$T/klog" 2>"$T/kerr" &
job=$!
w=0 # up to 30 s for the first checkpoint
while [ ! -f "$T/ck/current/state.json" ] && [ $w -lt 300 ] && kill -0 $job 2>/dev/null; do
  sleep 0.1
  w=$((w + 1))
done
r1=
for p in $(pgrep -P $job); do
  grep -qz '^OMPI_COMM_WORLD_RANK=1$' "/proc/$p/environ" 2>/dev/null && r1=$p
done
start=$(date +%s)
[ -n "$r1" ] && kill -9 "$r1"
w=0 # the job must end within 10 s
while kill -0 $job 2>/dev/null && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
kill -0 $job 2>/dev/null && kill -9 $job
wait $job
rc=$?
took=$(($(date +%s) - start))
count=$((count + 1))
if [ -n "$r1" ] && [ $rc -ne 0 ] && [ $w -lt 100 ] && grep -q 'rank 1 .*signal 9' "$T/kerr" &&
   ! grep -q '^epoch 40/40' "$T/klog"; then
  echo "ok   a killed rank: the job ended in ${took} s, mpirun reported it"
else
  fail "killed rank: rank 1 pid '$r1', rc $rc, ${took} s:"; cat "$T/kerr" "$T/klog" | head -30
fi
"$FROST" train "$EMB" "$T/data" $K --checkpoint-dir "$T/ck" --resume --save-params "$T/kr" >"$T/log" 2>&1
case_ok "killed rank: the checkpoint resumes on 1 rank to the weights of a run that never stopped" \
  sh -c "grep -q '^resumed from .*: epoch [1-9]' '$T/log' && grep -q '^epoch 40/40' '$T/log'" &&
  case_ok "killed rank: resumed weights" same "$T/k1" "$T/kr"
# And the other way: 3 epochs on 1 process, resumed on 2 ranks.
B="--head linear:2 --val-split 0.25 --lr 1e-2 --batch 8 --seed 1"
"$FROST" train "$EMB" "$T/data" $B --epochs 3 --checkpoint-dir "$T/ck2" >/dev/null 2>&1
mpi 2 train "$EMB" "$T/data" $B --epochs 6 --checkpoint-dir "$T/ck2" --resume --save-params "$T/r2" >"$T/log" 2>&1
case_ok "1 process, resumed on 2 ranks: the weights of 1 process" \
  sh -c "grep -q '^resumed from .*: epoch 3, step 15' '$T/log'" && case_ok "resumed on 2 ranks: weights" same "$T/p1" "$T/r2"

expect_done "MPI cases behave"
