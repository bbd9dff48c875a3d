// make-multitask-data.js DIR N: a two-task data set of N .npy samples of
// shape [76, 32, 1] (frames, bands) for tests/cli/multitask.sh, with
//   DIR/tasks.csv  path,time,band: time is "early" when the first 38
//                  frames are brighter, else "late"; band is "low", "mid"
//                  or "high", the third of the bands that is brighter. Every
//                  seventh row has no band label (an empty cell).
//   DIR/time.csv   path,label: the time labels alone (a single-task run).
//   DIR/band.csv   path,label: the rows with a band label, alone.
// Each task is learnable from its own part of the input. Seeded: the same
// files every time.
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('../oracle/lib.js');
const [dir, nArg] = process.argv.slice(2);
const n = Number(nArg);
const F = 76, C = 32;
const rnd = lib.mulberry32(7);
const bands = ['low', 'mid', 'high'];
const rows = ['path,time,band'], time = ['path,label'], band = ['path,label'];
fs.mkdirSync(dir, { recursive: true });
for (let i = 0; i < n; i++) {
  const early = i % 2 === 0, b = Math.floor(i / 2) % 3;
  const d = new Float32Array(F * C);
  for (let f = 0; f < F; f++)
    for (let c = 0; c < C; c++) {
      let v = 4 * rnd();
      if ((f < F / 2) === early) v *= 2;
      if (Math.floor(c / 11) === b) v *= 2;
      d[f * C + c] = v;
    }
  const file = `s${String(i).padStart(3, '0')}.npy`;
  lib.writeNpy(path.join(dir, file), 'float32', [F, C, 1], d);
  const t = early ? 'early' : 'late';
  const missing = i % 7 === 3;
  rows.push(`${file},${t},${missing ? '' : bands[b]}`);
  time.push(`${file},${t}`);
  if (!missing) band.push(`${file},${bands[b]}`);
}
fs.writeFileSync(path.join(dir, 'tasks.csv'), rows.join('\n') + '\n');
fs.writeFileSync(path.join(dir, 'time.csv'), time.join('\n') + '\n');
fs.writeFileSync(path.join(dir, 'band.csv'), band.join('\n') + '\n');
