/* nn.c: neural-network kernels besides the GEMM: depthwise convolution,
 * pooling, transposed convolution scatter, resize, grid sampling,
 * quantization and friends. Spatial shapes are given as 3 dims (D, H, W),
 * lower-rank ops padding with 1s, so one loop nest serves 1-D to 3-D. */
#include <math.h>
#include <string.h>

#include "kernels.h"

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Outputs o in [lo, hi) of a row whose input o * s + off lies in [0, n). */
static void valid_range(int64_t s, int64_t off, int64_t n, int64_t nout,
                        int64_t *lo, int64_t *hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = n - 1 - off >= 0 ? (n - 1 - off) / s + 1 : 0;
  *lo = min64(l, nout);
  *hi = max64(min64(h, nout), *lo);
}

/* ---- depthwise convolution --------------------------------------------- */

/* y[o] += w * x[o * S] for o < n: the strides the models use get their own
 * copy so the loop vectorizes. */
static void axpy_s1(int64_t n, float w, const float *restrict x,
                    float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] += w * x[o];
}
static void axpy_s2(int64_t n, float w, const float *restrict x,
                    float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] += w * x[2 * o];
}
static void axpy_sn(int64_t n, int64_t s, float w, const float *restrict x,
                    float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] += w * x[o * s];
}

/* Each output row accumulates one input row per kernel tap, over the range
 * of outputs where that tap is inside the image (padding adds nothing). */
void fr_k_dwconv_f32(const fr_k_conv *p, const float *x, const float *w,
                     const float *bias, float *y) {
  const int64_t IH = p->in[1], IW = p->in[2], OH = p->out[1], OW = p->out[2];
  const int64_t KH = p->k[1], KW = p->k[2];
  const int64_t sh = p->stride[1], sw = p->stride[2];
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t c = 0; c < p->C; c++) {
      const float *xp = x + (n * p->C + c) * IH * IW; /* (IH, IW) */
      float *yp = y + (n * p->C + c) * OH * OW;       /* (OH, OW) */
      const float *wp = w + c * KH * KW;              /* (KH, KW) */
      float b = bias ? bias[c] : 0.0f;
      for (int64_t oy = 0; oy < OH; oy++) {
        float *yr = yp + oy * OW;
        for (int64_t ox = 0; ox < OW; ox++) yr[ox] = b;
        for (int64_t ky = 0; ky < KH; ky++) {
          int64_t iy = oy * sh - p->pad[1] + ky * p->dil[1];
          if (iy < 0 || iy >= IH) continue;
          const float *row = xp + iy * IW;
          for (int64_t kx = 0; kx < KW; kx++) {
            int64_t off = kx * p->dil[2] - p->pad[2], lo, hi;
            valid_range(sw, off, IW, OW, &lo, &hi);
            float wv = wp[ky * KW + kx];
            const float *xr = row + lo * sw + off;
            if (sw == 1) axpy_s1(hi - lo, wv, xr, yr + lo);
            else if (sw == 2) axpy_s2(hi - lo, wv, xr, yr + lo);
            else axpy_sn(hi - lo, sw, wv, xr, yr + lo);
          }
        }
      }
    }
}

/* ---- pooling ----------------------------------------------------------- */

/* Number of taps t < k with lo <= o * s - pad + t * d < hi. */
static int64_t count_taps(int64_t o, int64_t s, int64_t pad, int64_t d,
                          int64_t k, int64_t lo, int64_t hi) {
  int64_t c = 0;
  for (int64_t t = 0; t < k; t++) {
    int64_t i = o * s - pad + t * d;
    c += i >= lo && i < hi;
  }
  return c;
}

static void max_s1(int64_t n, const float *restrict x, float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] = x[o] > y[o] ? x[o] : y[o];
}
static void max_s2(int64_t n, const float *restrict x, float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] = x[2 * o] > y[o] ? x[2 * o] : y[o];
}
static void max_sn(int64_t n, int64_t s, const float *restrict x,
                   float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] = x[o * s] > y[o] ? x[o * s] : y[o];
}
static void sum_s1(int64_t n, const float *restrict x, float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] += x[o];
}
static void sum_s2(int64_t n, const float *restrict x, float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] += x[2 * o];
}
static void sum_sn(int64_t n, int64_t s, const float *restrict x,
                   float *restrict y) {
  for (int64_t o = 0; o < n; o++) y[o] += x[o * s];
}
static void lp_sn(int64_t n, int64_t s, float pw, const float *restrict x,
                  float *restrict y) {
  if (pw == 2.0f)
    for (int64_t o = 0; o < n; o++) y[o] += x[o * s] * x[o * s];
  else if (pw == 1.0f)
    for (int64_t o = 0; o < n; o++) y[o] += fabsf(x[o * s]);
  else
    for (int64_t o = 0; o < n; o++) y[o] += powf(fabsf(x[o * s]), pw);
}

/* Max, average or Lp pooling: each output row is combined from the input
 * rows its window covers, one kernel column at a time over the outputs
 * where that column is inside the image. */
void fr_k_pool_f32(const fr_k_pool *p, const float *x, float *y) {
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t sw = p->stride[2];
  for (int64_t pl = 0; pl < p->planes; pl++)
    for (int64_t od = 0; od < OD; od++)
      for (int64_t oh = 0; oh < OH; oh++) {
        float *yr = y + ((pl * OD + od) * OH + oh) * OW;
        float init = p->kind == FR_K_POOL_MAX ? -INFINITY : 0.0f;
        for (int64_t ox = 0; ox < OW; ox++) yr[ox] = init;
        for (int64_t z = 0; z < p->k[0]; z++) {
          int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
          if (iz < 0 || iz >= ID) continue;
          for (int64_t ky = 0; ky < p->k[1]; ky++) {
            int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
            if (iy < 0 || iy >= IH) continue;
            const float *row = x + ((pl * ID + iz) * IH + iy) * IW;
            for (int64_t kx = 0; kx < p->k[2]; kx++) {
              int64_t off = kx * p->dil[2] - p->pad[2], lo, hi;
              valid_range(sw, off, IW, OW, &lo, &hi);
              const float *xr = row + lo * sw + off;
              int64_t n = hi - lo;
              switch (p->kind) {
              case FR_K_POOL_MAX:
                if (sw == 1) max_s1(n, xr, yr + lo);
                else if (sw == 2) max_s2(n, xr, yr + lo);
                else max_sn(n, sw, xr, yr + lo);
                break;
              case FR_K_POOL_AVG:
                if (sw == 1) sum_s1(n, xr, yr + lo);
                else if (sw == 2) sum_s2(n, xr, yr + lo);
                else sum_sn(n, sw, xr, yr + lo);
                break;
              case FR_K_POOL_LP: lp_sn(n, sw, p->p, xr, yr + lo); break;
              }
            }
          }
        }
        if (p->kind == FR_K_POOL_LP) {
          float inv = 1.0f / p->p;
          for (int64_t ox = 0; ox < OW; ox++)
            yr[ox] = p->p == 2.0f ? sqrtf(yr[ox]) : powf(yr[ox], inv);
        }
        if (p->kind != FR_K_POOL_AVG) continue;
        /* divisor: taps inside the image, or inside the padded image */
        int64_t lo[3], hi[3];
        for (int d = 0; d < 3; d++) {
          lo[d] = p->count_include_pad ? -p->pad[d] : 0;
          hi[d] = p->in[d] + (p->count_include_pad ? p->pad_end[d] : 0);
        }
        int64_t czy = count_taps(od, p->stride[0], p->pad[0], p->dil[0],
                                 p->k[0], lo[0], hi[0]) *
                      count_taps(oh, p->stride[1], p->pad[1], p->dil[1],
                                 p->k[1], lo[1], hi[1]);
        for (int64_t ox = 0; ox < OW; ox++) {
          int64_t cnt = czy * count_taps(ox, sw, p->pad[2], p->dil[2],
                                         p->k[2], lo[2], hi[2]);
          yr[ox] = cnt > 0 ? yr[ox] / (float)cnt : 0.0f;
        }
      }
}

/* Max pooling of uint8/int8 (is_signed) data, the reference loop. */
void fr_k_maxpool_i8(const fr_k_pool *p, const void *xv, void *yv,
                     int is_signed) {
  const uint8_t *xu = xv;
  const int8_t *xs = xv;
  uint8_t *yu = yv;
  int8_t *ys = yv;
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  for (int64_t pl = 0; pl < p->planes; pl++)
    for (int64_t od = 0; od < OD; od++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          int best = is_signed ? -129 : -1;
          for (int64_t z = 0; z < p->k[0]; z++) {
            int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
            if (iz < 0 || iz >= ID) continue;
            for (int64_t ky = 0; ky < p->k[1]; ky++) {
              int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
              if (iy < 0 || iy >= IH) continue;
              for (int64_t kx = 0; kx < p->k[2]; kx++) {
                int64_t ix = ow * p->stride[2] - p->pad[2] + kx * p->dil[2];
                if (ix < 0 || ix >= IW) continue;
                int64_t i = ((pl * ID + iz) * IH + iy) * IW + ix;
                int v = is_signed ? xs[i] : xu[i];
                if (v > best) best = v;
              }
            }
          }
          int64_t o = ((pl * OD + od) * OH + oh) * OW + ow;
          if (is_signed) ys[o] = (int8_t)(best < -128 ? -128 : best);
          else yu[o] = (uint8_t)(best < 0 ? 0 : best);
        }
}

/* Max pooling that also records where each maximum came from: the flat
 * index into x (row-major, or with H and W swapped when col_major), the
 * first one on ties. Reference loop. */
void fr_k_maxpool_idx_f32(const fr_k_pool *p, const float *x, float *y,
                          int64_t *idx, int col_major) {
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  for (int64_t pl = 0; pl < p->planes; pl++)
    for (int64_t od = 0; od < OD; od++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          float best = -INFINITY;
          int64_t bi = -1;
          for (int64_t z = 0; z < p->k[0]; z++) {
            int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
            if (iz < 0 || iz >= ID) continue;
            for (int64_t ky = 0; ky < p->k[1]; ky++) {
              int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
              if (iy < 0 || iy >= IH) continue;
              for (int64_t kx = 0; kx < p->k[2]; kx++) {
                int64_t ix = ow * p->stride[2] - p->pad[2] + kx * p->dil[2];
                if (ix < 0 || ix >= IW) continue;
                float v = x[((pl * ID + iz) * IH + iy) * IW + ix];
                if (v > best || bi < 0) {
                  best = v;
                  bi = col_major ? ((pl * IW + ix) * IH + iy) * ID + iz
                                 : ((pl * ID + iz) * IH + iy) * IW + ix;
                }
              }
            }
          }
          int64_t o = ((pl * OD + od) * OH + oh) * OW + ow;
          y[o] = best;
          idx[o] = bi < 0 ? 0 : bi;
        }
}

/* Global average (avg != 0) or max over each of `planes` planes of n. */
void fr_k_global_pool_f32(int64_t planes, int64_t n, const float *x,
                          float *y, int avg) {
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * n;
    if (avg) {
      float acc[8] = {0};
      int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += xp[i + j];
      float s = 0;
      for (; i < n; i++) s += xp[i];
      for (int j = 0; j < 8; j++) s += acc[j];
      y[pl] = n ? s / (float)n : 0.0f;
    } else {
      float m = -INFINITY;
      for (int64_t i = 0; i < n; i++) m = xp[i] > m ? xp[i] : m;
      y[pl] = m;
    }
  }
}
