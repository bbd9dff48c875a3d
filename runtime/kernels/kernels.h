/* kernels.h: frost's compute kernels, in plain C.
 *
 * A kernel is written once: the interpreter calls it, the constant folder
 * runs it, and the compiler builds the same source to LLVM bitcode and
 * specializes it with constant shapes and weights. So kernels take raw
 * pointers and sizes only - no IR types, no allocation, no I/O - and include
 * nothing but this header and the C standard headers for math.
 * Shapes are stated in comments as (N, C, H, W) etc. */
#ifndef FROST_KERNELS_H
#define FROST_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define FR_K_MAX_RANK 8

/* Sections follow the kernel files; each group adds its declarations only
 * inside its own section (kept apart so parallel work merges cleanly). */

/* ---- elementwise.c -------------------------------------------------- */

/* Broadcast iteration: out has rank r and dims d; each operand has strides
 * (in elements) sa/sb over out's dims, 0 where it is broadcast. */
typedef struct fr_k_bcast {
  int rank;
  int64_t dims[FR_K_MAX_RANK];
  int64_t sa[FR_K_MAX_RANK], sb[FR_K_MAX_RANK];
} fr_k_bcast;

void fr_k_add_f32(const fr_k_bcast *b, const float *a, const float *c,
                  float *y);
void fr_k_relu_f32(int64_t n, const float *x, float *y);
/* end of elementwise.c */

/* ---- reduce.c: reductions, softmax, normalization, losses ----------- */

/* A reduction of x into y, after the glue merged adjacent axes of the same
 * kind (reduced or kept) and dropped axes of size 1: x has rank >= 1 and dims
 * `dims` (row-major); ystr[i] is y's stride (in elements) along x's axis i,
 * 0 where the axis is reduced (the innermost kept axis has stride 1). y has
 * ny elements; count is the number of x elements folded into each one. */
typedef struct fr_k_reduce {
  int rank;
  int64_t dims[FR_K_MAX_RANK];
  int64_t ystr[FR_K_MAX_RANK];
  int64_t ny, count;
} fr_k_reduce;

/* Reduction kinds (ReduceSum ... ReduceSumSquare). */
enum {
  FR_K_RED_SUM,
  FR_K_RED_MEAN,
  FR_K_RED_MAX,
  FR_K_RED_MIN,
  FR_K_RED_PROD,
  FR_K_RED_L1,
  FR_K_RED_L2,
  FR_K_RED_LOGSUM,
  FR_K_RED_LOGSUMEXP,
  FR_K_RED_SUMSQ,
};

/* y = reduce(x) per p; tmp: ny doubles of scratch (LogSumExp only, else
 * may be NULL). Integer Mean truncates; integer L2/LogSum/LogSumExp go
 * through double. Empty reductions give the identity (0, 1, -inf/lowest...). */
void fr_k_reduce_f32(const fr_k_reduce *p, int kind, const float *x, float *y,
                     double *tmp);
void fr_k_reduce_f64(const fr_k_reduce *p, int kind, const double *x,
                     double *y, double *tmp);
void fr_k_reduce_i32(const fr_k_reduce *p, int kind, const int32_t *x,
                     int32_t *y, double *tmp);
void fr_k_reduce_i64(const fr_k_reduce *p, int kind, const int64_t *x,
                     int64_t *y, double *tmp);

/* MeanVarianceNormalization: y = (x - mean) / (sqrt(var) + 1e-9), mean and
 * (population) var over the reduced axes of p. mean, inv: ny floats of
 * scratch. */
void fr_k_mvn_f32(const fr_k_reduce *p, const float *x, float *y, float *mean,
                  float *inv);

/* ArgMax (is_min 0) / ArgMin (is_min 1) of x (outer, n, inner) along n into
 * y (outer, inner); ties go to the first index, or the last when last. */
void fr_k_argmax_f32(int64_t outer, int64_t n, int64_t inner, int is_min,
                     int last, const float *x, int64_t *y);
void fr_k_argmax_f64(int64_t outer, int64_t n, int64_t inner, int is_min,
                     int last, const double *x, int64_t *y);
void fr_k_argmax_i32(int64_t outer, int64_t n, int64_t inner, int is_min,
                     int last, const int32_t *x, int64_t *y);
void fr_k_argmax_i64(int64_t outer, int64_t n, int64_t inner, int is_min,
                     int last, const int64_t *x, int64_t *y);

/* Softmax family along n of x, y (outer, n, inner), numerically stable
 * (the maximum is subtracted first). Hardmax: 1 at the first maximum.
 * tmp: 2 * inner elements of scratch (used when inner > 1). */
enum { FR_K_SOFTMAX, FR_K_LOGSOFTMAX, FR_K_HARDMAX };
void fr_k_softmax_f32(int64_t outer, int64_t n, int64_t inner, int mode,
                      const float *x, float *y, float *tmp);
void fr_k_softmax_f64(int64_t outer, int64_t n, int64_t inner, int mode,
                      const double *x, double *y, double *tmp);

/* CumSum along n of x, y (outer, n, inner). */
void fr_k_cumsum_f32(int64_t outer, int64_t n, int64_t inner, int exclusive,
                     int reverse, const float *x, float *y);
void fr_k_cumsum_f64(int64_t outer, int64_t n, int64_t inner, int exclusive,
                     int reverse, const double *x, double *y);
void fr_k_cumsum_i32(int64_t outer, int64_t n, int64_t inner, int exclusive,
                     int reverse, const int32_t *x, int32_t *y);
void fr_k_cumsum_i64(int64_t outer, int64_t n, int64_t inner, int exclusive,
                     int reverse, const int64_t *x, int64_t *y);

/* TopK along n of x (outer, n, inner): the k largest (or smallest) values,
 * sorted, ties by lower index first, into vals and idx (outer, k, inner).
 * tmp: 2 * n int64 of scratch. */
void fr_k_topk_f32(int64_t outer, int64_t n, int64_t inner, int64_t k,
                   int largest, const float *x, float *vals, int64_t *idx,
                   int64_t *tmp);
void fr_k_topk_f64(int64_t outer, int64_t n, int64_t inner, int64_t k,
                   int largest, const double *x, double *vals, int64_t *idx,
                   int64_t *tmp);
void fr_k_topk_i32(int64_t outer, int64_t n, int64_t inner, int64_t k,
                   int largest, const int32_t *x, int32_t *vals, int64_t *idx,
                   int64_t *tmp);
void fr_k_topk_i64(int64_t outer, int64_t n, int64_t inner, int64_t k,
                   int largest, const int64_t *x, int64_t *vals, int64_t *idx,
                   int64_t *tmp);

/* BatchNormalization, inference: x, y (N, C, S); scale, bias, mean, var (C).
 * y = (x - mean) / sqrt(var + eps) * scale + bias. */
void fr_k_batchnorm_f32(int64_t N, int64_t C, int64_t S, const float *x,
                        const float *scale, const float *bias,
                        const float *mean, const float *var, float eps,
                        float *y);
/* Training mode: normalizes with the batch's mean and population variance
 * over (N, S) per channel and writes the running statistics
 * run = in * momentum + batch * (1 - momentum) to run_mean, run_var (C)
 * (either may be NULL). tmp: 2 * C floats of scratch. */
void fr_k_batchnorm_train_f32(int64_t N, int64_t C, int64_t S, const float *x,
                              const float *scale, const float *bias,
                              const float *mean, const float *var, float eps,
                              float momentum, float *y, float *run_mean,
                              float *run_var, float *tmp);
/* InstanceNormalization: x, y (N, C, S); scale, bias (C); statistics over S
 * per (n, c). */
void fr_k_instnorm_f32(int64_t N, int64_t C, int64_t S, const float *x,
                       const float *scale, const float *bias, float eps,
                       float *y);
/* LayerNormalization: x, y (outer, D); w, b (D) (b may be NULL); mean and
 * invstd (outer) may be NULL. */
void fr_k_layernorm_f32(int64_t outer, int64_t D, const float *x,
                        const float *w, const float *b, float eps, float *y,
                        float *mean, float *invstd);
/* LRN across channels: x, y (N, C, S). */
void fr_k_lrn_f32(int64_t N, int64_t C, int64_t S, int64_t size, float alpha,
                  float beta, float bias, const float *x, float *y);

/* NegativeLogLikelihoodLoss on x (N, C, D) (log-probabilities) and target
 * (N, D); weight (C) or NULL. reduction 0 none: loss (N, D); 1 sum, 2 mean:
 * loss (1). Entries whose target is ignore_index (when has_ignore) count
 * with weight 0. Returns 0, or 1 when a target is outside [0, C). */
int fr_k_nllloss_f32(int64_t N, int64_t C, int64_t D, const float *x,
                     const int64_t *target, const float *weight,
                     int has_ignore, int64_t ignore_index, int reduction,
                     float *loss);
/* end of reduce.c */

/* ---- tensor.c: movement, indexing, shapes ---------------------------- */
/* end of tensor.c */

/* ---- nn.c, gemm.c: conv, pool, gemm, matmul, resize ------------------ */
/* end of nn.c */

/* ---- ctrl.c: recurrent nets, signal processing, misc ----------------- */
/* end of ctrl.c */

#endif
