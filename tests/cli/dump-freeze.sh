#!/bin/sh
# dump-freeze.sh: the freeze boundary as frost dump shows it.
#   - the text marks follow the rule docs/ir.md states: a parameter is
#     `trainable` when training updates it; a node is `trainable` when one
#     of its operands is a trainable parameter or a trainable node's output
#     (it needs a gradient), else `frozen` - even after a --train-from name
#     (alexa's Relu_4 = Relu(input.3)); the dump says what each mark means;
#   - --dot colours nodes by their mark (the legend's colours), lists
#     trainable parameters with shapes and bytes, counts folded constants,
#     changes with --train-from, shows --stage train's backward nodes, and
#     is valid DOT (dot -Tsvg when Graphviz is installed, else its shape);
#   - --print-before/--print-after print the IR only when it changed since
#     the last print, and never print the final IR twice.
#
#   tests/cli/dump-freeze.sh FROST
set -u
FROST=$1
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=SCRIPTDIR/../lib/expect.sh
. "$ROOT/tests/lib/expect.sh"
ALEXA="$ROOT/models/alexa_v0.1.onnx"
PPOCR="$ROOT/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
[ -f "$ALEXA" ] && [ -f "$PPOCR" ] || { echo "dump-freeze.sh: models/ missing: run scripts/fetch-models"; exit 1; }

# check NAME CONDITION...: one case, passing when the command succeeds.
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

# dump OUT ARGS...: frost dump ARGS into $T/OUT; a failure is a case.
dump() {
  out=$1
  shift
  if ! "$FROST" dump "$@" >"$T/$out" 2>"$T/$out.err"; then
    count=$((count + 1))
    fails=$((fails + 1))
    echo "FAIL frost dump $*:"
    head -c 2000 "$T/$out.err"
  fi
}

# ---- 1. The text marks ----------------------------------------------------

# mark FILE NODE-NAME: the mark of the node named NODE-NAME ("# NAME").
mark() { sed -n "s/.*  \([a-z]*\)  # $2\$/\1/p" "$T/$1"; }
# init_mark FILE VALUE: an initializer's mark.
init_mark() { sed -n "s/^  init   $2: .*  \([a-z]*\)\( folded\)\{0,1\}\$/\1/p" "$T/$1"; }
is() { [ "$1" = "$2" ] || { echo "     got '$1', want '$2'"; return 1; }; }

# The rule, over a whole dump: each node not made by autodiff (and not a
# Constant, whose mark is its tensor's, nor a Shape or Size, which read
# only shapes) is trainable exactly when an operand needs a gradient: a
# trainable parameter or a trainable node's output.
rule() {
  awk '
    /^  init   / {
      name = $2; sub(/:$/, "", name)
      if ($NF == "trainable" || ($NF == "folded" && $(NF-1) == "trainable")) grad[name] = 1
      next
    }
    /^  [^ ].* = [A-Za-z.]+\(/ && / (frozen|trainable|backward)(  # .*)?$/ {
      line = $0
      m = line; sub(/  # .*$/, "", m); n = split(m, w, " "); mk = w[n]
      lhs = line; sub(/ = [A-Za-z.]+\(.*$/, "", lhs); sub(/^ +/, "", lhs)
      op = line; sub(/^.* = /, "", op); sub(/\(.*$/, "", op)
      args = line; sub(/^[^=]* = [A-Za-z.]+\(/, "", args); sub(/\).*$/, "", args)
      need = 0
      k = split(args, a, ", ")
      for (i = 1; i <= k; i++) if (a[i] in grad) need = 1
      if (mk != "backward" && op != "Constant" && op != "Shape" && op != "Size") {
        want = need ? "trainable" : "frozen"
        if (mk != want) { print "     " line ": want " want; bad++ }
      }
      if (mk == "trainable") {
        k = split(lhs, o, ", ")
        for (i = 1; i <= k; i++) {
          v = o[i]; sub(/: (seq |opt )?[^ ]+( @-?[0-9]+)?$/, "", v); grad[v] = 1
        }
      }
      checked++
    }
    END { if (checked < 5) { print "     only " checked+0 " nodes read"; bad++ }; exit bad > 0 }
  ' "$T/$1"
}

dump a3.txt "$ALEXA" --train-from input.3
check "--train-from input.3: Relu(input.3) is frozen (nothing it reads needs a gradient)" \
  is "$(mark a3.txt Relu_4)" frozen
check "--train-from input.3: the Gemm after it, with its parameters, is trainable" \
  is "$(mark a3.txt Gemm_5) $(init_mark a3.txt 5.weight) $(init_mark a3.txt 5.bias)" "trainable trainable trainable"
check "--train-from input.3: Sigmoid after the trainable Gemm is trainable" \
  is "$(mark a3.txt Sigmoid_6)" trainable
check "--train-from input.3: Gemm_3 (before it) and its weight are frozen" \
  is "$(mark a3.txt Gemm_3) $(init_mark a3.txt 3.weight)" "frozen frozen"
check "--train-from input.3: every node's mark follows the rule" rule a3.txt
check "the dump says what each mark means" sh -c "
  grep -q '^marks:' '$T/a3.txt' &&
  grep -q '^  init trainable  a trainable parameter (FR_V_TRAINABLE)' '$T/a3.txt' &&
  grep -q '^  node trainable  computes from a trainable parameter.*(FR_V_GRAD): gets backward code' '$T/a3.txt' &&
  grep -q '^  node frozen     computes from no trainable parameter.*even after a --train-from name' '$T/a3.txt'"

dump g3.txt "$ALEXA" --train-from Gemm_3
check "--train-from Gemm_3 (a node): it, its weights and the Relu after it are trainable" \
  is "$(mark g3.txt Gemm_3) $(init_mark g3.txt 3.weight) $(mark g3.txt Relu_4) $(mark g3.txt Relu_2)" \
     "trainable trainable trainable frozen"
check "--train-from Gemm_3: every node's mark follows the rule" rule g3.txt
dump pp.txt "$PPOCR" --shape x=1x3x48x192 --train-from reshape2_0.tmp_0
check "ppocr --train-from reshape2_0.tmp_0: every node's mark follows the rule" rule pp.txt
dump ppo.txt "$PPOCR" --stage optimized --shape x=1x3x48x192 --train-from reshape2_0.tmp_0
check "ppocr optimized: every node's mark follows the rule" rule ppo.txt
check "ppocr optimized: folded constants are marked, and the legend says so" sh -c "
  grep -q '^  init   conv2d_2.w_0.folded: .*  frozen folded\$' '$T/ppo.txt' &&
  grep -q '^  init folded     computed at compile time by a fold pass' '$T/ppo.txt' &&
  ! grep -q '^  init   conv2d_2.w_0: .*folded\$' '$T/a3.txt'"
dump tr.txt --stage train "$ALEXA" --head linear:2
check "--stage train: every forward node's mark follows the rule" rule tr.txt
check "--stage train: backward nodes are marked, and the legend says what they are" sh -c "
  grep -q '  backward  # ' '$T/tr.txt' && grep -q '^  node backward   made by the autodiff pass' '$T/tr.txt'"

# ---- 2. DOT ---------------------------------------------------------------

# color FILE LEGEND-NODE: the fill colour of the legend's box.
color() { sed -n "s/.*$2 \[shape=box, fillcolor=\"\([^\"]*\)\".*/\1/p" "$T/$1"; }
# node_color FILE NODE-NAME: the fill colour of the node's box.
node_color() { sed -n "s/^  n[0-9]* \[shape=box, fillcolor=\"\([^\"]*\)\", label=\"[^ ]*  $2  .*/\1/p" "$T/$1"; }
# Each node's colour is its mark's in the legend.
colours_match() {
  fz=$(color "$1" legend_frozen) tn=$(color "$1" legend_trainable) bw=$(color "$1" legend_backward)
  [ -n "$fz" ] && [ -n "$tn" ] && [ "$fz" != "$tn" ] || { echo "     no legend colours"; return 1; }
  awk -v fz="$fz" -v tn="$tn" -v bw="$bw" '
    /^  n[0-9]+ \[shape=box, fillcolor="/ {
      c = $0; sub(/^[^"]*"/, "", c); sub(/".*$/, "", c)
      l = $0; sub(/^.*label="/, "", l); sub(/\\l.*$/, "", l); n = split(l, w, "  ")
      want = w[n] == "trainable" ? tn : w[n] == "backward" ? bw : w[n] == "frozen" ? fz : "?"
      if (c != want) { print "     " $0 ": colour " c ", want " want; bad++ }
      nodes++
    }
    END { exit bad > 0 || nodes == 0 }' "$T/$1"
}
# Valid DOT: Graphviz accepts it, or else its lines have DOT's shape.
valid_dot() {
  if command -v dot >/dev/null 2>&1; then
    dot -Tsvg "$T/$1" >/dev/null
  else
    awk 'NR == 1 && $0 != "digraph frost {" { bad = 1 }
         { o += gsub(/\{/, "{"); c += gsub(/\}/, "}") }
         NR > 1 && !/;$/ && !/\{$/ && !/^ *\}$/ { print "     " $0; bad = 1 }
         END { exit bad || o != c || $0 != "}" }' "$T/$1"
  fi
}

dump plain.dot --dot "$ALEXA"
dump a3.dot --dot "$ALEXA" --train-from input.3
check "--dot differs with --train-from" sh -c "! cmp -s '$T/plain.dot' '$T/a3.dot'"
check "--dot --train-from input.3: Gemm_5 and Sigmoid_6 in the trainable colour, Relu_4 in the frozen one" \
  is "$(node_color a3.dot Gemm_5) $(node_color a3.dot Sigmoid_6) $(node_color a3.dot Relu_4)" \
     "$(color a3.dot legend_trainable) $(color a3.dot legend_trainable) $(color a3.dot legend_frozen)"
both_match() { colours_match a3.dot && colours_match plain.dot; }
check "--dot: every node has its mark's colour (with and without --train-from)" both_match
check "--dot: trainable parameters listed with shape and bytes, frozen ones summed" sh -c "
  grep -q 'Gemm_5  trainable\\\\ltrainable 5.weight f32\\[1,128\\] 512 B\\\\ltrainable 5.bias f32\\[1\\] 4 B' '$T/a3.dot' &&
  grep -q 'Gemm_3  frozen\\\\lfrozen: 2 constants, 66048 B' '$T/a3.dot' &&
  grep -q 'total: frozen 213248 (852992 B), trainable 129 (516 B)' '$T/a3.dot'"
dump tr.dot --dot --stage train "$ALEXA" --head linear:2
check "--dot --stage train: backward nodes in the backward colour" sh -c "
  bw=\$(sed -n 's/.*legend_backward \\[shape=box, fillcolor=\"\\([^\"]*\\)\".*/\\1/p' '$T/tr.dot')
  [ -n \"\$bw\" ] && [ \$(grep -c \"fillcolor=\\\"\$bw\\\", label=\\\"[^\\\"]*  backward\" '$T/tr.dot') -ge 5 ]"
check "--dot --stage train: every node has its mark's colour" colours_match tr.dot
dump ppo.dot --dot --stage optimized --shape x=1x3x48x192 --train-from reshape2_0.tmp_0 "$PPOCR"
check "--dot --stage optimized: folded constants counted per node and in the legend" sh -c "
  grep -q 'of which folded: 2, 896 B' '$T/ppo.dot' && grep -q 'folded: [1-9][0-9]* tensors' '$T/ppo.dot' &&
  grep -q 'folded: none' '$T/a3.dot'"
check "--dot --stage optimized: every node has its mark's colour" colours_match ppo.dot
# Names with quotes, backslashes and a tab (tests/oracle/train/mlp_sgd
# renamed): escaped in the DOT.
mkdir "$T/q"
cp -r "$ROOT/tests/oracle/train/mlp_sgd/init" "$T/q/"
node -e '
  const fs = require("fs");
  const m = JSON.parse(fs.readFileSync(process.argv[1]));
  const ren = {"x": "x\"\\in", "fc2.weight": "fc2 \"w\"\\",
               "/Relu_output_0": "/Relu\"\tout\\", "/fc2/Gemm": "/fc2/\"Gemm\"\\"};
  const r = (s) => ren[s] ?? s;
  m.inputs.forEach((v) => v.name = r(v.name));
  m.initializers.forEach((v) => v.name = r(v.name));
  m.nodes.forEach((n) => { n.name = r(n.name); n.inputs = n.inputs.map(r); n.outputs = n.outputs.map(r); });
  fs.writeFileSync(process.argv[2], JSON.stringify(m));
' "$ROOT/tests/oracle/train/mlp_sgd/model.json" "$T/q/model.json" &&
  node "$ROOT/tests/oracle/train/make-model.js" "$T/q" "$T/q.onnx"
dump q.dot --dot "$T/q.onnx" --train-from '/fc2/"Gemm"\'
check "--dot: quotes and backslashes in names escaped" \
  grep -qF 'label="Gemm  /fc2/\"Gemm\"\\  trainable\ltrainable fc2 \"w\"\\ f32[3,16] 192 B' "$T/q.dot"
for f in plain.dot a3.dot tr.dot ppo.dot q.dot; do
  check "$f is valid DOT" valid_dot "$f"
done

# ---- 3. --print-after / --print-before ---------------------------------------

dump pa.txt --print-after all "$ALEXA" --train-from input.3
npasses=$(grep -c '^; \(IR after [a-z-]*\|after [a-z-]*: unchanged\)$' "$T/pa.txt")
check "--print-after all: one line or one IR per pass (11)" is "$npasses" 11
check "--print-after all: passes that change nothing print one line" sh -c "
  grep -q '^; after fold: unchanged\$' '$T/pa.txt' && grep -q '^; after layout-params: unchanged\$' '$T/pa.txt'"
check "--print-after all: no IR printed twice in a row, the final one not again" sh -c "
  [ \$(grep -c '^graph ' '$T/pa.txt') -eq \$(grep -c '^; IR after' '$T/pa.txt') ] &&
  grep -q '^; final IR: as printed above\$' '$T/pa.txt'"
# Each printed IR into its own file, $T/pa.1, pa.2, ...
awk -v d="$T/pa" '/^; IR after / { k++; on = 1; next } /^(; |summary: |marks:)/ { on = 0; next }
  on { print > (d "." k) }' "$T/pa.txt"
same=0
i=2
while [ -f "$T/pa.$i" ]; do
  cmp -s "$T/pa.$((i - 1))" "$T/pa.$i" && same=1
  i=$((i + 1))
done
check "--print-after all: each printed IR differs from the one before ($((i - 1)) printed)" \
  sh -c "[ $same -eq 0 ] && [ $i -gt 3 ]"
dump pb.txt --print-before all --print-after all "$ALEXA"
check "--print-before all --print-after all: before a pass, the IR after the last is one line" sh -c "
  grep -q '^; before infer: unchanged\$' '$T/pb.txt' && [ \$(grep -c '^graph ' '$T/pb.txt') -eq \$(grep -c '^; IR ' '$T/pb.txt') ]"
dump pf.txt --print-after fold "$ALEXA"
check "--print-after fold: the final IR, changed since, is printed" sh -c "
  [ \$(grep -c '^graph ' '$T/pf.txt') -eq 2 ] && ! grep -q '^; final IR' '$T/pf.txt'"
dump pt.txt --stage train --print-after all "$ALEXA" --head linear:2
check "--stage train --print-after all: the final IR not printed twice" sh -c "
  [ \$(grep -c '^graph ' '$T/pt.txt') -eq \$(grep -c '^; IR after' '$T/pt.txt') ] &&
  grep -q '^; final IR: as printed above\$' '$T/pt.txt' && grep -q '^summary: ' '$T/pt.txt'"

expect_done "dump-freeze checks passed"
