/* nn.c: neural-network kernels besides the GEMM and the convolutions
 * (gemm.c): pooling, transposed convolution scatter, resize, grid sampling,
 * quantization and friends. Spatial shapes are given as 3 dims (D, H, W),
 * lower-rank ops padding with 1s, so one loop nest serves 1-D to 3-D. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "kernels.h"

/* ---- pooling ----------------------------------------------------------- */

/* Number of taps t < k with lo <= o * s - pad + t * d < hi. */
static int64_t count_taps(int64_t o, int64_t s, int64_t pad, int64_t d,
                          int64_t k, int64_t lo, int64_t hi) {
  int64_t t0, t1;
  fr_k_taps(o, s, pad, d, k, lo, hi, &t0, &t1);
  return t1 - t0;
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

int fr_k_pool_tiles(const fr_k_pool *p) {
  if (p->k[0] != 1 || p->stride[0] != 1 || p->in[0] != p->out[0]) return 0;
  for (int d = 0; d < 3; d++)
    if (p->pad[d] || p->pad_end[d] || p->dil[d] != 1) return 0;
  return p->stride[1] == p->k[1] && p->stride[2] == p->k[2] && p->k[1] >= 1 &&
         p->k[2] >= 1 && p->out[1] * p->k[1] <= p->in[1] &&
         p->out[2] * p->k[2] <= p->in[2];
}

/* 2x2 windows at stride 2 inside the input (fr_k_pool_tiles), max or
 * average: the four taps of a window read together (so the loop loads
 * whole vectors and shuffles, not gathers every other float), combined in
 * the order of the general loop below, for the same bits. */
static bool pool_2x2(const fr_k_pool *p) {
  return p->kind != FR_K_POOL_LP && p->k[1] == 2 && p->k[2] == 2 && fr_k_pool_tiles(p);
}

static FR_K_GENERIC void pool_2x2_rows(const fr_k_pool *p, const float *x, float *y) {
  const int64_t IH = p->in[1], IW = p->in[2], OH = p->out[1], OW = p->out[2];
  const bool max = p->kind == FR_K_POOL_MAX;
  for (int64_t pl = 0; pl < p->planes * p->in[0]; pl++)
    for (int64_t oh = 0; oh < OH; oh++) {
      const float *restrict r0 = x + (pl * IH + 2 * oh) * IW, *restrict r1 = r0 + IW;
      float *restrict yr = y + (pl * OH + oh) * OW;
      if (max) {
        for (int64_t o = 0; o < OW; o++) {
          float m = -INFINITY, a = r0[2 * o], b = r0[2 * o + 1], c = r1[2 * o],
                e = r1[2 * o + 1];
          m = a > m ? a : m;
          m = b > m ? b : m;
          m = c > m ? c : m;
          yr[o] = e > m ? e : m;
        }
      } else {
        for (int64_t o = 0; o < OW; o++)
          yr[o] = (((0.0f + r0[2 * o]) + r0[2 * o + 1]) + r1[2 * o]) + r1[2 * o + 1];
        for (int64_t o = 0; o < OW; o++) yr[o] = yr[o] / 4.0f;
      }
    }
}

/* Max, average or Lp pooling: each output row is combined from the input
 * rows its window covers, one kernel column at a time over the outputs
 * where that column is inside the image. */
void fr_k_pool_f32(const fr_k_pool *p, const float *x, float *y) {
  if (pool_2x2(p)) {
    pool_2x2_rows(p, x, y);
    return;
  }
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t sw = p->stride[2];
  for (int64_t pl = 0; pl < p->planes; pl++)
    for (int64_t od = 0; od < OD; od++)
      for (int64_t oh = 0; oh < OH; oh++) {
        float *yr = y + ((pl * OD + od) * OH + oh) * OW;
        float init = p->kind == FR_K_POOL_MAX ? -INFINITY : 0.0f;
        for (int64_t ox = 0; ox < OW; ox++) yr[ox] = init;
        int64_t z0, z1, y0, y1;
        fr_k_taps(od, p->stride[0], p->pad[0], p->dil[0], p->k[0], 0, ID, &z0, &z1);
        fr_k_taps(oh, p->stride[1], p->pad[1], p->dil[1], p->k[1], 0, IH, &y0, &y1);
        for (int64_t z = z0; z < z1; z++) {
          int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
          for (int64_t ky = y0; ky < y1; ky++) {
            int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
            const float *row = x + ((pl * ID + iz) * IH + iy) * IW;
            for (int64_t kx = 0; kx < p->k[2]; kx++) {
              int64_t off = kx * p->dil[2] - p->pad[2], lo, hi;
              fr_k_valid_range(sw, off, IW, OW, &lo, &hi);
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

/* Max pooling, the reference loop over each window's taps inside the
 * input: float32, or uint8/int8 data; idx (or NULL) gets the flat input
 * index of each maximum, the first one on ties (col_major: with H and W
 * swapped). An empty window gives the type's lowest value, index 0. */
void fr_k_maxpool_ref(const fr_k_pool *p, int dtype, const void *x, void *y,
                      int64_t *idx, int col_major) {
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  for (int64_t pl = 0; pl < p->planes; pl++)
    for (int64_t od = 0; od < OD; od++)
      for (int64_t oh = 0; oh < OH; oh++) {
        int64_t z0, z1, y0, y1;
        fr_k_taps(od, p->stride[0], p->pad[0], p->dil[0], p->k[0], 0, ID, &z0, &z1);
        fr_k_taps(oh, p->stride[1], p->pad[1], p->dil[1], p->k[1], 0, IH, &y0, &y1);
        for (int64_t ow = 0; ow < OW; ow++) {
          /* the type's lowest value (an empty window's); 8-bit values are
           * exact as floats */
          float best = dtype == FR_KT_F32 ? -INFINITY
                       : dtype == FR_KT_I8 ? -128.0f : 0.0f;
          int64_t bi = -1, x0, x1;
          fr_k_taps(ow, p->stride[2], p->pad[2], p->dil[2], p->k[2], 0, IW, &x0, &x1);
          for (int64_t z = z0; z < z1; z++) {
            int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
            for (int64_t ky = y0; ky < y1; ky++) {
              int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
              for (int64_t kx = x0; kx < x1; kx++) {
                int64_t ix = ow * p->stride[2] - p->pad[2] + kx * p->dil[2];
                int64_t i = ((pl * ID + iz) * IH + iy) * IW + ix;
                float v = dtype == FR_KT_F32  ? ((const float *)x)[i]
                          : dtype == FR_KT_I8 ? ((const int8_t *)x)[i]
                                              : ((const uint8_t *)x)[i];
                if (v > best || bi < 0) {
                  best = v;
                  bi = col_major ? ((pl * IW + ix) * IH + iy) * ID + iz : i;
                }
              }
            }
          }
          int64_t o = ((pl * OD + od) * OH + oh) * OW + ow;
          if (dtype == FR_KT_F32) ((float *)y)[o] = best;
          else if (dtype == FR_KT_I8) ((int8_t *)y)[o] = (int8_t)best;
          else ((uint8_t *)y)[o] = (uint8_t)best;
          if (idx) idx[o] = bi < 0 ? 0 : bi;
        }
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

/* ---- resize -------------------------------------------------------------- */

/* The taps of one resized dim, as ONNX's reference computes them: output o
 * maps to input coordinate x; with base = ceil(x) - 1 and ratio x - base in
 * (0, 1], tap t reads input base - (n/2 - 1) + t (clamped: the edge
 * repeats). Fills idx and w (out, n); n is 2 (nearest, linear) or 4. */
void fr_k_resize_taps(const fr_k_resize_dim *p, int64_t *idx, float *w) {
  const int n = p->mode == FR_K_RESIZE_CUBIC ? 4 : 2;
  const double in = (double)p->in, scale = p->scale;
  const double out_w = scale * in; /* the reference's (real) output width */
  for (int64_t o = 0; o < p->out; o++) {
    double xo = (double)o, x;
    int outside = 0;
    switch (p->coord) {
    case FR_K_COORD_ALIGN_CORNERS:
      x = out_w == 1 ? 0 : xo * (in - 1) / (out_w - 1);
      break;
    case FR_K_COORD_ASYMMETRIC: x = xo / scale; break;
    case FR_K_COORD_TF_HALF_PIXEL_FOR_NN: x = (xo + 0.5) / scale; break;
    case FR_K_COORD_PYTORCH_HALF_PIXEL:
      x = out_w == 1 ? -0.5 : (xo + 0.5) / scale - 0.5;
      break;
    case FR_K_COORD_TF_CROP_AND_RESIZE:
      x = out_w == 1 ? (p->roi_end - p->roi_start) * (in - 1) / 2
                     : xo * (p->roi_end - p->roi_start) * (in - 1) / (out_w - 1);
      x += p->roi_start * (in - 1);
      outside = x < 0 || x > in - 1;
      break;
    case FR_K_COORD_HALF_PIXEL_SYMMETRIC: {
      double adj = (double)p->out / out_w, center = in / 2;
      x = center * (1 - adj) + (xo + 0.5) / scale - 0.5;
      break;
    }
    default: x = (xo + 0.5) / scale - 0.5; break; /* half_pixel */
    }
    double base = ceil(x) - 1, r = x - base;
    float c[4];
    switch (p->mode) {
    case FR_K_RESIZE_NEAREST: {
      int up = 0; /* take base + 1 (else base) */
      switch (p->nearest) {
      case FR_K_NEAREST_ROUND_PREFER_CEIL: up = r >= 0.5; break;
      case FR_K_NEAREST_FLOOR: up = r == 1; break;
      case FR_K_NEAREST_CEIL: up = 1; break;
      case FR_K_NEAREST_SIMPLE: /* ONNX Upsample, Resize-10 */
        up = scale < 1 ? 1 : r == 1;
        break;
      default: up = r > 0.5; break; /* round_prefer_floor */
      }
      c[0] = (float)!up;
      c[1] = (float)up;
      break;
    }
    case FR_K_RESIZE_LINEAR:
      c[0] = (float)(1 - r);
      c[1] = (float)r;
      break;
    default: {
      double A = p->cubic_a, s = 1 - r;
      c[0] = (float)(((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A);
      c[1] = (float)(((A + 2) * r - (A + 3)) * r * r + 1);
      c[2] = (float)(((A + 2) * s - (A + 3)) * s * s + 1);
      c[3] = (float)(((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A);
      break;
    }
    }
    int64_t first = (int64_t)base - (n / 2 - 1);
    if (p->exclude_outside) {
      float sum = 0;
      for (int t = 0; t < n; t++) {
        if (first + t < 0 || first + t >= p->in) c[t] = 0;
        sum += c[t];
      }
      for (int t = 0; t < n; t++) c[t] = sum != 0 ? c[t] / sum : 0;
    }
    for (int t = 0; t < n; t++) {
      int64_t i = first + t;
      idx[o * n + t] = outside ? -1 : i < 0 ? 0 : i >= p->in ? p->in - 1 : i;
      w[o * n + t] = c[t];
    }
  }
}

/* Sum over the taps of dims d.. of output element at out index o. */
static float resize_gather(const fr_k_resize *r, const float *x, int d,
                           const int64_t *o, int64_t off) {
  if (d == r->rank) return x[off];
  const int n = r->ntap;
  const int64_t *idx = r->idx[d] + o[d] * n;
  const float *w = r->w[d] + o[d] * n;
  float s = 0;
  for (int t = 0; t < n; t++) {
    if (w[t] == 0) continue;
    s += w[t] * resize_gather(r, x, d + 1, o, off * r->in[d] + idx[t]);
  }
  return s;
}

void fr_k_resize_f32(const fr_k_resize *r, const float *x, float *y) {
  int64_t total = 1, o[FR_K_MAX_RANK] = {0};
  for (int d = 0; d < r->rank; d++) total *= r->out[d];
  for (int64_t e = 0; e < total; e++) {
    int outside = 0;
    for (int d = 0; d < r->rank; d++) outside |= r->idx[d][o[d] * r->ntap] < 0;
    y[e] = outside ? r->extrapolation : resize_gather(r, x, 0, o, 0);
    for (int d = r->rank - 1; d >= 0; d--) {
      if (++o[d] < r->out[d]) break;
      o[d] = 0;
    }
  }
}

/* The separable path. Dim d keeps its input: every output index o reads
 * input o alone, with weights that add up to 1 (pytorch_half_pixel gives
 * a dim of size 1 two taps of 0.5 on it). */
static bool resize_dim_kept(const fr_k_resize *r, int d) {
  if (r->in[d] != r->out[d]) return false;
  for (int64_t o = 0; o < r->out[d]; o++) {
    float sum = 0;
    for (int t = 0; t < r->ntap; t++) {
      float w = r->w[d][o * r->ntap + t];
      if (w != 0 && r->idx[d][o * r->ntap + t] != o) return false;
      sum += w;
    }
    if (sum != 1) return false;
  }
  return true;
}

int fr_k_resize_sep_ok(const fr_k_resize *r) {
  if (r->ntap != 2 || r->rank < 1) return 0;
  for (int d = 0; d < r->rank - 2; d++)
    if (!resize_dim_kept(r, d)) return 0;
  for (int d = r->rank > 1 ? r->rank - 2 : 0; d < r->rank; d++)
    for (int64_t i = 0; i < r->out[d] * 2; i++)
      if (r->idx[d][i] < 0) return 0; /* outside the crop */
  return 1;
}

/* Every output index of a dim reads one input index with weight 1 (the
 * taps of nearest, and of linear on whole positions). */
static bool resize_dim_single(const int64_t *idx, const float *w, int64_t out) {
  for (int64_t o = 0; o < out; o++)
    if (!((w[2 * o] == 1 && w[2 * o + 1] == 0) ||
          (w[2 * o] == 0 && w[2 * o + 1] == 1)))
      return false;
  (void)idx;
  return true;
}

/* The input index of a single tap pair: the one of weight 1. */
static inline int64_t single_tap(const int64_t *idx, const float *w, int64_t o) {
  return w[2 * o] != 0 ? idx[2 * o] : idx[2 * o + 1];
}

/* The factor k > 1 if single taps of a dim are idx(o) = o / k and
 * out = k * in, else 0. */
static int64_t repeat_factor(const int64_t *idx, const float *w, int64_t in,
                             int64_t out) {
  if (in <= 0 || out % in || out / in < 2) return 0;
  int64_t k = out / in;
  for (int64_t o = 0; o < out; o++)
    if (single_tap(idx, w, o) != o / k) return 0;
  return k;
}

/* How the W dim is resized: its taps, and whether they are single (with
 * the repeat factor k, or 0). */
typedef struct resize_w {
  const int64_t *idx;
  const float *w;
  int64_t n;
  bool single;
  int64_t k;
} resize_w;

/* One input row x resized along W into y. */
static void resize_row(const resize_w *rw, const float *restrict x,
                       float *restrict y) {
  const int64_t n = rw->n, k = rw->k, *idx = rw->idx;
  const float *w = rw->w;
  if (!rw->single) { /* two taps; a zero weight's index is clamped inside */
    for (int64_t o = 0; o < n; o++)
      y[o] = w[2 * o] * x[idx[2 * o]] + w[2 * o + 1] * x[idx[2 * o + 1]];
  } else if (k == 2) {
    for (int64_t i = 0; i < n / 2; i++) y[2 * i] = y[2 * i + 1] = x[i];
  } else if (k > 0) {
    for (int64_t i = 0; i < n / k; i++)
      for (int64_t j = 0; j < k; j++) y[i * k + j] = x[i];
  } else {
    for (int64_t o = 0; o < n; o++) y[o] = x[single_tap(idx, w, o)];
  }
}

/* Resize over the last two dims (H, W; H = 1 for rank 1) of each plane,
 * the leading dims kept (fr_k_resize_sep_ok): each output row is an input
 * row resized along W, or a blend of two such rows kept in rows (2 * OW
 * floats); a row the previous output row read alone is copied. */
static FR_K_SHARED void resize_sep_planes(const fr_k_resize *r, const float *x, float *y,
                              float *rows, int64_t p0, int64_t p1) {
  const int R = r->rank, dh = R - 2, dw = R - 1;
  const int64_t IH = R > 1 ? r->in[dh] : 1, OH = R > 1 ? r->out[dh] : 1;
  const int64_t IW = r->in[dw], OW = r->out[dw];
  static const int64_t one_idx[2] = {0, 0};
  static const float one_w[2] = {1, 0};
  const int64_t *hi = R > 1 ? r->idx[dh] : one_idx;
  const float *hw = R > 1 ? r->w[dh] : one_w;
  resize_w rw = {r->idx[dw], r->w[dw], OW, false, 0};
  rw.single = resize_dim_single(rw.idx, rw.w, OW);
  rw.k = rw.single ? repeat_factor(rw.idx, rw.w, IW, OW) : 0;
  for (int64_t pl = p0; pl < p1; pl++) {
    const float *xp = x + pl * IH * IW; /* (IH, IW) */
    float *yp = y + pl * OH * OW;        /* (OH, OW) */
    int64_t key[2] = {-1, -1};           /* the input row in each of rows */
    int64_t prev = -1; /* the input row the previous output row is */
    for (int64_t oy = 0; oy < OH; oy++) {
      float *yr = yp + oy * OW;
      const int64_t *ti = hi + 2 * oy;
      const float *tw = hw + 2 * oy;
      /* the taps of weight != 0 */
      int64_t need[2];
      float c[2];
      int n = 0;
      for (int t = 0; t < 2; t++)
        if (tw[t] != 0) need[n] = ti[t], c[n++] = tw[t];
      if (n == 1 && c[0] == 1) { /* one input row */
        if (need[0] == prev) memcpy(yr, yr - OW, (size_t)OW * sizeof(float));
        else resize_row(&rw, xp + need[0] * IW, yr);
        prev = need[0];
        continue;
      }
      prev = -1;
      /* each tap's row resized into one of rows, filling a row the
       * other tap does not use */
      int slot[2] = {0, 0};
      bool used[2] = {false, false};
      for (int j = 0; j < n; j++) {
        slot[j] = key[0] == need[j] ? 0 : key[1] == need[j] ? 1 : -1;
        if (slot[j] >= 0) used[slot[j]] = true;
      }
      for (int j = 0; j < n; j++) {
        if (slot[j] < 0)
          slot[j] = key[0] == need[j] ? 0 : key[1] == need[j] ? 1 : -1;
        if (slot[j] >= 0) continue;
        int sl = used[0] ? 1 : 0;
        resize_row(&rw, xp + need[j] * IW, rows + sl * OW);
        key[sl] = need[j];
        used[sl] = true;
        slot[j] = sl;
      }
      const float *h0 = rows + slot[0] * OW, *h1 = rows + slot[1] * OW;
      if (n == 2)
        for (int64_t o = 0; o < OW; o++) yr[o] = c[0] * h0[o] + c[1] * h1[o];
      else if (n == 1)
        for (int64_t o = 0; o < OW; o++) yr[o] = c[0] * h0[o];
      else
        for (int64_t o = 0; o < OW; o++) yr[o] = 0;
    }
  }
}

/* The planes: the product of the kept leading dims. */
static int64_t resize_sep_nplanes(const fr_k_resize *r) {
  int64_t planes = 1;
  for (int d = 0; d < r->rank - 2; d++) planes *= r->out[d];
  return planes;
}

void fr_k_resize_sep_f32(const fr_k_resize *r, const float *x, float *y,
                         float *rows) {
  resize_sep_planes(r, x, y, rows, 0, resize_sep_nplanes(r));
}

/* ---- grid sampling -------------------------------------------------------- */

/* Reflects x into [lo, hi], as often as it takes. */
static float reflect(float x, float lo, float hi) {
  float range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    float dx = lo - x;
    int64_t k = (int64_t)(dx / range);
    float r = dx - (float)k * range;
    return k % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    float dx = x - hi;
    int64_t k = (int64_t)(dx / range);
    float r = dx - (float)k * range;
    return k % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

/* Pixel (yy, xx) of an (H, W) image under the padding mode. */
static float grid_pixel(const fr_k_gridsample *g, const float *img, int64_t xx,
                        int64_t yy, const float *bd) {
  const int64_t H = g->H, W = g->W;
  switch (g->padding) {
  case FR_K_PAD_BORDER:
    xx = xx < 0 ? 0 : xx >= W ? W - 1 : xx;
    yy = yy < 0 ? 0 : yy >= H ? H - 1 : yy;
    break;
  case FR_K_PAD_REFLECTION:
    xx = (int64_t)reflect((float)xx, bd[0], bd[2]);
    yy = (int64_t)reflect((float)yy, bd[1], bd[3]);
    break;
  default: break;
  }
  if (xx < 0 || xx >= W || yy < 0 || yy >= H) return 0;
  return img[yy * W + xx];
}

static void cubic_coeffs(float t, float *c) {
  const float A = -0.75f;
  t = fabsf(t);
  c[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  c[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  c[2] = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  c[3] = ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A;
}

void fr_k_gridsample_f32(const fr_k_gridsample *g, const float *x,
                         const float *grid, float *y) {
  const int64_t H = g->H, W = g->W, HO = g->HO, WO = g->WO;
  float bd[4]; /* x_min, y_min, x_max, y_max of the reflection */
  if (g->align_corners) bd[0] = 0, bd[1] = 0, bd[2] = (float)(W - 1), bd[3] = (float)(H - 1);
  else bd[0] = -0.5f, bd[1] = -0.5f, bd[2] = (float)W - 0.5f, bd[3] = (float)H - 0.5f;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t o = 0; o < HO * WO; o++) {
      float gx = grid[(n * HO * WO + o) * 2], gy = grid[(n * HO * WO + o) * 2 + 1];
      float fx = g->align_corners ? (gx + 1) / 2 * (float)(W - 1)
                                  : ((gx + 1) * (float)W - 1) / 2;
      float fy = g->align_corners ? (gy + 1) / 2 * (float)(H - 1)
                                  : ((gy + 1) * (float)H - 1) / 2;
      if (g->mode == FR_K_RESIZE_NEAREST) {
        fx = nearbyintf(fx);
        fy = nearbyintf(fy);
      }
      if (fx < bd[0] || fx > bd[2] || fy < bd[1] || fy > bd[3]) {
        if (g->padding == FR_K_PAD_BORDER) {
          fx = fx < 0 ? 0 : fx > (float)(W - 1) ? (float)(W - 1) : fx;
          fy = fy < 0 ? 0 : fy > (float)(H - 1) ? (float)(H - 1) : fy;
        } else if (g->padding == FR_K_PAD_REFLECTION) {
          fx = reflect(fx, bd[0], bd[2]);
          fy = reflect(fy, bd[1], bd[3]);
        }
      }
      for (int64_t c = 0; c < g->C; c++) {
        const float *img = x + (n * g->C + c) * H * W;
        float v;
        if (!(fx == fx) || !(fy == fy) || fabsf(fx) > 1e15f || fabsf(fy) > 1e15f) {
          v = 0; /* NaN or absurd coordinates read nothing */
        } else if (g->mode == FR_K_RESIZE_NEAREST) {
          v = grid_pixel(g, img, (int64_t)fx, (int64_t)fy, bd);
        } else if (g->mode == FR_K_RESIZE_LINEAR) {
          int64_t x1 = (int64_t)floorf(fx), y1 = (int64_t)floorf(fy);
          float dx1 = fx - (float)x1, dx2 = 1 - dx1;
          float dy1 = fy - (float)y1, dy2 = 1 - dy1;
          v = dy2 * (dx2 * grid_pixel(g, img, x1, y1, bd) +
                     dx1 * grid_pixel(g, img, x1 + 1, y1, bd)) +
              dy1 * (dx2 * grid_pixel(g, img, x1, y1 + 1, bd) +
                     dx1 * grid_pixel(g, img, x1 + 1, y1 + 1, bd));
        } else {
          int64_t x0 = (int64_t)floorf(fx) - 1, y0 = (int64_t)floorf(fy) - 1;
          float cx[4], cy[4];
          cubic_coeffs(fx - (float)x0 - 1, cx);
          cubic_coeffs(fy - (float)y0 - 1, cy);
          v = 0;
          for (int i = 0; i < 4; i++) {
            float row = 0;
            for (int j = 0; j < 4; j++)
              row += cx[j] * grid_pixel(g, img, x0 + j, y0 + i, bd);
            v += cy[i] * row;
          }
        }
        y[(n * g->C + c) * HO * WO + o] = v;
      }
    }
}

/* ---- quantization ----------------------------------------------------------- */

/* Element i of an 8/32-bit integer array of type t. */
static inline int32_t qget(const void *x, int t, int64_t i) {
  switch (t) {
  case FR_K_U8: return ((const uint8_t *)x)[i];
  case FR_K_I8: return ((const int8_t *)x)[i];
  default: return ((const int32_t *)x)[i];
  }
}

static inline void qput(void *y, int t, int64_t i, float v) {
  /* round half to even, then saturate; NaN (0/0 scales) becomes 0, since
   * converting NaN to an integer is undefined behavior in C */
  float r = nearbyintf(v);
  if (r != r) r = 0;
  switch (t) {
  case FR_K_U8:
    ((uint8_t *)y)[i] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    break;
  case FR_K_I8:
    ((int8_t *)y)[i] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
    break;
  default:
    ((int32_t *)y)[i] = (int32_t)(r < -2147483648.0f ? -2147483648.0f
                                  : r >= 2147483648.0f ? 2147483647.0f : r);
    break;
  }
}

void fr_k_quantize_f32(int64_t outer, int64_t axis_n, int64_t inner,
                       const float *x, const float *scale, const int32_t *zp,
                       void *y, int ytype) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t a = 0; a < axis_n; a++) {
      int64_t base = (o * axis_n + a) * inner;
      float s = scale[a], z = (float)zp[a];
      for (int64_t i = 0; i < inner; i++)
        qput(y, ytype, base + i, nearbyintf(x[base + i] / s) + z);
    }
}

void fr_k_dequantize_f32(int64_t outer, int64_t axis_n, int64_t inner,
                         const void *x, int xtype, const float *scale,
                         const int32_t *zp, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t a = 0; a < axis_n; a++) {
      int64_t base = (o * axis_n + a) * inner;
      float s = scale[a];
      int32_t z = zp[a];
      for (int64_t i = 0; i < inner; i++)
        y[base + i] = (float)(qget(x, xtype, base + i) - z) * s;
    }
}

void fr_k_widen_i32(int64_t outer, int64_t axis_n, int64_t inner,
                    const void *x, int xtype, const int32_t *zp, int32_t *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t a = 0; a < axis_n; a++) {
      int64_t base = (o * axis_n + a) * inner;
      for (int64_t i = 0; i < inner; i++)
        y[base + i] = qget(x, xtype, base + i) - zp[a];
    }
}

void fr_k_requantize_i32(int64_t outer, int64_t axis_n, int64_t inner,
                         const int32_t *acc, const float *mult,
                         const int32_t *zp, void *y, int ytype) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t a = 0; a < axis_n; a++) {
      int64_t base = (o * axis_n + a) * inner;
      for (int64_t i = 0; i < inner; i++)
        qput(y, ytype, base + i,
             nearbyintf((float)acc[base + i] * mult[a]) + (float)zp[0]);
    }
}

void fr_k_dynamic_quantize_f32(int64_t n, const float *x, uint8_t *y,
                               float *scale, uint8_t *zp) {
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  float s = (hi - lo) / 255.0f;
  float z = s > 0 ? nearbyintf(-lo / s) : 0;
  z = z < 0 ? 0 : z > 255 ? 255 : z;
  *scale = s;
  *zp = (uint8_t)z;
  for (int64_t i = 0; i < n; i++)
    qput(y, FR_K_U8, i, s > 0 ? nearbyintf(x[i] / s) + z : z);
}

/* C (M, N) = A (M, K) * B (K, N), int32 (wrapping is the caller's risk). */
void fr_k_matmul_i32(int64_t M, int64_t N, int64_t K, const int32_t *a,
                     const int32_t *b, int32_t *c) {
  for (int64_t i = 0; i < M; i++) {
    int32_t *cr = c + i * N;
    for (int64_t j = 0; j < N; j++) cr[j] = 0;
    for (int64_t k = 0; k < K; k++) {
      int32_t av = a[i * K + k];
      const int32_t *br = b + k * N;
      for (int64_t j = 0; j < N; j++) cr[j] += av * br[j];
    }
  }
}

/* Direct integer convolution (the reference loop) with fr_k_conv's
 * geometry; y (N, M, ...) = conv(x, w) + bias (NULL or (M)). */
void fr_k_conv_i32(const fr_k_conv *p, const int32_t *x, const int32_t *w,
                   const int32_t *bias, int32_t *y) {
  const int64_t G = p->group, Cg = p->C / G, Mg = p->M / G;
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t KD = p->k[0], KH = p->k[1], KW = p->k[2];
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t m = 0; m < p->M; m++) {
      int64_t g = m / Mg;
      int32_t *ym = y + (n * p->M + m) * OD * OH * OW;
      for (int64_t o = 0; o < OD * OH * OW; o++) ym[o] = bias ? bias[m] : 0;
      for (int64_t c = 0; c < Cg; c++) {
        const int32_t *xc = x + (n * p->C + g * Cg + c) * ID * IH * IW;
        const int32_t *wc = w + (m * Cg + c) * KD * KH * KW;
        for (int64_t z = 0; z < KD; z++)
          for (int64_t ky = 0; ky < KH; ky++)
            for (int64_t kx = 0; kx < KW; kx++) {
              int32_t wv = wc[(z * KH + ky) * KW + kx];
              for (int64_t od = 0; od < OD; od++) {
                int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
                if (iz < 0 || iz >= ID) continue;
                for (int64_t oh = 0; oh < OH; oh++) {
                  int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
                  if (iy < 0 || iy >= IH) continue;
                  const int32_t *xr = xc + (iz * IH + iy) * IW;
                  int32_t *yr = ym + (od * OH + oh) * OW;
                  for (int64_t ow = 0; ow < OW; ow++) {
                    int64_t ix = ow * p->stride[2] - p->pad[2] + kx * p->dil[2];
                    if (ix >= 0 && ix < IW) yr[ow] += wv * xr[ix];
                  }
                }
              }
            }
      }
    }
}

/* ---- Einsum, Det ------------------------------------------------------------ */

/* Walks every combination of the labels (odometer, last label fastest) and
 * accumulates the product of the operands into y (zeroed here). */
#define EINSUM_BODY(T) \
  int64_t ny = 1, total = 1; \
  for (int l = 0; l < e->n_labels; l++) { \
    total *= e->size[l]; \
    if (e->ystride[l]) ny = fr_k_max64(ny, e->ystride[l] * e->size[l]); \
  } \
  for (int64_t i = 0; i < ny; i++) y[i] = 0; \
  if (total == 0) return; \
  int64_t idx[FR_K_EINSUM_MAX_LABELS] = {0}; \
  int64_t off[FR_K_EINSUM_MAX_IN + 1] = {0}; /* operands, then y */ \
  for (int64_t t = 0; t < total; t++) { \
    T prod = 1; \
    for (int k = 0; k < e->n_in; k++) prod *= x[k][off[k]]; \
    y[off[e->n_in]] += prod; \
    for (int l = e->n_labels - 1; l >= 0; l--) { \
      for (int k = 0; k < e->n_in; k++) off[k] += e->stride[k][l]; \
      off[e->n_in] += e->ystride[l]; \
      if (++idx[l] < e->size[l]) break; \
      for (int k = 0; k < e->n_in; k++) off[k] -= e->stride[k][l] * e->size[l]; \
      off[e->n_in] -= e->ystride[l] * e->size[l]; \
      idx[l] = 0; \
    } \
  }

void fr_k_einsum_f32(const fr_k_einsum *e, const float *const *x, float *y) {
  EINSUM_BODY(float)
}

void fr_k_einsum_f64(const fr_k_einsum *e, const double *const *x,
                     double *y) {
  EINSUM_BODY(double)
}

/* Determinants of `batch` (M, M) matrices by LU with partial pivoting, in
 * double; lu: scratch of M * M doubles. */
void fr_k_det_f32(int64_t batch, int64_t M, const float *x, float *y,
                  double *lu) {
  for (int64_t b = 0; b < batch; b++) {
    for (int64_t i = 0; i < M * M; i++) lu[i] = x[b * M * M + i];
    double det = 1;
    for (int64_t c = 0; c < M && det != 0; c++) {
      int64_t piv = c;
      for (int64_t r = c + 1; r < M; r++)
        if (fabs(lu[r * M + c]) > fabs(lu[piv * M + c])) piv = r;
      if (lu[piv * M + c] == 0) {
        det = 0;
        break;
      }
      if (piv != c) {
        for (int64_t j = 0; j < M; j++) {
          double t = lu[c * M + j];
          lu[c * M + j] = lu[piv * M + j];
          lu[piv * M + j] = t;
        }
        det = -det;
      }
      double d = lu[c * M + c];
      det *= d;
      for (int64_t r = c + 1; r < M; r++) {
        double f = lu[r * M + c] / d;
        for (int64_t j = c; j < M; j++) lu[r * M + j] -= f * lu[c * M + j];
      }
    }
    y[b] = (float)det;
  }
}

/* ---- MaxUnpool, RoiAlign ------------------------------------------------------ */

int64_t fr_k_maxunpool_f32(int64_t n, const float *x, const int64_t *idx,
                           int nsp, const int64_t *dflt, const int64_t *outd,
                           int64_t planes, float *y) {
  int64_t bad = 0, ds = 1, os = 1;
  for (int d = 0; d < nsp; d++) ds *= dflt[d], os *= outd[d];
  for (int64_t i = 0; i < planes * os; i++) y[i] = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t v = idx[i];
    if (v < 0 || v >= planes * ds) {
      bad++;
      continue;
    }
    /* the index counts in the default shape; place it at the same
     * coordinates of the output, if they are inside */
    int64_t pl = v / ds, r = v % ds, o = 0, mul = 1;
    int inside = 1;
    for (int d = nsp - 1; d >= 0; d--) {
      int64_t c = r % dflt[d];
      r /= dflt[d];
      if (c >= outd[d]) inside = 0;
      o += c * mul;
      mul *= outd[d];
    }
    if (inside) y[pl * os + o] = x[i];
  }
  return bad;
}

void fr_k_roialign_f32(const fr_k_roialign *p, const float *x,
                       const float *rois, const int64_t *batch, float *y) {
  const int64_t H = p->H, W = p->W, PH = p->out_h, PW = p->out_w;
  const float off = p->half_pixel ? 0.5f : 0.0f;
  for (int64_t r = 0; r < p->n_rois; r++) {
    const float *roi = rois + r * 4;
    float sw = roi[0] * p->spatial_scale - off, sh = roi[1] * p->spatial_scale - off;
    float ew = roi[2] * p->spatial_scale - off, eh = roi[3] * p->spatial_scale - off;
    float rw = ew - sw, rh = eh - sh;
    if (!p->half_pixel) {
      rw = rw > 1 ? rw : 1;
      rh = rh > 1 ? rh : 1;
    }
    float bh = rh / (float)PH, bw = rw / (float)PW;
    int64_t gh = p->sampling_ratio > 0 ? p->sampling_ratio : (int64_t)ceilf(rh / (float)PH);
    int64_t gw = p->sampling_ratio > 0 ? p->sampling_ratio : (int64_t)ceilf(rw / (float)PW);
    if (gh < 0 || gh > (1 << 20)) gh = 0;
    if (gw < 0 || gw > (1 << 20)) gw = 0;
    float count = (float)(gh * gw > 1 ? gh * gw : 1);
    int64_t b = batch[r];
    for (int64_t c = 0; c < p->C; c++) {
      const float *img = x + (b * p->C + c) * H * W;
      float *yo = y + (r * p->C + c) * PH * PW;
      for (int64_t ph = 0; ph < PH; ph++)
        for (int64_t pw = 0; pw < PW; pw++) {
          float acc = 0;
          int first = 1;
          for (int64_t iy = 0; iy < gh; iy++) {
            float yy = sh + (float)ph * bh + ((float)iy + 0.5f) * bh / (float)gh;
            for (int64_t ix = 0; ix < gw; ix++) {
              float xx = sw + (float)pw * bw + ((float)ix + 0.5f) * bw / (float)gw;
              float v1 = 0, v2 = 0, v3 = 0, v4 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0;
              if (!(yy < -1.0f || yy > (float)H || xx < -1.0f || xx > (float)W)) {
                float fy = yy <= 0 ? 0 : yy, fx = xx <= 0 ? 0 : xx;
                int64_t yl = (int64_t)fy, xl = (int64_t)fx, yh, xh;
                if (yl >= H - 1) yh = yl = H - 1, fy = (float)yl;
                else yh = yl + 1;
                if (xl >= W - 1) xh = xl = W - 1, fx = (float)xl;
                else xh = xl + 1;
                float ly = fy - (float)yl, lx = fx - (float)xl;
                float hy = 1 - ly, hx = 1 - lx;
                w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
                v1 = img[yl * W + xl], v2 = img[yl * W + xh];
                v3 = img[yh * W + xl], v4 = img[yh * W + xh];
              }
              if (p->max_mode) {
                float m = fmaxf(fmaxf(w1 * v1, w2 * v2), fmaxf(w3 * v3, w4 * v4));
                acc = first ? m : fmaxf(acc, m);
                first = 0;
              } else {
                acc += w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4;
              }
            }
          }
          yo[ph * PW + pw] = p->max_mode ? acc : acc / count;
        }
    }
  }
}

/* ---- threads ----------------------------------------------------------- */

/* Pooling on threads: planes [lo, hi) pooled as planes of their own. */
typedef struct planes_job {
  const fr_k_pool *p;
  const fr_k_global_pool_plan *g;
  const float *x;
  float *y;
} planes_job;

static void planes_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const planes_job *j = ctx;
  if (j->g) {
    fr_k_global_pool_f32(hi - lo, j->g->n, j->x + lo * j->g->n, j->y + lo, j->g->avg);
    return;
  }
  fr_k_pool sub = *j->p;
  sub.planes = hi - lo;
  fr_k_pool_f32(&sub, j->x + lo * sub.in[0] * sub.in[1] * sub.in[2],
                j->y + lo * sub.out[0] * sub.out[1] * sub.out[2]);
}

/* Resize on threads: out's outermost dim d of more than one index (those
 * before it are 1) is cut into ranges, each a resize of its own (its
 * taps, absolute input indices, start at its first index). */
typedef struct resize_job {
  const fr_k_resize *r;
  const float *x;
  float *y;
  int d;
  int64_t inner;
} resize_job;

static void resize_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const resize_job *j = ctx;
  fr_k_resize sub = *j->r;
  const int d = j->d;
  sub.out[d] = hi - lo;
  sub.idx[d] += lo * sub.ntap;
  sub.w[d] += lo * sub.ntap;
  fr_k_resize_f32(&sub, j->x, j->y + lo * j->inner);
}

/* Runs the resize on threads when worth it; false: the caller runs it. */
static FR_K_INLINE int resize_par(const fr_k_resize *r, const float *x, float *y) {
  int d;
  int64_t inner, total = fr_k_cut_dim(r->rank, r->out, &d, &inner);
  resize_job j = {r, x, y, d, inner};
  if (r->rank == 0 || !fr_k_par_worth(total * r->ntap * r->rank)) return 0;
  fr_k_parallel(r->out[d], resize_task, &j, NULL, 0);
  return 1;
}

/* The separable resize on threads, planes cut into ranges, each thread
 * with its own two rows; false: the caller runs it. */
typedef struct resize_sep_job {
  const fr_k_resize *r;
  const float *x;
  float *y;
} resize_sep_job;

static void resize_sep_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const resize_sep_job *j = ctx;
  resize_sep_planes(j->r, j->x, j->y, scratch, lo, hi);
}

static FR_K_INLINE int resize_sep_par(const fr_k_resize *r, const float *x,
                                      float *y, float *rows) {
  const int64_t planes = resize_sep_nplanes(r);
  int64_t per = 2;
  for (int d = r->rank > 1 ? r->rank - 2 : 0; d < r->rank; d++) per *= r->out[d];
  if (planes < 2 || !fr_k_par_worth(planes * per)) return 0;
  resize_sep_job j = {r, x, y};
  fr_k_parallel(planes, resize_sep_task, &j, rows,
                2 * (size_t)r->out[r->rank - 1] * sizeof(float));
  return 1;
}

/* ---- entries ----------------------------------------------------------- */

void fr_ke_pool(const void *params, void *const *b) {
  const fr_k_pool_plan *p = params;
  const fr_k_pool *q = &p->p;
  planes_job j = {q, NULL, b[0], b[1]};
  if (p->dtype == FR_KT_U8 || p->dtype == FR_KT_I8)
    fr_k_maxpool_ref(q, p->dtype, b[0], b[1], NULL, 0);
  else if (p->with_idx)
    fr_k_maxpool_ref(q, FR_KT_F32, b[0], b[1], b[2], p->col_major);
  else if (fr_k_par_worth(q->planes * q->out[0] * q->out[1] * q->out[2] * q->k[0] *
                          q->k[1] * q->k[2]))
    fr_k_parallel(q->planes, planes_task, &j, NULL, 0);
  else
    fr_k_pool_f32(q, b[0], b[1]);
}

void fr_ke_global_pool_f32(const void *params, void *const *b) {
  const fr_k_global_pool_plan *p = params;
  planes_job j = {NULL, p, b[0], b[1]};
  if (fr_k_par_worth(p->planes * p->n))
    fr_k_parallel(p->planes, planes_task, &j, NULL, 0);
  else
    fr_k_global_pool_f32(p->planes, p->n, b[0], b[1], p->avg);
}

void fr_ke_resize_f32(const void *params, void *const *b) {
  const fr_k_resize_plan *p = params;
  int64_t total = 0;
  for (int d = 0; d < p->rank; d++) total += p->d[d].out * p->ntap;
  int64_t *idx = b[p->y + 1];
  float *w = (float *)(void *)(idx + total);
  fr_k_resize rs = {.rank = p->rank, .ntap = p->ntap,
                    .extrapolation = p->extrapolation};
  int64_t off = 0;
  for (int d = 0; d < p->rank; d++) {
    fr_k_resize_taps(&p->d[d], idx + off, w + off);
    rs.in[d] = p->d[d].in;
    rs.out[d] = p->d[d].out;
    rs.idx[d] = idx + off;
    rs.w[d] = w + off;
    off += p->d[d].out * p->ntap;
  }
  if (!p->run) return;
  if (fr_k_resize_sep_ok(&rs)) {
    if (!resize_sep_par(&rs, b[0], b[p->y], w + total))
      fr_k_resize_sep_f32(&rs, b[0], b[p->y], w + total);
  } else if (!resize_par(&rs, b[0], b[p->y])) {
    fr_k_resize_f32(&rs, b[0], b[p->y]);
  }
}
