#!/bin/sh
# mpi.sh: the figures of docs/distributed.md, frost on several processes
# of this machine (mpirun):
#   - feature extraction (frost extract) of SAMPLES images through the
#     ppocr classifier up to its pooled features: 1 rank of 1 thread, 2
#     ranks of 1 thread, and 1 rank of 2 threads when frost has --threads;
#   - a training epoch with 1 and 2 ranks: the head on those features
#     (each step's work tiny: the sum over the ranks dominates) and the
#     head without the cache (the frozen backbone runs every step).
# Each figure is the minimum over REPS runs (extraction) or the median
# epoch (training); wall is the whole command (MPI start-up, compiling
# the backbone, reading, extracting, writing), frost's the time it prints
# (from the data's listing to the last shard written), and the CPU time
# of the busiest rank what the wall time would be with a core per rank.
#
#   bench/mpi.sh [FROST] [WORKDIR] [REPS]     (SAMPLES=800, MPIRUN=mpirun)
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
FROST=${1:-$ROOT/build/frost}
W=${2:-$ROOT/build/mpi-bench}
REPS=${3:-5}
SAMPLES=${SAMPLES:-800}
MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PP="$ROOT/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
CUT=p2o.GlobalAveragePool.19
mkdir -p "$W"
D="$W/data-$SAMPLES"
[ -d "$D" ] || node "$ROOT/tests/cli/make-train-data.js" "$D" $((SAMPLES / 2)) 3,48,192

now() { date +%s.%N; }
# run_min LABEL NP ARGS...: frost ARGS on NP ranks (1: without mpirun),
# REPS times; prints the minimum wall time, the minimum of frost's own
# "in X s", and the minimum of the CPU time (user + system) of the
# busiest rank: the wall time of a machine with a free core per rank
# (on a shared machine the ranks wait for a core; Open MPI's ranks poll
# while they wait at a sum, which counts here too).
run_min() {
  label=$1
  np=$2
  shift 2
  best=999999
  own=999999
  cpu=999999
  i=0
  while [ $i -lt "$REPS" ]; do
    rm -rf "$W/feat" "$W/cpu"
    t0=$(now)
    if [ "$np" = 0 ]; then
      /usr/bin/time -a -o "$W/cpu" -f '%U %S' "$FROST" "$@" >"$W/log" 2>&1 || { cat "$W/log"; exit 1; }
    else
      "$MPIRUN" -q -np "$np" /usr/bin/time -a -o "$W/cpu" -f '%U %S' "$FROST" "$@" >"$W/log" 2>&1 ||
        { cat "$W/log"; exit 1; }
    fi
    t1=$(now)
    best=$(echo "$t0 $t1 $best" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
    s=$(sed -n 's/^features: .* in \([0-9.]*\) s.*/\1/p' "$W/log")
    own=$(echo "$s $own" | awk '{print ($1 < $2 ? $1 : $2)}')
    c=$(awk '{t = $1 + $2; if (t > m) m = t} END {print m}' "$W/cpu")
    cpu=$(echo "$c $cpu" | awk '{print ($1 < $2 ? $1 : $2)}')
    i=$((i + 1))
  done
  printf '| %s | %.2f | %.2f | %.2f |\n' "$label" "$best" "$own" "$cpu"
}

echo "## frost extract: $SAMPLES samples (3x48x192) through the ppocr classifier up to $CUT"
echo "(minimum of $REPS runs; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| processes | wall s | frost's s | CPU s of the busiest rank |"
echo "|---|---|---|---|"
E="extract $PP $D --cut $CUT -o $W/feat"
# one thread per rank where the row says so (frost's default is every
# processor the process may run on: under mpirun, the rank's core)
T1=
if ! "$FROST" help bench | grep -q -e '--threads.*only 1'; then T1="--threads 1"; fi
# shellcheck disable=SC2086
run_min "1 rank x 1 thread (no mpirun)" 0 $E $T1
# shellcheck disable=SC2086
run_min "1 rank x 1 thread (mpirun -np 1)" 1 $E $T1
# shellcheck disable=SC2086
run_min "2 ranks x 1 thread" 2 $E $T1
# (frost before the kernels' thread pool: --threads "only 1", T1 empty)
if [ -n "$T1" ]; then
  # shellcheck disable=SC2086
  run_min "1 rank x 2 threads" 0 $E --threads 2
else
  echo "| 1 rank x 2 threads | (pending: no --threads in this frost) | | |"
fi

# Training: the median epoch of a few.
# epochs LABEL NP ARGS...: the median of the epochs' seconds, and the CPU
# time of the busiest rank over the whole run.
epochs() {
  label=$1
  np=$2
  shift 2
  rm -f "$W/cpu" "$W/log.json"
  if [ "$np" = 1 ]; then
    /usr/bin/time -a -o "$W/cpu" -f '%U %S' "$FROST" train "$@" --log-json "$W/log.json" \
      >"$W/log" 2>&1 || { cat "$W/log"; exit 1; }
  else
    "$MPIRUN" -q -np "$np" /usr/bin/time -a -o "$W/cpu" -f '%U %S' "$FROST" train "$@" \
      --log-json "$W/log.json" >"$W/log" 2>&1 || { cat "$W/log"; exit 1; }
  fi
  med=$(sed -n 's/.*"seconds": *\([0-9.e+-]*\).*/\1/p' "$W/log.json" | sort -g |
        awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  steps=$(( (SAMPLES + 31) / 32 ))
  c=$(awk '{t = $1 + $2; if (t > m) m = t} END {print m}' "$W/cpu")
  printf '| %s | %.4f | %.0f | %.2f |\n' "$label" "$med" \
    "$(echo "$med $steps" | awk '{print $1 / $2 * 1e6}')" "$c"
}
rm -rf "$W/feat"
"$FROST" $E >/dev/null 2>&1
echo
echo "## training a linear head (batch 32, $SAMPLES samples)"
echo
echo "| run | median epoch s | per step us | CPU s of the busiest rank, whole run |"
echo "|---|---|---|---|"
H="--head linear:2 --batch 32 --lr 1e-2 --seed 1 $T1"
# shellcheck disable=SC2086
epochs "on the features, 20 epochs, 1 rank" 1 "$PP" --features "$W/feat" $H --epochs 20
# shellcheck disable=SC2086
epochs "on the features, 20 epochs, 2 ranks" 2 "$PP" --features "$W/feat" $H --epochs 20
# shellcheck disable=SC2086
epochs "--no-cache (backbone every step), 3 epochs, 1 rank" 1 "$PP" "$D" --cut $CUT $H --no-cache --epochs 3
# shellcheck disable=SC2086
epochs "--no-cache (backbone every step), 3 epochs, 2 ranks" 2 "$PP" "$D" --cut $CUT $H --no-cache --epochs 3
if [ -n "$T1" ]; then
  # shellcheck disable=SC2086
  epochs "--no-cache (backbone every step), 3 epochs, 1 rank x 2 threads" 1 "$PP" "$D" --cut $CUT $H --no-cache --epochs 3 --threads 2
fi
