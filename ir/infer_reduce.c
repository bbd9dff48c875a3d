/* infer_reduce.c: shape inference of reductions (Reduce*, ArgMax, ArgMin),
 * the softmax family, CumSum, TopK, normalizations and losses. */
#include <string.h>

#include "ir.h"

/* Which axes a Reduce* node reduces: the 'axes' attribute (ReduceSum before
 * opset 13, the others before 18) or the optional input 1 (its data needed).
 * No axes: all axes, or none (*noop) with noop_with_empty_axes. Also used by
 * the exec glue (runtime/ops_reduce.c). */
fr_status fr_reduce_axes(const fr_node *n, fr_tensor *const *in,
                         bool mask[FR_MAX_RANK], bool *noop) {
  int rank = in[0]->rank, count = 0;
  const int64_t *attr = NULL;
  const fr_tensor *t = n->n_in > 1 ? in[1] : NULL;
  *noop = false;
  for (int i = 0; i < FR_MAX_RANK; i++) mask[i] = false;
  if (t) {
    if (!t->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs constant axes");
    if ((t->dtype != FR_I64 && t->dtype != FR_I32) || t->rank > 1)
      return fr_err_node(FR_ERR_INVALID, n,
                         "axes must be a 1-D int64 tensor");
    int64_t k = fr_tensor_numel(t);
    if (k > FR_MAX_RANK)
      return fr_err_node(FR_ERR_INVALID, n, "%lld axes for rank %d",
                         (long long)k, rank);
    count = (int)k;
  } else {
    attr = fr_attr_ints(n, FR_A_AXES, &count);
  }
  if (count == 0) {
    if (fr_attr_int(n, FR_A_NOOP_WITH_EMPTY_AXES)) *noop = true;
    else
      for (int i = 0; i < rank; i++) mask[i] = true;
    return FR_OK;
  }
  for (int i = 0; i < count; i++) {
    int64_t a = attr ? attr[i] : fr_tensor_get_i64(t, i);
    int k;
    if (rank == 0 && (a == 0 || a == -1)) continue; /* scalar: nothing */
    FR_TRY(fr_axis(n, a, rank, &k));
    if (mask[k])
      return fr_err_node(FR_ERR_INVALID, n, "axis %lld is repeated",
                         (long long)a);
    mask[k] = true;
  }
  return FR_OK;
}

static fr_status need_rank(const fr_node *n, const fr_tensor *t, int lo,
                           const char *what) {
  if (t->kind != FR_KIND_TENSOR || t->rank < lo)
    return fr_err_node(FR_ERR_SHAPE, n, "%s must be a tensor of rank >= %d",
                       what, lo);
  return FR_OK;
}

fr_status fr_infer_reduce(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  FR_TRY(need_rank(n, in[0], 0, "data"));
  bool mask[FR_MAX_RANK], noop;
  FR_TRY(fr_reduce_axes(n, in, mask, &noop));
  const fr_tensor *x = in[0];
  if (noop) {
    fr_set_shape(out[0], x->dtype, x->rank, x->dims);
    return FR_OK;
  }
  bool keep = fr_attr_int(n, FR_A_KEEPDIMS) != 0;
  int64_t dims[FR_MAX_RANK];
  int r = 0;
  for (int i = 0; i < x->rank; i++) {
    if (!mask[i]) dims[r++] = x->dims[i];
    else if (keep) dims[r++] = 1;
  }
  fr_set_shape(out[0], x->dtype, r, dims);
  return FR_OK;
}

fr_status fr_infer_argmax(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 1, "data"));
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  if (x->dims[axis] == 0)
    return fr_err_node(FR_ERR_SHAPE, n, "axis %d is empty", axis);
  bool keep = fr_attr_int(n, FR_A_KEEPDIMS) != 0;
  int64_t dims[FR_MAX_RANK];
  int r = 0;
  for (int i = 0; i < x->rank; i++) {
    if (i != axis) dims[r++] = x->dims[i];
    else if (keep) dims[r++] = 1;
  }
  fr_set_shape(out[0], FR_I64, r, dims);
  return FR_OK;
}

/* Softmax, LogSoftmax, Hardmax. Before opset 13 the input is seen as 2-D
 * (dims before axis, dims from axis on), axis in [-r, r], default 1; from 13
 * one axis, default -1. Also used by the exec glue. */
fr_status fr_softmax_axis(const fr_node *n, const fr_tensor *x, int *axis) {
  if (n->opset < 13) {
    int64_t a0 = fr_attr_get(n, FR_A_AXIS) ? fr_attr_int(n, FR_A_AXIS) : 1;
    int64_t a = a0, r = x->rank;
    if (a < 0) a += r;
    if (a < 0 || a > r)
      return fr_err_node(FR_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                         (long long)a0, x->rank);
    *axis = (int)a;
    return FR_OK;
  }
  if (x->rank == 0)
    return fr_err_node(FR_ERR_SHAPE, n, "input must have rank >= 1");
  return fr_attr_axis(n, x->rank, axis);
}

fr_status fr_infer_softmax(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 0, "input"));
  if (!fr_dtype_is_float(x->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "input is %s, not a float type",
                       fr_dtype_name(x->dtype));
  int axis;
  FR_TRY(fr_softmax_axis(n, x, &axis));
  fr_set_shape(out[0], x->dtype, x->rank, x->dims);
  return FR_OK;
}

fr_status fr_infer_cumsum(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  const fr_tensor *x = in[0], *a = in[1];
  FR_TRY(need_rank(n, x, 1, "x"));
  if (!a || (a->dtype != FR_I32 && a->dtype != FR_I64) || a->rank > 1 ||
      fr_tensor_numel(a) != 1)
    return fr_err_node(FR_ERR_INVALID, n,
                       "axis must be an int32/int64 scalar");
  if (a->data) {
    int k;
    FR_TRY(fr_axis(n, fr_tensor_get_i64(a, 0), x->rank, &k));
  }
  fr_set_shape(out[0], x->dtype, x->rank, x->dims);
  return FR_OK;
}

/* k of a TopK node: attribute before opset 10, then input 1. */
fr_status fr_topk_k(const fr_node *n, fr_tensor *const *in, int64_t *k) {
  if (n->opset < 10) {
    const fr_attr *a = fr_attr_get(n, FR_A_K);
    if (!a) return fr_err_node(FR_ERR_INVALID, n, "needs attribute k");
    *k = a->i;
    return FR_OK;
  }
  const fr_tensor *t = n->n_in > 1 ? in[1] : NULL;
  if (!t) return fr_err_node(FR_ERR_INVALID, n, "needs input K");
  if (t->dtype != FR_I64 || t->rank > 1 || fr_tensor_numel(t) != 1)
    return fr_err_node(FR_ERR_INVALID, n, "K must be an int64 [1] tensor");
  if (!t->data) return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs constant K");
  *k = fr_tensor_get_i64(t, 0);
  return FR_OK;
}

fr_status fr_infer_topk(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 1, "X"));
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  int64_t k;
  FR_TRY(fr_topk_k(n, in, &k));
  if (k < 0 || k > x->dims[axis])
    return fr_err_node(FR_ERR_SHAPE, n, "k = %lld out of range [0, %lld]",
                       (long long)k, (long long)x->dims[axis]);
  int64_t dims[FR_MAX_RANK];
  memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  dims[axis] = k;
  if (out[0]) fr_set_shape(out[0], x->dtype, x->rank, dims);
  if (n->n_out > 1 && out[1]) fr_set_shape(out[1], FR_I64, x->rank, dims);
  return FR_OK;
}

/* A per-channel parameter: present, of shape [c]. */
static fr_status per_channel(const fr_node *n, const fr_tensor *t, int64_t c,
                             const char *what) {
  if (!t) return fr_err_node(FR_ERR_INVALID, n, "needs input %s", what);
  if (t->kind != FR_KIND_TENSOR || t->rank != 1 || t->dims[0] != c)
    return fr_err_node(FR_ERR_SHAPE, n, "%s must have shape [%lld]", what,
                       (long long)c);
  return FR_OK;
}

fr_status fr_batchnorm_attrs_of(const fr_node *n, fr_batchnorm_attrs *a) {
  if (n->opset < 9 && fr_attr_int(n, FR_A_SPATIAL) == 0)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "spatial = 0");
  a->epsilon = fr_attr_float(n, FR_A_EPSILON);
  a->momentum = fr_attr_float(n, FR_A_MOMENTUM);
  a->training = n->opset >= 14 && fr_attr_int(n, FR_A_TRAINING_MODE) != 0;
  return FR_OK;
}

fr_status fr_infer_batchnorm(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 2, "X"));
  fr_batchnorm_attrs ba;
  FR_TRY(fr_batchnorm_attrs_of(n, &ba));
  static const char *names[] = {"X", "scale", "B", "mean", "var"};
  for (int i = 1; i < 5; i++) FR_TRY(per_channel(n, in[i], x->dims[1], names[i]));
  bool training = ba.training;
  for (int i = 1; i < n->n_out; i++) {
    if (!out[i]) continue;
    if (n->opset < 14)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "training outputs before opset 14");
    if (!training || i > 2)
      return fr_err_node(FR_ERR_INVALID, n,
                         "output %d exists only in training mode", i);
    fr_set_shape(out[i], in[3 + (i - 1)]->dtype, 1, &x->dims[1]);
  }
  fr_set_shape(out[0], x->dtype, x->rank, x->dims);
  return FR_OK;
}

fr_status fr_infer_instnorm(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 2, "input"));
  FR_TRY(per_channel(n, in[1], x->dims[1], "scale"));
  FR_TRY(per_channel(n, in[2], x->dims[1], "B"));
  fr_set_shape(out[0], x->dtype, x->rank, x->dims);
  return FR_OK;
}

/* t must broadcast (unidirectionally) to x's dims from axis on. */
static fr_status norm_param(const fr_node *n, const fr_tensor *x, int axis,
                            const fr_tensor *t, const char *what) {
  int tail = x->rank - axis;
  bool ok = t->kind == FR_KIND_TENSOR && t->rank <= tail;
  for (int i = 0; ok && i < t->rank; i++) {
    int64_t d = t->dims[t->rank - 1 - i], xd = x->dims[x->rank - 1 - i];
    if (d != xd && d != 1) ok = false;
  }
  if (!ok) {
    char a[128], b[128];
    return fr_err_node(FR_ERR_SHAPE, n,
                       "%s %s does not broadcast to the normalized part of %s",
                       what, fr_shape_str(t, a, sizeof a),
                       fr_shape_str(x, b, sizeof b));
  }
  return FR_OK;
}

fr_status fr_infer_layernorm(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 1, "X"));
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  if (fr_attr_int(n, FR_A_STASH_TYPE) != 1)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "stash_type other than float");
  FR_TRY(norm_param(n, x, axis, in[1], "Scale"));
  if (n->n_in > 2 && in[2]) FR_TRY(norm_param(n, x, axis, in[2], "B"));
  fr_set_shape(out[0], x->dtype, x->rank, x->dims);
  int64_t dims[FR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = i < axis ? x->dims[i] : 1;
  for (int i = 1; i < n->n_out && i < 3; i++)
    if (out[i]) fr_set_shape(out[i], FR_F32, x->rank, dims);
  return FR_OK;
}

fr_status fr_infer_lrn(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 2, "X"));
  if (fr_attr_int(n, FR_A_SIZE) <= 0)
    return fr_err_node(FR_ERR_INVALID, n, "size must be positive");
  fr_set_shape(out[0], x->dtype, x->rank, x->dims);
  return FR_OK;
}

/* MeanVarianceNormalization's axes (default 0, 2, 3) as a mask. Also used
 * by the exec glue. */
fr_status fr_mvn_axes(const fr_node *n, const fr_tensor *x,
                      bool mask[FR_MAX_RANK]) {
  static const int64_t dflt[] = {0, 2, 3};
  int count;
  const int64_t *axes = fr_attr_ints(n, FR_A_AXES, &count);
  if (!fr_attr_get(n, FR_A_AXES)) {
    axes = dflt;
    count = 3;
  }
  for (int i = 0; i < FR_MAX_RANK; i++) mask[i] = false;
  for (int i = 0; i < count; i++) {
    int k;
    FR_TRY(fr_axis(n, axes[i], x->rank, &k));
    mask[k] = true;
  }
  return FR_OK;
}

fr_status fr_infer_mvn(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_rank(n, x, 1, "X"));
  bool mask[FR_MAX_RANK];
  FR_TRY(fr_mvn_axes(n, x, mask));
  fr_set_shape(out[0], x->dtype, x->rank, x->dims);
  return FR_OK;
}

/* 'reduction' of the losses: 0 none, 1 sum, 2 mean. Also used by the exec
 * glue. */
fr_status fr_loss_reduction(const fr_node *n, int *r) {
  const char *s = fr_attr_str(n, FR_A_REDUCTION);
  if (!strcmp(s, "none")) *r = 0;
  else if (!strcmp(s, "sum")) *r = 1;
  else if (!strcmp(s, "mean")) *r = 2;
  else
    return fr_err_node(FR_ERR_INVALID, n, "unknown reduction '%s'", s);
  return FR_OK;
}

/* NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: input (N, C, D...),
 * target (N, D...), weight (C). */
fr_status fr_infer_loss(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  const fr_tensor *x = in[0], *t = in[1];
  FR_TRY(need_rank(n, x, 2, "input"));
  FR_TRY(need_rank(n, t, 1, "target"));
  bool ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
  for (int i = 1; ok && i < t->rank; i++)
    if (t->dims[i] != x->dims[i + 1]) ok = false;
  if (!ok) {
    char a[128], b[128];
    return fr_err_node(FR_ERR_SHAPE, n, "target %s does not fit input %s",
                       fr_shape_str(t, a, sizeof a),
                       fr_shape_str(x, b, sizeof b));
  }
  if (t->dtype != FR_I64 && t->dtype != FR_I32)
    return fr_err_node(FR_ERR_SHAPE, n, "target must be int32 or int64");
  if (n->n_in > 2 && in[2])
    FR_TRY(per_channel(n, in[2], x->dims[1], "weight"));
  int red;
  FR_TRY(fr_loss_reduction(n, &red));
  if (red == 0) fr_set_shape(out[0], x->dtype, t->rank, t->dims);
  else fr_set_shape(out[0], x->dtype, 0, NULL);
  if (n->n_out > 1 && out[1]) fr_set_shape(out[1], x->dtype, x->rank, x->dims);
  return FR_OK;
}
