/* optim.c: the optimizer updates, over flat float arrays: one parameter
 * (or a whole block of them: the parameter layout gives the gradient and
 * each optimizer slot the trainable block's offsets), its gradient and its
 * state slots. The formulas follow PyTorch's (torch.optim SGD, Adam,
 * AdamW) operation for operation, so that a run can be compared with it
 * step by step (tests/oracle/train). */
#include <math.h>

#include "kernels.h"

void fr_k_optim_step(const fr_k_optim *o, int64_t n, float *w, const float *g,
                     float *s0, float *s1) {
  float lr = o->lr, wd = o->weight_decay;
  switch (o->kind) {
  case FR_K_OPT_SGD:
    for (int64_t i = 0; i < n; i++) {
      float d = g[i];
      if (wd != 0) d += wd * w[i];
      if (o->momentum != 0) {
        /* buf = momentum buf + d (the first step: buf = d) */
        float b = o->step == 1 ? d : o->momentum * s0[i] + d;
        s0[i] = b;
        d = o->nesterov ? d + o->momentum * b : b;
      }
      w[i] -= lr * d;
    }
    return;
  case FR_K_OPT_ADAM:
  case FR_K_OPT_ADAMW: {
    float b1 = o->beta1, b2 = o->beta2;
    double t = (double)o->step;
    float bc1 = (float)(1 - pow(b1, t)), bc2 = (float)(1 - pow(b2, t));
    float step_size = lr / bc1, bc2_sqrt = sqrtf(bc2);
    for (int64_t i = 0; i < n; i++) {
      float d = g[i];
      if (o->kind == FR_K_OPT_ADAMW) w[i] *= 1 - lr * wd;
      else if (wd != 0) d += wd * w[i];
      float m = s0[i] = b1 * s0[i] + (1 - b1) * d;
      float v = s1[i] = b2 * s1[i] + (1 - b2) * d * d;
      float denom = sqrtf(v) / bc2_sqrt + o->eps;
      w[i] -= step_size * (m / denom);
    }
    return;
  }
  }
}

double fr_k_sum_squares(int64_t n, const float *x) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return s;
}

void fr_k_scale(int64_t n, float *x, float s) {
  for (int64_t i = 0; i < n; i++) x[i] *= s;
}
