/* ops_elem.c: interpreter glue of elementwise ops: maps nodes to the
 * kernels of kernels/elementwise.c by element type. Half precision types
 * (f16, bf16) are computed in f32 through temporary copies; integer types
 * that lack a kernel for an op go through f64. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static bool is_half(fr_dtype t) { return t == FR_F16 || t == FR_BF16; }

/* ---- temporaries ----------------------------------------------------- */

/* tmp: x's shape in type t, uninitialized heap data (free with fr_free). */
static fr_status tmp_like(const fr_node *n, const fr_tensor *x, fr_dtype t,
                          fr_tensor *tmp) {
  *tmp = *x;
  tmp->dtype = t;
  tmp->kind = FR_KIND_TENSOR;
  size_t bytes = (size_t)fr_tensor_numel(x) * fr_dtype_size(t);
  tmp->data = fr_malloc(bytes ? bytes : 1);
  if (!tmp->data) return fr_err_node(FR_ERR_NOMEM, n, "out of memory");
  return FR_OK;
}

/* y = x converted to y's type (same element count). */
static fr_status cast_into(const fr_node *n, const fr_tensor *x,
                           fr_tensor *y) {
  if (fr_k_cast(x->dtype, y->dtype, fr_tensor_numel(x), x->data, y->data))
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "cast from %s to %s",
                       fr_dtype_name(x->dtype), fr_dtype_name(y->dtype));
  return FR_OK;
}

/* tmp: a copy of x converted to type t. */
static fr_status tmp_cast(const fr_node *n, const fr_tensor *x, fr_dtype t,
                          fr_tensor *tmp) {
  FR_TRY(tmp_like(n, x, t, tmp));
  fr_status st = cast_into(n, x, tmp);
  if (st != FR_OK) {
    fr_free(tmp->data);
    tmp->data = NULL;
  }
  return st;
}

/* ---- broadcasting ---------------------------------------------------- */

/* Drops size-1 dims and merges neighbours that every operand walks the
 * same way (both contiguous, or both broadcast), so same-shape operands
 * become one contiguous row and a scalar a stride-0 row. */
static void coalesce(int *rank, int64_t *dims, int nop,
                     int64_t (*s)[FR_K_MAX_RANK]) {
  int r = 0;
  for (int d = 0; d < *rank; d++) {
    if (dims[d] == 1) continue;
    bool merge = r > 0;
    for (int k = 0; merge && k < nop; k++)
      merge = s[k][r - 1] == s[k][d] * dims[d];
    if (merge) {
      dims[r - 1] *= dims[d];
      for (int k = 0; k < nop; k++) s[k][r - 1] = s[k][d];
    } else {
      dims[r] = dims[d];
      for (int k = 0; k < nop; k++) s[k][r] = s[k][d];
      r++;
    }
  }
  *rank = r;
}

static void bcast2(fr_k_bcast *k, const fr_tensor *a, const fr_tensor *b,
                   const fr_tensor *y) {
  fr_bcast_init(k, a, b, y);
  int64_t s[2][FR_K_MAX_RANK];
  memcpy(s[0], k->sa, sizeof s[0]);
  memcpy(s[1], k->sb, sizeof s[1]);
  coalesce(&k->rank, k->dims, 2, s);
  memcpy(k->sa, s[0], sizeof s[0]);
  memcpy(k->sb, s[1], sizeof s[1]);
}

/* ---- binary kernels by type ------------------------------------------- */

#define BIN_CASE(DT, SFX, T)                                                  \
  case DT:                                                                    \
    if (cmp)                                                                  \
      fr_k_compare_##SFX(kop, &k, a->data, b->data, y->data);                 \
    else                                                                      \
      fr_k_binary_##SFX(kop, &k, a->data, b->data, y->data);                  \
    break;

/* y = a kop b; a and b of one type with a kernel (not f16/bf16). cmp: kop
 * is an fr_k_cmpop and y is bool. */
static fr_status bin_kernel(const fr_node *n, int kop, bool cmp,
                            const fr_tensor *a, const fr_tensor *b,
                            fr_tensor *y) {
  fr_k_bcast k;
  bcast2(&k, a, b, y);
  switch (a->dtype) {
  BIN_CASE(FR_F32, f32, float)
  BIN_CASE(FR_F64, f64, double)
  BIN_CASE(FR_I8, i8, int8_t)
  BIN_CASE(FR_I16, i16, int16_t)
  BIN_CASE(FR_I32, i32, int32_t)
  BIN_CASE(FR_I64, i64, int64_t)
  BIN_CASE(FR_U8, u8, uint8_t)
  BIN_CASE(FR_BOOL, u8, uint8_t)
  BIN_CASE(FR_U16, u16, uint16_t)
  BIN_CASE(FR_U32, u32, uint32_t)
  BIN_CASE(FR_U64, u64, uint64_t)
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(a->dtype));
  }
  return FR_OK;
}

/* Same, f16/bf16 computed in f32. */
static fr_status bin_any(const fr_node *n, int kop, bool cmp,
                         const fr_tensor *a, const fr_tensor *b,
                         fr_tensor *y) {
  if (!is_half(a->dtype)) return bin_kernel(n, kop, cmp, a, b, y);
  fr_tensor ta = {0}, tb = {0}, ty = {0};
  fr_status st = tmp_cast(n, a, FR_F32, &ta);
  if (st == FR_OK) st = tmp_cast(n, b, FR_F32, &tb);
  if (st == FR_OK && !cmp) st = tmp_like(n, y, FR_F32, &ty);
  if (st == FR_OK) st = bin_kernel(n, kop, cmp, &ta, &tb, cmp ? y : &ty);
  if (st == FR_OK && !cmp) st = cast_into(n, &ty, y);
  fr_free(ta.data);
  fr_free(tb.data);
  fr_free(ty.data);
  return st;
}

/* Pow with base and exponent of different types: the exponent takes a
 * float base's type; an integer base with a float exponent computes in f64
 * and truncates. */
static fr_status pow_mixed(const fr_node *n, const fr_tensor *a,
                           const fr_tensor *b, fr_tensor *y) {
  fr_tensor ta = {0}, tb = {0}, ty = {0};
  fr_status st;
  if (fr_dtype_is_float(a->dtype) || fr_dtype_is_int(b->dtype)) {
    st = tmp_cast(n, b, a->dtype, &tb);
    if (st == FR_OK) st = bin_any(n, FR_K_POW, false, a, &tb, y);
  } else {
    st = tmp_cast(n, a, FR_F64, &ta);
    if (st == FR_OK) st = tmp_cast(n, b, FR_F64, &tb);
    if (st == FR_OK) st = tmp_like(n, y, FR_F64, &ty);
    if (st == FR_OK) st = bin_kernel(n, FR_K_POW, false, &ta, &tb, &ty);
    if (st == FR_OK) st = cast_into(n, &ty, y);
  }
  fr_free(ta.data);
  fr_free(tb.data);
  fr_free(ty.data);
  return st;
}

fr_status fr_exec_binary(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)x;
  int kop;
  bool cmp = false;
  switch (n->op) {
  case FR_OP_ADD: kop = FR_K_ADD; break;
  case FR_OP_SUB: kop = FR_K_SUB; break;
  case FR_OP_MUL: kop = FR_K_MUL; break;
  case FR_OP_DIV: kop = FR_K_DIV; break;
  case FR_OP_POW: kop = FR_K_POW; break;
  case FR_OP_MOD: kop = fr_attr_int(n, "fmod", 0) ? FR_K_FMOD : FR_K_MOD; break;
  case FR_OP_PRELU: kop = FR_K_PRELU; break;
  case FR_OP_BITSHIFT:
    kop = strcmp(fr_attr_str(n, "direction", ""), "LEFT") ? FR_K_SHR : FR_K_SHL;
    break;
  case FR_OP_AND: case FR_OP_BITWISEAND: kop = FR_K_AND; break;
  case FR_OP_OR: case FR_OP_BITWISEOR: kop = FR_K_OR; break;
  case FR_OP_XOR: case FR_OP_BITWISEXOR: kop = FR_K_XOR; break;
  case FR_OP_EQUAL: kop = FR_K_EQ; cmp = true; break;
  case FR_OP_GREATER: kop = FR_K_GT; cmp = true; break;
  case FR_OP_LESS: kop = FR_K_LT; cmp = true; break;
  case FR_OP_GREATEROREQUAL: kop = FR_K_GE; cmp = true; break;
  case FR_OP_LESSOREQUAL: kop = FR_K_LE; cmp = true; break;
  default: return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  }
  fr_tensor bv;
  FR_TRY(fr_elem_legacy_operand(n, in[0], in[1], &bv));
  if (in[0]->dtype != bv.dtype) {
    if (n->op != FR_OP_POW)
      return fr_err_node(FR_ERR_SHAPE, n, "operands are %s and %s",
                         fr_dtype_name(in[0]->dtype), fr_dtype_name(bv.dtype));
    return pow_mixed(n, in[0], &bv, out[0]);
  }
  return bin_any(n, kop, cmp, in[0], &bv, out[0]);
}

/* ---- variadic -------------------------------------------------------- */

fr_status fr_exec_variadic(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  fr_tensor *y = out[0];
  int kop = n->op == FR_OP_MAX ? FR_K_MAX : n->op == FR_OP_MIN ? FR_K_MIN
                                                              : FR_K_ADD;
  if (n->n_in == 1) return cast_into(n, in[0], y);
  /* Accumulate in y, or in an f32 copy for f16/bf16. */
  fr_dtype wt = is_half(y->dtype) ? FR_F32 : y->dtype;
  fr_tensor acc = *y, op0 = {0}, op1 = {0};
  fr_status st = FR_OK;
  if (wt != y->dtype) st = tmp_like(n, y, wt, &acc);
  for (int i = 1; i < n->n_in && st == FR_OK; i++) {
    const fr_tensor *a = i == 1 ? in[0] : &acc, *b = in[i];
    if (a->dtype != wt) {
      st = tmp_cast(n, a, wt, &op0);
      a = &op0;
    }
    if (st == FR_OK && b->dtype != wt) {
      st = tmp_cast(n, b, wt, &op1);
      b = &op1;
    }
    if (st == FR_OK) st = bin_kernel(n, kop, false, a, b, &acc);
    fr_free(op0.data);
    fr_free(op1.data);
    op0.data = op1.data = NULL;
  }
  if (st == FR_OK && n->op == FR_OP_MEAN) {
    fr_tensor cnt = {.kind = FR_KIND_TENSOR, .dtype = wt, .rank = 0};
    double c64 = n->n_in;
    float c32 = (float)n->n_in;
    cnt.data = wt == FR_F64 ? (void *)&c64 : (void *)&c32;
    if (wt != FR_F64 && wt != FR_F32)
      st = fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(wt));
    else
      st = bin_kernel(n, FR_K_DIV, false, &acc, &cnt, &acc);
  }
  if (acc.data != y->data) {
    if (st == FR_OK) st = cast_into(n, &acc, y);
    fr_free(acc.data);
  }
  return st;
}

/* ---- unary ----------------------------------------------------------- */

/* The kernel op of a unary node and its parameters. */
static int unary_op(const fr_node *n, fr_k_unary_params *p) {
  p->alpha = p->beta = p->gamma = 0;
  switch (n->op) {
  case FR_OP_ABS: return FR_K_ABS;
  case FR_OP_NEG: return FR_K_NEG;
  case FR_OP_SQRT: return FR_K_SQRT;
  case FR_OP_EXP: return FR_K_EXP;
  case FR_OP_LOG: return FR_K_LOG;
  case FR_OP_RECIPROCAL: return FR_K_RECIPROCAL;
  case FR_OP_FLOOR: return FR_K_FLOOR;
  case FR_OP_CEIL: return FR_K_CEIL;
  case FR_OP_ROUND: return FR_K_ROUND;
  case FR_OP_SIGN: return FR_K_SIGN;
  case FR_OP_SIN: return FR_K_SIN;
  case FR_OP_COS: return FR_K_COS;
  case FR_OP_TAN: return FR_K_TAN;
  case FR_OP_ASIN: return FR_K_ASIN;
  case FR_OP_ACOS: return FR_K_ACOS;
  case FR_OP_ATAN: return FR_K_ATAN;
  case FR_OP_SINH: return FR_K_SINH;
  case FR_OP_COSH: return FR_K_COSH;
  case FR_OP_ASINH: return FR_K_ASINH;
  case FR_OP_ACOSH: return FR_K_ACOSH;
  case FR_OP_ATANH: return FR_K_ATANH;
  case FR_OP_ERF: return FR_K_ERF;
  case FR_OP_TANH: return FR_K_TANH;
  case FR_OP_RELU: return FR_K_RELU;
  case FR_OP_LEAKYRELU:
    p->alpha = fr_attr_float(n, "alpha", 0.01f);
    return FR_K_LEAKYRELU;
  case FR_OP_ELU:
    p->alpha = fr_attr_float(n, "alpha", 1.0f);
    return FR_K_ELU;
  case FR_OP_SELU:
    p->alpha = fr_attr_float(n, "alpha", 1.67326319217681884765625f);
    p->gamma = fr_attr_float(n, "gamma", 1.05070102214813232421875f);
    return FR_K_SELU;
  case FR_OP_CELU:
    p->alpha = fr_attr_float(n, "alpha", 1.0f);
    return FR_K_CELU;
  case FR_OP_SIGMOID: return FR_K_SIGMOID;
  case FR_OP_HARDSIGMOID:
    p->alpha = fr_attr_float(n, "alpha", 0.2f);
    p->beta = fr_attr_float(n, "beta", 0.5f);
    return FR_K_HARDSIGMOID;
  case FR_OP_HARDSWISH: return FR_K_HARDSWISH;
  case FR_OP_SOFTPLUS: return FR_K_SOFTPLUS;
  case FR_OP_SOFTSIGN: return FR_K_SOFTSIGN;
  case FR_OP_THRESHOLDEDRELU:
    p->alpha = fr_attr_float(n, "alpha", 1.0f);
    return FR_K_THRESHOLDEDRELU;
  case FR_OP_SHRINK:
    p->alpha = fr_attr_float(n, "lambd", 0.5f);
    p->beta = fr_attr_float(n, "bias", 0.0f);
    return FR_K_SHRINK;
  case FR_OP_MISH: return FR_K_MISH;
  case FR_OP_NOT: return FR_K_LNOT;
  case FR_OP_BITWISENOT: return FR_K_NOT;
  default: return -1;
  }
}

/* Ops with integer kernels. */
static bool int_unary(int kop) {
  return kop == FR_K_ABS || kop == FR_K_NEG || kop == FR_K_SIGN ||
         kop == FR_K_RELU || kop == FR_K_NOT || kop == FR_K_LNOT;
}

#define UN_INT_CASE(DT, SFX)                                                  \
  case DT: fr_k_unary_##SFX(kop, numel, in->data, y->data); return FR_OK;

static fr_status unary_kernel(const fr_node *n, int kop,
                              const fr_k_unary_params *p, const fr_tensor *in,
                              fr_tensor *y) {
  int64_t numel = fr_tensor_numel(in);
  switch (in->dtype) {
  case FR_F32: fr_k_unary_f32(kop, p, numel, in->data, y->data); return FR_OK;
  case FR_F64: fr_k_unary_f64(kop, p, numel, in->data, y->data); return FR_OK;
  default: break;
  }
  if (is_half(in->dtype) || (!int_unary(kop) && fr_dtype_is_int(in->dtype))) {
    /* f16/bf16 in f32; integer ops without an integer kernel in f64. */
    fr_tensor t;
    FR_TRY(tmp_cast(n, in, is_half(in->dtype) ? FR_F32 : FR_F64, &t));
    if (t.dtype == FR_F32)
      fr_k_unary_f32(kop, p, numel, t.data, t.data);
    else
      fr_k_unary_f64(kop, p, numel, t.data, t.data);
    fr_status st = cast_into(n, &t, y);
    fr_free(t.data);
    return st;
  }
  switch (in->dtype) {
  UN_INT_CASE(FR_I8, i8)
  UN_INT_CASE(FR_I16, i16)
  UN_INT_CASE(FR_I32, i32)
  UN_INT_CASE(FR_I64, i64)
  UN_INT_CASE(FR_U8, u8)
  UN_INT_CASE(FR_BOOL, u8)
  UN_INT_CASE(FR_U16, u16)
  UN_INT_CASE(FR_U32, u32)
  UN_INT_CASE(FR_U64, u64)
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(in->dtype));
  }
}

/* IsNaN, IsInf: floats to bool. */
static fr_status classify(const fr_node *n, const fr_tensor *in,
                          fr_tensor *y) {
  int64_t numel = fr_tensor_numel(in);
  int neg = (int)fr_attr_int(n, "detect_negative", 1);
  int pos = (int)fr_attr_int(n, "detect_positive", 1);
  fr_tensor t = *in;
  if (is_half(in->dtype)) FR_TRY(tmp_cast(n, in, FR_F32, &t));
  if (t.dtype == FR_F32) {
    if (n->op == FR_OP_ISNAN) fr_k_isnan_f32(numel, t.data, y->data);
    else fr_k_isinf_f32(numel, t.data, neg, pos, y->data);
  } else if (t.dtype == FR_F64) {
    if (n->op == FR_OP_ISNAN) fr_k_isnan_f64(numel, t.data, y->data);
    else fr_k_isinf_f64(numel, t.data, neg, pos, y->data);
  }
  if (t.data != in->data) fr_free(t.data);
  return FR_OK;
}

fr_status fr_exec_unary(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  (void)x;
  if (n->op == FR_OP_ISNAN || n->op == FR_OP_ISINF)
    return classify(n, in[0], out[0]);
  fr_k_unary_params p;
  int kop = unary_op(n, &p);
  if (kop < 0) return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  return unary_kernel(n, kop, &p, in[0], out[0]);
}

/* ---- clip ------------------------------------------------------------ */

/* Bound i (1: min, 2: max) as double, or dflt when absent. */
static double bound_f(const fr_node *n, fr_tensor *const *in, int i,
                      double dflt) {
  if (n->opset < 11)
    return i == 1 ? fr_attr_float(n, "min", -INFINITY)
                  : fr_attr_float(n, "max", INFINITY);
  if (i < n->n_in && in[i]) return fr_tensor_get_f64(in[i], 0);
  return dflt;
}

#define CLIP_INT_CASE(DT, SFX, T, LO, HI)                                     \
  case DT: {                                                                  \
    T lo = LO, hi = HI;                                                       \
    if (n->n_in > 1 && in[1]) lo = *(const T *)in[1]->data;                   \
    if (n->n_in > 2 && in[2]) hi = *(const T *)in[2]->data;                   \
    fr_k_clip_##SFX(numel, in[0]->data, lo, hi, y->data);                     \
    return FR_OK;                                                             \
  }

fr_status fr_exec_clip(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  (void)x;
  fr_tensor *y = out[0];
  int64_t numel = fr_tensor_numel(in[0]);
  double lo = bound_f(n, in, 1, -INFINITY), hi = bound_f(n, in, 2, INFINITY);
  switch (in[0]->dtype) {
  case FR_F32:
    fr_k_clip_f32(numel, in[0]->data, (float)lo, (float)hi, y->data);
    return FR_OK;
  case FR_F64:
    fr_k_clip_f64(numel, in[0]->data, lo, hi, y->data);
    return FR_OK;
  case FR_F16: case FR_BF16: {
    fr_tensor t;
    FR_TRY(tmp_cast(n, in[0], FR_F32, &t));
    fr_k_clip_f32(numel, t.data, (float)lo, (float)hi, t.data);
    fr_status st = cast_into(n, &t, y);
    fr_free(t.data);
    return st;
  }
  CLIP_INT_CASE(FR_I8, i8, int8_t, INT8_MIN, INT8_MAX)
  CLIP_INT_CASE(FR_I16, i16, int16_t, INT16_MIN, INT16_MAX)
  CLIP_INT_CASE(FR_I32, i32, int32_t, INT32_MIN, INT32_MAX)
  CLIP_INT_CASE(FR_I64, i64, int64_t, INT64_MIN, INT64_MAX)
  CLIP_INT_CASE(FR_U8, u8, uint8_t, 0, UINT8_MAX)
  CLIP_INT_CASE(FR_U16, u16, uint16_t, 0, UINT16_MAX)
  CLIP_INT_CASE(FR_U32, u32, uint32_t, 0, UINT32_MAX)
  CLIP_INT_CASE(FR_U64, u64, uint64_t, 0, UINT64_MAX)
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(in[0]->dtype));
  }
}

/* ---- where ----------------------------------------------------------- */

fr_status fr_exec_where(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  (void)x;
  fr_tensor *y = out[0];
  fr_k_bcast3 k;
  k.rank = y->rank;
  memcpy(k.dims, y->dims, sizeof(int64_t) * (size_t)y->rank);
  for (int i = 0; i < 3; i++) fr_bcast_strides(in[i], y->rank, y->dims, k.s[i]);
  coalesce(&k.rank, k.dims, 3, k.s);
  const uint8_t *c = in[0]->data;
  switch (fr_dtype_size(y->dtype)) {
  case 1: fr_k_where_8(&k, c, in[1]->data, in[2]->data, y->data); break;
  case 2: fr_k_where_16(&k, c, in[1]->data, in[2]->data, y->data); break;
  case 4: fr_k_where_32(&k, c, in[1]->data, in[2]->data, y->data); break;
  case 8: fr_k_where_64(&k, c, in[1]->data, in[2]->data, y->data); break;
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(y->dtype));
  }
  return FR_OK;
}

/* ---- cast ------------------------------------------------------------ */

/* v printed as NumPy prints a scalar of its type: the shortest digits that
 * read back to the same value, positional for 1e-4 <= |v| < 1e16. */
static void fmt_float(char *buf, size_t len, double v, fr_dtype t) {
  if (isnan(v)) {
    snprintf(buf, len, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, len, v < 0 ? "-inf" : "inf");
    return;
  }
  if (v == 0) {
    snprintf(buf, len, signbit(v) ? "-0.0" : "0.0");
    return;
  }
  char e[64];
  for (int p = 1; p <= 17; p++) {
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    bool same;
    switch (t) {
    case FR_F32: same = strtof(e, NULL) == (float)v; break;
    case FR_F16: same = fr_f32_to_f16(strtof(e, NULL)) == fr_f32_to_f16((float)v); break;
    case FR_BF16: same = fr_f32_to_bf16(strtof(e, NULL)) == fr_f32_to_bf16((float)v); break;
    default: same = strtod(e, NULL) == v; break;
    }
    if (same) break;
  }
  /* e: [-]d[.ddd]e[+-]XX */
  char digits[32];
  int nd = 0, k = 0;
  bool neg = e[0] == '-';
  if (neg) k++;
  for (; e[k] && e[k] != 'e'; k++)
    if (e[k] != '.' && nd < 31) digits[nd++] = e[k];
  digits[nd] = 0;
  int ex = atoi(e + k + 1);
  while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = 0;
  size_t o = 0;
  if (neg) buf[o++] = '-';
  double a = fabs(v);
  if (a >= 1e16 || a < 1e-4) {
    buf[o++] = digits[0];
    if (nd > 1) o += (size_t)snprintf(buf + o, len - o, ".%s", digits + 1);
    snprintf(buf + o, len - o, "e%c%02d", ex < 0 ? '-' : '+', abs(ex));
  } else if (ex >= 0) {
    for (int i = 0; i <= ex; i++) buf[o++] = i < nd ? digits[i] : '0';
    buf[o++] = '.';
    if (nd > ex + 1) o += (size_t)snprintf(buf + o, len - o, "%s", digits + ex + 1);
    else buf[o++] = '0';
    buf[o] = 0;
  } else {
    o += (size_t)snprintf(buf + o, len - o, "0.");
    for (int i = 0; i < -ex - 1; i++) buf[o++] = '0';
    snprintf(buf + o, len - o, "%s", digits);
  }
}

static fr_status to_string(const fr_node *n, const fr_tensor *in,
                           fr_tensor *y) {
  int64_t numel = fr_tensor_numel(in);
  char **s = y->data;
  for (int64_t i = 0; i < numel; i++) {
    char buf[64];
    if (fr_dtype_is_float(in->dtype))
      fmt_float(buf, sizeof buf, fr_tensor_get_f64(in, i), in->dtype);
    else if (in->dtype == FR_BOOL)
      snprintf(buf, sizeof buf, "%s", fr_tensor_get_i64(in, i) ? "True" : "False");
    else if (in->dtype == FR_U64)
      snprintf(buf, sizeof buf, "%llu",
               (unsigned long long)((const uint64_t *)in->data)[i]);
    else
      snprintf(buf, sizeof buf, "%lld", (long long)fr_tensor_get_i64(in, i));
    fr_free(s[i]);
    s[i] = fr_strdup(buf);
    if (!s[i]) return fr_err_node(FR_ERR_NOMEM, n, "out of memory");
  }
  return FR_OK;
}

static fr_status from_string(const fr_node *n, const fr_tensor *in,
                             fr_tensor *y) {
  int64_t numel = fr_tensor_numel(in);
  char *const *s = in->data;
  size_t es = fr_dtype_size(y->dtype);
  for (int64_t i = 0; i < numel; i++) {
    const char *str = s[i] ? s[i] : "";
    char *end;
    void *dst = (char *)y->data + (size_t)i * es;
    int r;
    if (y->dtype == FR_F32) {
      float f = strtof(str, &end);
      r = fr_k_cast(FR_F32, FR_F32, 1, &f, dst);
    } else if (fr_dtype_is_float(y->dtype) || y->dtype == FR_BOOL) {
      double d = strtod(str, &end);
      if (y->dtype == FR_BOOL && end == str) d = str[0] != 0; /* "True" */
      r = fr_k_cast(FR_F64, y->dtype, 1, &d, dst);
    } else if (y->dtype == FR_U64) {
      unsigned long long u = strtoull(str, &end, 10);
      uint64_t v = u;
      r = fr_k_cast(FR_U64, y->dtype, 1, &v, dst);
    } else {
      long long l = strtoll(str, &end, 10);
      int64_t v = l;
      r = fr_k_cast(FR_I64, y->dtype, 1, &v, dst);
    }
    if (r) return fr_err_node(FR_ERR_UNSUPPORTED, n, "cast to %s",
                              fr_dtype_name(y->dtype));
  }
  return FR_OK;
}

fr_status fr_exec_cast(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  (void)x;
  fr_tensor *y = out[0];
  const fr_tensor *a = in[0];
  if (a->dtype == FR_STRING && y->dtype == FR_STRING) {
    fr_tensor c;
    FR_TRY(fr_tensor_clone(a, &c));
    fr_tensor_release(y);
    *y = c;
    return FR_OK;
  }
  if (y->dtype == FR_STRING) return to_string(n, a, y);
  if (a->dtype == FR_STRING) return from_string(n, a, y);
  if (y->dtype == FR_BF16 && a->dtype != FR_BF16 && n->opset < 19) {
    /* The reference of these opsets (and their test data) truncates. */
    fr_tensor t = *a;
    if (a->dtype != FR_F32) FR_TRY(tmp_cast(n, a, FR_F32, &t));
    fr_k_f32_to_bf16_trunc(fr_tensor_numel(a), t.data, y->data);
    if (t.data != a->data) fr_free(t.data);
    return FR_OK;
  }
  return cast_into(n, a, y);
}

/* ---- dropout --------------------------------------------------------- */

/* splitmix64 step on the interpreter's random state. */
static uint64_t next_random(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

fr_status fr_exec_dropout(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  fr_tensor *y = out[0], *mask = n->n_out > 1 ? out[1] : NULL;
  int64_t numel = fr_tensor_numel(in[0]);
  double ratio = 0.5;
  bool training = false;
  if (n->opset >= 12) {
    if (n->n_in > 1 && in[1]) ratio = fr_tensor_get_f64(in[1], 0);
    if (n->n_in > 2 && in[2]) training = fr_tensor_get_i64(in[2], 0) != 0;
  } else {
    /* Before opset 12 Dropout is run for inference (the is_test attribute
     * of opset < 7 is ignored, as inference runtimes do). */
    ratio = fr_attr_float(n, "ratio", 0.5f);
  }
  if (!training || ratio == 0) {
    if (y->data != in[0]->data)
      memcpy(y->data, in[0]->data, fr_tensor_nbytes(in[0]));
    for (int64_t i = 0; mask && i < numel; i++) fr_tensor_set_f64(mask, i, 1);
    return FR_OK;
  }
  if (!(ratio > 0 && ratio < 1))
    return fr_err_node(FR_ERR_INVALID, n, "ratio %g is not in [0, 1)", ratio);
  /* Training: keep each element with probability 1 - ratio, scaled. */
  uint64_t seed = x->rng;
  const fr_attr *sa = fr_attr_find(n, "seed");
  if (sa) seed = (uint64_t)sa->i;
  double scale = 1 / (1 - ratio);
  for (int64_t i = 0; i < numel; i++) {
    double u = (double)(next_random(&seed) >> 11) * 0x1p-53;
    bool keep = u >= ratio;
    fr_tensor_set_f64(y, i, keep ? fr_tensor_get_f64(in[0], i) * scale : 0);
    if (mask) fr_tensor_set_f64(mask, i, keep);
  }
  if (!sa) x->rng = seed;
  return FR_OK;
}
