/* infer_elem.c: shape inference of elementwise ops - unary maps and
 * activations, Clip, broadcasting binaries and comparisons, the variadic
 * Max/Min/Mean/Sum, Where, Cast/CastLike and Dropout. */
#include <string.h>

#include "ir.h"

/* Classes of element types an op accepts. */
enum { C_FLOAT = 1, C_INT = 2, C_BOOL = 4, C_NUM = C_FLOAT | C_INT };

static unsigned dtype_class(fr_dtype t) {
  if (fr_dtype_is_float(t)) return C_FLOAT;
  if (fr_dtype_is_int(t)) return C_INT;
  if (t == FR_BOOL) return C_BOOL;
  return 0;
}

/* Checks that input i is a present tensor of one of the classes. */
static fr_status need(const fr_node *n, fr_tensor *const *in, int i,
                      unsigned classes) {
  const fr_tensor *t = in[i];
  if (!t) return fr_err_node(FR_ERR_INVALID, n, "input %d is missing", i);
  if (t->kind != FR_KIND_TENSOR)
    return fr_err_node(FR_ERR_SHAPE, n, "input %d is not a tensor", i);
  if (!dtype_class(t->dtype)) /* strings, complex numbers */
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "input %d: data type %s is not "
                       "supported", i, fr_dtype_name(t->dtype));
  if (!(dtype_class(t->dtype) & classes))
    return fr_err_node(FR_ERR_SHAPE, n, "input %d: data type %s is not "
                       "allowed", i, fr_dtype_name(t->dtype));
  return FR_OK;
}

static fr_status same_dtype(const fr_node *n, const fr_tensor *a,
                            const fr_tensor *b) {
  if (a->dtype != b->dtype)
    return fr_err_node(FR_ERR_SHAPE, n, "operands are %s and %s",
                       fr_dtype_name(a->dtype), fr_dtype_name(b->dtype));
  return FR_OK;
}

/* ---- unary ----------------------------------------------------------- */

fr_status fr_infer_unary(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  unsigned cls;
  fr_dtype ot = in[0] ? in[0]->dtype : FR_UNDEFINED;
  switch (n->op) {
  case FR_OP_ABS: case FR_OP_NEG: case FR_OP_SIGN: case FR_OP_RELU:
  case FR_OP_SHRINK:
    cls = C_NUM;
    break;
  case FR_OP_NOT: cls = C_BOOL; break;
  case FR_OP_BITWISENOT: cls = C_INT; break;
  case FR_OP_ISNAN: case FR_OP_ISINF:
    cls = C_FLOAT;
    ot = FR_BOOL;
    break;
  default: cls = C_FLOAT; break;
  }
  FR_TRY(need(n, in, 0, cls));
  fr_set_shape(out[0], ot, in[0]->rank, in[0]->dims);
  return FR_OK;
}

/* ---- clip ------------------------------------------------------------ */

fr_status fr_infer_clip(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  FR_TRY(need(n, in, 0, n->opset < 11 ? C_FLOAT : C_NUM));
  for (int i = 1; i < n->n_in; i++) {
    if (!in[i]) continue;
    if (n->opset < 11)
      return fr_err_node(FR_ERR_INVALID, n, "takes 1 input before opset 11");
    FR_TRY(need(n, in, i, C_NUM));
    FR_TRY(same_dtype(n, in[0], in[i]));
    if (fr_tensor_numel(in[i]) != 1)
      return fr_err_node(FR_ERR_SHAPE, n, "%s must be a scalar",
                         i == 1 ? "min" : "max");
  }
  fr_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
  return FR_OK;
}

/* ---- binaries -------------------------------------------------------- */

/* Operand b as the broadcasting rules of opset < 7 see it: with broadcast=1,
 * b's dims line up with a's from `axis` (default: the trailing dims);
 * without, the shapes must be equal. PRelu-6's slope of size C applies
 * per channel (axis 1). Ops added at opset 7 or later use numpy
 * broadcasting. */
fr_status fr_elem_legacy_operand(const fr_node *n, const fr_tensor *a,
                                 const fr_tensor *b, fr_tensor *view) {
  *view = *b;
  bool legacy = n->opset < 7;
  switch (n->op) {
  case FR_OP_ADD: case FR_OP_SUB: case FR_OP_MUL: case FR_OP_DIV:
  case FR_OP_POW: case FR_OP_AND: case FR_OP_OR: case FR_OP_XOR:
  case FR_OP_EQUAL: case FR_OP_GREATER: case FR_OP_LESS:
    break;
  case FR_OP_PRELU:
    /* PRelu-6 has no broadcasting: a slope of size C is per channel,
     * along axis 1 (the _multiparam tests). */
    if (legacy && b->rank == 1 && a->rank >= 2 && b->dims[0] > 1 &&
        b->dims[0] == a->dims[1]) {
      view->rank = a->rank;
      for (int i = 0; i < a->rank; i++) view->dims[i] = i == 1 ? b->dims[0] : 1;
    }
    return FR_OK;
  default: legacy = false; break;
  }
  if (!legacy) return FR_OK;
  char sa[128], sb[128];
  if (!fr_attr_int(n, FR_A_BROADCAST)) {
    bool same = a->rank == b->rank;
    for (int i = 0; same && i < a->rank; i++) same = a->dims[i] == b->dims[i];
    if (!same)
      return fr_err_node(FR_ERR_SHAPE, n, "shapes %s and %s differ and "
                         "broadcast is not set",
                         fr_shape_str(a, sa, sizeof sa),
                         fr_shape_str(b, sb, sizeof sb));
    return FR_OK;
  }
  int64_t axis = fr_attr_get(n, FR_A_AXIS) ? fr_attr_int(n, FR_A_AXIS)
                                          : a->rank - b->rank;
  if (axis < 0) axis += a->rank;
  if (b->rank > a->rank || axis < 0 || axis + b->rank > a->rank)
    return fr_err_node(FR_ERR_SHAPE, n, "cannot broadcast %s into %s at "
                       "axis %lld", fr_shape_str(b, sb, sizeof sb),
                       fr_shape_str(a, sa, sizeof sa), (long long)axis);
  view->rank = a->rank;
  for (int i = 0; i < a->rank; i++) view->dims[i] = 1;
  for (int i = 0; i < b->rank; i++) view->dims[axis + i] = b->dims[i];
  return FR_OK;
}

bool fr_elem_clip_attrs(const fr_node *n, float *lo, float *hi) {
  if (n->opset >= 11) return false;
  *lo = fr_attr_float(n, FR_A_MIN);
  *hi = fr_attr_float(n, FR_A_MAX);
  return true;
}

fr_status fr_elem_shift_left(const fr_node *n, bool *left) {
  const char *d = fr_attr_str(n, FR_A_DIRECTION);
  if (!d || (strcmp(d, "LEFT") && strcmp(d, "RIGHT")))
    return fr_err_node(FR_ERR_INVALID, n, "direction '%s' is not LEFT or "
                       "RIGHT", d ? d : "");
  *left = !strcmp(d, "LEFT");
  return FR_OK;
}

fr_status fr_infer_binary(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  unsigned cls = C_NUM;
  fr_dtype ot = FR_UNDEFINED; /* the operands' type */
  bool mixed = false;
  switch (n->op) {
  case FR_OP_POW: mixed = true; break;
  case FR_OP_RELU_GRAD: cls = C_FLOAT; break;
  case FR_OP_BITSHIFT: case FR_OP_BITWISEAND: case FR_OP_BITWISEOR:
  case FR_OP_BITWISEXOR:
    cls = C_INT;
    break;
  case FR_OP_AND: case FR_OP_OR: case FR_OP_XOR:
    cls = C_BOOL;
    break;
  case FR_OP_EQUAL:
    cls = C_NUM | C_BOOL;
    break;
  default: break;
  }
  if (fr_ops[n->op].flags & FR_OPF_COMPARE) ot = FR_BOOL;
  FR_TRY(need(n, in, 0, cls));
  FR_TRY(need(n, in, 1, cls));
  if (!mixed) FR_TRY(same_dtype(n, in[0], in[1]));
  bool left;
  if (n->op == FR_OP_BITSHIFT) FR_TRY(fr_elem_shift_left(n, &left));
  fr_tensor bv = {0};
  FR_TRY(fr_elem_legacy_operand(n, in[0], in[1], &bv));
  int rank;
  int64_t dims[FR_MAX_RANK];
  FR_TRY(fr_broadcast(n, in[0], &bv, &rank, dims));
  if (n->op == FR_OP_PRELU) { /* slope broadcasts to X, not the reverse */
    bool same = rank == in[0]->rank;
    for (int i = 0; same && i < rank; i++) same = dims[i] == in[0]->dims[i];
    if (!same) {
      char sa[128], sb[128];
      return fr_err_node(FR_ERR_SHAPE, n, "slope %s does not broadcast to %s",
                         fr_shape_str(in[1], sb, sizeof sb),
                         fr_shape_str(in[0], sa, sizeof sa));
    }
  }
  fr_set_shape(out[0], ot ? ot : in[0]->dtype, rank, dims);
  return FR_OK;
}

/* ---- variadic -------------------------------------------------------- */

fr_status fr_infer_variadic(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  unsigned cls = n->op == FR_OP_MEAN ? C_FLOAT : C_NUM;
  FR_TRY(need(n, in, 0, cls));
  fr_tensor acc = *in[0];
  acc.data = NULL;
  for (int i = 1; i < n->n_in; i++) {
    FR_TRY(need(n, in, i, cls));
    FR_TRY(same_dtype(n, in[0], in[i]));
    int rank;
    int64_t dims[FR_MAX_RANK];
    FR_TRY(fr_broadcast(n, &acc, in[i], &rank, dims));
    acc.rank = rank;
    memcpy(acc.dims, dims, sizeof(int64_t) * (size_t)rank);
  }
  fr_set_shape(out[0], in[0]->dtype, acc.rank, acc.dims);
  return FR_OK;
}

/* ---- where ----------------------------------------------------------- */

fr_status fr_infer_where(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  FR_TRY(need(n, in, 0, C_BOOL));
  FR_TRY(need(n, in, 1, C_NUM | C_BOOL));
  FR_TRY(need(n, in, 2, C_NUM | C_BOOL));
  FR_TRY(same_dtype(n, in[1], in[2]));
  fr_tensor acc = *in[0];
  for (int i = 1; i < 3; i++) {
    int rank;
    int64_t dims[FR_MAX_RANK];
    FR_TRY(fr_broadcast(n, &acc, in[i], &rank, dims));
    acc.rank = rank;
    memcpy(acc.dims, dims, sizeof(int64_t) * (size_t)rank);
  }
  fr_set_shape(out[0], in[1]->dtype, acc.rank, acc.dims);
  return FR_OK;
}

/* ---- cast ------------------------------------------------------------ */

static bool castable(fr_dtype t) {
  return (dtype_class(t) & (C_NUM | C_BOOL)) || t == FR_STRING;
}

/* The target type of Cast: attribute `to`, a number, or before opset 6 a
 * name ("FLOAT", "INT64", ...). */
fr_status fr_elem_cast_target(const fr_node *n, fr_dtype *to) {
  static const char *names[FR_DTYPE_COUNT] = {
      [FR_F32] = "FLOAT",    [FR_U8] = "UINT8",   [FR_I8] = "INT8",
      [FR_U16] = "UINT16",   [FR_I16] = "INT16",  [FR_I32] = "INT32",
      [FR_I64] = "INT64",    [FR_STRING] = "STRING", [FR_BOOL] = "BOOL",
      [FR_F16] = "FLOAT16",  [FR_F64] = "DOUBLE", [FR_U32] = "UINT32",
      [FR_U64] = "UINT64",   [FR_BF16] = "BFLOAT16",
  };
  const fr_attr *a = fr_attr_get(n, FR_A_TO);
  if (!a) return fr_err_node(FR_ERR_INVALID, n, "attribute 'to' is missing");
  int64_t t = -1;
  if (a->type == FR_ATTR_STRING) {
    for (int i = 0; i < FR_DTYPE_COUNT; i++)
      if (names[i] && !strcmp(names[i], a->s)) t = i;
    if (t < 0)
      return fr_err_node(FR_ERR_INVALID, n, "unknown type '%s'", a->s);
  } else if (a->type == FR_ATTR_INT) {
    t = a->i;
  } else {
    return fr_err_node(FR_ERR_INVALID, n, "attribute 'to' has a wrong type");
  }
  if (t <= 0 || t >= FR_DTYPE_COUNT || !castable((fr_dtype)t))
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "cast to type %lld is not "
                       "supported", (long long)t);
  *to = (fr_dtype)t;
  return FR_OK;
}

fr_status fr_infer_cast(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  fr_dtype to;
  if (!in[0] || in[0]->kind != FR_KIND_TENSOR)
    return fr_err_node(FR_ERR_SHAPE, n, "input is not a tensor");
  if (n->op == FR_OP_CASTLIKE) {
    if (!in[1] || in[1]->kind != FR_KIND_TENSOR)
      return fr_err_node(FR_ERR_SHAPE, n, "target_type is not a tensor");
    to = in[1]->dtype;
  } else {
    FR_TRY(fr_elem_cast_target(n, &to));
  }
  if (!castable(in[0]->dtype) || !castable(to))
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "cast from %s to %s is not "
                       "supported", fr_dtype_name(in[0]->dtype),
                       fr_dtype_name(to));
  fr_set_shape(out[0], to, in[0]->rank, in[0]->dims);
  return FR_OK;
}

/* ---- dropout --------------------------------------------------------- */

fr_status fr_infer_dropout(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  FR_TRY(need(n, in, 0, C_FLOAT));
  if (n->n_in > 1 && n->opset < 12)
    return fr_err_node(FR_ERR_INVALID, n, "takes 1 input before opset 12");
  if (n->n_in > 1 && in[1]) {
    FR_TRY(need(n, in, 1, C_FLOAT));
    if (fr_tensor_numel(in[1]) != 1)
      return fr_err_node(FR_ERR_SHAPE, n, "ratio must be a scalar");
  }
  if (n->n_in > 2 && in[2]) {
    FR_TRY(need(n, in, 2, C_BOOL));
    if (fr_tensor_numel(in[2]) != 1)
      return fr_err_node(FR_ERR_SHAPE, n, "training_mode must be a scalar");
  }
  fr_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
  if (n->n_out > 1 && out[1])
    fr_set_shape(out[1], n->opset >= 10 ? FR_BOOL : in[0]->dtype,
                 in[0]->rank, in[0]->dims);
  return FR_OK;
}
