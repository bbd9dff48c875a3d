/* gemm.c: the packed, register-blocked float32 GEMM and the convolutions
 * built on it.
 *
 * C (M, N) = alpha * A (M, K) * B (K, N) + beta * C + bias (M)
 *
 * Goto/BLIS scheme: B is packed into KC x NC blocks of NR-wide column
 * panels, A into MC x KC blocks of MR-high row panels, and a micro-kernel
 * keeps an MR x NR tile of C in vector registers while it walks K. The
 * vector width follows the target (the same source is built with plain -O3
 * and with -march=native): AVX-512 16 lanes in an 8 x 48 tile, AVX 8 lanes
 * in 6 x 16, otherwise 4 lanes in 6 x 8 (SSE2/NEON). Measured on one core of
 * a Xeon (AVX-512), see bench/gemm_bench.c: ~145 GFLOP/s for 512^3.
 *
 * Convolution (fr_k_conv_f32) is an implicit GEMM: Y_g (Mg, OD*OH*OW) =
 * W_g (Mg, Cg*KD*KH*KW) * col_g, where the im2col matrix col_g is never
 * stored: the B packing reads it straight from the image, and convs as
 * wide as their input read most of B's panels in place (no packing at
 * all; conv_b_in_place), as one image's convs read their weights' rows.
 * 1x1 stride-1
 * unpadded convolutions use the image as B directly; depthwise convolutions
 * (one input channel per group) go to a direct kernel (fr_k_dwconv_f32),
 * which shares the GEMM's epilogue, by rows or, for small planes, across
 * channel lanes (dw_lanes). Transposed convolutions at stride 1 are convs
 * of the flipped kernel; strided 2-D ones a conv per output phase
 * (convt_subpixel); the rest a GEMM into a column matrix and col2im. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "kernels.h"

#if defined(__AVX512F__)
#define VW 16 /* lanes of a vector */
#define MR 8  /* rows of the register tile */
#define NV 3  /* vectors across the register tile: 24 accumulators */
#define EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31
#define ZIP_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define ZIP_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#define UNZIP_EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define UNZIP_ODD 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#elif defined(__AVX__)
#define VW 8
#define MR 6
#define NV 2
#define EVEN_LANES 0, 2, 4, 6, 9, 11, 13, 15
#define ZIP_LO 0, 8, 1, 9, 2, 10, 3, 11
#define ZIP_HI 4, 12, 5, 13, 6, 14, 7, 15
#define UNZIP_EVEN 0, 2, 4, 6, 8, 10, 12, 14
#define UNZIP_ODD 1, 3, 5, 7, 9, 11, 13, 15
#else
#define VW 4
#define MR 6
#define NV 2
#define EVEN_LANES 0, 2, 5, 7
#define ZIP_LO 0, 4, 1, 5
#define ZIP_HI 2, 6, 3, 7
#define UNZIP_EVEN 0, 2, 4, 6
#define UNZIP_ODD 1, 3, 5, 7
#endif
#define NR (VW * NV) /* columns of the register tile */

/* Cache blocking: a KC x NR panel of B stays in L1 (48 KB with AVX-512), an
 * MC x KC block of A and a KC x NC block of B in L2 (64 KB + 768 KB). */
#define KC 256
#define MC (MR * 8)
#define NC (NR * 16)

typedef float fr_vf __attribute__((vector_size(VW * 4)));
/* Same, for loads and stores at any float-aligned address. */
typedef float fr_vfu __attribute__((vector_size(VW * 4), aligned(4)));

static inline fr_vf vload(const float *p) { return *(const fr_vfu *)p; }
static inline void vstore(float *p, fr_vf v) { *(fr_vfu *)p = v; }
/* s - 0 is s for every s (s + 0 is not, for -0), so this folds to a plain
 * broadcast. */
static inline fr_vf vsplat(float s) { return s - (fr_vf){0}; }
/* p[0], p[S], p[2S], ... p[(VW-1)S], reading nothing past the last. For
 * S == 2 the second load starts at p[VW-1], so EVEN_LANES picks lanes
 * 0, 2, ... VW-2 of the first and 1, 3, ... VW-1 of the second. */
static inline fr_vf vload_s(const float *p, int64_t S) {
  if (S == 1) return vload(p);
  if (S == 2)
    return __builtin_shufflevector(vload(p), vload(p + VW - 1), EVEN_LANES);
  fr_vf v;
  for (int i = 0; i < VW; i++) v[i] = p[i * S];
  return v;
}

/* ---- where B comes from ------------------------------------------------ */

/* B (K, N) is either a strided matrix or the implicit im2col matrix of an
 * image (conv). */
typedef struct bsrc {
  const float *p;
  int64_t rs, cs; /* matrix: B(k, j) = p[k * rs + j * cs] */
  const fr_k_conv *cv; /* conv: p is the group's first input channel */
  /* conv with images side by side (pack_b_conv_same only): column j is
   * output pixel j % P of image j / P, which starts at p + (j / P) * is;
   * P 0: one image */
  int64_t P, is;
  /* matrix: row k of B scaled by sc[k] as it is packed (NULL: none) */
  const float *sc;
} bsrc;

/* ---- packing ----------------------------------------------------------- */

/* A block (mc, kc) at a (A(i, k) = a[i * rs + k * cs]) into MR-row panels:
 * dst[panel][k][i], rows past mc zero. */
static void pack_a(const float *a, int64_t rs, int64_t cs, int64_t mc,
                   int64_t kc, float *restrict dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    int64_t mr = fr_k_min64(MR, mc - i0);
    float *d = dst + i0 * kc;
    if (cs == 1 && mr == MR) {
      /* MR rows read side by side, each k a contiguous store: row by row,
       * the stores were MR apart (a scatter per vector) */
      const float *s = a + i0 * rs;
      for (int64_t k = 0; k < kc; k++)
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) d[k * MR + i] = s[i * rs + k];
    } else if (cs == 1) {
      for (int64_t i = 0; i < mr; i++) {
        const float *s = a + (i0 + i) * rs;
        for (int64_t k = 0; k < kc; k++) d[k * MR + i] = s[k];
      }
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const float *s = a + k * cs + i0 * rs;
        for (int64_t i = 0; i < mr; i++) d[k * MR + i] = s[i * rs];
      }
    }
    for (int64_t i = mr; i < MR; i++)
      for (int64_t k = 0; k < kc; k++) d[k * MR + i] = 0;
  }
}

/* r[i] (row i of a VW x VW block) becomes column i: log2(VW) rounds of
 * zipping row i with row i + VW/2. */
static inline __attribute__((always_inline)) void vtranspose(fr_vf *r) {
#pragma GCC unroll 4
  for (int s = 1; s < VW; s *= 2) {
    fr_vf t[VW];
#pragma GCC unroll 16
    for (int i = 0; i < VW / 2; i++) {
      t[2 * i] = __builtin_shufflevector(r[i], r[i + VW / 2], ZIP_LO);
      t[2 * i + 1] = __builtin_shufflevector(r[i], r[i + VW / 2], ZIP_HI);
    }
#pragma GCC unroll 16
    for (int i = 0; i < VW; i++) r[i] = t[i];
  }
}

/* Strided matrix block (kc, nc) from row k0, column j0 into NR-column
 * panels: dst[panel][k][j], columns past nc zero. */
static FR_K_INLINE void pack_b_mat(const bsrc *s, int64_t k0, int64_t kc, int64_t j0,
                       int64_t nc, float *restrict dst) {
  for (int64_t q = 0; q < nc; q += NR) {
    int64_t nr = fr_k_min64(NR, nc - q);
    float *d = dst + q * kc;
    const float *b = s->p + k0 * s->rs + (j0 + q) * s->cs;
    if (s->sc) { /* B(k, j) * sc[k], the product the binary Mul makes */
      for (int64_t k = 0; k < kc; k++) {
        const float f = s->sc[k0 + k];
        for (int64_t j = 0; j < nr; j++) d[k * NR + j] = b[k * s->rs + j * s->cs] * f;
        for (int64_t j = nr; j < NR; j++) d[k * NR + j] = 0;
      }
    } else if (s->cs == 1 && nr == NR) {
      for (int64_t k = 0; k < kc; k++) memcpy(d + k * NR, b + k * s->rs, NR * 4);
    } else if (s->cs == 1) {
      for (int64_t k = 0; k < kc; k++) {
        for (int64_t j = 0; j < nr; j++) d[k * NR + j] = b[k * s->rs + j];
        for (int64_t j = nr; j < NR; j++) d[k * NR + j] = 0;
      }
    } else if (s->rs == 1) { /* transposed: columns of B contiguous */
      /* VW columns by VW rows at a time: VW vector loads down columns,
       * transposed in registers, VW vector stores along panel rows (one
       * float at a time, the stores were NR apart) */
      int64_t k = 0;
      if (nr == NR)
        for (; k + VW <= kc; k += VW)
#pragma GCC unroll 4
          for (int v = 0; v < NV; v++) {
            fr_vf r[VW];
#pragma GCC unroll 16
            for (int i = 0; i < VW; i++) r[i] = vload(b + (v * VW + i) * s->cs + k);
            vtranspose(r);
#pragma GCC unroll 16
            for (int t = 0; t < VW; t++) vstore(d + (k + t) * NR + v * VW, r[t]);
          }
      for (int64_t j = 0; j < nr; j++) {
        const float *bj = b + j * s->cs;
        for (int64_t kk = k; kk < kc; kk++) d[kk * NR + j] = bj[kk];
      }
      for (int64_t kk = k; kk < kc; kk++)
        for (int64_t j = nr; j < NR; j++) d[kk * NR + j] = 0;
    } else {
      for (int64_t k = 0; k < kc; k++) {
        for (int64_t j = 0; j < nr; j++) d[k * NR + j] = b[k * s->rs + j * s->cs];
        for (int64_t j = nr; j < NR; j++) d[k * NR + j] = 0;
      }
    }
  }
}

/* The copies of pack_b_conv are runs of at most NR floats, often a few:
 * clang would turn its loops into calls of memcpy and memset, which cost
 * more than the copy (a fifth of the embedding model's time). */
#if defined(__clang__)
#define NO_MEM_CALLS __attribute__((no_builtin("memcpy", "memmove", "memset")))
#else
#define NO_MEM_CALLS
#endif

/* Implicit im2col block: row k = ((c * KD + z) * KH + y) * KW + x, column
 * j = (od * OH + oh) * OW + ow; the value is the input at
 * (c, od*sd - pd + z*dd, oh*sh - ph + y*dh, ow*sw - pw + x*dw), 0 outside. */
NO_MEM_CALLS static void pack_b_conv(const bsrc *s, int64_t k0, int64_t kc, int64_t j0,
                        int64_t nc, float *restrict dst) {
  const fr_k_conv *p = s->cv;
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OH = p->out[1], OW = p->out[2];
  const int64_t KD = p->k[0], KH = p->k[1], KW = p->k[2];
  int64_t ncp = (nc + NR - 1) / NR * NR;
  for (int64_t kk = 0; kk < kc; kk++) {
    int64_t k = k0 + kk;
    int64_t x = k % KW, y = (k / KW) % KH, z = (k / (KW * KH)) % KD;
    int64_t c = k / (KW * KH * KD);
    const float *plane = s->p + c * ID * IH * IW;
    int64_t offx = x * p->dil[2] - p->pad[2];
    int64_t j = j0, jend = j0 + nc;
    int64_t ow = j % OW, oh = (j / OW) % OH, od = j / (OW * OH);
    while (j < jend) {
      /* a run along ow inside one panel */
      int64_t jj = j - j0;
      int64_t run = fr_k_min64(OW - ow, fr_k_min64(NR - jj % NR, jend - j));
      float *d = dst + (jj / NR) * NR * kc + kk * NR + jj % NR;
      int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
      int64_t iy = oh * p->stride[1] - p->pad[1] + y * p->dil[1];
      if (iz < 0 || iz >= ID || iy < 0 || iy >= IH) {
        for (int64_t r = 0; r < run; r++) d[r] = 0;
      } else {
        const float *row = plane + (iz * IH + iy) * IW;
        int64_t sw = p->stride[2];
        int64_t ix0 = ow * sw + offx;
        if (sw == 1 && ix0 >= 0 && ix0 + run <= IW) {
          const float *src = row + ix0;
          for (int64_t r = 0; r < run; r++) d[r] = src[r];
        } else if (sw == 1) { /* zeros, the part inside the row, zeros */
          int64_t a = ix0 < 0 ? fr_k_min64(-ix0, run) : 0;
          int64_t b = fr_k_max64(a, fr_k_min64(run, IW - ix0));
          for (int64_t r = 0; r < a; r++) d[r] = 0;
          for (int64_t r = a; r < b; r++) d[r] = row[ix0 + r];
          for (int64_t r = b; r < run; r++) d[r] = 0;
        } else {
          for (int64_t r = 0; r < run; r++) {
            int64_t ix = ix0 + r * sw;
            d[r] = ix >= 0 && ix < IW ? row[ix] : 0;
          }
        }
      }
      j += run;
      ow += run;
      if (ow == OW) {
        ow = 0;
        if (++oh == OH) oh = 0, od++;
      }
    }
    if (ncp > nc) { /* the last panel's columns past nc */
      float *d = dst + (ncp - NR) * kc + kk * NR;
      for (int64_t jj = nc - (ncp - NR); jj < NR; jj++) d[jj] = 0;
    }
  }
}

/* 2D, stride 1, as wide as the input (OW == IW: "same" padding along W,
 * as 1x3, 3x1 and 3x3 kernels with pads 1 have): then the input of column
 * j = oh * OW + ow for row k is plane[j + off] with one offset per row,
 * off = (y*dh - ph) * IW + x*dw - pw, zero where the row or the column
 * (ow + x*dw - pw) falls outside the image. */
#define SAME_KW_MAX 4
static bool conv_is_same_w(const fr_k_conv *p) {
  return p->in[0] == 1 && p->out[0] == 1 && p->k[0] == 1 &&
         p->stride[1] == 1 && p->stride[2] == 1 && p->out[2] == p->in[2] &&
         p->k[2] <= SAME_KW_MAX;
}

typedef uint32_t fr_u32a __attribute__((may_alias));
/* VW of them, at any 4-byte alignment */
typedef uint32_t fr_vw __attribute__((vector_size(VW * 4), aligned(4), may_alias));

/* The W-border masks of conv_is_same_w for columns [j0, j0 + nc):
 * mask[x][jj] all ones where column j0 + jj reads inside its row at tap x;
 * full[x]: tap x reads inside everywhere (its mask is not written). */
static void same_w_masks(const fr_k_conv *p, int64_t j0, int64_t nc,
                         uint32_t mask[SAME_KW_MAX][NC], bool *full) {
  const int64_t OW = p->out[2];
  for (int64_t x = 0; x < p->k[2]; x++) {
    /* ones, then zeros at the columns ow < -offx or ow >= OW - offx of
     * each output row */
    int64_t offx = x * p->dil[2] - p->pad[2];
    full[x] = offx == 0;
    if (full[x]) continue;
    for (int64_t jj = 0; jj < nc; jj++) mask[x][jj] = ~0u;
    int64_t o0 = offx < 0 ? 0 : fr_k_max64(0, OW - offx);
    int64_t o1 = offx < 0 ? fr_k_min64(OW, -offx) : OW;
    for (int64_t r0 = -(j0 % OW); r0 < nc; r0 += OW) /* column of ow 0 */
      for (int64_t jj = fr_k_max64(0, r0 + o0); jj < fr_k_min64(nc, r0 + o1); jj++)
        mask[x][jj] = 0;
  }
}

/* pack_b_conv for conv_is_same_w: one shifted copy per row, masked at the
 * W borders (same_w_masks). */
NO_MEM_CALLS static void pack_b_conv_same(const bsrc *s, int64_t k0,
                                          int64_t kc, int64_t j0, int64_t nc,
                                          float *restrict dst) {
  const fr_k_conv *p = s->cv;
  const int64_t IH = p->in[1], IW = p->in[2];
  const int64_t KH = p->k[1], KW = p->k[2], PS = IH * IW;
  uint32_t mask[SAME_KW_MAX][NC];
  bool full[SAME_KW_MAX];
  same_w_masks(p, j0, nc, mask, full);
  const int64_t P = s->P ? s->P : j0 + nc; /* columns per image */
  int64_t ncp = (nc + NR - 1) / NR * NR;
  for (int64_t kk = 0; kk < kc; kk++) {
    int64_t k = k0 + kk;
    int64_t x = k % KW, y = (k / KW) % KH, c = k / (KW * KH);
    int64_t off = (y * p->dil[1] - p->pad[1]) * IW + x * p->dil[2] - p->pad[2];
    const uint32_t *m = mask[x];
    /* per image n: block columns [sb, se), of which [lo, hi) read inside
     * the plane; the image's pixel of block column jb is j0 + jb - n * P */
    for (int64_t n = j0 / P; n * P < j0 + nc; n++) {
      int64_t sb = fr_k_max64(j0, n * P) - j0, se = fr_k_min64(j0 + nc, (n + 1) * P) - j0;
      int64_t base = j0 - n * P + off; /* plane index of block column 0 */
      const fr_u32a *pl = (const fr_u32a *)(s->p + n * s->is + c * PS);
      int64_t lo = fr_k_min64(se, fr_k_max64(sb, -base));
      int64_t hi = fr_k_max64(lo, fr_k_min64(se, PS - base));
      for (int64_t jb = sb; jb < se;) {
        /* the part of [sb, se) in one panel: zeros, inside, zeros */
        int64_t q = jb / NR * NR, e = fr_k_min64(se, q + NR);
        fr_u32a *d = (fr_u32a *)(dst + q * kc + kk * NR);
        int64_t a = fr_k_min64(e, fr_k_max64(jb, lo)), b = fr_k_max64(a, fr_k_min64(e, hi));
        if (jb == q && a == q && b == q + NR) {
          /* a whole panel row inside the plane: NV vectors, masked */
#pragma GCC unroll 4
          for (int v = 0; v < NV; v++) {
            fr_vw val = *(const fr_vw *)(pl + base + q + v * VW);
            if (!full[x]) val &= *(const fr_vw *)(m + q + v * VW);
            *(fr_vw *)(d + v * VW) = val;
          }
          jb = e;
          continue;
        }
        for (; jb < a; jb++) d[jb - q] = 0;
        if (full[x])
          for (; jb < b; jb++) d[jb - q] = pl[base + jb];
        else
          for (; jb < b; jb++) d[jb - q] = pl[base + jb] & m[jb];
        for (; jb < e; jb++) d[jb - q] = 0;
      }
    }
    if (ncp > nc) { /* the last panel's columns past nc */
      float *d = dst + (ncp - NR) * kc + kk * NR;
      for (int64_t jj = nc - (ncp - NR); jj < NR; jj++) d[jj] = 0;
    }
  }
}

/* 1D (one row of input and output), every window inside the row: column
 * j of row k = c * KW + x reads plane c at j * sw + x * dw, so each column
 * is a strided walk of the input (the melspectrogram's framing conv: 512
 * taps, stride 160). */
static bool conv_is_row_inside(const fr_k_conv *p) {
  return p->in[0] == 1 && p->in[1] == 1 && p->out[0] == 1 &&
         p->out[1] == 1 && p->k[0] == 1 && p->k[1] == 1 && p->pad[2] == 0 &&
         (p->out[2] - 1) * p->stride[2] + (p->k[2] - 1) * p->dil[2] < p->in[2];
}

/* pack_b_conv for conv_is_row_inside: each panel row is a strided walk
 * (a gather where the target has one). Undilated, the VW rows of a full
 * panel's vector that lie in one channel are VW columns of VW contiguous
 * floats each: loaded as such and transposed in registers. */
NO_MEM_CALLS static void pack_b_conv_row(const bsrc *s, int64_t k0,
                                         int64_t kc, int64_t j0, int64_t nc,
                                         float *restrict dst) {
  const fr_k_conv *p = s->cv;
  const int64_t IW = p->in[2], KW = p->k[2], sw = p->stride[2], dw = p->dil[2];
  for (int64_t q = 0; q < nc; q += NR) {
    int64_t nr = fr_k_min64(NR, nc - q);
    float *d = dst + q * kc;
    int64_t c = k0 / KW, x = k0 % KW;
    for (int64_t kk = 0; kk < kc;) {
      const float *src = s->p + c * IW + x * dw + (j0 + q) * sw;
      if (dw == 1 && nr == NR && kk + VW <= kc && x + VW <= KW) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
          fr_vf r[VW];
#pragma GCC unroll 16
          for (int i = 0; i < VW; i++) r[i] = vload(src + (v * VW + i) * sw);
          vtranspose(r);
#pragma GCC unroll 16
          for (int t = 0; t < VW; t++) vstore(d + (kk + t) * NR + v * VW, r[t]);
        }
        kk += VW, x += VW;
      } else {
        float *dk = d + kk * NR;
        for (int64_t jj = 0; jj < nr; jj++) dk[jj] = src[jj * sw];
        for (int64_t jj = nr; jj < NR; jj++) dk[jj] = 0;
        kk++, x++;
      }
      if (x == KW) x = 0, c++;
    }
  }
}

static FR_K_INLINE void pack_b(const bsrc *s, int64_t k0, int64_t kc, int64_t j0,
                   int64_t nc, float *dst) {
  if (s->cv && conv_is_row_inside(s->cv)) pack_b_conv_row(s, k0, kc, j0, nc, dst);
  else if (s->cv && conv_is_same_w(s->cv)) pack_b_conv_same(s, k0, kc, j0, nc, dst);
  else if (s->cv) pack_b_conv(s, k0, kc, j0, nc, dst);
  else pack_b_mat(s, k0, kc, j0, nc, dst);
}

/* ---- B read in place --------------------------------------------------- */

/* conv_is_same_w and no input scale: then row k = (c, y, x) of B is
 * plane c of the column's image read from its pixel j + (y * dh - ph) *
 * IW + x * dw - pw on, masked at the W borders, and the micro-kernel reads
 * a full panel of B in place instead of packing it (for few output
 * channels, as the embedding model's 24 to 96, the packing cost as much
 * as the multiply-adds). Panels whose vectors would read outside a plane
 * for some tap (the first and last rows of it, by the padding along H:
 * where a read stays inside the plane and its column inside the row, its
 * input row is inside too), that span two images side by side, and the
 * narrow last one are packed. The values are those the packing writes, so
 * the sums are the same bits. */
static bool conv_b_in_place(const bsrc *s) {
  const fr_k_conv *p = s->cv;
  return p && !s->sc && conv_is_same_w(p);
}

/* One block (rows [k0, k0 + kc), columns [j0, j0 + nc)) of B in place:
 * row kk at x + off[kk] (x: the image's first plane of the group),
 * masked by m[kk][jj] for block column jj; pixels [lo, hi) of an image
 * may start a panel read in place (its vectors stay inside the plane). */
typedef struct inplace_b {
  int64_t off[KC];
  const uint32_t *m[KC];
  uint32_t mask[SAME_KW_MAX][NC], ones[NC];
  int64_t lo, hi;
} inplace_b;

/* Where the full panel of B at column j is read in place: the plane
 * pointer its pixel 0 maps to (x + off[kk] is then row kk), or NULL
 * when it is packed. */
static inline const float *inplace_panel(const bsrc *s, const inplace_b *ib,
                                         int64_t j, int64_t nr) {
  const int64_t P = s->P, n = P ? j / P : 0, px = j - n * P;
  if (nr != NR || px < ib->lo || px + NR > ib->hi) return NULL;
  return s->p + n * s->is + px;
}

/* Sets ib up for a block, and packs into dst the panels that are not
 * read in place. */
static FR_K_INLINE void inplace_block(const bsrc *s, int64_t k0, int64_t kc,
                                      int64_t j0, int64_t nc, inplace_b *ib,
                                      float *dst) {
  const fr_k_conv *p = s->cv;
  const int64_t IW = p->in[2], PS = p->in[1] * IW;
  const int64_t KH = p->k[1], KW = p->k[2], dh = p->dil[1], dw = p->dil[2];
  const int64_t ph = p->pad[1], pw = p->pad[2];
  bool full[SAME_KW_MAX];
  same_w_masks(p, j0, nc, ib->mask, full);
  for (int64_t jj = 0; jj < nc; jj++) ib->ones[jj] = ~0u;
  for (int64_t kk = 0; kk < kc; kk++) {
    int64_t k = k0 + kk;
    int64_t x = k % KW, y = (k / KW) % KH, c = k / (KW * KH);
    ib->off[kk] = c * PS + (y * dh - ph) * IW + x * dw - pw;
    ib->m[kk] = full[x] ? ib->ones : ib->mask[x];
  }
  /* column j reads plane pixels j - ph*IW - pw to
   * j + ((KH-1)*dh - ph)*IW + (KW-1)*dw - pw */
  ib->lo = ph * IW + pw;
  ib->hi = PS - (((KH - 1) * dh - ph) * IW + (KW - 1) * dw - pw);
  /* (a panel past an image's end reads past its plane) */
  if (s->P) ib->hi = fr_k_min64(ib->hi, s->P);
  /* runs of panels packed by one call (each call sets every row up) */
  for (int64_t q = 0; q < nc;) {
    int64_t e = q;
    while (e < nc && !inplace_panel(s, ib, j0 + e, fr_k_min64(NR, nc - e))) e += NR;
    if (e > q) pack_b_conv_same(s, k0, kc, j0 + q, fr_k_min64(e, nc) - q, dst + q * kc);
    q = e + NR;
  }
}

/* ---- the epilogue ------------------------------------------------------ */

/* y = post(act(y + cb + res)) over a row of n outputs, each activation as
 * its unary kernel computes it and post as the binary kernel does
 * (elementwise.c), so fused and unfused agree. */
static inline void epi_row(const fr_k_epi *e, int64_t n, float *restrict y,
                           const float *restrict cb,
                           const float *restrict res) {
  if (cb)
    for (int64_t j = 0; j < n; j++) y[j] += cb[j];
  if (res)
    for (int64_t j = 0; j < n; j++) y[j] += res[j];
  const float a = e->a, b = e->b;
  switch (e->act) {
  case FR_K_EPI_RELU:
    for (int64_t j = 0; j < n; j++) y[j] = FR_K_SEL(y[j] > 0, y[j], 0.0f);
    break;
  case FR_K_EPI_LEAKY_RELU:
    for (int64_t j = 0; j < n; j++) y[j] = FR_K_SEL(y[j] < 0, a * y[j], y[j]);
    break;
  case FR_K_EPI_CLIP:
    for (int64_t j = 0; j < n; j++) {
      float v = FR_K_SEL(y[j] < a, a, y[j]);
      y[j] = FR_K_SEL(v > b, b, v);
    }
    break;
  case FR_K_EPI_HARD_SIGMOID:
    for (int64_t j = 0; j < n; j++) {
      float v = a * y[j] + b;
      v = FR_K_SEL(v > 0, v, 0.0f);
      y[j] = FR_K_SEL(v < 1, v, 1.0f);
    }
    break;
  case FR_K_EPI_HARD_SWISH:
    for (int64_t j = 0; j < n; j++) {
      float v = y[j] * (float)(1.0 / 6) + 0.5f;
      v = FR_K_SEL(v > 0, v, 0.0f);
      y[j] = y[j] * FR_K_SEL(v < 1, v, 1.0f);
    }
    break;
  case FR_K_EPI_SIGMOID:
    for (int64_t j = 0; j < n; j++) y[j] = 1 / (1 + fr_k_expf(-y[j]));
    break;
  case FR_K_EPI_TANH:
    for (int64_t j = 0; j < n; j++) y[j] = tanhf(y[j]);
    break;
  default: break;
  }
  const float c = e->c;
  switch (e->post) {
  case FR_K_EPI_POST_MAX:
    for (int64_t j = 0; j < n; j++) y[j] = FR_K_SEL(y[j] > c || y[j] != y[j], y[j], c);
    break;
  case FR_K_EPI_POST_MIN:
    for (int64_t j = 0; j < n; j++) y[j] = FR_K_SEL(y[j] < c || y[j] != y[j], y[j], c);
    break;
  default: break;
  }
}

void fr_k_epi_f32(const fr_k_epi *e, int64_t n, float *y, const float *cb,
                  const float *res) {
  epi_row(e, n, y, cb, res);
}

/* The epilogue of one GEMM: the activation, and where the column bias and
 * the residual (R(i, j) = res[i * ldr + j]) start; NULL when off. */
typedef struct epi_ctx {
  const fr_k_epi *e;
  const float *cb, *res;
  int64_t ldr;
} epi_ctx;

static bool epi_on(const fr_k_epi *e, const float *cb, const float *res) {
  return e->act != FR_K_EPI_NONE || e->post != FR_K_EPI_POST_NONE || cb || res;
}

/* Rows [i, i + m) of C (columns [j, j + n)) through the epilogue. */
static void epi_block(const epi_ctx *ep, float *c, int64_t ldc, int64_t i,
                      int64_t j, int64_t m, int64_t n) {
  for (int64_t r = 0; r < m; r++)
    epi_row(ep->e, n, c + r * ldc, ep->cb ? ep->cb + j : NULL,
            ep->res ? ep->res + (i + r) * ep->ldr + j : NULL);
}

/* The epilogue on a vector of a full tile, for the activations made of
 * selects and one multiply-add (no residual, no column bias): the same
 * expressions, so the same values, as epi_row. */
typedef int32_t fr_vi __attribute__((vector_size(VW * 4)));
static inline fr_vf vsel(fr_vi m, fr_vf a, fr_vf b) {
  return (fr_vf)(((fr_vi)a & m) | ((fr_vi)b & ~m));
}

static bool epi_vec_ok(const epi_ctx *ep) {
  if (!ep || ep->cb || ep->res) return false;
  int act = ep->e->act;
  return act == FR_K_EPI_NONE || act == FR_K_EPI_RELU ||
         act == FR_K_EPI_LEAKY_RELU || act == FR_K_EPI_CLIP ||
         act == FR_K_EPI_HARD_SIGMOID || act == FR_K_EPI_HARD_SWISH;
}

/* The same with a residual: the micro-kernel adds it first, as epi_row. */
static bool epi_vec_res_ok(const epi_ctx *ep) {
  if (!ep || !ep->res) return epi_vec_ok(ep);
  epi_ctx e = *ep;
  e.res = NULL;
  return epi_vec_ok(&e);
}

static inline fr_vf epi_vec(const fr_k_epi *e, fr_vf y) {
  const fr_vf z = {0};
  switch (e->act) {
  case FR_K_EPI_RELU: y = vsel(y > z, y, z); break;
  case FR_K_EPI_LEAKY_RELU: y = vsel(y < z, vsplat(e->a) * y, y); break;
  case FR_K_EPI_CLIP: {
    fr_vf a = vsplat(e->a), b = vsplat(e->b);
    y = vsel(y < a, a, y);
    y = vsel(y > b, b, y);
    break;
  }
  case FR_K_EPI_HARD_SIGMOID: {
    const fr_vf one = vsplat(1.0f);
    fr_vf v = vsplat(e->a) * y + vsplat(e->b);
    v = vsel(v > z, v, z);
    y = vsel(v < one, v, one);
    break;
  }
  case FR_K_EPI_HARD_SWISH: {
    const fr_vf one = vsplat(1.0f);
    fr_vf v = y * vsplat((float)(1.0 / 6)) + vsplat(0.5f);
    v = vsel(v > z, v, z);
    y = y * vsel(v < one, v, one);
    break;
  }
  default: break;
  }
  fr_vf c = vsplat(e->c);
  switch (e->post) {
  case FR_K_EPI_POST_MAX: y = vsel((y > c) | (y != y), y, c); break;
  case FR_K_EPI_POST_MIN: y = vsel((y < c) | (y != y), y, c); break;
  default: break;
  }
  return y;
}

/* ---- the micro-kernel -------------------------------------------------- */

/* Tile (mr, nr) of C at c from the accumulators acc = a * b: c = alpha *
 * acc + beta * c + bias[i] (beta 0: c not read; bias may be NULL); then,
 * for a full tile, the residual R(i, j) = res[i * ldr + j] (NULL: none)
 * and the epilogue ve when not NULL (see epi_vec). */
static inline __attribute__((always_inline)) void
tile_out(fr_vf acc[MR][NV], float *restrict c, int64_t ldc, int64_t mr,
         int64_t nr, float alpha, float beta, const float *bias,
         const fr_k_epi *ve, const float *res, int64_t ldr, const int nv) {
  if (nv == NV && mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      fr_vf add = vsplat(bias ? bias[i] : 0.0f);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        float *cp = c + i * ldc + v * VW;
        fr_vf r = acc[i][v] * alpha + add;
        if (beta != 0) r += vload(cp) * beta;
        if (res) r += vload(res + i * ldr + v * VW);
        if (ve) r = epi_vec(ve, r);
        vstore(cp, r);
      }
    }
    return;
  }
  float t[MR * NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) vstore(t + i * NR + v * VW, acc[i][v]);
  for (int64_t i = 0; i < mr; i++) {
    float add = bias ? bias[i] : 0.0f;
    float *cp = c + i * ldc;
    if (beta != 0)
      for (int64_t j = 0; j < nr; j++)
        cp[j] = t[i * NR + j] * alpha + add + cp[j] * beta;
    else
      for (int64_t j = 0; j < nr; j++) cp[j] = t[i * NR + j] * alpha + add;
  }
}

/* The accumulators of a tile (nv vectors across) zeroed, and one step
 * of k: acc[i][v] += A(i, k) * bv[v], A(i, k) at a[i * ars]. */
static inline __attribute__((always_inline)) void acc_zero(fr_vf acc[MR][NV],
                                                           const int nv) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) acc[i][v] = (fr_vf){0};
}

static inline __attribute__((always_inline)) void
acc_fma(fr_vf acc[MR][NV], const float *restrict a, const int64_t ars,
        const fr_vf *bv, const int nv) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    fr_vf ai = vsplat(a[i * ars]);
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) acc[i][v] += ai * bv[v];
  }
}

/* Tile (mr, nr) of C: alpha * A (MR x kc) * b (kc x NR panel), then
 * tile_out. A(i, k) = a[i * ars + k * acs]: a packed panel (ars 1, acs
 * MR) or rows of a matrix read in place (ars its row stride, acs 1); the
 * same products in the same order either way. */
static inline __attribute__((always_inline)) void
ukernel_nv(int64_t kc, const float *restrict a, const int64_t ars,
           const int64_t acs, const float *restrict b,
           float *restrict c, int64_t ldc, int64_t mr, int64_t nr,
           float alpha, float beta, const float *bias, const fr_k_epi *ve,
           const float *res, int64_t ldr, const int nv) {
  fr_vf acc[MR][NV];
  acc_zero(acc, nv);
  for (int64_t k = 0; k < kc; k++) {
    fr_vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) bv[v] = vload(b + v * VW);
    acc_fma(acc, a, ars, bv, nv);
    a += acs;
    b += NR;
  }
  tile_out(acc, c, ldc, mr, nr, alpha, beta, bias, ve, res, ldr, nv);
}

/* The same with a full-width panel of B read in place (inplace_b): row k
 * at x + off[k] + j, masked by m[k][mj + j], j < NR; the same products in
 * the same order as from the packed panel. */
typedef uint32_t fr_vu __attribute__((vector_size(VW * 4), aligned(4)));
static inline __attribute__((always_inline)) void
ukernel_inplace(int64_t kc, const float *restrict a, const int64_t ars,
                const int64_t acs, const float *x,
                const int64_t *off, const uint32_t *const *m, int64_t mj,
                float *restrict c, int64_t ldc, int64_t mr, float alpha,
                float beta, const float *bias, const fr_k_epi *ve,
                const float *res, int64_t ldr, const bool pf) {
  fr_vf acc[MR][NV];
  acc_zero(acc, NV);
  for (int64_t k = 0; k < kc; k++) {
    const float *b = x + off[k];
    const uint32_t *mk = m[k] + mj;
    if (pf) { /* the next panel's row, while this one is multiplied */
#pragma GCC unroll 4
      for (int v = 0; v <= NV; v++) __builtin_prefetch(b + NR + v * VW - (v == NV));
    }
    fr_vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      bv[v] = (fr_vf)((fr_vu)vload(b + v * VW) & *(const fr_vu *)(mk + v * VW));
    acc_fma(acc, a, ars, bv, NV);
    a += acs;
  }
  tile_out(acc, c, ldc, mr, NR, alpha, beta, bias, ve, res, ldr, NV);
}

/* The micro-kernel with as few vectors across as the tile's nr columns
 * need: a narrow last panel (97 columns are 2 panels and 1 column) costs
 * a third of a full one, not as much. */
static FR_K_INLINE void ukernel(int64_t kc, const float *restrict a,
                    const int64_t ars, const int64_t acs, const float *restrict b, float *restrict c, int64_t ldc,
                    int64_t mr, int64_t nr, float alpha, float beta,
                    const float *bias, const fr_k_epi *ve, const float *res,
                    int64_t ldr) {
  if (nr <= VW)
    ukernel_nv(kc, a, ars, acs, b, c, ldc, mr, nr, alpha, beta, bias, ve, res, ldr, 1);
#if NV > 2
  else if (nr <= 2 * VW)
    ukernel_nv(kc, a, ars, acs, b, c, ldc, mr, nr, alpha, beta, bias, ve, res, ldr, 2);
#endif
  else
    ukernel_nv(kc, a, ars, acs, b, c, ldc, mr, nr, alpha, beta, bias, ve, res, ldr, NV);
}

/* ---- drivers ----------------------------------------------------------- */

static float *align64(float *p) {
  return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* The scratch size is the same in every build of this file, an upper
 * bound over its three tile shapes (MR <= 8, NR <= 48): a plan sizes the
 * scratch in frost's build, and the JIT may run a build with wider
 * vectors. */
#define MR_ALL 8
#define NR_ALL 48
static size_t blocked_scratch(int64_t M, int64_t N, int64_t K) {
  _Static_assert(MR <= MR_ALL && NR <= NR_ALL, "tile larger than assumed");
  int64_t kc = fr_k_min64(KC, fr_k_max64(K, 1));
  int64_t mc = fr_k_min64(MR_ALL * 8, M + MR_ALL - 1);
  int64_t nc = fr_k_min64(NR_ALL * 16, N + NR_ALL - 1);
  return (size_t)((mc + nc) * kc + 32);
}

/* (the paths of fr_k_sgemm that do not pack need none) */
size_t fr_k_sgemm_scratch(int64_t M, int64_t N, int64_t K) {
  if (M <= 2 || N == 1 || K <= 0) return 0;
  return blocked_scratch(M, N, K);
}

/* All of A (M, K) packed at once, for a conv's weights used by every
 * image and every column block: block (pc, ic) of pack_a at
 * apk + pc * Mp + ic * kc, Mp = M rounded up to MR. Up to APACK_MAX
 * floats (the bound is the same in every build, as blocked_scratch's). */
#define APACK_MAX (1 << 18)
static size_t apack_scratch(int64_t M, int64_t K) {
  int64_t n = (M + MR_ALL - 1) * fr_k_max64(K, 1);
  return n <= APACK_MAX ? (size_t)n + 16 : 0;
}

static void pack_a_all(const float *A, int64_t rsa, int64_t csa, int64_t M,
                       int64_t K, float *apk) {
  int64_t Mp = (M + MR - 1) / MR * MR;
  for (int64_t pc = 0; pc < K; pc += KC) {
    int64_t kc = fr_k_min64(KC, K - pc);
    for (int64_t ic = 0; ic < M; ic += MC)
      pack_a(A + ic * rsa + pc * csa, rsa, csa, fr_k_min64(MC, M - ic), kc,
             apk + pc * Mp + ic * kc);
  }
}

/* One GEMM C (M, N) = ep(alpha * A * B + beta * C + bias), B from s (ep
 * may be NULL); apk: A as pack_a_all leaves it, or NULL to pack it block
 * by block; ua (csa 1): full row tiles read A in place, only a last
 * partial one is packed. */
typedef struct gemm_job {
  int64_t M, N, K;
  const float *A;
  int64_t rsa, csa;
  const float *apk;
  bool ua;
  const bsrc *s;
  float *C;
  int64_t ldc;
  float alpha, beta;
  const float *bias;
  const epi_ctx *ep;
  bool cols; /* threads take panels of NR columns (else of MR rows) */
} gemm_job;

/* Rows [i0, i1) and columns [j0, j1) of the job's C, i0 a multiple of MR
 * and j0 of NR: the register tiles are those of the whole C, so each
 * element is computed alike however C is cut. */
static FR_K_SHARED void gemm_part(const gemm_job *g, int64_t i0, int64_t i1, int64_t j0,
                      int64_t j1, float *scratch) {
  const int64_t M = g->M, K = g->K, rsa = g->rsa, csa = g->csa, ldc = g->ldc;
  const int64_t Mp = (M + MR - 1) / MR * MR;
  const float *apk = g->apk;
  const epi_ctx *ep = g->ep;
  int64_t kcmax = fr_k_min64(KC, fr_k_max64(K, 1));
  float *ap = align64(scratch);
  float *bp = align64(ap + fr_k_min64(MC, (M + MR - 1) / MR * MR) * kcmax);
  const bool inpl = g->s->cv && conv_b_in_place(g->s);
  inplace_b ib;
  for (int64_t jc = j0; jc < j1; jc += NC) {
    int64_t nc = fr_k_min64(NC, j1 - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      int64_t kc = fr_k_min64(KC, K - pc);
      float be = pc == 0 ? g->beta : 1.0f;
      const float *bi = pc == 0 ? g->bias : NULL;
      const epi_ctx *e = pc + kc >= K ? ep : NULL;
      const fr_k_epi *ve = epi_vec_res_ok(e) ? e->e : NULL;
      if (inpl) inplace_block(g->s, pc, kc, jc, nc, &ib, bp);
      else pack_b(g->s, pc, kc, jc, nc, bp);
      for (int64_t ic = i0; ic < i1; ic += MC) {
        int64_t mc = fr_k_min64(MC, i1 - ic);
        /* a + ir * kc: the packed panel of row tile ir (with ua, the last
         * partial one only) */
        const float *a = apk ? apk + pc * Mp + ic * kc : ap;
        if (g->ua) {
          int64_t ir0 = mc / MR * MR;
          if (ir0 < mc)
            pack_a(g->A + (ic + ir0) * rsa + pc, rsa, 1, mc - ir0, kc, ap);
          a = ap - ir0 * kc;
        } else if (!apk)
          pack_a(g->A + ic * rsa + pc * csa, rsa, csa, mc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR) {
            float *ct = g->C + (ic + ir) * ldc + jc + jr;
            int64_t mr = fr_k_min64(MR, mc - ir), nr = fr_k_min64(NR, nc - jr);
            /* the last K block: the epilogue in registers (full tile) or
             * while the tile is in L1 */
            bool full = mr == MR && nr == NR;
            const float *rt = full && ve && e->res
                                  ? e->res + (ic + ir) * e->ldr + jc + jr : NULL;
            const float *bt = bi ? bi + ic + ir : NULL;
            const fr_k_epi *vt = full ? ve : NULL;
            const int64_t ldr = e ? e->ldr : 0;
            /* A in place: the tile's rows of the matrix */
            const bool ut = g->ua && mr == MR;
            const float *at = ut ? g->A + (ic + ir) * rsa + pc : a + ir * kc;
            const float *xb = inpl ? inplace_panel(g->s, &ib, jc + jr, nr) : NULL;
            if (xb) {
              /* the first row tile brings the next panel's rows in */
              if (ut && ir == 0)
                ukernel_inplace(kc, at, rsa, 1, xb, ib.off, ib.m, jr, ct, ldc, mr,
                                g->alpha, be, bt, vt, rt, ldr, true);
              else if (ut)
                ukernel_inplace(kc, at, rsa, 1, xb, ib.off, ib.m, jr, ct, ldc, mr,
                                g->alpha, be, bt, vt, rt, ldr, false);
              else
                ukernel_inplace(kc, at, 1, MR, xb, ib.off, ib.m, jr, ct, ldc, mr,
                                g->alpha, be, bt, vt, rt, ldr, ir == 0);
            } else if (ut)
              ukernel(kc, at, rsa, 1, bp + jr * kc, ct, ldc, mr, nr, g->alpha, be,
                      bt, vt, rt, ldr);
            else
              ukernel(kc, at, 1, MR, bp + jr * kc, ct, ldc, mr, nr, g->alpha, be,
                      bt, vt, rt, ldr);
            if (e && !(full && ve)) epi_block(e, ct, ldc, ic + ir, jc + jr, mr, nr);
          }
      }
    }
  }
}

/* A thread's panels [lo, hi), with its own scratch. */
static void gemm_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const gemm_job *g = ctx;
  if (g->cols)
    gemm_part(g, 0, g->M, lo * NR, fr_k_min64(hi * NR, g->N), scratch);
  else
    gemm_part(g, lo * MR, fr_k_min64(hi * MR, g->M), 0, g->N, scratch);
}

static FR_K_GENERIC void gemm_blocked(int64_t M, int64_t N, int64_t K, const float *A,
                         int64_t rsa, int64_t csa, const float *apk, bool ua,
                         const bsrc *s, float *C, int64_t ldc, float alpha,
                         float beta, const float *bias, const epi_ctx *ep,
                         float *scratch) {
  gemm_job g = {M, N, K, A, rsa, csa, apk, ua && csa == 1, s, C, ldc, alpha, beta, bias, ep,
                true};
  if (!fr_k_par_worth(M * N * K)) {
    gemm_part(&g, 0, M, 0, N, scratch);
    return;
  }
  /* the threads split the longer side, in whole tiles; each packs its
   * own blocks (of B: columns, or of A: rows) in its own scratch */
  int64_t nu = (N + NR - 1) / NR, mu = (M + MR - 1) / MR;
  g.cols = nu >= mu;
  fr_k_parallel(g.cols ? nu : mu, gemm_task, &g, scratch,
                blocked_scratch(M, N, K) * sizeof(float));
}

/* C = ep(beta * C + bias) for K == 0. */
static void scale_c(int64_t M, int64_t N, float *C, int64_t ldc, float beta,
                    const float *bias, const epi_ctx *ep) {
  for (int64_t i = 0; i < M; i++) {
    float add = bias ? bias[i] : 0.0f;
    for (int64_t j = 0; j < N; j++)
      C[i * ldc + j] = (beta != 0 ? C[i * ldc + j] * beta : 0.0f) + add;
  }
  if (ep) epi_block(ep, C, ldc, 0, 0, M, N);
}

/* A few rows of A: no packing, the rows stream over B; each row of C
 * through the epilogue when done. */
static FR_K_SHARED void gemm_small_m(const fr_k_gemm *g, const epi_ctx *ep) {
  const int64_t N = g->N, K = g->K;
  for (int64_t i = 0; i < g->M; i++) {
    float *c = g->C + i * g->ldc;
    const float *a = g->A + i * g->rsa;
    float add = g->bias ? g->bias[i] : 0.0f;
    if (g->csb == 1) {
      /* c += (alpha * a[k]) * B(k, :), rows of B contiguous */
      for (int64_t j = 0; j < N; j++)
        c[j] = (g->beta != 0 ? c[j] * g->beta : 0.0f) + add;
      for (int64_t k = 0; k < K; k++) {
        float s = g->alpha * a[k * g->csa];
        const float *b = g->B + k * g->rsb;
        int64_t j = 0;
        for (; j + VW <= N; j += VW) vstore(c + j, vload(c + j) + vload(b + j) * s);
        for (; j < N; j++) c[j] += s * b[j];
      }
    } else {
      /* c[j] = dot(a, B(:, j)): columns of B contiguous when rsb == 1 */
      for (int64_t j = 0; j < N; j++) {
        const float *b = g->B + j * g->csb;
        float sum = 0;
        int64_t k = 0;
        if (g->rsb == 1 && g->csa == 1) {
          fr_vf acc0 = {0}, acc1 = {0};
          for (; k + 2 * VW <= K; k += 2 * VW) {
            acc0 += vload(a + k) * vload(b + k);
            acc1 += vload(a + k + VW) * vload(b + k + VW);
          }
          acc0 += acc1;
          for (int v = 0; v < VW; v++) sum += acc0[v];
        }
        for (; k < K; k++) sum += a[k * g->csa] * b[k * g->rsb];
        c[j] = g->alpha * sum + add + (g->beta != 0 ? c[j] * g->beta : 0.0f);
      }
    }
    if (ep) epi_block(ep, c, 0, i, 0, 1, N);
  }
}

/* One column of B: y = A * b, a dot product per row of A. */
static FR_K_SHARED void gemm_n1(const fr_k_gemm *g, const epi_ctx *ep) {
  const int64_t K = g->K;
  for (int64_t i = 0; i < g->M; i++) {
    const float *a = g->A + i * g->rsa;
    float sum = 0;
    int64_t k = 0;
    if (g->csa == 1 && g->rsb == 1) {
      fr_vf acc0 = {0}, acc1 = {0};
      for (; k + 2 * VW <= K; k += 2 * VW) {
        acc0 += vload(a + k) * vload(g->B + k);
        acc1 += vload(a + k + VW) * vload(g->B + k + VW);
      }
      acc0 += acc1;
      for (int v = 0; v < VW; v++) sum += acc0[v];
    }
    for (; k < K; k++) sum += a[k * g->csa] * g->B[k * g->rsb];
    float *c = g->C + i * g->ldc;
    *c = g->alpha * sum + (g->bias ? g->bias[i] : 0.0f) +
         (g->beta != 0 ? *c * g->beta : 0.0f);
    if (ep) epi_block(ep, c, 0, i, 0, 1, 1);
  }
}

/* gemm_small_m and gemm_n1 on threads: columns in units of SMALL_COLS
 * (whole vectors, as one thread would take them), or rows of gemm_n1, as
 * sub-GEMMs of C. */
enum { SMALL_COLS = 64 };
typedef struct small_job {
  const fr_k_gemm *g;
  const epi_ctx *ep;
  bool n1;
} small_job;

static void small_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const small_job *j = ctx;
  fr_k_gemm g = *j->g;
  epi_ctx e = j->ep ? *j->ep : (epi_ctx){0};
  if (j->n1) {
    g.A += lo * g.rsa;
    g.C += lo * g.ldc;
    g.M = hi - lo;
    if (g.bias) g.bias += lo;
    if (e.res) e.res += lo * e.ldr;
    gemm_n1(&g, j->ep ? &e : NULL);
  } else {
    int64_t j0 = lo * SMALL_COLS;
    g.B += j0 * g.csb;
    g.C += j0;
    g.N = fr_k_min64(hi * SMALL_COLS, g.N) - j0;
    if (e.cb) e.cb += j0;
    if (e.res) e.res += j0;
    gemm_small_m(&g, j->ep ? &e : NULL);
  }
}

FR_K_GENERIC void fr_k_sgemm(const fr_k_gemm *g, float *scratch) {
  if (g->M <= 0 || g->N <= 0) return;
  epi_ctx ec = {&g->epi, g->cbias, g->res, g->ldr};
  const epi_ctx *ep = epi_on(&g->epi, g->cbias, g->res) ? &ec : NULL;
  if (g->K <= 0) {
    scale_c(g->M, g->N, g->C, g->ldc, g->beta, g->bias, ep);
    return;
  }
  if (g->M <= 2 || g->N == 1) {
    small_job j = {g, ep, g->M > 2};
    if (fr_k_par_worth(g->M * g->N * g->K))
      fr_k_parallel(j.n1 ? g->M : (g->N + SMALL_COLS - 1) / SMALL_COLS, small_task,
                    &j, NULL, 0);
    else if (j.n1)
      gemm_n1(g, ep);
    else
      gemm_small_m(g, ep);
    return;
  }
  bsrc s = {g->B, g->rsb, g->csb, NULL, 0, 0, NULL};
  gemm_blocked(g->M, g->N, g->K, g->A, g->rsa, g->csa, NULL, false, &s, g->C, g->ldc,
               g->alpha, g->beta, g->bias, ep, scratch);
}

/* ---- Gemm and MatMul entries -------------------------------------------- */

static void gemm_entry(const fr_k_gemm_plan *p, const float *A,
                       const float *B, const float *C, const float *res,
                       float *Y, float *scratch) {
  const int64_t M = p->M, N = p->N;
  fr_k_gemm g = {M, N, p->K, A, p->rsa, p->csa, B, p->rsb, p->csb,
                 Y, N, p->alpha, 0.0f, NULL, p->epi, NULL, res, N};
  switch (p->c_mode) {
  case FR_K_GEMM_C_COL: g.cbias = C; break;
  case FR_K_GEMM_C_ROW: g.bias = C; break;
  case FR_K_GEMM_C_FILL: {
    /* Y = beta * C broadcast to (M, N), then Y += alpha * A * B */
    const int64_t cm = p->cm, cn = p->cn;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++)
        Y[i * N + j] = p->beta * C[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    g.beta = 1.0f;
    break;
  }
  default: break;
  }
  fr_k_sgemm(&g, scratch);
}

void fr_ke_gemm_f32(const void *params, void *const *b) {
  gemm_entry(params, b[0], b[1], b[2], NULL, b[3], b[4]);
}

void fr_ke_gemm_fused_f32(const void *params, void *const *b) {
  gemm_entry(params, b[0], b[1], b[2], b[3], b[4], b[5]);
}

void fr_k_matmul_offsets(const fr_k_matmul_plan *p, int64_t t, int64_t *oa,
                         int64_t *ob) {
  *oa = *ob = 0;
  for (int i = p->brank - 1; i >= 0 && !p->fold; i--) {
    int64_t k = t % p->bdims[i];
    t /= p->bdims[i];
    *oa += k * p->sa[i];
    *ob += k * p->sb[i];
  }
}

typedef struct matmul_job {
  const fr_k_matmul_plan *p;
  const float *A, *B, *bias, *res;
  float *Y;
} matmul_job;

/* Batches [lo, hi) of a MatMul. */
static FR_K_SHARED void matmul_batches(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const matmul_job *j = ctx;
  const fr_k_matmul_plan *p = j->p;
  const int64_t M = p->M, N = p->N, K = p->K;
  for (int64_t t = lo; t < hi; t++) {
    int64_t oa, ob;
    fr_k_matmul_offsets(p, t, &oa, &ob);
    fr_k_gemm g = {M, N, K, j->A + oa, K, 1, j->B + ob, N, 1, j->Y + t * M * N, N,
                   1.0f, 0.0f, NULL, p->epi, j->bias,
                   j->res ? j->res + t * M * N : NULL, N};
    fr_k_sgemm(&g, scratch);
  }
}

static void matmul_entry(const fr_k_matmul_plan *p, const float *A,
                         const float *B, const float *bias, const float *res,
                         float *Y, float *scratch) {
  matmul_job j = {p, A, B, bias, res, Y};
  /* several batches: one thread per batch range, each with its own
   * scratch (a batch's own GEMM then runs on its thread alone) */
  if (p->batches >= fr_k_threads() && fr_k_par_worth(p->batches * p->M * p->N * p->K))
    fr_k_parallel(p->batches, matmul_batches, &j, scratch,
                  fr_k_sgemm_scratch(p->M, p->N, p->K) * sizeof(float));
  else
    matmul_batches(&j, 0, p->batches, scratch);
}

void fr_ke_matmul_f32(const void *params, void *const *b) {
  matmul_entry(params, b[0], b[1], NULL, NULL, b[2], b[3]);
}

void fr_ke_matmul_fused_f32(const void *params, void *const *b) {
  matmul_entry(params, b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* ---- depthwise convolution --------------------------------------------- */

enum { DW_MAXK = 16 };

/* One output plane of a depthwise conv with width stride S (a constant in
 * the specialized copies below): interior columns, where every tap is
 * inside the row, are done 2 * VW at a time in vector registers; border
 * columns one by one. */
static inline __attribute__((always_inline)) void
dw_plane(const fr_k_conv *p, const float *restrict xp, const float *restrict wp,
         float b, float *restrict yp, const int64_t S) {
  const int64_t IH = p->in[1], IW = p->in[2], OH = p->out[1], OW = p->out[2];
  const int64_t KH = p->k[1], KW = p->k[2], dw = p->dil[2], pw = p->pad[2];
  /* columns where tap 0 and tap KW-1 are both inside */
  int64_t lo0, hi0, lo1, hi1;
  fr_k_valid_range(S, -pw, IW, OW, &lo0, &hi0);
  fr_k_valid_range(S, (KW - 1) * dw - pw, IW, OW, &lo1, &hi1);
  int64_t lo = fr_k_max64(lo0, lo1), hi = fr_k_max64(fr_k_min64(hi0, hi1), lo);
  for (int64_t oy = 0; oy < OH; oy++) {
    const float *rows[DW_MAXK];
    const float *wr[DW_MAXK];
    int nr = 0;
    for (int64_t ky = 0; ky < KH; ky++) {
      int64_t iy = oy * p->stride[1] - p->pad[1] + ky * p->dil[1];
      if (iy < 0 || iy >= IH) continue;
      rows[nr] = xp + iy * IW - pw;
      wr[nr++] = wp + ky * KW;
    }
    float *yr = yp + oy * OW;
    int64_t ox = lo;
    for (; ox + 2 * VW <= hi; ox += 2 * VW) {
      fr_vf acc0 = vsplat(b), acc1 = acc0;
      for (int r = 0; r < nr; r++)
        for (int64_t kx = 0; kx < KW; kx++) {
          fr_vf w = vsplat(wr[r][kx]);
          const float *xr = rows[r] + ox * S + kx * dw;
          acc0 += w * vload_s(xr, S);
          acc1 += w * vload_s(xr + VW * S, S);
        }
      vstore(yr + ox, acc0);
      vstore(yr + ox + VW, acc1);
    }
    /* the last one or two vectors, the last one ending at hi (it may
     * overlap: the outputs are stored, not accumulated) */
    while (ox < hi && hi - lo >= VW) {
      int64_t o0 = fr_k_min64(ox, hi - VW);
      fr_vf acc0 = vsplat(b);
      for (int r = 0; r < nr; r++)
        for (int64_t kx = 0; kx < KW; kx++)
          acc0 += vsplat(wr[r][kx]) * vload_s(rows[r] + o0 * S + kx * dw, S);
      vstore(yr + o0, acc0);
      ox = o0 + VW;
    }
    /* the rest: border and leftover columns, with bounds checks */
    for (int64_t o = 0; o < OW; o++) {
      if (o >= lo && o < ox) {
        o = ox - 1;
        continue;
      }
      float acc = b;
      for (int r = 0; r < nr; r++)
        for (int64_t kx = 0; kx < KW; kx++) {
          int64_t ix = o * S + kx * dw - pw;
          if (ix >= 0 && ix < IW) acc += wr[r][kx] * rows[r][ix + pw];
        }
      yr[o] = acc;
    }
  }
}

static void dw_plane_s1(const fr_k_conv *p, const float *xp, const float *wp,
                        float b, float *yp) {
  dw_plane(p, xp, wp, b, yp, 1);
}
static void dw_plane_s2(const fr_k_conv *p, const float *xp, const float *wp,
                        float b, float *yp) {
  dw_plane(p, xp, wp, b, yp, 2);
}
static void dw_plane_sn(const fr_k_conv *p, const float *xp, const float *wp,
                        float b, float *yp) {
  dw_plane(p, xp, wp, b, yp, p->stride[2]);
}

/* The 3x3 depthwise fast path (dilation 1, width stride 1 or 2, any pads
 * and height stride). A plane is done in bands of R output rows: the
 * input rows a band reads are copied, zero-padded, onto the stack, split
 * by row and column parity when a stride is 2 (a "sub-plane" per input
 * row mod sh (up to 3) and column mod sw), so that every tap of every
 * output is a unit-stride read: output (j, ox) of the band, at flat index
 * q = j * Wq + ox, reads tap (ky, kx) at sub-plane (ky % sh, kx % sw),
 * index q + (ky / sh) * Wq + kx / sw. Rows of at least VW outputs are
 * computed row by row into y (four vectors at a time, the taps of a
 * kernel row shifted in registers from one set of loads, then single
 * vectors, the last one ending at OW); narrower rows as one flat run over
 * the band (the two or one dropped columns of each row too) into T, then
 * copied. Every output adds b and its nine products in the general
 * kernel's order (a padded tap adds w * 0); the select-only epilogues
 * (epi_vec), with the residual before them, run in registers, the others
 * on each row. Unrolled by hand: the JIT does not unroll. */
enum {
  DW3_BUF = 6144, /* floats of a band's sub-planes */
  DW3_TBUF = 2048 /* floats of the flat outputs */
};

#if VW == 16
#define DW_SH1 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#define DW_SH2 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17
#define DW_SHE 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 30
#define DW_SR 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
#define DW_EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define DW_ODD 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#elif VW == 8
#define DW_SH1 1, 2, 3, 4, 5, 6, 7, 8
#define DW_SH2 2, 3, 4, 5, 6, 7, 8, 9
#define DW_SHE 1, 2, 3, 4, 5, 6, 7, 14
#define DW_SR 7, 8, 9, 10, 11, 12, 13, 14
#define DW_EVEN 0, 2, 4, 6, 8, 10, 12, 14
#define DW_ODD 1, 3, 5, 7, 9, 11, 13, 15
#else
#define DW_SH1 1, 2, 3, 4
#define DW_SH2 2, 3, 4, 5
#define DW_SHE 1, 2, 3, 6
#define DW_SR 3, 4, 5, 6
#define DW_EVEN 0, 2, 4, 6
#define DW_ODD 1, 3, 5, 7
#endif
/* a[1..VW] and a[2..VW+1] of a, b side by side */
#define DW_S1(a, b) __builtin_shufflevector(a, b, DW_SH1)
#define DW_S2(a, b) __builtin_shufflevector(a, b, DW_SH2)

/* One kernel row (weights w[0..2]) added to the four accumulators of
 * outputs [q, q + 4 VW): at width stride 1 the taps read e[q + kx]; at 2,
 * e[q] (even columns), o[q] (odd) and e[q + 1]. Reads nothing past the
 * last tap. */
static inline __attribute__((always_inline)) void
dw3_taps4(fr_vf *a, const float *e, const float *o, const fr_vf *w,
          const int64_t sw) {
  fr_vf v0 = vload(e), v1 = vload(e + VW), v2 = vload(e + 2 * VW);
  fr_vf v3 = vload(e + 3 * VW);
  a[0] += w[0] * v0, a[1] += w[0] * v1, a[2] += w[0] * v2, a[3] += w[0] * v3;
  if (sw == 1) {
    fr_vf v4 = vload(e + 3 * VW + 2); /* e[q + 4 VW - 2 .. + 2] */
    a[0] += w[1] * DW_S1(v0, v1), a[1] += w[1] * DW_S1(v1, v2);
    a[2] += w[1] * DW_S1(v2, v3);
    a[3] += w[1] * __builtin_shufflevector(v3, v4, DW_SHE);
    a[0] += w[2] * DW_S2(v0, v1), a[1] += w[2] * DW_S2(v1, v2);
    a[2] += w[2] * DW_S2(v2, v3), a[3] += w[2] * v4;
  } else {
    a[0] += w[1] * vload(o), a[1] += w[1] * vload(o + VW);
    a[2] += w[1] * vload(o + 2 * VW), a[3] += w[1] * vload(o + 3 * VW);
    a[0] += w[2] * DW_S1(v0, v1), a[1] += w[2] * DW_S1(v1, v2);
    a[2] += w[2] * DW_S1(v2, v3), a[3] += w[2] * vload(e + 3 * VW + 1);
  }
}

/* The same for one vector. */
static inline __attribute__((always_inline)) fr_vf
dw3_taps1(fr_vf a, const float *e, const float *o, const fr_vf *w,
          const int64_t sw) {
  a += w[0] * vload(e);
  a += w[1] * vload(sw == 1 ? e + 1 : o);
  a += w[2] * vload(e + (sw == 1 ? 2 : 1));
  return a;
}

/* Output v of a band: + residual, epilogue, store. */
static inline __attribute__((always_inline)) void
dw3_out(float *y, const float *res, const fr_k_epi *ve, fr_vf v) {
  if (res) v += vload(res);
  vstore(y, ve ? epi_vec(ve, v) : v);
}

/* Flat outputs [0, n) (n >= VW) of a band, into y[q] (plus res[q]): e[r],
 * o[r] the even (or all) and odd columns of the sub-plane of kernel row
 * r, advanced to the output's first tap. */
static inline __attribute__((always_inline)) void
dw3_run(const float *const *e, const float *const *o, const fr_vf *wv,
        float b, int64_t n, const float *res, const fr_k_epi *ve,
        float *restrict y, const int64_t sw) {
  int64_t q = 0;
  for (; q + 4 * VW <= n; q += 4 * VW) {
    fr_vf a[4] = {vsplat(b), vsplat(b), vsplat(b), vsplat(b)};
    dw3_taps4(a, e[0] + q, o[0] + q, wv, sw);
    dw3_taps4(a, e[1] + q, o[1] + q, wv + 3, sw);
    dw3_taps4(a, e[2] + q, o[2] + q, wv + 6, sw);
    dw3_out(y + q, res ? res + q : NULL, ve, a[0]);
    dw3_out(y + q + VW, res ? res + q + VW : NULL, ve, a[1]);
    dw3_out(y + q + 2 * VW, res ? res + q + 2 * VW : NULL, ve, a[2]);
    dw3_out(y + q + 3 * VW, res ? res + q + 3 * VW : NULL, ve, a[3]);
  }
  /* single vectors, the last one ending at n (it may overlap: outputs
   * are stored, not accumulated) */
  while (q < n) {
    int64_t q0 = fr_k_min64(q, n - VW);
    fr_vf a = dw3_taps1(vsplat(b), e[0] + q0, o[0] + q0, wv, sw);
    a = dw3_taps1(a, e[1] + q0, o[1] + q0, wv + 3, sw);
    a = dw3_taps1(a, e[2] + q0, o[2] + q0, wv + 6, sw);
    dw3_out(y + q0, res ? res + q0 : NULL, ve, a);
    q = q0 + VW;
  }
}

/* Input row iy (zeros outside the image) into the band: padded column
 * c = ix + pw goes to sub-plane c % sw (d[c % sw]) at c / sw, for the Wq
 * entries of each. A row of fewer than VW entries is still copied by
 * whole vectors when they stay inside the plane (the entries past the
 * row, in the next row of the sub-plane or its slack, are written again
 * later). */
static inline __attribute__((always_inline)) void
dw3_fill_row(const float *xp, int64_t iy, int64_t IH, int64_t IW,
             int64_t pw, int64_t Wq, const int64_t sw, float *const *d) {
  if (iy < 0 || iy >= IH) {
    for (int64_t s = 0; s < sw; s++)
      for (int64_t j = 0; j < Wq; j++) d[s][j] = 0;
    return;
  }
  const float *xr = xp + iy * IW;
  /* entries [lo, hi) of both sub-planes are inside the row:
   * j * sw - pw >= 0 and j * sw + sw - 1 - pw < IW */
  const int64_t lo = fr_k_min64((pw + sw - 1) / sw, Wq);
  const int64_t hi = fr_k_max64(lo, fr_k_min64(Wq, (IW + pw) / sw));
  const float *src = xr + lo * sw - pw;
  const int64_t n = hi - lo;
  if (n >= VW || (n > 0 && (src - xp) + sw * VW <= IH * IW)) {
    /* vectors, the last one ending at hi (it may overlap) */
    for (int64_t j = 0; j < n;) {
      const int64_t j0 = n < VW ? 0 : fr_k_min64(j, n - VW);
      if (sw == 1) {
        vstore(d[0] + lo + j0, vload(src + j0));
      } else {
        fr_vf u0 = vload(src + 2 * j0), u1 = vload(src + 2 * j0 + VW);
        vstore(d[0] + lo + j0, __builtin_shufflevector(u0, u1, DW_EVEN));
        vstore(d[1] + lo + j0, __builtin_shufflevector(u0, u1, DW_ODD));
      }
      j = j0 + VW;
    }
  } else {
    for (int64_t j = 0; j < n; j++)
      for (int64_t s = 0; s < sw; s++) d[s][lo + j] = src[j * sw + s];
  }
  /* the padded or partly inside entries, after the vectors */
  for (int64_t s = 0; s < sw; s++) {
    for (int64_t j = 0; j < lo; j++) {
      int64_t ix = j * sw + s - pw;
      d[s][j] = ix >= 0 && ix < IW ? xr[ix] : 0.0f;
    }
    for (int64_t j = hi; j < Wq; j++) {
      int64_t ix = j * sw + s - pw;
      d[s][j] = ix >= 0 && ix < IW ? xr[ix] : 0.0f;
    }
  }
}

/* Output rows per band (< 1: the band does not fit): each sub-plane
 * holds R + ex rows of Wq and 2 VW of slack; a flat run, R * Wq outputs
 * and VW of slack. */
static int64_t dw3_band_rows(const fr_k_conv *p) {
  const int64_t OW = p->out[2], sw = p->stride[2], sh = p->stride[1];
  const int64_t Wq = OW + 2 / sw, nrp = fr_k_min64(sh, 3), ex = 2 / sh;
  int64_t R = (DW3_BUF / (nrp * sw) - 2 * VW) / Wq - ex;
  if (OW < VW) R = fr_k_min64(R, (DW3_TBUF - VW) / Wq);
  return fr_k_min64(R, p->out[1]);
}

static inline __attribute__((always_inline)) void
dw3_plane(const fr_k_conv *p, const float *restrict xp, const float *restrict wp,
          float b, const float *res, float *restrict yp, int64_t r0, int64_t r1,
          const int64_t sw) {
  const int64_t IH = p->in[1], IW = p->in[2], OW = p->out[2];
  const int64_t sh = p->stride[1], ph = p->pad[1], pw = p->pad[2];
  const int64_t Wq = OW + 2 / sw, nrp = fr_k_min64(sh, 3), ex = 2 / sh;
  const bool flat = OW < VW;
  const int64_t R = dw3_band_rows(p);
  const int64_t Ps = (R + ex) * Wq + 2 * VW; /* floats of a sub-plane */
  float band[DW3_BUF], T[DW3_TBUF];
  epi_ctx ec = {&p->epi, NULL, flat ? NULL : res, OW};
  const bool on = epi_on(&p->epi, NULL, res);
  const fr_k_epi epi = p->epi; /* (see dw3_plane_any) */
  const fr_k_epi *ve = on && epi_vec_res_ok(&ec) ? &epi : NULL;
  if (flat && res) ve = NULL; /* the residual is in y's layout */
  fr_vf wv[9];
  for (int i = 0; i < 9; i++) wv[i] = vsplat(wp[i]);
  /* the slack after each sub-plane, read by the flat run's last vector */
  for (int64_t s = 0; s < nrp * sw; s++)
    for (int64_t j = Ps - 2 * VW; j < Ps; j++) band[s * Ps + j] = 0;
  for (int64_t oy0 = r0; oy0 < r1; oy0 += R) {
    const int64_t nb = fr_k_min64(R, r1 - oy0);
    /* sub-plane (rp, s) row i: input row (oy0 + i) * sh + rp - ph */
    for (int64_t i = 0; i < nb + ex; i++) /* in the input's order */
      for (int64_t rp = 0; rp < nrp; rp++) {
        float *d[2] = {band + (rp * sw) * Ps + i * Wq,
                       band + (rp * sw + sw - 1) * Ps + i * Wq};
        dw3_fill_row(xp, (oy0 + i) * sh + rp - ph, IH, IW, pw, Wq, sw, d);
      }
    /* kernel row ky: sub-plane row parity ky % sh, row ky / sh */
    const float *e[3], *o[3];
    for (int ky = 0; ky < 3; ky++) {
      const float *s = band + (ky % sh) * sw * Ps + (ky / sh) * Wq;
      e[ky] = s;
      o[ky] = s + (sw - 1) * Ps;
    }
    if (!flat) {
      for (int64_t j = 0; j < nb; j++) {
        const float *er[3] = {e[0] + j * Wq, e[1] + j * Wq, e[2] + j * Wq};
        const float *orr[3] = {o[0] + j * Wq, o[1] + j * Wq, o[2] + j * Wq};
        float *yr = yp + (oy0 + j) * OW;
        const float *rr = res ? res + (oy0 + j) * OW : NULL;
        dw3_run(er, orr, wv, b, OW, ve ? rr : NULL, ve, yr, sw);
        if (on && !ve) epi_row(&p->epi, OW, yr, NULL, rr);
      }
      continue;
    }
    dw3_run(e, o, wv, b, fr_k_max64((nb - 1) * Wq + OW, VW), NULL, ve, T, sw);
    for (int64_t j = 0; j < nb; j++) {
      /* by a whole vector inside the rows of this call (the next row
       * is written after), the last row by floats */
      float *yr = yp + (oy0 + j) * OW;
      if ((oy0 + j) * OW + VW <= r1 * OW) vstore(yr, vload(T + j * Wq));
      else
        for (int64_t ox = 0; ox < OW; ox++) yr[ox] = T[j * Wq + ox];
      if (on && !ve) epi_row(&p->epi, OW, yr, NULL, res ? res + (oy0 + j) * OW : NULL);
    }
  }
}

/* Strides (1, 1) or (2, 2) with one padding before (and as much after as
 * the outputs need at stride 1: y the size of x; none at 2: 2 OW <= IW,
 * 2 OH <= IH), rows of VW outputs or more: the rows past the first (and
 * before the last at stride 1) read x in place, row by row, k (4, 2 or 1)
 * vectors of outputs at a time, the last ones ending at OW (overlapping:
 * outputs are stored, not accumulated). At stride 1 output vector v_i of
 * an input row reads the tap before as [x[ox - 1] or 0, v_i[0..VW-2]]
 * and the tap after as [v_i[1..VW-1], x[ox + VW] or 0]; at stride 2 the
 * even and odd columns of two loads are the middle and last taps, the
 * odd ones shifted by one (x[2 ox - 1] or 0 first) the first. Loads stay
 * inside the row; the other rows go through the band path. */
static bool dw3_inplace_ok(const fr_k_conv *p) {
  const int64_t s = p->stride[2], OH = p->out[1], OW = p->out[2];
  if (p->stride[1] != s || p->pad[1] != 1 || p->pad[2] != 1 || OW < VW)
    return false;
  if (s == 1)
    return p->in[1] == OH && p->in[2] == OW && OH >= 3;
  return 2 * OW <= p->in[2] && 2 * OH <= p->in[1] && OH >= 2;
}

/* One kernel row (w[0..2]) on input row x for the k vectors of outputs
 * [ox, ox + k VW) of a row of OW (ox + k VW <= OW), stride 1. */
static inline __attribute__((always_inline)) void
dw3_ctaps(fr_vf *a, const float *x, int64_t ox, int64_t OW, const fr_vf *w,
          const int k) {
  const fr_vf z = {0};
  fr_vf v0 = vload(x + ox), v1 = z, v2 = z, v3 = z;
  if (k > 1) v1 = vload(x + ox + VW);
  if (k > 2) v2 = vload(x + ox + 2 * VW), v3 = vload(x + ox + 3 * VW);
  /* the tap before: x[ox - 1 ..] loaded, or 0 then v0 */
  a[0] += w[0] * (ox > 0 ? vload(x + ox - 1) : __builtin_shufflevector(z, v0, DW_SR));
  if (k > 1) a[1] += w[0] * __builtin_shufflevector(v0, v1, DW_SR);
  if (k > 2) {
    a[2] += w[0] * __builtin_shufflevector(v1, v2, DW_SR);
    a[3] += w[0] * __builtin_shufflevector(v2, v3, DW_SR);
  }
  a[0] += w[1] * v0;
  if (k > 1) a[1] += w[1] * v1;
  if (k > 2) a[2] += w[1] * v2, a[3] += w[1] * v3;
  /* the last vector's tap after: loaded, or its own lanes then 0 */
  const fr_vf vl = k == 1 ? v0 : k == 2 ? v1 : v3;
  fr_vf e = ox + k * VW < OW ? vload(x + ox + (k - 1) * VW + 1)
                             : __builtin_shufflevector(vl, z, DW_SH1);
  if (k == 1) a[0] += w[2] * e;
  if (k == 2) a[0] += w[2] * DW_S1(v0, v1), a[1] += w[2] * e;
  if (k == 4) {
    a[0] += w[2] * DW_S1(v0, v1), a[1] += w[2] * DW_S1(v1, v2);
    a[2] += w[2] * DW_S1(v2, v3), a[3] += w[2] * e;
  }
}

/* The same at stride 2: outputs [ox, ox + k VW) read x[2 ox - 1 ..]. */
static inline __attribute__((always_inline)) void
dw3_c2taps(fr_vf *a, const float *x, int64_t ox, const fr_vf *w, const int k) {
  const fr_vf z = {0};
  fr_vf ev[4], od[4];
  const float *s = x + 2 * ox;
#define DW_EO(i)                                                               \
  do {                                                                         \
    fr_vf u0 = vload(s + 2 * (i) * VW), u1 = vload(s + 2 * (i) * VW + VW);     \
    ev[i] = __builtin_shufflevector(u0, u1, DW_EVEN);                          \
    od[i] = __builtin_shufflevector(u0, u1, DW_ODD);                           \
  } while (0)
  DW_EO(0);
  if (k > 1) DW_EO(1);
  if (k > 2) {
    DW_EO(2);
    DW_EO(3);
  }
#undef DW_EO
  a[0] += w[0] * __builtin_shufflevector(ox > 0 ? vsplat(s[-1]) : z, od[0], DW_SR);
  if (k > 1) a[1] += w[0] * __builtin_shufflevector(od[0], od[1], DW_SR);
  if (k > 2) {
    a[2] += w[0] * __builtin_shufflevector(od[1], od[2], DW_SR);
    a[3] += w[0] * __builtin_shufflevector(od[2], od[3], DW_SR);
  }
  a[0] += w[1] * ev[0];
  if (k > 1) a[1] += w[1] * ev[1];
  if (k > 2) a[2] += w[1] * ev[2], a[3] += w[1] * ev[3];
  a[0] += w[2] * od[0];
  if (k > 1) a[1] += w[2] * od[1];
  if (k > 2) a[2] += w[2] * od[2], a[3] += w[2] * od[3];
}

/* Outputs [ox, ox + k VW) of row oy of the plane. */
static inline __attribute__((always_inline)) void
dw3_cblock(const fr_k_conv *p, const float *xp, int64_t oy, int64_t ox,
           const fr_vf *wv, float b, const float *res, const fr_k_epi *ve,
           float *yp, const int k, const int64_t sw) {
  const int64_t IW = p->in[2], OW = p->out[2];
  fr_vf a[4] = {vsplat(b), vsplat(b), vsplat(b), vsplat(b)};
  const float *x0 = xp + (oy * sw - 1) * IW;
  if (sw == 1) {
    dw3_ctaps(a, x0, ox, OW, wv, k);
    dw3_ctaps(a, x0 + IW, ox, OW, wv + 3, k);
    dw3_ctaps(a, x0 + 2 * IW, ox, OW, wv + 6, k);
  } else {
    dw3_c2taps(a, x0, ox, wv, k);
    dw3_c2taps(a, x0 + IW, ox, wv + 3, k);
    dw3_c2taps(a, x0 + 2 * IW, ox, wv + 6, k);
  }
  const int64_t q = oy * OW + ox;
  dw3_out(yp + q, res ? res + q : NULL, ve, a[0]);
  if (k > 1) dw3_out(yp + q + VW, res ? res + q + VW : NULL, ve, a[1]);
  if (k > 2) {
    dw3_out(yp + q + 2 * VW, res ? res + q + 2 * VW : NULL, ve, a[2]);
    dw3_out(yp + q + 3 * VW, res ? res + q + 3 * VW : NULL, ve, a[3]);
  }
}

/* Output rows [r0, r1) in place. */
static inline __attribute__((always_inline)) void
dw3_inplace(const fr_k_conv *p, const float *restrict xp, const fr_vf *wv,
            float b, const float *res, const fr_k_epi *ve, float *restrict yp,
            int64_t r0, int64_t r1, const int64_t sw) {
  const int64_t W = p->out[2];
  for (int64_t oy = r0; oy < r1; oy++)
    for (int64_t ox = 0; ox < W;) {
      const int64_t rem = W - ox;
      if (rem >= 4 * VW) {
        dw3_cblock(p, xp, oy, ox, wv, b, res, ve, yp, 4, sw);
        ox += 4 * VW;
      } else if (W >= 4 * VW && rem > 2 * VW) {
        dw3_cblock(p, xp, oy, W - 4 * VW, wv, b, res, ve, yp, 4, sw);
        break;
      } else if (rem >= 2 * VW) {
        dw3_cblock(p, xp, oy, ox, wv, b, res, ve, yp, 2, sw);
        ox += 2 * VW;
      } else if (W >= 2 * VW && rem > VW) {
        dw3_cblock(p, xp, oy, W - 2 * VW, wv, b, res, ve, yp, 2, sw);
        break;
      } else if (rem >= VW) {
        dw3_cblock(p, xp, oy, ox, wv, b, res, ve, yp, 1, sw);
        ox += VW;
      } else {
        dw3_cblock(p, xp, oy, W - VW, wv, b, res, ve, yp, 1, sw);
        break;
      }
    }
}

/* A plane at width stride sw: the rows dw3_inplace_ok allows in place,
 * the others (or all) by bands. */
static inline __attribute__((always_inline)) void
dw3_plane_any(const fr_k_conv *p, const float *xp, const float *wp, float b,
              const float *res, float *yp, const int64_t sw) {
  const int64_t OH = p->out[1], OW = p->out[2];
  if (!dw3_inplace_ok(p)) {
    dw3_plane(p, xp, wp, b, res, yp, 0, OH, sw);
    return;
  }
  const int64_t r1 = sw == 1 ? OH - 1 : OH; /* rows [1, r1) in place */
  epi_ctx ec = {&p->epi, NULL, res, OW};
  const bool on = epi_on(&p->epi, NULL, res);
  /* (a copy the stores to y cannot alias, kept in registers) */
  const fr_k_epi epi = p->epi;
  const fr_k_epi *ve = on && epi_vec_res_ok(&ec) ? &epi : NULL;
  fr_vf wv[9];
  for (int i = 0; i < 9; i++) wv[i] = vsplat(wp[i]);
  dw3_inplace(p, xp, wv, b, ve ? res : NULL, ve, yp, 1, r1, sw);
  if (on && !ve)
    epi_row(&p->epi, (r1 - 1) * OW, yp + OW, NULL, res ? res + OW : NULL);
  dw3_plane(p, xp, wp, b, res, yp, 0, 1, sw);
  if (r1 < OH) dw3_plane(p, xp, wp, b, res, yp, r1, OH, sw);
}

NO_MEM_CALLS static void dw3_plane_s1(const fr_k_conv *p, const float *xp,
                                      const float *wp, float b, const float *res,
                                      float *yp) {
  dw3_plane_any(p, xp, wp, b, res, yp, 1);
}
NO_MEM_CALLS static void dw3_plane_s2(const fr_k_conv *p, const float *xp,
                                      const float *wp, float b, const float *res,
                                      float *yp) {
  dw3_plane_any(p, xp, wp, b, res, yp, 2);
}

/* The fast path takes it: 3x3, dilation 1, width stride 1 or 2, a band
 * of one output row at least fits (rows up to about 2800 outputs). */
static bool dw_is_3x3(const fr_k_conv *p) {
  return p->k[1] == 3 && p->k[2] == 3 && p->dil[1] == 1 && p->dil[2] == 1 &&
         (p->stride[2] == 1 || p->stride[2] == 2) && p->out[1] > 0 &&
         p->out[2] > 0 && dw3_band_rows(p) >= 1;
}

/* Small planes (rows of fewer than VW outputs, or few outputs), VW channels at a time
 * across lanes: the planes transposed to (pixel, channel lanes), every tap
 * of an output one vector product for VW channels, the outputs transposed
 * back. A 3 x 12 plane's own setup (its band, rows, slack) cost several
 * times its 324 products. Any kernel size, stride, dilation and pads; the
 * choice depends on the plane's shape only, so that every channel takes
 * the same path however threads cut them (a last block of fewer channels
 * has empty lanes). */
enum { DWL_MAX_PIX = 512, DWL_MAX_TAPS = 49 }; /* 32 KB of stack each */
/* ... or planes of at most DWL_SMALL_OUT outputs whatever their width
 * (measured: 6 x 24 outputs 1.5x faster across lanes, 20 x 20 10% slower) */
enum { DWL_SMALL_OUT = 256 };

/* 2-D, both planes and the taps within the lanes' buffers. */
static bool lanes_fit(const fr_k_conv *p) {
  return p->in[0] == 1 && p->out[0] == 1 && p->k[0] == 1 &&
         p->in[1] * p->in[2] <= DWL_MAX_PIX && p->out[1] * p->out[2] <= DWL_MAX_PIX &&
         p->k[1] * p->k[2] <= DWL_MAX_TAPS;
}

static bool dw_lanes_ok(const fr_k_conv *p) {
  return lanes_fit(p) && (p->out[2] < VW || p->out[1] * p->out[2] <= DWL_SMALL_OUT);
}

/* t[i] lane l = x[l * ld + i] for i < n, lanes l < nl (the others 0):
 * VW pixels at a time by a register transpose. */
static inline __attribute__((always_inline)) void
lanes_in(const float *x, int64_t ld, int64_t n, int nl, fr_vf *t) {
  int64_t i = 0;
  if (nl == VW)
    for (; i + VW <= n; i += VW) {
      fr_vf r[VW];
#pragma GCC unroll 16
      for (int l = 0; l < VW; l++) r[l] = vload(x + l * ld + i);
      vtranspose(r);
#pragma GCC unroll 16
      for (int q = 0; q < VW; q++) t[i + q] = r[q];
    }
  for (; i < n; i++) {
    fr_vf v = {0};
    for (int l = 0; l < nl; l++) v[l] = x[l * ld + i];
    t[i] = v;
  }
}

/* The inverse: y[l * ld + i] = t[i] lane l. */
static inline __attribute__((always_inline)) void
lanes_out(const fr_vf *t, int64_t n, int nl, int64_t ld, float *y) {
  int64_t i = 0;
  if (nl == VW)
    for (; i + VW <= n; i += VW) {
      fr_vf r[VW];
#pragma GCC unroll 16
      for (int q = 0; q < VW; q++) r[q] = t[i + q];
      vtranspose(r);
#pragma GCC unroll 16
      for (int l = 0; l < VW; l++) vstore(y + l * ld + i, r[l]);
    }
  for (; i < n; i++)
    for (int l = 0; l < nl; l++) y[l * ld + i] = t[i][l];
}

/* The bias (NULL: zeros) and the KS taps' weights of channels [c0, c0 +
 * nl) as lanes (the others 0): *bv, wv[t] for t < KS. */
static void lanes_params(const float *w, const float *bias, int64_t c0, int nl,
                         int64_t KS, fr_vf *bv, fr_vf *wv) {
  fr_vf b = {0};
  for (int l = 0; l < nl; l++) b[l] = bias ? bias[c0 + l] : 0.0f;
  *bv = b;
  for (int64_t t = 0; t < KS; t++) {
    fr_vf v = {0};
    for (int l = 0; l < nl; l++) v[l] = w[(c0 + l) * KS + t];
    wv[t] = v;
  }
}

static void dw_lanes(const fr_k_conv *p, const float *x, const float *w,
                     const float *bias, const float *res, float *y) {
  const int64_t IH = p->in[1], IW = p->in[2], OH = p->out[1], OW = p->out[2];
  const int64_t KH = p->k[1], KW = p->k[2], KS = KH * KW;
  const int64_t IS = IH * IW, OS = OH * OW;
  const bool epi = p->epi.act != FR_K_EPI_NONE ||
                   p->epi.post != FR_K_EPI_POST_NONE || res;
  fr_vf xt[DWL_MAX_PIX], yt[DWL_MAX_PIX], wv[DWL_MAX_TAPS];
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t c0 = 0; c0 < p->C; c0 += VW) {
      const int nl = (int)fr_k_min64(VW, p->C - c0);
      const float *xp = x + (n * p->C + c0) * IS;
      float *yp = y + (n * p->C + c0) * OS;
      lanes_in(xp, IS, IS, nl, xt);
      fr_vf bv;
      lanes_params(w, bias, c0, nl, KS, &bv, wv);
      for (int64_t oy = 0; oy < OH; oy++)
        for (int64_t ox = 0; ox < OW; ox++) {
          fr_vf acc = bv;
          for (int64_t ky = 0; ky < KH; ky++) {
            const int64_t iy = oy * p->stride[1] - p->pad[1] + ky * p->dil[1];
            if (iy < 0 || iy >= IH) continue;
            for (int64_t kx = 0; kx < KW; kx++) {
              const int64_t ix = ox * p->stride[2] - p->pad[2] + kx * p->dil[2];
              if (ix >= 0 && ix < IW) acc += wv[ky * KW + kx] * xt[iy * IW + ix];
            }
          }
          yt[oy * OW + ox] = acc;
        }
      lanes_out(yt, OS, nl, OS, yp);
      if (epi)
        for (int l = 0; l < nl; l++)
          fr_k_epi_f32(&p->epi, OS, yp + l * OS, NULL,
                       res ? res + (n * p->C + c0 + l) * OS : NULL);
    }
}

int fr_k_dw_lanes_ok(const fr_k_conv *p) { return dw_lanes_ok(p); }

/* A depthwise conv's dW (C, KH * KW) for channels [c0, c1) across lanes,
 * as dw_lanes: per block of VW channels and per image, x and dy
 * transposed, then each output pixel's dy times the inputs of its taps
 * added to the taps' sums (images, then pixels in order: a channel's sum
 * does not depend on the lane it is in, nor on how threads cut). */
void fr_k_dw_grad_lanes_f32(const fr_k_conv *p, const float *x, const float *dy,
                            float *dw, int64_t c0, int64_t c1) {
  const int64_t IH = p->in[1], IW = p->in[2], OH = p->out[1], OW = p->out[2];
  const int64_t KH = p->k[1], KW = p->k[2], KS = KH * KW;
  const int64_t IS = IH * IW, OS = OH * OW;
  fr_vf xt[DWL_MAX_PIX], dt[DWL_MAX_PIX], acc[DWL_MAX_TAPS];
  for (int64_t cb = c0; cb < c1; cb += VW) {
    const int nl = (int)fr_k_min64(VW, c1 - cb);
    for (int64_t t = 0; t < KS; t++) acc[t] = (fr_vf){0};
    for (int64_t n = 0; n < p->N; n++) {
      lanes_in(x + (n * p->C + cb) * IS, IS, IS, nl, xt);
      lanes_in(dy + (n * p->M + cb) * OS, OS, OS, nl, dt);
      for (int64_t oy = 0; oy < OH; oy++)
        for (int64_t ox = 0; ox < OW; ox++) {
          const fr_vf d = dt[oy * OW + ox];
          for (int64_t ky = 0; ky < KH; ky++) {
            const int64_t iy = oy * p->stride[1] - p->pad[1] + ky * p->dil[1];
            if (iy < 0 || iy >= IH) continue;
            for (int64_t kx = 0; kx < KW; kx++) {
              const int64_t ix = ox * p->stride[2] - p->pad[2] + kx * p->dil[2];
              if (ix >= 0 && ix < IW) acc[ky * KW + kx] += d * xt[iy * IW + ix];
            }
          }
        }
    }
    for (int64_t t = 0; t < KS; t++)
      for (int l = 0; l < nl; l++) dw[(cb + l) * KS + t] = acc[t][l];
  }
}

/* The general path, any kernel size and stride. */
void fr_k_dwconv_any_f32(const fr_k_conv *p, const float *x, const float *w,
                         const float *bias, const float *res, float *y) {
  const int64_t IS = p->in[1] * p->in[2], OS = p->out[1] * p->out[2];
  const int64_t KS = p->k[1] * p->k[2];
  const bool epi = p->epi.act != FR_K_EPI_NONE ||
                   p->epi.post != FR_K_EPI_POST_NONE || res;
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t c = 0; c < p->C; c++) {
      const float *xp = x + (n * p->C + c) * IS; /* (IH, IW) */
      float *yp = y + (n * p->C + c) * OS;       /* (OH, OW) */
      const float *wp = w + c * KS;              /* (KH, KW) */
      float b = bias ? bias[c] : 0.0f;
      if (p->stride[2] == 1) dw_plane_s1(p, xp, wp, b, yp);
      else if (p->stride[2] == 2) dw_plane_s2(p, xp, wp, b, yp);
      else dw_plane_sn(p, xp, wp, b, yp);
      /* the plane is final: the epilogue while it is in cache */
      if (epi)
        fr_k_epi_f32(&p->epi, OS, yp, NULL,
                     res ? res + (n * p->C + c) * OS : NULL);
    }
}

FR_K_GENERIC void fr_k_dwconv_f32(const fr_k_conv *p, const float *x, const float *w,
                                  const float *bias, const float *res, float *y) {
  if (dw_lanes_ok(p)) {
    dw_lanes(p, x, w, bias, res, y);
    return;
  }
  if (!dw_is_3x3(p)) {
    fr_k_dwconv_any_f32(p, x, w, bias, res, y);
    return;
  }
  const int64_t IS = p->in[1] * p->in[2], OS = p->out[1] * p->out[2];
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t c = 0; c < p->C; c++) {
      const float *xp = x + (n * p->C + c) * IS; /* (IH, IW) */
      float *yp = y + (n * p->C + c) * OS;       /* (OH, OW) */
      const float *rp = res ? res + (n * p->C + c) * OS : NULL;
      float b = bias ? bias[c] : 0.0f;
      if (p->stride[2] == 1) dw3_plane_s1(p, xp, w + c * 9, b, rp, yp);
      else dw3_plane_s2(p, xp, w + c * 9, b, rp, yp);
    }
}

/* ---- direct convolution of few taps -------------------------------------- */

/* A 2-D conv whose output sums few taps (C * KH * KW <= DC_MAXT, one
 * group, not 1x1: an image model's stem on 3 channels) and width stride 1
 * or 2: no
 * packing (the implicit GEMM's B would be as large as the work on it);
 * each output row takes nm (DC_MB or 1) channels at a time, 2 * VW columns
 * at a time, every tap a vector load of the input row and nm FMAs; border
 * columns one by one; the epilogue on each row while it is in L1. */
/* DC_MB output channels at a time: 2 DC_MB accumulators, 16 of 32
 * registers with AVX-512, 8 of 16 below */
enum { DC_MB = VW == 16 ? 8 : 4, DC_MAXT = 32, DC_PADW = 256 };

static bool conv_is_direct(const fr_k_conv *p) {
  return p->group == 1 && p->in[0] == 1 && p->k[0] == 1 && p->out[0] == 1 &&
         p->pad[0] == 0 && p->k[1] * p->k[2] > 1 &&
         p->C * p->k[1] * p->k[2] <= DC_MAXT &&
         (p->stride[2] == 1 || p->stride[2] == 2);
}

/* The input rows an output row reads: rows[r] (pw floats before the row),
 * whose weights start at w[m * K + wo[r]], KW of them. */
typedef struct dc_rows {
  int n;
  const float *rows[DC_MAXT];
  int64_t wo[DC_MAXT];
} dc_rows;

static inline __attribute__((always_inline)) void
dc_block(const int nm, const fr_k_conv *p, const dc_rows *rs,
         const float *w, const float *bias, int64_t m0, int64_t lo,
         int64_t hi, float *const *yr, const int64_t S) {
  const int64_t K = p->C * p->k[1] * p->k[2], KW = p->k[2];
  const int64_t dw = p->dil[2], pw = p->pad[2], IW = p->in[2], OW = p->out[2];
  const float *wm = w + m0 * K;
  int64_t ox = lo;
  for (; ox + 2 * VW <= hi; ox += 2 * VW) {
    fr_vf a0[DC_MB], a1[DC_MB];
#pragma GCC unroll 8
    for (int j = 0; j < nm; j++) a0[j] = a1[j] = vsplat(bias ? bias[m0 + j] : 0.0f);
    for (int r = 0; r < rs->n; r++)
      for (int64_t kx = 0; kx < KW; kx++) {
        const float *xr = rs->rows[r] + ox * S + kx * dw;
        fr_vf x0 = vload_s(xr, S), x1 = vload_s(xr + VW * S, S);
        const float *wt = wm + rs->wo[r] + kx;
#pragma GCC unroll 8
        for (int j = 0; j < nm; j++) {
          fr_vf wv = vsplat(wt[j * K]);
          a0[j] += wv * x0;
          a1[j] += wv * x1;
        }
      }
#pragma GCC unroll 8
    for (int j = 0; j < nm; j++) {
      vstore(yr[j] + ox, a0[j]);
      vstore(yr[j] + ox + VW, a1[j]);
    }
  }
  /* the last vectors, the last one ending at hi (overlapping) */
  while (ox < hi && hi - lo >= VW) {
    int64_t o0 = fr_k_min64(ox, hi - VW);
    fr_vf a0[DC_MB];
#pragma GCC unroll 8
    for (int j = 0; j < nm; j++) a0[j] = vsplat(bias ? bias[m0 + j] : 0.0f);
    for (int r = 0; r < rs->n; r++)
      for (int64_t kx = 0; kx < KW; kx++) {
        fr_vf x0 = vload_s(rs->rows[r] + o0 * S + kx * dw, S);
        const float *wt = wm + rs->wo[r] + kx;
#pragma GCC unroll 8
        for (int j = 0; j < nm; j++) a0[j] += vsplat(wt[j * K]) * x0;
      }
#pragma GCC unroll 8
    for (int j = 0; j < nm; j++) vstore(yr[j] + o0, a0[j]);
    ox = o0 + VW;
  }
  /* border and leftover columns, with bounds checks */
  for (int64_t o = 0; o < OW; o++) {
    if (o >= lo && o < ox) {
      o = ox - 1;
      continue;
    }
#pragma GCC unroll 8
    for (int j = 0; j < nm; j++) {
      float acc = bias ? bias[m0 + j] : 0.0f;
      for (int r = 0; r < rs->n; r++)
        for (int64_t kx = 0; kx < KW; kx++) {
          int64_t ix = o * S + kx * dw - pw;
          if (ix >= 0 && ix < IW)
            acc += wm[j * K + rs->wo[r] + kx] * rs->rows[r][ix + pw];
        }
      yr[j][o] = acc;
    }
  }
}

static inline __attribute__((always_inline)) void
dc_image(const fr_k_conv *p, const float *x, const float *w, const float *bias,
         const float *res, float *y, int64_t oy0, int64_t oy1, const int64_t S) {
  const int64_t C = p->C, M = p->M, IH = p->in[1], IW = p->in[2];
  const int64_t OH = p->out[1], OW = p->out[2], KH = p->k[1], KW = p->k[2];
  const int64_t pw = p->pad[2], dw = p->dil[2];
  const bool on = epi_on(&p->epi, NULL, res);
  /* columns whose taps are all inside */
  int64_t lo0, hi0, lo1, hi1;
  fr_k_valid_range(S, -pw, IW, OW, &lo0, &hi0);
  fr_k_valid_range(S, (KW - 1) * dw - pw, IW, OW, &lo1, &hi1);
  int64_t lo = fr_k_max64(lo0, lo1), hi = fr_k_max64(fr_k_min64(hi0, hi1), lo);
  /* Border columns (padding along W) would go one by one: instead each
   * input row is read from a copy with its pads as zeros, L floats, and
   * every column is inside (the zeros enter the sums, as the GEMM's
   * packed zeros do). */
  const int64_t L = (OW - 1) * S + (KW - 1) * dw + 1;
  const bool padded = (lo > 0 || hi < OW) && L <= DC_PADW;
  float padrow[DC_MAXT][DC_PADW];
  if (padded) lo = 0, hi = OW;
  for (int64_t oy = oy0; oy < oy1; oy++) {
    dc_rows rs;
    rs.n = 0;
    for (int64_t c = 0; c < C; c++)
      for (int64_t ky = 0; ky < KH; ky++) {
        int64_t iy = oy * p->stride[1] - p->pad[1] + ky * p->dil[1];
        if (iy < 0 || iy >= IH) continue;
        const float *row = x + (c * IH + iy) * IW;
        rs.rows[rs.n] = row - pw;
        if (padded) {
          /* zeros, the row, zeros: three plain loops (one with a
           * condition per float did not vectorize) */
          float *d = padrow[rs.n];
          const int64_t in = fr_k_min64(IW, L - pw);
          FR_K_SCALAR
          for (int64_t i = 0; i < pw; i++) d[i] = 0.0f;
          for (int64_t i = 0; i < in; i++) d[pw + i] = row[i];
          FR_K_SCALAR
          for (int64_t i = pw + in; i < L; i++) d[i] = 0.0f;
          rs.rows[rs.n] = d;
        }
        rs.wo[rs.n++] = (c * KH + ky) * KW;
      }
    int64_t m0 = 0;
    for (; m0 + DC_MB <= M; m0 += DC_MB) {
      float *yr[DC_MB];
      for (int j = 0; j < DC_MB; j++) yr[j] = y + ((m0 + j) * OH + oy) * OW;
      dc_block(DC_MB, p, &rs, w, bias, m0, lo, hi, yr, S);
    }
    for (; m0 < M; m0++) {
      float *yr[1] = {y + (m0 * OH + oy) * OW};
      dc_block(1, p, &rs, w, bias, m0, lo, hi, yr, S);
    }
    if (on)
      for (int64_t m = 0; m < M; m++)
        epi_row(&p->epi, OW, y + (m * OH + oy) * OW, NULL,
                res ? res + (m * OH + oy) * OW : NULL);
  }
}

static void dc_image_s1(const fr_k_conv *p, const float *x, const float *w,
                        const float *bias, const float *res, float *y,
                        int64_t oy0, int64_t oy1) {
  dc_image(p, x, w, bias, res, y, oy0, oy1, 1);
}
static void dc_image_s2(const fr_k_conv *p, const float *x, const float *w,
                        const float *bias, const float *res, float *y,
                        int64_t oy0, int64_t oy1) {
  dc_image(p, x, w, bias, res, y, oy0, oy1, 2);
}

/* The direct conv on threads: output rows (image, oy) [lo, hi), each
 * computed as on one thread. */
typedef struct dc_job {
  const fr_k_conv *p;
  const float *x, *w, *bias, *res;
  float *y;
} dc_job;

static FR_K_SHARED void dc_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  (void)scratch;
  const dc_job *j = ctx;
  const fr_k_conv *p = j->p;
  const int64_t OH = p->out[1];
  const int64_t IS = p->C * p->in[1] * p->in[2];
  const int64_t OS = p->M * OH * p->out[2];
  for (int64_t u = lo; u < hi;) {
    int64_t n = u / OH, oy0 = u % OH, oy1 = fr_k_min64(OH, oy0 + hi - u);
    const float *rn = j->res ? j->res + n * OS : NULL;
    if (p->stride[2] == 1)
      dc_image_s1(p, j->x + n * IS, j->w, j->bias, rn, j->y + n * OS, oy0, oy1);
    else
      dc_image_s2(p, j->x + n * IS, j->w, j->bias, rn, j->y + n * OS, oy0, oy1);
    u += oy1 - oy0;
  }
}

static FR_K_GENERIC void conv_direct(const fr_k_conv *p, const float *x, const float *w,
                        const float *bias, const float *res, float *y) {
  dc_job j = {p, x, w, bias, res, y};
  const int64_t rows = p->N * p->out[1];
  if (fr_k_par_worth(rows * p->M * p->out[2] * p->C * p->k[1] * p->k[2]))
    fr_k_parallel(rows, dc_task, &j, NULL, 0);
  else
    dc_task(&j, 0, rows, NULL);
}

/* ---- convolution ------------------------------------------------------- */

static bool conv_is_depthwise(const fr_k_conv *p) {
  return p->group == p->C && p->M == p->C && p->k[0] == 1 && p->k[1] <= 16 &&
         p->in[0] == 1 && p->out[0] == 1 && p->pad[0] == 0;
}

/* 1x1 kernel, stride 1, no padding: the image is B as it is. */
static bool conv_is_pointwise(const fr_k_conv *p) {
  for (int d = 0; d < 3; d++)
    if (p->k[d] != 1 || p->stride[d] != 1 || p->pad[d] != 0 ||
        p->out[d] != p->in[d])
      return false;
  return true;
}

/* Several small images (P output pixels each, a few register tiles wide
 * at most): one GEMM over the images side by side, into scratch, whose
 * rows then go to each image's output. A tile then covers several images,
 * where one image would leave most of its columns zero (the embedding
 * model's late layers have 12 to 56 pixels). Only without a residual
 * (the epilogue runs on the scratch). */
#define FOLD_P_MAX 512
static bool conv_folds(const fr_k_conv *p) {
  return p->N > 1 && conv_is_same_w(p) &&
         p->out[1] * p->out[2] < FOLD_P_MAX;
}

/* Whether an input scale (fr_k_conv_scaled_f32) is applied while B is
 * packed: a pointwise conv that goes to gemm_blocked. */
static bool conv_scales_in_pack(const fr_k_conv *p) {
  const int64_t Mg = p->M / p->group, N = p->out[0] * p->out[1] * p->out[2];
  return conv_is_pointwise(p) && !conv_is_depthwise(p) && !conv_is_direct(p) &&
         !(Mg <= 2 || N == 1);
}

static size_t conv_scratch(const fr_k_conv *p) {
  if (conv_is_depthwise(p)) return 0;
  int64_t Mg = p->M / p->group, Cg = p->C / p->group;
  int64_t K = Cg * p->k[0] * p->k[1] * p->k[2];
  int64_t N = p->out[0] * p->out[1] * p->out[2];
  if (conv_is_pointwise(p) && (Mg <= 2 || N == 1))
    return fr_k_sgemm_scratch(Mg, N, K);
  if (conv_folds(p))
    return apack_scratch(Mg, K) + blocked_scratch(Mg, p->N * N, K) +
           (size_t)(Mg * p->N * N);
  return apack_scratch(Mg, K) + blocked_scratch(Mg, N, K);
}

size_t fr_k_conv_scratch(const fr_k_conv *p) {
  /* the others read a scaled copy of x after their own scratch */
  if (p->xscale && !conv_scales_in_pack(p))
    return conv_scratch(p) + (size_t)(p->N * p->C * p->in[0] * p->in[1] * p->in[2]);
  return conv_scratch(p);
}

/* y (images, M, P) at row offset m0 from c (Mg, images * P), images
 * [lo, hi) (on threads: each takes about the columns its GEMM part
 * wrote). */
typedef struct unfold_job {
  const float *c;
  int64_t Mg, images, P, M, m0;
  float *y;
} unfold_job;

NO_MEM_CALLS static void unfold_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  (void)scratch;
  const unfold_job *u = ctx;
  const int64_t Mg = u->Mg, images = u->images, P = u->P;
  for (int64_t n = lo; n < hi; n++)
    for (int64_t i = 0; i < Mg; i++) {
      const float *s = u->c + i * images * P + n * P;
      float *d = u->y + (n * u->M + u->m0 + i) * P;
      for (int64_t j = 0; j < P; j++) d[j] = s[j];
    }
}

static void unfold_rows(const float *c, int64_t Mg, int64_t images, int64_t P,
                        int64_t M, int64_t m0, float *y) {
  unfold_job u = {c, Mg, images, P, M, m0, y};
  if (fr_k_par_worth(Mg * images * P))
    fr_k_parallel(images, unfold_task, &u, NULL, 0);
  else
    unfold_task(&u, 0, images, NULL);
}

/* Depthwise convolutions on threads: planes (image, channel) [lo, hi),
 * each image's run of channels as a depthwise conv of its own. */
typedef struct dw_job {
  const fr_k_conv *p;
  const float *x, *w, *bias, *res;
  float *y;
} dw_job;

static void dw_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const dw_job *j = ctx;
  const fr_k_conv *p = j->p;
  const int64_t IS = p->in[1] * p->in[2], OS = p->out[1] * p->out[2];
  const int64_t KS = p->k[1] * p->k[2];
  for (int64_t q = lo; q < hi;) {
    int64_t c0 = q % p->C, c1 = fr_k_min64(p->C, c0 + hi - q);
    fr_k_conv sub = *p;
    sub.N = 1;
    sub.C = sub.M = sub.group = c1 - c0;
    fr_k_dwconv_f32(&sub, j->x + q * IS, j->w + c0 * KS, j->bias ? j->bias + c0 : NULL,
                    j->res ? j->res + q * OS : NULL, j->y + q * OS);
    q += c1 - c0;
  }
}

/* The images [lo, hi) of group g of a convolution (not depthwise), with
 * scratch gs for the GEMM. */
typedef struct conv_job {
  const fr_k_conv *p;
  const float *x, *xs, *w, *bias, *res;
  float *y;
  const float *apk;
  int64_t g;
  bool pw, pw_small, on;
} conv_job;

static FR_K_SHARED void conv_images(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const conv_job *j = ctx;
  const fr_k_conv *p = j->p;
  const int64_t g = j->g, G = p->group, Mg = p->M / G, Cg = p->C / G;
  const int64_t K = Cg * p->k[0] * p->k[1] * p->k[2];
  const int64_t IS = p->in[0] * p->in[1] * p->in[2];
  const int64_t N = p->out[0] * p->out[1] * p->out[2];
  float *gs = scratch;
  for (int64_t n = lo; n < hi; n++) {
    const float *xg = j->x + (n * p->C + g * Cg) * IS; /* (Cg, ID, IH, IW) */
    float *yg = j->y + (n * p->M + g * Mg) * N;        /* (Mg, OD, OH, OW) */
    const float *rg = j->res ? j->res + (n * p->M + g * Mg) * N : NULL;
    const float *wg = j->w + g * Mg * K;               /* (Mg, K) */
    const float *bg = j->bias ? j->bias + g * Mg : NULL;
    epi_ctx ec = {&p->epi, NULL, rg, N};
    if (K == 0) {
      scale_c(Mg, N, yg, N, 0.0f, bg, j->on ? &ec : NULL);
      continue;
    }
    if (j->pw_small) {
      fr_k_gemm gm = {Mg, N, K, wg, K, 1, xg, N, 1, yg, N, 1.0f, 0.0f, bg,
                      p->epi, NULL, rg, N};
      fr_k_sgemm(&gm, gs);
    } else {
      bsrc s = {xg, 0, 0, j->pw ? NULL : p, 0, 0, NULL};
      if (j->pw) s.rs = N, s.cs = 1; /* B (K, N) = the image (Cg, N) */
      if (j->xs) /* pw: the image's channel scales */
        s.sc = j->xs + (p->xscale > 1 ? n * p->C : 0) + g * Cg;
      gemm_blocked(Mg, N, K, wg, K, 1, j->apk, !j->apk, &s, yg, N, 1.0f, 0.0f, bg,
                   j->on ? &ec : NULL, gs);
    }
  }
}

void fr_k_conv_res_f32(const fr_k_conv *p, const float *x, const float *w,
                       const float *bias, const float *res, float *y,
                       float *scratch) {
  if (conv_is_depthwise(p)) {
    const int64_t planes = p->N * p->C;
    dw_job j = {p, x, w, bias, res, y};
    if (fr_k_par_worth(planes * p->out[1] * p->out[2] * p->k[1] * p->k[2]))
      fr_k_parallel(planes, dw_task, &j, NULL, 0);
    else
      fr_k_dwconv_f32(p, x, w, bias, res, y);
    return;
  }
  if (conv_is_direct(p)) {
    conv_direct(p, x, w, bias, res, y);
    return;
  }
  fr_k_conv_gemm_res_f32(p, x, w, bias, res, y, scratch);
}

static FR_K_GENERIC void conv_gemm(const fr_k_conv *p, const float *x, const float *xs,
                      const float *w, const float *bias, const float *res,
                      float *y, float *scratch) {
  const int64_t G = p->group, Mg = p->M / G, Cg = p->C / G;
  const int64_t K = Cg * p->k[0] * p->k[1] * p->k[2];
  const int64_t IS = p->in[0] * p->in[1] * p->in[2];
  const int64_t N = p->out[0] * p->out[1] * p->out[2];
  const bool pw = conv_is_pointwise(p), on = epi_on(&p->epi, NULL, res);
  /* pointwise: the image is B; a GEMV-like shape goes to fr_k_sgemm */
  const bool pw_small = pw && (Mg <= 2 || N == 1);
  /* the weights packed once for all images and column blocks, when they
   * fit (for one image, full row tiles read them in place: the packing
   * cost as much as the tiles' gain) */
  const size_t apn = pw_small ? 0 : apack_scratch(Mg, K);
  float *apk = apn && p->N > 1 ? align64(scratch) : NULL;
  float *gs = scratch + apn;
  const bool fold = !pw && !res && K > 0 && conv_folds(p);
  float *cf = fold ? gs + blocked_scratch(Mg, p->N * N, K) : NULL;
  for (int64_t g = 0; g < G; g++) {
    if (apk && K > 0) pack_a_all(w + g * Mg * K, K, 1, Mg, K, apk);
    if (fold) { /* cf (Mg, images * N) */
      bsrc s = {x + g * Cg * IS, 0, 0, p, N, p->C * IS, NULL};
      epi_ctx ec = {&p->epi, NULL, NULL, 0};
      gemm_blocked(Mg, p->N * N, K, w + g * Mg * K, K, 1, apk, !apk, &s, cf,
                   p->N * N, 1.0f, 0.0f, bias ? bias + g * Mg : NULL,
                   on ? &ec : NULL, gs);
      unfold_rows(cf, Mg, p->N, N, p->M, g * Mg, y);
      continue;
    }
    /* Images on threads when there are enough to go round (else each
     * image's GEMM takes the threads), each with a GEMM scratch. */
    conv_job j = {p, x, xs, w, bias, res, y, apk, g, pw, pw_small, on};
    const int64_t t = fr_k_threads();
    if ((p->N % t == 0 || p->N >= 4 * t) && fr_k_par_worth(p->N * Mg * N * K))
      fr_k_parallel(p->N, conv_images, &j, gs,
                    (pw_small ? fr_k_sgemm_scratch(Mg, N, K) : blocked_scratch(Mg, N, K)) *
                        sizeof(float));
    else
      conv_images(&j, 0, p->N, gs);
  }
}

void fr_k_conv_gemm_res_f32(const fr_k_conv *p, const float *x,
                            const float *w, const float *bias,
                            const float *res, float *y, float *scratch) {
  conv_gemm(p, x, NULL, w, bias, res, y, scratch);
}

void fr_k_conv_scaled_f32(const fr_k_conv *p, const float *x, const float *xs,
                          const float *w, const float *bias, const float *res,
                          float *y, float *scratch) {
  if (!xs || !p->xscale) {
    fr_k_conv_res_f32(p, x, w, bias, res, y, scratch);
    return;
  }
  if (conv_scales_in_pack(p)) {
    conv_gemm(p, x, xs, w, bias, res, y, scratch);
    return;
  }
  /* x * xs (N, C, IS) after the conv's own scratch */
  const int64_t IS = p->in[0] * p->in[1] * p->in[2];
  float *t = scratch + conv_scratch(p);
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t c = 0; c < p->C; c++) {
      const float f = xs[(p->xscale > 1 ? n * p->C : 0) + c];
      const float *xr = x + (n * p->C + c) * IS;
      float *tr = t + (n * p->C + c) * IS;
      for (int64_t i = 0; i < IS; i++) tr[i] = xr[i] * f;
    }
  fr_k_conv_res_f32(p, t, w, bias, res, y, scratch);
}

void fr_k_conv_f32(const fr_k_conv *p, const float *x, const float *w,
                   const float *bias, float *y, float *scratch) {
  fr_k_conv_res_f32(p, x, w, bias, NULL, y, scratch);
}

/* ---- transposed convolution ------------------------------------------- */

/* Here p->in is the input (ID, IH, IW) of x (N, C, ...), p->out the output
 * of y (N, M, ...), w (C, M/group, KD, KH, KW). The GEMM makes the column
 * matrix col (Mg * KD*KH*KW, ID*IH*IW) = W_g^T * X_g, then col2im adds each
 * column entry to the output pixel it lands on. */
/* One input and one output channel per group (the input gradient of a
 * depthwise conv): no GEMM, each tap adds w times an input row to the
 * output row it lands on. */
static bool convt_is_depthwise(const fr_k_conv *p) {
  return p->C == p->group && p->M == p->group;
}

/* At stride 1 a transposed conv is a conv of the flipped kernel with pads
 * (k - 1) * dil - pad, when those are not negative: y[o] = sum over taps
 * t of w[K-1-t] x[o - pad' + t dil] (and, with several channels per group,
 * the kernel's two channel axes swapped). */
static bool convt_as_conv(const fr_k_conv *p) {
  for (int d = 0; d < 3; d++)
    if (p->stride[d] != 1 || (p->k[d] - 1) * p->dil[d] < p->pad[d]) return false;
  return true;
}

/* The conv that computes p when convt_as_conv. */
static fr_k_conv convt_conv(const fr_k_conv *p) {
  fr_k_conv q = *p;
  for (int d = 0; d < 3; d++) q.pad[d] = (p->k[d] - 1) * p->dil[d] - p->pad[d];
  return q;
}

/* The planes [lo, hi) (image n = q / C, channel q % C) of convt_depthwise. */
typedef struct convt_dw_job {
  const fr_k_conv *p;
  const float *x, *w, *bias;
  float *y;
} convt_dw_job;

/* Output columns are gathered by phase: the columns ox = s j + r of one
 * phase r read, for each tap whose (r + pad - kx dil) is a multiple of s,
 * the input columns j + e (e that multiple over s): a contiguous loop
 * over j into that phase's row of ph. The phases are then interleaved
 * into the output row. Rows and depths likewise: output row oy = s jy +
 * ry takes the kernel rows ky whose phase is ry, from input row jy + e.
 * Each output element sums its taps in the order (kz, ky, kx) from the
 * bias, as the scatter did. Rows wider than CONVT_DW_ROW or kernels
 * wider than CONVT_DW_K go by the scatter. */
enum { CONVT_DW_ROW = 2048, CONVT_DW_K = 16 };

static bool convt_dw_gather(const fr_k_conv *p) {
  return p->out[2] + p->stride[2] <= CONVT_DW_ROW && p->k[0] <= CONVT_DW_K &&
         p->k[1] <= CONVT_DW_K && p->k[2] <= CONVT_DW_K;
}

/* Per tap k of one dimension (stride s, pad, dilation d): the output
 * phase r[k] it feeds and its input offset e[k] (input j + e for output
 * s j + r). */
static void convt_phases(int64_t K, int64_t s, int64_t pad, int64_t d,
                         int64_t *r, int64_t *e) {
  for (int64_t k = 0; k < K; k++) {
    int64_t t = k * d - pad;
    r[k] = ((t % s) + s) % s;
    e[k] = (r[k] - t) / s;
  }
}

static void convt_dw_plane_gather(const fr_k_conv *p, const float *xc,
                                  const float *w, float b, float *yc) {
  const int64_t KD = p->k[0], KH = p->k[1], KW = p->k[2];
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t sd = p->stride[0], sh = p->stride[1], s = p->stride[2];
  const int64_t J = (OW + s - 1) / s;
  int64_t rz[CONVT_DW_K], ez[CONVT_DW_K], ry[CONVT_DW_K], ey[CONVT_DW_K];
  int64_t rx[CONVT_DW_K], ex[CONVT_DW_K], lo[CONVT_DW_K], hi[CONVT_DW_K];
  convt_phases(KD, sd, p->pad[0], p->dil[0], rz, ez);
  convt_phases(KH, sh, p->pad[1], p->dil[1], ry, ey);
  convt_phases(KW, s, p->pad[2], p->dil[2], rx, ex);
  for (int64_t kx = 0; kx < KW; kx++) { /* j with 0 <= j + e < IW, s j + r < OW */
    int64_t jn = (OW - rx[kx] + s - 1) / s;
    lo[kx] = ex[kx] < 0 ? -ex[kx] : 0;
    hi[kx] = fr_k_max64(fr_k_min64(jn, IW - ex[kx]), lo[kx]);
  }
  float ph[CONVT_DW_ROW];
  for (int64_t oz = 0; oz < OD; oz++)
    for (int64_t oy = 0; oy < OH; oy++) {
      const int64_t jz = oz / sd, pz = oz - jz * sd, jy = oy / sh, py = oy - jy * sh;
      for (int64_t i = 0; i < s * J; i++) ph[i] = b;
      for (int64_t kz = 0; kz < KD; kz++) {
        const int64_t iz = jz + ez[kz];
        if (rz[kz] != pz || iz < 0 || iz >= ID) continue;
        for (int64_t ky = 0; ky < KH; ky++) {
          const int64_t iy = jy + ey[ky];
          if (ry[ky] != py || iy < 0 || iy >= IH) continue;
          const float *restrict xr = xc + (iz * IH + iy) * IW;
          const float *restrict wr = w + (kz * KH + ky) * KW;
          for (int64_t kx = 0; kx < KW; kx++) {
            float *restrict pr = ph + rx[kx] * J;
            const float *restrict xe = xr + ex[kx];
            const float wv = wr[kx];
            for (int64_t j = lo[kx]; j < hi[kx]; j++) pr[j] += wv * xe[j];
          }
        }
      }
      float *restrict yr = yc + (oz * OH + oy) * OW;
      if (s == 1)
        memcpy(yr, ph, sizeof(float) * (size_t)OW);
      else if (s == 2)
        fr_k_zip2_f32(ph, ph + J, OW, yr);
      else
        for (int64_t ox = 0; ox < OW; ox++) yr[ox] = ph[(ox % s) * J + ox / s];
    }
}

/* Small planes (input rows under a vector, planes within DWL_MAX_PIX)
 * across channel lanes, as dw_lanes: dy transposed per block of channels,
 * each input pixel's value times each tap's weights added to the output
 * pixel the tap lands on, the outputs transposed back. Planes [q0, q1)
 * (image q / C), the blocks within an image's run of channels. */
static bool convt_dw_lanes_ok(const fr_k_conv *p) {
  return lanes_fit(p) && p->in[2] < VW;
}

static void convt_dw_lanes(const fr_k_conv *p, const float *x, const float *w,
                           const float *bias, float *y, int64_t q0, int64_t q1) {
  const int64_t IH = p->in[1], IW = p->in[2], OH = p->out[1], OW = p->out[2];
  const int64_t KH = p->k[1], KW = p->k[2], KS = KH * KW;
  const int64_t IS = IH * IW, OS = OH * OW;
  fr_vf xt[DWL_MAX_PIX], yt[DWL_MAX_PIX], wv[DWL_MAX_TAPS];
  for (int64_t q = q0; q < q1;) {
    const int64_t c0 = q % p->C;
    const int nl = (int)fr_k_min64(fr_k_min64(VW, p->C - c0), q1 - q);
    lanes_in(x + q * IS, IS, IS, nl, xt);
    fr_vf bv;
    lanes_params(w, bias, c0, nl, KS, &bv, wv);
    for (int64_t o = 0; o < OS; o++) yt[o] = bv;
    for (int64_t iy = 0; iy < IH; iy++)
      for (int64_t ix = 0; ix < IW; ix++) {
        const fr_vf v = xt[iy * IW + ix];
        for (int64_t ky = 0; ky < KH; ky++) {
          const int64_t oy = iy * p->stride[1] - p->pad[1] + ky * p->dil[1];
          if (oy < 0 || oy >= OH) continue;
          for (int64_t kx = 0; kx < KW; kx++) {
            const int64_t ox = ix * p->stride[2] - p->pad[2] + kx * p->dil[2];
            if (ox >= 0 && ox < OW) yt[oy * OW + ox] += wv[ky * KW + kx] * v;
          }
        }
      }
    lanes_out(yt, OS, nl, OS, y + q * OS);
    q += nl;
  }
}

static FR_K_SHARED void convt_dw_planes(void *ctx, int64_t q0, int64_t q1,
                                        void *scratch) {
  const convt_dw_job *j = ctx;
  const fr_k_conv *p = j->p;
  const float *x = j->x, *w = j->w, *bias = j->bias;
  float *y = j->y;
  const int64_t KD = p->k[0], KH = p->k[1], KW = p->k[2], KK = KD * KH * KW;
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2], NI = ID * IH * IW;
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t NO = OD * OH * OW, sw = p->stride[2];
  (void)scratch;
  if (convt_dw_lanes_ok(p)) {
    convt_dw_lanes(p, x, w, bias, y, q0, q1);
    return;
  }
  for (int64_t q = q0; q < q1; q++) {
    const int64_t c = q % p->C;
    const float *xc = x + q * NI;
    float *yc = y + q * NO;
    float b = bias ? bias[c] : 0.0f;
    if (convt_dw_gather(p)) {
      convt_dw_plane_gather(p, xc, w + c * KK, b, yc);
      continue;
    }
    for (int64_t o = 0; o < NO; o++) yc[o] = b;
    for (int64_t kz = 0; kz < KD; kz++)
      for (int64_t ky = 0; ky < KH; ky++)
        for (int64_t kx = 0; kx < KW; kx++) {
          float wv = w[c * KK + (kz * KH + ky) * KW + kx];
          /* input columns ix whose output ix * sw + off is inside */
          int64_t off = kx * p->dil[2] - p->pad[2], lo, hi;
          fr_k_valid_range(sw, off, OW, IW, &lo, &hi);
          for (int64_t iz = 0; iz < ID; iz++) {
            int64_t oz = iz * p->stride[0] - p->pad[0] + kz * p->dil[0];
            if (oz < 0 || oz >= OD) continue;
            for (int64_t iy = 0; iy < IH; iy++) {
              int64_t oy = iy * p->stride[1] - p->pad[1] + ky * p->dil[1];
              if (oy < 0 || oy >= OH) continue;
              const float *restrict xr = xc + (iz * IH + iy) * IW;
              float *restrict yr = yc + (oz * OH + oy) * OW;
              if (sw == 1)
                for (int64_t ix = lo; ix < hi; ix++)
                  yr[ix + off] += wv * xr[ix];
              else
                for (int64_t ix = lo; ix < hi; ix++)
                  yr[ix * sw + off] += wv * xr[ix];
            }
          }
        }
  }
}

/* wf: scratch for the flipped kernel (C * KK floats) when
 * convt_as_conv. */
static void convt_depthwise(const fr_k_conv *p, const float *x, const float *w,
                            const float *bias, float *y, float *wf) {
  const int64_t KK = p->k[0] * p->k[1] * p->k[2];
  if (convt_as_conv(p)) {
    for (int64_t c = 0; c < p->C; c++)
      for (int64_t t = 0; t < KK; t++) wf[c * KK + t] = w[c * KK + KK - 1 - t];
    fr_k_conv q = convt_conv(p);
    fr_k_conv_res_f32(&q, x, wf, bias, NULL, y, NULL);
    return;
  }
  convt_dw_job j = {p, x, w, bias, y};
  const int64_t planes = p->N * p->C;
  if (fr_k_par_worth(planes * p->in[0] * p->in[1] * p->in[2] * KK))
    fr_k_parallel(planes, convt_dw_planes, &j, NULL, 0);
  else
    convt_dw_planes(&j, 0, planes, NULL);
}

/* y[ix * sw] += c[ix] for ix in [lo, hi): one tap's column entries added
 * to the output row (col2im), with the common strides as constants.
 * Stride 2 goes by whole vectors of y, c's values interleaved with -0
 * (y + -0 is y, zeros' signs included), where a compiler would scatter;
 * the last entry stays scalar (y[2 * hi - 1] may be past the row). */
void fr_k_col_add_f32(float *restrict y, const float *restrict c, int64_t lo,
                      int64_t hi, int64_t sw) {
  if (sw == 1)
    for (int64_t ix = lo; ix < hi; ix++) y[ix] += c[ix];
  else if (sw == 2) {
    int64_t ix = lo;
    const fr_vf nz = vsplat(-0.0f);
    for (; ix + VW < hi; ix += VW) {
      fr_vf cv = vload(c + ix);
      fr_vf a = __builtin_shufflevector(cv, nz, ZIP_LO);
      fr_vf b = __builtin_shufflevector(cv, nz, ZIP_HI);
      vstore(y + 2 * ix, vload(y + 2 * ix) + a);
      vstore(y + 2 * ix + VW, vload(y + 2 * ix + VW) + b);
    }
    for (; ix < hi; ix++) y[2 * ix] += c[ix];
  } else
    for (int64_t ix = lo; ix < hi; ix++) y[ix * sw] += c[ix];
}

/* ---- products along a long shared dimension ------------------------------ */

/* C (M, N) = (acc ? C : 0) + sum over images b < nb of A_b (M, K) B_b (N,
 * K)^T, where A_b = A + b sa (rows lda apart) and B_b likewise: a weight
 * gradient's dY x col^T, whose K (pixels) is long and M, N (channels,
 * taps) small, where the packed GEMM's tiles would mostly be padding.
 * Tiles of DOT_T x DOT_T outputs keep one vector accumulator each over
 * k (the last K % VW products in lanes of a zero-padded vector); a tile
 * adds images, then the lanes, in a fixed order (the same bits at any
 * thread count: threads take whole tiles). */
enum { DOT_T = 4 };

typedef struct dot_job {
  int64_t M, N, K, nb, lda, ldb, ldc, sa, sb;
  const float *A, *B;
  float *C;
  int acc;
} dot_job;

/* The vector at p[0 .. n) (n < VW), zeros after. */
static inline fr_vf vload_part(const float *p, int64_t n) {
  fr_vf v = {0};
  for (int64_t l = 0; l < n; l++) v[l] = p[l];
  return v;
}

/* The sum of v's lanes, by halves (a fixed tree: lane l and l + VW/2,
 * then of those...), not a chain of VW dependent adds. */
static inline float hsum(fr_vf v) {
  float t[VW];
  for (int l = 0; l < VW; l++) t[l] = v[l];
  for (int w = VW / 2; w > 0; w /= 2)
    for (int l = 0; l < w; l++) t[l] += t[l + w];
  return t[0];
}

/* out[b] += the lanes of v[b], for b < 4. */
static inline void hsum4(const fr_vf *v, float *out) {
  for (int b = 0; b < 4; b++) out[b] += hsum(v[b]);
}

/* A full tile: rows m0 .. m0+3 of A, n0 .. n0+3 of B, sixteen named
 * accumulators (arrays of vectors would live on the stack). */
static void dot_tile4(const dot_job *j, int64_t m0, int64_t n0) {
  fr_vf c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0}, c10 = {0}, c11 = {0}, c12 = {0},
        c13 = {0}, c20 = {0}, c21 = {0}, c22 = {0}, c23 = {0}, c30 = {0}, c31 = {0},
        c32 = {0}, c33 = {0};
  const int64_t K = j->K, kv = K / VW * VW, lda = j->lda, ldb = j->ldb;
  for (int64_t img = 0; img < j->nb; img++) {
    const float *A = j->A + img * j->sa + m0 * lda;
    const float *B = j->B + img * j->sb + n0 * ldb;
    for (int64_t k = 0; k <= K - 1; k += VW) {
      fr_vf a0, a1, a2, a3, b0, b1, b2, b3;
      if (k < kv) {
        a0 = vload(A + k), a1 = vload(A + lda + k), a2 = vload(A + 2 * lda + k),
        a3 = vload(A + 3 * lda + k);
        b0 = vload(B + k), b1 = vload(B + ldb + k), b2 = vload(B + 2 * ldb + k),
        b3 = vload(B + 3 * ldb + k);
      } else { /* the last K % VW, zeros after */
        const int64_t r = K - k;
        a0 = vload_part(A + k, r), a1 = vload_part(A + lda + k, r),
        a2 = vload_part(A + 2 * lda + k, r), a3 = vload_part(A + 3 * lda + k, r);
        b0 = vload_part(B + k, r), b1 = vload_part(B + ldb + k, r),
        b2 = vload_part(B + 2 * ldb + k, r), b3 = vload_part(B + 3 * ldb + k, r);
      }
      c00 += a0 * b0, c01 += a0 * b1, c02 += a0 * b2, c03 += a0 * b3;
      c10 += a1 * b0, c11 += a1 * b1, c12 += a1 * b2, c13 += a1 * b3;
      c20 += a2 * b0, c21 += a2 * b1, c22 += a2 * b2, c23 += a2 * b3;
      c30 += a3 * b0, c31 += a3 * b1, c32 += a3 * b2, c33 += a3 * b3;
    }
  }
  const fr_vf rows[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13},
                            {c20, c21, c22, c23}, {c30, c31, c32, c33}};
  for (int a = 0; a < 4; a++) {
    float r[4] = {0, 0, 0, 0};
    hsum4(rows[a], r);
    float *c = j->C + (m0 + a) * j->ldc + n0;
    for (int b = 0; b < 4; b++) c[b] = j->acc ? c[b] + r[b] : r[b];
  }
}

/* Four outputs along one line of an edge tile: A's rows m0 .. m0+3 with
 * B's row n (sb 0) or A's row m0 with B's rows n0 .. n0+3 (sb 1): 5 loads
 * per 4 products, where one output at a time took 2 per product (the
 * stem's 16 x 27 dW has a 16 x 3 edge). */
static void dot_line4(const dot_job *j, int64_t m0, int64_t n0, int along_b) {
  fr_vf c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
  const int64_t K = j->K, kv = K / VW * VW;
  const int64_t ld = along_b ? j->ldb : j->lda; /* between the line's rows */
  for (int64_t img = 0; img < j->nb; img++) {
    const float *A = j->A + img * j->sa + m0 * j->lda;
    const float *B = j->B + img * j->sb + n0 * j->ldb;
    /* the line's four rows (the one other read four times) */
    const float *P0 = along_b ? B : A, *Q = along_b ? A : B;
    for (int64_t k = 0; k <= K - 1; k += VW) {
      fr_vf q, p0, p1, p2, p3;
      if (k < kv) {
        q = vload(Q + k), p0 = vload(P0 + k), p1 = vload(P0 + ld + k),
        p2 = vload(P0 + 2 * ld + k), p3 = vload(P0 + 3 * ld + k);
      } else {
        const int64_t r = K - k;
        q = vload_part(Q + k, r), p0 = vload_part(P0 + k, r),
        p1 = vload_part(P0 + ld + k, r), p2 = vload_part(P0 + 2 * ld + k, r),
        p3 = vload_part(P0 + 3 * ld + k, r);
      }
      c0 += q * p0, c1 += q * p1, c2 += q * p2, c3 += q * p3;
    }
  }
  const fr_vf v[4] = {c0, c1, c2, c3};
  for (int i = 0; i < 4; i++) {
    const float r = hsum(v[i]);
    float *c = j->C + (m0 + (along_b ? 0 : i)) * j->ldc + n0 + (along_b ? i : 0);
    *c = j->acc ? *c + r : r;
  }
}

/* An edge tile (mr or nr below 4): lines of four where the tile has
 * them, else one output at a time. */
static void dot_tile_edge(const dot_job *j, int64_t m0, int64_t n0, int64_t mr,
                          int64_t nr) {
  const int64_t K = j->K, kv = K / VW * VW;
  if (mr == DOT_T || nr == DOT_T) {
    for (int64_t i = 0; i < (mr == DOT_T ? nr : mr); i++)
      if (mr == DOT_T) dot_line4(j, m0, n0 + i, 0);
      else dot_line4(j, m0 + i, n0, 1);
    return;
  }
  for (int64_t a = 0; a < mr; a++)
    for (int64_t b = 0; b < nr; b++) {
      fr_vf v = {0};
      for (int64_t img = 0; img < j->nb; img++) {
        const float *A = j->A + img * j->sa + (m0 + a) * j->lda;
        const float *B = j->B + img * j->sb + (n0 + b) * j->ldb;
        for (int64_t k = 0; k < kv; k += VW) v += vload(A + k) * vload(B + k);
        if (kv < K) v += vload_part(A + kv, K - kv) * vload_part(B + kv, K - kv);
      }
      const float r = hsum(v);
      float *c = j->C + (m0 + a) * j->ldc + n0 + b;
      *c = j->acc ? *c + r : r;
    }
}

static FR_K_SHARED void dot_tiles(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const dot_job *j = ctx;
  const int64_t tn = (j->N + DOT_T - 1) / DOT_T;
  (void)scratch;
  for (int64_t q = lo; q < hi; q++) {
    const int64_t m0 = q / tn * DOT_T, n0 = q % tn * DOT_T;
    const int mr = (int)fr_k_min64(DOT_T, j->M - m0), nr = (int)fr_k_min64(DOT_T, j->N - n0);
    if (mr == DOT_T && nr == DOT_T) dot_tile4(j, m0, n0);
    else dot_tile_edge(j, m0, n0, mr, nr);
  }
}

void fr_k_dot_nt_f32(int64_t M, int64_t N, int64_t K, int64_t nb, const float *A,
                     int64_t lda, int64_t sa, const float *B, int64_t ldb,
                     int64_t sb, float *C, int64_t ldc, int acc) {
  dot_job j = {M, N, K, nb, lda, ldb, ldc, sa, sb, A, B, C, acc};
  const int64_t tiles = ((M + DOT_T - 1) / DOT_T) * ((N + DOT_T - 1) / DOT_T);
  if (tiles > 1 && fr_k_par_worth(M * N * K * nb))
    fr_k_parallel(tiles, dot_tiles, &j, NULL, 0);
  else
    dot_tiles(&j, 0, tiles, NULL);
}

/* d[i] = s[2 i] for i < n, by vector shuffles, reading s[0 .. 2 n - 2]. */
void fr_k_gather2_f32(float *restrict d, const float *restrict s, int64_t n) {
  int64_t i = 0;
  for (; i + VW <= n; i += VW) vstore(d + i, vload_s(s + 2 * i, 2));
  FR_K_SCALAR
  for (; i < n; i++) d[i] = s[2 * i];
}

/* e[j] = x[2 j], o[j] = x[2 j + 1] for j < n / 2, and e[n / 2] = x[n - 1]
 * when n is odd: a row split into its two phases, by whole vectors. */
void fr_k_unzip2_f32(const float *restrict x, int64_t n, float *restrict e,
                     float *restrict o) {
  const int64_t h = n / 2;
  int64_t j = 0;
  for (; j + VW <= h; j += VW) {
    fr_vf a = vload(x + 2 * j), b = vload(x + 2 * j + VW);
    vstore(e + j, __builtin_shufflevector(a, b, UNZIP_EVEN));
    vstore(o + j, __builtin_shufflevector(a, b, UNZIP_ODD));
  }
  FR_K_SCALAR
  for (; j < h; j++) {
    e[j] = x[2 * j];
    o[j] = x[2 * j + 1];
  }
  if (n % 2) e[h] = x[n - 1];
}

/* The inverse: y[2 j] = e[j], y[2 j + 1] = o[j], y[n - 1] = e[n / 2] when
 * n is odd. */
void fr_k_zip2_f32(const float *restrict e, const float *restrict o, int64_t n,
                   float *restrict y) {
  const int64_t h = n / 2;
  int64_t j = 0;
  for (; j + VW <= h; j += VW) {
    fr_vf a = vload(e + j), b = vload(o + j);
    vstore(y + 2 * j, __builtin_shufflevector(a, b, ZIP_LO));
    vstore(y + 2 * j + VW, __builtin_shufflevector(a, b, ZIP_HI));
  }
  FR_K_SCALAR
  for (; j < h; j++) {
    y[2 * j] = e[j];
    y[2 * j + 1] = o[j];
  }
  if (n % 2) y[n - 1] = e[h];
}

/* VW windows of a 2x2 max pooling's gradient: the inputs a b / c e of
 * window j at r0[2 j], r0[2 j + 1], r1[2 j], r1[2 j + 1]; d[j] goes to the
 * first maximum in row order (a later one only if strictly greater), the
 * other three get 0. */
static inline __attribute__((always_inline)) void
mpg2_vec(const float *r0, const float *r1, const float *d, float *g0, float *g1) {
  const fr_vf x0 = vload(r0), x1 = vload(r0 + VW), y0 = vload(r1), y1 = vload(r1 + VW);
  const fr_vf a = __builtin_shufflevector(x0, x1, UNZIP_EVEN);
  const fr_vf b = __builtin_shufflevector(x0, x1, UNZIP_ODD);
  const fr_vf c = __builtin_shufflevector(y0, y1, UNZIP_EVEN);
  const fr_vf e = __builtin_shufflevector(y0, y1, UNZIP_ODD);
  const fr_vf v = vload(d), z = {0};
  const fr_vi sb = b > a;
  const fr_vf m = vsel(sb, b, a);
  const fr_vi sc = c > m;
  const fr_vi se = e > vsel(sc, c, m);
  const fr_vi nse = ~se, nsc = ~sc;
  const fr_vf ge = vsel(se, v, z), gc = vsel(nse & sc, v, z);
  const fr_vf gb = vsel(nse & nsc & sb, v, z), ga = vsel(nse & nsc & ~sb, v, z);
  vstore(g0, __builtin_shufflevector(ga, gb, ZIP_LO));
  vstore(g0 + VW, __builtin_shufflevector(ga, gb, ZIP_HI));
  vstore(g1, __builtin_shufflevector(gc, ge, ZIP_LO));
  vstore(g1 + VW, __builtin_shufflevector(gc, ge, ZIP_HI));
}

void fr_k_maxpool2_grad_row_f32(int64_t n, const float *restrict r0,
                                const float *restrict r1, const float *restrict d,
                                float *restrict g0, float *restrict g1) {
  int64_t j = 0;
  for (; j + VW <= n; j += VW)
    mpg2_vec(r0 + 2 * j, r1 + 2 * j, d + j, g0 + 2 * j, g1 + 2 * j);
  if (j == n) return;
  if (n >= VW) { /* the last vector again, overlapping: the same values */
    j = n - VW;
    mpg2_vec(r0 + 2 * j, r1 + 2 * j, d + j, g0 + 2 * j, g1 + 2 * j);
    return;
  }
  /* a short row through copies (zeros after it, never stored) */
  const int64_t k = n - j;
  float t0[2 * VW] = {0}, t1[2 * VW] = {0}, td[VW] = {0}, o0[2 * VW], o1[2 * VW];
  FR_K_SCALAR
  for (int64_t i = 0; i < 2 * k; i++) t0[i] = r0[2 * j + i], t1[i] = r1[2 * j + i];
  FR_K_SCALAR
  for (int64_t i = 0; i < k; i++) td[i] = d[j + i];
  mpg2_vec(t0, t1, td, o0, o1);
  FR_K_SCALAR
  for (int64_t i = 0; i < 2 * k; i++) g0[2 * j + i] = o0[i], g1[2 * j + i] = o1[i];
}

/* ConvTranspose's col2im for output channels [lo, hi) of a group: y
 * (Mg, NO) = bias, then each tap's rows of col (Mg * KK, NI) added. */
typedef struct col2im_job {
  const fr_k_conv *p;
  const float *col, *bias;
  float *y;
} col2im_job;

static void col2im_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  (void)scratch;
  const col2im_job *j = ctx;
  const fr_k_conv *p = j->p;
  const int64_t KD = p->k[0], KH = p->k[1], KW = p->k[2], KK = KD * KH * KW;
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2], NI = ID * IH * IW;
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t NO = OD * OH * OW, sw = p->stride[2];
  for (int64_t m = lo; m < hi; m++) {
    float *ym = j->y + m * NO;
    float b = j->bias ? j->bias[m] : 0.0f;
    for (int64_t o = 0; o < NO; o++) ym[o] = b;
    for (int64_t kz = 0; kz < KD; kz++)
      for (int64_t ky = 0; ky < KH; ky++)
        for (int64_t kx = 0; kx < KW; kx++) {
          const float *cr = j->col + (m * KK + (kz * KH + ky) * KW + kx) * NI;
          /* input columns ix whose output ix * sw + off is inside */
          int64_t off = kx * p->dil[2] - p->pad[2], lo, hi;
          fr_k_valid_range(sw, off, OW, IW, &lo, &hi);
          for (int64_t iz = 0; iz < ID; iz++) {
            int64_t oz = iz * p->stride[0] - p->pad[0] + kz * p->dil[0];
            if (oz < 0 || oz >= OD) continue;
            for (int64_t iy = 0; iy < IH; iy++) {
              int64_t oy = iy * p->stride[1] - p->pad[1] + ky * p->dil[1];
              if (oy < 0 || oy >= OH) continue;
              float *yr = ym + (oz * OH + oy) * OW + off;
              const float *cx = cr + (iz * IH + iy) * IW;
              fr_k_col_add_f32(yr, cx, lo, hi, sw);
            }
          }
        }
  }
}

/* The floats the flipped kernel of convt_as_conv takes before the conv's
 * own scratch (rounded to a cache line). */
static int64_t convt_wf_floats(const fr_k_conv *p) {
  return (p->M * (p->C / p->group) * p->k[0] * p->k[1] * p->k[2] + 15) / 16 * 16;
}

/* A strided 2-D transposed conv by output phases (sub-pixel): the outputs
 * o whose (o + pad) % s is r along a dimension (stride s, kernel K) take
 * the taps k = r + s m (m < ceil((K - r) / s)) of the inputs q - m, q =
 * (o + pad - r) / s; along both dimensions that is a stride-1 conv of x
 * with the sub-kernel of those taps (reversed, channel axes swapped per
 * group), whose output q goes to o = s q + r - pad. So each phase is an
 * implicit GEMM of K = Cg * (its taps), where the general path below
 * writes a column matrix Mg * KH * KW times the input and adds it back
 * (the detection head's 4x4 stride-2 ConvTranspose: 1.7 ms). */
typedef struct convt_ph {
  int64_t m, qmin, nq, pad; /* taps, first q, outputs, the conv's pad */
} convt_ph;

static convt_ph convt_phase(const fr_k_conv *p, int d, int64_t r) {
  const int64_t s = p->stride[d], K = p->k[d], pd = p->pad[d];
  convt_ph f = {0};
  f.m = r < K ? (K - r + s - 1) / s : 0;
  const int64_t a = pd - r, b = p->out[d] - 1 + pd - r; /* pd >= 0, r < s */
  f.qmin = a >= 0 ? (a + s - 1) / s : 0;
  const int64_t qmax = b >= 0 ? b / s : -1;
  f.nq = fr_k_max64(0, qmax - f.qmin + 1);
  f.pad = f.m - 1 - f.qmin;
  return f;
}

enum { CONVT_PH_MAX_S = 4 };

static bool convt_by_phases(const fr_k_conv *p) {
  if (convt_is_depthwise(p) || convt_as_conv(p)) return false;
  if (p->k[0] != 1 || p->stride[0] != 1 || p->in[0] != 1 || p->out[0] != 1 ||
      p->pad[0] != 0 || p->dil[1] != 1 || p->dil[2] != 1)
    return false;
  for (int d = 1; d < 3; d++) {
    if (p->stride[d] > CONVT_PH_MAX_S) return false;
    for (int64_t r = 0; r < p->stride[d]; r++) {
      const convt_ph f = convt_phase(p, d, r);
      if (f.m > 0 && f.nq > 0 && f.pad < 0) return false;
    }
  }
  return true;
}

/* The conv of phase (fy, fx). */
static fr_k_conv convt_phase_conv(const fr_k_conv *p, convt_ph fy, convt_ph fx) {
  fr_k_conv q = *p;
  q.out[1] = fy.nq, q.out[2] = fx.nq;
  q.k[1] = fy.m, q.k[2] = fx.m;
  q.stride[1] = q.stride[2] = 1;
  q.pad[1] = fy.pad, q.pad[2] = fx.pad;
  return q;
}

/* Floats of scratch: the sub-kernel, the phase's outputs (rounded to a
 * cache line each), then the largest phase conv's scratch. */
static void convt_phases_scratch(const fr_k_conv *p, int64_t *wf, int64_t *out,
                                 int64_t *conv) {
  *wf = *out = *conv = 0;
  for (int64_t ry = 0; ry < p->stride[1]; ry++)
    for (int64_t rx = 0; rx < p->stride[2]; rx++) {
      const convt_ph fy = convt_phase(p, 1, ry), fx = convt_phase(p, 2, rx);
      if (fy.m == 0 || fx.m == 0 || fy.nq == 0 || fx.nq == 0) continue;
      const fr_k_conv q = convt_phase_conv(p, fy, fx);
      *wf = fr_k_max64(*wf, (p->M * (p->C / p->group) * fy.m * fx.m + 15) / 16 * 16);
      *out = fr_k_max64(*out, (p->N * p->M * fy.nq * fx.nq + 15) / 16 * 16);
      *conv = fr_k_max64(*conv, (int64_t)fr_k_conv_scratch(&q));
    }
}

static void convt_subpixel(const fr_k_conv *p, const float *x, const float *w,
                           const float *bias, float *y, float *scratch) {
  const int64_t G = p->group, Mg = p->M / G, Cg = p->C / G;
  const int64_t KH = p->k[1], KW = p->k[2], sy = p->stride[1], sx = p->stride[2];
  const int64_t OH = p->out[1], OW = p->out[2], NO = OH * OW;
  int64_t nwf, nout, nconv;
  convt_phases_scratch(p, &nwf, &nout, &nconv);
  float *wf = scratch, *t = scratch + nwf, *cs = t + nout;
  for (int64_t ry = 0; ry < sy; ry++)
    for (int64_t rx = 0; rx < sx; rx++) {
      const convt_ph fy = convt_phase(p, 1, ry), fx = convt_phase(p, 2, rx);
      if (fy.nq == 0 || fx.nq == 0) continue;
      const int64_t oy0 = sy * fy.qmin + ry - p->pad[1], ox0 = sx * fx.qmin + rx - p->pad[2];
      const int64_t P = fy.nq * fx.nq;
      if (fy.m == 0 || fx.m == 0) { /* no tap lands here: the bias */
        for (int64_t n = 0; n < p->N; n++)
          for (int64_t m = 0; m < p->M; m++) {
            float *yr = y + (n * p->M + m) * NO;
            for (int64_t a = 0; a < fy.nq; a++)
              for (int64_t b = 0; b < fx.nq; b++)
                yr[(oy0 + sy * a) * OW + ox0 + sx * b] = bias ? bias[m] : 0.0f;
          }
        continue;
      }
      /* the sub-kernel (M, Cg, my, mx): taps ry + sy (my-1-jy), rx + sx (mx-1-jx) */
      for (int64_t g = 0; g < G; g++)
        for (int64_t m = 0; m < Mg; m++)
          for (int64_t c = 0; c < Cg; c++) {
            const float *ws = w + ((g * Cg + c) * Mg + m) * KH * KW;
            float *wd = wf + ((g * Mg + m) * Cg + c) * fy.m * fx.m;
            for (int64_t jy = 0; jy < fy.m; jy++)
              for (int64_t jx = 0; jx < fx.m; jx++)
                wd[jy * fx.m + jx] =
                    ws[(ry + sy * (fy.m - 1 - jy)) * KW + rx + sx * (fx.m - 1 - jx)];
          }
      const fr_k_conv q = convt_phase_conv(p, fy, fx);
      fr_k_conv_res_f32(&q, x, wf, bias, NULL, t, cs);
      /* the phase's outputs to their places */
      for (int64_t n = 0; n < p->N; n++)
        for (int64_t m = 0; m < p->M; m++) {
          const float *tr = t + (n * p->M + m) * P;
          float *yr = y + (n * p->M + m) * NO + oy0 * OW + ox0;
          for (int64_t a = 0; a < fy.nq; a++) {
            float *yo = yr + sy * a * OW;
            const float *ti = tr + a * fx.nq;
            if (sx == 2)
              for (int64_t b = 0; b < fx.nq; b++) yo[2 * b] = ti[b];
            else
              for (int64_t b = 0; b < fx.nq; b++) yo[sx * b] = ti[b];
          }
        }
    }
}

size_t fr_k_convtranspose_scratch(const fr_k_conv *p) {
  if (convt_is_depthwise(p))
    return convt_as_conv(p) ? (size_t)(p->C * p->k[0] * p->k[1] * p->k[2]) : 0;
  if (convt_as_conv(p)) {
    fr_k_conv q = convt_conv(p);
    return (size_t)convt_wf_floats(p) + fr_k_conv_scratch(&q);
  }
  if (convt_by_phases(p)) {
    int64_t wf, out, conv;
    convt_phases_scratch(p, &wf, &out, &conv);
    return (size_t)(wf + out + conv);
  }
  int64_t Mg = p->M / p->group, Cg = p->C / p->group;
  int64_t KK = p->k[0] * p->k[1] * p->k[2];
  int64_t NI = p->in[0] * p->in[1] * p->in[2];
  return (size_t)(Mg * KK * NI) + fr_k_sgemm_scratch(Mg * KK, NI, Cg);
}

void fr_k_convtranspose_f32(const fr_k_conv *p, const float *x,
                            const float *w, const float *bias, float *y,
                            float *scratch) {
  if (convt_is_depthwise(p)) {
    convt_depthwise(p, x, w, bias, y, scratch);
    return;
  }
  const int64_t G = p->group, Mg = p->M / G, Cg = p->C / G;
  const int64_t KK = p->k[0] * p->k[1] * p->k[2];
  if (convt_as_conv(p)) {
    /* the conv's kernel (M, Cg, KK): wf[g Mg + m][c][t] = w[g Cg + c][m][KK-1-t];
     * the implicit GEMM packs the taps of x, where the path below writes
     * and adds back a column matrix KK times the output */
    float *wf = scratch;
    for (int64_t g = 0; g < G; g++)
      for (int64_t m = 0; m < Mg; m++)
        for (int64_t c = 0; c < Cg; c++) {
          const float *ws = w + ((g * Cg + c) * Mg + m) * KK;
          float *wd = wf + ((g * Mg + m) * Cg + c) * KK;
          for (int64_t t = 0; t < KK; t++) wd[t] = ws[KK - 1 - t];
        }
    fr_k_conv q = convt_conv(p);
    fr_k_conv_res_f32(&q, x, wf, bias, NULL, y, scratch + convt_wf_floats(p));
    return;
  }
  if (convt_by_phases(p)) {
    convt_subpixel(p, x, w, bias, y, scratch);
    return;
  }
  const int64_t NI = p->in[0] * p->in[1] * p->in[2];
  const int64_t NO = p->out[0] * p->out[1] * p->out[2];
  float *col = scratch, *gs = scratch + Mg * KK * NI;
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t g = 0; g < G; g++) {
      const float *xg = x + (n * p->C + g * Cg) * NI; /* (Cg, NI) */
      const float *wg = w + g * Cg * Mg * KK;         /* (Cg, Mg * KK) */
      float *yg = y + (n * p->M + g * Mg) * NO;       /* (Mg, NO) */
      fr_k_gemm gm = {Mg * KK, NI, Cg, wg, 1, Mg * KK, xg, NI, 1,
                      col, NI, 1.0f, 0.0f, NULL, {0}, NULL, NULL, 0};
      fr_k_sgemm(&gm, gs);
      /* col2im: the output channels on threads (serial inside a thread
       * of fr_ke_convtranspose_f32's, which cuts the images) */
      col2im_job cj = {p, col, bias ? bias + g * Mg : NULL, yg};
      if (fr_k_par_worth(Mg * KK * NI))
        fr_k_parallel(Mg, col2im_task, &cj, NULL, 0);
      else
        col2im_task(&cj, 0, Mg, NULL);
    }
}

void fr_ke_conv_f32(const void *params, void *const *b) {
  fr_k_conv_res_f32(params, b[0], b[1], b[2], NULL, b[3], b[4]);
}

void fr_ke_conv_fused_f32(const void *params, void *const *b) {
  fr_k_conv_scaled_f32(params, b[0], b[4], b[1], b[2], b[3], b[5], b[6]);
}

/* Transposed convolutions on threads: images [lo, hi) as one of their
 * own, with a scratch each (its size does not depend on the images). */
typedef struct convt_job {
  const fr_k_conv *p;
  const float *x, *w, *bias;
  float *y;
} convt_job;

static void convt_images(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const convt_job *j = ctx;
  fr_k_conv sub = *j->p;
  sub.N = hi - lo;
  fr_k_convtranspose_f32(&sub, j->x + lo * sub.C * sub.in[0] * sub.in[1] * sub.in[2],
                         j->w, j->bias,
                         j->y + lo * sub.M * sub.out[0] * sub.out[1] * sub.out[2],
                         scratch);
}

void fr_ke_convtranspose_f32(const void *params, void *const *b) {
  const fr_k_conv *p = params;
  convt_job j = {p, b[0], b[1], b[2], b[3]};
  int64_t ops = p->N * p->M * p->C / p->group * p->in[0] * p->in[1] * p->in[2] *
                p->k[0] * p->k[1] * p->k[2];
  /* as convs, the images are cut by the convs' own threads */
  if (!convt_as_conv(p) && !convt_by_phases(p) && p->N >= fr_k_threads() &&
      fr_k_par_worth(ops))
    fr_k_parallel(p->N, convt_images, &j, b[4],
                  fr_k_convtranspose_scratch(p) * sizeof(float));
  else
    fr_k_convtranspose_f32(params, b[0], b[1], b[2], b[3], b[4]);
}
