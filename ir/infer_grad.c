/* infer_grad.c: shape inference of frost's gradient ops (domain "frost"),
 * which the autodiff pass builds (compiler/passes/grad.c), float32 only:
 *   ConvGradWeight(x, dy) -> dW: the weight gradient of a Conv of x
 *     (N, C, D...) whose output gradient is dy (N, M, O...): dW (M,
 *     C/group, kernel...). Attributes as Conv's, with explicit pads (no
 *     auto_pad): kernel_shape, strides, dilations, pads, group.
 *   MaxPoolGrad(dy, x) -> dx of x's shape: each dy element to its window's
 *     maximum in x. Attributes kernel_shape, strides, dilations, pads.
 *   AveragePoolGrad(dy) -> dx of shape `shape`: each dy element spread over
 *     its window. Also count_include_pad.
 *   GatherGrad(dy, indices) -> dx of shape `shape`: dy scattered back
 *     along `axis` to the rows indices name, repeated ones adding up.
 *   ReluGrad(dy, y) -> y > 0 ? dy : 0, elementwise (broadcasting, floats;
 *     shape inference is the binaries' of infer_elem.c): Relu's dx from
 *     its output y.
 *   BatchNormGrad(dy, x, mean, var) -> (2, C): the scale and bias
 *     gradients of a BatchNormalization in inference form of x (N, C,
 *     ...) with output gradient dy: row 0 sum(dy (x - mean)) /
 *     sqrt(var + epsilon), row 1 sum(dy), per channel. Attribute epsilon.
 *   ReluBatchNormGrad(dy, y, x, scale, mean, var) -> (dx, (3, C)): the
 *     backward of BatchNormalization (inference form, of x) then Relu
 *     (output y) in one pass: g = y > 0 ? dy : 0; dx = g scale (scale per
 *     channel, gamma / sqrt(var + epsilon)) of x's shape; rows of the
 *     second output: 0 sum(g (x - mean)) / sqrt(var + epsilon), 1 sum(g),
 *     2 sum(dx) (a bias of the conv before: its gradient), per channel.
 * The windows are Conv's and the pools' as their own inference resolved
 * them (pads explicit, ceil_mode already in dy's dims). */
#include <string.h>

#include "ir.h"

fr_status fr_grad_window(const fr_node *n, int nsp, fr_nn_geom *g) {
  memset(g, 0, sizeof *g);
  g->nsp = nsp;
  g->group = n->op == FR_OP_CONV_GRAD_WEIGHT ? fr_attr_int(n, FR_A_GROUP) : 1;
  int nk, ns, nd, np;
  const int64_t *k = fr_attr_ints(n, FR_A_KERNEL_SHAPE, &nk);
  const int64_t *s = fr_attr_ints(n, FR_A_STRIDES, &ns);
  const int64_t *d = fr_attr_ints(n, FR_A_DILATIONS, &nd);
  const int64_t *p = fr_attr_ints(n, FR_A_PADS, &np);
  if (nsp < 1 || nsp > 3 || !k || nk != nsp || (s && ns != nsp) ||
      (d && nd != nsp) || (p && np != 2 * nsp))
    return fr_err_node(FR_ERR_INVALID, n,
                       "kernel_shape/strides/dilations/pads do not match %d "
                       "spatial dims",
                       nsp);
  if (g->group < 1)
    return fr_err_node(FR_ERR_INVALID, n, "group %lld", (long long)g->group);
  for (int i = 0; i < nsp; i++) {
    g->kernel[i] = k[i];
    g->stride[i] = s ? s[i] : 1;
    g->dil[i] = d ? d[i] : 1;
    g->pad_b[i] = p ? p[i] : 0;
    g->pad_e[i] = p ? p[i + nsp] : 0;
    if (g->kernel[i] < 1 || g->stride[i] < 1 || g->dil[i] < 1 ||
        g->pad_b[i] < 0 || g->pad_e[i] < 0 ||
        g->kernel[i] > ((int64_t)1 << 31) || g->dil[i] > ((int64_t)1 << 31) ||
        g->stride[i] > ((int64_t)1 << 31) || g->pad_b[i] > ((int64_t)1 << 31) ||
        g->pad_e[i] > ((int64_t)1 << 31))
      return fr_err_node(FR_ERR_INVALID, n,
                         "kernel, strides and dilations must be positive, "
                         "pads not negative");
  }
  return FR_OK;
}

static fr_status need_f32(const fr_node *n, const fr_tensor *t,
                          const char *what) {
  if (t->kind != FR_KIND_TENSOR || t->dtype != FR_F32)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "%s must be float32", what);
  if (t->rank < 3 || t->rank > 5)
    return fr_err_node(FR_ERR_SHAPE, n, "%s is rank %d: need 3 to 5", what,
                       t->rank);
  return FR_OK;
}

/* x (N, C, D...), dy (N, M, O...) -> dW (M, C/group, kernel...); each O
 * must be what the window gives over D. */
fr_status fr_infer_conv_grad_weight(const fr_node *n, fr_tensor *const *in,
                                    fr_tensor *const *out) {
  const fr_tensor *x = in[0], *dy = in[1];
  FR_TRY(need_f32(n, x, "x"));
  FR_TRY(need_f32(n, dy, "dy"));
  if (dy->rank != x->rank || dy->dims[0] != x->dims[0])
    return fr_err_node(FR_ERR_SHAPE, n, "x and dy do not match");
  fr_nn_geom g;
  FR_TRY(fr_grad_window(n, x->rank - 2, &g));
  int64_t C = x->dims[1], M = dy->dims[1];
  if (C % g.group || M % g.group)
    return fr_err_node(FR_ERR_SHAPE, n,
                       "group %lld does not divide %lld "
                       "input and %lld output channels",
                       (long long)g.group, (long long)C, (long long)M);
  for (int i = 0; i < g.nsp; i++) {
    int64_t span = x->dims[2 + i] + g.pad_b[i] + g.pad_e[i] -
                   (g.kernel[i] - 1) * g.dil[i] - 1;
    if (span < 0 || span / g.stride[i] + 1 != dy->dims[2 + i])
      return fr_err_node(FR_ERR_SHAPE, n,
                         "dy's spatial dim %d (%lld) is not the window's "
                         "output over x",
                         i, (long long)dy->dims[2 + i]);
  }
  int64_t dims[FR_MAX_RANK] = {M, C / g.group};
  memcpy(dims + 2, g.kernel, sizeof(int64_t) * (size_t)g.nsp);
  fr_set_shape(out[0], FR_F32, x->rank, dims);
  return FR_OK;
}

/* MaxPoolGrad: dy (N, C, O...), x (N, C, D...) -> x's shape;
 * AveragePoolGrad: dy -> `shape`, (N, C, D...). */
fr_status fr_infer_pool_grad(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  const fr_tensor *dy = in[0];
  FR_TRY(need_f32(n, dy, "dy"));
  int rank = dy->rank;
  int64_t dims[FR_MAX_RANK];
  if (n->op == FR_OP_MAX_POOL_GRAD) {
    FR_TRY(need_f32(n, in[1], "x"));
    if (in[1]->rank != rank)
      return fr_err_node(FR_ERR_SHAPE, n, "x and dy do not match");
    memcpy(dims, in[1]->dims, sizeof(int64_t) * (size_t)rank);
  } else {
    int ns;
    const int64_t *s = fr_attr_ints(n, FR_A_SHAPE, &ns);
    if (!s || ns != rank)
      return fr_err_node(FR_ERR_INVALID, n, "shape must have %d dims", rank);
    for (int i = 0; i < rank; i++) {
      if (s[i] < 0) return fr_err_node(FR_ERR_INVALID, n, "negative shape");
      dims[i] = s[i];
    }
  }
  if (dims[0] != dy->dims[0] || dims[1] != dy->dims[1])
    return fr_err_node(FR_ERR_SHAPE, n, "dy's (N, C) differ from dx's");
  fr_nn_geom g;
  FR_TRY(fr_grad_window(n, rank - 2, &g));
  fr_set_shape(out[0], FR_F32, rank, dims);
  return FR_OK;
}

/* dy (shape[:axis], indices..., shape[axis+1:]) -> `shape`. */
fr_status fr_infer_gather_grad(const fr_node *n, fr_tensor *const *in,
                               fr_tensor *const *out) {
  const fr_tensor *dy = in[0], *idx = in[1];
  if (dy->kind != FR_KIND_TENSOR || dy->dtype != FR_F32)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "dy must be float32");
  if (idx->kind != FR_KIND_TENSOR ||
      (idx->dtype != FR_I64 && idx->dtype != FR_I32))
    return fr_err_node(FR_ERR_SHAPE, n, "indices must be int32 or int64");
  int r;
  const int64_t *s = fr_attr_ints(n, FR_A_SHAPE, &r);
  if (!s || r < 1 || r + idx->rank - 1 > FR_MAX_RANK)
    return fr_err_node(FR_ERR_INVALID, n, "shape must have 1 to %d dims",
                       FR_MAX_RANK);
  int axis;
  FR_TRY(fr_axis(n, fr_attr_int(n, FR_A_AXIS), r, &axis));
  bool ok = dy->rank == r - 1 + idx->rank;
  for (int i = 0; ok && i < dy->rank; i++) {
    int64_t want = i < axis               ? s[i]
                   : i < axis + idx->rank ? idx->dims[i - axis]
                                          : s[i - idx->rank + 1];
    ok = dy->dims[i] == want;
  }
  for (int i = 0; ok && i < r; i++) ok = s[i] >= 0;
  if (!ok)
    return fr_err_node(FR_ERR_SHAPE, n,
                       "dy's shape is not Gather's output "
                       "over shape and indices");
  fr_set_shape(out[0], FR_F32, r, s);
  return FR_OK;
}

fr_status fr_infer_relu_bn_grad(const fr_node *n, fr_tensor *const *in,
                                fr_tensor *const *out) {
  for (int i = 0; i < 6; i++)
    if (in[i]->kind != FR_KIND_TENSOR || in[i]->dtype != FR_F32)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "inputs must be float32 tensors");
  const fr_tensor *x = in[2];
  bool ok = x->rank >= 2;
  for (int k = 0; k < 2; k++) {
    ok = ok && in[k]->rank == x->rank;
    for (int i = 0; ok && i < x->rank; i++)
      ok = in[k]->dims[i] == x->dims[i] && x->dims[i] >= 0;
  }
  if (!ok) return fr_err_node(FR_ERR_SHAPE, n, "dy, y and x must have one shape (N, C, ...)");
  const int64_t C = x->dims[1];
  for (int i = 3; i < 6; i++)
    if (in[i]->rank != 1 || in[i]->dims[0] != C)
      return fr_err_node(FR_ERR_SHAPE, n, "scale, mean and var must be [C], C = %lld",
                         (long long)C);
  fr_set_shape(out[0], FR_F32, x->rank, x->dims);
  fr_set_shape(out[1], FR_F32, 2, (int64_t[]){3, C});
  return FR_OK;
}

fr_status fr_infer_bn_grad(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  const fr_tensor *dy = in[0], *x = in[1];
  for (int i = 0; i < 4; i++)
    if (in[i]->kind != FR_KIND_TENSOR || in[i]->dtype != FR_F32)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "inputs must be float32 tensors");
  bool ok = x->rank >= 2 && dy->rank == x->rank;
  for (int i = 0; ok && i < x->rank; i++) ok = dy->dims[i] == x->dims[i] && x->dims[i] >= 0;
  if (!ok) return fr_err_node(FR_ERR_SHAPE, n, "dy and x must have one shape (N, C, ...)");
  const int64_t C = x->dims[1];
  for (int i = 2; i < 4; i++)
    if (in[i]->rank != 1 || in[i]->dims[0] != C)
      return fr_err_node(FR_ERR_SHAPE, n, "mean and var must be [C], C = %lld",
                         (long long)C);
  fr_set_shape(out[0], FR_F32, 2, (int64_t[]){2, C});
  return FR_OK;
}
