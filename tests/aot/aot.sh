#!/bin/sh
# aot.sh: `frost compile` end to end. For every real model of
# tests/oracle/ref/cases.txt: an executable, with no LLVM in `ldd`, whose
# `run` matches ONNX Runtime (rtol 1e-3, atol 1e-4) and equals `frost run
# --engine jit` bit for bit (the JIT inlines the same kernels). Then the
# embedding model for x86-64-v3, as a shared library and as an object used by
# docs/examples/embedding.c, as LLVM IR and assembly; the artifact's own
# command line; and bad input (unwritable path, unknown CPU, no linker,
# a node without a native kernel), which must leave no file behind.
#
#   tests/aot/aot.sh FROST
set -u
export LC_ALL=C
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
REF="$ROOT/tests/oracle/ref"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() {
  echo "FAIL $1"
  fails=$((fails + 1))
}

# The shape of a .npy file as DIMS for --shape ("(1, 76, 32, 1)" -> 1x76x32x1).
npy_dims() {
  head -c 256 "$1" | tr -d '\000' | sed -n "s/.*'shape': (\([0-9, ]*\)).*/\1/p" |
    tr -d ' ' | sed 's/,$//; s/,/x/g'
}

# compares every .npy of $1 with the file of the same name in $2
compare_dir() { # GOT WANT RTOL ATOL
  n=0
  for want in "$2"/*.npy; do
    "$FROST" compare "$1/$(basename "$want")" "$want" --rtol "$3" --atol "$4" \
      >/dev/null || return 1
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}

# ---- the real models: exe vs ONNX Runtime and vs the JIT ----------------
while read -r case model specs; do
  [ -n "$case" ] || continue
  if [ ! -f "$ROOT/models/$model" ]; then
    bad "$case: models/$model missing (scripts/fetch-models)"
    continue
  fi
  set --
  for spec in $specs; do
    name=${spec%=*}
    file=$REF/${spec##*=}
    set -- "$@" --input "$name=$file" --shape "$name=$(npy_dims "$file")"
  done
  exe="$T/$case"
  # --input is for run; compile takes the --shape half of each pair.
  shapes=$(echo "$@" | tr ' ' '\n' | awk '/^--shape$/ {getline; print "--shape " $0}')
  # shellcheck disable=SC2086
  if ! "$FROST" compile "$ROOT/models/$model" $shapes -o "$exe" >"$T/log" 2>&1; then
    bad "$case: compile: $(tail -1 "$T/log")"
    continue
  fi
  if ldd "$exe" | grep -qi llvm; then bad "$case: ldd shows LLVM"; fi
  inputs=$(echo "$@" | tr ' ' '\n' | awk '/^--input$/ {getline; print "--input " $0}')
  # shellcheck disable=SC2086
  if ! "$exe" run $inputs --output-dir "$T/$case.aot" >"$T/log" 2>&1; then
    bad "$case: run: $(tail -1 "$T/log")"
    continue
  fi
  # shellcheck disable=SC2086
  "$FROST" run "$ROOT/models/$model" $inputs --engine jit \
    --output-dir "$T/$case.jit" >/dev/null 2>&1 || bad "$case: frost run --engine jit"
  if ! compare_dir "$T/$case.aot" "$REF/$case/out" 1e-3 1e-4; then
    bad "$case: differs from ONNX Runtime"
  elif ! compare_dir "$T/$case.aot" "$T/$case.jit" 0 0; then
    bad "$case: differs from frost run --engine jit"
  else
    ok "$case: $(wc -c <"$exe") bytes, matches ONNX Runtime and the JIT"
  fi
done <"$REF/cases.txt"

# ---- the embedding model, portable (x86-64-v3) ---------------------------
EMB="$ROOT/models/embedding_model.onnx"
IN="$REF/embedding_1/input_1.npy"
"$FROST" compile "$EMB" --shape input_1=1x76x32x1 --target-cpu x86-64-v3 \
  -o "$T/v3" >/dev/null 2>&1 || bad "x86-64-v3: compile"
if "$T/v3" run --input "input_1=$IN" --output-dir "$T/v3.out" >/dev/null 2>&1 &&
  compare_dir "$T/v3.out" "$REF/embedding_1/out" 1e-3 1e-4 &&
  "$FROST" run "$EMB" --input "input_1=$IN" --engine jit \
    --target-cpu x86-64-v3 --output-dir "$T/v3.jit" >/dev/null 2>&1 &&
  compare_dir "$T/v3.out" "$T/v3.jit" 0 0 &&
  "$T/v3" info | grep -q 'CPU x86-64-v3'; then
  ok "x86-64-v3: matches ONNX Runtime and the JIT for the same CPU"
else
  bad "x86-64-v3"
fi

# ---- trainable parameters: writable data of the artifact -----------------
PP="$ROOT/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
if "$FROST" compile "$PP" --shape x=1x3x48x192 --train-from reshape2_0.tmp_0 \
  -o "$T/pp-train" >/dev/null 2>"$T/err" &&
  "$T/pp-train" info >"$T/info" &&
  grep -q '^trainable: 402 parameters, 1608 bytes' "$T/info" &&
  grep -q '^  fc_0.w_0: f32\[200,2\]' "$T/info" &&
  "$T/pp-train" run --input "x=$REF/ppocr_cls/x.npy" --output-dir "$T/pp-train.out" \
    >/dev/null && compare_dir "$T/pp-train.out" "$REF/ppocr_cls/out" 1e-3 1e-4; then
  ok "trainable head (--train-from): listed by info, matches ONNX Runtime"
else
  bad "trainable head: $(head -2 "$T/err") $(cat "$T/info" 2>/dev/null | tail -4)"
fi
# The artifact's parameter layout (blocks, sizes, each trainable offset) is
# the one frost dump shows for the same model and options.
sed -n '/^parameter layout/,$p' "$T/info" >"$T/layout.art"
"$FROST" dump --stage optimized --shape x=1x3x48x192 --train-from reshape2_0.tmp_0 \
  "$PP" 2>/dev/null | sed -n '/^parameter layout/,$p' | sed '/^marks:/,$d' >"$T/layout.dump"
if grep -q '^  trainable @64 ' "$T/layout.art" &&
  diff "$T/layout.dump" "$T/layout.art" >"$T/layout.diff"; then
  ok "parameter layout: info of the artifact = frost dump"
else
  bad "parameter layout differs: $(head -6 "$T/layout.diff")"
fi

# ---- the artifact's command line -----------------------------------------
E="$T/embedding_1"
if "$E" info >"$T/info" 2>&1 && grep -q '^  input_1: f32\[1,76,32,1\]' "$T/info" &&
  grep -q '^frozen: 328137 parameters' "$T/info" &&
  grep -q '^activation memory: [1-9]' "$T/info"; then
  ok "info"
else
  bad "info: $(cat "$T/info")"
fi
if "$E" bench --iters 5 2>&1 | grep -q '^median_ms='; then ok "bench"; else bad "bench"; fi
# one error line, status 1
expect_error() { # NAME PATTERN CMD...
  name=$1
  pat=$2
  shift 2
  "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$pat" "$T/err"; then
    ok "$name"
  else
    bad "$name: status $rc: $(head -3 "$T/err")"
  fi
}
WRONG="$REF/alexa/onnx__Flatten_0.npy"
expect_error "exe: missing input" "input 'input_1' not given" "$E" run
expect_error "exe: wrong shape" "compiled for f32\[1,76,32,1\]" "$E" run --input "input_1=$WRONG"
expect_error "exe: unknown input" "no input 'x'" "$E" run --input "x=$IN"
expect_error "exe: truncated npy" "error" "$E" run --input "input_1=${FROST_HOSTILE:-$(dirname -- "$FROST")/tests/hostile}/npy-truncated.npy"
expect_error "exe: unknown command" "unknown command" "$E" fly
expect_error "exe: train" "compiled without --train" "$E" train

# ---- shared library and object, with the C example -----------------------
tail -c 9728 "$IN" >"$T/in.f32"
tail -c 384 "$T/embedding_1.aot/conv2d_19.npy" >"$T/want.f32"
mkdir -p "$T/lib"
if "$FROST" compile "$EMB" --shape input_1=1x76x32x1 --emit shared -o "$T/lib/emb" \
  >/dev/null 2>"$T/err" && [ -f "$T/lib/emb.so" ] && [ -f "$T/lib/emb.h" ]; then
  if cc -O2 -Wall -Wextra -Werror -o "$T/example" "$ROOT/docs/examples/embedding.c" \
    -I"$T/lib" "$T/lib/emb.so" -Wl,-rpath,"$T/lib" -lm 2>"$T/err" &&
    "$T/example" "$T/in.f32" "$T/got.f32" >/dev/null && cmp -s "$T/got.f32" "$T/want.f32"; then
    ok "shared: emb.so and emb.h used by docs/examples/embedding.c, same output as the executable"
  else
    bad "shared: example: $(head -3 "$T/err")"
  fi
  if nm -D --defined-only "$T/lib/emb.so" | awk '{print $3}' | grep -v '^emb_' | grep -q .; then
    bad "shared: exports symbols without the emb_ prefix"
  fi
else
  bad "shared: compile: $(head -1 "$T/err")"
fi
mkdir -p "$T/obj"
if "$FROST" compile "$EMB" --shape input_1=1x76x32x1 --emit obj -o "$T/obj/emb.o" \
  >/dev/null 2>"$T/err" && [ -f "$T/obj/emb.h" ] &&
  cc -O2 -o "$T/example-static" "$ROOT/docs/examples/embedding.c" -I"$T/obj" \
    "$T/obj/emb.o" -lm 2>"$T/err" &&
  "$T/example-static" "$T/in.f32" "$T/got2.f32" >/dev/null &&
  cmp -s "$T/got2.f32" "$T/want.f32"; then
  ok "obj: emb.o linked statically into the example, same output"
else
  bad "obj: $(head -3 "$T/err")"
fi
if "$FROST" compile "$EMB" --shape input_1=1x76x32x1 --emit llvm -o "$T/emb" >/dev/null &&
  grep -q '^define .*@emb_run(' "$T/emb.ll" &&
  "$FROST" compile "$EMB" --shape input_1=1x76x32x1 --emit asm -o "$T/emb" >/dev/null &&
  grep -q '^emb_run:' "$T/emb.s"; then
  ok "llvm and asm: emb.ll, emb.s"
else
  bad "llvm and asm"
fi

# ---- bad input: one line, status 1, no file left -------------------------
RELU=/usr/share/libonnx-testdata/data/node/test_relu/model.onnx
LOOP=/usr/share/libonnx-testdata/data/node/test_loop11/model.onnx
mkdir -p "$T/empty"
no_files() { [ -z "$(ls -A "$T/empty")" ]; }
expect_clean() { # NAME PATTERN ARGS... (frost compile, output in $T/empty)
  name=$1
  pat=$2
  shift 2
  "$FROST" compile "$@" >"$T/out" 2>"$T/err"
  rc=$?
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$pat" "$T/err" &&
    no_files; then
    ok "$name"
  else
    bad "$name: status $rc: $(head -3 "$T/err"); left: $(ls -A "$T/empty")"
  fi
  rm -rf "$T/empty" && mkdir -p "$T/empty"
}
expect_clean "unwritable output path" "cannot write" "$RELU" -o /proc/frost-test/relu
expect_clean "output in a missing folder" "cannot write" "$RELU" -o "$T/empty/no/such/relu"
mkdir -p "$T/adir"
expect_clean "output is a folder" "a folder is there" "$RELU" -o "$T/adir"
expect_clean "unknown target CPU" "unknown target CPU 'pentium9'" "$RELU" \
  --target-cpu pentium9 -o "$T/empty/relu"
FROST_CC=/nonexistent/cc expect_clean "no system linker" "no system C compiler" \
  "$RELU" -o "$T/empty/relu"
FROST_CC=false expect_clean "linker fails" "linker 'false' failed" \
  "$RELU" --emit shared -o "$T/empty/relu"
expect_clean "control flow has no native kernel" "Loop" "$LOOP" -o "$T/empty/loop"
expect_clean "bad --emit" "--emit is exe" "$RELU" --emit wasm -o "$T/empty/relu"
expect_clean "bad --name" "not a C identifier" "$RELU" --emit obj --name 9x -o "$T/empty/relu"
expect_clean "symbolic input dims" "give --shape input=<batch_size>x<samples>" \
  "$ROOT/models/melspectrogram.onnx" -o "$T/empty/mel"
# An existing file at the destination survives a failed compile.
echo keep >"$T/empty/relu"
"$FROST" compile "$RELU" --target-cpu pentium9 -o "$T/empty/relu" >/dev/null 2>&1
if [ "$(cat "$T/empty/relu")" = keep ] && [ "$(ls -A "$T/empty")" = relu ]; then
  ok "a failed compile leaves the old artifact"
else
  bad "a failed compile touched the old artifact"
fi

[ "$fails" -eq 0 ] && echo "aot: all passed" || echo "aot: $fails failed"
[ "$fails" -eq 0 ]
