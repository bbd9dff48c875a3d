/* elementwise.c: elementwise kernels - unary maps and activations, clip,
 * broadcasting binaries and comparisons, where, and element type casts.
 *
 * Kernels for many element types are stamped out by macros (one body per
 * family), each op a separate plain loop selected by a switch outside the
 * loop, so a specialized build folds the switch and vectorizes the loop. */
#include <math.h>
#include <string.h>

#include "kernels.h"

/* ---- broadcast iteration -------------------------------------------- */

/* One row of a broadcast walk: n elements, operand strides 0 or 1 get their
 * own loop (contiguous or a hoisted scalar), others the general one. */
#define ROW2(n, oa, ob, oy, sa, sb, BODY)                                     \
  do {                                                                        \
    if (sa == 1 && sb == 1) {                                                 \
      for (int64_t i_ = 0; i_ < n; i_++) {                                    \
        int64_t ia = oa + i_, ib = ob + i_, iy = oy + i_;                     \
        BODY;                                                                 \
      }                                                                       \
    } else if (sa == 1 && sb == 0) {                                          \
      for (int64_t i_ = 0; i_ < n; i_++) {                                    \
        int64_t ia = oa + i_, ib = ob, iy = oy + i_;                          \
        BODY;                                                                 \
      }                                                                       \
    } else if (sa == 0 && sb == 1) {                                          \
      for (int64_t i_ = 0; i_ < n; i_++) {                                    \
        int64_t ia = oa, ib = ob + i_, iy = oy + i_;                          \
        BODY;                                                                 \
      }                                                                       \
    } else {                                                                  \
      for (int64_t i_ = 0; i_ < n; i_++) {                                    \
        int64_t ia = oa + i_ * sa, ib = ob + i_ * sb, iy = oy + i_;           \
        BODY;                                                                 \
      }                                                                       \
    }                                                                         \
  } while (0)

/* Walks out's index space in row-major order; BODY sees the flat indices
 * ia, ib (operands) and iy (output). */
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
      ROW2(inner_, oa_, ob_, oy_, sa_, sb_, BODY);                            \
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

/* Whether the second operand of a broadcast walk is one element, read
 * at least once (the output is not empty). */
static inline int bcast_b_scalar(const fr_k_bcast *b) {
  for (int d = 0; d < b->rank; d++)
    if (b->dims[d] == 0 || (b->sb[d] != 0 && b->dims[d] != 1)) return 0;
  return 1;
}

/* ---- unary maps: floats ------------------------------------------------ */

#define MF32(fn) fn##f
#define MF64(fn) fn

/* LeakyRelu and HardSwish select with FR_K_SEL: compilers vectorize the
 * other activations' ternaries (as max, min or a mask), not these. */

/* log(1 + e^x) without overflow for large x. */
#define SOFTPLUS(M, T, v)                                                     \
  ((v) > 0 ? (v) + M(log1p)(M(exp)(-(v))) : M(log1p)(M(exp)(v)))

#define UNARY_FLOAT(SFX, T, M, EXP)                                              \
  void fr_k_unary_##SFX(int op, const fr_k_unary_params *p, int64_t n,        \
                        const T *x, T *y) {                                   \
    const T al = (T)p->alpha, be = (T)p->beta, ga = (T)p->gamma;              \
    switch (op) {                                                             \
    case FR_K_ABS: for (int64_t i = 0; i < n; i++) y[i] = M(fabs)(x[i]); break; \
    case FR_K_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;       \
    case FR_K_SQRT: for (int64_t i = 0; i < n; i++) y[i] = M(sqrt)(x[i]); break; \
    case FR_K_EXP: for (int64_t i = 0; i < n; i++) y[i] = EXP(x[i]); break;   \
    case FR_K_LOG: for (int64_t i = 0; i < n; i++) y[i] = M(log)(x[i]); break; \
    case FR_K_RECIPROCAL:                                                     \
      for (int64_t i = 0; i < n; i++) y[i] = (T)1 / x[i];                     \
      break;                                                                  \
    case FR_K_FLOOR: for (int64_t i = 0; i < n; i++) y[i] = M(floor)(x[i]); break; \
    case FR_K_CEIL: for (int64_t i = 0; i < n; i++) y[i] = M(ceil)(x[i]); break; \
    case FR_K_ROUND: for (int64_t i = 0; i < n; i++) y[i] = M(rint)(x[i]); break; \
    case FR_K_SIGN:                                                           \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = x[i] > 0 ? (T)1 : x[i] < 0 ? (T)-1 : x[i];                     \
      break;                                                                  \
    case FR_K_SIN: for (int64_t i = 0; i < n; i++) y[i] = M(sin)(x[i]); break; \
    case FR_K_COS: for (int64_t i = 0; i < n; i++) y[i] = M(cos)(x[i]); break; \
    case FR_K_TAN: for (int64_t i = 0; i < n; i++) y[i] = M(tan)(x[i]); break; \
    case FR_K_ASIN: for (int64_t i = 0; i < n; i++) y[i] = M(asin)(x[i]); break; \
    case FR_K_ACOS: for (int64_t i = 0; i < n; i++) y[i] = M(acos)(x[i]); break; \
    case FR_K_ATAN: for (int64_t i = 0; i < n; i++) y[i] = M(atan)(x[i]); break; \
    case FR_K_SINH: for (int64_t i = 0; i < n; i++) y[i] = M(sinh)(x[i]); break; \
    case FR_K_COSH: for (int64_t i = 0; i < n; i++) y[i] = M(cosh)(x[i]); break; \
    case FR_K_ASINH: for (int64_t i = 0; i < n; i++) y[i] = M(asinh)(x[i]); break; \
    case FR_K_ACOSH: for (int64_t i = 0; i < n; i++) y[i] = M(acosh)(x[i]); break; \
    case FR_K_ATANH: for (int64_t i = 0; i < n; i++) y[i] = M(atanh)(x[i]); break; \
    case FR_K_ERF: for (int64_t i = 0; i < n; i++) y[i] = M(erf)(x[i]); break; \
    case FR_K_TANH: for (int64_t i = 0; i < n; i++) y[i] = M(tanh)(x[i]); break; \
    case FR_K_RELU:                                                           \
      for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (T)0;          \
      break;                                                                  \
    case FR_K_LEAKYRELU:                                                      \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = FR_K_SEL(x[i] < 0, al * x[i], x[i]);                           \
      break;                                                                  \
    case FR_K_ELU:                                                            \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = x[i] < 0 ? al * (EXP(x[i]) - 1) : x[i];                        \
      break;                                                                  \
    case FR_K_SELU:                                                           \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = ga * (x[i] <= 0 ? al * (EXP(x[i]) - 1) : x[i]);                \
      break;                                                                  \
    case FR_K_CELU:                                                           \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = x[i] > 0 ? x[i] : al * (EXP(x[i] / al) - 1);                   \
      break;                                                                  \
    case FR_K_SIGMOID:                                                        \
      for (int64_t i = 0; i < n; i++) y[i] = 1 / (1 + EXP(-x[i]));            \
      break;                                                                  \
    case FR_K_HARDSIGMOID:                                                    \
      for (int64_t i = 0; i < n; i++) {                                       \
        T v = al * x[i] + be;                                                 \
        v = v > 0 ? v : 0;                                                    \
        y[i] = v < 1 ? v : 1;                                                 \
      }                                                                       \
      break;                                                                  \
    case FR_K_HARDSWISH:                                                      \
      for (int64_t i = 0; i < n; i++) {                                       \
        T v = x[i] * (T)(1.0 / 6) + (T)0.5;                                   \
        v = FR_K_SEL(v > 0, v, (T)0);                                         \
        y[i] = x[i] * FR_K_SEL(v < 1, v, (T)1);                               \
      }                                                                       \
      break;                                                                  \
    case FR_K_SOFTPLUS:                                                       \
      for (int64_t i = 0; i < n; i++) y[i] = SOFTPLUS(M, T, x[i]);            \
      break;                                                                  \
    case FR_K_SOFTSIGN:                                                       \
      for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1 + M(fabs)(x[i]));      \
      break;                                                                  \
    case FR_K_THRESHOLDEDRELU:                                                \
      for (int64_t i = 0; i < n; i++) y[i] = x[i] > al ? x[i] : (T)0;         \
      break;                                                                  \
    case FR_K_SHRINK:                                                         \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = x[i] < -al ? x[i] + be : x[i] > al ? x[i] - be : (T)0;         \
      break;                                                                  \
    case FR_K_MISH:                                                           \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = x[i] * M(tanh)(SOFTPLUS(M, T, x[i]));                          \
      break;                                                                  \
    default: break;                                                           \
    }                                                                         \
  }

UNARY_FLOAT(f32, float, MF32, fr_k_expf)
UNARY_FLOAT(f64, double, MF64, exp)

/* ---- unary maps: integers ---------------------------------------------- */

/* T: element type, W: unsigned type arithmetic wraps in (no promotion to
 * int), S: 1 when signed. LT0 is written so unsigned types draw no
 * always-false warning. */
static inline int lt0(int64_t v) { return v < 0; }
#define LT0(S, v) ((S) && lt0((int64_t)(v)))

#define UNARY_INT(SFX, T, W, S)                                               \
  void fr_k_unary_##SFX(int op, int64_t n, const T *x, T *y) {                \
    switch (op) {                                                             \
    case FR_K_ABS:                                                            \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = LT0(S, x[i]) ? (T)(0u - (W)x[i]) : x[i];                       \
      break;                                                                  \
    case FR_K_NEG:                                                            \
      for (int64_t i = 0; i < n; i++) y[i] = (T)(0u - (W)x[i]);               \
      break;                                                                  \
    case FR_K_SIGN:                                                           \
      for (int64_t i = 0; i < n; i++)                                         \
        y[i] = LT0(S, x[i]) ? (T)-1 : x[i] ? (T)1 : (T)0;                     \
      break;                                                                  \
    case FR_K_RELU:                                                           \
      for (int64_t i = 0; i < n; i++) y[i] = LT0(S, x[i]) ? (T)0 : x[i];      \
      break;                                                                  \
    case FR_K_NOT: for (int64_t i = 0; i < n; i++) y[i] = (T)~x[i]; break;    \
    case FR_K_LNOT: for (int64_t i = 0; i < n; i++) y[i] = !x[i]; break;      \
    default: break;                                                           \
    }                                                                         \
  }

UNARY_INT(i8, int8_t, unsigned, 1)
UNARY_INT(i16, int16_t, unsigned, 1)
UNARY_INT(i32, int32_t, unsigned, 1)
UNARY_INT(i64, int64_t, uint64_t, 1)
UNARY_INT(u8, uint8_t, unsigned, 0)
UNARY_INT(u16, uint16_t, unsigned, 0)
UNARY_INT(u32, uint32_t, unsigned, 0)
UNARY_INT(u64, uint64_t, uint64_t, 0)

/* ---- clip ---------------------------------------------------------------- */

#define CLIP(SFX, T)                                                          \
  void fr_k_clip_##SFX(int64_t n, const T *x, T lo, T hi, T *y) {             \
    for (int64_t i = 0; i < n; i++) {                                         \
      T v = x[i] < lo ? lo : x[i];                                            \
      y[i] = v > hi ? hi : v;                                                 \
    }                                                                         \
  }

CLIP(f32, float)
CLIP(f64, double)
CLIP(i8, int8_t)
CLIP(i16, int16_t)
CLIP(i32, int32_t)
CLIP(i64, int64_t)
CLIP(u8, uint8_t)
CLIP(u16, uint16_t)
CLIP(u32, uint32_t)
CLIP(u64, uint64_t)

/* ---- IsNaN, IsInf -------------------------------------------------------- */

#define CLASSIFY(SFX, T)                                                      \
  void fr_k_isnan_##SFX(int64_t n, const T *x, uint8_t *y) {                  \
    for (int64_t i = 0; i < n; i++) y[i] = x[i] != x[i];                      \
  }                                                                           \
  void fr_k_isinf_##SFX(int64_t n, const T *x, int neg, int pos,             \
                        uint8_t *y) {                                         \
    for (int64_t i = 0; i < n; i++)                                           \
      y[i] = (pos && x[i] == (T)INFINITY) || (neg && x[i] == -(T)INFINITY);   \
  }

CLASSIFY(f32, float)
CLASSIFY(f64, double)

/* ---- binaries: floats ---------------------------------------------------- */

/* pymod: a mod c with the sign of c (Python's %). */
#define BINARY_FLOAT(SFX, T, M)                                               \
  static inline T pymod_##SFX(T a, T c) {                                     \
    T r = M(fmod)(a, c);                                                      \
    return (r != 0 && ((r < 0) != (c < 0))) ? r + c : r;                      \
  }                                                                           \
  void fr_k_binary_##SFX(int op, const fr_k_bcast *b, const T *a,            \
                         const T *c, T *y) {                                  \
    switch (op) {                                                             \
    case FR_K_ADD: BCAST_LOOP(b, y[iy] = a[ia] + c[ib]); break;               \
    case FR_K_SUB: BCAST_LOOP(b, y[iy] = a[ia] - c[ib]); break;               \
    case FR_K_MUL: BCAST_LOOP(b, y[iy] = a[ia] * c[ib]); break;               \
    case FR_K_DIV: BCAST_LOOP(b, y[iy] = a[ia] / c[ib]); break;               \
    case FR_K_POW: /* x^2 (a power spectrum) is x*x: the same value; a    \
                    * scalar 2 in a loop of its own, which vectorizes */      \
      if (bcast_b_scalar(b) && c[0] == 2)                                     \
        BCAST_LOOP(b, ((void)ib, y[iy] = a[ia] * a[ia]));                     \
      else                                                                    \
        BCAST_LOOP(b, y[iy] = c[ib] == 2 ? a[ia] * a[ia] : M(pow)(a[ia], c[ib])); \
      break;                                                                  \
    case FR_K_MOD: BCAST_LOOP(b, y[iy] = pymod_##SFX(a[ia], c[ib])); break;   \
    case FR_K_FMOD: BCAST_LOOP(b, y[iy] = M(fmod)(a[ia], c[ib])); break;      \
    case FR_K_MAX: /* NaN wins */                                             \
      BCAST_LOOP(b, y[iy] = (a[ia] > c[ib] || a[ia] != a[ia]) ? a[ia] : c[ib]); \
      break;                                                                  \
    case FR_K_MIN:                                                            \
      BCAST_LOOP(b, y[iy] = (a[ia] < c[ib] || a[ia] != a[ia]) ? a[ia] : c[ib]); \
      break;                                                                  \
    case FR_K_PRELU:                                                          \
      BCAST_LOOP(b, y[iy] = a[ia] < 0 ? a[ia] * c[ib] : a[ia]);               \
      break;                                                                  \
    case FR_K_RELU_GRAD:                                                      \
      BCAST_LOOP(b, y[iy] = c[ib] > 0 ? a[ia] : (T)0);                        \
      break;                                                                  \
    default: break;                                                           \
    }                                                                         \
  }

BINARY_FLOAT(f32, float, MF32)
BINARY_FLOAT(f64, double, MF64)

/* ---- binaries: integers -------------------------------------------------- */

#define BITS(T) ((int)(sizeof(T) * 8))

/* Helpers guard the cases C leaves undefined: division by zero (gives 0),
 * the most negative value divided by -1 (wraps), shifts by the width or
 * more (give 0), negative integer powers (0 unless |a| is 1). */
#define INT_HELPERS(SFX, T, W, S)                                             \
  static inline T idiv_##SFX(T a, T c) {                                      \
    if (c == 0) return 0;                                                     \
    if (S && c == (T)-1) return (T)(0u - (W)a);                               \
    return (T)(a / c);                                                        \
  }                                                                           \
  static inline T ifmod_##SFX(T a, T c) {                                     \
    if (c == 0 || (S && c == (T)-1)) return 0;                                \
    return (T)(a % c);                                                        \
  }                                                                           \
  static inline T imod_##SFX(T a, T c) {                                      \
    T r = ifmod_##SFX(a, c);                                                  \
    if (r != 0 && LT0(S, r) != LT0(S, c)) r = (T)((W)r + (W)c);               \
    return r;                                                                 \
  }                                                                           \
  static inline T ipow_##SFX(T a, T c) {                                      \
    if (LT0(S, c)) {                                                          \
      if (a == 1) return 1;                                                   \
      if (S && a == (T)-1) return ((W)c & 1) ? a : (T)1;                      \
      return 0;                                                               \
    }                                                                         \
    W r = 1, base = (W)a;                                                     \
    for (uint64_t e = (uint64_t)c; e; e >>= 1) {                              \
      if (e & 1) r = (W)(r * base);                                           \
      base = (W)(base * base);                                                \
    }                                                                         \
    return (T)r;                                                              \
  }                                                                           \
  static inline T ishl_##SFX(T a, T c) {                                      \
    return (LT0(S, c) || (uint64_t)c >= (uint64_t)BITS(T))                    \
               ? (T)0                                                         \
               : (T)((W)a << c);                                              \
  }                                                                           \
  static inline T ishr_##SFX(T a, T c) {                                      \
    return (LT0(S, c) || (uint64_t)c >= (uint64_t)BITS(T))                    \
               ? (T)0                                                         \
               : (T)((W)(T)a >> c);                                           \
  }

#define BINARY_INT(SFX, T, W, S)                                              \
  INT_HELPERS(SFX, T, W, S)                                                   \
  void fr_k_binary_##SFX(int op, const fr_k_bcast *b, const T *a,            \
                         const T *c, T *y) {                                  \
    switch (op) {                                                             \
    case FR_K_ADD: BCAST_LOOP(b, y[iy] = (T)((W)a[ia] + (W)c[ib])); break;    \
    case FR_K_SUB: BCAST_LOOP(b, y[iy] = (T)((W)a[ia] - (W)c[ib])); break;    \
    case FR_K_MUL: BCAST_LOOP(b, y[iy] = (T)((W)a[ia] * (W)c[ib])); break;    \
    case FR_K_DIV: BCAST_LOOP(b, y[iy] = idiv_##SFX(a[ia], c[ib])); break;    \
    case FR_K_POW: BCAST_LOOP(b, y[iy] = ipow_##SFX(a[ia], c[ib])); break;    \
    case FR_K_MOD: BCAST_LOOP(b, y[iy] = imod_##SFX(a[ia], c[ib])); break;    \
    case FR_K_FMOD: BCAST_LOOP(b, y[iy] = ifmod_##SFX(a[ia], c[ib])); break;  \
    case FR_K_MAX: BCAST_LOOP(b, y[iy] = a[ia] > c[ib] ? a[ia] : c[ib]); break; \
    case FR_K_MIN: BCAST_LOOP(b, y[iy] = a[ia] < c[ib] ? a[ia] : c[ib]); break; \
    case FR_K_PRELU:                                                          \
      BCAST_LOOP(b, y[iy] = LT0(S, a[ia]) ? (T)((W)a[ia] * (W)c[ib]) : a[ia]); \
      break;                                                                  \
    case FR_K_SHL: BCAST_LOOP(b, y[iy] = ishl_##SFX(a[ia], c[ib])); break;    \
    case FR_K_SHR: BCAST_LOOP(b, y[iy] = ishr_##SFX(a[ia], c[ib])); break;    \
    case FR_K_AND: BCAST_LOOP(b, y[iy] = (T)(a[ia] & c[ib])); break;          \
    case FR_K_OR: BCAST_LOOP(b, y[iy] = (T)(a[ia] | c[ib])); break;           \
    case FR_K_XOR: BCAST_LOOP(b, y[iy] = (T)(a[ia] ^ c[ib])); break;          \
    default: break;                                                           \
    }                                                                         \
  }

BINARY_INT(i8, int8_t, unsigned, 1)
BINARY_INT(i16, int16_t, unsigned, 1)
BINARY_INT(i32, int32_t, unsigned, 1)
BINARY_INT(i64, int64_t, uint64_t, 1)
BINARY_INT(u8, uint8_t, unsigned, 0)
BINARY_INT(u16, uint16_t, unsigned, 0)
BINARY_INT(u32, uint32_t, unsigned, 0)
BINARY_INT(u64, uint64_t, uint64_t, 0)

/* ---- comparisons ----------------------------------------------------------- */

#define COMPARE(SFX, T)                                                       \
  void fr_k_compare_##SFX(int op, const fr_k_bcast *b, const T *a,           \
                          const T *c, uint8_t *y) {                           \
    switch (op) {                                                             \
    case FR_K_EQ: BCAST_LOOP(b, y[iy] = a[ia] == c[ib]); break;               \
    case FR_K_GT: BCAST_LOOP(b, y[iy] = a[ia] > c[ib]); break;                \
    case FR_K_LT: BCAST_LOOP(b, y[iy] = a[ia] < c[ib]); break;                \
    case FR_K_GE: BCAST_LOOP(b, y[iy] = a[ia] >= c[ib]); break;               \
    case FR_K_LE: BCAST_LOOP(b, y[iy] = a[ia] <= c[ib]); break;               \
    default: break;                                                           \
    }                                                                         \
  }

COMPARE(f32, float)
COMPARE(f64, double)
COMPARE(i8, int8_t)
COMPARE(i16, int16_t)
COMPARE(i32, int32_t)
COMPARE(i64, int64_t)
COMPARE(u8, uint8_t)
COMPARE(u16, uint16_t)
COMPARE(u32, uint32_t)
COMPARE(u64, uint64_t)

/* ---- where --------------------------------------------------------------- */

#define WHERE(BITS_, T)                                                       \
  void fr_k_where_##BITS_(const fr_k_bcast3 *b, const uint8_t *cond,         \
                          const T *x, const T *y, T *out) {                   \
    int r = b->rank;                                                          \
    int64_t idx[FR_K_MAX_RANK] = {0};                                         \
    int64_t inner = r ? b->dims[r - 1] : 1, outer = 1;                        \
    int64_t s0 = r ? b->s[0][r - 1] : 0, s1 = r ? b->s[1][r - 1] : 0,         \
            s2 = r ? b->s[2][r - 1] : 0;                                      \
    for (int d = 0; d < r - 1; d++) outer *= b->dims[d];                      \
    if (inner == 0) outer = 0;                                                \
    int64_t o0 = 0, o1 = 0, o2 = 0, oy = 0;                                   \
    for (int64_t o = 0; o < outer; o++) {                                     \
      if (s0 == 1 && s1 == 1 && s2 == 1) {                                    \
        for (int64_t i = 0; i < inner; i++) { /* loads first: a select */     \
          T xv = x[o1 + i], yv = y[o2 + i];                                   \
          out[oy + i] = cond[o0 + i] ? xv : yv;                               \
        }                                                                     \
      } else {                                                                \
        for (int64_t i = 0; i < inner; i++) {                                 \
          T xv = x[o1 + i * s1], yv = y[o2 + i * s2];                         \
          out[oy + i] = cond[o0 + i * s0] ? xv : yv;                          \
        }                                                                     \
      }                                                                       \
      oy += inner;                                                            \
      for (int d = r - 2; d >= 0; d--) {                                      \
        o0 += b->s[0][d];                                                     \
        o1 += b->s[1][d];                                                     \
        o2 += b->s[2][d];                                                     \
        if (++idx[d] < b->dims[d]) break;                                     \
        o0 -= b->s[0][d] * b->dims[d];                                        \
        o1 -= b->s[1][d] * b->dims[d];                                        \
        o2 -= b->s[2][d] * b->dims[d];                                        \
        idx[d] = 0;                                                           \
      }                                                                       \
    }                                                                         \
  }

WHERE(8, uint8_t)
WHERE(16, uint16_t)
WHERE(32, uint32_t)
WHERE(64, uint64_t)

/* ---- casts ----------------------------------------------------------------- */

/* Half precision (IEEE binary16) to float: exact. */
static inline float h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
  if (e == 0) { /* zero or subnormal: m * 2^-24 */
    float f = (float)m * 0x1p-24f;
    return sign ? -f : f;
  }
  if (e == 31) bits = sign | 0x7f800000u | (m << 13);
  else bits = sign | ((e + 112) << 23) | (m << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* Float to half, rounding to nearest even; NaN stays (quiet) NaN. */
static inline uint16_t f2h(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00 | ((ax >> 13) & 0x3ff));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* >= 65520 */
  if (ax < 0x38800000u) { /* below 2^-14: subnormal (or zero) half */
    /* Adding 0.5 makes the float's unit 2^-24, the half's subnormal step,
     * so the float addition does the rounding. */
    float a, s;
    memcpy(&a, &ax, 4);
    s = a + 0.5f;
    uint32_t sb;
    memcpy(&sb, &s, 4);
    return (uint16_t)(sign | (sb - 0x3f000000u));
  }
  uint32_t r = ax - 0x38000000u; /* rebias the exponent 127 -> 15 */
  return (uint16_t)(sign | ((r + 0xfffu + ((r >> 13) & 1)) >> 13));
}

static inline float bh2f(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline uint16_t f2bh(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

/* Float to int64: truncation, NaN -> 0, saturating. */
static inline int64_t d2i(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

static inline uint64_t d2u(double v) {
  if (v >= 18446744073709551615.0) return UINT64_MAX;
  if (v >= 9223372036854775807.0) return (uint64_t)v;
  return (uint64_t)d2i(v);
}

/* Stores v (float, double or an integer) as type T. */
#define TO_INT(T, v) ((T)_Generic((v), float: d2i(v), double: d2i(v), default: (v)))
#define TO_U64(v) ((uint64_t)_Generic((v), float: d2u(v), double: d2u(v), default: (v)))

/* Loads of each source type. */
#define LD_PLAIN(v) (v)
#define LD_H(v) h2f(v)
#define LD_BH(v) bh2f(v)
#define LD_BOOL(v) ((uint8_t)((v) != 0))

#define CAST_LOOP(TD, EXPR)                                                   \
  do {                                                                        \
    TD *o_ = y;                                                               \
    for (int64_t i = 0; i < n; i++) o_[i] = EXPR;                             \
  } while (0)

/* One function per source type, switching on the destination type. */
#define CAST_FROM(SFX, TS, LD)                                                \
  static int cast_from_##SFX(int to, int64_t n, const TS *x, void *y) {       \
    switch (to) {                                                             \
    case 1: CAST_LOOP(float, (float)LD(x[i])); break;                         \
    case 2: CAST_LOOP(uint8_t, TO_INT(uint8_t, LD(x[i]))); break;             \
    case 3: CAST_LOOP(int8_t, TO_INT(int8_t, LD(x[i]))); break;               \
    case 4: CAST_LOOP(uint16_t, TO_INT(uint16_t, LD(x[i]))); break;           \
    case 5: CAST_LOOP(int16_t, TO_INT(int16_t, LD(x[i]))); break;             \
    case 6: CAST_LOOP(int32_t, TO_INT(int32_t, LD(x[i]))); break;             \
    case 7: CAST_LOOP(int64_t, TO_INT(int64_t, LD(x[i]))); break;             \
    case 9: CAST_LOOP(uint8_t, (uint8_t)(LD(x[i]) != 0)); break;              \
    case 10: CAST_LOOP(uint16_t, f2h((float)LD(x[i]))); break;                \
    case 11: CAST_LOOP(double, (double)LD(x[i])); break;                      \
    case 12: CAST_LOOP(uint32_t, TO_INT(uint32_t, LD(x[i]))); break;          \
    case 13: CAST_LOOP(uint64_t, TO_U64(LD(x[i]))); break;                    \
    case 16: CAST_LOOP(uint16_t, f2bh((float)LD(x[i]))); break;               \
    default: return -1;                                                       \
    }                                                                         \
    return 0;                                                                 \
  }

CAST_FROM(f32, float, LD_PLAIN)
CAST_FROM(u8, uint8_t, LD_PLAIN)
CAST_FROM(i8, int8_t, LD_PLAIN)
CAST_FROM(u16, uint16_t, LD_PLAIN)
CAST_FROM(i16, int16_t, LD_PLAIN)
CAST_FROM(i32, int32_t, LD_PLAIN)
CAST_FROM(i64, int64_t, LD_PLAIN)
CAST_FROM(bool, uint8_t, LD_BOOL)
CAST_FROM(f16, uint16_t, LD_H)
CAST_FROM(f64, double, LD_PLAIN)
CAST_FROM(u32, uint32_t, LD_PLAIN)
CAST_FROM(u64, uint64_t, LD_PLAIN)
CAST_FROM(bf16, uint16_t, LD_BH)

int fr_k_cast(int from, int to, int64_t n, const void *x, void *y) {
  switch (from) {
  case 1: return cast_from_f32(to, n, x, y);
  case 2: return cast_from_u8(to, n, x, y);
  case 3: return cast_from_i8(to, n, x, y);
  case 4: return cast_from_u16(to, n, x, y);
  case 5: return cast_from_i16(to, n, x, y);
  case 6: return cast_from_i32(to, n, x, y);
  case 7: return cast_from_i64(to, n, x, y);
  case 9: return cast_from_bool(to, n, x, y);
  case 10: return cast_from_f16(to, n, x, y);
  case 11: return cast_from_f64(to, n, x, y);
  case 12: return cast_from_u32(to, n, x, y);
  case 13: return cast_from_u64(to, n, x, y);
  case 16: return cast_from_bf16(to, n, x, y);
  default: return -1;
  }
}

void fr_k_f32_to_bf16_trunc(int64_t n, const float *x, uint16_t *y) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t b;
    memcpy(&b, &x[i], 4);
    if ((b & 0x7fffffffu) > 0x7f800000u) b |= 0x400000u; /* keep NaN */
    y[i] = (uint16_t)(b >> 16);
  }
}

/* ---- shorthands ------------------------------------------------------------ */

void fr_k_add_f32(const fr_k_bcast *b, const float *a, const float *c,
                  float *y) {
  fr_k_binary_f32(FR_K_ADD, b, a, c, y);
}

void fr_k_relu_f32(int64_t n, const float *x, float *y) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

/* ---- threads -------------------------------------------------------------- */

/* Element i of an op depends on element i of its operands alone, so long
 * ops run on threads, each over whole blocks of PAR_BLOCK elements (whole
 * vectors, as on one thread). Short ones stay on the caller's.
 * Not in the kernels' bitcode (FR_K_BITCODE: --specialize and artifacts):
 * a thread's task is called through a pointer, so it cannot be
 * specialized, and its generic code for every type and op would cost
 * every compiled graph seconds of LLVM time. There elementwise ops run on
 * one thread, to the same bits. */
#if defined(FR_K_BITCODE)
enum { FLAT_THREADS = 0 };
#else
enum { FLAT_THREADS = 1 };
#endif
enum { PAR_BLOCK = 1024, FLAT_BUFS = 6 };

static int64_t kt_size(int t);

/* An entry over n elements (the int64_t at n_off in its plan) on threads:
 * each thread runs the entry itself on its blocks, with n changed and
 * each buffer i moved by esize[i] bytes an element (0: left alone); being
 * inside a parallel call, the entry then runs them serially. */
typedef struct flat_job {
  void (*entry)(const void *params, void *const *b);
  const void *params;
  size_t psize, n_off;
  void *const *b;
  int64_t n, esize[FLAT_BUFS];
} flat_job;

static void flat_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const flat_job *j = ctx;
  int64_t a = lo * PAR_BLOCK, m = fr_k_min64(hi * PAR_BLOCK, j->n) - a;
  union {
    fr_k_unary_plan u;
    fr_k_clip_plan c;
    fr_k_cast_plan k;
  } plan;
  memcpy(&plan, j->params, j->psize);
  memcpy((char *)&plan + j->n_off, &m, sizeof m);
  void *b[FLAT_BUFS];
  for (int i = 0; i < FLAT_BUFS; i++)
    b[i] = j->esize[i] ? (char *)j->b[i] + a * j->esize[i] : j->b[i];
  j->entry(&plan, b);
}

/* Runs j on threads when long enough; false: the caller runs it. */
static int flat_par(const flat_job *j) {
  if (!FLAT_THREADS || fr_k_nested() || !fr_k_par_worth(j->n)) return 0;
  fr_k_parallel((j->n + PAR_BLOCK - 1) / PAR_BLOCK, flat_task, (void *)j, NULL, 0);
  return 1;
}

/* ---- entries --------------------------------------------------------------- */

/* Unary map of n elements of type dt (FR_KT_*) with a kernel for it. */
static void unary_typed(const fr_k_unary_plan *p, int dt, const void *x,
                        void *y) {
  int op = p->op;
  int64_t n = p->n;
  switch (dt) {
  case FR_KT_F32: fr_k_unary_f32(op, &p->a, n, x, y); break;
  case FR_KT_F64: fr_k_unary_f64(op, &p->a, n, x, y); break;
  case FR_KT_I8: fr_k_unary_i8(op, n, x, y); break;
  case FR_KT_I16: fr_k_unary_i16(op, n, x, y); break;
  case FR_KT_I32: fr_k_unary_i32(op, n, x, y); break;
  case FR_KT_I64: fr_k_unary_i64(op, n, x, y); break;
  case FR_KT_U8:
  case FR_KT_BOOL: fr_k_unary_u8(op, n, x, y); break;
  case FR_KT_U16: fr_k_unary_u16(op, n, x, y); break;
  case FR_KT_U32: fr_k_unary_u32(op, n, x, y); break;
  case FR_KT_U64: fr_k_unary_u64(op, n, x, y); break;
  default: break;
  }
}

void fr_ke_unary(const void *params, void *const *b) {
  const fr_k_unary_plan *p = params;
  flat_job j = {fr_ke_unary, p, sizeof *p, offsetof(fr_k_unary_plan, n), b, p->n,
                {kt_size(p->dtype), p->classify ? 1 : kt_size(p->dtype),
                 p->work != p->dtype ? kt_size(p->work) : 0}};
  if (flat_par(&j)) return;
  const void *x = b[0];
  void *y = b[1];
  if (p->work != p->dtype) {
    fr_k_cast(p->dtype, p->work, p->n, x, b[2]);
    x = b[2];
  }
  if (p->classify) { /* work is f32 or f64 */
    if (p->work == FR_KT_F32) {
      if (p->classify == 1) fr_k_isnan_f32(p->n, x, y);
      else fr_k_isinf_f32(p->n, x, p->neg, p->pos, y);
    } else {
      if (p->classify == 1) fr_k_isnan_f64(p->n, x, y);
      else fr_k_isinf_f64(p->n, x, p->neg, p->pos, y);
    }
    return;
  }
  if (p->work == p->dtype) {
    unary_typed(p, p->dtype, x, y);
    return;
  }
  unary_typed(p, p->work, x, b[2]);
  fr_k_cast(p->work, p->dtype, p->n, b[2], y);
}

/* The bound of a clip as type T: from params, from a buffer, or dflt. */
#define CLIP_BOUND(T, from, pv, buf, dflt)                                    \
  ((from) == FR_K_BOUND_PARAM ? *(const T *)(const void *)(pv)                \
   : (from) == FR_K_BOUND_BUF ? *(const T *)(buf)                             \
                              : (dflt))

#define CLIP_ENTRY_CASE(DT, SFX, T, LO, HI)                                   \
  case DT:                                                                    \
    fr_k_clip_##SFX(p->n, b[0], CLIP_BOUND(T, p->lo_from, p->lo, b[1], LO),   \
                    CLIP_BOUND(T, p->hi_from, p->hi, b[2], HI), b[3]);        \
    break;

void fr_ke_clip(const void *params, void *const *b) {
  const fr_k_clip_plan *p = params;
  int f16 = p->dtype == FR_KT_F16 || p->dtype == FR_KT_BF16;
  flat_job j = {fr_ke_clip, p, sizeof *p, offsetof(fr_k_clip_plan, n), b, p->n,
                {kt_size(p->dtype), 0, 0, kt_size(p->dtype), f16 ? 4 : 0}};
  if (flat_par(&j)) return;
  switch (p->dtype) {
  CLIP_ENTRY_CASE(FR_KT_F32, f32, float, -INFINITY, INFINITY)
  CLIP_ENTRY_CASE(FR_KT_F64, f64, double, -INFINITY, INFINITY)
  CLIP_ENTRY_CASE(FR_KT_I8, i8, int8_t, INT8_MIN, INT8_MAX)
  CLIP_ENTRY_CASE(FR_KT_I16, i16, int16_t, INT16_MIN, INT16_MAX)
  CLIP_ENTRY_CASE(FR_KT_I32, i32, int32_t, INT32_MIN, INT32_MAX)
  CLIP_ENTRY_CASE(FR_KT_I64, i64, int64_t, INT64_MIN, INT64_MAX)
  CLIP_ENTRY_CASE(FR_KT_U8, u8, uint8_t, 0, UINT8_MAX)
  CLIP_ENTRY_CASE(FR_KT_U16, u16, uint16_t, 0, UINT16_MAX)
  CLIP_ENTRY_CASE(FR_KT_U32, u32, uint32_t, 0, UINT32_MAX)
  CLIP_ENTRY_CASE(FR_KT_U64, u64, uint64_t, 0, UINT64_MAX)
  case FR_KT_F16:
  case FR_KT_BF16: {
    /* bounds and data in f32 */
    float lo = -INFINITY, hi = INFINITY;
    if (p->lo_from != FR_K_BOUND_NONE)
      fr_k_cast(p->dtype, FR_KT_F32, 1,
                p->lo_from == FR_K_BOUND_PARAM ? (const void *)p->lo : b[1], &lo);
    if (p->hi_from != FR_K_BOUND_NONE)
      fr_k_cast(p->dtype, FR_KT_F32, 1,
                p->hi_from == FR_K_BOUND_PARAM ? (const void *)p->hi : b[2], &hi);
    float *t = b[4];
    fr_k_cast(p->dtype, FR_KT_F32, p->n, b[0], t);
    fr_k_clip_f32(p->n, t, lo, hi, t);
    fr_k_cast(FR_KT_F32, p->dtype, p->n, t, b[3]);
    break;
  }
  default: break;
  }
}

#define BIN_ENTRY_CASE(DT, SFX)                                               \
  case DT:                                                                    \
    if (cmp) fr_k_compare_##SFX(op, bc, a, c, y);                             \
    else fr_k_binary_##SFX(op, bc, a, c, y);                                  \
    break;

/* y = a op c for operands of type dt (FR_KT_*) with a kernel. */
static FR_K_SHARED void binary_typed(int op, int cmp, int dt, const fr_k_bcast *bc,
                         const void *a, const void *c, void *y) {
  switch (dt) {
  BIN_ENTRY_CASE(FR_KT_F32, f32)
  BIN_ENTRY_CASE(FR_KT_F64, f64)
  BIN_ENTRY_CASE(FR_KT_I8, i8)
  BIN_ENTRY_CASE(FR_KT_I16, i16)
  BIN_ENTRY_CASE(FR_KT_I32, i32)
  BIN_ENTRY_CASE(FR_KT_I64, i64)
  BIN_ENTRY_CASE(FR_KT_U8, u8)
  BIN_ENTRY_CASE(FR_KT_BOOL, u8)
  BIN_ENTRY_CASE(FR_KT_U16, u16)
  BIN_ENTRY_CASE(FR_KT_U32, u32)
  BIN_ENTRY_CASE(FR_KT_U64, u64)
  default: break;
  }
}

/* binary_typed on threads: out's outermost dim of more than one index
 * (those before it are 1) is cut into ranges, each a broadcast walk of its
 * own (the last dim in blocks of PAR_BLOCK). */
typedef struct binary_job {
  int op, cmp, dt;
  const fr_k_bcast *bc;
  const char *a, *c;
  char *y;
  int d;
  int64_t unit, inner;
} binary_job;

static void binary_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const binary_job *j = ctx;
  fr_k_bcast sub = *j->bc;
  const int d = j->d;
  int64_t i0 = lo * j->unit, i1 = fr_k_min64(hi * j->unit, sub.dims[d]);
  sub.dims[d] = i1 - i0;
  int64_t es = kt_size(j->dt), ys = j->cmp ? 1 : es;
  binary_typed(j->op, j->cmp, j->dt, &sub, j->a + i0 * sub.sa[d] * es,
               j->c + i0 * sub.sb[d] * es, j->y + i0 * j->inner * ys);
}

/* y = a op c, on threads when long enough. */
static FR_K_INLINE void binary_par(int op, int cmp, int dt, const fr_k_bcast *bc,
                                   const void *a, const void *c, void *y) {
  int d;
  int64_t inner, ny = fr_k_cut_dim(bc->rank, bc->dims, &d, &inner);
  if (!FLAT_THREADS || bc->rank == 0 || !fr_k_par_worth(ny)) {
    binary_typed(op, cmp, dt, bc, a, c, y);
    return;
  }
  binary_job j = {op,  cmp, dt, bc, a, c, y,
                  d,   d == bc->rank - 1 ? PAR_BLOCK : 1, inner};
  fr_k_parallel((bc->dims[d] + j.unit - 1) / j.unit, binary_task, &j, NULL, 0);
}

void fr_ke_binary(const void *params, void *const *b) {
  const fr_k_binary_plan *p = params;
  const void *a = b[0], *c = b[1];
  void *y = b[2];
  char *s = b[3];
  if (p->adtype != p->work) {
    fr_k_cast(p->adtype, p->work, p->na, a, s + p->a_off);
    a = s + p->a_off;
  }
  if (p->cdtype != p->work) {
    fr_k_cast(p->cdtype, p->work, p->nc, c, s + p->c_off);
    c = s + p->c_off;
  }
  if (p->cmp || p->ydtype == p->work) {
    binary_par(p->op, p->cmp, p->work, &p->b, a, c, y);
    return;
  }
  binary_par(p->op, 0, p->work, &p->b, a, c, s + p->y_off);
  fr_k_cast(p->work, p->ydtype, p->ny, s + p->y_off, y);
}

/* Strides (in elements) over dims of an operand broadcast along the dims
 * set in mask, dense elsewhere; returns its element count. */
static int64_t mask_strides(int rank, const int64_t *dims, unsigned mask,
                            int64_t *s) {
  int64_t k = 1;
  for (int d = rank - 1; d >= 0; d--) {
    if (mask >> d & 1) {
      s[d] = 0;
    } else {
      s[d] = k;
      k *= dims[d];
    }
  }
  return k;
}

static int64_t kt_size(int t) {
  switch (t) {
  case FR_KT_U8: case FR_KT_I8: case FR_KT_BOOL: return 1;
  case FR_KT_U16: case FR_KT_I16: case FR_KT_F16: case FR_KT_BF16: return 2;
  case FR_KT_F32: case FR_KT_I32: case FR_KT_U32: return 4;
  default: return 8;
  }
}

void fr_ke_variadic(const void *params, void *const *b) {
  const fr_k_variadic_plan *p = params;
  void *y = b[p->n_in];
  char *s = b[p->n_in + 1];
  fr_k_bcast bc = {.rank = p->rank};
  for (int d = 0; d < p->rank; d++) bc.dims[d] = p->dims[d];
  if (p->n_in == 1) {
    memcpy(y, b[0], (size_t)(p->ny * kt_size(p->dtype)));
    return;
  }
  /* acc: y itself, or ny floats of scratch for f16/bf16 */
  void *acc = p->work == p->dtype ? y : (void *)s;
  for (int i = 1; i < p->n_in; i++) {
    const void *a = acc, *c = b[i];
    if (i == 1) {
      a = b[0];
      int64_t na = mask_strides(p->rank, p->dims, p->bmask[0], bc.sa);
      if (p->work != p->dtype) {
        fr_k_cast(p->dtype, p->work, na, a, s + p->in_off);
        a = s + p->in_off;
      }
    } else {
      mask_strides(p->rank, p->dims, 0, bc.sa);
    }
    int64_t nc = mask_strides(p->rank, p->dims, p->bmask[i], bc.sb);
    if (p->work != p->dtype) {
      char *t = s + p->in_off + p->ny * (int64_t)sizeof(float);
      fr_k_cast(p->dtype, p->work, nc, c, t);
      c = t;
    }
    binary_typed(p->op, 0, p->work, &bc, a, c, acc);
  }
  if (p->mean) {
    if (p->work == FR_KT_F64) {
      double *a = acc, cnt = p->n_in;
      for (int64_t j = 0; j < p->ny; j++) a[j] = a[j] / cnt;
    } else {
      float *a = acc, cnt = (float)p->n_in;
      for (int64_t j = 0; j < p->ny; j++) a[j] = a[j] / cnt;
    }
  }
  if (acc != y) fr_k_cast(p->work, p->dtype, p->ny, acc, y);
}

void fr_ke_where(const void *params, void *const *b) {
  const fr_k_where_plan *p = params;
  switch (p->esize) {
  case 1: fr_k_where_8(&p->b, b[0], b[1], b[2], b[3]); break;
  case 2: fr_k_where_16(&p->b, b[0], b[1], b[2], b[3]); break;
  case 4: fr_k_where_32(&p->b, b[0], b[1], b[2], b[3]); break;
  case 8: fr_k_where_64(&p->b, b[0], b[1], b[2], b[3]); break;
  default: break;
  }
}

void fr_ke_cast(const void *params, void *const *b) {
  const fr_k_cast_plan *p = params;
  flat_job j = {fr_ke_cast, p, sizeof *p, offsetof(fr_k_cast_plan, n), b, p->n, {0}};
  j.esize[0] = kt_size(p->from);
  j.esize[p->y] = kt_size(p->to);
  if (p->bf16_trunc && p->from != FR_KT_F32) j.esize[p->y + 1] = 4;
  if (p->from != FR_KT_STRING && p->to != FR_KT_STRING && flat_par(&j)) return;
  void *y = b[p->y];
  if (!p->bf16_trunc) {
    fr_k_cast(p->from, p->to, p->n, b[0], y);
    return;
  }
  const float *x = b[0];
  if (p->from != FR_KT_F32) {
    fr_k_cast(p->from, FR_KT_F32, p->n, b[0], b[p->y + 1]);
    x = b[p->y + 1];
  }
  fr_k_f32_to_bf16_trunc(p->n, x, y);
}
