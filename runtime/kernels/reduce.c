/* reduce.c: kernels of reductions (Reduce*, ArgMax/ArgMin), the softmax
 * family, CumSum, TopK, normalizations (BatchNormalization,
 * InstanceNormalization, LayerNormalization, LRN, MeanVarianceNormalization)
 * and the NegativeLogLikelihoodLoss used by both losses.
 *
 * Most kernels see their tensor as (outer, n, inner) around the axis they
 * work on; loops over `inner` (or over `n` when inner is 1) are contiguous.
 * Per-type variants are stamped out by macros (f32, f64, i32, i64). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

/* ---- folds ---------------------------------------------------------- */

#define OP_ADD(a, b) ((a) + (b))
#define OP_MUL(a, b) ((a) * (b))
/* max/min that propagate NaN (ISNAN is defined per type below). */
#define OP_MAX(a, b) ((b) > (a) || ISNAN(b) ? (b) : (a))
#define OP_MIN(a, b) ((b) < (a) || ISNAN(b) ? (b) : (a))

/* acc = OP(acc, F(v)) over v in x[0..n), with 8 independent partial
 * accumulators so that the loop vectorizes without reassociation flags. */
#define FOLD8(T, n, x, acc, INIT, F, OP)                                      \
  do {                                                                        \
    T p_[8];                                                                  \
    for (int j_ = 0; j_ < 8; j_++) p_[j_] = (INIT);                           \
    int64_t i_ = 0;                                                           \
    for (; i_ + 8 <= (n); i_ += 8)                                            \
      for (int j_ = 0; j_ < 8; j_++) {                                        \
        T v = (x)[i_ + j_];                                                   \
        p_[j_] = OP(p_[j_], (F));                                             \
      }                                                                       \
    T a_ = (acc);                                                             \
    for (int j_ = 0; j_ < 8; j_++) a_ = OP(a_, p_[j_]);                       \
    for (; i_ < (n); i_++) {                                                  \
      T v = (x)[i_];                                                          \
      a_ = OP(a_, (F));                                                       \
    }                                                                         \
    (acc) = a_;                                                               \
  } while (0)

/* Walks x of a reduction (fr_k_reduce *p) in row-major order, one run of the
 * innermost axis at a time: n elements at x + xo, whose output is y[yo] when
 * the innermost axis is reduced (RED) or y[yo .. yo + n) when kept (KEPT). */
#define RED_WALK(p, KEPT, RED)                                                \
  do {                                                                        \
    int r_ = (p)->rank;                                                       \
    int64_t n = (p)->dims[r_ - 1];                                            \
    int red_ = (p)->ystr[r_ - 1] == 0;                                        \
    int64_t outer_ = 1, idx_[FR_K_MAX_RANK] = {0};                            \
    for (int d_ = 0; d_ < r_ - 1; d_++) outer_ *= (p)->dims[d_];              \
    int64_t xo = 0, yo = 0;                                                   \
    for (int64_t o_ = 0; o_ < outer_; o_++, xo += n) {                        \
      if (red_) {                                                             \
        RED;                                                                  \
      } else {                                                                \
        KEPT;                                                                 \
      }                                                                       \
      for (int d_ = r_ - 2; d_ >= 0; d_--) {                                  \
        yo += (p)->ystr[d_];                                                  \
        if (++idx_[d_] < (p)->dims[d_]) break;                                \
        yo -= (p)->ystr[d_] * (p)->dims[d_];                                  \
        idx_[d_] = 0;                                                         \
      }                                                                       \
    }                                                                         \
  } while (0)

/* y = INIT; then y = OP(y, F(v)) over the reduced elements. */
#define RED_RUN(T, p, x, y, INIT, F, OP)                                      \
  do {                                                                        \
    for (int64_t j_ = 0; j_ < (p)->ny; j_++) (y)[j_] = (INIT);                \
    RED_WALK(                                                                 \
        p,                                                                    \
        for (int64_t i = 0; i < n; i++) {                                     \
          T v = (x)[xo + i];                                                  \
          (y)[yo + i] = OP((y)[yo + i], (F));                                 \
        },                                                                    \
        FOLD8(T, n, (x) + xo, (y)[yo], INIT, F, OP));                         \
  } while (0)

#define ABS_(v) ((v) < 0 ? -(v) : (v))

/* One reduction kernel per type. ISNAN (NaN test, 0 for integers) and NANV
 * (NaN, 0 for integers) are defined around each use; LOWEST/HIGHEST are the
 * identities of max/min. */
#define DEF_REDUCE(SUF, T, LOWEST, HIGHEST)                                   \
  void fr_k_reduce_##SUF(const fr_k_reduce *p, int kind, const T *x, T *y,    \
                         double *tmp) {                                       \
    switch (kind) {                                                           \
    case FR_K_RED_SUM:                                                        \
    case FR_K_RED_MEAN:                                                       \
    case FR_K_RED_LOGSUM: RED_RUN(T, p, x, y, 0, v, OP_ADD); break;           \
    case FR_K_RED_SUMSQ:                                                      \
    case FR_K_RED_L2: RED_RUN(T, p, x, y, 0, v * v, OP_ADD); break;           \
    case FR_K_RED_L1: RED_RUN(T, p, x, y, 0, ABS_(v), OP_ADD); break;         \
    case FR_K_RED_PROD: RED_RUN(T, p, x, y, 1, v, OP_MUL); break;             \
    case FR_K_RED_MAX:                                                        \
    case FR_K_RED_LOGSUMEXP: RED_RUN(T, p, x, y, LOWEST, v, OP_MAX); break;   \
    case FR_K_RED_MIN: RED_RUN(T, p, x, y, HIGHEST, v, OP_MIN); break;        \
    default: return;                                                          \
    }                                                                         \
    int64_t ny = p->ny;                                                       \
    switch (kind) {                                                           \
    case FR_K_RED_MEAN:                                                       \
      if (p->count > 0)                                                       \
        for (int64_t j = 0; j < ny; j++) y[j] = (T)(y[j] / (T)p->count);      \
      else                                                                    \
        for (int64_t j = 0; j < ny; j++) y[j] = NANV;                         \
      break;                                                                  \
    case FR_K_RED_L2:                                                         \
      for (int64_t j = 0; j < ny; j++) y[j] = (T)sqrt((double)y[j]);          \
      break;                                                                  \
    case FR_K_RED_LOGSUM:                                                     \
      for (int64_t j = 0; j < ny; j++) y[j] = (T)log((double)y[j]);           \
      break;                                                                  \
    case FR_K_RED_LOGSUMEXP: {                                                \
      /* log(sum(exp(x - max))) + max, the max already in y */               \
      for (int64_t j = 0; j < ny; j++) tmp[j] = 0;                            \
      RED_WALK(                                                               \
          p,                                                                  \
          for (int64_t i = 0; i < n; i++) tmp[yo + i] +=                      \
          exp((double)x[xo + i] - (double)y[yo + i]),                         \
          {                                                                   \
            double m_ = (double)y[yo];                                        \
            double s_ = 0;                                                    \
            for (int64_t i = 0; i < n; i++) s_ += exp((double)x[xo + i] - m_); \
            tmp[yo] += s_;                                                    \
          });                                                                 \
      for (int64_t j = 0; j < ny; j++) {                                      \
        double m = (double)y[j];                                              \
        y[j] = isinf(m) ? y[j] : (T)(log(tmp[j]) + m);                        \
      }                                                                       \
      break;                                                                  \
    }                                                                         \
    default: break;                                                           \
    }                                                                         \
  }

#define ISNAN(v) ((v) != (v))
#define NANV NAN
DEF_REDUCE(f32, float, -INFINITY, INFINITY)
DEF_REDUCE(f64, double, -INFINITY, INFINITY)
#undef ISNAN
#undef NANV
#define ISNAN(v) 0
#define NANV 0
DEF_REDUCE(i32, int32_t, INT32_MIN, INT32_MAX)
DEF_REDUCE(i64, int64_t, INT64_MIN, INT64_MAX)
#undef ISNAN
#undef NANV

/* ---- MeanVarianceNormalization -------------------------------------- */

void fr_k_mvn_f32(const fr_k_reduce *p, const float *x, float *y, float *mean,
                  float *inv) {
  int64_t ny = p->ny;
  float rc = p->count > 0 ? 1.0f / (float)p->count : 0.0f;
  RED_RUN(float, p, x, mean, 0, v, OP_ADD);
  for (int64_t j = 0; j < ny; j++) {
    mean[j] *= rc;
    inv[j] = 0;
  }
  RED_WALK(
      p,
      for (int64_t i = 0; i < n; i++) {
        float d = x[xo + i] - mean[yo + i];
        inv[yo + i] += d * d;
      },
      {
        float m = mean[yo];
        float s = 0;
        for (int64_t i = 0; i < n; i++) {
          float d = x[xo + i] - m;
          s += d * d;
        }
        inv[yo] += s;
      });
  for (int64_t j = 0; j < ny; j++) inv[j] = 1.0f / (sqrtf(inv[j] * rc) + 1e-9f);
  RED_WALK(
      p,
      for (int64_t i = 0; i < n; i++) y[xo + i] =
          (x[xo + i] - mean[yo + i]) * inv[yo + i],
      {
        float m = mean[yo];
        float s = inv[yo];
        for (int64_t i = 0; i < n; i++) y[xo + i] = (x[xo + i] - m) * s;
      });
}

/* ---- ArgMax / ArgMin ------------------------------------------------ */

#define DEF_ARGMAX(SUF, T)                                                    \
  void fr_k_argmax_##SUF(int64_t outer, int64_t n, int64_t inner, int is_min, \
                         int last, const T *x, int64_t *y) {                  \
    for (int64_t o = 0; o < outer; o++)                                       \
      for (int64_t j = 0; j < inner; j++) {                                   \
        const T *c = x + o * n * inner + j;                                   \
        int64_t best = 0;                                                     \
        for (int64_t k = 1; k < n; k++) {                                     \
          T v = c[k * inner], b = c[best * inner];                            \
          int better = is_min ? v < b : v > b;                                \
          if (better || (last && v == b)) best = k;                           \
        }                                                                     \
        y[o * inner + j] = best;                                              \
      }                                                                       \
  }

DEF_ARGMAX(f32, float)
DEF_ARGMAX(f64, double)
DEF_ARGMAX(i32, int32_t)
DEF_ARGMAX(i64, int64_t)

/* ---- Softmax, LogSoftmax, Hardmax ----------------------------------- */

#define DEF_SOFTMAX(SUF, T, EXP, LOG)                                         \
  void fr_k_softmax_##SUF(int64_t outer, int64_t n, int64_t inner, int mode,  \
                          const T *x, T *y, T *tmp) {                         \
    for (int64_t o = 0; o < outer; o++) {                                     \
      const T *xr = x + o * n * inner;                                        \
      T *yr = y + o * n * inner;                                              \
      if (mode == FR_K_HARDMAX) {                                             \
        for (int64_t i = 0; i < n * inner; i++) yr[i] = 0;                    \
        for (int64_t j = 0; j < inner && n > 0; j++) {                        \
          int64_t best = 0;                                                   \
          for (int64_t k = 1; k < n; k++)                                     \
            if (xr[k * inner + j] > xr[best * inner + j]) best = k;           \
          yr[best * inner + j] = 1;                                           \
        }                                                                     \
      } else if (inner == 1) {                                                \
        T m = -INFINITY;                                                      \
        FOLD8(T, n, xr, m, -INFINITY, v, OP_MAX);                             \
        if (isinf(m)) m = 0; /* all -inf (or empty): avoid inf - inf */       \
        T s = 0;                                                              \
        if (mode == FR_K_SOFTMAX) {                                           \
          for (int64_t k = 0; k < n; k++) {                                   \
            T e = EXP(xr[k] - m);                                             \
            yr[k] = e;                                                        \
            s += e;                                                           \
          }                                                                   \
          T r = 1 / s;                                                        \
          for (int64_t k = 0; k < n; k++) yr[k] *= r;                         \
        } else {                                                              \
          for (int64_t k = 0; k < n; k++) s += EXP(xr[k] - m);                \
          T l = LOG(s);                                                       \
          for (int64_t k = 0; k < n; k++) yr[k] = (xr[k] - m) - l;            \
        }                                                                     \
      } else {                                                                \
        T *m = tmp, *s = tmp + inner;                                         \
        for (int64_t j = 0; j < inner; j++) {                                 \
          m[j] = -INFINITY;                                                   \
          s[j] = 0;                                                           \
        }                                                                     \
        for (int64_t k = 0; k < n; k++)                                       \
          for (int64_t j = 0; j < inner; j++)                                 \
            m[j] = OP_MAX(m[j], xr[k * inner + j]);                           \
        for (int64_t j = 0; j < inner; j++)                                   \
          if (isinf(m[j])) m[j] = 0;                                          \
        if (mode == FR_K_SOFTMAX) {                                           \
          for (int64_t k = 0; k < n; k++)                                     \
            for (int64_t j = 0; j < inner; j++) {                             \
              T e = EXP(xr[k * inner + j] - m[j]);                            \
              yr[k * inner + j] = e;                                          \
              s[j] += e;                                                      \
            }                                                                 \
          for (int64_t j = 0; j < inner; j++) s[j] = 1 / s[j];                \
          for (int64_t k = 0; k < n; k++)                                     \
            for (int64_t j = 0; j < inner; j++) yr[k * inner + j] *= s[j];    \
        } else {                                                              \
          for (int64_t k = 0; k < n; k++)                                     \
            for (int64_t j = 0; j < inner; j++)                               \
              s[j] += EXP(xr[k * inner + j] - m[j]);                          \
          for (int64_t j = 0; j < inner; j++) s[j] = LOG(s[j]);               \
          for (int64_t k = 0; k < n; k++)                                     \
            for (int64_t j = 0; j < inner; j++)                               \
              yr[k * inner + j] = (xr[k * inner + j] - m[j]) - s[j];          \
        }                                                                     \
      }                                                                       \
    }                                                                         \
  }

#define ISNAN(v) ((v) != (v))
DEF_SOFTMAX(f32, float, expf, logf)
DEF_SOFTMAX(f64, double, exp, log)
#undef ISNAN

/* ---- CumSum --------------------------------------------------------- */

#define DEF_CUMSUM(SUF, T)                                                    \
  void fr_k_cumsum_##SUF(int64_t outer, int64_t n, int64_t inner,             \
                         int exclusive, int reverse, const T *x, T *y) {      \
    for (int64_t o = 0; o < outer; o++) {                                     \
      const T *xr = x + o * n * inner;                                        \
      T *yr = y + o * n * inner;                                              \
      for (int64_t t = 0; t < n; t++) {                                       \
        /* k: position written; prev: the one written before it */           \
        int64_t k = reverse ? n - 1 - t : t, prev = reverse ? k + 1 : k - 1;  \
        T *yk = yr + k * inner;                                               \
        if (t == 0) {                                                         \
          for (int64_t j = 0; j < inner; j++)                                 \
            yk[j] = exclusive ? 0 : xr[k * inner + j];                        \
        } else {                                                              \
          const T *yp = yr + prev * inner;                                    \
          const T *xa = xr + (exclusive ? prev : k) * inner;                  \
          for (int64_t j = 0; j < inner; j++) yk[j] = yp[j] + xa[j];          \
        }                                                                     \
      }                                                                       \
    }                                                                         \
  }

DEF_CUMSUM(f32, float)
DEF_CUMSUM(f64, double)
DEF_CUMSUM(i32, int32_t)
DEF_CUMSUM(i64, int64_t)

/* ---- TopK ----------------------------------------------------------- */

/* Stable bottom-up merge sort of the indices 0..n-1 of a column c (stride
 * st) by value, descending when largest; equal values keep index order. */
#define DEF_TOPK(SUF, T)                                                      \
  void fr_k_topk_##SUF(int64_t outer, int64_t n, int64_t inner, int64_t k,    \
                       int largest, const T *x, T *vals, int64_t *idx,        \
                       int64_t *tmp) {                                        \
    for (int64_t o = 0; o < outer; o++)                                       \
      for (int64_t j = 0; j < inner; j++) {                                   \
        const T *c = x + o * n * inner + j;                                   \
        int64_t *a = tmp, *b = tmp + n;                                       \
        for (int64_t i = 0; i < n; i++) a[i] = i;                             \
        for (int64_t w = 1; w < n; w *= 2) {                                  \
          for (int64_t lo = 0; lo < n; lo += 2 * w) {                         \
            int64_t mid = lo + w < n ? lo + w : n;                            \
            int64_t hi = lo + 2 * w < n ? lo + 2 * w : n;                     \
            int64_t l = lo, r = mid, d = lo;                                  \
            while (l < mid && r < hi) {                                       \
              T vl = c[a[l] * inner], vr = c[a[r] * inner];                   \
              int right_first = largest ? vr > vl : vr < vl;                  \
              b[d++] = right_first ? a[r++] : a[l++];                         \
            }                                                                 \
            while (l < mid) b[d++] = a[l++];                                  \
            while (r < hi) b[d++] = a[r++];                                   \
          }                                                                   \
          int64_t *t_ = a;                                                    \
          a = b;                                                              \
          b = t_;                                                             \
        }                                                                     \
        for (int64_t i = 0; i < k; i++) {                                     \
          int64_t q = (o * k + i) * inner + j;                                \
          idx[q] = a[i];                                                      \
          vals[q] = c[a[i] * inner];                                          \
        }                                                                     \
      }                                                                       \
  }

DEF_TOPK(f32, float)
DEF_TOPK(f64, double)
DEF_TOPK(i32, int32_t)
DEF_TOPK(i64, int64_t)

/* ---- normalizations ------------------------------------------------- */

/* Mean and population variance of x[0..n), accumulated in double. */
static void moments_f32(int64_t n, const float *x, double *mean, double *var) {
  double s = 0;
  FOLD8(double, n, x, s, 0.0, v, OP_ADD);
  double m = n > 0 ? s / (double)n : 0, q = 0;
  FOLD8(double, n, x, q, 0.0, (v - m) * (v - m), OP_ADD);
  *mean = m;
  *var = n > 0 ? q / (double)n : 0;
}

void fr_k_batchnorm_f32(int64_t N, int64_t C, int64_t S, const float *x,
                        const float *scale, const float *bias,
                        const float *mean, const float *var, float eps,
                        float *y) {
  for (int64_t i = 0; i < N; i++)
    for (int64_t c = 0; c < C; c++) {
      float a = scale[c] / sqrtf(var[c] + eps), m = mean[c], b = bias[c];
      const float *xs = x + (i * C + c) * S;
      float *ys = y + (i * C + c) * S;
      for (int64_t s = 0; s < S; s++) ys[s] = (xs[s] - m) * a + b;
    }
}

void fr_k_batchnorm_train_f32(int64_t N, int64_t C, int64_t S, const float *x,
                              const float *scale, const float *bias,
                              const float *mean, const float *var, float eps,
                              float momentum, float *y, float *run_mean,
                              float *run_var, float *tmp) {
  float *bm = tmp, *bv = tmp + C;
  double cnt = (double)N * (double)S;
  for (int64_t c = 0; c < C; c++) {
    double s = 0, q = 0;
    for (int64_t i = 0; i < N; i++) {
      const float *xs = x + (i * C + c) * S;
      FOLD8(double, S, xs, s, 0.0, v, OP_ADD);
    }
    double m = cnt > 0 ? s / cnt : 0;
    for (int64_t i = 0; i < N; i++) {
      const float *xs = x + (i * C + c) * S;
      FOLD8(double, S, xs, q, 0.0, (v - m) * (v - m), OP_ADD);
    }
    bm[c] = (float)m;
    bv[c] = cnt > 0 ? (float)(q / cnt) : 0;
  }
  fr_k_batchnorm_f32(N, C, S, x, scale, bias, bm, bv, eps, y);
  for (int64_t c = 0; c < C; c++) {
    if (run_mean) run_mean[c] = mean[c] * momentum + bm[c] * (1 - momentum);
    if (run_var) run_var[c] = var[c] * momentum + bv[c] * (1 - momentum);
  }
}

void fr_k_instnorm_f32(int64_t N, int64_t C, int64_t S, const float *x,
                       const float *scale, const float *bias, float eps,
                       float *y) {
  for (int64_t i = 0; i < N; i++)
    for (int64_t c = 0; c < C; c++) {
      const float *xs = x + (i * C + c) * S;
      float *ys = y + (i * C + c) * S;
      double m, v;
      moments_f32(S, xs, &m, &v);
      float a = scale[c] / (float)sqrt(v + eps), mf = (float)m, b = bias[c];
      for (int64_t s = 0; s < S; s++) ys[s] = (xs[s] - mf) * a + b;
    }
}

void fr_k_layernorm_f32(int64_t outer, int64_t D, const float *x,
                        const float *w, const float *b, float eps, float *y,
                        float *mean, float *invstd) {
  for (int64_t o = 0; o < outer; o++) {
    const float *xr = x + o * D;
    float *yr = y + o * D;
    double m, v;
    moments_f32(D, xr, &m, &v);
    float mf = (float)m, inv = (float)(1.0 / sqrt(v + eps));
    if (mean) mean[o] = mf;
    if (invstd) invstd[o] = inv;
    if (b)
      for (int64_t i = 0; i < D; i++) yr[i] = (xr[i] - mf) * inv * w[i] + b[i];
    else
      for (int64_t i = 0; i < D; i++) yr[i] = (xr[i] - mf) * inv * w[i];
  }
}

void fr_k_lrn_f32(int64_t N, int64_t C, int64_t S, int64_t size, float alpha,
                  float beta, float bias, const float *x, float *y) {
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  float k = alpha / (float)size;
  for (int64_t i = 0; i < N; i++) {
    const float *xn = x + i * C * S;
    float *yn = y + i * C * S;
    for (int64_t c = 0; c < C; c++) {
      float *ys = yn + c * S;
      int64_t lo = c - before < 0 ? 0 : c - before;
      int64_t hi = c + after >= C ? C - 1 : c + after;
      for (int64_t s = 0; s < S; s++) ys[s] = 0;
      for (int64_t q = lo; q <= hi; q++) {
        const float *xq = xn + q * S;
        for (int64_t s = 0; s < S; s++) ys[s] += xq[s] * xq[s];
      }
      const float *xs = xn + c * S;
      for (int64_t s = 0; s < S; s++)
        ys[s] = xs[s] * powf(bias + k * ys[s], -beta);
    }
  }
}

/* ---- losses --------------------------------------------------------- */

int fr_k_nllloss_f32(int64_t N, int64_t C, int64_t D, const float *x,
                     const int64_t *target, const float *weight,
                     int has_ignore, int64_t ignore_index, int reduction,
                     float *loss) {
  double sum = 0, wsum = 0;
  for (int64_t i = 0; i < N; i++)
    for (int64_t d = 0; d < D; d++) {
      int64_t t = target[i * D + d];
      float l = 0, w = 0;
      if (!has_ignore || t != ignore_index) {
        if (t < 0 || t >= C) return 1;
        w = weight ? weight[t] : 1.0f;
        l = -x[(i * C + t) * D + d] * w;
      }
      if (reduction == 0) loss[i * D + d] = l;
      sum += l;
      wsum += w;
    }
  if (reduction == 1) loss[0] = (float)sum;
  if (reduction == 2) loss[0] = (float)(sum / wsum);
  return 0;
}

/* ---- entries -------------------------------------------------------- */

void fr_ke_reduce(const void *params, void *const *b) {
  const fr_k_reduce_plan *p = params;
  if (p->noop) {
    if (p->bytes) memcpy(b[2], b[0], (size_t)p->bytes);
    return;
  }
  switch (p->dtype) {
  case FR_KT_F32: fr_k_reduce_f32(&p->r, p->kind, b[0], b[2], b[3]); break;
  case FR_KT_F64: fr_k_reduce_f64(&p->r, p->kind, b[0], b[2], b[3]); break;
  case FR_KT_I32: fr_k_reduce_i32(&p->r, p->kind, b[0], b[2], b[3]); break;
  case FR_KT_I64: fr_k_reduce_i64(&p->r, p->kind, b[0], b[2], b[3]); break;
  default: break;
  }
}

void fr_ke_argmax(const void *params, void *const *b) {
  const fr_k_argmax_plan *p = params;
  int64_t o = p->outer, k = p->n, i = p->inner;
  switch (p->dtype) {
  case FR_KT_F32: fr_k_argmax_f32(o, k, i, p->is_min, p->last, b[0], b[1]); break;
  case FR_KT_F64: fr_k_argmax_f64(o, k, i, p->is_min, p->last, b[0], b[1]); break;
  case FR_KT_I32: fr_k_argmax_i32(o, k, i, p->is_min, p->last, b[0], b[1]); break;
  case FR_KT_I64: fr_k_argmax_i64(o, k, i, p->is_min, p->last, b[0], b[1]); break;
  default: break;
  }
}

void fr_ke_softmax(const void *params, void *const *b) {
  const fr_k_softmax_plan *p = params;
  if (p->dtype == FR_KT_F32)
    fr_k_softmax_f32(p->outer, p->n, p->inner, p->mode, b[0], b[1], b[2]);
  else
    fr_k_softmax_f64(p->outer, p->n, p->inner, p->mode, b[0], b[1], b[2]);
}

void fr_ke_cumsum(const void *params, void *const *b) {
  const fr_k_cumsum_plan *p = params;
  int64_t o = p->outer, k = p->n, i = p->inner;
  int e = p->exclusive, r = p->reverse;
  switch (p->dtype) {
  case FR_KT_F32: fr_k_cumsum_f32(o, k, i, e, r, b[0], b[2]); break;
  case FR_KT_F64: fr_k_cumsum_f64(o, k, i, e, r, b[0], b[2]); break;
  case FR_KT_I32: fr_k_cumsum_i32(o, k, i, e, r, b[0], b[2]); break;
  case FR_KT_I64: fr_k_cumsum_i64(o, k, i, e, r, b[0], b[2]); break;
  default: break;
  }
}

void fr_ke_topk(const void *params, void *const *b) {
  const fr_k_topk_plan *p = params;
  char *s = b[4];
  void *vals = b[2] ? b[2] : (void *)(s + p->vals_off);
  int64_t *idx = b[3] ? b[3] : (int64_t *)(void *)(s + p->idx_off);
  int64_t *tmp = (int64_t *)(void *)s;
  int64_t o = p->outer, n = p->n, i = p->inner, k = p->k;
  switch (p->dtype) {
  case FR_KT_F32: fr_k_topk_f32(o, n, i, k, p->largest, b[0], vals, idx, tmp); break;
  case FR_KT_F64: fr_k_topk_f64(o, n, i, k, p->largest, b[0], vals, idx, tmp); break;
  case FR_KT_I32: fr_k_topk_i32(o, n, i, k, p->largest, b[0], vals, idx, tmp); break;
  case FR_KT_I64: fr_k_topk_i64(o, n, i, k, p->largest, b[0], vals, idx, tmp); break;
  default: break;
  }
}

void fr_ke_batchnorm_f32(const void *params, void *const *b) {
  const fr_k_batchnorm_plan *p = params;
  if (!p->training)
    fr_k_batchnorm_f32(p->N, p->C, p->S, b[0], b[1], b[2], b[3], b[4], p->eps,
                       b[5]);
  else
    fr_k_batchnorm_train_f32(p->N, p->C, p->S, b[0], b[1], b[2], b[3], b[4],
                             p->eps, p->momentum, b[5], b[6], b[7], b[10]);
}

void fr_ke_instnorm_f32(const void *params, void *const *b) {
  const fr_k_instnorm_plan *p = params;
  fr_k_instnorm_f32(p->N, p->C, p->S, b[0], b[1], b[2], p->eps, b[3]);
}

void fr_ke_layernorm_f32(const void *params, void *const *b) {
  const fr_k_layernorm_plan *p = params;
  float *s = b[6];
  const float *w = b[1], *bias = b[2];
  if (p->w_expand) {
    fr_k_strided_copy(&p->we, w, s);
    w = s;
  }
  if (bias && p->b_expand) {
    fr_k_strided_copy(&p->be, bias, s + p->D);
    bias = s + p->D;
  }
  fr_k_layernorm_f32(p->outer, p->D, b[0], w, bias, p->eps, b[3], b[4], b[5]);
}

void fr_ke_lrn_f32(const void *params, void *const *b) {
  const fr_k_lrn_plan *p = params;
  fr_k_lrn_f32(p->N, p->C, p->S, p->size, p->alpha, p->beta, p->bias, b[0],
               b[1]);
}

void fr_ke_mvn_f32(const void *params, void *const *b) {
  const fr_k_mvn_plan *p = params;
  float *s = b[2];
  fr_k_mvn_f32(&p->r, b[0], b[1], s, s + p->r.ny);
}
