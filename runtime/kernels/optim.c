/* optim.c: the optimizer updates, over flat float arrays: one parameter
 * (or a whole block of them: the parameter layout gives the gradient and
 * each optimizer slot the trainable block's offsets), its gradient and its
 * state slots. The formulas follow PyTorch's (torch.optim SGD, Adam,
 * AdamW) operation for operation, so that a run can be compared with it
 * step by step (tests/oracle/train). */
#include <math.h>

#include "kernels.h"

/* No a * b + c fused into one rounding: the updates must be the same
 * bits in frost (gcc, -ffp-contract=off from CMakeLists.txt), in
 * libfrost_rt and in an artifact's bitcode (clang, this pragma). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

void fr_k_optim_step(const fr_k_optim *o, int64_t n, float *restrict w,
                     const float *restrict g, float *restrict s0,
                     float *restrict s1) {
  const float lr = o->lr, wd = o->weight_decay, mom = o->momentum;
  switch (o->kind) {
  case FR_K_OPT_SGD:
    if (mom == 0) {
      for (int64_t i = 0; i < n; i++) w[i] -= lr * (g[i] + wd * w[i]);
      return;
    }
    /* buf = momentum buf + d (the first step: buf = d) */
    if (o->step == 1)
      for (int64_t i = 0; i < n; i++) s0[i] = g[i] + wd * w[i];
    else
      for (int64_t i = 0; i < n; i++) s0[i] = mom * s0[i] + (g[i] + wd * w[i]);
    if (o->nesterov)
      for (int64_t i = 0; i < n; i++) w[i] -= lr * ((g[i] + wd * w[i]) + mom * s0[i]);
    else
      for (int64_t i = 0; i < n; i++) w[i] -= lr * s0[i];
    return;
  case FR_K_OPT_ADAM:
  case FR_K_OPT_ADAMW: {
    const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    double t = (double)o->step;
    const float bc1 = (float)(1 - pow(b1, t)), bc2 = (float)(1 - pow(b2, t));
    const float step_size = lr / bc1, bc2_sqrt = sqrtf(bc2);
    const float decay = o->kind == FR_K_OPT_ADAMW ? 1 - lr * wd : 1;
    const float wd_g = o->kind == FR_K_OPT_ADAMW ? 0 : wd;
    for (int64_t i = 0; i < n; i++) {
      float d = g[i] + wd_g * w[i];
      float x = w[i] * decay;
      float m = s0[i] = b1 * s0[i] + (1 - b1) * d;
      float v = s1[i] = b2 * s1[i] + (1 - b2) * d * d;
      float denom = sqrtf(v) / bc2_sqrt + eps;
      w[i] = x - step_size * (m / denom);
    }
    return;
  }
  }
}

double fr_k_sum_squares(int64_t n, const float *x) {
  /* Eight partial sums: vectorizable, and in an order that does not
   * depend on anything but n. */
  double s[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) s[k] += (double)x[i + k] * x[i + k];
  for (; i < n; i++) s[0] += (double)x[i] * x[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void fr_k_scale(int64_t n, float *x, float s) {
  for (int64_t i = 0; i < n; i++) x[i] *= s;
}
