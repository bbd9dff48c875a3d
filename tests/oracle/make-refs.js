'use strict';
// Generate reference inputs/outputs for frost with ONNX Runtime.
//
//   node tests/oracle/make-refs.js        (normally via tests/oracle/make-refs)
//
// For every case in lib.js: seeded inputs -> ref/<case>/<input>.npy, ORT
// outputs -> ref/<case>/out/<sanitized output name>.npy, plus ref/cases.txt.
// References are computed with graph optimizations disabled (the plain
// operator semantics), one thread. As a sanity check the outputs are also
// computed with all optimizations enabled and the max abs difference printed.

const fs = require('fs');
const path = require('path');
const L = require('./lib.js');

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
}

function range(a) {
  let lo = Infinity, hi = -Infinity;
  for (const v of a) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

async function main() {
  const ort = L.loadOrt();
  console.log(`onnxruntime-node ${ort.env.versions.node}, models from ${L.MODELS_DIR}`);
  fs.mkdirSync(L.REF_DIR, { recursive: true });
  const lines = [];
  for (const c of L.CASES) {
    const mp = L.modelPath(c);
    const sess = await ort.InferenceSession.create(mp, L.sessionOptions('disabled'));
    const sessOpt = await ort.InferenceSession.create(mp, L.sessionOptions('all'));
    for (const name of Object.keys(c.inputs)) {
      if (!sess.inputNames.includes(name)) {
        throw new Error(`${c.name}: model has no input ${JSON.stringify(name)} (has ${JSON.stringify(sess.inputNames)})`);
      }
    }
    if (sess.inputNames.length !== Object.keys(c.inputs).length) {
      throw new Error(`${c.name}: model inputs ${JSON.stringify(sess.inputNames)} not all provided`);
    }
    const feeds = L.makeFeeds(ort, c);
    const res = await sess.run(feeds);
    const resOpt = await sessOpt.run(feeds);

    const dir = path.join(L.REF_DIR, c.name);
    fs.rmSync(dir, { recursive: true, force: true });
    const parts = [c.name, c.model];
    for (const [name, t] of Object.entries(feeds)) {
      const rel = `${c.name}/${L.sanitize(name)}.npy`;
      L.writeNpy(path.join(L.REF_DIR, rel), t.type, t.dims, t.data);
      parts.push(`${name}=${rel}`);
    }
    for (const name of sess.outputNames) {
      const t = res[name];
      L.writeNpy(path.join(dir, 'out', `${L.sanitize(name)}.npy`), t.type, t.dims, t.data);
      const [lo, hi] = range(t.data);
      const d = maxAbsDiff(t.data, resOpt[name].data);
      const preview = t.data.length <= 8 ? ` values=[${Array.from(t.data, (v) => Number(v).toPrecision(6)).join(', ')}]` : '';
      console.log(`${c.name}: out ${JSON.stringify(name)} ${t.type}[${t.dims.join('x')}] ` +
        `min=${lo.toPrecision(6)} max=${hi.toPrecision(6)} |disabled-all|=${d.toExponential(2)}${preview}`);
    }
    lines.push(parts.join(' '));
    if (typeof sess.release === 'function') { await sess.release(); await sessOpt.release(); }
  }
  fs.writeFileSync(path.join(L.REF_DIR, 'cases.txt'), lines.join('\n') + '\n');
  console.log(`wrote ${path.relative(L.REPO_ROOT, L.REF_DIR)}/cases.txt (${lines.length} cases)`);
}

main().catch((e) => { console.error(`make-refs: error: ${e.stack || e}`); process.exit(1); });
