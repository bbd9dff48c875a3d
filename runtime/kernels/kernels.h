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
/* end of tensor.c */

/* ---- nn.c, gemm.c: conv, pool, gemm, matmul, resize ------------------ */

/* gemm.c: C (M, N) = alpha * A (M, K) * B (K, N) + beta * C + bias (M).
 * A(i, k) = A[i * rsa + k * csa], B(k, j) = B[k * rsb + j * csb] (so a
 * transposed operand is just swapped strides), C(i, j) = C[i * ldc + j].
 * beta 0: C is not read. bias: NULL or one value per row. */
typedef struct fr_k_gemm {
  int64_t M, N, K;
  const float *A;
  int64_t rsa, csa;
  const float *B;
  int64_t rsb, csb;
  float *C;
  int64_t ldc;
  float alpha, beta;
  const float *bias;
} fr_k_gemm;
/* Scratch floats fr_k_sgemm needs for these sizes (packed panels). */
size_t fr_k_sgemm_scratch(int64_t M, int64_t N, int64_t K);
void fr_k_sgemm(const fr_k_gemm *g, float *scratch);

/* A convolution, its spatial dims always given as 3 (D, H, W): a 2-D conv
 * has D = 1 (in, out, k 1; stride, dil 1; pad 0), a 1-D conv also H = 1.
 * x (N, C, ID, IH, IW), w (M, C/group, KD, KH, KW), y (N, M, OD, OH, OW).
 * pad: the padding before each dim (the end padding follows from out). */
typedef struct fr_k_conv {
  int64_t N, C, M, group;
  int64_t in[3], out[3], k[3], stride[3], dil[3], pad[3];
} fr_k_conv;
size_t fr_k_conv_scratch(const fr_k_conv *p); /* floats */
/* y = conv(x, w) + bias (bias NULL or (M)). */
void fr_k_conv_f32(const fr_k_conv *p, const float *x, const float *w,
                   const float *bias, float *y, float *scratch);
/* Transposed convolution: x (N, C, in...), w (C, M/group, k...),
 * y (N, M, out...); pad is the output cropping at the start of each dim. */
size_t fr_k_convtranspose_scratch(const fr_k_conv *p); /* floats */
void fr_k_convtranspose_f32(const fr_k_conv *p, const float *x,
                            const float *w, const float *bias, float *y,
                            float *scratch);
/* nn.c: depthwise (group == C == M, KD == 1, KH <= 16) convolution. */
void fr_k_dwconv_f32(const fr_k_conv *p, const float *x, const float *w,
                     const float *bias, float *y);
/* Pooling over `planes` (N * C) planes x (ID, IH, IW) -> y (OD, OH, OW).
 * pad / pad_end: padding before / after each dim. Padding is ignored by
 * max, counted as 0 by Lp, and by average only when count_include_pad. */
enum { FR_K_POOL_MAX, FR_K_POOL_AVG, FR_K_POOL_LP };
typedef struct fr_k_pool {
  int kind; /* FR_K_POOL_* */
  int count_include_pad;
  float p; /* Lp exponent */
  int64_t planes;
  int64_t in[3], out[3], k[3], stride[3], dil[3], pad[3], pad_end[3];
} fr_k_pool;
void fr_k_pool_f32(const fr_k_pool *p, const float *x, float *y);
/* Max pooling of 8-bit integers (is_signed: int8, else uint8). */
void fr_k_maxpool_i8(const fr_k_pool *p, const void *x, void *y,
                     int is_signed);
/* Max pooling with the flat input index of each maximum (col_major: the
 * index counts with the spatial dims reversed, ONNX storage_order 1). */
void fr_k_maxpool_idx_f32(const fr_k_pool *p, const float *x, float *y,
                          int64_t *idx, int col_major);
/* y[pl] = mean (avg) or max of x[pl * n .. pl * n + n). */
void fr_k_global_pool_f32(int64_t planes, int64_t n, const float *x,
                          float *y, int avg);
/* Resize: per dim, taps (input index, weight) for every output index. */
enum { FR_K_RESIZE_NEAREST, FR_K_RESIZE_LINEAR, FR_K_RESIZE_CUBIC };
enum {
  FR_K_COORD_HALF_PIXEL,
  FR_K_COORD_ALIGN_CORNERS,
  FR_K_COORD_ASYMMETRIC,
  FR_K_COORD_PYTORCH_HALF_PIXEL,
  FR_K_COORD_TF_HALF_PIXEL_FOR_NN,
  FR_K_COORD_TF_CROP_AND_RESIZE,
  FR_K_COORD_HALF_PIXEL_SYMMETRIC,
};
enum {
  FR_K_NEAREST_ROUND_PREFER_FLOOR,
  FR_K_NEAREST_ROUND_PREFER_CEIL,
  FR_K_NEAREST_FLOOR,
  FR_K_NEAREST_CEIL,
  FR_K_NEAREST_SIMPLE, /* Upsample and Resize-10: floor, ceil downsampling */
};
typedef struct fr_k_resize_dim {
  int mode, coord, nearest, exclude_outside;
  int64_t in, out;
  double scale;              /* output / input, as given or computed */
  double roi_start, roi_end; /* tf_crop_and_resize */
  double cubic_a;
} fr_k_resize_dim;
/* Fills idx, w (out, ntap): ntap = 4 for cubic, else 2. idx -1: outside
 * the crop (tf_crop_and_resize: the output is the extrapolation value). */
void fr_k_resize_taps(const fr_k_resize_dim *p, int64_t *idx, float *w);
typedef struct fr_k_resize {
  int rank, ntap;
  int64_t in[FR_K_MAX_RANK], out[FR_K_MAX_RANK];
  const int64_t *idx[FR_K_MAX_RANK]; /* per dim (out[d], ntap) */
  const float *w[FR_K_MAX_RANK];
  float extrapolation;
} fr_k_resize;
/* y (out...) = sum over the taps of every dim of x (in...). */
void fr_k_resize_f32(const fr_k_resize *r, const float *x, float *y);
/* GridSample (2-D): x (N, C, H, W), grid (N, HO, WO, 2) of (x, y) in
 * [-1, 1] -> y (N, C, HO, WO). mode: FR_K_RESIZE_* (cubic = bicubic). */
enum { FR_K_PAD_ZEROS, FR_K_PAD_BORDER, FR_K_PAD_REFLECTION };
typedef struct fr_k_gridsample {
  int mode, padding, align_corners;
  int64_t N, C, H, W, HO, WO;
} fr_k_gridsample;
void fr_k_gridsample_f32(const fr_k_gridsample *g, const float *x,
                         const float *grid, float *y);
/* Quantization. Integer element types of the quantized side: */
enum { FR_K_U8, FR_K_I8, FR_K_I32 };
/* Data (outer, axis_n, inner); scale and zero point per axis entry.
 * y = saturate(round_half_even(x / scale) + zp). */
void fr_k_quantize_f32(int64_t outer, int64_t axis_n, int64_t inner,
                       const float *x, const float *scale, const int32_t *zp,
                       void *y, int ytype);
/* y = (x - zp) * scale */
void fr_k_dequantize_f32(int64_t outer, int64_t axis_n, int64_t inner,
                         const void *x, int xtype, const float *scale,
                         const int32_t *zp, float *y);
/* y = x - zp, widened to int32 */
void fr_k_widen_i32(int64_t outer, int64_t axis_n, int64_t inner,
                    const void *x, int xtype, const int32_t *zp, int32_t *y);
/* y = saturate(round(acc * mult[axis]) + zp[0]) */
void fr_k_requantize_i32(int64_t outer, int64_t axis_n, int64_t inner,
                         const int32_t *acc, const float *mult,
                         const int32_t *zp, void *y, int ytype);
/* DynamicQuantizeLinear: uint8 y, scale and zero point from x's range. */
void fr_k_dynamic_quantize_f32(int64_t n, const float *x, uint8_t *y,
                               float *scale, uint8_t *zp);
void fr_k_matmul_i32(int64_t M, int64_t N, int64_t K, const int32_t *a,
                     const int32_t *b, int32_t *c);
void fr_k_conv_i32(const fr_k_conv *p, const int32_t *x, const int32_t *w,
                   const int32_t *bias, int32_t *y);
/* Einsum as one loop over every label: operand k's element offset moves by
 * stride[k][l] per step of label l (repeated labels add up: a diagonal),
 * y's by ystride[l] (0 for summed labels). */
#define FR_K_EINSUM_MAX_IN 8
#define FR_K_EINSUM_MAX_LABELS 64
typedef struct fr_k_einsum {
  int n_in, n_labels;
  int64_t size[FR_K_EINSUM_MAX_LABELS];
  int64_t stride[FR_K_EINSUM_MAX_IN][FR_K_EINSUM_MAX_LABELS];
  int64_t ystride[FR_K_EINSUM_MAX_LABELS];
} fr_k_einsum;
void fr_k_einsum_f32(const fr_k_einsum *e, const float *const *x, float *y);
void fr_k_einsum_f64(const fr_k_einsum *e, const double *const *x,
                     double *y);
/* Determinants of batch (M, M) matrices; lu: M * M doubles of scratch. */
void fr_k_det_f32(int64_t batch, int64_t M, const float *x, float *y,
                  double *lu);
/* MaxUnpool: y (planes, outd...) = 0, then x[i] goes where idx[i] points;
 * indices count in the default shape (planes, dflt...) and land on the same
 * coordinates of y (dropped when outside). Returns how many indices were
 * out of range (skipped). */
int64_t fr_k_maxunpool_f32(int64_t n, const float *x, const int64_t *idx,
                           int nsp, const int64_t *dflt, const int64_t *outd,
                           int64_t planes, float *y);
/* RoiAlign: x (N, C, H, W), rois (n_rois, 4) as x1, y1, x2, y2, batch
 * (n_rois) -> y (n_rois, C, out_h, out_w). batch entries must be < N. */
typedef struct fr_k_roialign {
  int64_t C, H, W, n_rois, out_h, out_w, sampling_ratio;
  float spatial_scale;
  int half_pixel, max_mode;
} fr_k_roialign;
void fr_k_roialign_f32(const fr_k_roialign *p, const float *x,
                       const float *rois, const int64_t *batch, float *y);
/* end of nn.c */

/* ---- ctrl.c: recurrent nets, signal processing, misc ----------------- */
/* end of ctrl.c */

#endif
