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
/* end of ctrl.c */

#endif
