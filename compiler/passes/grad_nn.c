/* grad_nn.c: the gradient rules of the convolutions and the pools (the
 * grad column of ir/ops.def), beside grad.c's. Their backward nodes are
 * ordinary ops where one fits (the input gradient of Conv is a
 * ConvTranspose of dy, ConvTranspose's a Conv) and frost's gradient ops
 * otherwise (ir/infer_grad.c, kernels in runtime/kernels/nn_grad.c):
 * ConvGradWeight for the weights, MaxPoolGrad and AveragePoolGrad for the
 * pools' inputs. Each reads the forward's window as its shape inference
 * resolved it (auto_pad, ceil_mode) and hands the backward op explicit
 * pads. tests/unit/test_grad.c checks each against finite differences. */
#include <string.h>

#include "grad.h"

#define IN(i) fr_node_input(n, i)

/* The window's attributes for a backward op: strides, dilations, pads
 * (begin then end, nsp each), and kernel_shape when kernel; group when > 0.
 * Returns the number of attributes written to at (at most 5). */
static int window_attrs(fr_ad *a, const fr_nn_geom *g, const int64_t *pad_e,
                        bool kernel, int64_t group, fr_attr *at) {
  int nsp = g->nsp, k = 0;
  int64_t pads[6];
  for (int i = 0; i < nsp; i++) {
    pads[i] = g->pad_b[i];
    pads[nsp + i] = pad_e[i];
  }
  at[k++] = fr_ad_attr_ints(a, "strides", nsp, g->stride);
  at[k++] = fr_ad_attr_ints(a, "dilations", nsp, g->dil);
  at[k++] = fr_ad_attr_ints(a, "pads", 2 * nsp, pads);
  if (kernel) at[k++] = fr_ad_attr_ints(a, "kernel_shape", nsp, g->kernel);
  if (group > 0) at[k++] = fr_ad_attr_i("group", group);
  return k;
}

/* d summed over every dim but the channel (1): a bias's gradient. */
static fr_value *sum_but_channel(fr_ad *a, fr_value *d) {
  int64_t axes[FR_MAX_RANK];
  int na = 0;
  for (int i = 0; i < d->t.rank; i++)
    if (i != 1) axes[na++] = i;
  fr_value *ax = fr_ad_ints(a, na, axes);
  fr_attr keep = fr_ad_attr_i("keepdims", 0);
  if (!ax) return NULL;
  return fr_ad_op(a, "ReduceSum", 2, (fr_value *[]){d, ax}, 1, &keep);
}

/* ---- convolutions -------------------------------------------------------- */

/* A 1x1 convolution of stride 1 without pads: its input gradient is a
 * 1x1 convolution too, with the weights transposed per group. */
static bool conv_is_pointwise(const fr_nn_geom *g) {
  for (int i = 0; i < g->nsp; i++)
    if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad_b[i] || g->pad_e[i])
      return false;
  return true;
}

/* W [M, C/g, 1...] as [C, M/g, 1...]: per group, (M/g, C/g) transposed. */
static fr_value *pointwise_weight_t(fr_ad *a, fr_value *W, int64_t group) {
  const int r = W->t.rank;
  const int64_t M = W->t.dims[0], Cg = W->t.dims[1], Mg = M / group;
  int64_t perm[FR_MAX_RANK] = {1, 0}, shape[FR_MAX_RANK];
  for (int i = 2; i < r; i++) perm[i] = i;
  if (group == 1) {
    fr_attr at = fr_ad_attr_ints(a, "perm", r, perm);
    return fr_ad_op(a, "Transpose", 1, (fr_value *[]){W}, 1, &at);
  }
  int64_t g3[3] = {group, Mg, Cg}, p3[3] = {0, 2, 1};
  fr_value *s3 = fr_ad_ints(a, 3, g3);
  fr_attr at = fr_ad_attr_ints(a, "perm", 3, p3);
  fr_value *w3 = s3 ? fr_ad_op(a, "Reshape", 2, (fr_value *[]){W, s3}, 0, NULL) : NULL;
  fr_value *t3 = w3 ? fr_ad_op(a, "Transpose", 1, (fr_value *[]){w3}, 1, &at) : NULL;
  shape[0] = group * Cg;
  shape[1] = Mg;
  for (int i = 2; i < r; i++) shape[i] = 1;
  fr_value *sh = fr_ad_ints(a, r, shape);
  return t3 && sh ? fr_ad_op(a, "Reshape", 2, (fr_value *[]){t3, sh}, 0, NULL) : NULL;
}

/* y = Conv(x [N, C, D...], W [M, C/g, K...]) + B [M], O = (D + pb + pe -
 * ek) / s + 1 (ek = (K - 1) dil + 1):
 * dx = ConvTranspose(d, W) with the same window, output_padding the
 *      remainder (D + pb + pe - ek) mod s, so that its output is D again
 *      (a 1x1 conv of stride 1 without pads: Conv(d, W^T));
 * dW = ConvGradWeight(x, d); dB = d summed over N and the spatial dims. */
fr_status fr_grad_conv(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *X = IN(0), *W = IN(1), *B = IN(2), *d = dy[0];
  fr_nn_geom g;
  FR_TRY(fr_nn_conv_geom(n, &X->t, &W->t, &g));
  fr_attr at[8];
  if (fr_ad_wants(a, X) && conv_is_pointwise(&g)) {
    /* dx = Conv(d, W^T): the forward conv's kernels (folded images,
     * B read in place) instead of a GEMM and a col2im copy */
    int64_t ones[3] = {1, 1, 1};
    int k = window_attrs(a, &g, g.pad_e, false, g.group, at);
    at[k++] = fr_ad_attr_ints(a, "kernel_shape", g.nsp, ones);
    fr_value *wt = pointwise_weight_t(a, W, g.group);
    FR_TRY(fr_ad_accum(
        a, X, wt ? fr_ad_op(a, "Conv", 2, (fr_value *[]){d, wt}, k, at) : NULL));
  } else if (fr_ad_wants(a, X)) {
    int64_t adj[3];
    for (int i = 0; i < g.nsp; i++) {
      int64_t ek = (g.kernel[i] - 1) * g.dil[i] + 1;
      adj[i] = (X->t.dims[2 + i] + g.pad_b[i] + g.pad_e[i] - ek) % g.stride[i];
    }
    int k = window_attrs(a, &g, g.pad_e, false, g.group, at);
    at[k++] = fr_ad_attr_ints(a, "output_padding", g.nsp, adj);
    FR_TRY(fr_ad_accum(
        a, X, fr_ad_op(a, "ConvTranspose", 2, (fr_value *[]){d, W}, k, at)));
  }
  if (fr_ad_wants(a, W)) {
    int k = window_attrs(a, &g, g.pad_e, true, g.group, at);
    FR_TRY(fr_ad_accum(
        a, W,
        fr_ad_frost(a, "ConvGradWeight", 2, (fr_value *[]){X, d}, k, at)));
  }
  if (fr_ad_wants(a, B)) {
    /* d made by a fused BatchNormalization backward already has its sums */
    const fr_node *p = d->producer;
    if (p && p->op == FR_OP_RELU_BN_GRAD && p->out[0] == d)
      FR_TRY(fr_ad_accum(a, B, fr_ad_row(a, p->out[1], 2, &B->t)));
    else
      FR_TRY(fr_ad_accum(a, B, sum_but_channel(a, d)));
  }
  return a->st;
}

/* y = ConvTranspose(x [N, C, I...], W [C, M/g, K...]) + B [M]: the
 * transpose of a Conv from y's space to x's with the same window, whose
 * end pad pe makes its output I again: (O + pb + pe - ek) / s = I - 1,
 * pe = s (I - 1) + ek - O - pb + t for some t in [0, s); the least that is
 * not negative (output_padding makes the first negative). So
 * dx = Conv(d, W) with pads (pb, pe); dW = ConvGradWeight(d, x) (d as the
 * input, x as the output gradient: W is that Conv's weight);
 * dB = d summed over N and the spatial dims. */
fr_status fr_grad_conv_transpose(fr_ad *a, const fr_node *n,
                                 fr_value *const *dy) {
  fr_value *X = IN(0), *W = IN(1), *B = IN(2), *d = dy[0];
  fr_nn_geom g;
  FR_TRY(fr_nn_convt_geom(n, &X->t, &W->t, &g));
  int64_t pe[3];
  for (int i = 0; i < g.nsp; i++) {
    int64_t ek = (g.kernel[i] - 1) * g.dil[i] + 1;
    pe[i] = g.stride[i] * (X->t.dims[2 + i] - 1) + ek - g.out[i] - g.pad_b[i];
    if (pe[i] < 0 && pe[i] + g.stride[i] - 1 >= 0) pe[i] = 0;
    if (pe[i] < 0 || g.pad_b[i] < 0)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "the gradient of a ConvTranspose whose output_shape "
                         "is larger than its full output");
  }
  fr_attr at[8];
  if (fr_ad_wants(a, X)) {
    int k = window_attrs(a, &g, pe, false, g.group, at);
    FR_TRY(
        fr_ad_accum(a, X, fr_ad_op(a, "Conv", 2, (fr_value *[]){d, W}, k, at)));
  }
  if (fr_ad_wants(a, W)) {
    int k = window_attrs(a, &g, pe, true, g.group, at);
    FR_TRY(fr_ad_accum(
        a, W,
        fr_ad_frost(a, "ConvGradWeight", 2, (fr_value *[]){d, X}, k, at)));
  }
  if (fr_ad_wants(a, B)) FR_TRY(fr_ad_accum(a, B, sum_but_channel(a, d)));
  return a->st;
}

/* ---- pools --------------------------------------------------------------- */

/* MaxPool: each d element to the maximum of its window in x (the first on
 * ties, as the forward picks it), summed where windows overlap:
 * MaxPoolGrad(d, x). The Indices output has no gradient. */
fr_status fr_grad_max_pool(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  if (!dy[0]) return FR_OK;
  fr_value *X = IN(0);
  fr_nn_geom g;
  FR_TRY(fr_nn_pool_geom(n, &X->t, &g));
  fr_attr at[4];
  int k = window_attrs(a, &g, g.pad_e, true, 0, at);
  return fr_ad_accum(
      a, X, fr_ad_frost(a, "MaxPoolGrad", 2, (fr_value *[]){dy[0], X}, k, at));
}

/* GlobalMaxPool [N, C, S...] -> [N, C, 1...]: a MaxPool whose one window
 * is the whole plane. */
fr_status fr_grad_global_max_pool(fr_ad *a, const fr_node *n,
                                  fr_value *const *dy) {
  fr_value *X = IN(0);
  int nsp = X->t.rank - 2;
  if (nsp <= 0) return fr_ad_accum(a, X, dy[0]);
  if (nsp > 3)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the gradient of GlobalMaxPool over %d spatial dims",
                       nsp);
  fr_attr at = fr_ad_attr_ints(a, "kernel_shape", nsp, X->t.dims + 2);
  return fr_ad_accum(
      a, X, fr_ad_frost(a, "MaxPoolGrad", 2, (fr_value *[]){dy[0], X}, 1, &at));
}

/* AveragePool: each d element divided by its window's count (padding
 * counted when count_include_pad) and spread over the window:
 * AveragePoolGrad(d) into x's shape. */
fr_status fr_grad_avg_pool(fr_ad *a, const fr_node *n, fr_value *const *dy) {
  fr_value *X = IN(0);
  fr_nn_geom g;
  FR_TRY(fr_nn_pool_geom(n, &X->t, &g));
  fr_attr at[6];
  int k = window_attrs(a, &g, g.pad_e, true, 0, at);
  at[k++] = fr_ad_attr_i("count_include_pad",
                         fr_attr_int(n, FR_A_COUNT_INCLUDE_PAD) != 0);
  at[k++] = fr_ad_attr_ints(a, "shape", X->t.rank, X->t.dims);
  return fr_ad_accum(a, X, fr_ad_frost(a, "AveragePoolGrad", 1, &dy[0], k, at));
}
