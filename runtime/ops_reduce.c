/* ops_reduce.c: plans of reductions (Reduce*, ArgMax, ArgMin), the softmax
 * family, CumSum, TopK and the normalizations, and the interpreter glue of
 * the losses: reads the attributes, views tensors as (outer, n, inner)
 * around an axis, and calls the entries and kernels of kernels/reduce.c. */
#include <string.h>

#include "runtime.h"

static fr_status bad_dtype(const fr_node *n, const fr_tensor *t) {
  return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                     fr_dtype_name(t->dtype));
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

/* Types of the reduction kernels. */
static bool red_type(fr_dtype t) {
  return t == FR_F32 || t == FR_F64 || t == FR_I32 || t == FR_I64;
}

fr_status fr_plan_reduce(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *x = in[0];
  fr_tensor *y = out[0];
  bool mask[FR_MAX_RANK], noop;
  FR_TRY(fr_reduce_axes(n, in, mask, &noop));
  fr_k_reduce_plan p;
  memset(&p, 0, sizeof p);
  switch (n->op) {
  case FR_OP_REDUCE_SUM: p.kind = FR_K_RED_SUM; break;
  case FR_OP_REDUCE_MEAN: p.kind = FR_K_RED_MEAN; break;
  case FR_OP_REDUCE_MAX: p.kind = FR_K_RED_MAX; break;
  case FR_OP_REDUCE_MIN: p.kind = FR_K_RED_MIN; break;
  case FR_OP_REDUCE_PROD: p.kind = FR_K_RED_PROD; break;
  case FR_OP_REDUCE_L1: p.kind = FR_K_RED_L1; break;
  case FR_OP_REDUCE_L2: p.kind = FR_K_RED_L2; break;
  case FR_OP_REDUCE_LOG_SUM: p.kind = FR_K_RED_LOGSUM; break;
  case FR_OP_REDUCE_LOG_SUM_EXP: p.kind = FR_K_RED_LOGSUMEXP; break;
  case FR_OP_REDUCE_SUM_SQUARE: p.kind = FR_K_RED_SUMSQ; break;
  default: return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  }
  if (!red_type(x->dtype)) return bad_dtype(n, x);
  p.dtype = x->dtype;
  p.noop = noop;
  p.bytes = (int64_t)fr_tensor_nbytes(x);
  if (!noop) {
    reduce_desc(x, mask, fr_tensor_numel(y), &p.r);
    if (p.kind == FR_K_RED_LOGSUMEXP)
      kp->scratch = sizeof(double) * (size_t)(p.r.ny ? p.r.ny : 1);
  }
  FR_KPLAN(kp, fr_ke_reduce, p);
  return FR_OK;
}

fr_status fr_plan_argmax(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  if (!red_type(x->dtype)) return bad_dtype(n, x);
  fr_k_argmax_plan p;
  memset(&p, 0, sizeof p);
  split3(x, axis, &p.outer, &p.n, &p.inner);
  p.dtype = x->dtype;
  p.is_min = n->op == FR_OP_ARG_MIN;
  p.last = fr_attr_int(n, FR_A_SELECT_LAST_INDEX) != 0;
  FR_KPLAN(kp, fr_ke_argmax, p);
  return FR_OK;
}

fr_status fr_plan_softmax(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_softmax_axis(n, x, &axis));
  fr_k_softmax_plan p;
  memset(&p, 0, sizeof p);
  if (n->opset < 13) { /* coerced to 2-D */
    p.outer = prod(x->dims, 0, axis);
    p.n = prod(x->dims, axis, x->rank);
    p.inner = 1;
  } else {
    split3(x, axis, &p.outer, &p.n, &p.inner);
  }
  p.mode = n->op == FR_OP_SOFTMAX       ? FR_K_SOFTMAX
           : n->op == FR_OP_LOG_SOFTMAX ? FR_K_LOGSOFTMAX
                                        : FR_K_HARDMAX;
  if (x->dtype != FR_F32 && x->dtype != FR_F64) return bad_dtype(n, x);
  p.dtype = x->dtype;
  if (p.inner > 1) kp->scratch = fr_dtype_size(x->dtype) * 2 * (size_t)p.inner;
  FR_KPLAN(kp, fr_ke_softmax, p);
  return FR_OK;
}

fr_status fr_plan_cumsum(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *x = in[0];
  if (!in[1]->data)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "axis needs a constant");
  int axis;
  FR_TRY(fr_axis(n, fr_tensor_get_i64(in[1], 0), x->rank, &axis));
  if (!red_type(x->dtype)) return bad_dtype(n, x);
  fr_k_cumsum_plan p;
  memset(&p, 0, sizeof p);
  split3(x, axis, &p.outer, &p.n, &p.inner);
  p.dtype = x->dtype;
  p.exclusive = fr_attr_int(n, FR_A_EXCLUSIVE) != 0;
  p.reverse = fr_attr_int(n, FR_A_REVERSE) != 0;
  FR_KPLAN(kp, fr_ke_cumsum, p);
  return FR_OK;
}

fr_status fr_plan_topk(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  fr_k_topk_plan p;
  memset(&p, 0, sizeof p);
  FR_TRY(fr_topk_k(n, in, &p.k));
  if (!red_type(x->dtype)) return bad_dtype(n, x);
  split3(x, axis, &p.outer, &p.n, &p.inner);
  p.dtype = x->dtype;
  p.largest = fr_attr_int(n, FR_A_LARGEST) != 0;
  /* scratch: the sort's 2 n int64, then the outputs that are omitted */
  size_t ny = (size_t)(p.outer * p.k * p.inner), off;
  off = sizeof(int64_t) * 2 * (size_t)(p.n ? p.n : 1);
  if (!out[0]) {
    p.vals_off = (int64_t)off;
    off += (fr_dtype_size(x->dtype) * ny + 63) / 64 * 64;
  }
  if (n->n_out < 2 || !out[1]) {
    p.idx_off = (int64_t)off;
    off += sizeof(int64_t) * ny;
  }
  kp->scratch = off;
  FR_KPLAN(kp, fr_ke_topk, p);
  return FR_OK;
}

/* All present inputs f32. */
static fr_status need_f32(const fr_node *n, fr_tensor *const *in, int count) {
  for (int i = 0; i < count && i < n->n_in; i++)
    if (in[i] && in[i]->dtype != FR_F32) return bad_dtype(n, in[i]);
  return FR_OK;
}

fr_status fr_plan_batchnorm(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  FR_TRY(need_f32(n, in, 5));
  const fr_tensor *x = in[0];
  fr_k_batchnorm_plan p;
  memset(&p, 0, sizeof p);
  p.N = x->dims[0];
  p.C = x->dims[1];
  p.S = prod(x->dims, 2, x->rank);
  fr_batchnorm_attrs ba;
  FR_TRY(fr_batchnorm_attrs_of(n, &ba));
  p.eps = ba.epsilon;
  p.momentum = ba.momentum;
  p.training = ba.training;
  if (p.training) kp->scratch = sizeof(float) * 2 * (size_t)(p.C ? p.C : 1);
  FR_KPLAN(kp, fr_ke_batchnorm_f32, p);
  return FR_OK;
}

fr_status fr_plan_instnorm(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  FR_TRY(need_f32(n, in, 3));
  const fr_tensor *x = in[0];
  fr_k_instnorm_plan p;
  memset(&p, 0, sizeof p);
  p.N = x->dims[0];
  p.C = x->dims[1];
  p.S = prod(x->dims, 2, x->rank);
  p.eps = fr_attr_float(n, FR_A_EPSILON);
  FR_KPLAN(kp, fr_ke_instnorm_f32, p);
  return FR_OK;
}

/* The strided copy that expands t (broadcastable to x's dims from axis on)
 * into the D elements of those dims; false when t has them already. */
static bool expand_param(const fr_tensor *t, const fr_tensor *x, int axis,
                         int64_t D, fr_k_strided *e) {
  memset(e, 0, sizeof *e);
  if (fr_tensor_numel(t) == D) return false;
  int tail = x->rank - axis;
  int64_t s = 1;
  e->rank = tail;
  e->esize = sizeof(float);
  for (int i = tail - 1; i >= 0; i--) { /* t's strides over the tail dims */
    int ti = i - (tail - t->rank);
    e->dims[i] = x->dims[axis + i];
    e->xs[i] = ti < 0 || t->dims[ti] == 1 ? 0 : s;
    if (ti >= 0) s *= t->dims[ti];
  }
  return true;
}

fr_status fr_plan_layernorm(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  FR_TRY(need_f32(n, in, 3));
  const fr_tensor *x = in[0];
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  fr_k_layernorm_plan p;
  memset(&p, 0, sizeof p);
  p.outer = prod(x->dims, 0, axis);
  p.D = prod(x->dims, axis, x->rank);
  p.eps = fr_attr_float(n, FR_A_EPSILON);
  p.w_expand = expand_param(in[1], x, axis, p.D, &p.we);
  if (n->n_in > 2 && in[2]) p.b_expand = expand_param(in[2], x, axis, p.D, &p.be);
  if (p.w_expand || p.b_expand)
    kp->scratch = sizeof(float) * 2 * (size_t)(p.D ? p.D : 1);
  FR_KPLAN(kp, fr_ke_layernorm_f32, p);
  return FR_OK;
}

fr_status fr_plan_lrn(const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  FR_TRY(need_f32(n, in, 1));
  const fr_tensor *x = in[0];
  fr_k_lrn_plan p;
  memset(&p, 0, sizeof p);
  p.N = x->dims[0];
  p.C = x->dims[1];
  p.S = prod(x->dims, 2, x->rank);
  p.size = fr_attr_int(n, FR_A_SIZE);
  p.alpha = fr_attr_float(n, FR_A_ALPHA);
  p.beta = fr_attr_float(n, FR_A_BETA);
  p.bias = fr_attr_float(n, FR_A_BIAS);
  FR_KPLAN(kp, fr_ke_lrn_f32, p);
  return FR_OK;
}

fr_status fr_plan_mvn(const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  FR_TRY(need_f32(n, in, 1));
  const fr_tensor *x = in[0];
  bool mask[FR_MAX_RANK];
  FR_TRY(fr_mvn_axes(n, x, mask));
  int64_t ny = 1;
  for (int i = 0; i < x->rank; i++)
    if (!mask[i]) ny *= x->dims[i];
  fr_k_mvn_plan p;
  memset(&p, 0, sizeof p);
  reduce_desc(x, mask, ny, &p.r);
  kp->scratch = sizeof(float) * 2 * (size_t)(ny ? ny : 1);
  FR_KPLAN(kp, fr_ke_mvn_f32, p);
  return FR_OK;
}

/* The loss after the log-probabilities lp (N, C, D...) are known. */
static fr_status nll(const fr_node *n, const float *lp, fr_tensor *const *in,
                     fr_tensor *y) {
  const fr_tensor *x = in[0], *t = in[1];
  int red;
  FR_TRY(fr_loss_reduction(n, &red));
  int64_t N = x->dims[0], C = x->dims[1], D = prod(x->dims, 2, x->rank);
  const fr_attr *ii = fr_attr_get(n, FR_A_IGNORE_INDEX);
  const float *w = n->n_in > 2 && in[2] ? in[2]->data : NULL;
  const int64_t *tg = t->data;
  int64_t *own = NULL;
  if (t->dtype == FR_I32) {
    int64_t m = N * D;
    own = fr_malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
    if (!own) return fr_err_nomem(n);
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
    st = fr_err_nomem(n);
  } else {
    fr_k_softmax_f32(N, C, D, FR_K_LOGSOFTMAX, x->data, lp, tmp);
    st = nll(n, lp, in, out[0]);
  }
  fr_free(tmp);
  fr_free(own);
  return st;
}
