// make-model.js CASE_DIR OUT.onnx: builds a case's model.onnx from its
// model.json (the graph PyTorch exported) and init/ (each initializer as
// .npy), so no ONNX file is committed. A small protobuf writer: the fields
// of ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto and
// ValueInfoProto those graphs use.
'use strict';
const fs = require('fs');
const path = require('path');

function varint(n) {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (f, w) => varint((f << 3) | w);
const vint = (f, v) => Buffer.concat([key(f, 0), varint(v)]);
const bytes = (f, b) => Buffer.concat([key(f, 2), varint(b.length), b]);
const str = (f, s) => bytes(f, Buffer.from(s, 'utf8'));
const msg = (f, parts) => bytes(f, Buffer.concat(parts));
function f32(f, x) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x, 0);
  return Buffer.concat([key(f, 5), b]);
}

// A float32 .npy (version 1, C order).
function readNpy(file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const h = b.toString('latin1', 10, 10 + hlen);
  if (!h.includes("'<f4'") || h.includes("'fortran_order': True"))
    throw new Error(`${file}: not a float32 C-order .npy`);
  const dims = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',').map((s) => s.trim())
    .filter((s) => s.length).map(Number);
  return { dims, raw: b.subarray(10 + hlen) };
}

const ATTR_TYPE = { float: 1, int: 2, floats: 6, ints: 7 };
function attribute(a) {
  const parts = [str(1, a.name), vint(20, ATTR_TYPE[a.type])];
  if (a.type === 'float') parts.push(f32(2, a.value));
  else if (a.type === 'int') parts.push(vint(3, a.value));
  else if (a.type === 'floats') for (const v of a.value) parts.push(f32(7, v));
  else if (a.type === 'ints') for (const v of a.value) parts.push(vint(8, v));
  else throw new Error(`attribute type ${a.type}`);
  return msg(5, parts);
}

function valueInfo(f, v) {
  const dims = v.dims.map((d) => msg(1, [typeof d === 'string' ? str(2, d) : vint(1, d)]));
  const tensor = msg(1, [vint(1, v.elem_type), msg(2, dims)]);
  return msg(f, [str(1, v.name), msg(2, [tensor])]);
}

const [dir, out] = process.argv.slice(2);
const m = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
const graph = [];
for (const n of m.nodes)
  graph.push(msg(1, [...n.inputs.map((s) => str(1, s)), ...n.outputs.map((s) => str(2, s)),
                     str(3, n.name), str(4, n.op), ...n.attrs.map(attribute)]));
graph.push(str(2, 'main'));
for (const i of m.initializers) {
  const a = readNpy(path.join(dir, 'init', i.file));
  graph.push(msg(5, [...a.dims.map((d) => vint(1, d)), vint(2, 1), str(8, i.name), bytes(9, a.raw)]));
}
for (const v of m.inputs) graph.push(valueInfo(11, v));
for (const v of m.outputs) graph.push(valueInfo(12, v));
const model = Buffer.concat([
  vint(1, m.ir_version),
  ...m.opset.map((o) => msg(8, [str(1, o.domain), vint(2, o.version)])),
  msg(7, graph),
]);
fs.writeFileSync(out, model);
