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
/* end of nn.c */

/* ---- ctrl.c: recurrent nets, signal processing, misc ----------------- */
/* end of ctrl.c */

#endif
