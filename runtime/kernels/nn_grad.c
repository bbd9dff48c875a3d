/* nn_grad.c: the backward kernels of the convolution, pooling and Gather,
 * run by frost's gradient ops (frost.ConvGradWeight, frost.MaxPoolGrad,
 * frost.AveragePoolGrad, frost.GatherGrad), which the autodiff pass builds
 * (compiler/passes/grad.c). Spatial shapes are 3 dims (D, H, W), as in
 * nn.c and gemm.c. A convolution's dW is a GEMM (gemm.c) of dy with the
 * transposed im2col matrix of x, built a block of output pixels at a time
 * in scratch; a depthwise one's is direct dot products along rows, or for
 * small planes across channel lanes (fr_k_dw_grad_lanes_f32, gemm.c). */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "kernels.h"

/* ---- convolution: dW ----------------------------------------------------- */

/* Output pixels per block of the im2col matrix: P x K floats of about
 * 256 KB (L2), and at least 64 pixels. */
static int64_t block_pixels(int64_t K, int64_t OS) {
  int64_t P = K > 0 ? 65536 / K : OS;
  return fr_k_max64(fr_k_min64(fr_k_max64(P, 64), OS), 1);
}

/* One input and one output channel per group. */
static bool is_depthwise(const fr_k_conv *p) {
  return p->C == p->group && p->M == p->group;
}

/* A 1x1 convolution of stride 1 without padding: its im2col matrix is x
 * itself, read transposed. */
static bool is_pointwise(const fr_k_conv *p) {
  for (int d = 0; d < 3; d++)
    if (p->k[d] != 1 || p->stride[d] != 1 || p->pad[d] != 0 || p->out[d] != p->in[d])
      return false;
  return true;
}

/* dW's products along pixels: dot products (fr_k_dot_nt_f32) when dW is
 * small (DOT_MAX_OUT outputs per group at most: a stem's 16 x 27, where
 * the packed GEMM's tiles would be mostly padding) and rows hold at least
 * DOT_MIN_PIXELS pixels (over shorter ones their last partial vector
 * would cost most); the packed GEMM otherwise (measured on train steps:
 * a 16 x 27 dW twice as fast by dots, a 32 x 144 one 1.6x slower). */
enum { DOT_MIN_PIXELS = 128, DOT_MAX_OUT = 2048 };

static bool by_dots(int64_t Mg, int64_t K, int64_t pixels) {
  return pixels >= DOT_MIN_PIXELS && Mg * K <= DOT_MAX_OUT;
}

/* Images whose whole im2col matrices (K, OS) go side by side into one
 * product (the dot tiles' lanes are added up once per product): up to
 * DOT_IMG_FLOATS floats (1 MB, L2) of them, or one image of blocks. */
enum { DOT_IMG_FLOATS = 262144 };

static int64_t dot_images(const fr_k_conv *p, int64_t K, int64_t OS) {
  if (!by_dots(p->M / p->group, K, OS) || block_pixels(K, OS) < OS || K * OS == 0)
    return 1;
  return fr_k_max64(1, fr_k_min64(p->N, DOT_IMG_FLOATS / (K * OS)));
}

size_t fr_k_conv_grad_weight_scratch(const fr_k_conv *p) {
  if (is_depthwise(p)) return 0;
  int64_t Mg = p->M / p->group, K = p->C / p->group * p->k[0] * p->k[1] * p->k[2];
  int64_t OS = p->out[0] * p->out[1] * p->out[2];
  if (is_pointwise(p)) return by_dots(Mg, K, OS) ? 0 : fr_k_sgemm_scratch(Mg, K, OS);
  int64_t P = block_pixels(K, OS);
  return (size_t)(P * K * dot_images(p, K, OS)) +
         (by_dots(Mg, K, P) ? 0 : fr_k_sgemm_scratch(Mg, K, P));
}

/* Rows t in [t0, t1) of the im2col matrix of output pixels [j0, j0 + pn):
 * col[t * pn + j] (K, pn) is what tap t = ((c * KD + z) * KH + y) * KW + x
 * reads for output pixel j0 + j = (od * OH + oh) * OW + ow: the input xg
 * (Cg, ID, IH, IW) at (c, od*sd - pd + z*dd, oh*sh - ph + y*dh,
 * ow*sw - pw + x*dw), 0 outside. A tap's row is runs of output columns,
 * each a strided (at stride 1 contiguous) read of one input row between
 * the columns whose read falls outside. */
static void im2col_rows(const fr_k_conv *p, const float *xg, int64_t j0,
                        int64_t pn, int64_t t0, int64_t t1, float *restrict col) {
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OH = p->out[1], OW = p->out[2];
  const int64_t KD = p->k[0], KH = p->k[1], KW = p->k[2], sw = p->stride[2];
  for (int64_t t = t0; t < t1; t++) {
    const int64_t x = t % KW, y = (t / KW) % KH, z = (t / (KW * KH)) % KD;
    const int64_t c = t / (KW * KH * KD);
    const float *plane = xg + c * ID * IH * IW;
    const int64_t offx = x * p->dil[2] - p->pad[2];
    int64_t lo, hi; /* the output columns whose read is inside */
    fr_k_valid_range(sw, offx, IW, OW, &lo, &hi);
    float *d = col + t * pn;
    int64_t ow = j0 % OW, oh = (j0 / OW) % OH, od = j0 / (OW * OH);
    for (int64_t i = 0; i < pn;) {
      const int64_t run = fr_k_min64(OW - ow, pn - i);
      const int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
      const int64_t iy = oh * p->stride[1] - p->pad[1] + y * p->dil[1];
      float *dr = d + i - ow; /* dr[o] for output column o */
      int64_t a = ow, b = ow;
      if (iz >= 0 && iz < ID && iy >= 0 && iy < IH) {
        a = fr_k_max64(ow, lo);
        b = fr_k_max64(fr_k_min64(ow + run, hi), a);
      }
      for (int64_t o = ow; o < a; o++) dr[o] = 0;
      if (a < b) {
        const float *row = plane + (iz * IH + iy) * IW + offx;
        if (sw == 1)
          for (int64_t o = a; o < b; o++) dr[o] = row[o];
        else if (sw == 2)
          fr_k_gather2_f32(dr + a, row + 2 * a, b - a);
        else
          for (int64_t o = a; o < b; o++) dr[o] = row[o * sw];
      }
      for (int64_t o = b; o < ow + run; o++) dr[o] = 0;
      i += run;
      ow = 0;
      if (++oh == OH) oh = 0, od++;
    }
  }
}

/* acc[0..8) += a[i] b[i * s] for i < n, in lanes of 8 then 4 (so it
 * vectorizes), and the last few into acc[8]: partial sums kept across
 * calls, added up once per tap. */
static void dot_acc(int64_t n, const float *restrict a, const float *restrict b,
                    int64_t s, float *restrict acc) {
  int64_t i = 0;
  if (s == 1) {
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
    for (; i + 4 <= n; i += 4)
      for (int l = 0; l < 4; l++) acc[l] += a[i + l] * b[i + l];
  } else {
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[(i + l) * s];
  }
  for (; i < n; i++) acc[8] += a[i] * b[i * s];
}

/* Depthwise: dw[c, tap] = sum over images and output rows of the dot
 * product of the dy row with the input row the tap reads, over the
 * columns whose tap is inside. Rows are short in the late layers (a few
 * pixels): the partial sums run over all of a tap's rows. The taps of a
 * channel are summed side by side, one walk over its rows (each dy row
 * read once for all taps, while in cache); a tap still adds its rows in
 * the order of images and rows. */
enum { DW_GRAD_TAPS = 64 };

/* Strided rows (sw > 1): the tap kx reads x[ox sw + dx], the phase
 * (dx mod sw) of the row at ox + (dx div sw). An input row is split into
 * its sw phases once per output row and kernel row (DW_GRAD_ROW floats at
 * most), so that each tap's dot product reads a contiguous row. */
enum { DW_GRAD_ROW = 2048 };

static bool dw_grad_split(const fr_k_conv *p) {
  return p->stride[2] > 1 && p->in[2] + p->stride[2] <= DW_GRAD_ROW;
}

/* The phases of the row xr (n floats), J = ceil(n / s) each, into ph. */
static void split_row(const float *restrict xr, int64_t n, int64_t s,
                      int64_t J, float *restrict ph) {
  if (s == 2) {
    fr_k_unzip2_f32(xr, n, ph, ph + J);
    return;
  }
  for (int64_t i = 0; i < n; i++) ph[(i % s) * J + i / s] = xr[i];
}

static void dw_grad_weight(const fr_k_conv *p, const float *x, const float *dy,
                           float *dw, int64_t c0, int64_t c1) {
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t KH = p->k[1], KW = p->k[2], KK = p->k[0] * KH * KW;
  const int64_t IS = ID * IH * IW, OS = OD * OH * OW, sw = p->stride[2];
  const int64_t J = (IW + sw - 1) / sw;
  const bool split = dw_grad_split(p) && KK <= DW_GRAD_TAPS;
  float ph[DW_GRAD_ROW];
  /* per tap of a block: where it reads (z, y, x offsets) and the output
   * columns whose read is inside */
  int64_t dz[DW_GRAD_TAPS], dy_[DW_GRAD_TAPS], dx[DW_GRAD_TAPS];
  int64_t lo[DW_GRAD_TAPS], hi[DW_GRAD_TAPS];
  int64_t rx[DW_GRAD_TAPS], ex[DW_GRAD_TAPS]; /* split: dx's phase, offset */
  float acc[DW_GRAD_TAPS][9];
  for (int64_t t0 = 0; t0 < KK; t0 += DW_GRAD_TAPS) {
    const int64_t nt = fr_k_min64(DW_GRAD_TAPS, KK - t0);
    for (int64_t i = 0; i < nt; i++) {
      const int64_t t = t0 + i, kx = t % KW, y = (t / KW) % KH, z = t / (KW * KH);
      dz[i] = z * p->dil[0] - p->pad[0];
      dy_[i] = y * p->dil[1] - p->pad[1];
      dx[i] = kx * p->dil[2] - p->pad[2];
      fr_k_valid_range(sw, dx[i], IW, OW, &lo[i], &hi[i]);
      rx[i] = ((dx[i] % sw) + sw) % sw;
      ex[i] = (dx[i] - rx[i]) / sw;
    }
    for (int64_t c = c0; c < c1; c++) {
      memset(acc, 0, sizeof acc[0] * (size_t)nt);
      for (int64_t n = 0; n < p->N; n++) {
        const float *xp = x + (n * p->C + c) * IS;
        const float *dp = dy + (n * p->M + c) * OS;
        for (int64_t od = 0; od < OD; od++)
          for (int64_t oh = 0; oh < OH; oh++) {
            const float *dr = dp + (od * OH + oh) * OW;
            if (split) {
              /* taps of one kernel row read the same input row: split
               * it once, then each tap reads its phase contiguously */
              for (int64_t i = 0; i < nt; i += KW) {
                const int64_t iz = od * p->stride[0] + dz[i];
                const int64_t iy = oh * p->stride[1] + dy_[i];
                if (iz < 0 || iz >= ID || iy < 0 || iy >= IH) continue;
                split_row(xp + (iz * IH + iy) * IW, IW, sw, J, ph);
                for (int64_t k = i; k < i + KW; k++)
                  dot_acc(hi[k] - lo[k], dr + lo[k], ph + rx[k] * J + lo[k] + ex[k], 1,
                          acc[k]);
              }
              continue;
            }
            for (int64_t i = 0; i < nt; i++) {
              const int64_t iz = od * p->stride[0] + dz[i];
              const int64_t iy = oh * p->stride[1] + dy_[i];
              if (iz < 0 || iz >= ID || iy < 0 || iy >= IH) continue;
              const float *xr = xp + (iz * IH + iy) * IW;
              dot_acc(hi[i] - lo[i], dr + lo[i], xr + lo[i] * sw + dx[i], sw, acc[i]);
            }
          }
      }
      for (int64_t i = 0; i < nt; i++) {
        float r = acc[i][8];
        for (int k = 0; k < 8; k++) r += acc[i][k];
        dw[c * KK + t0 + i] = r;
      }
    }
  }
}

/* ---- threads ------------------------------------------------------------ */

/* Each of these kernels runs on threads over a range of what it writes:
 * rows of the im2col matrix, channels of a depthwise dW, planes of a
 * pooling's dx. Every element is computed as on one thread. */
typedef struct grad_job {
  const fr_k_conv *c;
  const fr_k_pool *p;
  const float *x, *dy;
  float *out;
  int64_t j0, pn; /* im2col_rows */
  int kind;       /* GRAD_* */
} grad_job;
enum { GRAD_IM2COL, GRAD_DW, GRAD_MAXPOOL, GRAD_AVGPOOL };

static void dw_grad_weight(const fr_k_conv *p, const float *x, const float *dy,
                           float *dw, int64_t c0, int64_t c1);

static FR_K_SHARED void grad_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const grad_job *j = ctx;
  if (j->kind == GRAD_IM2COL) {
    im2col_rows(j->c, j->x, j->j0, j->pn, lo, hi, j->out);
    return;
  }
  if (j->kind == GRAD_DW) {
    if (fr_k_dw_lanes_ok(j->c)) fr_k_dw_grad_lanes_f32(j->c, j->x, j->dy, j->out, lo, hi);
    else dw_grad_weight(j->c, j->x, j->dy, j->out, lo, hi);
    return;
  }
  fr_k_pool sub = *j->p;
  sub.planes = hi - lo;
  int64_t IS = sub.in[0] * sub.in[1] * sub.in[2], OS = sub.out[0] * sub.out[1] * sub.out[2];
  if (j->kind == GRAD_MAXPOOL)
    fr_k_maxpool_grad_f32(&sub, j->dy + lo * OS, j->x + lo * IS, j->out + lo * IS);
  else
    fr_k_avgpool_grad_f32(&sub, j->dy + lo * OS, j->out + lo * IS);
}

/* j over n units on threads when ops make it worth it, else at once. */
static FR_K_INLINE void grad_par(grad_job *j, int64_t n, int64_t ops) {
  if (fr_k_par_worth(ops)) fr_k_parallel(n, grad_task, j, NULL, 0);
  else grad_task(j, 0, n, NULL);
}

/* Per group g: dW_g (Mg, K) = sum over images n and pixel blocks of
 * dY_g[n] (Mg, pn) * col (pn, K), the GEMM accumulating into dW_g after
 * the first block. */
void fr_k_conv_grad_weight_f32(const fr_k_conv *p, const float *x,
                               const float *dy, float *dw, float *scratch) {
  const int64_t OS = p->out[0] * p->out[1] * p->out[2];
  if (is_depthwise(p)) {
    grad_job j = {.c = p, .x = x, .dy = dy, .out = dw, .kind = GRAD_DW};
    grad_par(&j, p->C, p->N * p->C * OS * p->k[0] * p->k[1] * p->k[2]);
    return;
  }
  const int64_t G = p->group, Mg = p->M / G, Cg = p->C / G;
  const int64_t K = Cg * p->k[0] * p->k[1] * p->k[2];
  const int64_t IS = p->in[0] * p->in[1] * p->in[2];
  const int64_t P = block_pixels(K, OS);
  float *col = scratch, *gs = scratch + P * K;
  if (is_pointwise(p)) {
    /* dW_g (Mg, Cg) = sum over n of dY_g[n] (Mg, OS) x_g[n]^T (OS, Cg) */
    for (int64_t g = 0; g < G; g++) {
      if (by_dots(Mg, Cg, OS) || p->N == 0) {
        fr_k_dot_nt_f32(Mg, Cg, OS, p->N, dy + g * Mg * OS, OS, p->M * OS,
                        x + g * Cg * IS, IS, p->C * IS, dw + g * Mg * K, K, 0);
        continue;
      }
      for (int64_t n = 0; n < p->N; n++) {
        fr_k_gemm gm = {.M = Mg, .N = Cg, .K = OS, .A = dy + (n * p->M + g * Mg) * OS,
                        .rsa = OS, .csa = 1, .B = x + (n * p->C + g * Cg) * IS,
                        .rsb = 1, .csb = IS, .C = dw + g * Mg * K, .ldc = K,
                        .alpha = 1.0f, .beta = n ? 1.0f : 0.0f};
        fr_k_sgemm(&gm, scratch);
      }
    }
    return;
  }
  const int64_t NB = dot_images(p, K, OS);
  if (by_dots(Mg, K, P) && P == OS && NB > 1) {
    /* whole images, NB at a time: their im2col matrices one after the
     * other, then one product over them */
    for (int64_t g = 0; g < G; g++)
      for (int64_t n0 = 0; n0 < p->N; n0 += NB) {
        const int64_t nb = fr_k_min64(NB, p->N - n0);
        for (int64_t i = 0; i < nb; i++) {
          grad_job j = {.c = p, .x = x + ((n0 + i) * p->C + g * Cg) * IS,
                        .out = col + i * K * OS, .j0 = 0, .pn = OS, .kind = GRAD_IM2COL};
          grad_par(&j, K, OS * K);
        }
        fr_k_dot_nt_f32(Mg, K, OS, nb, dy + (n0 * p->M + g * Mg) * OS, OS, p->M * OS,
                        col, OS, K * OS, dw + g * Mg * K, K, n0 > 0);
      }
    return;
  }
  for (int64_t g = 0; g < G; g++) {
    float *dwg = dw + g * Mg * K; /* (Mg, K) */
    bool first = true;
    for (int64_t n = 0; n < p->N; n++) {
      const float *xg = x + (n * p->C + g * Cg) * IS;   /* (Cg, ID, IH, IW) */
      const float *dyg = dy + (n * p->M + g * Mg) * OS; /* (Mg, OS) */
      for (int64_t j0 = 0; j0 < OS; j0 += P) {
        int64_t pn = fr_k_min64(P, OS - j0);
        grad_job j = {.c = p, .x = xg, .out = col, .j0 = j0, .pn = pn,
                      .kind = GRAD_IM2COL};
        grad_par(&j, K, pn * K);
        /* dW_g += dY_g's pixels [j0, j0 + pn) (Mg, pn) x col (K, pn)^T */
        if (by_dots(Mg, K, P)) {
          fr_k_dot_nt_f32(Mg, K, pn, 1, dyg + j0, OS, 0, col, pn, 0, dwg, K, !first);
        } else {
          fr_k_gemm gm = {.M = Mg, .N = K, .K = pn, .A = dyg + j0, .rsa = OS,
                          .csa = 1, .B = col, .rsb = 1, .csb = pn, .C = dwg,
                          .ldc = K, .alpha = 1.0f, .beta = first ? 0.0f : 1.0f};
          fr_k_sgemm(&gm, gs);
        }
        first = false;
      }
    }
    if (first)
      for (int64_t i = 0; i < Mg * K; i++) dwg[i] = 0;
  }
}

/* ---- pooling ------------------------------------------------------------- */

/* fr_k_pool_tiles' maximum pooling gradient: each window's dy goes to its
 * first maximum in row order (as the general loop below), 2x2 windows
 * a row of outputs at a time by vectors (fr_k_maxpool2_grad_row_f32, which
 * writes all four inputs of each window: the plane is zeroed first only
 * when windows leave rows or columns of it uncovered). */
static void maxpool_grad_tiles(const fr_k_pool *p, const float *dy,
                               const float *x, float *dx) {
  const int64_t IH = p->in[1], IW = p->in[2];
  const int64_t OH = p->out[1], OW = p->out[2];
  const int64_t KH = p->k[1], KW = p->k[2];
  /* each depth a plane of its own (the windows' depth is 1) */
  for (int64_t pl = 0; pl < p->planes * p->in[0]; pl++) {
    const float *xp = x + pl * IH * IW, *dp = dy + pl * OH * OW;
    float *gp = dx + pl * IH * IW;
    const bool cover = KH == 2 && KW == 2 && IH == 2 * OH && IW == 2 * OW;
    if (!cover) memset(gp, 0, sizeof(float) * (size_t)(IH * IW));
    for (int64_t oh = 0; oh < OH; oh++) {
      const float *r0 = xp + oh * KH * IW, *d = dp + oh * OW;
      float *g0 = gp + oh * KH * IW;
      if (KH == 2 && KW == 2) {
        fr_k_maxpool2_grad_row_f32(OW, r0, r0 + IW, d, g0, g0 + IW);
        continue;
      }
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t bi = ow * KW;
        float best = r0[bi];
        for (int64_t ky = 0; ky < KH; ky++)
          for (int64_t kx = 0; kx < KW; kx++) {
            int64_t i = ky * IW + ow * KW + kx;
            if (r0[i] > best) best = r0[i], bi = i;
          }
        g0[bi] = d[ow];
      }
    }
  }
}

void fr_k_maxpool_grad_f32(const fr_k_pool *p, const float *dy, const float *x,
                           float *dx) {
  if (fr_k_pool_tiles(p)) {
    maxpool_grad_tiles(p, dy, x, dx);
    return;
  }
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t IS = ID * IH * IW, OS = OD * OH * OW;
  for (int64_t pl = 0; pl < p->planes; pl++) {
    const float *xp = x + pl * IS, *dp = dy + pl * OS;
    float *gp = dx + pl * IS;
    for (int64_t i = 0; i < IS; i++) gp[i] = 0;
    for (int64_t od = 0; od < OD; od++) {
      int64_t z0, z1;
      fr_k_taps(od, p->stride[0], p->pad[0], p->dil[0], p->k[0], 0, ID, &z0, &z1);
      for (int64_t oh = 0; oh < OH; oh++) {
        int64_t y0, y1;
        fr_k_taps(oh, p->stride[1], p->pad[1], p->dil[1], p->k[1], 0, IH, &y0, &y1);
        for (int64_t ow = 0; ow < OW; ow++) {
          int64_t x0, x1, bi = -1;
          fr_k_taps(ow, p->stride[2], p->pad[2], p->dil[2], p->k[2], 0, IW, &x0,
               &x1);
          float best = -INFINITY;
          for (int64_t z = z0; z < z1; z++) {
            int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
            for (int64_t ky = y0; ky < y1; ky++) {
              int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
              int64_t r = (iz * IH + iy) * IW;
              for (int64_t kx = x0; kx < x1; kx++) {
                int64_t i = r + ow * p->stride[2] - p->pad[2] + kx * p->dil[2];
                if (xp[i] > best || bi < 0) {
                  best = xp[i];
                  bi = i;
                }
              }
            }
          }
          if (bi >= 0) gp[bi] += dp[(od * OH + oh) * OW + ow];
        }
      }
    }
  }
}

void fr_k_avgpool_grad_f32(const fr_k_pool *p, const float *dy, float *dx) {
  const int64_t ID = p->in[0], IH = p->in[1], IW = p->in[2];
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t IS = ID * IH * IW, OS = OD * OH * OW;
  /* the divisor counts taps inside the image, or inside the padded image */
  int64_t lo[3], hi[3];
  for (int d = 0; d < 3; d++) {
    lo[d] = p->count_include_pad ? -p->pad[d] : 0;
    hi[d] = p->in[d] + (p->count_include_pad ? p->pad_end[d] : 0);
  }
  for (int64_t pl = 0; pl < p->planes; pl++) {
    const float *dp = dy + pl * OS;
    float *gp = dx + pl * IS;
    for (int64_t i = 0; i < IS; i++) gp[i] = 0;
    for (int64_t od = 0; od < OD; od++) {
      int64_t z0, z1, cz0, cz1;
      fr_k_taps(od, p->stride[0], p->pad[0], p->dil[0], p->k[0], 0, ID, &z0, &z1);
      fr_k_taps(od, p->stride[0], p->pad[0], p->dil[0], p->k[0], lo[0], hi[0], &cz0,
           &cz1);
      for (int64_t oh = 0; oh < OH; oh++) {
        int64_t y0, y1, cy0, cy1;
        fr_k_taps(oh, p->stride[1], p->pad[1], p->dil[1], p->k[1], 0, IH, &y0, &y1);
        fr_k_taps(oh, p->stride[1], p->pad[1], p->dil[1], p->k[1], lo[1], hi[1],
             &cy0, &cy1);
        for (int64_t ow = 0; ow < OW; ow++) {
          int64_t x0, x1, cx0, cx1;
          fr_k_taps(ow, p->stride[2], p->pad[2], p->dil[2], p->k[2], 0, IW, &x0,
               &x1);
          fr_k_taps(ow, p->stride[2], p->pad[2], p->dil[2], p->k[2], lo[2], hi[2],
               &cx0, &cx1);
          int64_t cnt = (cz1 - cz0) * (cy1 - cy0) * (cx1 - cx0);
          if (cnt <= 0) continue;
          float g = dp[(od * OH + oh) * OW + ow] / (float)cnt;
          for (int64_t z = z0; z < z1; z++) {
            int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
            for (int64_t ky = y0; ky < y1; ky++) {
              int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
              float *row = gp + (iz * IH + iy) * IW;
              for (int64_t kx = x0; kx < x1; kx++)
                row[ow * p->stride[2] - p->pad[2] + kx * p->dil[2]] += g;
            }
          }
        }
      }
    }
  }
}

/* ---- Gather -------------------------------------------------------------- */

void fr_k_gather_grad_f32(const fr_k_gather_grad_plan *p, const float *dy,
                          const void *idx, float *dx) {
  const int64_t n = p->n, k = p->k, inner = p->inner;
  for (int64_t i = 0; i < p->outer * n * inner; i++) dx[i] = 0;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t j = 0; j < k; j++) {
      int64_t t =
          p->idx32 ? ((const int32_t *)idx)[j] : ((const int64_t *)idx)[j];
      if (t < 0) t += n;
      if (t < 0 || t >= n) continue;
      const float *s = dy + (o * k + j) * inner;
      float *d = dx + (o * n + t) * inner;
      for (int64_t i = 0; i < inner; i++) d[i] += s[i];
    }
}

/* ---- entries ------------------------------------------------------------- */

void fr_ke_conv_grad_weight_f32(const void *params, void *const *b) {
  fr_k_conv_grad_weight_f32(params, b[0], b[1], b[2], b[3]);
}

/* The work of a pooling's backward: its output size times its window. */
static int64_t pool_ops(const fr_k_pool *p) {
  return p->planes * p->out[0] * p->out[1] * p->out[2] * p->k[0] * p->k[1] * p->k[2];
}

void fr_ke_maxpool_grad_f32(const void *params, void *const *b) {
  const fr_k_pool *p = params;
  grad_job j = {.p = p, .dy = b[0], .x = b[1], .out = b[2], .kind = GRAD_MAXPOOL};
  if (fr_k_par_worth(pool_ops(p))) fr_k_parallel(p->planes, grad_task, &j, NULL, 0);
  else fr_k_maxpool_grad_f32(p, b[0], b[1], b[2]);
}

void fr_ke_avgpool_grad_f32(const void *params, void *const *b) {
  const fr_k_pool *p = params;
  grad_job j = {.p = p, .dy = b[0], .out = b[1], .kind = GRAD_AVGPOOL};
  if (fr_k_par_worth(pool_ops(p))) fr_k_parallel(p->planes, grad_task, &j, NULL, 0);
  else fr_k_avgpool_grad_f32(p, b[0], b[1]);
}

void fr_ke_gather_grad_f32(const void *params, void *const *b) {
  fr_k_gather_grad_f32(params, b[0], b[1], b[2]);
}

/* ---- BatchNormalization's parameter gradients ------------------------- */

enum { BN_LANES = 16 };

/* Channels [c0, c1): per channel the sums over images of dy (x - mean)
 * and dy, in BN_LANES partial sums (so the loop vectorizes) added up in
 * a fixed order. */
static void bn_grad_channels(const fr_k_bn_grad_plan *p, const float *dy,
                             const float *x, const float *mean,
                             const float *var, float *out, int64_t c0,
                             int64_t c1) {
  const int64_t C = p->C, S = p->S;
  for (int64_t c = c0; c < c1; c++) {
    const float m = mean[c];
    float a[BN_LANES] = {0}, b[BN_LANES] = {0}, ta = 0, tb = 0;
    for (int64_t n = 0; n < p->N; n++) {
      const float *d = dy + (n * C + c) * S, *xs = x + (n * C + c) * S;
      int64_t i = 0;
      for (; i + BN_LANES <= S; i += BN_LANES)
        for (int l = 0; l < BN_LANES; l++) {
          a[l] += d[i + l] * (xs[i + l] - m);
          b[l] += d[i + l];
        }
      for (; i < S; i++) {
        ta += d[i] * (xs[i] - m);
        tb += d[i];
      }
    }
    for (int l = 0; l < BN_LANES; l++) {
      ta += a[l];
      tb += b[l];
    }
    out[c] = ta * (1.0f / sqrtf(var[c] + p->eps));
    out[C + c] = tb;
  }
}

/* The channels [c0, c1) of fr_k_relu_bn_grad_f32: sums in lanes, as
 * bn_grad_channels. */
static void relu_bn_grad_channels(const fr_k_bn_grad_plan *p, const float *dy,
                                  const float *y, const float *x, const float *scale,
                                  const float *mean, const float *var, float *dx,
                                  float *stats, int64_t c0, int64_t c1) {
  const int64_t C = p->C, S = p->S;
  for (int64_t c = c0; c < c1; c++) {
    const float m = mean[c], s = scale[c];
    float a[BN_LANES] = {0}, b[BN_LANES] = {0}, e[BN_LANES] = {0}, ta = 0, tb = 0, te = 0;
    for (int64_t n = 0; n < p->N; n++) {
      const int64_t o = (n * C + c) * S;
      const float *restrict d = dy + o, *restrict ys = y + o, *restrict xs = x + o;
      float *restrict g = dx + o;
      int64_t i = 0;
      for (; i + BN_LANES <= S; i += BN_LANES)
        for (int l = 0; l < BN_LANES; l++) {
          const float gi = ys[i + l] > 0 ? d[i + l] : 0.0f, di = gi * s;
          g[i + l] = di;
          a[l] += gi * (xs[i + l] - m);
          b[l] += gi;
          e[l] += di;
        }
      for (; i < S; i++) {
        const float gi = ys[i] > 0 ? d[i] : 0.0f, di = gi * s;
        g[i] = di;
        ta += gi * (xs[i] - m);
        tb += gi;
        te += di;
      }
    }
    for (int l = 0; l < BN_LANES; l++) {
      ta += a[l];
      tb += b[l];
      te += e[l];
    }
    stats[c] = ta * (1.0f / sqrtf(var[c] + p->eps));
    stats[C + c] = tb;
    stats[2 * C + c] = te;
  }
}

typedef struct bn_job {
  const fr_k_bn_grad_plan *p;
  const float *dy, *x, *mean, *var, *y, *scale;
  float *out, *dx;
} bn_job;

static FR_K_SHARED void bn_task(void *ctx, int64_t lo, int64_t hi, void *scratch) {
  const bn_job *j = ctx;
  (void)scratch;
  if (j->y)
    relu_bn_grad_channels(j->p, j->dy, j->y, j->x, j->scale, j->mean, j->var, j->dx,
                          j->out, lo, hi);
  else
    bn_grad_channels(j->p, j->dy, j->x, j->mean, j->var, j->out, lo, hi);
}

void fr_k_bn_grad_f32(const fr_k_bn_grad_plan *p, const float *dy,
                      const float *x, const float *mean, const float *var,
                      float *out) {
  bn_job j = {.p = p, .dy = dy, .x = x, .mean = mean, .var = var, .out = out};
  if (fr_k_par_worth(2 * p->N * p->C * p->S)) fr_k_parallel(p->C, bn_task, &j, NULL, 0);
  else bn_task(&j, 0, p->C, NULL);
}

void fr_ke_bn_grad_f32(const void *params, void *const *b) {
  fr_k_bn_grad_f32(params, b[0], b[1], b[2], b[3], b[4]);
}

void fr_k_relu_bn_grad_f32(const fr_k_bn_grad_plan *p, const float *dy,
                           const float *y, const float *x, const float *scale,
                           const float *mean, const float *var, float *dx,
                           float *stats) {
  bn_job j = {.p = p, .dy = dy, .x = x, .mean = mean, .var = var, .y = y,
              .scale = scale, .out = stats, .dx = dx};
  if (fr_k_par_worth(3 * p->N * p->C * p->S)) fr_k_parallel(p->C, bn_task, &j, NULL, 0);
  else bn_task(&j, 0, p->C, NULL);
}

void fr_ke_relu_bn_grad_f32(const void *params, void *const *b) {
  fr_k_relu_bn_grad_f32(params, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}
