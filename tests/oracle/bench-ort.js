'use strict';
// ONNX Runtime latency for each oracle case, on one thread by default.
//
//   node tests/oracle/bench-ort.js [runs] [--threads T] [--case NAME]...
//        [--batch B]                       (normally via tests/oracle/bench-ort)
//
// --threads: intra-op threads; --case: only these cases; --batch: their
// inputs' first dim set to B (e.g. --case embedding_8 --batch 32).
// Session: CPU EP, intra-op threads T (1), inter-op 1, sequential, all graph
// optimizations. Inputs are the same seeded tensors as make-refs.js, created
// once. 10 warm-up runs, then `runs` (default 50) timed session.run() calls;
// prints `<case> median_ms=X` (also min and p90 for information). Timings
// include the small onnxruntime-node binding overhead of each run() call.

const L = require('./lib.js');

async function main() {
  const args = process.argv.slice(2);
  let runs = 50, threads = 1, batch = 0;
  const only = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--threads') threads = Number(args[++i]);
    else if (args[i] === '--case') only.push(args[++i]);
    else if (args[i] === '--batch') batch = Number(args[++i]);
    else runs = Number(args[i]);
  }
  const warmup = 10;
  const ort = L.loadOrt();
  console.log(`# onnxruntime-node ${ort.env.versions.node}, ${threads} thread(s), ${warmup} warm-up + ${runs} runs`);
  for (const c0 of L.CASES) {
    if (only.length && !only.includes(c0.name)) continue;
    const c = { ...c0, inputs: {} };
    for (const [k, v] of Object.entries(c0.inputs))
      c.inputs[k] = batch ? { ...v, shape: [batch, ...v.shape.slice(1)] } : v;
    const sess = await ort.InferenceSession.create(L.modelPath(c), L.sessionOptions('all', threads));
    const feeds = L.makeFeeds(ort, c);
    for (let i = 0; i < warmup; i++) await sess.run(feeds);
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await sess.run(feeds);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
    const med = ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
    console.log(`${c.name}${batch ? ' batch ' + batch : ''} median_ms=${med.toFixed(3)} min_ms=${ms[0].toFixed(3)} p90_ms=${q(0.9).toFixed(3)}`);
    if (typeof sess.release === 'function') await sess.release();
  }
}

main().catch((e) => { console.error(`bench-ort: error: ${e.stack || e}`); process.exit(1); });
