/* ops_elem.c: plans of the elementwise ops (entries in
 * kernels/elementwise.c): the kernel op, broadcast strides and the element
 * type handling. f16/bf16 are computed in f32 and integer types without a
 * kernel for an op in f64, through conversions the entries make in
 * scratch. Cast to and from strings, which allocates, stays here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static bool is_half(fr_dtype t) { return t == FR_F16 || t == FR_BF16; }

static fr_status bad_dtype(const fr_node *n, fr_dtype t) {
  return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s", fr_dtype_name(t));
}

/* Types with binary (and unary integer) kernels of their own. */
static bool has_kernel(fr_dtype t) {
  switch (t) {
  case FR_F32: case FR_F64: case FR_I8: case FR_I16: case FR_I32: case FR_I64:
  case FR_U8: case FR_BOOL: case FR_U16: case FR_U32: case FR_U64:
    return true;
  default: return false;
  }
}

/* Bytes rounded up to 64 (scratch areas start on cache lines). */
static int64_t round64(int64_t b) { return (b + 63) / 64 * 64; }

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

/* ---- binaries ------------------------------------------------------ */

fr_status fr_plan_binary(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  int kop = fr_rt_ops[n->op].kernel; /* a comparison's is an fr_k_cmpop */
  bool cmp = (fr_ops[n->op].flags & FR_OPF_COMPARE) != 0;
  if (kop == FR_K_NONE) return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  /* the variants an attribute picks */
  if (n->op == FR_OP_MOD && fr_attr_int(n, FR_A_FMOD)) kop = FR_K_FMOD;
  if (n->op == FR_OP_BITSHIFT) {
    bool left;
    FR_TRY(fr_elem_shift_left(n, &left));
    if (left) kop = FR_K_SHL;
  }
  const fr_tensor *a = in[0], *y = out[0];
  fr_tensor c = {0};
  FR_TRY(fr_elem_legacy_operand(n, a, in[1], &c));
  /* Pow may mix types: the exponent takes a float base's type; an integer
   * base with a float exponent computes in f64 (truncated into y). */
  fr_dtype work = a->dtype;
  if (a->dtype != c.dtype) {
    if (n->op != FR_OP_POW)
      return fr_err_node(FR_ERR_SHAPE, n, "operands are %s and %s",
                         fr_dtype_name(a->dtype), fr_dtype_name(c.dtype));
    if (!fr_dtype_is_float(a->dtype) && !fr_dtype_is_int(c.dtype))
      work = FR_F64;
  }
  if (is_half(work)) work = FR_F32;
  if (!has_kernel(work)) return bad_dtype(n, a->dtype);
  fr_k_binary_plan p;
  memset(&p, 0, sizeof p);
  p.op = kop;
  p.cmp = cmp;
  p.adtype = a->dtype;
  p.cdtype = c.dtype;
  p.ydtype = y->dtype;
  p.work = work;
  p.na = fr_tensor_numel(a);
  p.nc = fr_tensor_numel(&c);
  p.ny = fr_tensor_numel(y);
  /* scratch: the converted operands and result */
  int64_t es = (int64_t)fr_dtype_size(work), off = 0;
  int wt = work;
  if (p.adtype != wt) {
    if (fr_k_cast(p.adtype, work, 0, NULL, NULL)) return bad_dtype(n, a->dtype);
    p.a_off = off;
    off += round64(p.na * es);
  }
  if (p.cdtype != wt) {
    if (fr_k_cast(p.cdtype, work, 0, NULL, NULL)) return bad_dtype(n, c.dtype);
    p.c_off = off;
    off += round64(p.nc * es);
  }
  if (!cmp && p.ydtype != wt) {
    if (fr_k_cast(work, p.ydtype, 0, NULL, NULL)) return bad_dtype(n, y->dtype);
    p.y_off = off;
    off += round64(p.ny * es);
  }
  bcast2(&p.b, a, &c, y);
  kp->scratch = (size_t)off;
  FR_KPLAN(kp, fr_ke_binary, p);
  return FR_OK;
}

/* ---- variadic ------------------------------------------------------ */

fr_status fr_plan_variadic(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *y = out[0];
  int n_in = n->n_in;
  _Alignas(16) unsigned char buf[FR_KPLAN_MAX];
  fr_k_variadic_plan *p = (fr_k_variadic_plan *)buf;
  size_t size = sizeof *p + (size_t)n_in;
  if (size > sizeof buf)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "%d inputs", n_in);
  memset(buf, 0, size);
  p->op = fr_rt_ops[n->op].kernel; /* Mean: the sum, then divided */
  p->mean = n->op == FR_OP_MEAN;
  p->dtype = y->dtype;
  p->work = is_half(y->dtype) ? FR_F32 : y->dtype;
  p->n_in = n_in;
  p->ny = fr_tensor_numel(y);
  for (int i = 0; i < n_in; i++)
    if (!in[i] || in[i]->dtype != y->dtype)
      return fr_err_node(FR_ERR_SHAPE, n, "input %d is not %s", i,
                         fr_dtype_name(y->dtype));
  if (n_in > 1 && (!has_kernel(p->work) ||
                   (p->mean && p->work != FR_F32 && p->work != FR_F64)))
    return bad_dtype(n, y->dtype);
  /* Each input's broadcast dims over y (dims of 1 dropped), then
   * neighbours merged where every input is broadcast along both or
   * along neither. */
  int keep[FR_MAX_RANK], nk = 0;
  for (int d = 0; d < y->rank; d++)
    if (y->dims[d] != 1) keep[nk++] = d;
  for (int i = 0; i < n_in; i++) {
    const fr_tensor *t = in[i];
    unsigned m = 0;
    for (int k = 0; k < nk; k++) {
      int ti = keep[k] - (y->rank - t->rank);
      if (ti < 0 || t->dims[ti] == 1) m |= 1u << k;
    }
    p->bmask[i] = (uint8_t)m;
  }
  int first[FR_MAX_RANK], r = 0; /* first kept dim of each merged dim */
  for (int k = 0; k < nk; k++) {
    bool merge = r > 0;
    for (int i = 0; merge && i < n_in; i++)
      merge = (p->bmask[i] >> (k - 1) & 1) == (p->bmask[i] >> k & 1);
    if (merge) {
      p->dims[r - 1] *= y->dims[keep[k]];
    } else {
      p->dims[r] = y->dims[keep[k]];
      first[r++] = k;
    }
  }
  for (int i = 0; i < n_in; i++) {
    unsigned m = 0;
    for (int g = 0; g < r; g++) m |= (p->bmask[i] >> first[g] & 1u) << g;
    p->bmask[i] = (uint8_t)m;
  }
  p->rank = r;
  if (p->work != p->dtype) {
    p->in_off = round64(p->ny * 4);
    kp->scratch = (size_t)(p->in_off + 2 * round64(p->ny * 4));
  }
  fr_kplan_set(kp, "fr_ke_variadic", fr_ke_variadic, buf, size);
  return FR_OK;
}

/* ---- unary ----------------------------------------------------------- */

/* The kernel op of a unary node and its parameters. */
static int unary_op(const fr_node *n, fr_k_unary_params *p) {
  p->alpha = p->beta = p->gamma = 0;
  if (n->op == FR_OP_SHRINK) {
    p->alpha = fr_attr_float(n, FR_A_LAMBD);
    p->beta = fr_attr_float(n, FR_A_BIAS);
  } else {
    if (fr_op_has_attr(n->op, FR_A_ALPHA)) p->alpha = fr_attr_float(n, FR_A_ALPHA);
    if (fr_op_has_attr(n->op, FR_A_BETA)) p->beta = fr_attr_float(n, FR_A_BETA);
    if (fr_op_has_attr(n->op, FR_A_GAMMA)) p->gamma = fr_attr_float(n, FR_A_GAMMA);
  }
  return fr_rt_ops[n->op].kernel;
}

/* Ops with integer kernels. */
static bool int_unary(int kop) {
  return kop == FR_K_ABS || kop == FR_K_NEG || kop == FR_K_SIGN ||
         kop == FR_K_RELU || kop == FR_K_NOT || kop == FR_K_LNOT;
}

fr_status fr_plan_unary(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *x = in[0];
  fr_k_unary_plan p;
  memset(&p, 0, sizeof p);
  p.dtype = x->dtype;
  p.n = fr_tensor_numel(x);
  fr_dtype work = x->dtype;
  if (n->op == FR_OP_ISNAN || n->op == FR_OP_ISINF) {
    p.classify = n->op == FR_OP_ISNAN ? 1 : 2;
    p.neg = p.pos = 1; /* IsNaN has neither */
    if (n->op == FR_OP_ISINF) {
      p.neg = (int)fr_attr_int(n, FR_A_DETECT_NEGATIVE);
      p.pos = (int)fr_attr_int(n, FR_A_DETECT_POSITIVE);
    }
    if (is_half(work)) work = FR_F32;
    if (work != FR_F32 && work != FR_F64) return bad_dtype(n, x->dtype);
  } else {
    p.op = unary_op(n, &p.a);
    if (p.op < 0) return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
    if (is_half(work)) work = FR_F32;
    else if (fr_dtype_is_int(work) && !int_unary(p.op)) work = FR_F64;
    if (!has_kernel(work)) return bad_dtype(n, x->dtype);
  }
  p.work = work;
  if (work != x->dtype) kp->scratch = (size_t)p.n * fr_dtype_size(work);
  FR_KPLAN(kp, fr_ke_unary, p);
  return FR_OK;
}

/* ---- clip ------------------------------------------------------------ */

fr_status fr_plan_clip(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *x = in[0];
  fr_k_clip_plan p;
  memset(&p, 0, sizeof p);
  p.dtype = x->dtype;
  p.n = fr_tensor_numel(x);
  size_t es = fr_dtype_size(x->dtype);
  if (!has_kernel(x->dtype) && !is_half(x->dtype)) return bad_dtype(n, x->dtype);
  if (x->dtype == FR_BOOL) return bad_dtype(n, x->dtype);
  float alo, ahi;
  if (fr_elem_clip_attrs(n, &alo, &ahi)) {
    /* bounds as attributes (float types only) */
    if (fr_dtype_is_float(x->dtype)) {
      fr_tensor lo = {.dtype = x->dtype, .data = p.lo};
      fr_tensor hi = {.dtype = x->dtype, .data = p.hi};
      fr_tensor_set_f64(&lo, 0, alo);
      fr_tensor_set_f64(&hi, 0, ahi);
      p.lo_from = p.hi_from = FR_K_BOUND_PARAM;
    }
  } else {
    /* bounds as scalar inputs: known now (constants) or read at run time */
    for (int i = 1; i <= 2; i++) {
      const fr_tensor *b = i < n->n_in ? in[i] : NULL;
      int *from = i == 1 ? &p.lo_from : &p.hi_from;
      if (!b) continue;
      if (b->dtype != x->dtype)
        return fr_err_node(FR_ERR_SHAPE, n, "bounds are not %s",
                           fr_dtype_name(x->dtype));
      if (b->data) {
        memcpy(i == 1 ? p.lo : p.hi, b->data, es);
        *from = FR_K_BOUND_PARAM;
      } else {
        *from = FR_K_BOUND_BUF;
      }
    }
  }
  if (is_half(x->dtype)) kp->scratch = (size_t)p.n * sizeof(float);
  FR_KPLAN(kp, fr_ke_clip, p);
  return FR_OK;
}

/* ---- where ----------------------------------------------------------- */

fr_status fr_plan_where(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *y = out[0];
  fr_k_where_plan p;
  memset(&p, 0, sizeof p);
  p.esize = (int64_t)fr_dtype_size(y->dtype);
  if (p.esize != 1 && p.esize != 2 && p.esize != 4 && p.esize != 8)
    return bad_dtype(n, y->dtype);
  p.b.rank = y->rank;
  memcpy(p.b.dims, y->dims, sizeof(int64_t) * (size_t)y->rank);
  for (int i = 0; i < 3; i++) fr_bcast_strides(in[i], y->rank, y->dims, p.b.s[i]);
  coalesce(&p.b.rank, p.b.dims, 3, p.b.s);
  FR_KPLAN(kp, fr_ke_where, p);
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
    if (!s[i]) return fr_err_nomem(n);
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

fr_status fr_plan_cast(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *a = in[0], *y = out[0];
  fr_k_cast_plan p;
  memset(&p, 0, sizeof p);
  p.from = a->dtype;
  p.to = y->dtype;
  p.n = fr_tensor_numel(a);
  p.y = n->op == FR_OP_CASTLIKE ? 2 : 1;
  /* The reference of opsets < 19 (and their test data) truncates to bf16. */
  p.bf16_trunc = y->dtype == FR_BF16 && a->dtype != FR_BF16 && n->opset < 19;
  fr_dtype to = p.bf16_trunc ? FR_F32 : y->dtype;
  if (a->dtype != to && fr_k_cast(a->dtype, to, 0, NULL, NULL))
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "cast from %s to %s",
                       fr_dtype_name(a->dtype), fr_dtype_name(y->dtype));
  if (p.bf16_trunc && a->dtype != FR_F32)
    kp->scratch = (size_t)p.n * sizeof(float);
  FR_KPLAN(kp, fr_ke_cast, p);
  return FR_OK;
}

/* Casts from and to strings allocate: they are done here; the others run
 * through the plan. */
fr_status fr_exec_cast(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  fr_tensor *y = out[0];
  const fr_tensor *a = in[0];
  if (a->dtype == FR_STRING && y->dtype == FR_STRING) {
    fr_tensor c = {0};
    FR_TRY(fr_tensor_clone(a, &c));
    fr_tensor_release(y);
    *y = c;
    return FR_OK;
  }
  if (y->dtype == FR_STRING) return to_string(n, a, y);
  if (a->dtype == FR_STRING) return from_string(n, a, y);
  return fr_exec_planned(x, n, in, out);
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
    ratio = fr_attr_float(n, FR_A_RATIO);
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
  const fr_attr *sa = fr_attr_get(n, FR_A_SEED);
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
