'use strict';
// Single-thread ONNX Runtime latency for each oracle case.
//
//   node tests/oracle/bench-ort.js [runs]     (normally via tests/oracle/bench-ort)
//
// Session: CPU EP, intra/inter-op threads = 1, sequential, all graph
// optimizations. Inputs are the same seeded tensors as make-refs.js, created
// once. 10 warm-up runs, then `runs` (default 50) timed session.run() calls;
// prints `<case> median_ms=X` (also min and p90 for information). Timings
// include the small onnxruntime-node binding overhead of each run() call.

const L = require('./lib.js');

async function main() {
  const runs = Number(process.argv[2] || 50);
  const warmup = 10;
  const ort = L.loadOrt();
  console.log(`# onnxruntime-node ${ort.env.versions.node}, 1 thread, ${warmup} warm-up + ${runs} runs`);
  for (const c of L.CASES) {
    const sess = await ort.InferenceSession.create(L.modelPath(c), L.sessionOptions('all'));
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
    console.log(`${c.name} median_ms=${med.toFixed(3)} min_ms=${ms[0].toFixed(3)} p90_ms=${q(0.9).toFixed(3)}`);
    if (typeof sess.release === 'function') await sess.release();
  }
}

main().catch((e) => { console.error(`bench-ort: error: ${e.stack || e}`); process.exit(1); });
