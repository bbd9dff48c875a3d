// run-ort.js: runs a model with ONNX Runtime on .npy inputs and writes its
// outputs as .npy files (names sanitized as frost run writes them), so a
// test can compare frost with ONNX Runtime on a model frost wrote.
//
//   node tests/oracle/run-ort.js MODEL OUTDIR NAME=FILE.npy...
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./lib.js');

const TYPES = { '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array] };

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const hlen = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const off = b[6] === 1 ? 10 : 12;
  const h = b.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(h)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  const t = TYPES[descr];
  if (!t) throw new Error(`${file}: dtype ${descr}`);
  const body = b.subarray(off + hlen);
  const data = new t[1](body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return { type: t[0], shape, data };
}

async function main() {
  const [model, outdir, ...specs] = process.argv.slice(2);
  const ort = lib.loadOrt();
  const feeds = {};
  for (const s of specs) {
    const eq = s.lastIndexOf('=');
    const a = readNpy(s.slice(eq + 1));
    feeds[s.slice(0, eq)] = new ort.Tensor(a.type, a.data, a.shape);
  }
  const sess = await ort.InferenceSession.create(model, lib.sessionOptions('all'));
  const out = await sess.run(feeds);
  for (const [name, t] of Object.entries(out))
    lib.writeNpy(path.join(outdir, lib.sanitize(name) + '.npy'), t.type, t.dims, t.data);
}

main().catch((e) => { console.error(`run-ort: ${e.message}`); process.exit(1); });
