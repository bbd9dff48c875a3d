/* test_nn.c: the neural-network ops (conv, pooling, Gemm, MatMul, ...) on
 * hand-computed cases, and the blocked GEMM / implicit-GEMM conv against
 * naive loops on random shapes that cross the blocking edges. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static float *rnd(int64_t n, unsigned seed) {
  float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
  srand(seed);
  for (int64_t i = 0; i < n; i++) p[i] = (float)(rand() % 2001) / 1000.0f - 1;
  return p;
}

/* Turns node input i (a graph input of c) into a constant initializer
 * holding t (borrowed): for inputs whose values decide output shapes. */
static void make_const(ft_case *c, int i, fr_tensor t) {
  fr_graph *g = c->m->graph;
  fr_value *v = c->n->in[i];
  int k = 0;
  for (int j = 0; j < g->n_inputs; j++)
    if (g->inputs[j] != v) g->inputs[k++] = g->inputs[j];
  g->n_inputs = k;
  v->flags = FR_V_CONST;
  v->t = t;
  fr_value **inits = fr_arena_alloc(&c->m->arena,
                                    sizeof(fr_value *) * (size_t)(g->n_inits + 1));
  for (int j = 0; j < g->n_inits; j++) inits[j] = g->inits[j];
  inits[g->n_inits++] = v;
  g->inits = inits;
}

/* ---- Conv ---------------------------------------------------------------- */

START_TEST(conv_hand) {
  /* x (1,1,3,3) = 1..9, w (1,1,2,2) = [1 0; 0 -1], b = 10, pads 1 stride 2:
   * y (1,1,2,2) */
  ft_case *c = ft_new("Conv", 11, 3, 1, 3);
  ft_attr_ints(c, "pads", 4, FT_DIMS(1, 1, 1, 1));
  ft_attr_ints(c, "strides", 2, FT_DIMS(2, 2));
  float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, b[1] = {10};
  fr_tensor in[3] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 3, 3), x),
                     ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 2), w),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[2], 2);
  ck_assert_int_eq(out[0].dims[3], 2);
  /* y(0,0) = 0*1 + -1*x(0,0); y(0,1) = -x(0,2); y(1,0) = x(1,0)*0... */
  ft_check_f32(&out[0], 4, (const float[]){10 - 1, 10 - 3, 10 - 7, 10 + 5 - 9}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* Naive conv, 2-D (D = 1) or 3-D, for comparison. */
static void conv_ref(const fr_k_conv *p, const float *x, const float *w,
                     const float *b, float *y) {
  int64_t G = p->group, Cg = p->C / G, Mg = p->M / G;
  for (int64_t n = 0; n < p->N; n++)
    for (int64_t m = 0; m < p->M; m++)
      for (int64_t od = 0; od < p->out[0]; od++)
        for (int64_t oh = 0; oh < p->out[1]; oh++)
          for (int64_t ow = 0; ow < p->out[2]; ow++) {
            double s = b ? b[m] : 0;
            int64_t g = m / Mg;
            for (int64_t c = 0; c < Cg; c++)
              for (int64_t z = 0; z < p->k[0]; z++)
                for (int64_t ky = 0; ky < p->k[1]; ky++)
                  for (int64_t kx = 0; kx < p->k[2]; kx++) {
                    int64_t iz = od * p->stride[0] - p->pad[0] + z * p->dil[0];
                    int64_t iy = oh * p->stride[1] - p->pad[1] + ky * p->dil[1];
                    int64_t ix = ow * p->stride[2] - p->pad[2] + kx * p->dil[2];
                    if (iz < 0 || iy < 0 || ix < 0 || iz >= p->in[0] ||
                        iy >= p->in[1] || ix >= p->in[2])
                      continue;
                    s += (double)x[(((n * p->C + g * Cg + c) * p->in[0] + iz) *
                                        p->in[1] + iy) * p->in[2] + ix] *
                         w[(((m * Cg + c) * p->k[0] + z) * p->k[1] + ky) *
                               p->k[2] + kx];
                  }
            y[(((n * p->M + m) * p->out[0] + od) * p->out[1] + oh) *
                  p->out[2] + ow] = (float)s;
          }
}

/* Runs a Conv node with the geometry of p (pads symmetric at the start,
 * end pads chosen to give p->out) and compares with conv_ref. */
static void conv_check(fr_k_conv p, int nsp, int with_bias) {
  int64_t Cg = p.C / p.group;
  int64_t pe[3];
  for (int d = 0; d < 3; d++)
    pe[d] = (p.out[d] - 1) * p.stride[d] + (p.k[d] - 1) * p.dil[d] + 1 -
            p.in[d] - p.pad[d];
  for (int d = 0; d < 3; d++) /* a window may also stop short of the end */
    if (pe[d] < 0 && pe[d] > -p.stride[d]) pe[d] = 0;
  for (int d = 0; d < 3; d++) ck_assert(pe[d] >= 0);
  int64_t nx = p.N * p.C * p.in[0] * p.in[1] * p.in[2];
  int64_t nw = p.M * Cg * p.k[0] * p.k[1] * p.k[2];
  int64_t ny = p.N * p.M * p.out[0] * p.out[1] * p.out[2];
  float *x = rnd(nx, 1), *w = rnd(nw, 2), *b = rnd(p.M, 3);
  float *want = malloc(sizeof(float) * (size_t)ny);
  conv_ref(&p, x, w, with_bias ? b : NULL, want);

  ft_case *c = ft_new("Conv", 11, with_bias ? 3 : 2, 1, 4);
  int64_t pads[6], st[3], dl[3], xd[5], wd[5];
  int o = 3 - nsp;
  for (int d = 0; d < nsp; d++) {
    pads[d] = p.pad[o + d];
    pads[d + nsp] = pe[o + d];
    st[d] = p.stride[o + d];
    dl[d] = p.dil[o + d];
    xd[2 + d] = p.in[o + d];
    wd[2 + d] = p.k[o + d];
  }
  xd[0] = p.N, xd[1] = p.C, wd[0] = p.M, wd[1] = Cg;
  ft_attr_ints(c, "pads", 2 * nsp, pads);
  ft_attr_ints(c, "strides", nsp, st);
  ft_attr_ints(c, "dilations", nsp, dl);
  ft_attr_i(c, "group", p.group);
  fr_tensor in[3] = {ft_tensor(FR_F32, 2 + nsp, xd, x),
                     ft_tensor(FR_F32, 2 + nsp, wd, w),
                     ft_tensor(FR_F32, 1, FT_DIMS(p.M), b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  for (int d = 0; d < nsp; d++) ck_assert_int_eq(out[0].dims[2 + d], p.out[o + d]);
  ft_check_f32(&out[0], (int)ny, want, 1e-4f);
  ft_release(out, 1);
  ft_free(c);
  free(x), free(w), free(b), free(want);
}

START_TEST(conv_random) {
  /* N, C, M, group, in, out, k, stride, dil, pad, epi */
  fr_k_conv cases[] = {
      /* 3x3 pad 1, M and N off the tile sizes, K > KC */
      {2, 50, 19, 1, {1, 13, 11}, {1, 13, 11}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* 1x1 pointwise (plain GEMM path), small M (GEMV path) and large */
      {1, 7, 2, 1, {1, 5, 9}, {1, 5, 9}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {1, 33, 70, 1, {1, 6, 7}, {1, 6, 7}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      /* strides, dilation, asymmetric shapes */
      {1, 3, 8, 1, {1, 17, 12}, {1, 14, 10}, {1, 3, 2}, {1, 1, 1}, {1, 2, 2}, {0, 1, 0}, {0}, 0},
      {1, 3, 8, 1, {1, 17, 12}, {1, 8, 4}, {1, 3, 2}, {1, 2, 3}, {1, 2, 2}, {0, 1, 0}, {0}, 0},
      /* grouped, depthwise (stride 1, 2, 3; 3x3, 5x5), depthwise x2 */
      {1, 6, 9, 3, {1, 8, 8}, {1, 8, 8}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 5, 5, 5, {1, 9, 70}, {1, 9, 70}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 4, 4, 4, {1, 9, 71}, {1, 5, 36}, {1, 5, 5}, {1, 2, 2}, {1, 1, 1}, {0, 2, 2}, {0}, 0},
      {1, 4, 4, 4, {1, 9, 40}, {1, 5, 40}, {1, 5, 5}, {1, 2, 1}, {1, 1, 1}, {0, 2, 2}, {0}, 0},
      {1, 3, 3, 3, {1, 7, 50}, {1, 7, 17}, {1, 3, 3}, {1, 1, 3}, {1, 2, 2}, {0, 2, 1}, {0}, 0},
      {1, 3, 6, 3, {1, 7, 10}, {1, 7, 10}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* squeeze-excite 1x1 on a 1x1 image (one GEMM column) */
      {1, 88, 22, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      /* the OCR net's first conv and a (2, 1)-strided 5x5 depthwise */
      {1, 3, 8, 1, {1, 48, 64}, {1, 24, 32}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 104, 104, 104, {1, 3, 96}, {1, 2, 96}, {1, 5, 5}, {1, 2, 1}, {1, 1, 1}, {0, 2, 2}, {0}, 0},
      /* as wide as the input, stride 1 (one shifted copy per row): the
       * embedding model's 1x3 pad 1 and 3x1, on wide and 2-column images;
       * dilated, padded in H, wider than one B block (NC) */
      {2, 24, 48, 1, {1, 36, 16}, {1, 36, 16}, {1, 1, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
      {1, 20, 9, 1, {1, 12, 2}, {1, 10, 2}, {1, 3, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {3, 9, 10, 1, {1, 10, 2}, {1, 10, 2}, {1, 1, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
      {1, 4, 6, 1, {1, 9, 11}, {1, 9, 11}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 2, 2}, {0}, 0},
      {1, 3, 5, 1, {1, 40, 33}, {1, 40, 33}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 2, 5, 1, {1, 7, 1}, {1, 9, 1}, {1, 3, 1}, {1, 1, 1}, {1, 1, 1}, {0, 2, 0}, {0}, 0},
      /* B read in place (no padding along H, planes of several panels),
       * A read in place (one image, M off the tile rows): 1x3 pad 1, 3x1,
       * 3x3 with K past KC, dilated with pad 2 */
      {1, 10, 19, 1, {1, 30, 20}, {1, 30, 20}, {1, 1, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
      {1, 12, 17, 1, {1, 40, 24}, {1, 38, 24}, {1, 3, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {1, 40, 9, 1, {1, 20, 30}, {1, 18, 30}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
      {1, 5, 8, 1, {1, 12, 50}, {1, 8, 50}, {1, 3, 3}, {1, 1, 1}, {1, 2, 2}, {0, 0, 2}, {0}, 0},
      /* small images side by side in one GEMM (conv_folds), grouped, and
       * more columns than one B block */
      {3, 6, 9, 3, {1, 5, 4}, {1, 5, 4}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {9, 5, 7, 1, {1, 16, 7}, {1, 14, 7}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    conv_check(cases[i], 2, (int)(i % 2 == 0));
  /* 1-D: the melspectrogram's framing conv, scaled down */
  fr_k_conv c1 = {1, 1, 21, 1, {1, 1, 400}, {1, 1, 12}, {1, 1, 64},
                  {1, 1, 30}, {1, 1, 1}, {0, 0, 0}, {0}, 0};
  conv_check(c1, 1, 0);
  /* 1-D, windows inside the row: two channels, dilated, two K blocks */
  fr_k_conv c1b = {2, 3, 10, 1, {1, 1, 300}, {1, 1, 57}, {1, 1, 130},
                   {1, 1, 3}, {1, 1, 1}, {0, 0, 0}, {0}, 0};
  conv_check(c1b, 1, 1);
  fr_k_conv c1c = {1, 2, 9, 1, {1, 1, 100}, {1, 1, 88}, {1, 1, 7},
                   {1, 1, 1}, {1, 1, 2}, {0, 0, 0}, {0}, 0};
  conv_check(c1c, 1, 0);
  /* 3-D */
  fr_k_conv c3 = {1, 2, 3, 1, {4, 5, 6}, {4, 5, 6}, {3, 3, 3},
                  {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, 0};
  conv_check(c3, 3, 1);
}
END_TEST

/* The 3x3 depthwise fast path against the general one (the same sums in
 * the same order, but for where gcc contracts them into FMAs) and the
 * naive conv, on shapes nothing was tuned for: widths
 * below, at and around the vector widths, odd and non-square planes,
 * channel counts off 8 and 16, strides (1|2, 1|2) and (3, 2), pads 0..2,
 * with and without bias, residual and epilogues (in registers and not);
 * rows of a vector or more at strides (1, 1) and (2, 2) with one padding
 * read x in place, the rest go by bands, and rows of fewer outputs than a
 * vector across channel lanes (channel counts off 8 and 16: a last block
 * of empty lanes) (test_jit: the same at the JIT's vector width). */
START_TEST(dwconv3_fast_random) {
  /* (even sizes: rows read in place at stride 2 too; the last two
   * wider than four vectors) */
  static const int64_t hw[][2] = {{1, 1}, {3, 5}, {7, 8}, {9, 16}, {11, 17},
                                  {5, 33}, {20, 31}, {13, 47}, {2, 70},
                                  {8, 40}, {6, 66}, {41, 53}, {3, 700}};
  static const int64_t st[][2] = {{1, 1}, {2, 2}, {1, 2}, {2, 1}, {3, 2}};
  static const int acts[] = {FR_K_EPI_NONE, FR_K_EPI_RELU, FR_K_EPI_HARD_SWISH,
                             FR_K_EPI_SIGMOID};
  int n_case = 0;
  for (size_t i = 0; i < sizeof hw / sizeof hw[0]; i++)
    for (size_t j = 0; j < sizeof st / sizeof st[0]; j++)
      for (int64_t pad = 0; pad <= 2; pad++) {
        int64_t IH = hw[i][0], IW = hw[i][1], sh = st[j][0], sw = st[j][1];
        if (IH + 2 * pad < 3 || IW + 2 * pad < 3) continue;
        int64_t C = 1 + (int64_t)((i * 7 + j * 3 + (size_t)pad) % 19);
        int64_t N = 1 + (int64_t)(j % 2);
        fr_k_conv p = {N, C, C, C, {1, IH, IW}, {1, (IH + 2 * pad - 3) / sh + 1,
                       (IW + 2 * pad - 3) / sw + 1}, {1, 3, 3}, {1, sh, sw},
                       {1, 1, 1}, {0, pad, pad}, {0}, 0};
        int with_res = n_case % 3 == 1;
        p.epi.act = acts[n_case % 4];
        int64_t nx = N * C * IH * IW, ny = N * C * p.out[1] * p.out[2];
        float *x = rnd(nx, (unsigned)n_case), *w = rnd(C * 9, 7);
        float *b = rnd(C, 8), *res = rnd(ny, 9);
        float *fast = malloc(sizeof(float) * (size_t)ny);
        float *any = malloc(sizeof(float) * (size_t)ny);
        float *ref = malloc(sizeof(float) * (size_t)ny);
        const float *bias = n_case % 2 ? b : NULL, *r = with_res ? res : NULL;
        fr_k_dwconv_f32(&p, x, w, bias, r, fast);
        fr_k_dwconv_any_f32(&p, x, w, bias, r, any);
        fr_k_conv q = p;
        q.epi.act = FR_K_EPI_NONE;
        conv_ref(&q, x, w, bias, ref);
        for (int64_t k = 0; k < ny; k++) {
          ck_assert_msg(fabsf(fast[k] - any[k]) <= 1e-6f * (1 + fabsf(any[k])),
                        "dw 3x3 %lldx%lld stride %lldx%lld pad %lld C %lld: "
                        "element %lld fast %g general %g", (long long)IH,
                        (long long)IW, (long long)sh, (long long)sw,
                        (long long)pad, (long long)C, (long long)k, fast[k], any[k]);
          if (p.epi.act == FR_K_EPI_NONE)
            ck_assert_float_eq_tol(fast[k], ref[k] + (r ? r[k] : 0), 1e-4f);
        }
        free(x), free(w), free(b), free(res), free(fast), free(any), free(ref);
        n_case++;
      }
  ck_assert_int_gt(n_case, 100);
}
END_TEST

/* The direct conv of few taps (fr_k_conv_res_f32 on a stem-like conv)
 * against the implicit GEMM (fr_k_conv_gemm_res_f32) and the naive conv:
 * 1 to 3 channels, 3x3, 5x5, 1x7 and 2x1 kernels, strides (1|2, 1|2),
 * dilations, pads, output channels off the block of 4, narrow and odd
 * widths, batches, epilogues and residuals. */
START_TEST(conv_direct_random) {
  /* N, C, M, group, in, out (set below), k, stride, dil, pad */
  fr_k_conv cases[] = {
      {1, 3, 16, 1, {1, 41, 37}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 3, 7, 1, {1, 9, 50}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 1, 5, 1, {1, 12, 19}, {0}, {1, 5, 5}, {1, 1, 2}, {1, 1, 1}, {0, 2, 2}, {0}, 0},
      {1, 2, 9, 1, {1, 6, 33}, {0}, {1, 3, 3}, {1, 2, 1}, {1, 2, 2}, {0, 2, 2}, {0}, 0},
      {1, 4, 3, 1, {1, 5, 40}, {0}, {1, 1, 7}, {1, 1, 1}, {1, 1, 1}, {0, 0, 3}, {0}, 0},
      {3, 2, 4, 1, {1, 7, 6}, {0}, {1, 2, 1}, {1, 1, 2}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {1, 3, 8, 1, {1, 3, 3}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      /* the embedding model's stem (rows read with their pads as zeros),
       * and a row too wide for that copy */
      {2, 1, 24, 1, {1, 10, 32}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
      {1, 1, 5, 1, {1, 4, 300}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
  };
  static const int acts[] = {FR_K_EPI_NONE, FR_K_EPI_HARD_SWISH, FR_K_EPI_RELU,
                             FR_K_EPI_SIGMOID};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    fr_k_conv p = cases[ci];
    for (int d = 1; d < 3; d++)
      p.out[d] = (p.in[d] + 2 * p.pad[d] - (p.k[d] - 1) * p.dil[d] - 1) / p.stride[d] + 1;
    p.out[0] = 1;
    p.epi.act = acts[ci % 4];
    int64_t nx = p.N * p.C * p.in[1] * p.in[2], nw = p.M * p.C * p.k[1] * p.k[2];
    int64_t ny = p.N * p.M * p.out[1] * p.out[2];
    float *x = rnd(nx, 21), *w = rnd(nw, 22), *b = rnd(p.M, 23), *res = rnd(ny, 24);
    float *fast = malloc(sizeof(float) * (size_t)ny), *gemm = malloc(sizeof(float) * (size_t)ny);
    float *ref = malloc(sizeof(float) * (size_t)ny);
    float *s = malloc(sizeof(float) * (fr_k_conv_scratch(&p) + 16));
    const float *r = ci % 3 == 1 ? res : NULL, *bias = ci % 2 ? NULL : b;
    fr_k_conv_res_f32(&p, x, w, bias, r, fast, s);
    fr_k_conv_gemm_res_f32(&p, x, w, bias, r, gemm, s);
    fr_k_conv q = p;
    q.epi.act = FR_K_EPI_NONE;
    conv_ref(&q, x, w, bias, ref);
    for (int64_t i = 0; i < ny; i++) {
      ck_assert_msg(fabsf(fast[i] - gemm[i]) <= 1e-5f * (1 + fabsf(gemm[i])),
                    "direct conv case %d, element %lld: %g, GEMM %g", (int)ci,
                    (long long)i, fast[i], gemm[i]);
      if (p.epi.act == FR_K_EPI_NONE)
        ck_assert_float_eq_tol(fast[i], ref[i] + (r ? r[i] : 0), 1e-4f);
    }
    free(x), free(w), free(b), free(res), free(fast), free(gemm), free(ref), free(s);
  }
}
END_TEST

/* A conv with an input scale (fr_k_conv_scaled_f32: the squeeze-excite
 * Mul fused into the next conv) against the Mul done first and the plain
 * conv, to the bit: pointwise convs that scale B as they pack it (one
 * group or two, a scale per image or one for all, a residual and an
 * activation), and the shapes that read a scaled copy (few output
 * channels, one pixel, a 3x3 kernel, a depthwise 1x1). */
START_TEST(conv_scaled_random) {
  /* N, C, M, group, in, out (set below), k, stride, dil, pad */
  fr_k_conv cases[] = {
      {1, 16, 32, 1, {1, 20, 20}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      {2, 24, 40, 1, {1, 9, 13}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      {3, 300, 17, 1, {1, 5, 7}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      {2, 8, 12, 2, {1, 6, 11}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      {1, 16, 2, 1, {1, 10, 10}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      {2, 16, 9, 1, {1, 1, 1}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      {1, 6, 10, 1, {1, 9, 9}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 5, 5, 5, {1, 8, 8}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
  };
  static const int acts[] = {FR_K_EPI_NONE, FR_K_EPI_HARD_SWISH, FR_K_EPI_RELU,
                             FR_K_EPI_SIGMOID};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    fr_k_conv p = cases[ci];
    for (int d = 1; d < 3; d++)
      p.out[d] = (p.in[d] + 2 * p.pad[d] - (p.k[d] - 1) * p.dil[d] - 1) / p.stride[d] + 1;
    p.out[0] = 1;
    p.epi.act = acts[ci % 4];
    p.xscale = ci % 2 ? p.N : 1;
    const int64_t IS = p.in[1] * p.in[2], nx = p.N * p.C * IS;
    const int64_t nw = p.M * p.C / p.group * p.k[1] * p.k[2];
    const int64_t ny = p.N * p.M * p.out[1] * p.out[2];
    float *x = rnd(nx, 31), *xs = rnd(p.xscale * p.C, 32), *w = rnd(nw, 33);
    float *b = rnd(p.M, 34), *res = rnd(ny, 35), *xm = malloc(sizeof(float) * (size_t)nx);
    float *fused = malloc(sizeof(float) * (size_t)ny), *ref = malloc(sizeof(float) * (size_t)ny);
    float *s = malloc(sizeof(float) * (fr_k_conv_scratch(&p) + 16));
    const float *r = ci % 3 == 1 ? res : NULL;
    for (int64_t n = 0; n < p.N; n++)
      for (int64_t c = 0; c < p.C; c++)
        for (int64_t i = 0; i < IS; i++)
          xm[(n * p.C + c) * IS + i] =
              x[(n * p.C + c) * IS + i] * xs[(p.xscale > 1 ? n * p.C : 0) + c];
    fr_k_conv_scaled_f32(&p, x, xs, w, b, r, fused, s);
    fr_k_conv q = p;
    q.xscale = 0;
    fr_k_conv_res_f32(&q, xm, w, b, r, ref, s);
    for (int64_t i = 0; i < ny; i++)
      ck_assert_msg(memcmp(&fused[i], &ref[i], sizeof(float)) == 0,
                    "scaled conv case %d, element %lld: %g, Mul then conv %g",
                    (int)ci, (long long)i, fused[i], ref[i]);
    free(x), free(xs), free(w), free(b), free(res), free(xm), free(fused), free(ref), free(s);
  }
}
END_TEST

/* The epilogue of a conv with a residual (the GEMM's micro-kernel adds it
 * and applies the activation in registers on full tiles) against the conv
 * without it, then fr_k_epi_f32 on each row as an unfused Add and
 * activation would: the same bits, full tiles and edges, 1x1 and 3x3. */
START_TEST(conv_residual_epilogue_exact) {
  /* N, C, M, group, in, out (set below), k, stride, dil, pad */
  fr_k_conv cases[] = {
      {1, 32, 64, 1, {1, 20, 20}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      {2, 16, 20, 1, {1, 13, 9}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 64, 24, 1, {1, 10, 11}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0}, {0}, 0},
      /* B and A read in place (1x3 pad 1 on a plane of several panels) */
      {1, 12, 20, 1, {1, 16, 24}, {0}, {1, 1, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
  };
  static const int acts[] = {FR_K_EPI_NONE, FR_K_EPI_RELU, FR_K_EPI_HARD_SWISH,
                             FR_K_EPI_CLIP};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
    for (size_t ai = 0; ai < sizeof acts / sizeof acts[0]; ai++) {
      fr_k_conv p = cases[ci];
      for (int d = 1; d < 3; d++)
        p.out[d] = (p.in[d] + 2 * p.pad[d] - (p.k[d] - 1) * p.dil[d] - 1) / p.stride[d] + 1;
      p.out[0] = 1;
      p.epi.act = acts[ai];
      p.epi.a = -0.3f, p.epi.b = 0.4f;
      const int64_t P = p.out[1] * p.out[2], ny = p.N * p.M * P;
      float *x = rnd(p.N * p.C * p.in[1] * p.in[2], 51);
      float *w = rnd(p.M * p.C * p.k[1] * p.k[2], 52), *b = rnd(p.M, 53);
      float *res = rnd(ny, 54), *fused = malloc(sizeof(float) * (size_t)ny);
      float *ref = malloc(sizeof(float) * (size_t)ny);
      float *s = malloc(sizeof(float) * (fr_k_conv_scratch(&p) + 16));
      fr_k_conv_res_f32(&p, x, w, b, res, fused, s);
      fr_k_conv q = p;
      q.epi = (fr_k_epi){0};
      fr_k_conv_res_f32(&q, x, w, b, NULL, ref, s);
      for (int64_t r = 0; r < p.N * p.M; r++)
        fr_k_epi_f32(&p.epi, P, ref + r * P, NULL, res + r * P);
      for (int64_t i = 0; i < ny; i++)
        ck_assert_msg(memcmp(&fused[i], &ref[i], sizeof(float)) == 0,
                      "conv case %d act %d, element %lld: fused %g, unfused %g",
                      (int)ci, acts[ai], (long long)i, fused[i], ref[i]);
      free(x), free(w), free(b), free(res), free(fused), free(ref), free(s);
    }
}
END_TEST

/* col2im's row add (fr_k_col_add_f32): the stride-2 vector path against
 * the plain loop, to the bit (zeros of both signs in y), at every start
 * and end around the vector width, with a guard past the row. */
START_TEST(col_add_random) {
  enum { W = 160 };
  float y[2 * W + 8], ref[2 * W + 8], *c = rnd(W, 41), *y0 = rnd(2 * W + 8, 42);
  for (int i = 0; i < 2 * W + 8; i += 5) y0[i] = i % 2 ? -0.0f : 0.0f;
  for (int i = 0; i < W; i += 7) c[i] = -0.0f;
  for (int64_t sw = 1; sw <= 3; sw++)
    for (int64_t lo = 0; lo < 20; lo++)
      for (int64_t hi = lo; hi <= W && hi * sw <= 2 * W; hi += 1 + hi / 8) {
        memcpy(y, y0, sizeof y);
        memcpy(ref, y0, sizeof ref);
        fr_k_col_add_f32(y, c, lo, hi, sw);
        for (int64_t ix = lo; ix < hi; ix++) ref[ix * sw] += c[ix];
        ck_assert_msg(memcmp(y, ref, sizeof y) == 0,
                      "col add stride %lld [%lld, %lld) differs", (long long)sw,
                      (long long)lo, (long long)hi);
      }
  free(c), free(y0);
}
END_TEST

START_TEST(conv_bad_channels) {
  ft_case *c = ft_new("Conv", 11, 2, 1, 0);
  float x[2 * 9] = {0}, w[3 * 4] = {0};
  fr_tensor in[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 3, 3), x),
                     ft_tensor(FR_F32, 4, FT_DIMS(1, 3, 2, 2), w)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
  /* kernel larger than the input */
  c = ft_new("Conv", 11, 2, 1, 0);
  float w2[16] = {0};
  fr_tensor in2[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 3, 3), x),
                      ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 4, 4), w2)};
  ck_assert_int_eq(ft_run(c, in2, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- pooling --------------------------------------------------------------- */

START_TEST(pool_hand) {
  float x[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  fr_tensor in[1] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 4, 4), x)};
  fr_tensor out[2];
  /* max 2x2 stride 2 */
  ft_case *c = ft_new("MaxPool", 12, 1, 2, 2);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
  ft_attr_ints(c, "strides", 2, FT_DIMS(2, 2));
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){6, 8, 14, 16}, 0);
  const int64_t *idx = out[1].data;
  ck_assert_int_eq(idx[0], 5);
  ck_assert_int_eq(idx[3], 15);
  ft_release(out, 2);
  ft_free(c);
  /* average 3x3, pads 1, stride 2, padding not counted */
  c = ft_new("AveragePool", 11, 1, 1, 3);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(3, 3));
  ft_attr_ints(c, "strides", 2, FT_DIMS(2, 2));
  ft_attr_ints(c, "pads", 4, FT_DIMS(1, 1, 1, 1));
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4,
               (const float[]){(1 + 2 + 5 + 6) / 4.0f, (2 + 3 + 4 + 6 + 7 + 8) / 6.0f,
                               (5 + 6 + 9 + 10 + 13 + 14) / 6.0f,
                               (6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9.0f},
               1e-6f);
  ft_release(out, 1);
  ft_free(c);
  /* the same counting the padding */
  c = ft_new("AveragePool", 11, 1, 1, 4);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(3, 3));
  ft_attr_ints(c, "strides", 2, FT_DIMS(2, 2));
  ft_attr_ints(c, "pads", 4, FT_DIMS(1, 1, 1, 1));
  ft_attr_i(c, "count_include_pad", 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_float_eq_tol(((float *)out[0].data)[0], (1 + 2 + 5 + 6) / 9.0f, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  /* global average and max */
  c = ft_new("GlobalAveragePool", 1, 1, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 4);
  ft_check_f32(&out[0], 1, (const float[]){8.5f}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("GlobalMaxPool", 1, 1, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 1, (const float[]){16}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(pool_ceil_same) {
  float x[25];
  for (int i = 0; i < 25; i++) x[i] = (float)i;
  fr_tensor in[1] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 5, 5), x)};
  fr_tensor out[1];
  /* ceil mode: 5 -> ceil((5 - 2) / 2) + 1 = 3 */
  ft_case *c = ft_new("MaxPool", 12, 1, 1, 3);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
  ft_attr_ints(c, "strides", 2, FT_DIMS(2, 2));
  ft_attr_i(c, "ceil_mode", 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[2], 3);
  ft_check_f32(&out[0], 9, (const float[]){6, 8, 9, 16, 18, 19, 21, 23, 24}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* SAME_LOWER 2x2 stride 1: the padding goes first */
  c = ft_new("MaxPool", 12, 1, 1, 2);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
  ft_attr_s(c, "auto_pad", "SAME_LOWER");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[3], 5);
  const float *y = out[0].data;
  ck_assert_float_eq(y[0], 0);
  ck_assert_float_eq(y[6], 6);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(pool_bad) {
  float x[4] = {0};
  fr_tensor in[1] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 2), x)};
  fr_tensor out[1];
  ft_case *c = ft_new("MaxPool", 12, 1, 1, 1); /* no kernel_shape */
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
  c = ft_new("AveragePool", 11, 1, 1, 2);
  ft_attr_ints(c, "kernel_shape", 2, FT_DIMS(2, 2));
  ft_attr_ints(c, "strides", 2, FT_DIMS(0, 1));
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

/* ---- Gemm, MatMul ---------------------------------------------------------- */

START_TEST(gemm_hand) {
  /* A^T (2,3) with A (3,2); B (3,2); C (2) row broadcast */
  ft_case *c = ft_new("Gemm", 13, 3, 1, 3);
  ft_attr_i(c, "transA", 1);
  ft_attr_f(c, "alpha", 2);
  ft_attr_f(c, "beta", 0.5f);
  float a[6] = {1, 4, 2, 5, 3, 6}; /* A^T = [1 2 3; 4 5 6] */
  float b[6] = {1, 0, 0, 1, 1, 1}, cc[2] = {10, 20};
  fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 2), a),
                     ft_tensor(FR_F32, 2, FT_DIMS(3, 2), b),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), cc)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  /* A^T B = [4 5; 10 11] */
  ft_check_f32(&out[0], 4, (const float[]){13, 20, 25, 32}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* Gemm on random shapes crossing the blocking sizes, all transposes. */
START_TEST(gemm_random) {
  const int64_t shapes[][3] = {{1, 37, 500}, {2, 300, 7}, {3, 5, 2}, {70, 100, 400},
                               {9, 1601, 33}, {130, 49, 800}, {5, 1, 300}, {40, 2, 70}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int t = 0; t < 4; t++) {
      int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
      int ta = t & 1, tb = t >> 1;
      float *a = rnd(M * K, 4), *b = rnd(K * N, 5), *cc = rnd(M * N, 6);
      float *want = malloc(sizeof(float) * (size_t)(M * N));
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
          double acc = 0;
          for (int64_t k = 0; k < K; k++)
            acc += (double)a[ta ? k * M + i : i * K + k] *
                   b[tb ? j * K + k : k * N + j];
          want[i * N + j] = (float)(0.5 * acc + 2.0 * cc[i * N + j]);
        }
      ft_case *c = ft_new("Gemm", 13, 3, 1, 4);
      ft_attr_i(c, "transA", ta);
      ft_attr_i(c, "transB", tb);
      ft_attr_f(c, "alpha", 0.5f);
      ft_attr_f(c, "beta", 2);
      fr_tensor in[3] = {ft_tensor(FR_F32, 2, ta ? FT_DIMS(K, M) : FT_DIMS(M, K), a),
                         ft_tensor(FR_F32, 2, tb ? FT_DIMS(N, K) : FT_DIMS(K, N), b),
                         ft_tensor(FR_F32, 2, FT_DIMS(M, N), cc)};
      fr_tensor out[1];
      ck_assert_int_eq(ft_run(c, in, out), FR_OK);
      ft_check_f32(&out[0], (int)(M * N), want, 1e-4f);
      ft_release(out, 1);
      ft_free(c);
      free(a), free(b), free(cc), free(want);
    }
}
END_TEST

START_TEST(matmul_broadcast) {
  /* (2, 1, 2, 3) x (3, 3, 1) -> (2, 3, 2, 1) */
  float a[12], b[9];
  for (int i = 0; i < 12; i++) a[i] = (float)i;
  for (int i = 0; i < 9; i++) b[i] = (float)(i % 3 == 0 ? 1 : i);
  ft_case *c = ft_new("MatMul", 13, 2, 1, 0);
  fr_tensor in[2] = {ft_tensor(FR_F32, 4, FT_DIMS(2, 1, 2, 3), a),
                     ft_tensor(FR_F32, 3, FT_DIMS(3, 3, 1), b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 4);
  ck_assert_int_eq(out[0].dims[1], 3);
  float want[12];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int r = 0; r < 2; r++) {
        float s = 0;
        for (int k = 0; k < 3; k++) s += a[i * 6 + r * 3 + k] * b[j * 3 + k];
        want[(i * 3 + j) * 2 + r] = s;
      }
  ft_check_f32(&out[0], 12, want, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  /* 1-D x 1-D: a dot product, rank 0 */
  c = ft_new("MatMul", 13, 2, 1, 0);
  fr_tensor in2[2] = {ft_tensor(FR_F32, 1, FT_DIMS(3), a),
                      ft_tensor(FR_F32, 1, FT_DIMS(3), a + 3)};
  ck_assert_int_eq(ft_run(c, in2, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 0);
  ft_check_f32(&out[0], 1, (const float[]){0 * 3 + 1 * 4 + 2 * 5}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* mismatch */
  c = ft_new("MatMul", 13, 2, 1, 0);
  fr_tensor in3[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a),
                      ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a)};
  ck_assert_int_eq(ft_run(c, in3, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- ConvTranspose ---------------------------------------------------------- */

START_TEST(convtranspose_hand) {
  /* x (1,1,2,2) = [1 2; 3 4], w (1,1,2,2) = ones, stride 2: each input
   * pixel becomes a 2x2 block */
  float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1}, b[1] = {0.5f};
  ft_case *c = ft_new("ConvTranspose", 11, 3, 1, 1);
  ft_attr_ints(c, "strides", 2, FT_DIMS(2, 2));
  fr_tensor in[3] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 2), x),
                     ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 2), w),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[2], 4);
  ft_check_f32(&out[0], 16,
               (const float[]){1.5f, 1.5f, 2.5f, 2.5f, 1.5f, 1.5f, 2.5f, 2.5f,
                               3.5f, 3.5f, 4.5f, 4.5f, 3.5f, 3.5f, 4.5f, 4.5f},
               0);
  ft_release(out, 1);
  ft_free(c);
  /* stride 1 overlaps add up; pads crop: 3x3 full -> 1x1 center */
  c = ft_new("ConvTranspose", 11, 2, 1, 1);
  ft_attr_ints(c, "pads", 4, FT_DIMS(1, 1, 1, 1));
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[2], 1);
  ft_check_f32(&out[0], 1, (const float[]){10}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* W's first dim must be C */
  c = ft_new("ConvTranspose", 11, 2, 1, 0);
  fr_tensor bad[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 1, 2), x),
                      ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 2), w)};
  ck_assert_int_eq(ft_run(c, bad, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* The transposed conv (GEMM, then col2im over each tap's valid columns)
 * against the naive scatter, on strides 1 to 3, pads, dilations, groups
 * and odd shapes. */
START_TEST(convtranspose_random) {
  /* N, C, M, group, in, out (set below), k, stride, dil, pad */
  fr_k_conv cases[] = {
      {1, 8, 6, 1, {1, 7, 9}, {0}, {1, 4, 4}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 5, 3, 1, {1, 4, 11}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
      /* strided 2-D by output phases (a stride-1 conv per phase): phases
       * of different tap counts, groups, a phase no tap reaches (kernel
       * 2, stride 3: the bias alone), strides (2, 3) with pads, a batch */
      {2, 6, 4, 2, {1, 5, 7}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 3, 5, 1, {1, 4, 6}, {0}, {1, 2, 2}, {1, 3, 3}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {3, 4, 3, 1, {1, 5, 5}, {0}, {1, 5, 4}, {1, 2, 3}, {1, 1, 1}, {0, 2, 1}, {0}, 0},
      /* stride 1 as a conv of the flipped kernel: groups with several
       * channels each, dilated, images folded side by side (4 small
       * ones), 3-D; and a pad past (k - 1) * dil, which keeps col2im */
      {1, 6, 4, 2, {1, 5, 7}, {0}, {1, 3, 2}, {1, 1, 1}, {1, 2, 1}, {0, 1, 1}, {0}, 0},
      {4, 16, 24, 1, {1, 6, 9}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 4, 6, 2, {3, 4, 5}, {0}, {2, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 0}, {0}, 0},
      {1, 3, 2, 1, {1, 6, 6}, {0}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 1, 2}, {0}, 0},
      {1, 6, 9, 3, {1, 5, 6}, {0}, {1, 3, 2}, {1, 3, 2}, {1, 2, 1}, {0, 2, 0}, {0}, 0},
      {1, 3, 2, 1, {1, 1, 13}, {0}, {1, 1, 5}, {1, 1, 3}, {1, 1, 2}, {0, 0, 3}, {0}, 0},
      /* depthwise (the input gradient of a depthwise conv): at stride 1 a
       * conv of the flipped kernel (3x3 pad 1, 5x3 dilated, pads 0), a pad
       * past (k - 1) * dil and stride 2 the scatter over planes */
      {3, 16, 16, 16, {1, 9, 21}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 5, 5, 5, {1, 8, 7}, {0}, {1, 5, 3}, {1, 1, 1}, {1, 2, 1}, {0, 3, 0}, {0}, 0},
      {1, 4, 4, 4, {1, 6, 6}, {0}, {1, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {1, 4, 4, 4, {1, 9, 9}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 3, 3}, {0}, 0},
      {2, 8, 8, 8, {1, 6, 10}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* strided depthwise by output phases: stride 3 dilated, (2, 1)
       * with a 5-wide kernel, 2x3 of stride 2 without pads, and a row of
       * 2100 outputs (wider than the phase buffer: the scatter) */
      {1, 3, 3, 3, {1, 5, 7}, {0}, {1, 3, 3}, {1, 3, 3}, {1, 2, 2}, {0, 2, 1}, {0}, 0},
      {2, 2, 2, 2, {1, 4, 9}, {0}, {1, 3, 5}, {1, 2, 1}, {1, 1, 1}, {0, 1, 2}, {0}, 0},
      {1, 5, 5, 5, {1, 3, 8}, {0}, {1, 2, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {2, 3, 3, 3, {1, 3, 40}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 2, 2, 2, {1, 2, 1050}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* small planes across channel lanes: 20 channels (blocks of 8 or
       * 16 and a last one of 4), stride 2 */
      {2, 20, 20, 20, {1, 3, 6}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* 3-D: depthwise of stride 2 (phases along depth too), and a GEMM one */
      {1, 3, 3, 3, {3, 4, 5}, {0}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0}, 0},
      {1, 2, 4, 1, {2, 3, 3}, {0}, {2, 2, 3}, {2, 1, 2}, {1, 1, 1}, {0, 0, 1}, {0}, 0},
  };
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    fr_k_conv p = cases[ci];
    for (int d = 0; d < 3; d++) /* pads at both ends */
      p.out[d] = (p.in[d] - 1) * p.stride[d] + (p.k[d] - 1) * p.dil[d] + 1 - 2 * p.pad[d];
    int64_t Cg = p.C / p.group, Mg = p.M / p.group;
    int64_t NI = p.in[0] * p.in[1] * p.in[2], NO = p.out[0] * p.out[1] * p.out[2];
    int64_t KK = p.k[0] * p.k[1] * p.k[2];
    float *x = rnd(p.N * p.C * NI, 11), *w = rnd(p.C * Mg * KK, 12), *b = rnd(p.M, 13);
    float *y = malloc(sizeof(float) * (size_t)(p.N * p.M * NO));
    double *want = calloc((size_t)(p.N * p.M * NO), sizeof(double));
    float *s = malloc(sizeof(float) * (fr_k_convtranspose_scratch(&p) + 1));
    for (int64_t n = 0; n < p.N; n++)
      for (int64_t c = 0; c < p.C; c++)
        for (int64_t m = 0; m < Mg; m++)
          for (int64_t i = 0; i < NI; i++)
            for (int64_t t = 0; t < KK; t++) {
              int64_t iz = i / (p.in[1] * p.in[2]), iy = i / p.in[2] % p.in[1], ix = i % p.in[2];
              int64_t kz = t / (p.k[1] * p.k[2]), ky = t / p.k[2] % p.k[1], kx = t % p.k[2];
              int64_t oz = iz * p.stride[0] - p.pad[0] + kz * p.dil[0];
              int64_t oy = iy * p.stride[1] - p.pad[1] + ky * p.dil[1];
              int64_t ox = ix * p.stride[2] - p.pad[2] + kx * p.dil[2];
              if (oz < 0 || oy < 0 || ox < 0 || oz >= p.out[0] || oy >= p.out[1] || ox >= p.out[2])
                continue;
              int64_t mo = c / Cg * Mg + m;
              want[(n * p.M + mo) * NO + (oz * p.out[1] + oy) * p.out[2] + ox] +=
                  (double)x[(n * p.C + c) * NI + i] * w[(c * Mg + m) * KK + t];
            }
    fr_k_convtranspose_f32(&p, x, w, b, y, s);
    for (int64_t i = 0; i < p.N * p.M * NO; i++)
      ck_assert_float_eq_tol(y[i], (float)want[i] + b[(i / NO) % p.M], 1e-4f);
    free(x), free(w), free(b), free(y), free(want), free(s);
  }
}
END_TEST

/* A row split into its two phases and zipped back, at lengths around the
 * vector widths (4, 8, 16 lanes), odd and even. */
START_TEST(zip2_random) {
  float *x = rnd(80, 31), e[41], o[41], y[80];
  for (int64_t n = 0; n <= 80; n++) {
    memset(y, 0, sizeof y);
    fr_k_unzip2_f32(x, n, e, o);
    for (int64_t i = 0; i < n; i++)
      ck_assert_float_eq(i % 2 ? o[i / 2] : e[i / 2], x[i]);
    fr_k_zip2_f32(e, o, n, y);
    for (int64_t i = 0; i < 80; i++) ck_assert_float_eq(y[i], i < n ? x[i] : 0.0f);
  }
  free(x);
}
END_TEST

/* A convolution's dW (fr_k_conv_grad_weight_f32) against a sum in double
 * over images and output pixels: depthwise at strides 1 to 3 (strided
 * rows split by phase; rows under a vector across channel lanes), dilated, padded, in 3-D, a row of 2101 inputs
 * (wider than the split buffer), rows of more than 64 outputs, and grouped, pointwise and strided
 * convs (dot products of dY with x or its im2col rows). */
START_TEST(conv_grad_weight_random) {
  /* N, C, M, group, in, out (set below), k, stride, dil, pad */
  fr_k_conv cases[] = {
      {3, 4, 4, 4, {1, 9, 13}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 6, 6, 6, {1, 10, 21}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 3, 3, 3, {1, 11, 17}, {0}, {1, 3, 5}, {1, 3, 3}, {1, 2, 2}, {0, 2, 1}, {0}, 0},
      {1, 2, 2, 2, {1, 6, 12}, {0}, {1, 2, 3}, {1, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {2, 3, 3, 3, {1, 5, 77}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {1, 2, 2, 2, {4, 5, 9}, {0}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0}, 0},
      {1, 1, 1, 1, {1, 2, 2101}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* small planes across channel lanes: 20 channels (blocks of 8 or
       * 16 and a last one of 4) */
      {2, 20, 20, 20, {1, 6, 12}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* rows of more than 64 outputs, strided and not */
      {2, 3, 3, 3, {1, 4, 150}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 2, 2, 2, {1, 3, 70}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 4, 6, 2, {1, 7, 9}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      {2, 5, 3, 1, {1, 4, 6}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      /* dot tiles: pointwise with partial tiles (6 x 9) over 145 pixels
       * (a tail past the vectors); grouped over 39 pixels (short: the
       * packed GEMM); a strided 3x3 over rows of 70 (im2col, dots) */
      {3, 9, 6, 1, {1, 5, 29}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {2, 6, 10, 2, {1, 3, 13}, {0}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0}, 0},
      {2, 2, 5, 1, {1, 9, 70}, {0}, {1, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
      /* 55 x 55 images: four per product, then the fifth */
      {5, 2, 2, 1, {1, 55, 55}, {0}, {1, 3, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 1}, {0}, 0},
  };
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    fr_k_conv p = cases[ci];
    for (int d = 0; d < 3; d++)
      p.out[d] = (p.in[d] + 2 * p.pad[d] - (p.k[d] - 1) * p.dil[d] - 1) / p.stride[d] + 1;
    const int64_t Cg = p.C / p.group, Mg = p.M / p.group;
    const int64_t IS = p.in[0] * p.in[1] * p.in[2], OS = p.out[0] * p.out[1] * p.out[2];
    const int64_t KK = p.k[0] * p.k[1] * p.k[2], nw = p.M * Cg * KK;
    float *x = rnd(p.N * p.C * IS, 21), *dy = rnd(p.N * p.M * OS, 22);
    float *dw = malloc(sizeof(float) * (size_t)nw);
    float *s = malloc(sizeof(float) * (fr_k_conv_grad_weight_scratch(&p) + 1));
    double *want = calloc((size_t)nw, sizeof(double));
    for (int64_t n = 0; n < p.N; n++)
      for (int64_t m = 0; m < p.M; m++)
        for (int64_t o = 0; o < OS; o++) {
          const int64_t oz = o / (p.out[1] * p.out[2]), oy = o / p.out[2] % p.out[1];
          const int64_t ox = o % p.out[2];
          const double g = dy[(n * p.M + m) * OS + o];
          for (int64_t cg = 0; cg < Cg; cg++)
            for (int64_t t = 0; t < KK; t++) {
              const int64_t kz = t / (p.k[1] * p.k[2]), ky = t / p.k[2] % p.k[1], kx = t % p.k[2];
              const int64_t iz = oz * p.stride[0] - p.pad[0] + kz * p.dil[0];
              const int64_t iy = oy * p.stride[1] - p.pad[1] + ky * p.dil[1];
              const int64_t ix = ox * p.stride[2] - p.pad[2] + kx * p.dil[2];
              if (iz < 0 || iy < 0 || ix < 0 || iz >= p.in[0] || iy >= p.in[1] || ix >= p.in[2])
                continue;
              const int64_t c = m / Mg * Cg + cg;
              want[(m * Cg + cg) * KK + t] +=
                  g * x[(n * p.C + c) * IS + (iz * p.in[1] + iy) * p.in[2] + ix];
            }
        }
    fr_k_conv_grad_weight_f32(&p, x, dy, dw, s);
    for (int64_t i = 0; i < nw; i++)
      ck_assert_msg(fabs(dw[i] - want[i]) <= 1e-4 * (1 + fabs(want[i])),
                    "case %zu: dw[%lld] = %g, want %g", ci, (long long)i, dw[i], want[i]);
    free(x), free(dy), free(dw), free(s), free(want);
  }
}
END_TEST

/* ---- Resize, GridSample --------------------------------------------------- */

START_TEST(resize_hand) {
  float x[4] = {1, 2, 3, 4}, roi[1] = {0}, sc[4] = {1, 1, 2, 2};
  fr_tensor in[1] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 2), x)};
  fr_tensor troi = ft_tensor(FR_F32, 1, FT_DIMS(0), roi);
  fr_tensor tsc = ft_tensor(FR_F32, 1, FT_DIMS(4), sc);
  fr_tensor out[1];
  /* nearest x2 */
  ft_case *c = ft_new("Resize", 13, 3, 1, 1);
  make_const(c, 1, troi);
  make_const(c, 2, tsc);
  ft_attr_s(c, "mode", "nearest");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 16,
               (const float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* linear, align_corners: row 0 = 1, 4/3, 5/3, 2 */
  c = ft_new("Resize", 13, 3, 1, 2);
  make_const(c, 1, troi);
  make_const(c, 2, tsc);
  ft_attr_s(c, "mode", "linear");
  ft_attr_s(c, "coordinate_transformation_mode", "align_corners");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  const float *y = out[0].data;
  ck_assert_float_eq_tol(y[1], 4.0f / 3, 1e-6f);
  ck_assert_float_eq_tol(y[15], 4, 1e-6f);
  ck_assert_float_eq_tol(y[5], 1 + 1.0f / 3 + 2.0f / 3, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  /* linear half_pixel x2: first output (coordinate -0.25) is the edge */
  c = ft_new("Resize", 13, 3, 1, 1);
  make_const(c, 1, troi);
  make_const(c, 2, tsc);
  ft_attr_s(c, "mode", "linear");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  y = out[0].data;
  ck_assert_float_eq_tol(y[0], 1, 1e-6f);
  ck_assert_float_eq_tol(y[1], 1.25f, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  /* scales of the wrong length */
  c = ft_new("Resize", 13, 3, 1, 0);
  make_const(c, 1, troi);
  make_const(c, 2, ft_tensor(FR_F32, 1, FT_DIMS(3), sc));
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
  /* scales not known when compiling */
  c = ft_new("Resize", 13, 3, 1, 0);
  make_const(c, 1, troi);
  fr_tensor in2[2] = {in[0], tsc};
  ck_assert_int_eq(ft_run(c, in2, out), FR_ERR_UNSUPPORTED);
  ft_free(c);
}
END_TEST

/* The separable Resize (fr_k_resize_sep_f32) against the general gather
 * (fr_k_resize_f32) on shapes nothing was tuned for: odd and non-square
 * planes, channels off the vector width, scales 2, 3, 0.5 and others, every
 * coordinate mode and nearest mode, ranks 1 to 4. expect_sep: whether the
 * separable path must take it (1), must not (0), either (-1). */
static void resize_sep_check(int rank, const int64_t *in, const double *scale,
                             int mode, int coord, int nearest,
                             double roi_start, double roi_end, int expect_sep) {
  fr_k_resize_dim d[FR_K_MAX_RANK];
  fr_k_resize r = {.rank = rank, .ntap = 2, .extrapolation = -7};
  int64_t nx = 1, ny = 1;
  for (int i = 0; i < rank; i++) {
    int64_t out = (int64_t)floor((double)in[i] * scale[i]);
    fr_k_resize_dim di = {mode, coord, nearest, 0, in[i], out, scale[i],
                          i >= rank - 2 ? roi_start : 0,
                          i >= rank - 2 ? roi_end : 1, -0.75};
    d[i] = di;
    r.in[i] = in[i], r.out[i] = out;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(2 * out + 1));
    float *w = malloc(sizeof(float) * (size_t)(2 * out + 1));
    fr_k_resize_taps(&d[i], idx, w);
    r.idx[i] = idx, r.w[i] = w;
    nx *= in[i], ny *= out;
  }
  float *x = rnd(nx, (unsigned)(nx + ny)), *want = malloc(sizeof(float) * (size_t)ny);
  float *got = malloc(sizeof(float) * (size_t)ny);
  float *rows = malloc(sizeof(float) * (size_t)(2 * r.out[rank - 1] + 1));
  int sep = fr_k_resize_sep_ok(&r);
  if (expect_sep >= 0 && sep != expect_sep)
    fprintf(stderr, "resize rank %d, last dim %lld -> %lld, mode %d, coord %d, nearest %d\n",
            rank, (long long)in[rank - 1], (long long)r.out[rank - 1], mode, coord, nearest);
  if (expect_sep >= 0) ck_assert_int_eq(sep, expect_sep);
  fr_k_resize_f32(&r, x, want);
  if (sep) {
    fr_k_resize_sep_f32(&r, x, got, rows);
    for (int64_t i = 0; i < ny; i++) {
      if (mode == FR_K_RESIZE_NEAREST) ck_assert_float_eq(got[i], want[i]);
      else ck_assert_float_eq_tol(got[i], want[i], 1e-6f);
    }
  }
  for (int i = 0; i < rank; i++) free((void *)r.idx[i]), free((void *)r.w[i]);
  free(x), free(want), free(got), free(rows);
}

START_TEST(resize_sep_random) {
  static const int64_t shapes[][4] = {
      {1, 3, 7, 5}, {2, 13, 9, 11}, {1, 1, 1, 17}, {1, 5, 10, 1}, {3, 2, 6, 6}};
  static const double scales[][2] = {
      {2, 2}, {3, 3}, {2, 3}, {0.5, 0.5}, {1.7, 0.6}, {1, 2}, {2, 1}, {1, 1}};
  for (int coord = 0; coord < 7; coord++)
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
      for (size_t ci = 0; ci < sizeof scales / sizeof scales[0]; ci++) {
        const int64_t *in = shapes[si];
        double sc[4] = {1, 1, scales[ci][0], scales[ci][1]};
        if (in[2] * sc[2] < 1 || in[3] * sc[3] < 1) continue;
        /* tf_crop_and_resize inside the input (roi 0.1..0.9) */
        double r0 = coord == FR_K_COORD_TF_CROP_AND_RESIZE ? 0.1 : 0;
        double r1 = coord == FR_K_COORD_TF_CROP_AND_RESIZE ? 0.9 : 1;
        /* tf_half_pixel_for_nn moves a kept dim by half a pixel: its
         * linear taps and nearest rounding up read the next index (not
         * separable), unless the dim has size 1 */
        int tf = coord == FR_K_COORD_TF_HALF_PIXEL_FOR_NN;
        int e4 = !tf ? 1 : in[0] == 1 && in[1] == 1 ? -1 : 0;
        int e3 = !tf ? 1 : in[1] == 1 ? -1 : 0;
        for (int nm = 0; nm <= FR_K_NEAREST_SIMPLE; nm++) {
          int up = nm == FR_K_NEAREST_CEIL || nm == FR_K_NEAREST_ROUND_PREFER_CEIL;
          resize_sep_check(4, in, sc, FR_K_RESIZE_NEAREST, coord, nm, r0, r1,
                           up ? e4 : 1);
        }
        resize_sep_check(4, in, sc, FR_K_RESIZE_LINEAR, coord, 0, r0, r1, e4);
        /* rank 3, 2 and 1: the last dims of the same case */
        resize_sep_check(3, in + 1, sc + 1, FR_K_RESIZE_LINEAR, coord, 0, r0, r1, e3);
        resize_sep_check(2, in + 2, sc + 2, FR_K_RESIZE_NEAREST, coord, 0, r0, r1, 1);
        resize_sep_check(1, in + 3, sc + 3, FR_K_RESIZE_LINEAR, coord, 0, r0, r1, 1);
      }
  /* not separable: a leading dim resized, taps outside a crop, cubic
   * (the general path) */
  resize_sep_check(4, (const int64_t[]){1, 3, 4, 5}, (const double[]){1, 2, 2, 2},
                   FR_K_RESIZE_LINEAR, FR_K_COORD_HALF_PIXEL, 0, 0, 1, 0);
  resize_sep_check(4, (const int64_t[]){1, 3, 4, 5}, (const double[]){1, 1, 2, 2},
                   FR_K_RESIZE_LINEAR, FR_K_COORD_TF_CROP_AND_RESIZE, 0, -0.5, 1.2, 0);
  fr_k_resize cubic = {.rank = 1, .ntap = 4};
  ck_assert_int_eq(fr_k_resize_sep_ok(&cubic), 0);
}
END_TEST

START_TEST(gridsample_hand) {
  /* align_corners: grid corners hit the image corners; (0, 0) is the
   * center of a 2x2 image: the mean */
  float x[4] = {1, 2, 3, 4};
  float g[6] = {-1, -1, 1, 1, 0, 0};
  ft_case *c = ft_new("GridSample", 16, 2, 1, 1);
  ft_attr_i(c, "align_corners", 1);
  fr_tensor in[2] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 2), x),
                     ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 3, 2), g)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){1, 4, 2.5f}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("GridSample", 16, 2, 1, 0);
  in[1] = ft_tensor(FR_F32, 4, FT_DIMS(1, 1, 2, 3), g);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- quantization ------------------------------------------------------------ */

START_TEST(quantize_hand) {
  float x[5] = {0, 1.5f, -3, 300, 5};
  float s[1] = {2};
  uint8_t z[1] = {128};
  ft_case *c = ft_new("QuantizeLinear", 13, 3, 1, 0);
  fr_tensor in[3] = {ft_tensor(FR_F32, 1, FT_DIMS(5), x),
                     ft_tensor(FR_F32, 0, NULL, s),
                     ft_tensor(FR_U8, 0, NULL, z)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dtype, FR_U8);
  /* 0.75 -> 1, -1.5 -> -2 (half to even), 150 + 128 saturates, 2.5 -> 2 */
  const uint8_t want[5] = {128, 129, 126, 255, 130};
  for (int i = 0; i < 5; i++) ck_assert_int_eq(((uint8_t *)out[0].data)[i], want[i]);
  ft_release(out, 1);
  ft_free(c);
  /* back */
  uint8_t q[3] = {128, 130, 0};
  c = ft_new("DequantizeLinear", 13, 3, 1, 0);
  fr_tensor in2[3] = {ft_tensor(FR_U8, 1, FT_DIMS(3), q),
                      ft_tensor(FR_F32, 0, NULL, s),
                      ft_tensor(FR_U8, 0, NULL, z)};
  ck_assert_int_eq(ft_run(c, in2, out), FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){0, 4, -256}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* dynamic: range [-1, 2] (0 included): scale 3/255, zp round(255/3) */
  float d[3] = {-1, 0, 2};
  c = ft_new("DynamicQuantizeLinear", 11, 1, 3, 0);
  fr_tensor in3[1] = {ft_tensor(FR_F32, 1, FT_DIMS(3), d)};
  fr_tensor out3[3];
  ck_assert_int_eq(ft_run(c, in3, out3), FR_OK);
  ck_assert_float_eq_tol(*(float *)out3[1].data, 3.0f / 255, 1e-9f);
  ck_assert_int_eq(*(uint8_t *)out3[2].data, 85);
  ck_assert_int_eq(((uint8_t *)out3[0].data)[0], 0);
  ck_assert_int_eq(((uint8_t *)out3[0].data)[2], 255);
  ft_release(out3, 3);
  ft_free(c);
  /* scale per axis of the wrong length */
  float s2[2] = {1, 1};
  c = ft_new("QuantizeLinear", 13, 2, 1, 0);
  fr_tensor in4[2] = {ft_tensor(FR_F32, 2, FT_DIMS(1, 5), x),
                      ft_tensor(FR_F32, 1, FT_DIMS(2), s2)};
  ck_assert_int_eq(ft_run(c, in4, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(matmulinteger_hand) {
  uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, az[1] = {1}, bz[1] = {5};
  ft_case *c = ft_new("MatMulInteger", 10, 4, 1, 0);
  fr_tensor in[4] = {ft_tensor(FR_U8, 2, FT_DIMS(2, 2), a),
                     ft_tensor(FR_U8, 2, FT_DIMS(2, 2), b),
                     ft_tensor(FR_U8, 0, NULL, az),
                     ft_tensor(FR_U8, 0, NULL, bz)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dtype, FR_I32);
  /* [0 1; 2 3] x [0 1; 2 3] = [2 3; 6 11] */
  const int32_t want[4] = {2, 3, 6, 11};
  for (int i = 0; i < 4; i++) ck_assert_int_eq(((int32_t *)out[0].data)[i], want[i]);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- Einsum, Det, MaxUnpool, LpPool ------------------------------------------- */

START_TEST(einsum_hand) {
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {1, 0, -1};
  fr_tensor out[1];
  ft_case *c = ft_new("Einsum", 12, 2, 1, 1);
  ft_attr_s(c, "equation", "ij,j->i");
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a),
                     ft_tensor(FR_F32, 1, FT_DIMS(3), b)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){-2, -2}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* implicit output: "ji" -> "ij", a transpose */
  c = ft_new("Einsum", 12, 1, 1, 1);
  ft_attr_s(c, "equation", "ji");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].dims[0], 3);
  ft_check_f32(&out[0], 6, (const float[]){1, 4, 2, 5, 3, 6}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* trace with an ellipsis */
  float m[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  c = ft_new("Einsum", 12, 1, 1, 1);
  ft_attr_s(c, "equation", "...ii->...");
  fr_tensor in2[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 2, 2), m)};
  ck_assert_int_eq(ft_run(c, in2, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){5, 13}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* label sizes disagree */
  c = ft_new("Einsum", 12, 2, 1, 1);
  ft_attr_s(c, "equation", "ij,i->j");
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(det_hand) {
  float a[13] = {2, 0, 1, 1, 3, 2, 1, 1, 1, /* det 1 */ 1, 2, 2, 4 /* 0 */};
  fr_tensor out[1];
  ft_case *c = ft_new("Det", 11, 1, 1, 0);
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 3), a)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 0);
  ft_check_f32(&out[0], 1, (const float[]){2 * (3 - 2) - 0 + 1 * (1 - 3)}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Det", 11, 1, 1, 0);
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(maxunpool_lppool_hand) {
  float x[2] = {7, 9};
  int64_t idx[2] = {3, 1};
  fr_tensor out[1];
  ft_case *c = ft_new("MaxUnpool", 11, 2, 1, 2);
  ft_attr_ints(c, "kernel_shape", 1, FT_DIMS(2));
  ft_attr_ints(c, "strides", 1, FT_DIMS(2));
  fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 2), x),
                     ft_tensor(FR_I64, 3, FT_DIMS(1, 1, 2), idx)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0, 9, 0, 7}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* index 4 is outside the 4 outputs: an error, not a write */
  idx[1] = 4;
  c = ft_new("MaxUnpool", 11, 2, 1, 2);
  ft_attr_ints(c, "kernel_shape", 1, FT_DIMS(2));
  ft_attr_ints(c, "strides", 1, FT_DIMS(2));
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
  float l[4] = {3, 4, -6, 8};
  c = ft_new("LpPool", 11, 1, 1, 2);
  ft_attr_ints(c, "kernel_shape", 1, FT_DIMS(2));
  ft_attr_ints(c, "strides", 1, FT_DIMS(2));
  fr_tensor in2[1] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 1, 4), l)};
  ck_assert_int_eq(ft_run(c, in2, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){5, 10}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* 2x2 pooling at stride 2 (its own loop): against the windows written
 * out, max (a NaN skipped, as the general loop does) and average, on
 * planes with a row and a column no window reaches, and depth 2. */
START_TEST(pool_2x2_random) {
  const int64_t P = 3, D = 2, IH = 7, IW = 9, OH = 3, OW = 4;
  float *x = rnd(P * D * IH * IW, 21);
  x[4] = x[5] = x[IW + 1] = NAN; /* taps a, b and e of windows */
  float y[3 * 2 * 3 * 4];
  for (int kind = 0; kind < 2; kind++) {
    fr_k_pool p = {.kind = kind ? FR_K_POOL_AVG : FR_K_POOL_MAX, .planes = P,
                   .in = {D, IH, IW}, .out = {D, OH, OW}, .k = {1, 2, 2},
                   .stride = {1, 2, 2}, .dil = {1, 1, 1}};
    fr_k_pool_f32(&p, x, y);
    for (int64_t q = 0; q < P * D; q++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          const float *w0 = x + (q * IH + 2 * oh) * IW + 2 * ow, *w1 = w0 + IW;
          float t[4] = {w0[0], w0[1], w1[0], w1[1]}, want = kind ? 0.0f : -INFINITY;
          for (int i = 0; i < 4; i++)
            want = kind ? want + t[i] : (t[i] > want ? t[i] : want);
          if (kind) want /= 4.0f;
          float got = y[(q * OH + oh) * OW + ow];
          if (isnan(want)) ck_assert(isnan(got)); /* the average over the NaN */
          else ck_assert_float_eq(got, want);
        }
  }
  free(x);
}
END_TEST

FT_MAIN(nn, conv_hand, conv_random, dwconv3_fast_random, conv_direct_random, conv_scaled_random,
        conv_residual_epilogue_exact, col_add_random, conv_bad_channels, pool_hand,
        pool_ceil_same, pool_bad, gemm_hand, gemm_random, matmul_broadcast,
        convtranspose_hand, convtranspose_random, zip2_random, conv_grad_weight_random, resize_hand, resize_sep_random, gridsample_hand, quantize_hand,
        matmulinteger_hand, einsum_hand, det_hand, maxunpool_lppool_hand, pool_2x2_random)
