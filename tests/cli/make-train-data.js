// make-train-data.js DIR N SHAPE: a two-class data set of .npy samples for
// the training tests: DIR/c0 and DIR/c1 hold N samples each of SHAPE
// (comma-separated), uniform in [0, 8], class c1 with a brighter upper half
// (a pattern a frozen feature extractor keeps). Seeded: the same files
// every time.
'use strict';
const path = require('path');
const lib = require('../oracle/lib.js');
const [dir, n, shapeArg] = process.argv.slice(2);
const shape = shapeArg.split(',').map(Number);
const numel = shape.reduce((a, b) => a * b, 1);
const rnd = lib.mulberry32(42);
for (let c = 0; c < 2; c++)
  for (let i = 0; i < Number(n); i++) {
    const d = new Float32Array(numel);
    for (let k = 0; k < numel; k++) {
      const upper = k < numel / 2;
      d[k] = 8 * rnd() * (c === 1 && upper ? 1 : 0.5);
    }
    lib.writeNpy(path.join(dir, `c${c}`, `s${String(i).padStart(3, '0')}.npy`), 'float32', shape, d);
  }
