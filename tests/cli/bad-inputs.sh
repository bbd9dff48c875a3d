#!/bin/sh
# bad-inputs.sh: the frost command on bad models, inputs and arguments. Each
# case must exit with status 1 and print exactly one line on stderr, starting
# "frost: error: ", and leave no output file behind.
#
#   tests/cli/bad-inputs.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"

EMB="$ROOT/models/embedding_model.onnx"
REF="$ROOT/tests/oracle/ref"
# A tiny valid model from the ONNX test data: y = Relu(x), x f32[3,4,5].
RELU=/usr/share/libonnx-testdata/data/node/test_relu/model.onnx

head -c 1000 "$EMB" >"$T/trunc.onnx"
expect_error truncated-model "trunc.onnx: not a valid ONNX model" -- dump "$T/trunc.onnx"
expect_error truncated-model-run "trunc.onnx" -- run "$T/trunc.onnx" --input "input_1=$REF/embedding_1/input_1.npy" --output-dir "$T/out"
: >"$T/empty.onnx"
expect_error empty-model "no graph" -- dump "$T/empty.onnx"
head -c 4096 /dev/urandom >"$T/garbage.onnx"
expect_error garbage-model "garbage.onnx" -- dump "$T/garbage.onnx"
expect_error missing-model "cannot open" -- dump "$T/nope.onnx"
expect_error directory-model "not a regular file" -- dump "$T"
expect_error no-command "unknown command" -- frobnicate
expect_error unknown-option "unknown option" -- dump --bogus "$RELU"
expect_error misspelled-option "did you mean --output-dir" -- run "$RELU" --ouput-dir "$T/out"
expect_error shape-unknown-input "no input 'nope' (its inputs: 'x')" -- dump "$RELU" --shape nope=3,4,5
expect_error bad-shape-syntax "bad dimensions" -- dump --shape x=1xQ "$RELU"
expect_error bad-shape-rank "has 2 dimensions" -- dump --shape x=3x4 "$RELU"
expect_error bad-shape-dim "dimension 0 is 3" -- dump --shape x=9x4x5 "$RELU"
expect_error unknown-engine "unknown engine" -- run "$RELU" --engine gpu --input x=a.npy

# .npy inputs
printf 'not a numpy file at all' >"$T/bad.npy"
expect_error npy-garbage "not a .npy file" -- run "$RELU" --input "x=$T/bad.npy" --output-dir "$T/out"
head -c 100 "$REF/embedding_1/input_1.npy" >"$T/trunc.npy"
expect_error npy-truncated "trunc.npy" -- run "$EMB" --input "input_1=$T/trunc.npy" --output-dir "$T/out"
# a header claiming more elements than the file holds
printf '\223NUMPY\001\000v\000{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (1000000, 1000000), }                                                   \n' >"$T/lying.npy"
expect_error npy-lying-header "lying.npy" -- run "$RELU" --input "x=$T/lying.npy" --output-dir "$T/out"
expect_error npy-wrong-shape "input .input_1. from .* has 3 dimensions" -- run "$EMB" --input "input_1=$REF/hey_mycroft/onnx__Flatten_0.npy" --output-dir "$T/out"
expect_error npy-missing "cannot open" -- run "$RELU" --input "x=$T/none.npy" --output-dir "$T/out"
X=/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb
expect_error input-unknown "no input 'nope' (its inputs: 'x')" -- run "$RELU" --input "x=$X" --input "nope=$X"
expect_error input-not-given "not given" -- run "$RELU" --output-dir "$T/out"
printf 'ir_version: 8' >"$T/text.onnx"
expect_error text-model "text.onnx" -- dump "$T/text.onnx"

expect_done "bad-input cases behave"
