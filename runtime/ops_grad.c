/* ops_grad.c: the plans of frost's gradient ops (see ir/infer_grad.c),
 * each one call of an entry of kernels/nn_grad.c. */
#include <string.h>

#include "runtime.h"

/* Spreads nsp spatial values v over 3 (leading dims filled with fill), as
 * ops_nn.c does. */
static void to3(int nsp, const int64_t *v, int64_t fill, int64_t *d3) {
  for (int i = 0; i < 3; i++) d3[i] = i < 3 - nsp ? fill : v[i - (3 - nsp)];
}

/* bufs: x, dy, dW, scratch. */
fr_status fr_plan_conv_grad_weight(const fr_node *n, fr_tensor *const *in,
                                   fr_tensor *const *out, fr_kplan *p) {
  (void)out;
  const fr_tensor *x = in[0], *dy = in[1];
  if (x->dtype != FR_F32 || dy->dtype != FR_F32)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs float32");
  fr_nn_geom g;
  FR_TRY(fr_grad_window(n, x->rank - 2, &g));
  fr_k_conv d;
  memset(&d, 0, sizeof d);
  d.N = x->dims[0];
  d.C = x->dims[1];
  d.M = dy->dims[1];
  d.group = g.group;
  to3(g.nsp, x->dims + 2, 1, d.in);
  to3(g.nsp, dy->dims + 2, 1, d.out);
  to3(g.nsp, g.kernel, 1, d.k);
  to3(g.nsp, g.stride, 1, d.stride);
  to3(g.nsp, g.dil, 1, d.dil);
  to3(g.nsp, g.pad_b, 0, d.pad);
  p->scratch = fr_k_conv_grad_weight_scratch(&d) * sizeof(float);
  FR_KPLAN(p, fr_ke_conv_grad_weight_f32, d);
  return FR_OK;
}

/* MaxPoolGrad bufs: dy, x, dx, scratch; AveragePoolGrad: dy, dx,
 * scratch. */
fr_status fr_plan_pool_grad(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *dy = in[0], *dx = out[0];
  if (dy->dtype != FR_F32)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs float32");
  fr_nn_geom g;
  FR_TRY(fr_grad_window(n, dy->rank - 2, &g));
  fr_k_pool p;
  memset(&p, 0, sizeof p);
  p.planes = dy->dims[0] * dy->dims[1];
  to3(g.nsp, dx->dims + 2, 1, p.in);
  to3(g.nsp, dy->dims + 2, 1, p.out);
  to3(g.nsp, g.kernel, 1, p.k);
  to3(g.nsp, g.stride, 1, p.stride);
  to3(g.nsp, g.dil, 1, p.dil);
  to3(g.nsp, g.pad_b, 0, p.pad);
  to3(g.nsp, g.pad_e, 0, p.pad_end);
  if (n->op == FR_OP_MAX_POOL_GRAD) {
    p.kind = FR_K_POOL_MAX;
    FR_KPLAN(kp, fr_ke_maxpool_grad_f32, p);
  } else {
    p.kind = FR_K_POOL_AVG;
    p.count_include_pad = fr_attr_int(n, FR_A_COUNT_INCLUDE_PAD) != 0;
    FR_KPLAN(kp, fr_ke_avgpool_grad_f32, p);
  }
  return FR_OK;
}

/* bufs: dy, indices, dx, scratch. */
fr_status fr_plan_gather_grad(const fr_node *n, fr_tensor *const *in,
                              fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *dx = out[0], *idx = in[1];
  int axis;
  FR_TRY(fr_axis(n, fr_attr_int(n, FR_A_AXIS), dx->rank, &axis));
  fr_k_gather_grad_plan p;
  memset(&p, 0, sizeof p);
  p.outer = 1;
  p.inner = 1;
  for (int i = 0; i < axis; i++) p.outer *= dx->dims[i];
  for (int i = axis + 1; i < dx->rank; i++) p.inner *= dx->dims[i];
  p.n = dx->dims[axis];
  p.k = fr_tensor_numel(idx);
  p.idx32 = idx->dtype == FR_I32;
  FR_KPLAN(kp, fr_ke_gather_grad_f32, p);
  return FR_OK;
}

/* The BatchNormalization backward's block for x (N, C, ...). */
static fr_k_bn_grad_plan bn_grad_plan(const fr_node *n, const fr_tensor *x) {
  fr_k_bn_grad_plan p;
  memset(&p, 0, sizeof p);
  p.N = x->dims[0];
  p.C = x->dims[1];
  p.S = 1;
  for (int i = 2; i < x->rank; i++) p.S *= x->dims[i];
  p.eps = fr_attr_float(n, FR_A_EPSILON);
  return p;
}

/* bufs: dy, y, x, scale, mean, var, dx, sums (3, C), scratch. */
fr_status fr_plan_relu_bn_grad(const fr_node *n, fr_tensor *const *in,
                               fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  fr_k_bn_grad_plan p = bn_grad_plan(n, in[2]);
  FR_KPLAN(kp, fr_ke_relu_bn_grad_f32, p);
  return FR_OK;
}

/* bufs: dy, x, mean, var, out (2, C), scratch. */
fr_status fr_plan_bn_grad(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  fr_k_bn_grad_plan p = bn_grad_plan(n, in[1]);
  FR_KPLAN(kp, fr_ke_bn_grad_f32, p);
  return FR_OK;
}
