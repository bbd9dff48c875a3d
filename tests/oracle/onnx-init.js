// onnx-init.js: writes a float parameter of an ONNX model (an initializer,
// or the value of a Constant node) as a .npy file, so a test can check
// what frost wrote into a model file. A small protobuf reader: only the
// fields it needs (ModelProto.graph, GraphProto.initializer and node,
// NodeProto.output/op_type/attribute, AttributeProto.name/t, TensorProto
// dims/data_type/float_data/name/raw_data).
//
//   node tests/oracle/onnx-init.js MODEL NAME OUT.npy
'use strict';
const fs = require('fs');
const lib = require('./lib.js');

function varint(b, p) {
  let v = 0n, s = 0n;
  for (;;) {
    const c = b[p.i++];
    v |= BigInt(c & 0x7f) << s;
    if (!(c & 0x80)) return v;
    s += 7n;
  }
}

// The fields of message b[start, end): [{f, wire, v (bigint) | data (Buffer)}].
function fields(b, start, end) {
  const out = [], p = { i: start };
  while (p.i < end) {
    const key = Number(varint(b, p)), f = key >> 3, w = key & 7;
    if (w === 0) out.push({ f, w, v: varint(b, p) });
    else if (w === 2) {
      const n = Number(varint(b, p));
      out.push({ f, w, data: b.subarray(p.i, p.i + n) });
      p.i += n;
    } else if (w === 5) { out.push({ f, w, data: b.subarray(p.i, p.i + 4) }); p.i += 4; }
    else if (w === 1) { out.push({ f, w, data: b.subarray(p.i, p.i + 8) }); p.i += 8; }
    else throw new Error(`wire type ${w}`);
  }
  return out;
}
const sub = (d) => fields(d, 0, d.length);
const str = (d) => d.toString('utf8');

function tensor(d) {
  const t = { dims: [], name: '', type: 0, raw: null, floats: [] };
  for (const x of sub(d)) {
    if (x.f === 1 && x.w === 0) t.dims.push(Number(x.v));
    else if (x.f === 1 && x.w === 2) { const p = { i: 0 }; while (p.i < x.data.length) t.dims.push(Number(varint(x.data, p))); }
    else if (x.f === 2) t.type = Number(x.v);
    else if (x.f === 8) t.name = str(x.data);
    else if (x.f === 9) t.raw = x.data;
    else if (x.f === 4 && x.w === 2) for (let k = 0; k < x.data.length; k += 4) t.floats.push(x.data.readFloatLE(k));
    else if (x.f === 4 && x.w === 5) t.floats.push(x.data.readFloatLE(0));
  }
  return t;
}

const [model, name, out] = process.argv.slice(2);
const b = fs.readFileSync(model);
const graph = sub(b).find((x) => x.f === 7).data;
let found = null;
for (const x of sub(graph)) {
  if (x.f === 5) { const t = tensor(x.data); if (t.name === name) found = t; }
  if (x.f === 1) {
    const nf = sub(x.data);
    const outs = nf.filter((y) => y.f === 2).map((y) => str(y.data));
    const op = nf.find((y) => y.f === 4);
    if (!op || str(op.data) !== 'Constant' || outs[0] !== name) continue;
    for (const a of nf.filter((y) => y.f === 5)) {
      const af = sub(a.data);
      const an = af.find((y) => y.f === 1);
      const at = af.find((y) => y.f === 5);
      if (an && str(an.data) === 'value' && at) found = tensor(at.data);
    }
  }
}
if (!found) { console.error(`onnx-init: ${model} has no parameter ${name}`); process.exit(1); }
if (found.type !== 1) { console.error(`onnx-init: ${name} is not float`); process.exit(1); }
const data = found.raw
  ? new Float32Array(found.raw.buffer.slice(found.raw.byteOffset, found.raw.byteOffset + found.raw.length))
  : Float32Array.from(found.floats);
lib.writeNpy(out, 'float32', found.dims, data);
