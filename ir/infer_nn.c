/* infer_nn.c: shape inference of the neural-network ops: convolutions,
 * pooling, Gemm and MatMul, quantization, Resize and friends. */
#include <math.h>
#include <string.h>

#include "ir.h"

/* ---- sliding windows (conv, pool) ---------------------------------------- */

/* The geometry of a sliding window over nsp spatial dims in[]: reads
 * strides, dilations, pads, auto_pad (and ceil_mode when pool) from n and
 * fills out, stride, dil, pad_b, pad_e (nsp entries each). */
static fr_status window(const fr_node *n, int nsp, const int64_t *in,
                        const int64_t *kernel, bool pool, int64_t *out,
                        int64_t *stride, int64_t *dil, int64_t *pad_b,
                        int64_t *pad_e) {
  int ns, nd, np;
  const int64_t *s = fr_attr_ints(n, FR_A_STRIDES, &ns);
  const int64_t *d = fr_attr_ints(n, FR_A_DILATIONS, &nd);
  const int64_t *p = fr_attr_ints(n, FR_A_PADS, &np);
  const char *ap = fr_attr_str(n, FR_A_AUTO_PAD);
  int64_t ceil_mode = pool ? fr_attr_int(n, FR_A_CEIL_MODE) : 0;
  if ((s && ns != nsp) || (d && nd != nsp) || (p && np != 2 * nsp))
    return fr_err_node(FR_ERR_INVALID, n,
                       "strides/dilations/pads do not match %d spatial dims",
                       nsp);
  bool same_u = !strcmp(ap, "SAME_UPPER"), same_l = !strcmp(ap, "SAME_LOWER");
  bool valid = !strcmp(ap, "VALID");
  if (!same_u && !same_l && !valid && strcmp(ap, "NOTSET") && ap[0])
    return fr_err_node(FR_ERR_INVALID, n, "unknown auto_pad '%s'", ap);
  for (int i = 0; i < nsp; i++) {
    stride[i] = s ? s[i] : 1;
    dil[i] = d ? d[i] : 1;
    if (stride[i] < 1 || dil[i] < 1 || kernel[i] < 1)
      return fr_err_node(FR_ERR_INVALID, n,
                         "kernel %lld, stride %lld, dilation %lld: must be "
                         "positive", (long long)kernel[i],
                         (long long)stride[i], (long long)dil[i]);
    if (kernel[i] > ((int64_t)1 << 31) || dil[i] > ((int64_t)1 << 31))
      return fr_err_node(FR_ERR_INVALID, n, "kernel too large");
    int64_t ek = (kernel[i] - 1) * dil[i] + 1; /* effective kernel */
    if (same_u || same_l) {
      out[i] = (in[i] + stride[i] - 1) / stride[i];
      int64_t total = (out[i] - 1) * stride[i] + ek - in[i];
      if (total < 0) total = 0;
      pad_b[i] = same_u ? total / 2 : total - total / 2;
      pad_e[i] = total - pad_b[i];
    } else {
      pad_b[i] = valid || !p ? 0 : p[i];
      pad_e[i] = valid || !p ? 0 : p[i + nsp];
      if (pad_b[i] < 0 || pad_e[i] < 0)
        return fr_err_node(FR_ERR_INVALID, n, "negative pads");
      int64_t span = in[i] + pad_b[i] + pad_e[i] - ek;
      if (span < 0)
        return fr_err_node(FR_ERR_SHAPE, n,
                           "kernel (%lld) larger than the padded input (%lld)",
                           (long long)ek,
                           (long long)(in[i] + pad_b[i] + pad_e[i]));
      out[i] = (ceil_mode ? (span + stride[i] - 1) / stride[i]
                          : span / stride[i]) + 1;
      /* the last window must start inside the input or its left padding */
      if (ceil_mode && (out[i] - 1) * stride[i] >= in[i] + pad_b[i]) out[i]--;
    }
  }
  return FR_OK;
}

static fr_status need_float(const fr_node *n, const fr_tensor *t) {
  if (t->dtype != FR_F32 && t->dtype != FR_F64 && t->dtype != FR_F16)
    return fr_err_node(FR_ERR_SHAPE, n, "needs a float tensor, got %s",
                       fr_dtype_name(t->dtype));
  return FR_OK;
}

/* kernel_shape, when given, must be W's spatial dims. */
static fr_status check_kernel_shape(const fr_node *n, const fr_tensor *w) {
  int nk, nsp = w->rank - 2;
  const int64_t *ks = fr_attr_ints(n, FR_A_KERNEL_SHAPE, &nk);
  if (ks && nk != nsp)
    return fr_err_node(FR_ERR_INVALID, n, "kernel_shape has %d dims", nk);
  for (int i = 0; ks && i < nsp; i++)
    if (ks[i] != w->dims[i + 2])
      return fr_err_node(FR_ERR_SHAPE, n, "kernel_shape does not match W");
  return FR_OK;
}

/* What Conv and ConvTranspose read alike: the ranks of x and w, group,
 * and kernel_shape (w's spatial dims). */
static fr_status conv_common(const fr_node *n, const fr_tensor *x,
                             const fr_tensor *w, fr_nn_geom *g) {
  memset(g, 0, sizeof *g);
  if (x->rank < 3 || x->rank > 5 || w->rank != x->rank)
    return fr_err_node(FR_ERR_SHAPE, n, "X is rank %d, W rank %d: need 3 to 5",
                       x->rank, w->rank);
  g->nsp = x->rank - 2;
  g->group = fr_attr_int(n, FR_A_GROUP);
  FR_TRY(check_kernel_shape(n, w));
  memcpy(g->kernel, w->dims + 2, sizeof(int64_t) * (size_t)g->nsp);
  return FR_OK;
}

fr_status fr_nn_conv_geom(const fr_node *n, const fr_tensor *x,
                          const fr_tensor *w, fr_nn_geom *g) {
  FR_TRY(conv_common(n, x, w, g));
  int64_t C = x->dims[1], M = w->dims[0];
  if (g->group < 1 || C % g->group || M % g->group || w->dims[1] * g->group != C)
    return fr_err_node(FR_ERR_SHAPE, n,
                       "group %lld does not fit %lld input channels, W "
                       "(%lld, %lld, ...)", (long long)g->group, (long long)C,
                       (long long)M, (long long)w->dims[1]);
  return window(n, g->nsp, x->dims + 2, g->kernel, false, g->out, g->stride,
                g->dil, g->pad_b, g->pad_e);
}

/* X (N, C, D1...), W (M, C/group, K1...), B (M) -> Y (N, M, O1...) of
 * dtype t. Conv, ConvInteger, QLinearConv. */
static fr_status conv_shape(const fr_node *n, const fr_tensor *x,
                            const fr_tensor *w, const fr_tensor *b,
                            fr_dtype t, fr_tensor *out) {
  fr_nn_geom g;
  FR_TRY(fr_nn_conv_geom(n, x, w, &g));
  int64_t M = w->dims[0];
  if (b && (b->rank != 1 || b->dims[0] != M))
    return fr_err_node(FR_ERR_SHAPE, n, "bias must be (%lld)", (long long)M);
  int64_t dims[FR_MAX_RANK] = {x->dims[0], M};
  memcpy(dims + 2, g.out, sizeof(int64_t) * (size_t)g.nsp);
  fr_set_shape(out, t, x->rank, dims);
  return FR_OK;
}

static bool is_q8(fr_dtype t) { return t == FR_U8 || t == FR_I8; }

fr_status fr_infer_conv(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  const fr_tensor *x = in[0], *w = in[1], *b = n->n_in > 2 ? in[2] : NULL;
  if (n->op == FR_OP_CONV_INTEGER) {
    if (!is_q8(x->dtype) || !is_q8(w->dtype))
      return fr_err_node(FR_ERR_SHAPE, n, "needs 8-bit integer X and W");
    return conv_shape(n, x, w, NULL, FR_I32, out[0]);
  }
  if (n->op == FR_OP_QLINEAR_CONV) {
    /* x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B */
    const fr_tensor *qw = in[3], *yzp = in[7];
    const fr_tensor *qb = n->n_in > 8 ? in[8] : NULL;
    if (!is_q8(x->dtype) || !is_q8(qw->dtype) || !is_q8(yzp->dtype))
      return fr_err_node(FR_ERR_SHAPE, n, "needs 8-bit integer X, W, y_zero_point");
    if (qb && qb->dtype != FR_I32)
      return fr_err_node(FR_ERR_SHAPE, n, "B must be int32");
    return conv_shape(n, x, qw, qb, yzp->dtype, out[0]);
  }
  FR_TRY(need_float(n, x));
  if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "mixed data types");
  return conv_shape(n, x, w, b, x->dtype, out[0]);
}

fr_status fr_nn_pool_geom(const fr_node *n, const fr_tensor *x,
                          fr_nn_geom *g) {
  memset(g, 0, sizeof *g);
  g->nsp = x->rank - 2;
  g->group = 1;
  int nk;
  const int64_t *ks = fr_attr_ints(n, FR_A_KERNEL_SHAPE, &nk);
  if (!ks || nk != g->nsp)
    return fr_err_node(FR_ERR_INVALID, n,
                       "kernel_shape must have %d entries", g->nsp);
  memcpy(g->kernel, ks, sizeof(int64_t) * (size_t)g->nsp);
  bool ceil_ok = n->op != FR_OP_LP_POOL || n->opset >= 18;
  FR_TRY(window(n, g->nsp, x->dims + 2, g->kernel, ceil_ok, g->out, g->stride,
                g->dil, g->pad_b, g->pad_e));
  if (n->op == FR_OP_MAX_POOL) {
    int64_t so = fr_attr_int(n, FR_A_STORAGE_ORDER);
    if (so != 0 && so != 1)
      return fr_err_node(FR_ERR_INVALID, n, "storage_order must be 0 or 1");
    g->col_major = (int)so;
  }
  return FR_OK;
}

/* MaxPool, AveragePool, LpPool: X (N, C, D1...) -> Y (N, C, O1...) and for
 * MaxPool optionally Indices (int64, same shape). */
fr_status fr_infer_pool(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  if (x->rank < 3 || x->rank > 5)
    return fr_err_node(FR_ERR_SHAPE, n, "X is rank %d: need 3 to 5", x->rank);
  if (n->op == FR_OP_MAX_POOL) {
    if (x->dtype != FR_F32 && x->dtype != FR_U8 && x->dtype != FR_I8 &&
        x->dtype != FR_F64 && x->dtype != FR_F16)
      return fr_err_node(FR_ERR_SHAPE, n, "data type %s",
                         fr_dtype_name(x->dtype));
  } else {
    FR_TRY(need_float(n, x));
  }
  fr_nn_geom g;
  FR_TRY(fr_nn_pool_geom(n, x, &g));
  int64_t dims[FR_MAX_RANK] = {x->dims[0], x->dims[1]};
  memcpy(dims + 2, g.out, sizeof(int64_t) * (size_t)g.nsp);
  fr_set_shape(out[0], x->dtype, x->rank, dims);
  if (n->n_out > 1 && out[1]) {
    if (x->dtype != FR_F32)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "Indices output only for float32");
    fr_set_shape(out[1], FR_I64, x->rank, dims);
  }
  return FR_OK;
}

/* GlobalAveragePool, GlobalMaxPool, GlobalLpPool: (N, C, D...) ->
 * (N, C, 1...). */
fr_status fr_infer_global_pool(const fr_node *n, fr_tensor *const *in,
                               fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_float(n, x));
  if (x->rank < 2)
    return fr_err_node(FR_ERR_SHAPE, n, "X is rank %d: need 2 or more",
                       x->rank);
  int64_t dims[FR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = i < 2 ? x->dims[i] : 1;
  fr_set_shape(out[0], x->dtype, x->rank, dims);
  return FR_OK;
}

/* ---- Gemm, MatMul ------------------------------------------------------- */

fr_gemm_attrs fr_gemm_attrs_of(const fr_node *n) {
  return (fr_gemm_attrs){.alpha = fr_attr_float(n, FR_A_ALPHA),
                         .beta = fr_attr_float(n, FR_A_BETA),
                         .trans_a = fr_attr_int(n, FR_A_TRANS_A) != 0,
                         .trans_b = fr_attr_int(n, FR_A_TRANS_B) != 0};
}

/* Y (M, N) = alpha * A' (M, K) * B' (K, N) + beta * C, C broadcast to
 * (M, N); A' = transA ? A^T : A, the same for B. */
fr_status fr_infer_gemm(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  const fr_tensor *a = in[0], *b = in[1], *c = n->n_in > 2 ? in[2] : NULL;
  FR_TRY(need_float(n, a));
  if (b->dtype != a->dtype || (c && c->dtype != a->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "mixed data types");
  if (a->rank != 2 || b->rank != 2)
    return fr_err_node(FR_ERR_SHAPE, n, "A and B must be matrices (ranks %d, %d)",
                       a->rank, b->rank);
  fr_gemm_attrs ga = fr_gemm_attrs_of(n);
  bool ta = ga.trans_a, tb = ga.trans_b;
  int64_t M = a->dims[ta ? 1 : 0], K = a->dims[ta ? 0 : 1];
  int64_t Kb = b->dims[tb ? 1 : 0], N = b->dims[tb ? 0 : 1];
  if (K != Kb)
    return fr_err_node(FR_ERR_SHAPE, n, "inner dimensions %lld and %lld",
                       (long long)K, (long long)Kb);
  int64_t dims[2] = {M, N};
  if (c) {
    if (c->rank > 2)
      return fr_err_node(FR_ERR_SHAPE, n, "C has rank %d", c->rank);
    for (int i = 0; i < c->rank; i++) {
      int64_t cd = c->dims[i], od = dims[2 - c->rank + i];
      if (cd != 1 && cd != od)
        return fr_err_node(FR_ERR_SHAPE, n,
                           "C does not broadcast to (%lld, %lld)",
                           (long long)M, (long long)N);
    }
  }
  fr_set_shape(out[0], a->dtype, 2, dims);
  return FR_OK;
}

/* numpy matmul: (..., M, K) x (..., K, N) -> (broadcast..., M, N); a 1-D
 * operand is a row (A) or column (B) vector whose dim is then dropped.
 * Shared with MatMulInteger, QLinearMatMul (B is input 1 or 3). */
fr_status fr_nn_matmul_shape(const fr_node *n, const fr_tensor *a,
                             const fr_tensor *b, int *rank, int64_t *dims) {
  if (a->rank < 1 || b->rank < 1)
    return fr_err_node(FR_ERR_SHAPE, n, "operands must have rank >= 1");
  int64_t K = a->dims[a->rank - 1];
  int64_t Kb = b->dims[b->rank == 1 ? 0 : b->rank - 2];
  if (K != Kb)
    return fr_err_node(FR_ERR_SHAPE, n, "inner dimensions %lld and %lld",
                       (long long)K, (long long)Kb);
  fr_tensor ba = {0}, bb = {0};
  ba.rank = a->rank > 2 ? a->rank - 2 : 0;
  bb.rank = b->rank > 2 ? b->rank - 2 : 0;
  memcpy(ba.dims, a->dims, sizeof(int64_t) * (size_t)ba.rank);
  memcpy(bb.dims, b->dims, sizeof(int64_t) * (size_t)bb.rank);
  int r;
  FR_TRY(fr_broadcast(n, &ba, &bb, &r, dims));
  if (a->rank > 1) dims[r++] = a->dims[a->rank - 2];
  if (b->rank > 1) dims[r++] = b->dims[b->rank - 1];
  if (r > FR_MAX_RANK)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "rank too large");
  *rank = r;
  return FR_OK;
}

fr_status fr_infer_matmul(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  const fr_tensor *a = in[0], *b = in[1];
  if (a->dtype != b->dtype)
    return fr_err_node(FR_ERR_SHAPE, n, "operands are %s and %s",
                       fr_dtype_name(a->dtype), fr_dtype_name(b->dtype));
  if (a->dtype != FR_F32 && a->dtype != FR_F64 && a->dtype != FR_I32 &&
      a->dtype != FR_I64 && a->dtype != FR_U32 && a->dtype != FR_U64 &&
      a->dtype != FR_F16)
    return fr_err_node(FR_ERR_SHAPE, n, "data type %s",
                       fr_dtype_name(a->dtype));
  int rank;
  int64_t dims[FR_MAX_RANK];
  FR_TRY(fr_nn_matmul_shape(n, a, b, &rank, dims));
  fr_set_shape(out[0], a->dtype, rank, dims);
  return FR_OK;
}

/* ---- Resize, Upsample ----------------------------------------------------- */

/* Output dims and per-dim scales of Resize (opset 10: X, scales; 11+: X,
 * roi, scales, sizes) and Upsample (7: scales attribute; 9: X, scales).
 * roi (2 * rank: starts then ends) is filled when given, else 0s and 1s.
 * Shared with the exec glue. */
fr_status fr_nn_resize_shape(const fr_node *n, fr_tensor *const *in,
                             int64_t *dims, double *scales, double *roi) {
  const fr_tensor *x = in[0];
  int r = x->rank;
  const fr_tensor *ts = NULL, *tz = NULL, *troi = NULL;
  bool upsample = n->op == FR_OP_UPSAMPLE;
  if (upsample || n->opset < 11) {
    ts = n->n_in > 1 ? in[1] : NULL;
  } else {
    troi = n->n_in > 1 ? in[1] : NULL;
    ts = n->n_in > 2 ? in[2] : NULL;
    tz = n->n_in > 3 ? in[3] : NULL;
  }
  if (ts && fr_tensor_numel(ts) == 0) ts = NULL;
  if (tz && fr_tensor_numel(tz) == 0) tz = NULL;
  if (troi && fr_tensor_numel(troi) == 0) troi = NULL;
  for (int i = 0; i < r; i++) roi[i] = 0, roi[i + r] = 1;
  bool crop = !upsample && !strcmp(fr_attr_str(n, FR_A_COORDINATE_TRANSFORMATION_MODE),
                                    "tf_crop_and_resize");
  if (troi && crop) {
    if (!troi->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant roi");
    if (fr_tensor_numel(troi) != 2 * r)
      return fr_err_node(FR_ERR_SHAPE, n, "roi must have %d values", 2 * r);
    if (!fr_dtype_is_float(troi->dtype))
      return fr_err_node(FR_ERR_SHAPE, n, "roi must be float");
    for (int i = 0; i < 2 * r; i++) roi[i] = fr_tensor_get_f64(troi, i);
  }
  if (upsample && n->opset < 9) {
    int ns;
    const float *sa = fr_attr_floats(n, FR_A_SCALES, &ns);
    if (!sa || ns != r)
      return fr_err_node(FR_ERR_INVALID, n, "scales must have %d values", r);
    for (int i = 0; i < r; i++) scales[i] = sa[i];
  } else if (tz) {
    if (ts)
      return fr_err_node(FR_ERR_INVALID, n, "both scales and sizes given");
    if (!tz->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs constant sizes");
    if (tz->dtype != FR_I64 || fr_tensor_numel(tz) != r)
      return fr_err_node(FR_ERR_SHAPE, n, "sizes must be %d int64 values", r);
    for (int i = 0; i < r; i++) {
      dims[i] = ((const int64_t *)tz->data)[i];
      if (dims[i] < 0 || dims[i] > ((int64_t)1 << 40))
        return fr_err_node(FR_ERR_INVALID, n, "bad size %lld",
                           (long long)dims[i]);
      scales[i] = x->dims[i] ? (double)dims[i] / (double)x->dims[i] : 1.0;
    }
    return FR_OK;
  } else if (ts) {
    if (!ts->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs constant scales");
    if (ts->dtype != FR_F32 || fr_tensor_numel(ts) != r)
      return fr_err_node(FR_ERR_SHAPE, n, "scales must be %d float values",
                         r);
    for (int i = 0; i < r; i++) scales[i] = ((const float *)ts->data)[i];
  } else {
    return fr_err_node(FR_ERR_INVALID, n, "needs scales or sizes");
  }
  for (int i = 0; i < r; i++) {
    if (!(scales[i] > 0) || scales[i] > 1e9)
      return fr_err_node(FR_ERR_INVALID, n, "bad scale %g", scales[i]);
    double o = (double)x->dims[i] * scales[i];
    if (crop) o *= roi[i + r] - roi[i];
    if (!(o >= 0) || o > 1e12)
      return fr_err_node(FR_ERR_INVALID, n, "bad output size");
    dims[i] = (int64_t)floor(o);
  }
  return FR_OK;
}

fr_status fr_infer_resize(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  if (x->rank < 1)
    return fr_err_node(FR_ERR_SHAPE, n, "X must have rank >= 1");
  if (n->op == FR_OP_RESIZE &&
      (fr_attr_int(n, FR_A_ANTIALIAS) || fr_attr_get(n, FR_A_AXES) ||
       strcmp(fr_attr_str(n, FR_A_KEEP_ASPECT_RATIO_POLICY), "stretch")))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "antialias, axes and keep_aspect_ratio_policy "
                       "(opset 18) are not supported");
  int64_t dims[FR_MAX_RANK];
  double scales[FR_MAX_RANK], roi[2 * FR_MAX_RANK];
  FR_TRY(fr_nn_resize_shape(n, in, dims, scales, roi));
  fr_set_shape(out[0], x->dtype, x->rank, dims);
  return FR_OK;
}

/* ---- ConvTranspose ---------------------------------------------------------- */

/* Output spatial dims and start padding of ConvTranspose over x (N, C,
 * in...) and w (C, M/group, k...). */
static fr_status convt_window(const fr_node *n, const fr_tensor *x,
                              const fr_tensor *w, int64_t *out,
                              int64_t *stride, int64_t *dil, int64_t *pad_b) {
  int nsp = x->rank - 2, ns, nd, np, nop, nos;
  const int64_t *s = fr_attr_ints(n, FR_A_STRIDES, &ns);
  const int64_t *d = fr_attr_ints(n, FR_A_DILATIONS, &nd);
  const int64_t *p = fr_attr_ints(n, FR_A_PADS, &np);
  const int64_t *op = fr_attr_ints(n, FR_A_OUTPUT_PADDING, &nop);
  const int64_t *os = fr_attr_ints(n, FR_A_OUTPUT_SHAPE, &nos);
  const char *ap = fr_attr_str(n, FR_A_AUTO_PAD);
  if ((s && ns != nsp) || (d && nd != nsp) || (p && np != 2 * nsp) ||
      (op && nop != nsp) || (os && nos != nsp && nos != nsp + 2))
    return fr_err_node(FR_ERR_INVALID, n,
                       "attribute lengths do not match %d spatial dims", nsp);
  if (os && nos == nsp + 2) os += 2;
  bool same_u = !strcmp(ap, "SAME_UPPER"), same_l = !strcmp(ap, "SAME_LOWER");
  bool valid = !strcmp(ap, "VALID");
  if (!same_u && !same_l && !valid && strcmp(ap, "NOTSET") && ap[0])
    return fr_err_node(FR_ERR_INVALID, n, "unknown auto_pad '%s'", ap);
  for (int i = 0; i < nsp; i++) {
    int64_t k = w->dims[i + 2], in = x->dims[i + 2];
    stride[i] = s ? s[i] : 1;
    dil[i] = d ? d[i] : 1;
    int64_t adj = op ? op[i] : 0;
    if (stride[i] < 1 || dil[i] < 1 || adj < 0 || k < 1 ||
        k > ((int64_t)1 << 31) || dil[i] > ((int64_t)1 << 31) ||
        stride[i] > ((int64_t)1 << 31))
      return fr_err_node(FR_ERR_INVALID, n, "bad stride/dilation/kernel");
    int64_t full = stride[i] * (in - 1) + adj + (k - 1) * dil[i] + 1;
    if (os || same_u || same_l) {
      out[i] = os ? os[i] : in * stride[i];
      if (out[i] < 0)
        return fr_err_node(FR_ERR_INVALID, n, "negative output_shape");
      int64_t total = full - out[i];
      if (total < 0) total = 0;
      /* as the spec says (ONNX Runtime differs for odd totals) */
      pad_b[i] = same_u ? total / 2 : total - total / 2;
    } else {
      int64_t pb = valid || !p ? 0 : p[i], pe = valid || !p ? 0 : p[i + nsp];
      if (pb < 0 || pe < 0)
        return fr_err_node(FR_ERR_INVALID, n, "negative pads");
      out[i] = full - pb - pe;
      pad_b[i] = pb;
      if (out[i] < 0)
        return fr_err_node(FR_ERR_SHAPE, n, "pads larger than the output");
    }
  }
  return FR_OK;
}

fr_status fr_nn_convt_geom(const fr_node *n, const fr_tensor *x,
                           const fr_tensor *w, fr_nn_geom *g) {
  FR_TRY(conv_common(n, x, w, g));
  int64_t C = x->dims[1];
  if (g->group < 1 || C % g->group || w->dims[0] != C)
    return fr_err_node(FR_ERR_SHAPE, n,
                       "W (%lld, ...) does not fit %lld input channels, "
                       "group %lld", (long long)w->dims[0], (long long)C,
                       (long long)g->group);
  return convt_window(n, x, w, g->out, g->stride, g->dil, g->pad_b);
}

/* X (N, C, D...), W (C, M/group, K...), B (M) -> Y (N, M, O...) */
fr_status fr_infer_convtranspose(const fr_node *n, fr_tensor *const *in,
                                 fr_tensor *const *out) {
  const fr_tensor *x = in[0], *w = in[1], *b = n->n_in > 2 ? in[2] : NULL;
  FR_TRY(need_float(n, x));
  if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "mixed data types");
  fr_nn_geom g;
  FR_TRY(fr_nn_convt_geom(n, x, w, &g));
  int64_t M = w->dims[1] * g.group;
  if (b && (b->rank != 1 || b->dims[0] != M))
    return fr_err_node(FR_ERR_SHAPE, n, "bias must be (%lld)", (long long)M);
  int64_t dims[FR_MAX_RANK] = {x->dims[0], M};
  memcpy(dims + 2, g.out, sizeof(int64_t) * (size_t)g.nsp);
  fr_set_shape(out[0], x->dtype, x->rank, dims);
  return FR_OK;
}

/* ---- GridSample ------------------------------------------------------------- */

/* X (N, C, H, W), grid (N, HO, WO, 2) -> Y (N, C, HO, WO) */
fr_status fr_infer_gridsample(const fr_node *n, fr_tensor *const *in,
                              fr_tensor *const *out) {
  const fr_tensor *x = in[0], *g = in[1];
  FR_TRY(need_float(n, x));
  if (x->rank != 4 || g->rank != 4 || g->dims[3] != 2 ||
      g->dims[0] != x->dims[0])
    return fr_err_node(FR_ERR_SHAPE, n,
                       "needs X (N, C, H, W) and grid (N, HO, WO, 2)");
  if (!fr_dtype_is_float(g->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "grid must be float");
  int64_t dims[4] = {x->dims[0], x->dims[1], g->dims[1], g->dims[2]};
  fr_set_shape(out[0], x->dtype, 4, dims);
  return FR_OK;
}

/* ---- quantization -------------------------------------------------------- */

/* scale and zero point of x along axis: one value, or one per entry of the
 * axis (1-D). */
static fr_status check_qparams(const fr_node *n, const fr_tensor *x,
                               const fr_tensor *s, const fr_tensor *z) {
  int64_t ns = fr_tensor_numel(s);
  if (s->dtype != FR_F32)
    return fr_err_node(FR_ERR_SHAPE, n, "scale must be float32");
  if (z && fr_tensor_numel(z) != ns)
    return fr_err_node(FR_ERR_SHAPE, n, "scale and zero point differ in size");
  if (ns == 1 && s->rank <= 1) return FR_OK;
  int ax;
  FR_TRY(fr_attr_axis(n, x->rank, &ax));
  if (s->rank != 1 || x->rank < 1 || ns != x->dims[ax])
    return fr_err_node(FR_ERR_SHAPE, n,
                       "scale must be a scalar or have %lld values",
                       (long long)(x->rank ? x->dims[ax] : 1));
  return FR_OK;
}

fr_status fr_infer_quantize(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  const fr_tensor *x = in[0], *s = in[1], *z = n->n_in > 2 ? in[2] : NULL;
  FR_TRY(check_qparams(n, x, s, z));
  if (n->op == FR_OP_QUANTIZE_LINEAR) {
    if (x->dtype != FR_F32 && x->dtype != FR_I32)
      return fr_err_node(FR_ERR_SHAPE, n, "x must be float32 or int32");
    fr_dtype t = z ? z->dtype : FR_U8;
    if (!is_q8(t))
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "zero point of type %s",
                         fr_dtype_name(t));
    fr_set_shape(out[0], t, x->rank, x->dims);
  } else {
    if (!is_q8(x->dtype) && x->dtype != FR_I32)
      return fr_err_node(FR_ERR_SHAPE, n, "x of type %s",
                         fr_dtype_name(x->dtype));
    if (z && z->dtype != x->dtype)
      return fr_err_node(FR_ERR_SHAPE, n, "zero point type differs from x");
    fr_set_shape(out[0], FR_F32, x->rank, x->dims);
  }
  return FR_OK;
}

fr_status fr_infer_dynamic_quantize(const fr_node *n, fr_tensor *const *in,
                                    fr_tensor *const *out) {
  if (in[0]->dtype != FR_F32)
    return fr_err_node(FR_ERR_SHAPE, n, "x must be float32");
  fr_set_shape(out[0], FR_U8, in[0]->rank, in[0]->dims);
  if (out[1]) fr_set_shape(out[1], FR_F32, 0, NULL);
  if (out[2]) fr_set_shape(out[2], FR_U8, 0, NULL);
  return FR_OK;
}

/* MatMulInteger (A, B, a_zp, b_zp) -> int32; QLinearMatMul (a, a_scale,
 * a_zp, b, b_scale, b_zp, y_scale, y_zp) -> y_zp's type. */
fr_status fr_infer_matmul_q(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  bool ql = n->op == FR_OP_QLINEAR_MATMUL;
  const fr_tensor *a = in[0], *b = in[ql ? 3 : 1];
  if (!is_q8(a->dtype) || !is_q8(b->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "needs 8-bit integer operands");
  int rank;
  int64_t dims[FR_MAX_RANK];
  FR_TRY(fr_nn_matmul_shape(n, a, b, &rank, dims));
  fr_dtype t = FR_I32;
  if (ql) {
    t = in[7]->dtype;
    if (!is_q8(t))
      return fr_err_node(FR_ERR_SHAPE, n, "y_zero_point must be 8-bit");
  }
  fr_set_shape(out[0], t, rank, dims);
  return FR_OK;
}

/* ---- Einsum ------------------------------------------------------------------- */

enum { EIN_MAX_IN = 8, EIN_MAX_LABELS = 64, EIN_ELL = 52 };

/* Label id of letter c (a-z: 0-25, A-Z: 26-51), or -1. */
static int ein_label(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + c - 'A';
  return -1;
}

/* Reads one term ("ij", "...ii") into labels[] (ellipsis dims numbered
 * EIN_ELL + i, right-aligned to ell_rank); returns its length or -1. With
 * rank < 0 the ellipsis takes ell_rank dims. */
static int ein_term(const char *s, size_t len, int rank, int ell_rank,
                    int *labels, int *has_ell) {
  int nl = 0, ell = -1;
  *has_ell = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == ' ') continue;
    if (s[i] == '.') {
      if (ell >= 0 || i + 2 >= len + 0 || s[i + 1] != '.' || s[i + 2] != '.')
        return -1;
      ell = nl;
      *has_ell = 1;
      i += 2;
      continue;
    }
    int l = ein_label(s[i]);
    if (l < 0 || nl >= FR_MAX_RANK) return -1;
    labels[nl++] = l;
  }
  if (ell < 0) return rank >= 0 && nl != rank ? -1 : nl;
  int ne = rank >= 0 ? rank - nl : ell_rank;
  if (ne < 0 || nl + ne > FR_MAX_RANK || ne > ell_rank) return -1;
  memmove(labels + ell + ne, labels + ell, sizeof(int) * (size_t)(nl - ell));
  for (int i = 0; i < ne; i++) labels[ell + i] = EIN_ELL + ell_rank - ne + i;
  return nl + ne;
}

/* The plan of an Einsum: the labels used (n_labels of them, output labels
 * first), their sizes, each operand's and the output's stride along each,
 * and the output shape. Shared with the exec glue. */
fr_status fr_nn_einsum_plan(const fr_node *n, fr_tensor *const *in,
                            int *n_labels, int64_t *size,
                            int64_t (*stride)[64], int64_t *ystride,
                            int *yrank, int64_t *ydims) {
  const char *eq = fr_attr_str(n, FR_A_EQUATION);
  if (!eq) return fr_err_node(FR_ERR_INVALID, n, "needs an equation");
  if (n->n_in > EIN_MAX_IN)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "more than %d operands",
                       EIN_MAX_IN);
  const char *arrow = strstr(eq, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - eq) : strlen(eq);
  int labels[EIN_MAX_IN][FR_MAX_RANK], nl[EIN_MAX_IN];
  int64_t lsize[EIN_MAX_LABELS];
  int count[EIN_MAX_LABELS] = {0};
  for (int l = 0; l < EIN_MAX_LABELS; l++) lsize[l] = -1;
  /* ellipsis rank: the most dims an ellipsis stands for */
  int ell_rank = 0, k = 0;
  const char *p = eq;
  for (k = 0; k < n->n_in; k++) {
    const char *e = memchr(p, ',', lhs_len - (size_t)(p - eq));
    size_t len = e ? (size_t)(e - p) : lhs_len - (size_t)(p - eq);
    int has;
    nl[k] = ein_term(p, len, in[k]->rank, FR_MAX_RANK, labels[k], &has);
    if (nl[k] < 0)
      return fr_err_node(FR_ERR_INVALID, n,
                         "equation '%s' does not fit operand %d (rank %d)",
                         eq, k, in[k]->rank);
    int letters = 0;
    for (int i = 0; i < nl[k]; i++) letters += labels[k][i] < EIN_ELL;
    if (has && in[k]->rank - letters > ell_rank) ell_rank = in[k]->rank - letters;
    if (!e && k != n->n_in - 1)
      return fr_err_node(FR_ERR_INVALID, n, "equation has %d terms, %d inputs",
                         k + 1, n->n_in);
    p = e ? e + 1 : p + len;
  }
  if ((size_t)(p - eq) < lhs_len)
    return fr_err_node(FR_ERR_INVALID, n, "equation has more terms than inputs");
  /* renumber ellipsis dims right-aligned to ell_rank, sizes, strides */
  memset(stride, 0, sizeof(int64_t) * EIN_MAX_IN * 64);
  for (k = 0; k < n->n_in; k++) {
    if (in[k]->dtype != in[0]->dtype)
      return fr_err_node(FR_ERR_SHAPE, n, "operands differ in type");
    int64_t st = 1;
    for (int i = nl[k] - 1; i >= 0; i--) {
      int l = labels[k][i];
      if (l >= EIN_ELL) l = labels[k][i] = l - FR_MAX_RANK + ell_rank;
      int64_t d = in[k]->dims[i];
      if (l >= EIN_ELL && d == 1) {
        if (lsize[l] < 0) lsize[l] = 1;
      } else {
        if (l >= EIN_ELL && lsize[l] == 1) lsize[l] = d;
        if (lsize[l] >= 0 && lsize[l] != d)
          return fr_err_node(FR_ERR_SHAPE, n, "label '%c' has sizes %lld and %lld",
                             l < 26 ? 'a' + l : l < 52 ? 'A' + l - 26 : '.',
                             (long long)lsize[l], (long long)d);
        lsize[l] = d;
        stride[k][l] += st;
      }
      count[l]++;
      st *= d;
    }
  }
  int out[FR_MAX_RANK], no = 0;
  if (arrow) {
    int has;
    const char *o = arrow + 2;
    no = ein_term(o, strlen(o), -1, ell_rank, out, &has);
    if (no < 0) return fr_err_node(FR_ERR_INVALID, n, "bad output term");
    for (int i = 0; i < no; i++) {
      if (out[i] >= EIN_ELL) out[i] = out[i] - EIN_ELL + EIN_ELL; /* as is */
      if (lsize[out[i]] < 0)
        return fr_err_node(FR_ERR_INVALID, n, "output label not in the inputs");
      for (int j = 0; j < i; j++)
        if (out[j] == out[i])
          return fr_err_node(FR_ERR_INVALID, n, "output label repeated");
    }
  } else {
    for (int l = EIN_ELL; l < EIN_ELL + ell_rank; l++) out[no++] = l;
    for (int l = 26; l < 52; l++) /* ASCII order: upper case first */
      if (count[l] == 1 && no < FR_MAX_RANK) out[no++] = l;
    for (int l = 0; l < 26; l++)
      if (count[l] == 1 && no < FR_MAX_RANK) out[no++] = l;
  }
  /* labels: the output's, then the summed ones */
  int nlab = 0;
  int64_t ys = 1;
  memset(ystride, 0, sizeof(int64_t) * 64);
  int64_t tmp_stride[EIN_MAX_IN][64];
  memcpy(tmp_stride, stride, sizeof tmp_stride);
  memset(stride, 0, sizeof(int64_t) * EIN_MAX_IN * 64);
  bool used[EIN_MAX_LABELS] = {0};
  int order[EIN_MAX_LABELS];
  for (int i = 0; i < no; i++) order[nlab++] = out[i], used[out[i]] = true;
  for (int l = 0; l < EIN_MAX_LABELS; l++)
    if (lsize[l] >= 0 && !used[l]) order[nlab++] = l;
  for (int i = no - 1; i >= 0; i--) {
    ydims[i] = lsize[out[i]];
    ystride[i] = ys;
    ys *= ydims[i];
  }
  for (int i = 0; i < nlab; i++) {
    size[i] = lsize[order[i]];
    if (i >= no) ystride[i] = 0;
    for (k = 0; k < n->n_in; k++) stride[k][i] = tmp_stride[k][order[i]];
  }
  *n_labels = nlab;
  *yrank = no;
  return FR_OK;
}

fr_status fr_infer_einsum(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  int nlab, yr;
  int64_t size[64], stride[EIN_MAX_IN][64], ys[64], yd[FR_MAX_RANK];
  for (int k = 0; k < n->n_in; k++)
    if (!in[k]) return fr_err_node(FR_ERR_INVALID, n, "missing operand");
  FR_TRY(fr_nn_einsum_plan(n, in, &nlab, size, stride, ys, &yr, yd));
  if (!fr_dtype_is_float(in[0]->dtype) && !fr_dtype_is_int(in[0]->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "data type %s",
                       fr_dtype_name(in[0]->dtype));
  fr_set_shape(out[0], in[0]->dtype, yr, yd);
  return FR_OK;
}

/* ---- Det, MaxUnpool, RoiAlign ------------------------------------------------ */

fr_status fr_infer_det(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  FR_TRY(need_float(n, x));
  if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2])
    return fr_err_node(FR_ERR_SHAPE, n, "needs square matrices (*, M, M)");
  fr_set_shape(out[0], x->dtype, x->rank - 2, x->dims);
  return FR_OK;
}

fr_status fr_nn_maxunpool_dims(const fr_node *n, const fr_tensor *x,
                               int64_t *dims) {
  int nsp = x->rank - 2, nk, ns, np;
  const int64_t *ks = fr_attr_ints(n, FR_A_KERNEL_SHAPE, &nk);
  const int64_t *st = fr_attr_ints(n, FR_A_STRIDES, &ns);
  const int64_t *pd = fr_attr_ints(n, FR_A_PADS, &np);
  if (!ks || nk != nsp || (st && ns != nsp) || (pd && np != 2 * nsp))
    return fr_err_node(FR_ERR_INVALID, n,
                       "kernel_shape/strides/pads do not fit %d dims", nsp);
  for (int i = 0; i < nsp; i++) {
    int64_t s = st ? st[i] : 1;
    if (s < 1 || ks[i] < 1 || (pd && (pd[i] < 0 || pd[i + nsp] < 0)))
      return fr_err_node(FR_ERR_INVALID, n, "bad kernel, stride or pads");
    dims[i] = (x->dims[2 + i] - 1) * s + ks[i] - (pd ? pd[i] + pd[i + nsp] : 0);
    if (dims[i] < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "negative output size");
  }
  return FR_OK;
}

/* X (N, C, D...), I (same), output_shape (optional, the full shape). */
fr_status fr_infer_maxunpool(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  const fr_tensor *x = in[0], *idx = in[1];
  const fr_tensor *os = n->n_in > 2 ? in[2] : NULL;
  FR_TRY(need_float(n, x));
  if (x->rank < 3 || x->rank > 2 + FR_MAX_RANK - 2)
    return fr_err_node(FR_ERR_SHAPE, n, "X must be (N, C, D...)");
  if (idx->dtype != FR_I64 || idx->rank != x->rank ||
      memcmp(idx->dims, x->dims, sizeof(int64_t) * (size_t)x->rank))
    return fr_err_node(FR_ERR_SHAPE, n, "I must be int64 of X's shape");
  int64_t dims[FR_MAX_RANK];
  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  FR_TRY(fr_nn_maxunpool_dims(n, x, dims + 2));
  if (os) {
    if (!os->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant output_shape");
    if (os->dtype != FR_I64 || fr_tensor_numel(os) != x->rank)
      return fr_err_node(FR_ERR_SHAPE, n, "output_shape must be %d int64",
                         x->rank);
    for (int i = 0; i < x->rank; i++) {
      int64_t v = ((const int64_t *)os->data)[i];
      if (v < 0 || v > ((int64_t)1 << 40) || (i < 2 && v != x->dims[i]))
        return fr_err_node(FR_ERR_SHAPE, n, "bad output_shape");
      dims[i] = v;
    }
  }
  fr_set_shape(out[0], x->dtype, x->rank, dims);
  return FR_OK;
}

/* X (N, C, H, W), rois (R, 4), batch_indices (R) -> Y (R, C, oh, ow) */
fr_status fr_infer_roialign(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  const fr_tensor *x = in[0], *r = in[1], *b = in[2];
  FR_TRY(need_float(n, x));
  if (x->rank != 4 || r->rank != 2 || r->dims[1] != 4 || b->rank != 1 ||
      b->dims[0] != r->dims[0] || r->dtype != x->dtype ||
      (b->dtype != FR_I64 && b->dtype != FR_I32))
    return fr_err_node(FR_ERR_SHAPE, n,
                       "needs X (N, C, H, W), rois (R, 4), batch_indices (R)");
  int64_t oh = fr_attr_int(n, FR_A_OUTPUT_HEIGHT);
  int64_t ow = fr_attr_int(n, FR_A_OUTPUT_WIDTH);
  if (oh < 1 || ow < 1 || oh > (1 << 24) || ow > (1 << 24))
    return fr_err_node(FR_ERR_INVALID, n, "bad output size");
  int64_t dims[4] = {r->dims[0], x->dims[1], oh, ow};
  fr_set_shape(out[0], x->dtype, 4, dims);
  return FR_OK;
}
