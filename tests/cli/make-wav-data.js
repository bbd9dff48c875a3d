// make-wav-data.js DIR N SECONDS: a two-class audio data set of 16 kHz
// PCM16 mono WAV clips for the front-end tests: DIR/noise holds white
// noise, DIR/tone a tone (300-900 Hz) in the same noise. Seeded.
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('../oracle/lib.js');
const [dir, n, seconds] = process.argv.slice(2);
const rnd = lib.mulberry32(7);
const L = Math.round(16000 * Number(seconds));
for (const cls of ['noise', 'tone'])
  for (let i = 0; i < Number(n); i++) {
    const b = Buffer.alloc(44 + 2 * L);
    b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * L, 4); b.write('WAVE', 8);
    b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20);
    b.writeUInt16LE(1, 22); b.writeUInt32LE(16000, 24); b.writeUInt32LE(32000, 28);
    b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
    b.write('data', 36); b.writeUInt32LE(2 * L, 40);
    const f = 300 + 600 * rnd(), amp = 2000 + 4000 * rnd();
    for (let k = 0; k < L; k++) {
      let v = (rnd() * 2 - 1) * 1500;
      if (cls === 'tone') v += amp * Math.sin(2 * Math.PI * f * k / 16000);
      b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v))), 44 + 2 * k);
    }
    fs.mkdirSync(path.join(dir, cls), { recursive: true });
    fs.writeFileSync(path.join(dir, cls, `c${String(i).padStart(3, '0')}.wav`), b);
  }
