// stack-npy.js OUT.npy SHAPE IN.npy...: the float32 samples IN (each of
// SHAPE, comma-separated, written with a 128-byte .npy header as
// tests/oracle/lib.js writes them) stacked into one batch OUT of shape
// [count, SHAPE...], for feeding frost run and ONNX Runtime.
'use strict';
const fs = require('fs');
const lib = require('../oracle/lib.js');
const [out, shapeArg, ...files] = process.argv.slice(2);
const shape = shapeArg.split(',').map(Number);
const numel = shape.reduce((a, b) => a * b, 1);
const x = new Float32Array(files.length * numel);
files.forEach((f, i) => {
  const b = fs.readFileSync(f);
  x.set(new Float32Array(b.buffer.slice(b.byteOffset + 128, b.byteOffset + b.length)), i * numel);
});
lib.writeNpy(out, 'float32', [files.length, ...shape], x);
