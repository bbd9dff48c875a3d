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

/* The same with three operands (Where: condition, x, y). */
typedef struct fr_k_bcast3 {
  int rank;
  int64_t dims[FR_K_MAX_RANK];
  int64_t s[3][FR_K_MAX_RANK];
} fr_k_bcast3;

/* Unary maps y[i] = f(x[i]) (y may be x). The op is a constant in
 * specialized code, so each kernel is one plain loop after folding. */
enum fr_k_unop {
  FR_K_ABS, FR_K_NEG, FR_K_SQRT, FR_K_EXP, FR_K_LOG, FR_K_RECIPROCAL,
  FR_K_FLOOR, FR_K_CEIL, FR_K_ROUND, /* half to even */
  FR_K_SIGN, FR_K_SIN, FR_K_COS, FR_K_TAN, FR_K_ASIN, FR_K_ACOS, FR_K_ATAN,
  FR_K_SINH, FR_K_COSH, FR_K_ASINH, FR_K_ACOSH, FR_K_ATANH, FR_K_ERF,
  FR_K_TANH, FR_K_RELU,
  FR_K_LEAKYRELU,       /* x < 0 ? alpha x : x */
  FR_K_ELU,             /* x < 0 ? alpha (e^x - 1) : x */
  FR_K_SELU,            /* gamma (x <= 0 ? alpha (e^x - 1) : x) */
  FR_K_CELU,            /* max(0, x) + min(0, alpha (e^(x/alpha) - 1)) */
  FR_K_SIGMOID,
  FR_K_HARDSIGMOID,     /* max(0, min(1, alpha x + beta)) */
  FR_K_HARDSWISH,       /* x max(0, min(1, x/6 + 1/2)) */
  FR_K_SOFTPLUS,        /* log(1 + e^x) */
  FR_K_SOFTSIGN,        /* x / (1 + |x|) */
  FR_K_THRESHOLDEDRELU, /* x > alpha ? x : 0 */
  FR_K_SHRINK,          /* x < -alpha ? x + beta : x > alpha ? x - beta : 0 */
  FR_K_MISH,            /* x tanh(softplus(x)) */
  FR_K_NOT,             /* integers: ~x; use FR_K_LNOT for bool */
  FR_K_LNOT,            /* !x */
  FR_K_UNOP_COUNT
};

/* Attributes of the activations (unused ones are ignored). */
typedef struct fr_k_unary_params {
  double alpha, beta, gamma;
} fr_k_unary_params;

/* Floats support every op but NOT/LNOT; integers ABS, NEG, SIGN, RELU, NOT,
 * LNOT (others leave y unchanged). (n) -> (n) */
void fr_k_unary_f32(int op, const fr_k_unary_params *p, int64_t n,
                    const float *x, float *y);
void fr_k_unary_f64(int op, const fr_k_unary_params *p, int64_t n,
                    const double *x, double *y);
void fr_k_unary_i8(int op, int64_t n, const int8_t *x, int8_t *y);
void fr_k_unary_i16(int op, int64_t n, const int16_t *x, int16_t *y);
void fr_k_unary_i32(int op, int64_t n, const int32_t *x, int32_t *y);
void fr_k_unary_i64(int op, int64_t n, const int64_t *x, int64_t *y);
void fr_k_unary_u8(int op, int64_t n, const uint8_t *x, uint8_t *y);
void fr_k_unary_u16(int op, int64_t n, const uint16_t *x, uint16_t *y);
void fr_k_unary_u32(int op, int64_t n, const uint32_t *x, uint32_t *y);
void fr_k_unary_u64(int op, int64_t n, const uint64_t *x, uint64_t *y);

/* y = min(max(x, lo), hi) (so hi wins when lo > hi). (n) -> (n) */
void fr_k_clip_f32(int64_t n, const float *x, float lo, float hi, float *y);
void fr_k_clip_f64(int64_t n, const double *x, double lo, double hi,
                   double *y);
void fr_k_clip_i8(int64_t n, const int8_t *x, int8_t lo, int8_t hi, int8_t *y);
void fr_k_clip_i16(int64_t n, const int16_t *x, int16_t lo, int16_t hi,
                   int16_t *y);
void fr_k_clip_i32(int64_t n, const int32_t *x, int32_t lo, int32_t hi,
                   int32_t *y);
void fr_k_clip_i64(int64_t n, const int64_t *x, int64_t lo, int64_t hi,
                   int64_t *y);
void fr_k_clip_u8(int64_t n, const uint8_t *x, uint8_t lo, uint8_t hi,
                  uint8_t *y);
void fr_k_clip_u16(int64_t n, const uint16_t *x, uint16_t lo, uint16_t hi,
                   uint16_t *y);
void fr_k_clip_u32(int64_t n, const uint32_t *x, uint32_t lo, uint32_t hi,
                   uint32_t *y);
void fr_k_clip_u64(int64_t n, const uint64_t *x, uint64_t lo, uint64_t hi,
                   uint64_t *y);

/* y[i] = x[i] is NaN; x[i] is -inf (when neg) or +inf (when pos). */
void fr_k_isnan_f32(int64_t n, const float *x, uint8_t *y);
void fr_k_isnan_f64(int64_t n, const double *x, uint8_t *y);
void fr_k_isinf_f32(int64_t n, const float *x, int neg, int pos, uint8_t *y);
void fr_k_isinf_f64(int64_t n, const double *x, int neg, int pos,
                    uint8_t *y);

/* Broadcasting binaries y = a op c over fr_k_bcast b (y may be a when a is
 * not broadcast). Integer division and modulo by zero give 0; integer
 * arithmetic wraps. */
enum fr_k_binop {
  FR_K_ADD, FR_K_SUB, FR_K_MUL, FR_K_DIV, FR_K_POW,
  FR_K_MOD,   /* result has the divisor's sign (Python %) */
  FR_K_FMOD,  /* result has the dividend's sign (C fmod, %) */
  FR_K_MAX, FR_K_MIN,
  FR_K_PRELU, /* a < 0 ? a c : a */
  FR_K_SHL, FR_K_SHR, FR_K_AND, FR_K_OR, FR_K_XOR, /* integers only */
  FR_K_BINOP_COUNT
};
void fr_k_binary_f32(int op, const fr_k_bcast *b, const float *a,
                     const float *c, float *y);
void fr_k_binary_f64(int op, const fr_k_bcast *b, const double *a,
                     const double *c, double *y);
void fr_k_binary_i8(int op, const fr_k_bcast *b, const int8_t *a,
                    const int8_t *c, int8_t *y);
void fr_k_binary_i16(int op, const fr_k_bcast *b, const int16_t *a,
                     const int16_t *c, int16_t *y);
void fr_k_binary_i32(int op, const fr_k_bcast *b, const int32_t *a,
                     const int32_t *c, int32_t *y);
void fr_k_binary_i64(int op, const fr_k_bcast *b, const int64_t *a,
                     const int64_t *c, int64_t *y);
void fr_k_binary_u8(int op, const fr_k_bcast *b, const uint8_t *a,
                    const uint8_t *c, uint8_t *y);
void fr_k_binary_u16(int op, const fr_k_bcast *b, const uint16_t *a,
                     const uint16_t *c, uint16_t *y);
void fr_k_binary_u32(int op, const fr_k_bcast *b, const uint32_t *a,
                     const uint32_t *c, uint32_t *y);
void fr_k_binary_u64(int op, const fr_k_bcast *b, const uint64_t *a,
                     const uint64_t *c, uint64_t *y);

/* Broadcasting comparisons, y = (a op c) as 0/1 bytes. */
enum fr_k_cmpop { FR_K_EQ, FR_K_GT, FR_K_LT, FR_K_GE, FR_K_LE };
void fr_k_compare_f32(int op, const fr_k_bcast *b, const float *a,
                      const float *c, uint8_t *y);
void fr_k_compare_f64(int op, const fr_k_bcast *b, const double *a,
                      const double *c, uint8_t *y);
void fr_k_compare_i8(int op, const fr_k_bcast *b, const int8_t *a,
                     const int8_t *c, uint8_t *y);
void fr_k_compare_i16(int op, const fr_k_bcast *b, const int16_t *a,
                      const int16_t *c, uint8_t *y);
void fr_k_compare_i32(int op, const fr_k_bcast *b, const int32_t *a,
                      const int32_t *c, uint8_t *y);
void fr_k_compare_i64(int op, const fr_k_bcast *b, const int64_t *a,
                      const int64_t *c, uint8_t *y);
void fr_k_compare_u8(int op, const fr_k_bcast *b, const uint8_t *a,
                     const uint8_t *c, uint8_t *y);
void fr_k_compare_u16(int op, const fr_k_bcast *b, const uint16_t *a,
                      const uint16_t *c, uint8_t *y);
void fr_k_compare_u32(int op, const fr_k_bcast *b, const uint32_t *a,
                      const uint32_t *c, uint8_t *y);
void fr_k_compare_u64(int op, const fr_k_bcast *b, const uint64_t *a,
                      const uint64_t *c, uint8_t *y);

/* out = cond ? x : y over fr_k_bcast3 (operands 0, 1, 2 = cond, x, y), by
 * element size: the bytes are copied. */
void fr_k_where_8(const fr_k_bcast3 *b, const uint8_t *cond, const uint8_t *x,
                  const uint8_t *y, uint8_t *out);
void fr_k_where_16(const fr_k_bcast3 *b, const uint8_t *cond,
                   const uint16_t *x, const uint16_t *y, uint16_t *out);
void fr_k_where_32(const fr_k_bcast3 *b, const uint8_t *cond,
                   const uint32_t *x, const uint32_t *y, uint32_t *out);
void fr_k_where_64(const fr_k_bcast3 *b, const uint8_t *cond,
                   const uint64_t *x, const uint64_t *y, uint64_t *out);

/* Element type conversion of n elements. from/to are ONNX
 * TensorProto.DataType numbers (the fr_dtype values): 1 f32, 2 u8, 3 i8,
 * 4 u16, 5 i16, 6 i32, 7 i64, 9 bool, 10 f16, 11 f64, 12 u32, 13 u64,
 * 16 bf16. Float to integer truncates toward zero (NaN gives 0, values out of
 * the int64 range saturate, then wrap to the narrower type); any nonzero
 * value (NaN too) gives true; floats round to nearest even. Returns 0, or -1
 * for an unsupported type. */
int fr_k_cast(int from, int to, int64_t n, const void *x, void *y);
/* f32 to bf16 by dropping the low 16 bits (NaN stays NaN). */
void fr_k_f32_to_bf16_trunc(int64_t n, const float *x, uint16_t *y);

/* Shorthands kept from the first version: fr_k_binary_f32(FR_K_ADD, ...) and
 * fr_k_unary_f32(FR_K_RELU, ...). */
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
