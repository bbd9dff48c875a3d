'use strict';
// ort-bench.js: ONNX Runtime latency of one model, for bench/run.
//
//   node bench/ort-bench.js MODEL THREADS ITERS [NAME=DIMS ...]
//
// Times ITERS session.run() calls after 10 warm-up runs on seeded uniform
// [-1, 1) inputs of the given shapes (every input named, float32), with
// THREADS intra-op threads and all graph optimizations, and prints
// `median_ms=X min_ms=Y`. onnxruntime-node comes from NODE_PATH.
const ort = require('onnxruntime-node');

function mulberry32(a) {
  return () => {
    let t = (a += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main() {
  const [model, threads, iters, ...specs] = process.argv.slice(2);
  const opts = {
    executionProviders: ['cpu'], intraOpNumThreads: Number(threads),
    interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  };
  const sess = await ort.InferenceSession.create(model, opts);
  const feeds = {};
  let seed = 1;
  for (const s of specs) {
    const [name, dims] = s.split('=');
    const shape = dims.split('x').map(Number);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const next = mulberry32(seed++);
    for (let i = 0; i < data.length; i++) data[i] = 2 * next() - 1;
    feeds[name] = new ort.Tensor('float32', data, shape);
  }
  for (let i = 0; i < 10; i++) await sess.run(feeds);
  const ms = [];
  for (let i = 0; i < Number(iters); i++) {
    const t0 = process.hrtime.bigint();
    await sess.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const n = ms.length, med = n % 2 ? ms[(n - 1) / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  console.log(`median_ms=${med.toFixed(3)} min_ms=${ms[0].toFixed(3)}`);
}

main().catch((e) => { console.error(`ort-bench: error: ${e.message}`); process.exit(1); });
