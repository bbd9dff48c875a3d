#!/bin/sh
# code-cache.sh: the JIT's code cache (compiler/llvm/cache.c), through the
# frost command. Every case uses a cache folder of its own under a temporary
# folder, never ~/.cache/frost.
#   - a second run loads the code (--time-passes says "code cache: hit")
#     and gives the same output bytes as the first and as --no-code-cache;
#   - another input shape, another op (Relu made Tanh), another target CPU:
#     a miss, and the right outputs;
#   - other weights with the same graph: the code is reused (the weights
#     are read through a pointer table, not compiled in) and the outputs
#     are the new model's; another small constant (compiled in): a miss;
#   - an entry with flipped bytes, a truncated one, one of another key:
#     a note, the right outputs, and the entry written again;
#   - a cache folder that cannot be created: a note, the right outputs;
#   - --no-code-cache and --no-specialize write nothing; the folder falls
#     back to $XDG_CACHE_HOME/frost, then ~/.cache/frost;
#   - bench and train use the cache;
#   - shared kernel code (compiler/llvm/shared.c): the generic GEMM the
#     model needs is compiled once into DIR/shared and loaded on a hit and
#     by another model; a damaged or missing shared entry is compiled
#     again with the right outputs; an artifact links it from the cache
#     and computes what one compiled without the cache does.
#
#   tests/cli/code-cache.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"
unset XDG_CACHE_HOME

# ok NAME COND...: one case, passing when the command COND succeeds.
ok() {
  name=$1
  shift
  count=$((count + 1))
  if "$@"; then
    echo "ok   $name"
  else
    echo "FAIL $name"
    fails=$((fails + 1))
  fi
}
has() { grep -q -e "$2" "$1"; }
lacks() { ! grep -q -e "$2" "$1"; }
# entries DIR: the models' entries; shared DIR: the shared kernel code's.
entries() { find "$1" -maxdepth 1 -name '*.o' 2>/dev/null | wc -l; }
shared() { find "$1/shared" -name '*.o' 2>/dev/null | wc -l; }

# The MLP of the PyTorch training oracle (Gemm, Relu, Gemm; batch
# symbolic), its copy with Tanh for Relu, its copy with other weights.
O="$ROOT/tests/oracle/train/mlp_sgd"
cp -r "$O" "$T/mlp"
node "$O/../make-model.js" "$T/mlp" "$T/mlp.onnx"
sed 's/"op": "Relu"/"op": "Tanh"/' "$O/model.json" >"$T/mlp/model.json"
node "$O/../make-model.js" "$T/mlp" "$T/tanh.onnx"
cp "$O/model.json" "$T/mlp/model.json"
# scale FILE.npy K: every float of a .npy file times K.
scale() {
  node -e '
const fs = require("fs"), f = process.argv[1], k = Number(process.argv[2]);
const b = fs.readFileSync(f);
for (let i = 10 + b.readUInt16LE(8); i < b.length; i += 4) b.writeFloatLE(b.readFloatLE(i) * k, i);
fs.writeFileSync(f, b);' "$1" "$2"
}
# Other weights: the last layer's (3x16 floats, read through the pointer
# table), then its bias too (3 floats: small constants are compiled in).
scale "$T/mlp/init/fc2.weight.npy" 2
node "$O/../make-model.js" "$T/mlp" "$T/weights.onnx"
scale "$T/mlp/init/fc2.bias.npy" 2
node "$O/../make-model.js" "$T/mlp" "$T/bias.onnx"
ok "the models differ" sh -c "! cmp -s '$T/mlp.onnx' '$T/weights.onnx' && ! cmp -s '$T/mlp.onnx' '$T/tanh.onnx' && ! cmp -s '$T/weights.onnx' '$T/bias.onnx'"
# Inputs of 4 and 2 samples.
node "$ROOT/tests/cli/make-train-data.js" "$T/x4" 1 4,8
node "$ROOT/tests/cli/make-train-data.js" "$T/x2" 1 2,8
X4="$T/x4/c0/s000.npy"
X2="$T/x2/c0/s000.npy"

# run NAME CACHE MODEL INPUT [options]: frost run --time-passes into
# $T/NAME.out (stdout), $T/NAME.err and the output $T/NAME.npy, with
# FROST_CACHE_DIR=CACHE; fails the case when frost fails.
run() {
  r_name=$1
  r_cache=$2
  r_model=$3
  r_in=$4
  shift 4
  rm -rf "$T/o"
  if FROST_CACHE_DIR=$r_cache "$FROST" run "$r_model" --input "x=$r_in" \
       --output-dir "$T/o" --time-passes "$@" >"$T/$r_name.out" 2>"$T/$r_name.err"; then
    cp "$T/o/logits.npy" "$T/$r_name.npy"
  else
    echo "FAIL $r_name: frost run failed: $(head -c 1000 "$T/$r_name.err")"
    fails=$((fails + 1))
    count=$((count + 1))
  fi
}
same() { cmp -s "$T/$1.npy" "$T/$2.npy"; }

C="$T/cache"
run ref "$C" "$T/mlp.onnx" "$X4" --no-code-cache
ok "--no-code-cache: code cache off" has "$T/ref.err" "^code cache: off$"
ok "--no-code-cache: no folder made" [ ! -e "$C" ]
run first "$C" "$T/mlp.onnx" "$X4"
ok "first run: a miss" has "$T/first.err" "^code cache: miss ($C/[0-9a-f]\{64\}\.o, [0-9]* bytes)$"
ok "first run: one entry" [ "$(entries "$C")" = 1 ]
ok "first run: no temporary file left" [ -z "$(find "$C" -name '*.tmp-*')" ]
nsh=$(sed -n 's/^shared kernel code: \([0-9]*\) functions, \([0-9]*\) compiled$/\1 \2/p' "$T/first.err")
all_built() { [ -n "$nsh" ] && [ "${nsh% *}" -gt 0 ] && [ "${nsh% *}" = "${nsh#* }" ]; }
ok "first run: shared kernel code compiled" all_built
ok "first run: shared kernel code stored" [ "$(shared "$C")" = "${nsh% *}" ]
S=$(find "$C/shared" -name '*.o' | head -1) # one the model needs
ok "--no-code-cache: no shared kernel code" has "$T/ref.err" "^shared kernel code: 0 functions, 0 compiled$"
run second "$C" "$T/mlp.onnx" "$X4"
ok "second run: a hit" has "$T/second.err" "^code cache: hit ($C/[0-9a-f]\{64\}\.o, [0-9]* bytes)$"
ok "second run: the JIT compiled nothing" has "$T/second.err" "^ *0\.000 .*LLVM optimization$"
ok "second run: the same output bytes" same first second
ok "cached code: the output of --no-code-cache" same first ref
ok "second run: no note" lacks "$T/second.err" "note"
ok "second run: shared kernel code loaded, none compiled" has "$T/second.err" "^shared kernel code: ${nsh% *} functions, 0 compiled$"

# Another shape, another op: misses; the same code again: hits.
run shape "$C" "$T/mlp.onnx" "$X2"
ok "another input shape: a miss" has "$T/shape.err" "^code cache: miss"
run shape_ref "$C" "$T/mlp.onnx" "$X2" --no-code-cache
ok "another input shape: its own output" same shape shape_ref
run tanh "$C" "$T/tanh.onnx" "$X4"
ok "Tanh for Relu: a miss" has "$T/tanh.err" "^code cache: miss"
run tanh_ref "$C" "$T/tanh.onnx" "$X4" --no-code-cache
ok "Tanh for Relu: its own output" same tanh tanh_ref
ok "Tanh for Relu: not the Relu model's output" sh -c "! cmp -s '$T/tanh.npy' '$T/first.npy'"
run cpu "$C" "$T/mlp.onnx" "$X4" --target-cpu x86-64
ok "another target CPU: a miss" has "$T/cpu.err" "^code cache: miss"
ok "four entries" [ "$(entries "$C")" = 4 ]

# Other weights, the same graph: the same code, the new weights.
run weights "$C" "$T/weights.onnx" "$X4"
ok "other weights: the code is reused" has "$T/weights.err" "^code cache: hit"
run weights_ref "$C" "$T/weights.onnx" "$X4" --no-code-cache
ok "other weights: the new model's output" same weights weights_ref
ok "other weights: not the old model's output" sh -c "! cmp -s '$T/weights.npy' '$T/first.npy'"
run bias "$C" "$T/bias.onnx" "$X4"
ok "another small constant (compiled in): a miss" has "$T/bias.err" "^code cache: miss"
run bias_ref "$C" "$T/bias.onnx" "$X4" --no-code-cache
ok "another small constant: its own output" same bias bias_ref

# Damaged entries: a note, the right output, the entry written again.
E=$(sed -n 's/^code cache: hit (\(.*\.o\), .*/\1/p' "$T/second.err")
cp "$E" "$T/good.o"
size=$(wc -c <"$E")
printf '\377\377\377\377' | dd of="$E" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
run flipped "$C" "$T/mlp.onnx" "$X4"
ok "flipped bytes: a note" has "$T/flipped.err" "^frost: note: code cache: $E: checksum mismatch; compiling again$"
ok "flipped bytes: compiled again" has "$T/flipped.err" "^code cache: miss"
ok "flipped bytes: the right output" same flipped ref
ok "flipped bytes: the entry written again" cmp -s "$E" "$T/good.o"
head -c $((size - 100)) "$T/good.o" >"$E"
run truncated "$C" "$T/mlp.onnx" "$X4"
ok "truncated: a note" has "$T/truncated.err" "^frost: note: code cache: $E: truncated object; compiling again$"
ok "truncated: the right output" same truncated ref
ok "truncated: the entry written again" cmp -s "$E" "$T/good.o"
head -c 40 "$T/good.o" >"$E"
run header "$C" "$T/mlp.onnx" "$X4"
ok "a truncated header: a note" has "$T/header.err" "^frost: note: code cache: $E: truncated header; compiling again$"
ok "a truncated header: the right output" same header ref
# Another entry's bytes under this key's name.
cp "$(sed -n 's/^code cache: miss (\(.*\.o\), .*/\1/p' "$T/tanh.err")" "$E"
run swapped "$C" "$T/mlp.onnx" "$X4"
ok "another key's entry: a note" has "$T/swapped.err" "^frost: note: code cache: $E: another key; compiling again$"
ok "another key's entry: the right output" same swapped ref
ok "the cache hits again" sh -c "FROST_CACHE_DIR='$C' '$FROST' run '$T/mlp.onnx' --input x='$X4' --time-passes 2>&1 | grep -q '^code cache: hit'"

# A folder that cannot be made (under a regular file): a note, once.
: >"$T/file"
run unwritable "$T/file/cache" "$T/mlp.onnx" "$X4"
ok "unwritable folder: a note" has "$T/unwritable.err" "^frost: note: code cache: cannot write $T/file/cache (Not a directory): the code is not cached$"
ok "unwritable folder: the right output" same unwritable ref

# --no-specialize: frost's own kernels, never cached.
run calls "$T/calls" "$T/mlp.onnx" "$X4" --no-specialize
ok "--no-specialize: code cache off" has "$T/calls.err" "^code cache: off$"
ok "--no-specialize: nothing written" [ ! -e "$T/calls" ]

# Shared kernel code: damaged, then missing; another model reuses it.
size=$(wc -c <"$S")
printf '\377\377\377\377' | dd of="$S" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
run shflip "$C" "$T/mlp.onnx" "$X4"
ok "damaged shared code: a note" has "$T/shflip.err" "^frost: note: code cache: $S: checksum mismatch; compiling again$"
ok "damaged shared code: compiled again" has "$T/shflip.err" "^shared kernel code: ${nsh% *} functions, 1 compiled$"
ok "damaged shared code: the right output" same shflip ref
rm -f "$S"
run shgone "$C" "$T/mlp.onnx" "$X4"
ok "missing shared code: the model's code hits" has "$T/shgone.err" "^code cache: hit"
ok "missing shared code: compiled again" has "$T/shgone.err" "^shared kernel code: ${nsh% *} functions, 1 compiled$"
ok "missing shared code: the right output" same shgone ref
ok "another model: the shared code reused" has "$T/weights.err" "^shared kernel code: [1-9][0-9]* functions, 0 compiled$"
# Artifacts: with the cache, linked from it; the same outputs as one
# compiled without it (all in one module).
for a in 1 2; do
  FROST_CACHE_DIR="$C" "$FROST" compile "$T/mlp.onnx" --shape x=4x8 -o "$T/art$a" >"$T/art$a.log" 2>&1
done
"$FROST" compile "$T/mlp.onnx" --shape x=4x8 -o "$T/artnc" --no-code-cache >"$T/artnc.log" 2>&1
ok "artifact: shared kernel code from the cache" has "$T/art2.log" "^shared kernel code: [1-9][0-9]* functions, [1-9][0-9]* from the code cache, 0 compiled"
ok "artifact --no-code-cache: no shared kernel code" lacks "$T/artnc.log" "shared kernel code"
"$T/art2" run --input "x=$X4" --output-dir "$T/art2.out" >/dev/null 2>&1
"$T/artnc" run --input "x=$X4" --output-dir "$T/artnc.out" >/dev/null 2>&1
ok "artifact: the outputs of one without the cache" cmp -s "$T/art2.out/logits.npy" "$T/artnc.out/logits.npy"
ok "artifact: the JIT's outputs" cmp -s "$T/art2.out/logits.npy" "$T/ref.npy"

# Where the cache is: FROST_CACHE_DIR, else XDG_CACHE_HOME/frost, else
# HOME/.cache/frost.
mkdir -p "$T/home"
(unset FROST_CACHE_DIR; XDG_CACHE_HOME="$T/xdg" HOME="$T/home" "$FROST" run "$T/mlp.onnx" --input "x=$X4" >/dev/null 2>&1)
ok "XDG_CACHE_HOME/frost" [ "$(entries "$T/xdg/frost")" = 1 ]
(unset FROST_CACHE_DIR XDG_CACHE_HOME; HOME="$T/home" "$FROST" run "$T/mlp.onnx" --input "x=$X4" >/dev/null 2>&1)
ok "HOME/.cache/frost" [ "$(entries "$T/home/.cache/frost")" = 1 ]
(unset FROST_CACHE_DIR XDG_CACHE_HOME; HOME="$T/home" "$FROST" --version >"$T/version")
ok "frost --version: the folder" has "$T/version" "^code cache: $T/home/.cache/frost$"

# bench says what the cache did; train's step and evaluation use it.
FROST_CACHE_DIR="$T/b" "$FROST" bench "$T/mlp.onnx" --shape x=4x8 --iters 2 >"$T/b1" 2>&1
FROST_CACHE_DIR="$T/b" "$FROST" bench "$T/mlp.onnx" --shape x=4x8 --iters 2 >"$T/b2" 2>&1
ok "bench: a miss, then a hit" sh -c "grep -q 'code cache miss' '$T/b1' && grep -q 'code cache hit' '$T/b2'"
TOPTS="--trainable ^ --optimizer sgd --batch 6 --epochs 2 --seed 1"
FROST_CACHE_DIR="$T/t" "$FROST" train "$T/mlp.onnx" "$O/data/manifest.csv" $TOPTS --save-params "$T/p1" >/dev/null 2>&1
n=$(entries "$T/t")
ok "train: the step is cached" [ "$n" -ge 1 ]
FROST_CACHE_DIR="$T/t" "$FROST" train "$T/mlp.onnx" "$O/data/manifest.csv" $TOPTS --save-params "$T/p2" >/dev/null 2>&1
ok "train again: nothing new cached" [ "$(entries "$T/t")" = "$n" ]
ok "train again: the same weights" diff -r "$T/p1" "$T/p2"
"$FROST" train "$T/mlp.onnx" "$O/data/manifest.csv" $TOPTS --no-code-cache --save-params "$T/p3" >/dev/null 2>&1
ok "train without the cache: the same weights" diff -r "$T/p1" "$T/p3"

expect_done "code cache cases behave"
