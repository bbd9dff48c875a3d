// make-png-data.js DIR N W H: a two-class data set of PNG images for the
// tests of artifacts that decode images: DIR/c0 and DIR/c1 hold N RGB
// images of W x H each, noise in [0, 255], class c1 with a brighter upper
// half. Written with node's zlib (no image tool needed). Seeded: the same
// files every time.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const lib = require('../oracle/lib.js');
const [dir, n, wArg, hArg] = process.argv.slice(2);
const W = Number(wArg), H = Number(hArg);

const crcTable = new Uint32Array(256).map((_, k) => {
  let c = k;
  for (let i = 0; i < 8; i++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(px) { // px: H rows of W RGB bytes
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0);
  ihdr.writeUInt32BE(H, 4);
  ihdr[8] = 8; // depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(H * (1 + 3 * W));
  for (let y = 0; y < H; y++) {
    raw[y * (1 + 3 * W)] = 0; // filter: none
    px.copy(raw, y * (1 + 3 * W) + 1, y * 3 * W, (y + 1) * 3 * W);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
                        chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)),
                        chunk('IEND', Buffer.alloc(0))]);
}
const rnd = lib.mulberry32(7);
for (let c = 0; c < 2; c++) {
  fs.mkdirSync(path.join(dir, `c${c}`), {recursive: true});
  for (let i = 0; i < Number(n); i++) {
    const px = Buffer.alloc(W * H * 3);
    for (let k = 0; k < px.length; k++) {
      const upper = k < px.length / 2;
      px[k] = Math.floor(255 * rnd() * (c === 1 && upper ? 1 : 0.5));
    }
    fs.writeFileSync(path.join(dir, `c${c}`, `s${String(i).padStart(3, '0')}.png`), png(px));
  }
}
