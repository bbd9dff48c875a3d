/* elementwise.c: elementwise kernels (unary maps, broadcasting binaries). */
#include <math.h>

#include "kernels.h"

/* Walks out's index space in row-major order; the innermost dimension runs
 * as a contiguous loop the compiler can vectorize. */
#define BCAST_LOOP(b, BODY)                                                   \
  do {                                                                        \
    int64_t idx_[FR_K_MAX_RANK] = {0};                                        \
    int r_ = (b)->rank;                                                       \
    int64_t inner_ = r_ ? (b)->dims[r_ - 1] : 1;                              \
    int64_t sa_ = r_ ? (b)->sa[r_ - 1] : 0, sb_ = r_ ? (b)->sb[r_ - 1] : 0;   \
    int64_t outer_ = 1;                                                       \
    for (int d_ = 0; d_ < r_ - 1; d_++) outer_ *= (b)->dims[d_];              \
    if (inner_ == 0) outer_ = 0;                                              \
    int64_t oa_ = 0, ob_ = 0, oy_ = 0;                                        \
    for (int64_t o_ = 0; o_ < outer_; o_++) {                                 \
      for (int64_t i_ = 0; i_ < inner_; i_++) {                               \
        int64_t ia = oa_ + i_ * sa_, ib = ob_ + i_ * sb_, iy = oy_ + i_;      \
        BODY;                                                                 \
      }                                                                       \
      oy_ += inner_;                                                          \
      for (int d_ = r_ - 2; d_ >= 0; d_--) {                                  \
        oa_ += (b)->sa[d_];                                                   \
        ob_ += (b)->sb[d_];                                                   \
        if (++idx_[d_] < (b)->dims[d_]) break;                                \
        oa_ -= (b)->sa[d_] * (b)->dims[d_];                                   \
        ob_ -= (b)->sb[d_] * (b)->dims[d_];                                   \
        idx_[d_] = 0;                                                         \
      }                                                                       \
    }                                                                         \
  } while (0)

void fr_k_add_f32(const fr_k_bcast *b, const float *a, const float *c,
                  float *y) {
  BCAST_LOOP(b, y[iy] = a[ia] + c[ib]);
}

void fr_k_relu_f32(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}
