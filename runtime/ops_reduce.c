/* ops_reduce.c: interpreter glue of reductions (Reduce*, ArgMax, ArgMin),
 * the softmax family, CumSum, TopK, normalizations and losses: reads the
 * attributes, views tensors as (outer, n, inner) around an axis, and calls
 * the kernels of kernels/reduce.c. */
#include <string.h>

#include "runtime.h"

static fr_status bad_dtype(const fr_node *n, const fr_tensor *t) {
  return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                     fr_dtype_name(t->dtype));
}

static fr_status nomem(const fr_node *n) {
  return fr_err_node(FR_ERR_NOMEM, n, "out of memory");
}

static int64_t prod(const int64_t *d, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= d[i];
  return p;
}

/* Views t as (outer, n, inner) around axis. */
static void split3(const fr_tensor *t, int axis, int64_t *outer, int64_t *n,
                   int64_t *inner) {
  *outer = prod(t->dims, 0, axis);
  *n = t->dims[axis];
  *inner = prod(t->dims, axis + 1, t->rank);
}

/* Merges the axes of x into a kernel reduction descriptor: axes of size 1
 * are dropped, adjacent axes both reduced or both kept are merged. */
static void reduce_desc(const fr_tensor *x, const bool *mask, int64_t ny,
                        fr_k_reduce *p) {
  bool red[FR_MAX_RANK];
  int r = 0;
  p->count = 1;
  for (int i = 0; i < x->rank; i++) {
    if (mask[i]) p->count *= x->dims[i];
    if (x->dims[i] == 1) continue;
    if (r > 0 && red[r - 1] == mask[i]) {
      p->dims[r - 1] *= x->dims[i];
    } else {
      p->dims[r] = x->dims[i];
      red[r++] = mask[i];
    }
  }
  if (r == 0) {
    p->dims[0] = 1;
    red[r++] = true;
  }
  int64_t s = 1;
  for (int i = r - 1; i >= 0; i--) {
    p->ystr[i] = red[i] ? 0 : s;
    if (!red[i]) s *= p->dims[i];
  }
  p->rank = r;
  p->ny = ny;
}

fr_status fr_exec_reduce(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)ex;
  const fr_tensor *x = in[0];
  fr_tensor *y = out[0];
  bool mask[FR_MAX_RANK], noop;
  FR_TRY(fr_reduce_axes(n, in, mask, &noop));
  int kind;
  switch (n->op) {
  case FR_OP_REDUCE_SUM: kind = FR_K_RED_SUM; break;
  case FR_OP_REDUCE_MEAN: kind = FR_K_RED_MEAN; break;
  case FR_OP_REDUCE_MAX: kind = FR_K_RED_MAX; break;
  case FR_OP_REDUCE_MIN: kind = FR_K_RED_MIN; break;
  case FR_OP_REDUCE_PROD: kind = FR_K_RED_PROD; break;
  case FR_OP_REDUCE_L1: kind = FR_K_RED_L1; break;
  case FR_OP_REDUCE_L2: kind = FR_K_RED_L2; break;
  case FR_OP_REDUCE_LOG_SUM: kind = FR_K_RED_LOGSUM; break;
  case FR_OP_REDUCE_LOG_SUM_EXP: kind = FR_K_RED_LOGSUMEXP; break;
  case FR_OP_REDUCE_SUM_SQUARE: kind = FR_K_RED_SUMSQ; break;
  default: return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  }
  if (x->dtype != FR_F32 && x->dtype != FR_F64 && x->dtype != FR_I32 &&
      x->dtype != FR_I64)
    return bad_dtype(n, x);
  if (noop) {
    memcpy(y->data, x->data, fr_tensor_nbytes(x));
    return FR_OK;
  }
  fr_k_reduce p;
  reduce_desc(x, mask, fr_tensor_numel(y), &p);
  double *tmp = NULL;
  if (kind == FR_K_RED_LOGSUMEXP) {
    tmp = fr_malloc(sizeof(double) * (size_t)(p.ny ? p.ny : 1));
    if (!tmp) return nomem(n);
  }
  switch (x->dtype) {
  case FR_F32: fr_k_reduce_f32(&p, kind, x->data, y->data, tmp); break;
  case FR_F64: fr_k_reduce_f64(&p, kind, x->data, y->data, tmp); break;
  case FR_I32: fr_k_reduce_i32(&p, kind, x->data, y->data, tmp); break;
  default: fr_k_reduce_i64(&p, kind, x->data, y->data, tmp); break;
  }
  fr_free(tmp);
  return FR_OK;
}

fr_status fr_exec_argmax(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)ex;
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_axis(n, fr_attr_int(n, "axis", 0), x->rank, &axis));
  int64_t o, k, i;
  split3(x, axis, &o, &k, &i);
  int is_min = n->op == FR_OP_ARG_MIN;
  int last = fr_attr_int(n, "select_last_index", 0) != 0;
  int64_t *y = out[0]->data;
  switch (x->dtype) {
  case FR_F32: fr_k_argmax_f32(o, k, i, is_min, last, x->data, y); break;
  case FR_F64: fr_k_argmax_f64(o, k, i, is_min, last, x->data, y); break;
  case FR_I32: fr_k_argmax_i32(o, k, i, is_min, last, x->data, y); break;
  case FR_I64: fr_k_argmax_i64(o, k, i, is_min, last, x->data, y); break;
  default: return bad_dtype(n, x);
  }
  return FR_OK;
}

fr_status fr_exec_softmax(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  (void)ex;
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_softmax_axis(n, x, &axis));
  int64_t o, k, i;
  if (n->opset < 13) { /* coerced to 2-D */
    o = prod(x->dims, 0, axis);
    k = prod(x->dims, axis, x->rank);
    i = 1;
  } else {
    split3(x, axis, &o, &k, &i);
  }
  int mode = n->op == FR_OP_SOFTMAX       ? FR_K_SOFTMAX
             : n->op == FR_OP_LOG_SOFTMAX ? FR_K_LOGSOFTMAX
                                          : FR_K_HARDMAX;
  if (x->dtype != FR_F32 && x->dtype != FR_F64) return bad_dtype(n, x);
  void *tmp = NULL;
  if (i > 1) {
    tmp = fr_malloc(fr_dtype_size(x->dtype) * 2 * (size_t)i);
    if (!tmp) return nomem(n);
  }
  if (x->dtype == FR_F32)
    fr_k_softmax_f32(o, k, i, mode, x->data, out[0]->data, tmp);
  else
    fr_k_softmax_f64(o, k, i, mode, x->data, out[0]->data, tmp);
  fr_free(tmp);
  return FR_OK;
}

fr_status fr_exec_cumsum(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)ex;
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_axis(n, fr_tensor_get_i64(in[1], 0), x->rank, &axis));
  int64_t o, k, i;
  split3(x, axis, &o, &k, &i);
  int exc = fr_attr_int(n, "exclusive", 0) != 0;
  int rev = fr_attr_int(n, "reverse", 0) != 0;
  void *y = out[0]->data;
  switch (x->dtype) {
  case FR_F32: fr_k_cumsum_f32(o, k, i, exc, rev, x->data, y); break;
  case FR_F64: fr_k_cumsum_f64(o, k, i, exc, rev, x->data, y); break;
  case FR_I32: fr_k_cumsum_i32(o, k, i, exc, rev, x->data, y); break;
  case FR_I64: fr_k_cumsum_i64(o, k, i, exc, rev, x->data, y); break;
  default: return bad_dtype(n, x);
  }
  return FR_OK;
}

fr_status fr_exec_topk(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  (void)ex;
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_axis(n, fr_attr_int(n, "axis", -1), x->rank, &axis));
  int64_t kk;
  FR_TRY(fr_topk_k(n, in, &kk));
  int64_t o, k, i;
  split3(x, axis, &o, &k, &i);
  int largest = fr_attr_int(n, "largest", 1) != 0;
  /* Either output may be omitted: write into scratch then. */
  size_t ny = (size_t)(o * kk * i);
  void *vals = out[0] ? out[0]->data : NULL;
  int64_t *idx = n->n_out > 1 && out[1] ? out[1]->data : NULL;
  void *own_v = NULL, *own_i = NULL;
  int64_t *tmp = fr_malloc(sizeof(int64_t) * 2 * (size_t)(k ? k : 1));
  if (!vals) vals = own_v = fr_malloc(fr_dtype_size(x->dtype) * (ny ? ny : 1));
  if (!idx) idx = own_i = fr_malloc(sizeof(int64_t) * (ny ? ny : 1));
  fr_status st = FR_OK;
  if (!tmp || !vals || !idx) {
    st = nomem(n);
  } else {
    switch (x->dtype) {
    case FR_F32: fr_k_topk_f32(o, k, i, kk, largest, x->data, vals, idx, tmp); break;
    case FR_F64: fr_k_topk_f64(o, k, i, kk, largest, x->data, vals, idx, tmp); break;
    case FR_I32: fr_k_topk_i32(o, k, i, kk, largest, x->data, vals, idx, tmp); break;
    case FR_I64: fr_k_topk_i64(o, k, i, kk, largest, x->data, vals, idx, tmp); break;
    default: st = bad_dtype(n, x);
    }
  }
  fr_free(tmp);
  fr_free(own_v);
  fr_free(own_i);
  return st;
}

/* All present inputs f32. */
static fr_status need_f32(const fr_node *n, fr_tensor *const *in, int count) {
  for (int i = 0; i < count && i < n->n_in; i++)
    if (in[i] && in[i]->dtype != FR_F32) return bad_dtype(n, in[i]);
  return FR_OK;
}

fr_status fr_exec_batchnorm(fr_exec *ex, const fr_node *n,
                            fr_tensor *const *in, fr_tensor *const *out) {
  (void)ex;
  FR_TRY(need_f32(n, in, 5));
  const fr_tensor *x = in[0];
  int64_t N = x->dims[0], C = x->dims[1], S = prod(x->dims, 2, x->rank);
  float eps = fr_attr_float(n, "epsilon", 1e-5f);
  bool training = n->opset >= 14 && fr_attr_int(n, "training_mode", 0);
  if (!training) {
    fr_k_batchnorm_f32(N, C, S, x->data, in[1]->data, in[2]->data,
                       in[3]->data, in[4]->data, eps, out[0]->data);
    return FR_OK;
  }
  float *tmp = fr_malloc(sizeof(float) * 2 * (size_t)(C ? C : 1));
  if (!tmp) return nomem(n);
  float *rm = n->n_out > 1 && out[1] ? out[1]->data : NULL;
  float *rv = n->n_out > 2 && out[2] ? out[2]->data : NULL;
  fr_k_batchnorm_train_f32(N, C, S, x->data, in[1]->data, in[2]->data,
                           in[3]->data, in[4]->data, eps,
                           fr_attr_float(n, "momentum", 0.9f), out[0]->data,
                           rm, rv, tmp);
  fr_free(tmp);
  return FR_OK;
}

fr_status fr_exec_instnorm(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)ex;
  FR_TRY(need_f32(n, in, 3));
  const fr_tensor *x = in[0];
  fr_k_instnorm_f32(x->dims[0], x->dims[1], prod(x->dims, 2, x->rank),
                    x->data, in[1]->data, in[2]->data,
                    fr_attr_float(n, "epsilon", 1e-5f), out[0]->data);
  return FR_OK;
}

/* Expands t (broadcastable to x's dims from axis on, D elements) into a
 * fresh array of D floats, or returns t's data when it already has D. */
static const float *expand_param(const fr_tensor *t, const fr_tensor *x,
                                 int axis, int64_t D, float **own) {
  *own = NULL;
  if (fr_tensor_numel(t) == D) return t->data;
  float *e = fr_malloc(sizeof(float) * (size_t)(D ? D : 1));
  if (!e) return NULL;
  int tail = x->rank - axis;
  int64_t st[FR_MAX_RANK], s = 1;
  for (int i = tail - 1; i >= 0; i--) { /* t's strides over the tail dims */
    int ti = i - (tail - t->rank);
    st[i] = ti < 0 || t->dims[ti] == 1 ? 0 : s;
    if (ti >= 0) s *= t->dims[ti];
  }
  const float *src = t->data;
  for (int64_t j = 0; j < D; j++) {
    int64_t rem = j, off = 0;
    for (int i = tail - 1; i >= 0; i--) {
      int64_t d = x->dims[axis + i];
      off += (rem % d) * st[i];
      rem /= d;
    }
    e[j] = src[off];
  }
  *own = e;
  return e;
}

fr_status fr_exec_layernorm(fr_exec *ex, const fr_node *n,
                            fr_tensor *const *in, fr_tensor *const *out) {
  (void)ex;
  FR_TRY(need_f32(n, in, 3));
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_axis(n, fr_attr_int(n, "axis", -1), x->rank, &axis));
  int64_t outer = prod(x->dims, 0, axis), D = prod(x->dims, axis, x->rank);
  float *ow = NULL, *ob = NULL;
  const float *w = expand_param(in[1], x, axis, D, &ow);
  const float *b = NULL;
  bool has_b = n->n_in > 2 && in[2];
  if (w && has_b) b = expand_param(in[2], x, axis, D, &ob);
  fr_status st = FR_OK;
  if (!w || (has_b && !b)) {
    st = nomem(n);
  } else {
    float *mean = n->n_out > 1 && out[1] ? out[1]->data : NULL;
    float *inv = n->n_out > 2 && out[2] ? out[2]->data : NULL;
    fr_k_layernorm_f32(outer, D, x->data, w, b,
                       fr_attr_float(n, "epsilon", 1e-5f), out[0]->data, mean,
                       inv);
  }
  fr_free(ow);
  fr_free(ob);
  return st;
}

fr_status fr_exec_lrn(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)ex;
  FR_TRY(need_f32(n, in, 1));
  const fr_tensor *x = in[0];
  fr_k_lrn_f32(x->dims[0], x->dims[1], prod(x->dims, 2, x->rank),
               fr_attr_int(n, "size", 1), fr_attr_float(n, "alpha", 1e-4f),
               fr_attr_float(n, "beta", 0.75f), fr_attr_float(n, "bias", 1.0f),
               x->data, out[0]->data);
  return FR_OK;
}

fr_status fr_exec_mvn(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)ex;
  FR_TRY(need_f32(n, in, 1));
  const fr_tensor *x = in[0];
  bool mask[FR_MAX_RANK];
  FR_TRY(fr_mvn_axes(n, x, mask));
  int64_t ny = 1;
  for (int i = 0; i < x->rank; i++)
    if (!mask[i]) ny *= x->dims[i];
  fr_k_reduce p;
  reduce_desc(x, mask, ny, &p);
  float *tmp = fr_malloc(sizeof(float) * 2 * (size_t)(ny ? ny : 1));
  if (!tmp) return nomem(n);
  fr_k_mvn_f32(&p, x->data, out[0]->data, tmp, tmp + ny);
  fr_free(tmp);
  return FR_OK;
}

/* The loss after the log-probabilities lp (N, C, D...) are known. */
static fr_status nll(const fr_node *n, const float *lp, fr_tensor *const *in,
                     fr_tensor *y) {
  const fr_tensor *x = in[0], *t = in[1];
  int red;
  FR_TRY(fr_loss_reduction(n, &red));
  int64_t N = x->dims[0], C = x->dims[1], D = prod(x->dims, 2, x->rank);
  const fr_attr *ii = fr_attr_find(n, "ignore_index");
  const float *w = n->n_in > 2 && in[2] ? in[2]->data : NULL;
  const int64_t *tg = t->data;
  int64_t *own = NULL;
  if (t->dtype == FR_I32) {
    int64_t m = N * D;
    own = fr_malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
    if (!own) return nomem(n);
    for (int64_t i = 0; i < m; i++) own[i] = ((const int32_t *)t->data)[i];
    tg = own;
  }
  int bad = fr_k_nllloss_f32(N, C, D, lp, tg, w, ii != NULL, ii ? ii->i : 0,
                             red, y->data);
  fr_free(own);
  if (bad)
    return fr_err_node(FR_ERR_INVALID, n, "a target is outside [0, %lld)",
                       (long long)C);
  return FR_OK;
}

fr_status fr_exec_nllloss(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  (void)ex;
  if (in[0]->dtype != FR_F32) return bad_dtype(n, in[0]);
  if (n->n_in > 2 && in[2] && in[2]->dtype != FR_F32) return bad_dtype(n, in[2]);
  return nll(n, in[0]->data, in, out[0]);
}

fr_status fr_exec_sce(fr_exec *ex, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)ex;
  const fr_tensor *x = in[0];
  if (x->dtype != FR_F32) return bad_dtype(n, x);
  if (n->n_in > 2 && in[2] && in[2]->dtype != FR_F32) return bad_dtype(n, in[2]);
  int64_t N = x->dims[0], C = x->dims[1], D = prod(x->dims, 2, x->rank);
  float *lp = n->n_out > 1 && out[1] ? out[1]->data : NULL, *own = NULL;
  if (!lp) lp = own = fr_malloc(fr_tensor_nbytes(x) ? fr_tensor_nbytes(x) : 1);
  float *tmp = D > 1 ? fr_malloc(sizeof(float) * 2 * (size_t)D) : NULL;
  fr_status st;
  if (!lp || (D > 1 && !tmp)) {
    st = nomem(n);
  } else {
    fr_k_softmax_f32(N, C, D, FR_K_LOGSOFTMAX, x->data, lp, tmp);
    st = nll(n, lp, in, out[0]);
  }
  fr_free(tmp);
  fr_free(own);
  return st;
}
