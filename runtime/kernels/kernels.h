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

#define FR_K_MAX_COPY_RANK (2 * FR_K_MAX_RANK)

/* A strided gather into a dense output (fr_k_strided_copy, tensor.c;
 * shared by several sections): y has rank dims (row-major) and
 * y[i_0, ..., i_r-1] = x[off + sum_d i_d * xs[d]]. Transpose, Slice,
 * Expand, Tile, DepthToSpace and SpaceToDepth are all this copy with
 * different strides (xs may be 0 or negative). */
typedef struct fr_k_strided {
  int rank;
  int64_t dims[FR_K_MAX_COPY_RANK];
  int64_t xs[FR_K_MAX_COPY_RANK];
  int64_t off;
  int64_t esize;
} fr_k_strided;

/* Kernel entries (see runtime/runtime.h, plans) are declared FR_K_ENTRY.
 * In the kernel bitcode (clang) an entry is inlined into every call with
 * all of its callees (flatten), so that each node of a compiled graph gets
 * its own copy of the kernel, specialized for its constant parameter block;
 * frost's own build calls them through pointers. */
#if defined(__clang__)
#define FR_K_ENTRY __attribute__((always_inline, flatten))
#else
#define FR_K_ENTRY
#endif
/* Helpers of kernels with threads (section pool.c). FR_K_SHARED: called
 * by the caller's serial path and by a thread's task. In the kernels'
 * bitcode (FR_K_BITCODE) it is inlined at both, so that the serial copy
 * is specialized for the node as when the entry called the kernel alone
 * (flatten reaches the entry's own calls only); FR_K_INLINE marks what it
 * calls that was inlined before, for the same reason. Built by the C
 * compiler it is one function, never inlined: two copies may fuse
 * multiply-adds differently (GCC fuses across statements), and a thread
 * must compute the caller's bits. */
#if defined(FR_K_BITCODE)
#define FR_K_SHARED inline __attribute__((always_inline))
#define FR_K_INLINE inline __attribute__((always_inline))
#else
#define FR_K_SHARED __attribute__((noinline))
#define FR_K_INLINE
#endif
/* FR_K_GENERIC marks a large kernel function that takes its shapes as
 * arguments from several callers, so that no node's constants specialize
 * it (the blocked GEMM): in the kernels' bitcode it goes into a section
 * the compiler knows, and compiler/llvm/shared.c compiles it once per CPU
 * as shared code instead of into every model, as it does for the tasks
 * handed to fr_k_parallel. */
#if defined(FR_K_BITCODE)
#define FR_K_GENERIC __attribute__((section(".text.frost_generic")))
#else
#define FR_K_GENERIC
#endif

/* FR_K_SCALAR before a loop: a scalar tail that stays scalar. Specialized
 * for a short constant length, clang's vectorizer would make it masked
 * gathers and scatters, slower here than the loop (the split of a row of
 * 24 into its phases took a tenth of a train step). */
#if defined(__clang__)
#define FR_K_SCALAR _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define FR_K_SCALAR
#endif

/* Element types as kernels and entries name them: ONNX's
 * TensorProto.DataType numbers (the same as fr_dtype). */
enum {
  FR_KT_F32 = 1, FR_KT_U8 = 2, FR_KT_I8 = 3, FR_KT_U16 = 4, FR_KT_I16 = 5,
  FR_KT_I32 = 6, FR_KT_I64 = 7, FR_KT_STRING = 8, FR_KT_BOOL = 9,
  FR_KT_F16 = 10, FR_KT_F64 = 11, FR_KT_U32 = 12, FR_KT_U64 = 13,
  FR_KT_BF16 = 16
};

/* c ? a : b computed with bit masks instead of a branch, so that loops of
 * it vectorize without a blend instruction (SSE2) and unrolled copies do
 * not mispredict on data-dependent signs. The value is the ternary's. */
static inline float fr_k_self(int c, float a, float b) {
  union {
    float f;
    uint32_t u;
  } x = {a}, y = {b};
  uint32_t m = 0u - (uint32_t)(c != 0);
  x.u = (x.u & m) | (y.u & ~m);
  return x.f;
}
static inline double fr_k_seld(int c, double a, double b) {
  union {
    double f;
    uint64_t u;
  } x = {a}, y = {b};
  uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
  x.u = (x.u & m) | (y.u & ~m);
  return x.f;
}
/* The same for float and double a and b; a plain ternary otherwise. */
#define FR_K_SEL(c, a, b)                                                    \
  _Generic((a), float: fr_k_self((c), (float)(a), (float)(b)),               \
           double: fr_k_seld((c), (double)(a), (double)(b)),                 \
           default: ((c) ? (a) : (b)))

/* e^x in f32 as plain arithmetic, so loops using it vectorize (libm's expf
 * is a call): x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to
 * r^6, 2^n as two exponent-field floats (n/2 and n - n/2, so results in the
 * subnormal range and up to the overflow threshold stay exact in range).
 * Within 3 ulp of exp; NaN, +-inf and over/underflow as expf. */
static inline float fr_k_expf(float x) {
  const float hi = 88.72283935546875f, lo = -103.972084045410156f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  /* round to nearest by adding and removing 1.5 * 2^23 (no call on any
   * target, unlike rintf without SSE4.1) */
  float fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1;
  p = p * r + 1;
  fn = fn == fn ? fn : 0; /* NaN: p is NaN already; keep the int cast defined */
  int32_t n = (int32_t)fn, n1 = n / 2, n2 = n - n1;
  union {
    uint32_t u;
    float f;
  } s1 = {.u = (uint32_t)(n1 + 127) << 23}, s2 = {.u = (uint32_t)(n2 + 127) << 23};
  float y = p * s1.f * s2.f;
  y = x > hi ? (float)__builtin_inff() : y;
  return x < lo ? 0.0f : y;
}

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
  FR_K_RELU_GRAD, /* c > 0 ? a : 0 (dy and Relu's output; floats only) */
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
/* Entries of the elementwise ops (params and bufs as runtime/runtime.h,
 * plans, describes; dtypes are FR_KT_*). Every entry handles all the element
 * types its op allows: types without a kernel of their own (f16, bf16, and
 * integers for float-only maps) are converted into scratch and back. */

/* Unary maps and IsNaN/IsInf. x is of type dtype; when work != dtype, x is
 * converted to work (f32 for f16/bf16, f64 for integers without an integer
 * kernel) in scratch, mapped there and converted back into y. classify: 0
 * the map op (FR_K_*, parameters a), 1 IsNaN, 2 IsInf (neg, pos), y bool. */
typedef struct fr_k_unary_plan {
  int op, classify, neg, pos;
  int dtype, work;
  int64_t n;
  fr_k_unary_params a;
} fr_k_unary_plan;
/* params fr_k_unary_plan; bufs x, y, scratch (n elements of work when
 * work != dtype). */
FR_K_ENTRY void fr_ke_unary(const void *params, void *const *bufs);

/* Clip: y = min(max(x, lo), hi) over n elements of type dtype (f16/bf16 in
 * f32 through scratch). Each bound: FR_K_BOUND_NONE (the type's extreme),
 * _PARAM (lo/hi hold one element of type dtype), _BUF (the first element of
 * bufs[1] / bufs[2], read at run time). */
enum { FR_K_BOUND_NONE, FR_K_BOUND_PARAM, FR_K_BOUND_BUF };
typedef struct fr_k_clip_plan {
  int dtype, lo_from, hi_from;
  int64_t n;
  unsigned char lo[8], hi[8];
} fr_k_clip_plan;
/* params fr_k_clip_plan; bufs x, min, max, y, scratch (n floats for
 * f16/bf16). */
FR_K_ENTRY void fr_ke_clip(const void *params, void *const *bufs);

/* Broadcasting binaries and comparisons: y = a op c over b, computed in
 * type work. An operand whose type (adtype, cdtype) is not work is first
 * converted into scratch at a_off / c_off (bytes); y, when its type is not
 * work (and not a comparison, whose y is bool), is computed at y_off and
 * converted. na, nc, ny: element counts. cmp: op is an fr_k_cmpop. */
typedef struct fr_k_binary_plan {
  int op, cmp;
  int adtype, cdtype, ydtype, work;
  int64_t na, nc, ny;
  int64_t a_off, c_off, y_off;
  fr_k_bcast b;
} fr_k_binary_plan;
/* params fr_k_binary_plan; bufs a, c, y, scratch. */
FR_K_ENTRY void fr_ke_binary(const void *params, void *const *bufs);

/* Max, Min, Sum, Mean of n_in inputs of type dtype broadcast to y (rank,
 * dims, coalesced; ny elements): y = x0 op x1 op ... (op FR_K_MAX, FR_K_MIN
 * or FR_K_ADD; mean: then divided by n_in). bmask[i], bit d: input i is
 * broadcast along dim d (its strides follow from the dims). f16/bf16
 * accumulate in f32 in scratch: ny floats at 0, then at in_off bytes the
 * first input converted (ny floats), then each other one (ny floats).
 * The params block is sizeof + n_in bytes. */
typedef struct fr_k_variadic_plan {
  int op, mean, dtype, work, n_in, rank;
  int64_t dims[FR_K_MAX_RANK];
  int64_t ny, in_off;
  uint8_t bmask[];
} fr_k_variadic_plan;
/* params fr_k_variadic_plan; bufs x0 ... x(n_in-1), y, scratch. */
FR_K_ENTRY void fr_ke_variadic(const void *params, void *const *bufs);

/* Where: out = cond ? x : y over b, elements of esize bytes (1, 2, 4, 8). */
typedef struct fr_k_where_plan {
  int64_t esize;
  fr_k_bcast3 b;
} fr_k_where_plan;
/* params fr_k_where_plan; bufs cond, x, y, out, scratch. */
FR_K_ENTRY void fr_ke_where(const void *params, void *const *bufs);

/* Cast of n elements from type from to type to (fr_k_cast); bf16_trunc:
 * to bf16 by truncation (through f32 in scratch when from is not f32).
 * y: the slot of y in bufs (1 for Cast, 2 for CastLike). */
typedef struct fr_k_cast_plan {
  int from, to, bf16_trunc, y;
  int64_t n;
} fr_k_cast_plan;
/* params fr_k_cast_plan; bufs x, (CastLike: target_type,) y, scratch (n
 * floats for bf16_trunc from another type than f32). */
FR_K_ENTRY void fr_ke_cast(const void *params, void *const *bufs);
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
/* Entries of the reductions and normalizations (see runtime/runtime.h,
 * plans); dtype: FR_KT_*. */

/* Reduce*: y = reduce(x) of kind over r, x of type dtype (f32, f64, i32,
 * i64); noop (no axes, noop_with_empty_axes): y = x, bytes bytes. */
typedef struct fr_k_reduce_plan {
  int kind, dtype, noop;
  int64_t bytes;
  fr_k_reduce r;
} fr_k_reduce_plan;
/* params fr_k_reduce_plan; bufs x, axes, y, scratch (r.ny doubles for
 * LogSumExp). */
FR_K_ENTRY void fr_ke_reduce(const void *params, void *const *bufs);

/* ArgMax / ArgMin of x (outer, n, inner) of type dtype (f32, f64, i32,
 * i64). */
typedef struct fr_k_argmax_plan {
  int64_t outer, n, inner;
  int dtype, is_min, last;
} fr_k_argmax_plan;
/* params fr_k_argmax_plan; bufs x, y, scratch. */
FR_K_ENTRY void fr_ke_argmax(const void *params, void *const *bufs);

/* Softmax, LogSoftmax, Hardmax (mode) of x (outer, n, inner), f32 or
 * f64. */
typedef struct fr_k_softmax_plan {
  int64_t outer, n, inner;
  int dtype, mode;
} fr_k_softmax_plan;
/* params fr_k_softmax_plan; bufs x, y, scratch (2 inner elements when
 * inner > 1). */
FR_K_ENTRY void fr_ke_softmax(const void *params, void *const *bufs);

/* CumSum of x (outer, n, inner) of type dtype (f32, f64, i32, i64). */
typedef struct fr_k_cumsum_plan {
  int64_t outer, n, inner;
  int dtype, exclusive, reverse;
} fr_k_cumsum_plan;
/* params fr_k_cumsum_plan; bufs x, axis, y, scratch. */
FR_K_ENTRY void fr_ke_cumsum(const void *params, void *const *bufs);

/* TopK of x (outer, n, inner) of type dtype (f32, f64, i32, i64). An
 * omitted output is written to scratch at vals_off / idx_off bytes. */
typedef struct fr_k_topk_plan {
  int64_t outer, n, inner, k;
  int dtype, largest;
  int64_t vals_off, idx_off;
} fr_k_topk_plan;
/* params fr_k_topk_plan; bufs x, K, values, indices, scratch (2 n int64
 * at 0, then the omitted outputs). */
FR_K_ENTRY void fr_ke_topk(const void *params, void *const *bufs);

/* BatchNormalization of x (N, C, S), f32; training: batch statistics and
 * the running ones written to running_mean / running_var (when present). */
typedef struct fr_k_batchnorm_plan {
  int64_t N, C, S;
  float eps, momentum;
  int training;
} fr_k_batchnorm_plan;
/* params fr_k_batchnorm_plan; bufs x, scale, B, mean, var, y,
 * running_mean, running_var, saved_mean, saved_var, scratch (2 C floats
 * when training). */
FR_K_ENTRY void fr_ke_batchnorm_f32(const void *params, void *const *bufs);

/* InstanceNormalization of x (N, C, S), f32. */
typedef struct fr_k_instnorm_plan {
  int64_t N, C, S;
  float eps;
} fr_k_instnorm_plan;
/* params fr_k_instnorm_plan; bufs x, scale, B, y, scratch. */
FR_K_ENTRY void fr_ke_instnorm_f32(const void *params, void *const *bufs);

/* LayerNormalization of x (outer, D), f32. A scale or bias that only
 * broadcasts to the D normalized elements (w_expand, b_expand) is first
 * expanded into scratch by the strided copy we / be. */
typedef struct fr_k_layernorm_plan {
  int64_t outer, D;
  float eps;
  int w_expand, b_expand;
  fr_k_strided we, be;
} fr_k_layernorm_plan;
/* params fr_k_layernorm_plan; bufs x, scale, B, y, mean, invstd, scratch
 * (D floats for the scale, then D for the bias, when expanded). */
FR_K_ENTRY void fr_ke_layernorm_f32(const void *params, void *const *bufs);

/* LRN across the channels of x (N, C, S), f32. */
typedef struct fr_k_lrn_plan {
  int64_t N, C, S, size;
  float alpha, beta, bias;
} fr_k_lrn_plan;
/* params fr_k_lrn_plan; bufs x, y, scratch. */
FR_K_ENTRY void fr_ke_lrn_f32(const void *params, void *const *bufs);

/* MeanVarianceNormalization over the reduced axes of r, f32. */
typedef struct fr_k_mvn_plan {
  fr_k_reduce r;
} fr_k_mvn_plan;
/* params fr_k_mvn_plan; bufs x, y, scratch (2 r.ny floats). */
FR_K_ENTRY void fr_ke_mvn_f32(const void *params, void *const *bufs);
/* end of reduce.c */

/* ---- tensor.c: movement, indexing, shapes ---------------------------- */

/* Element sizes are in bytes (esize); offsets, strides and lengths are in
 * elements unless named *_bytes. The kernels move bytes, so they serve
 * every dtype; string tensors are moved as char* and deep-copied by the
 * glue afterwards. */

/* fr_k_strided: see the top of this file. */
void fr_k_strided_copy(const fr_k_strided *p, const void *x, void *y);

/* Copies rows of row_bytes bytes; row i at x + i*x_pitch to y + i*y_pitch
 * (Concat and Split: the parts are column blocks of (outer, axis*inner)). */
void fr_k_copy_rows(int64_t rows, int64_t row_bytes, const void *x,
                    int64_t x_pitch, void *y, int64_t y_pitch);

/* Fills n elements of y with the element v. */
void fr_k_fill(int64_t n, int64_t esize, const void *v, void *y);

/* Gather along an axis: x (outer, n, inner), idx (k) each in [0, n) or
 * negative (a row of zeros), y (outer, k, inner). */
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
/* The map of fr_k_pad for a padding mode (map: sum of ydims entries). */
enum { FR_K_PADM_CONSTANT, FR_K_PADM_REFLECT, FR_K_PADM_EDGE, FR_K_PADM_WRAP };
void fr_k_pad_map(const fr_k_pad_params *p, int mode, int64_t *map);

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
/* Entries of the movement ops (see runtime/runtime.h, plans). Their ops
 * differ in the number of inputs, so y names the slot of the output. */

/* Identity, Reshape, Flatten, Squeeze, Unsqueeze: y = x, bytes bytes (the
 * plan sets alias: nothing to do when y is placed on x). */
typedef struct fr_k_copy_plan {
  int64_t bytes;
  int y;
} fr_k_copy_plan;
/* params fr_k_copy_plan; bufs x, (shape or axes,) y, scratch. */
FR_K_ENTRY void fr_ke_copy(const void *params, void *const *bufs);

/* Transpose, Slice, Expand, Tile, DepthToSpace, SpaceToDepth: the strided
 * copy s of x into y. */
typedef struct fr_k_strided_plan {
  int y;
  fr_k_strided s;
} fr_k_strided_plan;
/* params fr_k_strided_plan; bufs x, (other inputs,) y, scratch. */
FR_K_ENTRY void fr_ke_strided(const void *params, void *const *bufs);

/* Concat of n inputs along an axis: input i is (outer, len[i] * inner_bytes)
 * bytes, y (outer, pitch). The params block is sizeof + 4 n bytes. */
typedef struct fr_k_concat_plan {
  int64_t outer, inner_bytes, pitch;
  int n;
  uint32_t len[];
} fr_k_concat_plan;
/* params fr_k_concat_plan; bufs x0 ... x(n-1), y, scratch. Large ones are
 * copied on threads, in pieces of 64 KB. */
FR_K_ENTRY void fr_ke_concat(const void *params, void *const *bufs);

/* Split into n outputs along an axis: x (outer, pitch) bytes, output i
 * (outer, len[i] * inner_bytes), at bufs[in_slots + i] (NULL: omitted).
 * The params block is sizeof + 4 n bytes. */
typedef struct fr_k_split_plan {
  int64_t outer, inner_bytes, pitch;
  int n, in_slots;
  uint32_t len[];
} fr_k_split_plan;
/* params fr_k_split_plan; bufs x, (split,) y0 ... y(n-1), scratch. */
FR_K_ENTRY void fr_ke_split(const void *params, void *const *bufs);

/* Pad in a mode (FR_K_PADM_*); the constant: cval (one element), or the
 * first element of bufs[2] when cval_buf. */
typedef struct fr_k_pad_plan {
  fr_k_pad_params p;
  int mode, cval_buf;
  unsigned char cval[16];
} fr_k_pad_plan;
/* params fr_k_pad_plan; bufs data, pads, constant_value, axes, y, scratch
 * (the map: sum of ydims int64). */
FR_K_ENTRY void fr_ke_pad(const void *params, void *const *bufs);

/* Gather along an axis: x (outer, n, inner) of esize bytes, indices (k) of
 * type idx_dtype (FR_KT_*), negative ones counting from the end; an index
 * out of range gives a row of zeros (the plan reports it when the indices
 * are known). y (outer, k, inner). */
typedef struct fr_k_gather_plan {
  int64_t outer, n, k, inner, esize;
  int idx_dtype;
} fr_k_gather_plan;
/* params fr_k_gather_plan; bufs x, indices, y, scratch (k int64). */
FR_K_ENTRY void fr_ke_gather(const void *params, void *const *bufs);
/* end of tensor.c */

/* ---- window geometry shared by nn.c, gemm.c and nn_grad.c ----------- */

static inline int64_t fr_k_min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t fr_k_max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Outputs o in [lo, hi) of a row whose input o * s + off lies in [0, n). */
static inline void fr_k_valid_range(int64_t s, int64_t off, int64_t n,
                                    int64_t nout, int64_t *lo, int64_t *hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = n - 1 - off >= 0 ? (n - 1 - off) / s + 1 : 0;
  *lo = fr_k_min64(l, nout);
  *hi = fr_k_max64(fr_k_min64(h, nout), *lo);
}

/* The window walk of pooling: the taps t in [*t0, *t1) of a kernel of k
 * taps (stride s, dilation d) at output o whose input o * s - pad + t * d
 * lies in [lo, hi). */
static inline void fr_k_taps(int64_t o, int64_t s, int64_t pad, int64_t d,
                             int64_t k, int64_t lo, int64_t hi, int64_t *t0,
                             int64_t *t1) {
  fr_k_valid_range(d, o * s - pad - lo, hi - lo, k, t0, t1);
}

/* ---- optim.c: optimizer updates over flat arrays ------------------------ */

enum { FR_K_OPT_SGD, FR_K_OPT_ADAM, FR_K_OPT_ADAMW };
typedef struct fr_k_optim {
  int kind;           /* FR_K_OPT_* */
  float lr;
  float weight_decay; /* SGD, Adam: added to the gradient; AdamW: decoupled */
  float momentum;     /* SGD */
  int nesterov;       /* SGD */
  float beta1, beta2, eps; /* Adam, AdamW */
  int64_t step;       /* 1 for the first update (bias correction, SGD's
                         first momentum) */
} fr_k_optim;
/* One update of n parameters w (n) from their gradient g (n); s0 and s1
 * are the state slots (SGD with momentum: s0, the momentum buffer; Adam:
 * s0, s1, the moments), unused ones may be NULL. */
void fr_k_optim_step(const fr_k_optim *o, int64_t n, float *restrict w,
                     const float *restrict g, float *restrict s0,
                     float *restrict s1);
/* sum x[i]^2 in double (gradient norms). */
double fr_k_sum_squares(int64_t n, const float *x);
void fr_k_scale(int64_t n, float *x, float s);

/* ---- nn.c, gemm.c: conv, pool, gemm, matmul, resize ------------------ */

/* The fused epilogue of Conv, Gemm and MatMul, applied to each block of
 * outputs as soon as it is final (the GEMM micro-kernel's tiles, the rows
 * of the small-matrix paths, the planes of the depthwise conv):
 *     y = post(act(y + cbias[j] + res))
 * post: none, or Max / Min with a constant c, spelled as the binary
 * kernel spells Max(y, c) / Min(y, c) (NaN wins);
 * cbias: NULL or one value per column (MatMul's bias, Gemm's C row);
 * res: NULL or a tensor of y's layout, which must not overlap y. */
enum {
  FR_K_EPI_NONE,
  FR_K_EPI_RELU,
  FR_K_EPI_LEAKY_RELU,   /* x < 0 ? a x : x */
  FR_K_EPI_CLIP,         /* min(max(x, a), b) */
  FR_K_EPI_HARD_SIGMOID, /* max(0, min(1, a x + b)) */
  FR_K_EPI_HARD_SWISH,
  FR_K_EPI_SIGMOID,
  FR_K_EPI_TANH,
  FR_K_EPI_COUNT
};
enum {
  FR_K_EPI_POST_NONE,
  FR_K_EPI_POST_MAX, /* max(x, c) */
  FR_K_EPI_POST_MIN, /* min(x, c) */
  FR_K_EPI_POST_COUNT
};
typedef struct fr_k_epi {
  int act; /* FR_K_EPI_* */
  float a, b;
  int post; /* FR_K_EPI_POST_* */
  float c;
} fr_k_epi;
/* y[j] = act(y[j] + cb[j] + res[j]) for j < n (cb, res may be NULL); the
 * activations compute as the unary kernels of the same ops. */
void fr_k_epi_f32(const fr_k_epi *e, int64_t n, float *y, const float *cb,
                  const float *res);

/* gemm.c: C (M, N) = epi(alpha * A (M, K) * B (K, N) + beta * C + bias (M)).
 * A(i, k) = A[i * rsa + k * csa], B(k, j) = B[k * rsb + j * csb] (so a
 * transposed operand is just swapped strides), C(i, j) = C[i * ldc + j].
 * beta 0: C is not read. bias: NULL or one value per row. The epilogue
 * (epi, cbias, res with R(i, j) = res[i * ldr + j]) is off when all are
 * zero. */
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
  fr_k_epi epi;
  const float *cbias, *res;
  int64_t ldr;
} fr_k_gemm;
/* Scratch floats fr_k_sgemm needs for these sizes (packed panels; 0 for
 * the paths that do not pack). */
size_t fr_k_sgemm_scratch(int64_t M, int64_t N, int64_t K);
void fr_k_sgemm(const fr_k_gemm *g, float *scratch);
/* Entries of Gemm (see runtime/runtime.h, plans). Y (M, N) = epi(alpha *
 * A * B + C'): C' is beta * C broadcast to (M, N), taken (by c_mode) as
 * a per-column bias (C (N) or (1, N) with beta 1), a per-row bias (C (M,
 * 1) with beta 1), or filled into Y first (other shapes); none without C
 * or with beta 0. C's shape is (cm, cn). */
enum { FR_K_GEMM_C_NONE, FR_K_GEMM_C_COL, FR_K_GEMM_C_ROW, FR_K_GEMM_C_FILL };
typedef struct fr_k_gemm_plan {
  int64_t M, N, K, rsa, csa, rsb, csb;
  float alpha, beta;
  int c_mode;
  int64_t cm, cn;
  fr_k_epi epi;
} fr_k_gemm_plan;
/* params fr_k_gemm_plan (epi none); bufs A, B, C, Y, scratch
 * (fr_k_sgemm_scratch floats). */
FR_K_ENTRY void fr_ke_gemm_f32(const void *params, void *const *bufs);
/* params fr_k_gemm_plan; bufs A, B, C, residual (or NULL), Y, scratch. */
FR_K_ENTRY void fr_ke_gemm_fused_f32(const void *params, void *const *bufs);
/* MatMul (numpy): batches of (M, K) x (K, N) products; batch t reads A
 * and B at the element offsets of fr_k_matmul_offsets (bdims, sa, sb over
 * brank batch dims; sa/sb 0 where broadcast) and writes Y at t M N. fold:
 * B is shared and A's batches are folded into M (one tall GEMM). */
typedef struct fr_k_matmul_plan {
  int64_t M, N, K;
  int64_t batches;
  int brank, fold;
  int64_t bdims[FR_K_MAX_RANK];
  int64_t sa[FR_K_MAX_RANK], sb[FR_K_MAX_RANK];
  fr_k_epi epi;
} fr_k_matmul_plan;
void fr_k_matmul_offsets(const fr_k_matmul_plan *p, int64_t t, int64_t *oa,
                         int64_t *ob);
/* params fr_k_matmul_plan (epi none); bufs A, B, Y, scratch
 * (fr_k_sgemm_scratch floats). */
FR_K_ENTRY void fr_ke_matmul_f32(const void *params, void *const *bufs);
/* Y = epi(A * B + bias + residual): bias NULL or (N), added to every row
 * (MatMul followed by Add); residual NULL or of Y's shape.
 * params fr_k_matmul_plan; bufs A, B, bias, residual, Y, scratch. */
FR_K_ENTRY void fr_ke_matmul_fused_f32(const void *params, void *const *bufs);

/* A convolution, its spatial dims always given as 3 (D, H, W): a 2-D conv
 * has D = 1 (in, out, k 1; stride, dil 1; pad 0), a 1-D conv also H = 1.
 * x (N, C, ID, IH, IW), w (M, C/group, KD, KH, KW), y (N, M, OD, OH, OW).
 * pad: the padding before each dim (the end padding follows from out). */
typedef struct fr_k_conv {
  int64_t N, C, M, group;
  int64_t in[3], out[3], k[3], stride[3], dil[3], pad[3];
  fr_k_epi epi; /* fused epilogue (zeros: none) */
  /* 0, or the images (1 or N) of a per-channel scale xs (xscale, C) the
   * conv applies to its input first: conv(x * xs) (a squeeze-excite Mul
   * fused into the next conv; fr_k_conv_scaled_f32) */
  int64_t xscale;
} fr_k_conv;
size_t fr_k_conv_scratch(const fr_k_conv *p); /* floats */
/* y = epi(conv(x, w) + bias) (bias NULL or (M)). */
void fr_k_conv_f32(const fr_k_conv *p, const float *x, const float *w,
                   const float *bias, float *y, float *scratch);
/* y = epi(conv(x, w) + bias + res) (res NULL or of y's shape). Depthwise
 * convs go to fr_k_dwconv_f32; 2-D convs of few taps per output (C * KH *
 * KW <= 32, one group, not 1x1, width stride 1 or 2: a stem on an RGB
 * image) to a direct loop; the rest to the implicit GEMM,
 * fr_k_conv_gemm_res_f32 (any conv but depthwise, the same scratch). */
void fr_k_conv_res_f32(const fr_k_conv *p, const float *x, const float *w,
                       const float *bias, const float *res, float *y,
                       float *scratch);
void fr_k_conv_gemm_res_f32(const fr_k_conv *p, const float *x,
                            const float *w, const float *bias,
                            const float *res, float *y, float *scratch);
/* fr_k_conv_res_f32 of x scaled per channel by xs (p->xscale, C), the
 * same bits as x * xs computed first (the binary kernel's Mul): pointwise
 * convs scale the rows of B as they pack it, the others read a scaled
 * copy of x in scratch. */
void fr_k_conv_scaled_f32(const fr_k_conv *p, const float *x, const float *xs,
                          const float *w, const float *bias, const float *res,
                          float *y, float *scratch);
/* Entry (see runtime.h, plans): params fr_k_conv; bufs x, w, bias, y,
 * scratch (fr_k_conv_scratch floats). */
FR_K_ENTRY void fr_ke_conv_f32(const void *params, void *const *bufs);
/* Fused: params fr_k_conv (with epi and xscale); bufs x, w, bias, residual
 * (or NULL), input scale (or NULL), y, scratch. */
FR_K_ENTRY void fr_ke_conv_fused_f32(const void *params, void *const *bufs);
/* Transposed convolution: x (N, C, in...), w (C, M/group, k...),
 * y (N, M, out...); pad is the output cropping at the start of each dim. */
size_t fr_k_convtranspose_scratch(const fr_k_conv *p); /* floats */
void fr_k_convtranspose_f32(const fr_k_conv *p, const float *x,
                            const float *w, const float *bias, float *y,
                            float *scratch);
/* Its col2im step: y[ix * sw] += c[ix] for ix in [lo, hi) (a fast path
 * for sw 2, the same bits as the plain loop). */
void fr_k_col_add_f32(float *y, const float *c, int64_t lo, int64_t hi,
                      int64_t sw);
/* C (M, N) = (acc ? C : 0) + sum over b < nb of A_b (M, K) B_b (N, K)^T,
 * A_b = A + b sa with rows lda apart, B_b = B + b sb, rows ldb apart: a
 * product along a long shared K (a weight gradient's pixels), by tiles of
 * vector dot products, on threads over tiles (gemm.c). */
void fr_k_dot_nt_f32(int64_t M, int64_t N, int64_t K, int64_t nb, const float *A,
                     int64_t lda, int64_t sa, const float *B, int64_t ldb,
                     int64_t sb, float *C, int64_t ldc, int acc);
/* d[i] = s[2 i] for i < n (gemm.c, by vector shuffles). */
void fr_k_gather2_f32(float *d, const float *s, int64_t n);
/* A row of n floats split into its even and odd phases (e gets the last
 * when n is odd), and back (gemm.c, by vector shuffles). */
void fr_k_unzip2_f32(const float *x, int64_t n, float *e, float *o);
void fr_k_zip2_f32(const float *e, const float *o, int64_t n, float *y);
/* Whether a depthwise conv's planes are small enough (rows under a
 * vector) to go across channel lanes (its shape only), and its dW for
 * channels [c0, c1) that way (dw (C, KH * KW)). */
int fr_k_dw_lanes_ok(const fr_k_conv *p);
void fr_k_dw_grad_lanes_f32(const fr_k_conv *p, const float *x, const float *dy,
                            float *dw, int64_t c0, int64_t c1);
/* n windows of a 2x2 maximum pooling's gradient: the window j of input
 * rows r0, r1 (columns 2 j, 2 j + 1) takes d[j] at its first maximum in
 * row order (g0, g1: its gradient rows), 0 elsewhere; by vectors. */
void fr_k_maxpool2_grad_row_f32(int64_t n, const float *r0, const float *r1,
                                const float *d, float *g0, float *g1);
/* params fr_k_conv; bufs x, w, bias, y, scratch
 * (fr_k_convtranspose_scratch floats). */
FR_K_ENTRY void fr_ke_convtranspose_f32(const void *params, void *const *bufs);
/* gemm.c: depthwise (group == C == M, KD == 1, KH <= 16) convolution, with
 * the epilogue p->epi and res (NULL or of y's shape). 3x3 with dilation 1
 * and width stride 1 or 2 take a fast path (rows read in place at strides
 * (1, 1) and (2, 2) with one padding, the rest by zero-padded bands; the
 * nine weights and the epilogue in registers); the rest, or all with
 * _any, the general one. The two add the same products in the same order
 * (the fast path adds a padded tap's w * 0). */
void fr_k_dwconv_f32(const fr_k_conv *p, const float *x, const float *w,
                     const float *bias, const float *res, float *y);
void fr_k_dwconv_any_f32(const fr_k_conv *p, const float *x, const float *w,
                         const float *bias, const float *res, float *y);
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
/* Whether the windows are 2-D tiles side by side inside the input (stride
 * = kernel, no pads, no dilation, depth 1, as 2x2 stride 2): each input
 * is in one window at most. */
int fr_k_pool_tiles(const fr_k_pool *p);
/* Max pooling, the reference loop, of dtype FR_KT_F32, FR_KT_U8 or
 * FR_KT_I8 data; idx (or NULL): the flat input index of each maximum
 * (col_major: the index counts with the spatial dims reversed, ONNX
 * storage_order 1). */
void fr_k_maxpool_ref(const fr_k_pool *p, int dtype, const void *x, void *y,
                      int64_t *idx, int col_major);
/* y[pl] = mean (avg) or max of x[pl * n .. pl * n + n). */
void fr_k_global_pool_f32(int64_t planes, int64_t n, const float *x,
                          float *y, int avg);
/* Entries of pooling (see runtime/runtime.h, plans). MaxPool, AveragePool,
 * LpPool: p over x of type dtype (f32; u8/i8 for max pooling); with_idx:
 * MaxPool's indices too (col_major: storage_order 1). */
typedef struct fr_k_pool_plan {
  fr_k_pool p;
  int dtype, with_idx, col_major;
} fr_k_pool_plan;
/* params fr_k_pool_plan; bufs x, y, (indices,) scratch. */
FR_K_ENTRY void fr_ke_pool(const void *params, void *const *bufs);
/* GlobalAveragePool (avg), GlobalMaxPool over planes planes of n. */
typedef struct fr_k_global_pool_plan {
  int64_t planes, n;
  int avg;
} fr_k_global_pool_plan;
/* params fr_k_global_pool_plan; bufs x, y, scratch. */
FR_K_ENTRY void fr_ke_global_pool_f32(const void *params, void *const *bufs);
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
/* The separable path, for nearest and linear (2 taps) taps inside the
 * input whose leading dims, all but the last two, keep their size and
 * index: each output row blends at most two input rows resized along W
 * (rows: scratch of 2 * out[rank-1] floats). Same values as
 * fr_k_resize_f32, but for a tap of weight 0 on an inf or NaN. */
int fr_k_resize_sep_ok(const fr_k_resize *r);
void fr_k_resize_sep_f32(const fr_k_resize *r, const float *x, float *y,
                         float *rows);
/* Entry of Resize and Upsample: the taps of each dim d (ntap per output
 * index) are made in scratch, then y = resize(x) (when run: not for an
 * empty x with a non-empty y, which stays zero). y: its slot in bufs. */
typedef struct fr_k_resize_plan {
  int rank, ntap, y, run;
  float extrapolation;
  fr_k_resize_dim d[FR_K_MAX_RANK];
} fr_k_resize_plan;
/* params fr_k_resize_plan; bufs X, (roi, scales, sizes | scales,) Y,
 * scratch (sum of d[i].out * ntap int64 indices, then as many floats,
 * then 2 * d[rank-1].out floats for fr_k_resize_sep_f32). */
FR_K_ENTRY void fr_ke_resize_f32(const void *params, void *const *bufs);
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

/* ---- nn_grad.c: the backward kernels of conv, pooling and gather ------ */

/* The kernels of frost's gradient ops (frost.ConvGradWeight,
 * frost.MaxPoolGrad, frost.AveragePoolGrad, frost.GatherGrad), which the
 * autodiff pass builds: each writes its whole output (zeroed first where
 * it accumulates), so a plan needs no zeroed buffer. */

/* dW of a convolution of fr_k_conv's geometry (epi unused): dw (M, C/group,
 * KD, KH, KW) = sum over the images and output pixels of dy (N, M, OD, OH,
 * OW) times the input x (N, C, ID, IH, IW) that each tap read (0 in the
 * padding). */
size_t fr_k_conv_grad_weight_scratch(const fr_k_conv *p); /* floats */
void fr_k_conv_grad_weight_f32(const fr_k_conv *p, const float *x,
                               const float *dy, float *dw, float *scratch);
/* params fr_k_conv; bufs x, dy, dw, scratch
 * (fr_k_conv_grad_weight_scratch floats). */
FR_K_ENTRY void fr_ke_conv_grad_weight_f32(const void *params,
                                           void *const *bufs);
/* Max pooling's dx (planes, ID, IH, IW): each dy element goes to the input
 * element its window took the maximum of (the first one on ties, as
 * fr_k_pool_f32 and fr_k_maxpool_ref pick it), summed where windows
 * overlap; x is the forward's input. */
void fr_k_maxpool_grad_f32(const fr_k_pool *p, const float *dy,
                           const float *x, float *dx);
/* Average pooling's dx: each dy element divided by its window's count (as
 * fr_k_pool_f32 counts) and added to every input element of the window. */
void fr_k_avgpool_grad_f32(const fr_k_pool *p, const float *dy, float *dx);
/* params fr_k_pool; bufs dy, x, dx, scratch. */
FR_K_ENTRY void fr_ke_maxpool_grad_f32(const void *params, void *const *bufs);
/* params fr_k_pool (with count_include_pad); bufs dy, dx, scratch. */
FR_K_ENTRY void fr_ke_avgpool_grad_f32(const void *params, void *const *bufs);
/* Gather's dx (outer, n, inner) = 0, then dx[o, idx[j], i] += dy[o, j, i]
 * for j < k: repeated indices add up; negative ones count from n, others
 * outside [0, n) are skipped. idx int64, or int32 when idx32. */
typedef struct fr_k_gather_grad_plan {
  int64_t outer, n, k, inner;
  int idx32;
} fr_k_gather_grad_plan;
void fr_k_gather_grad_f32(const fr_k_gather_grad_plan *p, const float *dy,
                          const void *idx, float *dx);
/* params fr_k_gather_grad_plan; bufs dy, indices, dx, scratch. */
FR_K_ENTRY void fr_ke_gather_grad_f32(const void *params, void *const *bufs);
/* The scale and bias gradients of a BatchNormalization in inference form
 * over x (N, C, S) with output gradient dy: out[c] = sum(dy (x - mean[c]))
 * / sqrt(var[c] + eps), out[C + c] = sum(dy), per channel, in one pass
 * (channels on threads; each sums in one order whatever their count). */
typedef struct fr_k_bn_grad_plan {
  int64_t N, C, S;
  float eps;
} fr_k_bn_grad_plan;
void fr_k_bn_grad_f32(const fr_k_bn_grad_plan *p, const float *dy,
                      const float *x, const float *mean, const float *var,
                      float *out);
/* params fr_k_bn_grad_plan; bufs dy, x, mean, var, out, scratch. */
FR_K_ENTRY void fr_ke_bn_grad_f32(const void *params, void *const *bufs);
/* Relu's then an inference BatchNormalization's backward in one pass: g
 * = y > 0 ? dy : 0, dx = g scale[c] (dy, y, x, dx (N, C, S)); stats (3,
 * C): sum(g (x - mean)) / sqrt(var + eps), sum(g), sum(dx). Threads over
 * channels. */
void fr_k_relu_bn_grad_f32(const fr_k_bn_grad_plan *p, const float *dy,
                           const float *y, const float *x, const float *scale,
                           const float *mean, const float *var, float *dx,
                           float *stats);
/* params fr_k_bn_grad_plan; bufs dy, y, x, scale, mean, var, dx, stats,
 * scratch. */
FR_K_ENTRY void fr_ke_relu_bn_grad_f32(const void *params, void *const *bufs);
/* end of nn_grad.c */

/* ---- ctrl.c: recurrent nets, signal processing, misc ----------------- */

/* The x86-64 level these kernels were compiled for, from the compiler's
 * target macros: 1 (baseline), 2, 3 (AVX2, FMA) or 4 (AVX-512); 0 on
 * another architecture. frost's own build takes -march=native without
 * AVX-512 unless FROST_NATIVE is off (frost --version prints it). */
int fr_k_isa_level(void);

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
/* ONNX's Adagrad, Adam and Momentum (ai.onnx.preview.training) as one
 * entry: bufs = R (f32 or f64 scalar), T (int64 scalar), then X, G, (V),
 * H for each of k tensors, then the outputs (X_new..., V_new..., H_new...,
 * NULL when omitted), then scratch for the omitted ones. */
enum { FR_K_OPTIM_MAX = 64 };
enum { FR_K_ONNX_ADAGRAD, FR_K_ONNX_ADAM, FR_K_ONNX_MOMENTUM };
typedef struct fr_k_onnx_optim_plan {
  int op;       /* FR_K_ONNX_* */
  int k;        /* tensors */
  int n_in, n_out;
  int r_f64;    /* R is a double */
  int nesterov; /* Momentum's mode */
  float alpha, beta, norm, norm_post, eps, decay;
  int64_t count[FR_K_OPTIM_MAX];
} fr_k_onnx_optim_plan;
FR_K_ENTRY void fr_ke_onnx_optim(const void *params, void *const *bufs);
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

/* ---- pool.c: the threads of the kernels ------------------------------ */

/* pool.c is not kernel code: it is left out of the kernels' bitcode and
 * linked next to it (frost_kernels in frost; the C API's bitcode in every
 * artifact), since threads are started by the process, not inlined.
 *
 * Kernels run on up to fr_k_threads() threads: the caller and workers
 * started at the first parallel call and kept (joined at exit). A kernel
 * cuts its outputs into n units (tiles, images, planes, rows) and calls
 * fr_k_parallel; the pool gives each thread one contiguous range of
 * units. Units partition the outputs and never a sum, so every output
 * element is computed by the same operations in the same order whatever
 * the thread count: results are the same bits with 1 thread or 64. */
enum { FR_K_MAX_THREADS = 256 };
/* A range [lo, hi) of a kernel's units; scratch: bytes of the thread's
 * own (see fr_k_parallel). */
typedef void fr_k_task(void *ctx, int64_t lo, int64_t hi, void *scratch);
/* The threads kernels use: fr_k_set_threads's, else $FROST_THREADS, else
 * the processors it may run on. */
int fr_k_threads(void);
/* From now on n threads (1: serial; capped at FR_K_MAX_THREADS), or the
 * default when n < 1. Not while a parallel call runs in another thread. */
void fr_k_set_threads(int n);
/* Runs fn over units [0, n) cut into min(n, fr_k_threads()) ranges of
 * sizes differing by at most 1, range i on thread i (the caller takes
 * range 0 with scratch `own`; each worker gets `bytes` of its own,
 * 64-byte aligned, or NULL when bytes is 0), and returns when all are
 * done. One call fn(ctx, 0, n, own) instead with 1 thread, for n < 2,
 * when the workers or their scratch cannot be had, and inside another
 * parallel call (a nested one, or one from another thread meanwhile). */
void fr_k_parallel(int64_t n, fr_k_task *fn, void *ctx, void *own,
                   size_t bytes);
/* Whether this thread is inside fr_k_parallel's fn (a worker, or the
 * caller on its range): a kernel called there runs serially. */
int fr_k_nested(void);
/* Where threads cut a tensor of rank dims: the outermost dim with more
 * than one index (the dims before it are 1; the last one when none is),
 * its index in *d, and how many elements one of its indices spans
 * (the product of the dims after it); returns all the elements. */
static inline int64_t fr_k_cut_dim(int rank, const int64_t *dims, int *d,
                                   int64_t *inner) {
  int64_t total = 1;
  *d = 0;
  *inner = 1;
  for (int e = 0; e < rank; e++) total *= dims[e];
  while (*d < rank - 1 && dims[*d] == 1) ++*d;
  for (int e = *d + 1; e < rank; e++) *inner *= dims[e];
  return total;
}
/* Whether work of `ops` multiply-adds (or element operations) is worth
 * the threads: a parallel call costs a few microseconds. */
#define FR_K_PAR_MIN_OPS ((int64_t)1 << 17)
static inline int fr_k_par_worth(int64_t ops) {
  return ops >= FR_K_PAR_MIN_OPS && fr_k_threads() > 1;
}
/* end of pool.c */

#endif
