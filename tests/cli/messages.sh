#!/bin/sh
# messages.sh: what frost says about its own work.
#   - a symbolic input dimension taken as 1 gives one note per input
#     ("input 'x' dims 0, 2, 3 are symbolic (...): taken as 1; give --shape
#     x=?x3x?x?"), on success and on failure; a shape error that follows
#     says so on its one error line, with the --shape to pass (the ppocr
#     classifier, the melspectrogram model); with --shape, no note;
#     frost compile's error gives the same template;
#   - frost conformance counts pass, fail, unsupported and error apart in
#     its summary line, and suggests no --shape about inputs read from
#     .pb files;
#   - the progress line (conformance, compile) is drawn only when stderr
#     is a terminal (script(1) makes one): never into a pipe or a file.
#
#   tests/cli/messages.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"
M="$ROOT/models"
PPOCR="$M/ch_ppocr_mobile_v2.0_cls_infer.onnx"
MEL="$M/melspectrogram.onnx"
EMB="$M/embedding_model.onnx"
NODE=/usr/share/libonnx-testdata/data/node
HOSTILE=${FROST_HOSTILE:-$(dirname -- "$FROST")/tests/hostile}
[ -f "$PPOCR" ] && [ -f "$MEL" ] && [ -f "$EMB" ] ||
  { echo "messages.sh: models/ missing: run scripts/fetch-models"; exit 1; }

# check NAME COMMAND...: one case, passing when the command succeeds.
check() {
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
# line N FILE: line N of FILE.
line() { sed -n "$1p" "$2"; }
# is GOT WANT: equal strings (else both are shown).
is() { [ "$1" = "$2" ] || { printf '     got  %s\n     want %s\n' "$1" "$2"; return 1; }; }

# ---- 1. Symbolic dims taken as 1 -----------------------------------------

"$FROST" dump "$PPOCR" >/dev/null 2>"$T/pp.err"
rc=$?
check "ppocr without --shape: exit 1, a note then one error line" \
  sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/pp.err') -eq 2 ]"
check "ppocr: the note names the symbolic dims and the --shape to give" \
  is "$(line 1 "$T/pp.err")" "frost: note: input 'x' dims 0, 2, 3 are symbolic ('p2o.DynamicDimension.0', 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'): taken as 1; give --shape x=?x3x?x?"
check "ppocr: the error says the dims were taken as 1, and what to pass" \
  is "$(line 2 "$T/pp.err")" "frost: error: $PPOCR: node 'p2o.MaxPool.0' (MaxPool): kernel (2) larger than the padded input (1) (symbolic input dims were taken as 1: give --shape x=?x3x?x?)"

"$FROST" dump "$MEL" >/dev/null 2>"$T/mel.err"
rc=$?
check "melspectrogram without --shape: exit 1, a note then one error line" \
  sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/mel.err') -eq 2 ]"
check "melspectrogram: the note, with the dims' names in the template" \
  is "$(line 1 "$T/mel.err")" "frost: note: input 'input' dims 0, 1 are symbolic ('batch_size', 'samples'): taken as 1; give --shape input=<batch_size>x<samples>"
check "melspectrogram: the error line shows the --shape to pass" \
  sh -c "line() { sed -n \"\$1p\" \"\$2\"; }; line 2 '$T/mel.err' | grep -q \"^frost: error: .*(Conv): kernel (512) larger than the padded input (1) (symbolic input dims were taken as 1: give --shape input=<batch_size>x<samples>)\\\$\""

"$FROST" dump "$EMB" >/dev/null 2>"$T/emb.err"
rc=$?
check "embedding: a dump that succeeds notes its one symbolic dim" \
  sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/emb.err') -eq 1 ] && grep -qx \"frost: note: input 'input_1' dim 0 is symbolic ('unk__314'): taken as 1; give --shape input_1=<unk__314>x76x32x1\" '$T/emb.err'"

"$FROST" compile "$PPOCR" -o "$T/nope" >/dev/null 2>"$T/ppc.err"
check "compile without --shape: one error line with the template, no artifact" \
  sh -c "[ ! -e '$T/nope' ] && [ \$(wc -l <'$T/ppc.err') -eq 1 ] && grep -qx \"frost: error: .*: input 'x' dims 0, 2, 3 (.*) are not fixed by the model: give --shape x=?x3x?x?\" '$T/ppc.err'"

"$FROST" dump --shape x=1x3x48x192 "$PPOCR" >/dev/null 2>"$T/pp2.err"
rc=$?
check "ppocr with --shape: no note, no error" sh -c "[ $rc -eq 0 ] && [ ! -s '$T/pp2.err' ]"
"$FROST" dump --shape input=1x16000 "$MEL" >/dev/null 2>"$T/mel2.err"
rc=$?
check "melspectrogram with --shape: no note, no error" sh -c "[ $rc -eq 0 ] && [ ! -s '$T/mel2.err' ]"

# ---- 2. The conformance summary ------------------------------------------

C="$T/conf"
mkdir -p "$C"
cp -r "$NODE/test_abs" "$C/a_pass"
cp -r "$NODE/test_add" "$C/b_fail"      # another input: other outputs
cp "$NODE/test_add/test_data_set_0/input_1.pb" "$C/b_fail/test_data_set_0/input_0.pb"
cp -r "$NODE/test_abs" "$C/c_rank"      # an input of another rank
cp "$NODE/test_add_bcast/test_data_set_0/input_1.pb" "$C/c_rank/test_data_set_0/input_0.pb"
cp -r "$NODE/test_abs" "$C/d_error"     # an input that is no TensorProto
echo garbage >"$C/d_error/test_data_set_0/input_0.pb"
cp -r "$NODE/test_abs" "$C/e_unsupported"
cp "$HOSTILE/unknown-op.onnx" "$C/e_unsupported/model.onnx"
"$FROST" conformance -v "$C" >"$T/conf.out" 2>"$T/conf.err"
check "conformance: the summary counts pass, fail, unsupported and error apart" \
  is "$(tail -1 "$T/conf.out")" "1 passed, 2 failed, 1 unsupported, 1 error"
check "conformance: each test's status" sh -c "
  grep -q '^a_pass: pass\$' '$T/conf.out' && grep -q '^b_fail: fail: ' '$T/conf.out' &&
  grep -q '^c_rank: fail: ' '$T/conf.out' && grep -q '^d_error: error: .*input_0.pb' '$T/conf.out' &&
  grep -q '^e_unsupported: unsupported' '$T/conf.out'"
check "conformance: no --shape suggested about inputs from .pb files" \
  sh -c "! grep -q -e '--shape' '$T/conf.out' '$T/conf.err'"

# ---- 3. Progress, only on a terminal -------------------------------------

check "conformance into a file: nothing on stderr (no progress line)" \
  sh -c "[ ! -s '$T/conf.err' ]"
"$FROST" compile "$PPOCR" --shape x=1x3x48x192 --emit llvm -o "$T/pp" >/dev/null 2>"$T/cc.err"
check "compile into a file: nothing on stderr (no progress line)" \
  sh -c "[ -f '$T/pp.ll' ] && [ ! -s '$T/cc.err' ]"
if command -v script >/dev/null 2>&1; then
  # script(1) runs the command on a pseudo-terminal; stdout goes to a file.
  script -qec "'$FROST' conformance '$C' >'$T/tty.out'" /dev/null >"$T/tty.err" 2>&1
  check "conformance on a terminal: a progress line, tests done of total" \
    sh -c "tr '\\r' '\\n' <'$T/tty.err' | grep -q '^conformance 4/5 \[=*>* *\]  e_unsupported  [0-9.]* s'"
  check "conformance on a terminal: stdout unchanged, the line erased at the end" \
    sh -c "[ \"\$(tail -1 '$T/tty.out')\" = '1 passed, 2 failed, 1 unsupported, 1 error' ] &&
           ! grep -q \"\$(printf '\r')\" '$T/tty.out' &&
           tr -d '\\n' <'$T/tty.err' | grep -q \"\$(printf '\\r\\033\\\\[K')\$\""
  script -qec "'$FROST' compile '$PPOCR' --shape x=1x3x48x192 --emit llvm -o '$T/pp2' >/dev/null" /dev/null >"$T/ttycc.err" 2>&1
  check "compile on a terminal: a progress line per stage" \
    sh -c "tr '\\r' '\\n' <'$T/ttycc.err' | grep -q '^compile 1/3 \[.*\]  codegen' &&
           tr '\\r' '\\n' <'$T/ttycc.err' | grep -q '^compile 2/3 \[.*\]  optimizing'"
else
  echo "messages.sh: no script(1): the terminal cases are skipped"
fi

expect_done "message checks passed"
