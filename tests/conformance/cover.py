#!/usr/bin/python3
# cover.py: picks small sets of passing node tests (tests/conformance/
# node.txt) that cover frost's code paths, for the valgrind runs of
# tests/cli/memcheck-conformance.sh. A developer aid (python3-onnx).
#
#   cover.py ops   > tests/conformance/memcheck.txt      every op, smallest test each
#   cover.py plans > tests/conformance/memcheck-jit.txt  every kernel plan
#
# The JIT adds to the interpreter's path one thing per node: the op's plan
# (its parameter block, embedded in the module as a constant) and the call
# of its kernel entry; ops without a plan call back into the interpreter.
# So the JIT run covers every plan function of ir/ops.def (and one op
# without a plan), the interpreter run every op.
import onnx, os, re, sys
HERE = os.path.dirname(os.path.abspath(__file__))
D = '/usr/share/libonnx-testdata/data/node'
passing = set(open(os.path.join(HERE, 'node.txt')).read().split())

def ops(g, acc):
    for n in g.node:
        acc.add((n.domain or '', n.op_type))
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH: ops(a.g, acc)
            for sg in a.graphs: ops(sg, acc)
    return acc

tests = {}
for t in sorted(os.listdir(D)):
    if t not in passing: continue
    m = onnx.load(os.path.join(D, t, 'model.onnx'))
    sz = sum(os.path.getsize(os.path.join(dp, f))
             for dp, dn, fn in os.walk(os.path.join(D, t)) for f in fn)
    tests[t] = (ops(m.graph, set()), sz)

# key(op) -> what must be covered: the op itself, or its plan function
if sys.argv[1:] == ['plans']:
    plan = {}
    for line in open(os.path.join(HERE, '../../ir/ops.def')):
        if not line.startswith('FR_OP('): continue
        f = [x.strip() for x in line[6:].rsplit(')', 1)[0].split(',')]
        plan[(f[2].strip('"'), f[1].strip('"'))] = f[12]
    # every op without a plan shares one path: the interpreter fallback
    key = lambda o: plan.get(o, 'fr_plan_none')
elif sys.argv[1:] == ['ops']:
    key = lambda o: o
else:
    sys.exit('usage: cover.py ops|plans')

need = {}
for t, (os_, _) in tests.items():
    for o in os_: need.setdefault(key(o), set()).add(t)
chosen, covered = [], set()
# rarest first, the smallest test that has it
for k in sorted(need, key=lambda k: (len(need[k]), k)):
    if k in covered: continue
    t = min(need[k], key=lambda t: (tests[t][1], t))
    chosen.append(t)
    covered |= {key(o) for o in tests[t][0]}
print(len(need), 'to cover,', len(chosen), 'tests', file=sys.stderr)
print('\n'.join(sorted(chosen)))
