/* value_pb.c: .pb test files holding a SequenceProto or an OptionalProto
 * (messages of onnx-data.proto, which protobuf-c does not know here).
 *
 * A small, bounds-checked protobuf wire-format reader decodes just these two
 * messages; the TensorProto values inside are handed to protobuf-c. The
 * files are untrusted: every varint, length and nesting level is checked.
 *
 *   SequenceProto { 1 name, 2 elem_type, 3 tensor_values (repeated),
 *                   4 sparse_tensor_values, 5 sequence_values,
 *                   6 map_values, 7 optional_values }
 *   OptionalProto { 1 name, 2 elem_type, 3 tensor_value,
 *                   4 sparse_tensor_value, 5 sequence_value, 6 map_value,
 *                   7 optional_value }
 *   elem_type: 0 undefined, 1 tensor, 2 sparse tensor, 3 sequence, 4 map,
 *              5 optional
 *
 * Result: a sequence is {kind SEQUENCE, dtype of its elements, rank 1,
 * dims[0] = count, data = fr_tensor** of heap tensors}; an optional is
 * {kind OPTIONAL, dtype of its innermost elements, rank 0, data = fr_tensor*
 * or NULL}. */
#include <string.h>

#include "onnx.h"
#include "onnx.pb-c.h"

enum { MAX_NEST = 16, MAX_ELEMS = 1 << 20 };

enum { ELEM_UNDEFINED = 0, ELEM_TENSOR, ELEM_SPARSE, ELEM_SEQUENCE, ELEM_MAP,
       ELEM_OPTIONAL };

typedef fr_wire wire;
typedef fr_wire_field field;

static fr_status bad(const char *what) {
  return fr_err(FR_ERR_PARSE, "malformed protobuf: %s", what);
}

static fr_status read_sequence(wire w, int depth, fr_dtype hint,
                               fr_tensor *out);
static fr_status read_optional(wire w, int depth, fr_dtype hint,
                               fr_tensor *out);

/* A TensorProto's bytes to a heap tensor. */
static fr_status read_tensor(wire w, fr_tensor **out) {
  *out = NULL;
  unsigned long failures = fr_pb_alloc_failures();
  Onnx__TensorProto *tp =
      onnx__tensor_proto__unpack(fr_pb_allocator(), (size_t)(w.end - w.p), w.p);
  if (!tp && fr_pb_alloc_failures() != failures)
    return fr_err(FR_ERR_NOMEM, "out of memory decoding a tensor value");
  if (!tp) return bad("a tensor value is not a valid TensorProto");
  fr_tensor *t = fr_calloc(1, sizeof *t);
  fr_status st = t ? fr_onnx_tensor(tp, NULL, NULL, t)
                   : fr_err_nomem(NULL);
  onnx__tensor_proto__free_unpacked(tp, fr_pb_allocator());
  if (st != FR_OK) {
    if (t) fr_onnx_value_free(t);
    fr_free(t);
    return st;
  }
  *out = t;
  return FR_OK;
}

/* A nested sequence or optional to a heap tensor. */
static fr_status read_nested(wire w, int depth, fr_kind kind, fr_dtype hint,
                             fr_tensor **out) {
  *out = NULL;
  fr_tensor *t = fr_calloc(1, sizeof *t);
  if (!t) return fr_err_nomem(NULL);
  fr_status st = kind == FR_KIND_SEQUENCE ? read_sequence(w, depth, hint, t)
                                          : read_optional(w, depth, hint, t);
  if (st != FR_OK) {
    fr_free(t);
    return st;
  }
  *out = t;
  return FR_OK;
}

static fr_status read_sequence(wire w, int depth, fr_dtype hint,
                               fr_tensor *out) {
  memset(out, 0, sizeof *out);
  out->kind = FR_KIND_SEQUENCE;
  out->dtype = hint;
  out->rank = 1;
  if (depth > MAX_NEST) return bad("values nested too deeply");
  /* First pass: element type and count. */
  uint64_t elem_type = ELEM_UNDEFINED;
  int64_t count[8] = {0};
  wire s = w;
  while (s.p < s.end) {
    field f;
    FR_TRY(fr_wire_next(&s, &f));
    if (f.num == 2 && f.type == 0) elem_type = f.v;
    if (f.num >= 3 && f.num <= 7 && f.type == 2) count[f.num]++;
  }
  if (count[4] || count[6] || elem_type == ELEM_SPARSE ||
      elem_type == ELEM_MAP)
    return fr_err(FR_ERR_UNSUPPORTED, "sequences of sparse tensors or maps");
  uint32_t want = elem_type == ELEM_TENSOR     ? 3
                  : elem_type == ELEM_SEQUENCE ? 5
                  : elem_type == ELEM_OPTIONAL ? 7
                                               : 0;
  int64_t n = want ? count[want] : 0;
  if (elem_type > ELEM_OPTIONAL) return bad("unknown sequence element type");
  if (n > MAX_ELEMS) return bad("too many sequence elements");
  fr_tensor **el = fr_calloc((size_t)n + 1, sizeof *el);
  if (!el) return fr_err_nomem(NULL);
  out->data = el;
  fr_status st = FR_OK;
  int64_t k = 0;
  s = w;
  while (st == FR_OK && s.p < s.end) {
    field f;
    st = fr_wire_next(&s, &f);
    if (st != FR_OK || f.num != want || f.type != 2) continue;
    if (k >= n) {
      st = bad("sequence changed while reading");
      break;
    }
    if (want == 3) st = read_tensor(f.sub, &el[k]);
    else
      st = read_nested(f.sub, depth + 1,
                       want == 5 ? FR_KIND_SEQUENCE : FR_KIND_OPTIONAL, hint,
                       &el[k]);
    if (st == FR_OK) out->dims[0] = ++k;
  }
  if (st == FR_OK && k > 0 && el[0]->dtype != FR_UNDEFINED)
    out->dtype = el[0]->dtype;
  for (int64_t i = 0; st == FR_OK && i < k; i++)
    if (el[i]->dtype != out->dtype)
      st = fr_err(FR_ERR_INVALID, "sequence elements of different types");
  if (st != FR_OK) fr_onnx_value_free(out);
  return st;
}

static fr_status read_optional(wire w, int depth, fr_dtype hint,
                               fr_tensor *out) {
  memset(out, 0, sizeof *out);
  out->kind = FR_KIND_OPTIONAL;
  out->dtype = hint;
  out->rank = 0;
  if (depth > MAX_NEST) return bad("values nested too deeply");
  uint64_t elem_type = ELEM_UNDEFINED;
  wire s = w;
  while (s.p < s.end) {
    field f;
    FR_TRY(fr_wire_next(&s, &f));
    if (f.num == 2 && f.type == 0) elem_type = f.v;
  }
  if (elem_type == ELEM_SPARSE || elem_type == ELEM_MAP)
    return fr_err(FR_ERR_UNSUPPORTED, "optionals of sparse tensors or maps");
  if (elem_type > ELEM_OPTIONAL) return bad("unknown optional element type");
  uint32_t want = elem_type == ELEM_TENSOR     ? 3
                  : elem_type == ELEM_SEQUENCE ? 5
                  : elem_type == ELEM_OPTIONAL ? 7
                                               : 0;
  fr_tensor *el = NULL;
  s = w;
  while (want && s.p < s.end) {
    field f;
    FR_TRY(fr_wire_next(&s, &f));
    if (f.num != want || f.type != 2) continue;
    if (el) {
      fr_onnx_value_free(el);
      fr_free(el);
      return bad("an optional holds two values");
    }
    if (want == 3) FR_TRY(read_tensor(f.sub, &el));
    else
      FR_TRY(read_nested(f.sub, depth + 1,
                         want == 5 ? FR_KIND_SEQUENCE : FR_KIND_OPTIONAL,
                         hint, &el));
  }
  if (el && el->kind == FR_KIND_OPTIONAL) {
    fr_onnx_value_free(el);
    fr_free(el);
    return fr_err(FR_ERR_UNSUPPORTED, "optional of an optional");
  }
  out->data = el;
  if (el && el->dtype != FR_UNDEFINED) out->dtype = el->dtype;
  return FR_OK;
}

fr_status fr_onnx_parse_value_pb(const uint8_t *buf, size_t len, fr_kind kind,
                                 fr_dtype dtype, fr_tensor *out) {
  memset(out, 0, sizeof *out);
  if (kind == FR_KIND_TENSOR) return fr_onnx_parse_pb(buf, len, out, NULL);
  wire w = {buf, buf + len};
  fr_status st = kind == FR_KIND_SEQUENCE ? read_sequence(w, 0, dtype, out)
                                          : read_optional(w, 0, dtype, out);
  if (st != FR_OK) memset(out, 0, sizeof *out);
  return st;
}

fr_status fr_onnx_read_value_pb(const char *path, fr_kind kind,
                                fr_dtype dtype, fr_tensor *out) {
  memset(out, 0, sizeof *out);
  uint8_t *buf;
  size_t len;
  FR_TRY(fr_read_file(path, &buf, &len));
  fr_status st = fr_onnx_parse_value_pb(buf, len, kind, dtype, out);
  fr_free(buf);
  if (st != FR_OK) fr_err_prefix(path);
  return st;
}

void fr_onnx_value_free(fr_tensor *t) {
  if (!t->data) return;
  if (t->kind == FR_KIND_SEQUENCE) {
    fr_tensor **el = t->data;
    for (int64_t i = 0; i < t->dims[0]; i++) {
      if (!el[i]) continue;
      fr_onnx_value_free(el[i]);
      fr_free(el[i]);
    }
    fr_free(el);
    t->data = NULL;
  } else if (t->kind == FR_KIND_OPTIONAL) {
    fr_onnx_value_free(t->data);
    fr_free(t->data);
    t->data = NULL;
  } else {
    fr_onnx_tensor_free(t);
  }
}
