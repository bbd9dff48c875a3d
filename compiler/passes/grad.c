/* grad.c: the gradient rules, one per differentiable op (the grad column
 * of ir/ops.def). Each builds, from dy (the gradient of the node's
 * outputs), the gradient of the inputs that need one, out of ordinary
 * nodes (fr_ad_op), and hands it to fr_ad_accum, which sums contributions
 * and undoes broadcasting. Formulas in the comments use x, y for the
 * node's input and output and d for dy[0]; shapes stand in brackets.
 * tests/unit/test_grad.c checks each rule against finite differences. */
#include <string.h>

#include "grad.h"

#define IN(i) fr_node_input(n, i)
#define OUT(i) (i < n->n_out ? n->out[i] : NULL)

/* ---- elementwise arithmetic ------------------------------------------- */

/* x + y: d, d */
fr_status fr_grad_add(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  FR_TRY(fr_ad_accum(a, IN(0), dy[0]));
  return fr_ad_accum(a, IN(1), dy[0]);
}

/* x - y: d, -d */
fr_status fr_grad_sub(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  FR_TRY(fr_ad_accum(a, IN(0), dy[0]));
  if (!fr_ad_wants(a, IN(1))) return FR_OK;
  return fr_ad_accum(a, IN(1), fr_ad_unary(a, "Neg", dy[0]));
}

/* x * y: d y, d x */
fr_status fr_grad_mul(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (fr_ad_wants(a, IN(0)))
    FR_TRY(fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], IN(1))));
  if (fr_ad_wants(a, IN(1)))
    FR_TRY(fr_ad_accum(a, IN(1), fr_ad_binary(a, "Mul", dy[0], IN(0))));
  return a->st;
}

/* x / y: d / y, -d y_out / y */
fr_status fr_grad_div(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *q = fr_ad_binary(a, "Div", dy[0], IN(1));
  if (fr_ad_wants(a, IN(0))) FR_TRY(fr_ad_accum(a, IN(0), q));
  if (fr_ad_wants(a, IN(1))) {
    fr_value *t = fr_ad_binary(a, "Mul", q, OUT(0));
    FR_TRY(fr_ad_accum(a, IN(1), fr_ad_unary(a, "Neg", t)));
  }
  return a->st;
}

/* |x|: d sign(x) */
fr_status fr_grad_abs(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0),
                     fr_ad_binary(a, "Mul", dy[0], fr_ad_unary(a, "Sign", IN(0))));
}

/* -x: -d */
fr_status fr_grad_neg(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_unary(a, "Neg", dy[0]));
}

/* ---- activations and maps ---------------------------------------------- */

/* max(x, 0): d sign(y), since y is x where x > 0 and 0 elsewhere */
fr_status fr_grad_relu(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *mask = fr_ad_unary(a, "Sign", OUT(0));
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], mask));
}

/* x > 0 ? x : alpha x: x > 0 ? d : alpha d */
fr_status fr_grad_leaky_relu(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  float alpha = fr_attr_float(n, FR_A_ALPHA);
  fr_value *pos = fr_ad_binary(a, "Greater", IN(0), fr_ad_scalar(a, 0));
  fr_value *neg = fr_ad_binary(a, "Mul", dy[0], fr_ad_scalar(a, alpha));
  fr_value *d = pos && neg ? fr_ad_op(a, "Where", 3,
                                      (fr_value *[]){pos, dy[0], neg}, 0, NULL)
                           : NULL;
  return fr_ad_accum(a, IN(0), d);
}

/* sigmoid: d y (1 - y) */
fr_status fr_grad_sigmoid(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *y = OUT(0);
  fr_value *s = fr_ad_binary(a, "Sub", fr_ad_scalar(a, 1), y);
  return fr_ad_accum(a, IN(0),
                     fr_ad_binary(a, "Mul", dy[0], fr_ad_binary(a, "Mul", y, s)));
}

/* tanh: d (1 - y^2) */
fr_status fr_grad_tanh(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *y = OUT(0);
  fr_value *s = fr_ad_binary(a, "Sub", fr_ad_scalar(a, 1),
                             fr_ad_binary(a, "Mul", y, y));
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], s));
}

/* exp: d y */
fr_status fr_grad_exp(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], OUT(0)));
}

/* log: d / x */
fr_status fr_grad_log(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Div", dy[0], IN(0)));
}

/* sqrt: d / (2 y) */
fr_status fr_grad_sqrt(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *h = fr_ad_binary(a, "Mul", dy[0], fr_ad_scalar(a, 0.5f));
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Div", h, OUT(0)));
}

/* ---- shapes -------------------------------------------------------------- */

/* Identity, and Dropout in inference (output 0 is x): d */
fr_status fr_grad_identity(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (n->op == FR_OP_DROPOUT && n->n_out > 1 && OUT(1))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "Dropout with a mask output: training-mode Dropout "
                       "is not differentiable yet");
  if (!dy[0]) return FR_OK;
  return fr_ad_accum(a, IN(0), dy[0]);
}

/* Reshape, Flatten, Squeeze, Unsqueeze: d in x's shape */
fr_status fr_grad_reshape(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  return fr_ad_accum(a, IN(0), fr_ad_reshape(a, dy[0], &IN(0)->t));
}

/* Transpose(perm): d transposed by the inverse permutation */
fr_status fr_grad_transpose(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int r = IN(0)->t.rank, perm[FR_MAX_RANK];
  FR_TRY(fr_transpose_perm(n, r, perm));
  int64_t inv[FR_MAX_RANK];
  for (int i = 0; i < r; i++) inv[perm[i]] = i;
  fr_attr at = fr_ad_attr_ints(a, "perm", r, inv);
  return fr_ad_accum(a, IN(0), fr_ad_op(a, "Transpose", 1, &dy[0], 1, &at));
}

/* ---- linear algebra ------------------------------------------------------ */

/* Gemm(p, q) with transposes, as y = alpha op(p) op(q); scale by alpha. */
static fr_value *gemm(fr_ad *a, fr_value *p, fr_value *q, bool tp, bool tq,
                      float alpha) {
  fr_attr at[3] = {fr_ad_attr_i("transA", tp), fr_ad_attr_i("transB", tq),
                   fr_ad_attr_f("alpha", alpha)};
  return fr_ad_op(a, "Gemm", 2, (fr_value *[]){p, q}, 3, at);
}

/* y = alpha op(A) op(B) + beta C, A [M, K] or [K, M] (transA), B [K, N] or
 * [N, K] (transB): dA and dB are Gemms of d with the other operand, in the
 * order and transposes that give their shapes; dC = beta d. */
fr_status fr_grad_gemm(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_gemm_attrs g = fr_gemm_attrs_of(n);
  fr_value *A = IN(0), *B = IN(1), *C = IN(2), *d = dy[0];
  if (fr_ad_wants(a, A)) {
    fr_value *dA = !g.trans_a ? gemm(a, d, B, false, !g.trans_b, g.alpha)
                   : !g.trans_b ? gemm(a, B, d, false, true, g.alpha)
                                : gemm(a, B, d, true, true, g.alpha);
    FR_TRY(fr_ad_accum(a, A, dA));
  }
  if (fr_ad_wants(a, B)) {
    fr_value *dB = !g.trans_b ? (!g.trans_a ? gemm(a, A, d, true, false, g.alpha)
                                            : gemm(a, A, d, false, false, g.alpha))
                              : (!g.trans_a ? gemm(a, d, A, true, false, g.alpha)
                                            : gemm(a, d, A, true, true, g.alpha));
    FR_TRY(fr_ad_accum(a, B, dB));
  }
  if (fr_ad_wants(a, C)) {
    fr_value *dC = g.beta == 1 ? d
                               : fr_ad_binary(a, "Mul", d, fr_ad_scalar(a, g.beta));
    FR_TRY(fr_ad_accum(a, C, dC));
  }
  return a->st;
}

/* The last two dims of v swapped. */
static fr_value *swap_last(fr_ad *a, fr_value *v) {
  int r = v->t.rank;
  int64_t perm[FR_MAX_RANK];
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  fr_attr at = fr_ad_attr_ints(a, "perm", r, perm);
  return fr_ad_op(a, "Transpose", 1, &v, 1, &at);
}

/* y = A B over the last two dims [.., M, K] x [.., K, N], batch dims
 * broadcast: dA = d B^T, dB = A^T d, each summed over the batch dims it
 * was broadcast along (fr_ad_accum). 2-D operands use Gemm, and a 2-D B
 * under a batched A folds the batch into M. */
fr_status fr_grad_matmul(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *A = IN(0), *B = IN(1), *d = dy[0];
  int ra = A->t.rank, rb = B->t.rank;
  if (ra < 2 || rb < 2)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of MatMul with a 1-D operand");
  if (rb == 2) {
    int64_t K = A->t.dims[ra - 1], N = B->t.dims[1];
    fr_value *A2 = A, *d2 = d;
    if (ra > 2) {
      fr_tensor sa = {.rank = 2, .dims = {fr_tensor_numel(&A->t) / (K ? K : 1), K}};
      fr_tensor sd = {.rank = 2, .dims = {sa.dims[0], N}};
      A2 = fr_ad_reshape(a, A, &sa);
      d2 = fr_ad_reshape(a, d, &sd);
    }
    if (fr_ad_wants(a, A))
      FR_TRY(fr_ad_accum(a, A, fr_ad_reshape(a, gemm(a, d2, B, false, true, 1),
                                             &A->t)));
    if (fr_ad_wants(a, B))
      FR_TRY(fr_ad_accum(a, B, gemm(a, A2, d2, true, false, 1)));
    return a->st;
  }
  if (fr_ad_wants(a, A))
    FR_TRY(fr_ad_accum(a, A, fr_ad_binary(a, "MatMul", d, swap_last(a, B))));
  if (fr_ad_wants(a, B))
    FR_TRY(fr_ad_accum(a, B, fr_ad_binary(a, "MatMul", swap_last(a, A), d)));
  return a->st;
}

/* ---- softmax, reductions, pooling ---------------------------------------- */

static fr_value *reduce_sum(fr_ad *a, fr_value *v, int n_axes,
                            const int64_t *axes, bool keep) {
  fr_value *ax = fr_ad_ints(a, n_axes, axes);
  fr_attr k = fr_ad_attr_i("keepdims", keep);
  if (!ax || !v) return NULL;
  return fr_ad_op(a, "ReduceSum", 2, (fr_value *[]){v, ax}, 1, &k);
}

/* The softmax axis, which must be the last dim before opset 13 (there the
 * op normalizes the flattened trailing dims). */
static fr_status softmax_axis(const fr_node *n, int *axis) {
  const fr_tensor *x = &IN(0)->t;
  FR_TRY(fr_softmax_axis(n, x, axis));
  if (n->opset < 13 && *axis != x->rank - 1)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of %s before opset 13 over more than "
                       "the last dim", n->op_type);
  return FR_OK;
}

/* softmax: y (d - sum(d y)) along the axis */
fr_status fr_grad_softmax(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int axis;
  FR_TRY(softmax_axis(n, &axis));
  fr_value *y = OUT(0);
  int64_t ax = axis;
  fr_value *s = reduce_sum(a, fr_ad_binary(a, "Mul", dy[0], y), 1, &ax, true);
  fr_value *t = fr_ad_binary(a, "Sub", dy[0], s);
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", y, t));
}

/* log-softmax: d - exp(y) sum(d) along the axis */
fr_status fr_grad_log_softmax(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  int axis;
  FR_TRY(softmax_axis(n, &axis));
  int64_t ax = axis;
  fr_value *s = reduce_sum(a, dy[0], 1, &ax, true);
  fr_value *p = fr_ad_unary(a, "Exp", OUT(0));
  return fr_ad_accum(a, IN(0),
                     fr_ad_binary(a, "Sub", dy[0], fr_ad_binary(a, "Mul", p, s)));
}

/* d, of x's shape with 1s on the reduced dims, expanded to x's shape and
 * scaled by scale. */
static fr_value *spread(fr_ad *a, fr_value *d, const fr_tensor *kept,
                        const fr_tensor *x, float scale) {
  d = fr_ad_reshape(a, d, kept);
  if (scale != 1) d = fr_ad_binary(a, "Mul", d, fr_ad_scalar(a, scale));
  fr_value *shape = fr_ad_ints(a, x->rank, x->dims);
  if (!d || !shape) return NULL;
  return fr_ad_op(a, "Expand", 2, (fr_value *[]){d, shape}, 0, NULL);
}

/* ReduceSum: d spread over the reduced dims; ReduceMean: also / count */
fr_status fr_grad_reduce(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_tensor *in[3] = {0};
  for (int i = 0; i < n->n_in && i < 2; i++) in[i] = IN(i) ? &IN(i)->t : NULL;
  bool mask[FR_MAX_RANK] = {0}, noop = false;
  FR_TRY(fr_reduce_axes(n, in, mask, &noop));
  const fr_tensor *x = &IN(0)->t;
  if (noop) return fr_ad_accum(a, IN(0), dy[0]);
  fr_tensor kept = {.rank = x->rank};
  int64_t count = 1;
  for (int i = 0; i < x->rank; i++) {
    kept.dims[i] = mask[i] ? 1 : x->dims[i];
    if (mask[i]) count *= x->dims[i];
  }
  float scale = n->op == FR_OP_REDUCE_MEAN && count ? 1.0f / (float)count : 1;
  return fr_ad_accum(a, IN(0), spread(a, dy[0], &kept, x, scale));
}

/* GlobalAveragePool [N, C, S...] -> [N, C, 1...]: d / S spread */
fr_status fr_grad_global_avg_pool(fr_ad *a, const fr_node *n,
                                  fr_value *const *dy) {
  const fr_tensor *x = &IN(0)->t;
  int64_t count = 1;
  for (int i = 2; i < x->rank; i++) count *= x->dims[i];
  return fr_ad_accum(a, IN(0), spread(a, dy[0], &OUT(0)->t, x,
                                      count ? 1.0f / (float)count : 1));
}

/* ---- normalization -------------------------------------------------------- */

/* BatchNormalization in inference form (running statistics, which stay
 * frozen): y = (x - mean) s + beta with s = gamma / sqrt(var + eps) per
 * channel (dim 1). dx = d s; dgamma = sum(d xhat), xhat = (x - mean) /
 * sqrt(var + eps); dbeta = sum(d), sums over every dim but the channel. */
fr_status fr_grad_batchnorm(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (fr_attr_int(n, FR_A_TRAINING_MODE) || n->n_out > 1)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of BatchNormalization in training mode");
  if (fr_ad_wants(a, IN(3)) || fr_ad_wants(a, IN(4)))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the running mean and variance are statistics, not "
                       "trainable parameters");
  const fr_tensor *x = &IN(0)->t;
  int r = x->rank;
  fr_tensor chan = {.rank = r};
  int64_t axes[FR_MAX_RANK];
  int na = 0;
  for (int i = 0; i < r; i++) {
    chan.dims[i] = i == 1 ? x->dims[1] : 1;
    if (i != 1) axes[na++] = i;
  }
  float eps = fr_attr_float(n, FR_A_EPSILON);
  fr_value *inv = fr_ad_unary(a, "Reciprocal",
                              fr_ad_unary(a, "Sqrt", fr_ad_binary(a, "Add", IN(4),
                                                                  fr_ad_scalar(a, eps))));
  fr_value *inv_c = fr_ad_reshape(a, inv, &chan);
  if (fr_ad_wants(a, IN(0))) {
    fr_value *s = fr_ad_reshape(a, fr_ad_binary(a, "Mul", IN(1), inv), &chan);
    FR_TRY(fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", dy[0], s)));
  }
  if (fr_ad_wants(a, IN(1))) {
    fr_value *xc = fr_ad_binary(a, "Sub", IN(0), fr_ad_reshape(a, IN(3), &chan));
    fr_value *xhat = fr_ad_binary(a, "Mul", xc, inv_c);
    FR_TRY(fr_ad_accum(a, IN(1), reduce_sum(a, fr_ad_binary(a, "Mul", dy[0], xhat),
                                            na, axes, false)));
  }
  if (fr_ad_wants(a, IN(2)))
    FR_TRY(fr_ad_accum(a, IN(2), reduce_sum(a, dy[0], na, axes, false)));
  return a->st;
}

/* ---- losses ----------------------------------------------------------------- */

/* SoftmaxCrossEntropyLoss(scores [N, C], labels [N]) with reduction mean
 * (/ N), sum, or none (d [N]): dscores = (softmax(scores) - onehot(labels))
 * times d. */
fr_status fr_grad_sce_loss(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  const fr_tensor *x = &IN(0)->t;
  if (x->rank != 2 || IN(2) || fr_attr_get(n, FR_A_IGNORE_INDEX))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of SoftmaxCrossEntropyLoss with scores "
                       "other than [N, C], weights or ignore_index");
  if (!dy[0] || !fr_ad_wants(a, IN(0))) return FR_OK;
  int64_t N = x->dims[0], C = x->dims[1];
  const char *red = fr_attr_str(n, FR_A_REDUCTION);
  fr_attr ax = fr_ad_attr_i("axis", 1);
  fr_value *p = fr_ad_op(a, "Softmax", 1, (fr_value *[]){IN(0)}, 1, &ax);
  int64_t depth = C;
  float off_on[2] = {0, 1};
  fr_tensor vt = {.kind = FR_KIND_TENSOR, .dtype = FR_F32, .rank = 1,
                  .dims = {2}, .data = off_on};
  fr_value *vals = fr_graph_add_init(a->g, "onehot_values", &vt);
  if (!vals) return fr_err_nomem(n);
  fr_attr oax = fr_ad_attr_i("axis", -1);
  fr_value *oh = fr_ad_op(a, "OneHot", 3,
                          (fr_value *[]){IN(1), fr_ad_ints(a, 1, &depth), vals},
                          1, &oax);
  fr_value *diff = fr_ad_binary(a, "Sub", p, oh);
  fr_value *scale = dy[0];
  if (!strcmp(red, "none")) {
    fr_tensor col = {.rank = 2, .dims = {N, 1}};
    scale = fr_ad_reshape(a, dy[0], &col);
  } else if (!strcmp(red, "mean")) {
    scale = fr_ad_binary(a, "Mul", dy[0], fr_ad_scalar(a, N ? 1.0f / (float)N : 0));
  }
  return fr_ad_accum(a, IN(0), fr_ad_binary(a, "Mul", diff, scale));
}
