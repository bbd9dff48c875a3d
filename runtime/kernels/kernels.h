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

/* Element sizes are in bytes (esize); offsets, strides and lengths are in
 * elements unless named *_bytes. The kernels move bytes, so they serve
 * every dtype; string tensors are moved as char* and deep-copied by the
 * glue afterwards. */

#define FR_K_MAX_COPY_RANK (2 * FR_K_MAX_RANK)

/* Strided gather into a dense output: y has rank dims (row-major) and
 * y[i_0, ..., i_r-1] = x[off + sum_d i_d * xs[d]]. Transpose, Slice, Expand,
 * Tile, DepthToSpace and SpaceToDepth are all this copy with different
 * strides (xs may be 0 or negative). */
typedef struct fr_k_strided {
  int rank;
  int64_t dims[FR_K_MAX_COPY_RANK];
  int64_t xs[FR_K_MAX_COPY_RANK];
  int64_t off;
  int64_t esize;
} fr_k_strided;
void fr_k_strided_copy(const fr_k_strided *p, const void *x, void *y);

/* Copies rows of row_bytes bytes; row i at x + i*x_pitch to y + i*y_pitch
 * (Concat and Split: the parts are column blocks of (outer, axis*inner)). */
void fr_k_copy_rows(int64_t rows, int64_t row_bytes, const void *x,
                    int64_t x_pitch, void *y, int64_t y_pitch);

/* Fills n elements of y with the element v. */
void fr_k_fill(int64_t n, int64_t esize, const void *v, void *y);

/* Gather along an axis: x (outer, n, inner), idx (k) each in [0, n),
 * y (outer, k, inner). */
void fr_k_gather(int64_t outer, int64_t n, int64_t k, int64_t inner,
                 int64_t esize, const int64_t *idx, const void *x, void *y);

/* Rows by offset: y[j*len .. +len) = x[off[j] .. +len) for j < n. */
void fr_k_gather_rows(int64_t n, int64_t len, int64_t esize,
                      const int64_t *off, const void *x, void *y);
/* The reverse: y[off[j] .. +len) = u[j*len .. +len) (later rows win). */
void fr_k_scatter_rows(int64_t n, int64_t len, int64_t esize,
                       const int64_t *off, const void *u, void *y);

/* Reductions of ScatterElements / ScatterND. */
enum { FR_K_SCAT_NONE = 0, FR_K_SCAT_ADD, FR_K_SCAT_MUL, FR_K_SCAT_MAX,
       FR_K_SCAT_MIN };
/* y[off[j] + i] = red(y[off[j] + i], u[j*len + i]), in order of j. */
#define FR_K_SCATTER_DECL(T, NAME)                                            \
  void fr_k_scatter_red_##NAME(int64_t n, int64_t len, const int64_t *off,    \
                               const T *u, T *y, int red);
FR_K_SCATTER_DECL(float, f32)
FR_K_SCATTER_DECL(double, f64)
FR_K_SCATTER_DECL(int8_t, i8)
FR_K_SCATTER_DECL(uint8_t, u8)
FR_K_SCATTER_DECL(int16_t, i16)
FR_K_SCATTER_DECL(uint16_t, u16)
FR_K_SCATTER_DECL(int32_t, i32)
FR_K_SCATTER_DECL(uint32_t, u32)
FR_K_SCATTER_DECL(int64_t, i64)
FR_K_SCATTER_DECL(uint64_t, u64)
#undef FR_K_SCATTER_DECL

/* Element offsets of GatherElements / ScatterElements: idx has rank and
 * dims, each entry already in [0, x's dim at axis); xs are x's strides.
 * off[i] = sum_{d != axis} i_d * xs[d] + idx[i] * xs[axis]. */
void fr_k_elem_offsets(int rank, const int64_t *dims, int axis,
                       const int64_t *xs, const int64_t *idx, int64_t *off);

/* Slice offsets of GatherND / ScatterND: n tuples of q indices (already
 * non-negative and in range), per_batch tuples per batch;
 * off[j] = (j / per_batch) * batch_stride + sum_t idx[j*q + t] * xs[t]. */
void fr_k_nd_offsets(int64_t n, int64_t per_batch, int64_t batch_stride,
                     int q, const int64_t *xs, const int64_t *idx,
                     int64_t *off);

/* Pad: x (xdims) into y (ydims), both of rank. map holds, dim after dim,
 * ydims[d] entries: the source index along d, or -1 for the constant cval.
 * pb[d] is the pad at the beginning (negative: cropped), used to copy the
 * untouched middle of the innermost dim with one memcpy. */
typedef struct fr_k_pad_params {
  int rank;
  int64_t xdims[FR_K_MAX_RANK], ydims[FR_K_MAX_RANK], pb[FR_K_MAX_RANK];
  int64_t esize;
} fr_k_pad_params;
void fr_k_pad(const fr_k_pad_params *p, const int64_t *map, const void *cval,
              const void *x, void *y);

/* y[i] = start + i * delta. */
void fr_k_range_f32(int64_t n, float start, float delta, float *y);
void fr_k_range_f64(int64_t n, double start, double delta, double *y);
void fr_k_range_i16(int64_t n, int16_t start, int16_t delta, int16_t *y);
void fr_k_range_i32(int64_t n, int32_t start, int32_t delta, int32_t *y);
void fr_k_range_i64(int64_t n, int64_t start, int64_t delta, int64_t *y);

/* Trilu: x, y (batch, rows, cols); keeps j - i >= k (upper) or j - i <= k
 * (lower), zero bytes elsewhere. */
void fr_k_trilu(int64_t batch, int64_t rows, int64_t cols, int64_t k,
                int upper, int64_t esize, const void *x, void *y);

/* OneHot: idx (outer, inner), each in [0, depth) or -1; y (outer, depth,
 * inner) gets on where the index matches, off elsewhere. */
void fr_k_onehot(int64_t outer, int64_t depth, int64_t inner, int64_t esize,
                 const int64_t *idx, const void *off, const void *on,
                 void *y);

/* EyeLike: y (rows, cols) zero except y[i, i+k] = one. */
void fr_k_eye(int64_t rows, int64_t cols, int64_t k, int64_t esize,
              const void *one, void *y);

/* ReverseSequence: x, y (batch, time, inner) when batch_major, else
 * (time, batch, inner); the first lens[b] (in [0, time]) steps of each
 * batch entry are reversed, the rest copied. */
void fr_k_reverse_sequence(int64_t batch, int64_t time, int64_t inner,
                           int batch_major, int64_t esize,
                           const int64_t *lens, const void *x, void *y);

/* NonZero: mask (dims, n elements, 1 = nonzero) with nnz ones;
 * y (rank, nnz) their coordinates. */
void fr_k_nonzero(int rank, const int64_t *dims, int64_t n,
                  const uint8_t *mask, int64_t nnz, int64_t *y);

/* Unique over rows: x (rows, len) of the ONNX element type dtype (1 f32,
 * 2 u8, 3 i8, 4 u16, 5 i16, 6 i32, 7 i64, 8 string (char*), 9 bool,
 * 10 f16, 11 f64, 12 u32, 13 u64, 16 bf16). Rows compare lexicographically.
 * Returns the number u of distinct rows (-1: unknown dtype) and fills
 * first (u: the row of each unique's first occurrence, ascending rows when
 * sorted, else by first occurrence), inverse (rows: unique of each row),
 * counts (u). scratch: 2 * rows. */
int64_t fr_k_unique(int64_t rows, int64_t len, int dtype, const void *x,
                    int sorted, int64_t *scratch, int64_t *first,
                    int64_t *inverse, int64_t *counts);
/* end of tensor.c */

/* ---- nn.c, gemm.c: conv, pool, gemm, matmul, resize ------------------ */
/* end of nn.c */

/* ---- ctrl.c: recurrent nets, signal processing, misc ----------------- */

/* Copies, for each of `outer` blocks, n slices of `inner` bytes along an
 * axis: dst block o, slice dst_off + k <- src block o, slice src_off + k
 * (k < n); src blocks hold src_d slices, dst blocks dst_d. Used to split,
 * concatenate, stack and slice tensors of any element type. */
void fr_k_copy_slices(int64_t outer, int64_t inner, int64_t n,
                      const unsigned char *src, int64_t src_d,
                      int64_t src_off, unsigned char *dst, int64_t dst_d,
                      int64_t dst_off);

/* Recurrent nets. Activations of RNN/GRU/LSTM: */
enum {
  FR_K_ACT_RELU, FR_K_ACT_TANH, FR_K_ACT_SIGMOID, FR_K_ACT_AFFINE,
  FR_K_ACT_LEAKY_RELU, FR_K_ACT_THRESHOLDED_RELU, FR_K_ACT_SCALED_TANH,
  FR_K_ACT_HARD_SIGMOID, FR_K_ACT_ELU, FR_K_ACT_SOFTSIGN, FR_K_ACT_SOFTPLUS
};
enum { FR_K_CELL_RNN, FR_K_CELL_GRU, FR_K_CELL_LSTM };

/* One direction of an RNN/GRU/LSTM over a whole sequence. Strides are in
 * elements; pointers are already offset to this direction. */
typedef struct fr_k_rnn {
  int cell;                   /* FR_K_CELL_* */
  int64_t seq, batch, input, hidden;
  int reverse;                /* runs from the last valid step back */
  int act[3];                 /* f, g, h (FR_K_ACT_*) */
  float alpha[3], beta[3];
  float clip;                 /* > 0: gate inputs clipped to [-clip, clip] */
  int linear_before_reset;    /* GRU */
  int input_forget;           /* LSTM: forget gate = 1 - input gate */
  int64_t x_st, x_sb;         /* X[t][b][:] at t * x_st + b * x_sb */
  int64_t y_st, y_sb;         /* Y[t][b][:] at t * y_st + b * y_sb */
  int64_t h_sb;               /* Y_h/Y_c/initial_h/initial_c [b][:] */
} fr_k_rnn;

/* x (seq, batch, input) per the strides; w (gates * hidden, input); r
 * (gates * hidden, hidden); b (2 * gates * hidden) or NULL; peep (3 *
 * hidden) or NULL; lens (batch) or NULL (0 <= lens[b] <= seq); h0, c0 or
 * NULL (zeros); y, yh, yc or NULL when not wanted (y must be zeroed: steps
 * past a sequence's length are left alone). scratch: (4 + gates) * hidden
 * floats, gates = 1 (RNN), 3 (GRU), 4 (LSTM). */
void fr_k_rnn_f32(const fr_k_rnn *p, const float *x, const float *w,
                  const float *r, const float *b, const float *peep,
                  const int64_t *lens, const float *h0, const float *c0,
                  float *y, float *yh, float *yc, float *scratch);

/* NonMaxSuppression of one batch and class: boxes (n, 4), scores (n).
 * Writes the kept box indices, best first, to selected (n) and returns how
 * many. order and tmp: scratch of n each. */
int64_t fr_k_nms_f32(int64_t n, const float *boxes, const float *scores,
                     int center_point_box, int64_t max_out, float iou_th,
                     int has_score_th, float score_th, int64_t *order,
                     int64_t *tmp, int64_t *selected);

/* Signal processing. */
enum { FR_K_WIN_HANN, FR_K_WIN_HAMMING, FR_K_WIN_BLACKMAN };
void fr_k_window(int kind, int64_t n, int periodic, double *y); /* (n) */
/* tw (2 * nfft): cos and sin of 2 pi k / nfft, k < nfft. */
void fr_k_twiddles(int64_t nfft, double *tw);
/* DFT along the middle axis of x (outer, n_in, inner, comps) (comps 1: real,
 * 2: complex) into y (outer, n_out, inner, 2); the signal is cut or
 * zero-padded to nfft; inverse: conjugate twiddles, scaled by 1 / nfft. */
void fr_k_dft_f32(int64_t outer, int64_t n_in, int64_t inner, int64_t comps,
                  int64_t nfft, int64_t n_out, int inverse, const double *tw,
                  const float *x, float *y);
/* STFT: x (batch, len, comps), window (flen) or NULL, into y (batch,
 * frames, bins, 2); tw of nfft = flen. */
void fr_k_stft_f32(int64_t batch, int64_t len, int64_t comps, int64_t frames,
                   int64_t step, int64_t flen, int64_t bins, const double *tw,
                   const float *window, const float *x, float *y);
/* MelWeightMatrix: y (dft / 2 + 1, bins), zeroed by the caller. */
void fr_k_mel_weights(int64_t bins, int64_t dft, int64_t rate, float lo,
                      float hi, double *y);

/* Random numbers (state: a 64-bit generator state, advanced). */
void fr_k_random_uniform(uint64_t *state, int64_t n, double lo, double hi,
                         double *y);
void fr_k_random_normal(uint64_t *state, int64_t n, double mean, double scale,
                        double *y);

/* Training optimizers (ai.onnx.preview.training), elementwise over n. */
void fr_k_adagrad_f32(int64_t n, float r, float norm, float eps,
                      const float *x, const float *g, const float *h,
                      float *xo, float *ho);
void fr_k_adam_f32(int64_t n, float r, float alpha, float beta, float norm,
                   float norm_post, float eps, const float *x, const float *g,
                   const float *v, const float *h, float *xo, float *vo,
                   float *ho);
void fr_k_momentum_f32(int64_t n, float r, float alpha, float beta,
                       float norm, int nesterov, const float *x,
                       const float *g, const float *v, float *xo, float *vo);
/* end of ctrl.c */

#endif
