/* ctrl.c: kernels of the control/sequence group: slice copies (split,
 * concat, stack, scan), recurrent nets (RNN, GRU, LSTM), NonMaxSuppression,
 * signal processing (windows, DFT, STFT, mel filters), random numbers and
 * training optimizers. */
#include <math.h>

#include "kernels.h"

int fr_k_isa_level(void) {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  return 4;
#elif defined(__AVX2__) && defined(__FMA__) && defined(__BMI2__)
  return 3;
#elif defined(__SSE4_2__) && defined(__POPCNT__)
  return 2;
#elif defined(__x86_64__)
  return 1;
#else
  return 0;
#endif
}

void fr_k_copy_slices(int64_t outer, int64_t inner, int64_t n,
                      const unsigned char *src, int64_t src_d,
                      int64_t src_off, unsigned char *dst, int64_t dst_d,
                      int64_t dst_off) {
  int64_t len = n * inner;
  for (int64_t o = 0; o < outer; o++) {
    const unsigned char *s = src + (o * src_d + src_off) * inner;
    unsigned char *d = dst + (o * dst_d + dst_off) * inner;
    for (int64_t i = 0; i < len; i++) d[i] = s[i];
  }
}

/* ---- RNN, GRU, LSTM -------------------------------------------------- */

static float act(int kind, float a, float b, float v) {
  switch (kind) {
  case FR_K_ACT_RELU: return v > 0 ? v : 0;
  case FR_K_ACT_TANH: return tanhf(v);
  case FR_K_ACT_SIGMOID:
    if (v >= 0) return 1 / (1 + expf(-v));
    else {
      float e = expf(v);
      return e / (1 + e);
    }
  case FR_K_ACT_AFFINE: return a * v + b;
  case FR_K_ACT_LEAKY_RELU: return v >= 0 ? v : a * v;
  case FR_K_ACT_THRESHOLDED_RELU: return v > a ? v : 0;
  case FR_K_ACT_SCALED_TANH: return a * tanhf(b * v);
  case FR_K_ACT_HARD_SIGMOID: {
    float y = a * v + b;
    return y < 0 ? 0 : y > 1 ? 1 : y;
  }
  case FR_K_ACT_ELU: return v >= 0 ? v : a * (expf(v) - 1);
  case FR_K_ACT_SOFTSIGN: return v / (1 + fabsf(v));
  case FR_K_ACT_SOFTPLUS: return v > 20 ? v : log1pf(expf(v));
  default: return v;
  }
}

static float dot(const float *a, const float *b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static float clip(const fr_k_rnn *p, float v) {
  if (p->clip > 0) {
    if (v > p->clip) return p->clip;
    if (v < -p->clip) return -p->clip;
  }
  return v;
}

void fr_k_rnn_f32(const fr_k_rnn *p, const float *x, const float *w,
                  const float *r, const float *b, const float *peep,
                  const int64_t *lens, const float *h0, const float *c0,
                  float *y, float *yh, float *yc, float *scratch) {
  int64_t H = p->hidden, I = p->input;
  int64_t G = p->cell == FR_K_CELL_RNN ? 1 : p->cell == FR_K_CELL_GRU ? 3 : 4;
  float *h = scratch, *c = h + H, *g = c + H, *t1 = g + G * H, *t2 = t1 + H;
  const float *wb = b, *rb = b ? b + G * H : 0;
  for (int64_t bi = 0; bi < p->batch; bi++) {
    for (int64_t j = 0; j < H; j++) {
      h[j] = h0 ? h0[bi * p->h_sb + j] : 0;
      c[j] = c0 ? c0[bi * p->h_sb + j] : 0;
    }
    int64_t len = lens ? lens[bi] : p->seq;
    for (int64_t s = 0; s < len; s++) {
      int64_t t = p->reverse ? len - 1 - s : s;
      const float *xt = x + t * p->x_st + bi * p->x_sb;
      /* Input part of every gate: x W^T + Wb. */
      for (int64_t j = 0; j < G * H; j++)
        g[j] = dot(xt, w + j * I, I) + (wb ? wb[j] : 0);
      if (p->cell == FR_K_CELL_RNN) {
        for (int64_t j = 0; j < H; j++)
          t2[j] = act(p->act[0], p->alpha[0], p->beta[0],
                      clip(p, g[j] + dot(h, r + j * H, H) + (rb ? rb[j] : 0)));
      } else if (p->cell == FR_K_CELL_GRU) {
        /* gates z, r, h */
        float *z = t2, *rg = t1;
        for (int64_t j = 0; j < H; j++) {
          z[j] = act(p->act[0], p->alpha[0], p->beta[0],
                     clip(p, g[j] + dot(h, r + j * H, H) + (rb ? rb[j] : 0)));
          rg[j] = act(p->act[0], p->alpha[0], p->beta[0],
                      clip(p, g[H + j] + dot(h, r + (H + j) * H, H) +
                                  (rb ? rb[H + j] : 0)));
        }
        /* Candidate state into c (unused by GRU otherwise). */
        const float *rh = r + 2 * H * H;
        if (p->linear_before_reset) {
          for (int64_t j = 0; j < H; j++)
            c[j] = act(p->act[1], p->alpha[1], p->beta[1],
                       clip(p, g[2 * H + j] +
                                   rg[j] * (dot(h, rh + j * H, H) +
                                            (rb ? rb[2 * H + j] : 0))));
        } else {
          for (int64_t j = 0; j < H; j++) rg[j] *= h[j]; /* r .* h */
          for (int64_t j = 0; j < H; j++)
            c[j] = act(p->act[1], p->alpha[1], p->beta[1],
                       clip(p, g[2 * H + j] + dot(rg, rh + j * H, H) +
                                   (rb ? rb[2 * H + j] : 0)));
        }
        for (int64_t j = 0; j < H; j++)
          t2[j] = (1 - z[j]) * c[j] + z[j] * h[j];
      } else {
        /* gates i, o, f, c */
        for (int64_t j = 0; j < 4 * H; j++)
          g[j] += dot(h, r + j * H, H) + (rb ? rb[j] : 0);
        for (int64_t j = 0; j < H; j++) {
          float pi = peep ? peep[j] : 0, po = peep ? peep[H + j] : 0,
                pf = peep ? peep[2 * H + j] : 0;
          float ig = act(p->act[0], p->alpha[0], p->beta[0],
                         clip(p, g[j] + pi * c[j]));
          float fg = p->input_forget
                         ? 1 - ig
                         : act(p->act[0], p->alpha[0], p->beta[0],
                               clip(p, g[2 * H + j] + pf * c[j]));
          float cg = act(p->act[1], p->alpha[1], p->beta[1],
                         clip(p, g[3 * H + j]));
          float cn = fg * c[j] + ig * cg;
          float og = act(p->act[0], p->alpha[0], p->beta[0],
                         clip(p, g[H + j] + po * cn));
          c[j] = cn;
          t2[j] = og * act(p->act[2], p->alpha[2], p->beta[2], cn);
        }
      }
      for (int64_t j = 0; j < H; j++) h[j] = t2[j];
      if (y)
        for (int64_t j = 0; j < H; j++) y[t * p->y_st + bi * p->y_sb + j] = h[j];
    }
    if (yh)
      for (int64_t j = 0; j < H; j++) yh[bi * p->h_sb + j] = h[j];
    if (yc)
      for (int64_t j = 0; j < H; j++) yc[bi * p->h_sb + j] = c[j];
  }
}

/* ---- NonMaxSuppression ----------------------------------------------- */

/* Corners (y1, x1, y2, x2) with y1 <= y2, x1 <= x2. */
static void corners(const float *b, int center, float *c) {
  if (center) {
    c[0] = b[1] - b[3] / 2;
    c[2] = b[1] + b[3] / 2;
    c[1] = b[0] - b[2] / 2;
    c[3] = b[0] + b[2] / 2;
  } else {
    c[0] = b[0] < b[2] ? b[0] : b[2];
    c[2] = b[0] < b[2] ? b[2] : b[0];
    c[1] = b[1] < b[3] ? b[1] : b[3];
    c[3] = b[1] < b[3] ? b[3] : b[1];
  }
}

static float iou(const float *a, const float *b, int center) {
  float ca[4], cb[4];
  corners(a, center, ca);
  corners(b, center, cb);
  float area_a = (ca[2] - ca[0]) * (ca[3] - ca[1]);
  float area_b = (cb[2] - cb[0]) * (cb[3] - cb[1]);
  if (area_a <= 0 || area_b <= 0) return 0;
  float ih = (ca[2] < cb[2] ? ca[2] : cb[2]) - (ca[0] > cb[0] ? ca[0] : cb[0]);
  float iw = (ca[3] < cb[3] ? ca[3] : cb[3]) - (ca[1] > cb[1] ? ca[1] : cb[1]);
  if (ih <= 0 || iw <= 0) return 0;
  float inter = ih * iw;
  return inter / (area_a + area_b - inter);
}

int64_t fr_k_nms_f32(int64_t n, const float *boxes, const float *scores,
                     int center_point_box, int64_t max_out, float iou_th,
                     int has_score_th, float score_th, int64_t *order,
                     int64_t *tmp, int64_t *selected) {
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++)
    if (!has_score_th || scores[i] > score_th) order[m++] = i;
  /* Stable merge sort by descending score. */
  for (int64_t w = 1; w < m; w *= 2) {
    for (int64_t lo = 0; lo < m; lo += 2 * w) {
      int64_t mid = lo + w < m ? lo + w : m, hi = lo + 2 * w < m ? lo + 2 * w : m;
      int64_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi)
        tmp[k++] = scores[order[b]] > scores[order[a]] ? order[b++] : order[a++];
      while (a < mid) tmp[k++] = order[a++];
      while (b < hi) tmp[k++] = order[b++];
    }
    for (int64_t i = 0; i < m; i++) order[i] = tmp[i];
  }
  int64_t k = 0;
  for (int64_t a = 0; a < m && k < max_out; a++) {
    int64_t i = order[a];
    int keep = 1;
    for (int64_t s = 0; s < k && keep; s++)
      if (iou(boxes + 4 * i, boxes + 4 * selected[s], center_point_box) >
          iou_th)
        keep = 0;
    if (keep) selected[k++] = i;
  }
  return k;
}

/* ---- signal processing ----------------------------------------------- */

static const double two_pi = 6.283185307179586476925286766559;

void fr_k_window(int kind, int64_t n, int periodic, double *y) {
  double d = periodic ? (double)n : (double)(n - 1);
  if (d <= 0) d = 1;
  for (int64_t i = 0; i < n; i++) {
    double a = two_pi * (double)i / d;
    switch (kind) {
    case FR_K_WIN_HANN: y[i] = 0.5 - 0.5 * cos(a); break;
    case FR_K_WIN_HAMMING: y[i] = 25.0 / 46 - 21.0 / 46 * cos(a); break;
    default: y[i] = 0.42 - 0.5 * cos(a) + 0.08 * cos(2 * a); break;
    }
  }
}

void fr_k_twiddles(int64_t nfft, double *tw) {
  for (int64_t k = 0; k < nfft; k++) {
    double a = two_pi * (double)k / (double)nfft;
    tw[2 * k] = cos(a);
    tw[2 * k + 1] = sin(a);
  }
}

void fr_k_dft_f32(int64_t outer, int64_t n_in, int64_t inner, int64_t comps,
                  int64_t nfft, int64_t n_out, int inverse, const double *tw,
                  const float *x, float *y) {
  int64_t m_end = n_in < nfft ? n_in : nfft;
  double sgn = inverse ? 1 : -1, scale = inverse ? 1.0 / (double)nfft : 1;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < n_out; k++)
      for (int64_t i = 0; i < inner; i++) {
        double re = 0, im = 0;
        int64_t idx = 0;
        for (int64_t m = 0; m < m_end; m++) {
          const float *v = x + ((o * n_in + m) * inner + i) * comps;
          double xr = v[0], xi = comps == 2 ? v[1] : 0;
          double c = tw[2 * idx], s = sgn * tw[2 * idx + 1];
          re += xr * c - xi * s;
          im += xi * c + xr * s;
          idx += k;
          if (idx >= nfft) idx %= nfft;
        }
        float *out = y + ((o * n_out + k) * inner + i) * 2;
        out[0] = (float)(re * scale);
        out[1] = (float)(im * scale);
      }
}

void fr_k_stft_f32(int64_t batch, int64_t len, int64_t comps, int64_t frames,
                   int64_t step, int64_t flen, int64_t bins, const double *tw,
                   const float *window, const float *x, float *y) {
  for (int64_t b = 0; b < batch; b++)
    for (int64_t f = 0; f < frames; f++) {
      const float *xf = x + (b * len + f * step) * comps;
      for (int64_t k = 0; k < bins; k++) {
        double re = 0, im = 0;
        int64_t idx = 0;
        for (int64_t m = 0; m < flen; m++) {
          double wv = window ? window[m] : 1;
          double xr = xf[m * comps] * wv;
          double xi = comps == 2 ? xf[m * comps + 1] * wv : 0;
          double c = tw[2 * idx], s = -tw[2 * idx + 1];
          re += xr * c - xi * s;
          im += xi * c + xr * s;
          idx += k;
          if (idx >= flen) idx %= flen;
        }
        float *out = y + ((b * frames + f) * bins + k) * 2;
        out[0] = (float)re;
        out[1] = (float)im;
      }
    }
}

void fr_k_mel_weights(int64_t bins, int64_t dft, int64_t rate, float lo,
                      float hi, double *y) {
  int64_t n_spec = dft / 2 + 1;
  /* The mel scale of the edges in single precision, the bin edges in
   * double, as the ONNX reference computes them. */
  float lo_mel = 2595.0f * log10f(1.0f + lo / 700.0f);
  float hi_mel = 2595.0f * log10f(1.0f + hi / 700.0f);
  float step = (hi_mel - lo_mel) / (float)(bins + 2);
  for (int64_t i = 0; i < bins; i++) {
    int64_t edge[3];
    for (int k = 0; k < 3; k++) {
      double mel = (double)(i + k) * (double)step + (double)lo_mel;
      double hz = 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
      double v = floor((double)(dft + 1) * hz / (double)rate);
      edge[k] = (int64_t)v;
    }
    int64_t l = edge[0], c = edge[1], h = edge[2];
    if (l < 0 || h >= n_spec || c < l || h < c) continue; /* out of range */
    if (c == l) y[c * bins + i] = 1;
    else
      for (int64_t j = l; j <= c; j++)
        y[j * bins + i] = (double)(j - l) / (double)(c - l);
    for (int64_t j = c; j < h; j++)
      y[j * bins + i] = (double)(h - j) / (double)(h - c);
  }
}

/* ---- random numbers --------------------------------------------------- */

static uint64_t next64(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double unit(uint64_t *s) {
  return (double)(next64(s) >> 11) * (1.0 / 9007199254740992.0);
}

void fr_k_random_uniform(uint64_t *state, int64_t n, double lo, double hi,
                         double *y) {
  for (int64_t i = 0; i < n; i++) y[i] = lo + (hi - lo) * unit(state);
}

void fr_k_random_normal(uint64_t *state, int64_t n, double mean, double scale,
                        double *y) {
  for (int64_t i = 0; i < n; i += 2) { /* Box-Muller */
    double u = 1.0 - unit(state), v = unit(state);
    double r = sqrt(-2.0 * log(u));
    y[i] = mean + scale * r * cos(two_pi * v);
    if (i + 1 < n) y[i + 1] = mean + scale * r * sin(two_pi * v);
  }
}

/* ---- training optimizers -------------------------------------------- */

void fr_k_adagrad_f32(int64_t n, float r, float norm, float eps,
                      const float *x, const float *g, const float *h,
                      float *xo, float *ho) {
  for (int64_t i = 0; i < n; i++) {
    float gr = norm * x[i] + g[i];
    float hn = h[i] + gr * gr;
    ho[i] = hn;
    xo[i] = x[i] - r * gr / (sqrtf(hn) + eps);
  }
}

void fr_k_adam_f32(int64_t n, float r, float alpha, float beta, float norm,
                   float norm_post, float eps, const float *x, const float *g,
                   const float *v, const float *h, float *xo, float *vo,
                   float *ho) {
  for (int64_t i = 0; i < n; i++) {
    float gr = norm * x[i] + g[i];
    float vn = alpha * v[i] + (1 - alpha) * gr;
    float hn = beta * h[i] + (1 - beta) * gr * gr;
    vo[i] = vn;
    ho[i] = hn;
    xo[i] = (1 - norm_post) * (x[i] - r * (vn / (sqrtf(hn) + eps)));
  }
}

void fr_k_momentum_f32(int64_t n, float r, float alpha, float beta,
                       float norm, int nesterov, const float *x,
                       const float *g, const float *v, float *xo, float *vo) {
  for (int64_t i = 0; i < n; i++) {
    float gr = norm * x[i] + g[i];
    float vn = alpha * v[i] + beta * gr;
    vo[i] = vn;
    xo[i] = nesterov ? x[i] - r * (gr + alpha * vn) : x[i] - r * vn;
  }
}

void fr_ke_onnx_optim(const void *params, void *const *b) {
  const fr_k_onnx_optim_plan *p = params;
  double r = p->r_f64 ? *(const double *)b[0] : *(const float *)b[0];
  int64_t t = *(const int64_t *)b[1];
  int k = p->k, per = p->op == FR_K_ONNX_ADAM ? 4 : 3;
  float *scratch = b[p->n_in + p->n_out];
  for (int i = 0; i < k; i++) {
    int64_t n = p->count[i];
    float *o[3];
    for (int j = 0; j < per - 1; j++) {
      float *ot = b[p->n_in + j * k + i];
      o[j] = ot ? ot : scratch + j * n;
    }
    const float *x = b[2 + i], *g = b[2 + k + i], *v = b[2 + 2 * k + i];
    switch (p->op) {
    case FR_K_ONNX_ADAGRAD:
      fr_k_adagrad_f32(n, (float)(r / (1 + (double)t * p->decay)), p->norm,
                       p->eps, x, g, v, o[0], o[1]);
      break;
    case FR_K_ONNX_ADAM: {
      double ra = t > 0 ? r * sqrt(1 - pow(p->beta, (double)t)) /
                              (1 - pow(p->alpha, (double)t))
                        : r;
      fr_k_adam_f32(n, (float)ra, p->alpha, p->beta, p->norm, p->norm_post,
                    p->eps, x, g, v, b[2 + 3 * k + i], o[0], o[1], o[2]);
      break;
    }
    default:
      fr_k_momentum_f32(n, (float)r, p->alpha, t > 0 ? p->beta : 1, p->norm,
                        p->nesterov, x, g, v, o[0], o[1]);
      break;
    }
  }
}
