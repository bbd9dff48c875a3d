#!/bin/sh
# help.sh: the command line as users meet it: every command's help (frost
# help CMD, frost CMD --help, frost CMD -h) with its options and an example;
# frost --version; a suggestion for a misspelled command; the usage line
# of a command without its model; the options of the help against those of
# docs/user-guide.md (one list, compiler/cmd/help.c); and the summary of
# outputs frost run prints.
#
#   tests/cli/help.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"

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
# has FILE PATTERN: FILE holds a line matching the grep regex PATTERN.
has() { grep -q -e "$2" "$1"; }

CMDS="dump run bench compile compare conformance train eval fewshot cluster adapt-bn extract"

# Each command's help, three ways, the same text: its usage, options
# (each a line "  --name ..." or "  -x, --name ..."), an example of it.
for c in $CMDS; do
  "$FROST" help "$c" >"$T/h1" 2>"$T/e1"; r1=$?
  "$FROST" "$c" --help >"$T/h2" 2>&1; r2=$?
  "$FROST" "$c" -h >"$T/h3" 2>&1; r3=$?
  ok "help $c: exits 0 three ways" [ "$r1$r2$r3" = 000 ]
  ok "help $c: the same text three ways" cmp -s "$T/h1" "$T/h2"
  ok "help $c: -h too" cmp -s "$T/h1" "$T/h3"
  ok "help $c: usage" has "$T/h1" "^usage: frost $c "
  ok "help $c: options" has "$T/h1" "^  --max-memory BYTES "
  ok "help $c: an example" has "$T/h1" "^  frost $c "
  ok "help $c: lines fit 80 columns" [ "$(awk 'length > 80' "$T/h1")" = "" ]
  cat "$T/h1" >>"$T/all-help"
done
# A command's own options are in its help, others' are not.
"$FROST" help run >"$T/h"
ok "help run: --output-dir" has "$T/h" "^  --output-dir DIR "
ok "help run: --specialize" has "$T/h" "^  --specialize "
ok "help run: the opt engine" has "$T/h" "^  --engine E .*opt"
ok "help run: not --head" sh -c "! grep -q -e --head '$T/h'"
"$FROST" help train >"$T/h"
ok "help train: --lr" has "$T/h" "^  --lr F "
ok "help train: -o" has "$T/h" "^  -o, --output OUT "
"$FROST" help compile >"$T/h"
ok "help compile: training options with --train" has "$T/h" "^training (with --train):"
"$FROST" help bench >"$T/h"
ok "help bench: --threads" has "$T/h" "^  --threads T "

# The general help: every command, with -h, --help and help alike.
"$FROST" help >"$T/g1"; r1=$?
"$FROST" --help >"$T/g2"; r2=$?
"$FROST" -h >"$T/g3"; r3=$?
ok "general help: exits 0" [ "$r1$r2$r3" = 000 ]
ok "general help: the same three ways" sh -c "cmp -s '$T/g1' '$T/g2' && cmp -s '$T/g1' '$T/g3'"
for c in $CMDS; do ok "general help: $c" has "$T/g1" "^  $c  "; done
"$FROST" >"$T/g4" 2>&1; r=$?
ok "frost alone: the help, exit 1" sh -c "[ $r = 1 ] && cmp -s '$T/g1' '$T/g4'"
cat "$T/g1" >>"$T/all-help"

# frost --version: version, git commit, LLVM, the kernels' CPU level.
"$FROST" --version >"$T/v"; r=$?
ok "version: exits 0" [ "$r" = 0 ]
ok "version: the version" has "$T/v" "^frost [0-9][0-9.]*$"
ok "version: the commit" has "$T/v" "^commit: [0-9a-f]\{7,\}$\|^commit: unknown$"
ok "version: LLVM" has "$T/v" "^LLVM: [0-9]*\.[0-9]*\.[0-9]*$"
ok "version: the kernels' level" has "$T/v" "^kernels: x86-64\(-v[234]\)\? (\|^kernels: not x86-64 ("

# Errors: one line each, exit 1.
expect_error misspelled-command "unknown command 'rnu' (did you mean run?)" -- rnu
expect_error misspelled-command-2 "unknown command 'compil' (did you mean compile?)" -- compil
expect_error unknown-command "unknown command 'frobnicate' (see frost --help)" -- frobnicate
expect_error help-unknown "unknown command 'trian' (did you mean train?)" -- help trian
expect_error run-no-model "no model given (usage: frost run MODEL --input NAME=FILE" -- run
expect_error dump-no-model "no model given (usage: frost dump MODEL" -- dump
expect_error compare-nothing "no tensors given (usage: frost compare GOT WANT" -- compare
expect_error misspelled-option "did you mean --output-dir" -- run x.onnx --ouput-dir o
expect_error other-command-option "--head is not an option of frost run (see frost help run)" -- run x.onnx --head linear:2

# One list of options: every option the help lists is in the user guide,
# and every --option the guide mentions is in the help, but for those of
# other programs: cmake's --build, and --image, --wav, --weights of the
# executables frost compile writes.
grep -o -e '--[a-z][a-z0-9-]*' "$T/all-help" | sort -u >"$T/help-opts"
grep -o -e '--[a-z][a-z0-9-]*' "$ROOT/docs/user-guide.md" |
  grep -v -x -e --build -e --image -e --wav -e --weights | sort -u >"$T/guide-opts"
missing=$(comm -23 "$T/help-opts" "$T/guide-opts" | tr '\n' ' ')
extra=$(comm -13 "$T/help-opts" "$T/guide-opts" | tr '\n' ' ')
ok "guide: every option of the help (missing: $missing)" [ -z "$missing" ]
ok "guide: no option the help lacks (unknown: $extra)" [ -z "$extra" ]
# ... and every option the parser (compiler/cmd/cli.c) reads is in the help.
grep -o -e 'strcmp(a, "--[a-z0-9-]*")' "$ROOT/compiler/cmd/cli.c" |
  grep -o -e '--[a-z0-9-]*' | sort -u >"$T/parser-opts"
unlisted=$(comm -23 "$T/parser-opts" "$T/help-opts" | tr '\n' ' ')
ok "help: every option of the parser (unlisted: $unlisted)" [ -z "$unlisted" ]
ok "help: the parser's options found" [ "$(wc -l <"$T/parser-opts")" -gt 50 ]
ok "guide: the option lists are not empty" [ "$(wc -l <"$T/help-opts")" -gt 50 ]

# frost run prints a summary of each output's values.
RELU=/usr/share/libonnx-testdata/data/node/test_relu
"$FROST" run "$RELU/model.onnx" --input "x=$RELU/test_data_set_0/input_0.pb" >"$T/r" 2>&1
ok "run relu: the shape" has "$T/r" "^y: f32\[3,4,5\]$"
ok "run relu: first values" has "$T/r" "^  first values: 1.76405 0.400157 0.978738 2.24089 1.86756 0 0.950088 0 \.\.\.$"
ok "run relu: min, max, mean" has "$T/r" "^  min 0, max 2.26975, mean 0.459135$"
ok "run relu: no file written" sh -c "! grep -q wrote '$T/r'"
"$FROST" run "$RELU/model.onnx" --input "x=$RELU/test_data_set_0/input_0.pb" --output-dir "$T/o" >"$T/r" 2>&1
ok "run relu: where the file went" has "$T/r" "^wrote $T/o/y.npy$"
ok "run relu: the file" [ -f "$T/o/y.npy" ]
LSM=/usr/share/libonnx-testdata/data/node/test_logsoftmax_example_1
"$FROST" run "$LSM/model.onnx" --input "x=$LSM/test_data_set_0/input_0.pb" >"$T/r" 2>&1
ok "run logsoftmax: scores are not probabilities" has "$T/r" "^  top classes (scores, softmax):$"
ok "run logsoftmax: the best class, its softmax" has "$T/r" "^    2  *-0.407606  *0.6652$"
REF=$ROOT/tests/oracle/ref
if [ -f "$ROOT/models/ch_ppocr_mobile_v2.0_cls_infer.onnx" ] && [ -f "$ROOT/models/timer_v0.1.onnx" ]; then
  "$FROST" run "$ROOT/models/ch_ppocr_mobile_v2.0_cls_infer.onnx" --input "x=$REF/ppocr_cls/x.npy" >"$T/r" 2>&1
  ok "run ppocr: all values of a small output" has "$T/r" "^  values: 0.76368[0-9] 0.23631[0-9]$"
  ok "run ppocr: top classes" has "$T/r" "^  top classes:$"
  ok "run ppocr: class 0 first" sh -c "grep -A1 '^  top classes' '$T/r' | grep -q '^    0  *0.76368'"
  "$FROST" run "$ROOT/models/timer_v0.1.onnx" --input "onnx::Flatten_0=$REF/timer/onnx__Flatten_0.npy" >"$T/r" 2>&1
  ok "run timer: top class named" sh -c "grep -A1 '^  top classes' '$T/r' | grep -q '^    1  *1_minute_timer  *0.4509'"
  ok "run timer: five classes" [ "$(grep -c '^    [0-9]' "$T/r")" = 5 ]
else
  echo "skip run of classifiers: models/ lacks ppocr or timer (scripts/fetch-models)"
fi

expect_done "help and command-line cases behave"
