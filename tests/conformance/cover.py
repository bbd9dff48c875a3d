#!/usr/bin/python3
# cover.py: picks, for every op used by a passing node test
# (tests/conformance/node.txt), the smallest test that uses it, and prints
# the sorted list: tests/conformance/memcheck.txt, run under valgrind by
# tests/cli/memcheck-conformance.sh. A developer aid (python3-onnx).
#
#   /usr/bin/python3 tests/conformance/cover.py > tests/conformance/memcheck.txt
import onnx, os, sys
D='/usr/share/libonnx-testdata/data/node'
passing=set(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'node.txt')).read().split())
def ops(g, acc):
    for n in g.node:
        acc.add((n.domain or '', n.op_type))
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH: ops(a.g, acc)
            for sg in a.graphs: ops(sg, acc)
    return acc
tests={}
for t in sorted(os.listdir(D)):
    if t not in passing: continue
    m=onnx.load(os.path.join(D,t,'model.onnx'))
    sz=sum(os.path.getsize(os.path.join(dp,f)) for dp,dn,fn in os.walk(os.path.join(D,t)) for f in fn)
    tests[t]=(ops(m.graph,set()),sz)
allops=set().union(*[v[0] for v in tests.values()])
chosen=[]; covered=set()
# greedy: for each op (rarest first), pick the smallest test containing it
for op in sorted(allops, key=lambda o: sum(1 for v in tests.values() if o in v[0])):
    if op in covered: continue
    cands=[t for t,v in tests.items() if op in v[0]]
    t=min(cands, key=lambda t:(tests[t][1], t))
    chosen.append(t); covered |= tests[t][0]
print(len(allops), len(chosen), file=sys.stderr)
print("\n".join(sorted(chosen)))
