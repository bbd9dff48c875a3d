'use strict';
// Shared pieces for make-refs.js and bench-ort.js:
//   - mulberry32 PRNG (deterministic, seeded),
//   - the list of oracle cases (model, inputs, seeds, value ranges),
//   - a minimal NumPy .npy (format v1.0) writer,
//   - ONNX Runtime session options used for the reference runs.

const fs = require('fs');
const os = require('os');
const path = require('path');

const ORACLE_DIR = __dirname;
const REPO_ROOT = path.resolve(ORACLE_DIR, '..', '..');
const MODELS_DIR = process.env.FROST_MODELS_DIR || path.join(REPO_ROOT, 'models');
const REF_DIR = path.join(ORACLE_DIR, 'ref');

// mulberry32 (Tommy Ettinger, public domain). 32-bit state; each call
// returns a double in [0, 1) equal to (32-bit output) / 2^32.
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Fill a Float32Array with values lo + (hi - lo) * u, u from mulberry32(seed),
// computed in double precision and rounded to float32, in C (row-major) order.
function uniform(n, seed, lo, hi) {
  const rnd = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rnd();
  return out;
}

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

// Each input: { shape, seed, gen(n, seed) -> Float32Array, range: text for docs }.
const CASES = [
  {
    // openWakeWord feeds raw int16 PCM samples (16 kHz) converted to float32,
    // i.e. values on the int16 scale. Samples [0, 10000) are uniform noise with
    // amplitude 4096, samples [10000, 16000) uniform noise with amplitude 0.1:
    // the ~92 dB drop makes the model's "clip at max - 80 dB" floor (global
    // ReduceMax + Clip with a tensor min) actually clip some frames.
    name: 'melspectrogram',
    model: 'melspectrogram.onnx',
    inputs: {
      input: {
        shape: [1, 16000], seed: 1,
        range: 'uniform [-4096,4096] for samples 0..9999, uniform [-0.1,0.1] for samples 10000..15999',
        gen(n, seed) {
          const rnd = mulberry32(seed);
          const out = new Float32Array(n);
          for (let i = 0; i < n; i++) {
            const amp = (i % 16000) < 10000 ? 4096 : 0.1;
            out[i] = amp * (2 * rnd() - 1);
          }
          return out;
        },
      },
    },
  },
  {
    // openWakeWord feeds the embedding model melspectrogram output transformed
    // as x/10 + 2; for real audio that lands roughly in [0, 9].
    name: 'embedding_1',
    model: 'embedding_model.onnx',
    inputs: { input_1: { shape: [1, 76, 32, 1], seed: 2, range: 'uniform [0,8]', gen: (n, s) => uniform(n, s, 0, 8) } },
  },
  {
    name: 'embedding_8',
    model: 'embedding_model.onnx',
    inputs: { input_1: { shape: [8, 76, 32, 1], seed: 3, range: 'uniform [0,8]', gen: (n, s) => uniform(n, s, 0, 8) } },
  },
  {
    // Real embeddings are roughly in [-40, 50], but with such inputs (or any
    // uniform input wider than ~±0.05) hey_mycroft's sigmoid saturates to
    // exactly 1.0 (or 0.0), which would make the reference useless. The small
    // amplitude gives an unsaturated output (~0.5).
    name: 'hey_mycroft',
    model: 'hey_mycroft_v0.1.onnx',
    inputs: { 'onnx::Flatten_0': { shape: [1, 16, 96], seed: 4, range: 'uniform [-0.035,0.035]', gen: (n, s) => uniform(n, s, -0.035, 0.035) } },
  },
  {
    name: 'alexa',
    model: 'alexa_v0.1.onnx',
    inputs: { 'onnx::Flatten_0': { shape: [1, 16, 96], seed: 5, range: 'uniform [-4,4]', gen: (n, s) => uniform(n, s, -4, 4) } },
  },
  {
    name: 'timer',
    model: 'timer_v0.1.onnx',
    inputs: { 'onnx::Flatten_0': { shape: [1, 34, 96], seed: 6, range: 'uniform [-10,10]', gen: (n, s) => uniform(n, s, -10, 10) } },
  },
  {
    // PaddleOCR normalizes images as (pixel/255 - 0.5) / 0.5, i.e. to [-1, 1].
    name: 'ppocr_cls',
    model: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    inputs: { x: { shape: [1, 3, 48, 192], seed: 7, range: 'uniform [-1,1]', gen: (n, s) => uniform(n, s, -1, 1) } },
  },
];

// Replace every char outside [A-Za-z0-9._-] by '_' (used for file names).
const sanitize = (name) => name.replace(/[^A-Za-z0-9._-]/g, '_');

// ---- NumPy .npy v1.0 writer -------------------------------------------
const NPY_DESCR = {
  float32: '<f4', float64: '<f8', float16: '<f2',
  int8: '|i1', uint8: '|u1', int16: '<i2', uint16: '<u2',
  int32: '<i4', uint32: '<u4', int64: '<i8', uint64: '<u8', bool: '|b1',
};

function npyBytes(type, shape, data) {
  const descr = NPY_DESCR[type];
  if (!descr) throw new Error(`npy: unsupported tensor type ${type}`);
  if (os.endianness() !== 'LE') throw new Error('npy: big-endian host not supported');
  if (data.length !== numel(shape)) throw new Error('npy: data length does not match shape');
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // magic(6) + version(2) + header_len(2) + header, padded with spaces and
  // terminated by '\n' so that the total is a multiple of 64 (as numpy does).
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  let body;
  if (type === 'bool') body = Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)));
  else body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

function writeNpy(file, type, shape, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, npyBytes(type, shape, data));
}

// ---- ONNX Runtime ---------------------------------------------------------
function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    console.error('onnxruntime-node not installed; run tests/oracle/make-refs (it runs npm install)');
    throw e;
  }
}

function sessionOptions(graphOptimizationLevel, threads = 1) {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel,
  };
}

function modelPath(c) {
  const p = path.join(MODELS_DIR, c.model);
  if (!fs.existsSync(p)) throw new Error(`${p} missing; run scripts/fetch-models`);
  return p;
}

// Build the ORT feeds (and the raw arrays) for a case.
function makeFeeds(ort, c) {
  const feeds = {};
  for (const [name, spec] of Object.entries(c.inputs)) {
    const data = spec.gen(numel(spec.shape), spec.seed);
    feeds[name] = new ort.Tensor('float32', data, spec.shape);
  }
  return feeds;
}

module.exports = {
  ORACLE_DIR, REPO_ROOT, MODELS_DIR, REF_DIR, CASES,
  mulberry32, uniform, numel, sanitize, npyBytes, writeNpy,
  loadOrt, sessionOptions, modelPath, makeFeeds,
};
