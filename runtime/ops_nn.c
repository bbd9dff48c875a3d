/* ops_nn.c: plans and interpreter glue of the neural-network ops: reads
 * attributes, computes geometry and strides; Conv, pooling, Gemm, MatMul,
 * Resize and ConvTranspose are plans of the entries of kernels/gemm.c and
 * kernels/nn.c (with the fused-epilogue plans of Conv, Gemm and MatMul),
 * the others allocate scratch and call the kernels. */
#include <math.h>
#include <string.h>

#include "runtime.h"

static fr_status unsupported_dtype(const fr_node *n, const fr_tensor *t) {
  return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                     fr_dtype_name(t->dtype));
}

/* Spreads nsp spatial values v over 3 (leading dims filled with fill). */
static void to3(int nsp, const int64_t *v, int64_t fill, int64_t *d3) {
  for (int i = 0; i < 3; i++) d3[i] = i < 3 - nsp ? fill : v[i - (3 - nsp)];
}

/* ---- Conv -------------------------------------------------------------- */

/* Fills a kernel conv descriptor from x (N, C, ...), w and the window
 * (Conv: w (M, C/g, ...), ConvTranspose: w (C, M/g, ...)). */
static void conv_desc(const fr_tensor *x, const fr_tensor *w,
                      const fr_nn_geom *g, int64_t M, fr_k_conv *p) {
  int nsp = g->nsp;
  memset(p, 0, sizeof *p);
  p->N = x->dims[0];
  p->C = x->dims[1];
  p->M = M;
  p->group = g->group;
  to3(nsp, x->dims + 2, 1, p->in);
  to3(nsp, g->out, 1, p->out);
  to3(nsp, w->dims + 2, 1, p->k);
  to3(nsp, g->stride, 1, p->stride);
  to3(nsp, g->dil, 1, p->dil);
  to3(nsp, g->pad_b, 0, p->pad);
}

/* The epilogue of a fused plan, checked: the activation, then the node's
 * `post` (Max or Min, absent: none) with the constant `post_c` (frost's
 * fused ops carry them; a plain Conv, Gemm or MatMul has none). */
static fr_status epi_of(const fr_node *n, int act, float a, float b,
                        fr_k_epi *e) {
  if (act < FR_K_EPI_NONE || act >= FR_K_EPI_COUNT)
    return fr_err_node(FR_ERR_INVALID, n, "unknown fused activation %d", act);
  e->act = act;
  e->a = a;
  e->b = b;
  e->post = FR_K_EPI_POST_NONE;
  e->c = 0;
  if (n->op != FR_OP_FUSED_CONV && n->op != FR_OP_FUSED_GEMM &&
      n->op != FR_OP_FUSED_MATMUL)
    return FR_OK;
  e->c = fr_attr_float(n, FR_A_POST_C);
  const char *post = fr_attr_str(n, FR_A_POST);
  if (post && !strcmp(post, "Max")) e->post = FR_K_EPI_POST_MAX;
  else if (post && !strcmp(post, "Min")) e->post = FR_K_EPI_POST_MIN;
  else if (post) return fr_err_node(FR_ERR_INVALID, n, "unknown post op '%s'", post);
  return FR_OK;
}

/* bufs: x, w, bias (or NULL), y, scratch. */
fr_status fr_plan_conv(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *p) {
  (void)out;
  if (in[0]->dtype != FR_F32) return unsupported_dtype(n, in[0]);
  fr_nn_geom g;
  FR_TRY(fr_nn_conv_geom(n, in[0], in[1], &g));
  fr_k_conv d = {0};
  conv_desc(in[0], in[1], &g, in[1]->dims[0], &d);
  p->scratch = fr_k_conv_scratch(&d) * sizeof(float);
  FR_KPLAN(p, fr_ke_conv_f32, d);
  return FR_OK;
}

/* bufs: x, w, bias (or NULL), residual (or NULL), input scale (or NULL),
 * y, scratch. */
fr_status fr_plan_conv_fused(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out, fr_kplan *p, int act,
                             float a, float b) {
  (void)out;
  if (in[0]->dtype != FR_F32) return unsupported_dtype(n, in[0]);
  fr_nn_geom g;
  FR_TRY(fr_nn_conv_geom(n, in[0], in[1], &g));
  fr_k_conv d = {0};
  conv_desc(in[0], in[1], &g, in[1]->dims[0], &d);
  FR_TRY(epi_of(n, act, a, b, &d.epi));
  if (n->n_in > 4 && in[4]) d.xscale = in[4]->dims[0];
  p->scratch = fr_k_conv_scratch(&d) * sizeof(float);
  FR_KPLAN(p, fr_ke_conv_fused_f32, d);
  return FR_OK;
}

/* ---- pooling ----------------------------------------------------------- */

static void pool_desc(const fr_tensor *x, const fr_nn_geom *g,
                      fr_k_pool *p) {
  int nsp = g->nsp;
  memset(p, 0, sizeof *p);
  p->planes = x->dims[0] * x->dims[1];
  to3(nsp, x->dims + 2, 1, p->in);
  to3(nsp, g->out, 1, p->out);
  to3(nsp, g->kernel, 1, p->k);
  to3(nsp, g->stride, 1, p->stride);
  to3(nsp, g->dil, 1, p->dil);
  to3(nsp, g->pad_b, 0, p->pad);
  to3(nsp, g->pad_e, 0, p->pad_end);
}

fr_status fr_plan_pool(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *t = in[0];
  fr_nn_geom g;
  FR_TRY(fr_nn_pool_geom(n, t, &g));
  fr_k_pool_plan p;
  memset(&p, 0, sizeof p);
  pool_desc(t, &g, &p.p);
  p.dtype = t->dtype;
  switch (n->op) {
  case FR_OP_MAX_POOL:
    p.p.kind = FR_K_POOL_MAX;
    if (t->dtype == FR_U8 || t->dtype == FR_I8) break;
    p.with_idx = n->n_out > 1 && out[1];
    p.col_major = g.col_major;
    break;
  case FR_OP_AVERAGE_POOL:
    p.p.kind = FR_K_POOL_AVG;
    p.p.count_include_pad = (int)fr_attr_int(n, FR_A_COUNT_INCLUDE_PAD);
    break;
  case FR_OP_LP_POOL: {
    p.p.kind = FR_K_POOL_LP;
    p.p.p = fr_attr_float(n, FR_A_P); /* an int from opset 2 */
    if (!(p.p.p > 0))
      return fr_err_node(FR_ERR_INVALID, n, "p must be positive");
    break;
  }
  default: return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  }
  if (t->dtype != FR_F32 && (n->op != FR_OP_MAX_POOL ||
                             (t->dtype != FR_U8 && t->dtype != FR_I8)))
    return unsupported_dtype(n, t);
  FR_KPLAN(kp, fr_ke_pool, p);
  return FR_OK;
}

fr_status fr_plan_global_pool(const fr_node *n, fr_tensor *const *in,
                              fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *t = in[0];
  if (t->dtype != FR_F32) return unsupported_dtype(n, t);
  fr_k_global_pool_plan p;
  memset(&p, 0, sizeof p);
  p.planes = t->dims[0] * t->dims[1];
  p.n = 1;
  p.avg = n->op == FR_OP_GLOBAL_AVERAGE_POOL;
  for (int i = 2; i < t->rank; i++) p.n *= t->dims[i];
  FR_KPLAN(kp, fr_ke_global_pool_f32, p);
  return FR_OK;
}

/* ---- Gemm, MatMul ------------------------------------------------------- */

static fr_status gemm_desc(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out, fr_k_gemm_plan *p) {
  const fr_tensor *a = in[0], *c = n->n_in > 2 ? in[2] : NULL;
  if (a->dtype != FR_F32) return unsupported_dtype(n, a);
  fr_gemm_attrs ga = fr_gemm_attrs_of(n);
  bool ta = ga.trans_a, tb = ga.trans_b;
  memset(p, 0, sizeof *p);
  p->M = out[0]->dims[0];
  p->N = out[0]->dims[1];
  p->K = a->dims[ta ? 0 : 1];
  p->rsa = ta ? 1 : p->K;
  p->csa = ta ? p->M : 1;
  p->rsb = tb ? 1 : p->N;
  p->csb = tb ? p->K : 1;
  p->alpha = ga.alpha;
  p->beta = ga.beta;
  if (!c || p->beta == 0) return FR_OK;
  p->cm = c->rank == 2 ? c->dims[0] : 1;
  p->cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
  /* C as a bias vector where it is one, else filled into Y */
  if (p->beta == 1 && p->cm == 1 && p->cn == p->N) p->c_mode = FR_K_GEMM_C_COL;
  else if (p->beta == 1 && p->cn == 1 && p->cm == p->M && c->rank == 2)
    p->c_mode = FR_K_GEMM_C_ROW;
  else p->c_mode = FR_K_GEMM_C_FILL;
  return FR_OK;
}

/* bufs: A, B, C (or NULL), Y, scratch. */
fr_status fr_plan_gemm(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *kp) {
  fr_k_gemm_plan p = {0};
  FR_TRY(gemm_desc(n, in, out, &p));
  kp->scratch = fr_k_sgemm_scratch(p.M, p.N, p.K) * sizeof(float);
  FR_KPLAN(kp, fr_ke_gemm_f32, p);
  return FR_OK;
}

/* bufs: A, B, C (or NULL), residual (or NULL), Y, scratch. */
fr_status fr_plan_gemm_fused(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out, fr_kplan *kp, int act,
                             float a, float b) {
  fr_k_gemm_plan p = {0};
  FR_TRY(gemm_desc(n, in, out, &p));
  FR_TRY(epi_of(n, act, a, b, &p.epi));
  kp->scratch = fr_k_sgemm_scratch(p.M, p.N, p.K) * sizeof(float);
  FR_KPLAN(kp, fr_ke_gemm_fused_f32, p);
  return FR_OK;
}

/* The batches of a numpy matmul of a and b into y. */
static void mm_plan_init(const fr_tensor *a, const fr_tensor *b,
                         const fr_tensor *y, fr_k_matmul_plan *p) {
  memset(p, 0, sizeof *p);
  p->K = a->dims[a->rank - 1];
  p->M = a->rank > 1 ? a->dims[a->rank - 2] : 1;
  p->N = b->rank > 1 ? b->dims[b->rank - 1] : 1;
  int ra = a->rank > 2 ? a->rank - 2 : 0, rb = b->rank > 2 ? b->rank - 2 : 0;
  int r = y->rank - (a->rank > 1) - (b->rank > 1);
  p->brank = r;
  p->batches = 1;
  int64_t stra = p->M * p->K, strb = p->K * p->N;
  for (int i = r - 1; i >= 0; i--) {
    p->bdims[i] = y->dims[i];
    p->batches *= y->dims[i];
    int ia = i - (r - ra), ib = i - (r - rb);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    p->sa[i] = da == 1 ? 0 : stra;
    p->sb[i] = db == 1 ? 0 : strb;
    stra *= da;
    strb *= db;
  }
  /* B shared by all batches and A not broadcast: one tall GEMM. */
  bool b_shared = true, a_full = true;
  for (int i = 0; i < r; i++) {
    if (p->sb[i]) b_shared = false;
    if (!p->sa[i]) a_full = false;
  }
  if (b_shared && a_full && p->batches > 1) {
    p->fold = 1;
    p->M *= p->batches;
    p->batches = 1;
  }
}

/* bufs: A, B, Y, scratch. */
fr_status fr_plan_matmul(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  if (in[0]->dtype != FR_F32) return unsupported_dtype(n, in[0]);
  fr_k_matmul_plan p = {0};
  mm_plan_init(in[0], in[1], out[0], &p);
  kp->scratch = fr_k_sgemm_scratch(p.M, p.N, p.K) * sizeof(float);
  FR_KPLAN(kp, fr_ke_matmul_f32, p);
  return FR_OK;
}

/* bufs: A, B, bias ((N) or NULL), residual (or NULL), Y, scratch. */
fr_status fr_plan_matmul_fused(const fr_node *n, fr_tensor *const *in,
                               fr_tensor *const *out, fr_kplan *kp, int act,
                               float a, float b) {
  if (in[0]->dtype != FR_F32) return unsupported_dtype(n, in[0]);
  fr_k_matmul_plan p = {0};
  mm_plan_init(in[0], in[1], out[0], &p);
  FR_TRY(epi_of(n, act, a, b, &p.epi));
  kp->scratch = fr_k_sgemm_scratch(p.M, p.N, p.K) * sizeof(float);
  FR_KPLAN(kp, fr_ke_matmul_fused_f32, p);
  return FR_OK;
}

/* ---- Resize, Upsample ----------------------------------------------------- */

/* The index of s in names (n of them), or -1. */
static int pick(const char *s, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (!strcmp(s, names[i])) return i;
  return -1;
}

fr_status fr_plan_resize(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *t = in[0];
  if (t->dtype != FR_F32) return unsupported_dtype(n, t);
  int r = t->rank;
  int64_t dims[FR_MAX_RANK];
  double scales[FR_MAX_RANK], roi[2 * FR_MAX_RANK];
  FR_TRY(fr_nn_resize_shape(n, in, dims, scales, roi));
  static const char *const modes[] = {"nearest", "linear", "cubic"};
  static const char *const coords[] = {
      "half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel",
      "tf_half_pixel_for_nn", "tf_crop_and_resize", "half_pixel_symmetric"};
  static const char *const nearests[] = {"round_prefer_floor",
                                         "round_prefer_ceil", "floor", "ceil"};
  const char *ms = fr_attr_str(n, FR_A_MODE);
  int mode = pick(ms, modes, 3);
  if (!strcmp(ms, "bilinear")) mode = FR_K_RESIZE_LINEAR; /* Upsample-7 */
  if (mode < 0) return fr_err_node(FR_ERR_INVALID, n, "unknown mode '%s'", ms);
  bool old = n->op == FR_OP_UPSAMPLE || n->opset < 11;
  int coord = FR_K_COORD_ASYMMETRIC, nearest = FR_K_NEAREST_SIMPLE;
  if (!old) {
    const char *cs = fr_attr_str(n, FR_A_COORDINATE_TRANSFORMATION_MODE);
    const char *ns = fr_attr_str(n, FR_A_NEAREST_MODE);
    coord = pick(cs, coords, 7);
    nearest = pick(ns, nearests, 4);
    if (coord < 0 || nearest < 0)
      return fr_err_node(FR_ERR_INVALID, n, "unknown mode '%s' / '%s'", cs,
                         ns);
  }
  if (mode == FR_K_RESIZE_CUBIC && old)
    return fr_err_node(FR_ERR_INVALID, n, "cubic needs opset 11");
  fr_k_resize_plan p;
  memset(&p, 0, sizeof p);
  p.rank = r;
  p.ntap = mode == FR_K_RESIZE_CUBIC ? 4 : 2;
  p.y = fr_kplan_in_slots(n);
  p.run = fr_tensor_numel(t) > 0 || fr_tensor_numel(out[0]) == 0;
  /* Upsample has none of these: the defaults of Resize */
  bool resize = n->op == FR_OP_RESIZE;
  p.extrapolation = resize ? fr_attr_float(n, FR_A_EXTRAPOLATION_VALUE) : 0;
  int exclude = resize ? (int)fr_attr_int(n, FR_A_EXCLUDE_OUTSIDE) : 0;
  float cubic_a = resize ? fr_attr_float(n, FR_A_CUBIC_COEFF_A) : -0.75f;
  int64_t total = 0;
  for (int d = 0; d < r; d++) {
    fr_k_resize_dim rd = {mode, coord, nearest, exclude, t->dims[d], dims[d],
                          scales[d], roi[d], roi[d + r], cubic_a};
    p.d[d] = rd;
    total += dims[d] * p.ntap;
  }
  kp->scratch = (sizeof(int64_t) + sizeof(float)) * (size_t)(total + 1) +
                sizeof(float) * (size_t)(2 * (r > 0 ? dims[r - 1] : 1));
  FR_KPLAN(kp, fr_ke_resize_f32, p);
  return FR_OK;
}

/* ---- ConvTranspose ---------------------------------------------------------- */

fr_status fr_plan_convtranspose(const fr_node *n, fr_tensor *const *in,
                                fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *t = in[0], *w = in[1];
  if (t->dtype != FR_F32) return unsupported_dtype(n, t);
  fr_nn_geom g;
  FR_TRY(fr_nn_convt_geom(n, t, w, &g));
  fr_k_conv p;
  conv_desc(t, w, &g, w->dims[1] * g.group, &p);
  kp->scratch = (fr_k_convtranspose_scratch(&p) + 1) * sizeof(float);
  FR_KPLAN(kp, fr_ke_convtranspose_f32, p);
  return FR_OK;
}

/* ---- GridSample ------------------------------------------------------------- */

fr_status fr_exec_gridsample(fr_exec *x, const fr_node *n,
                             fr_tensor *const *in, fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0], *g = in[1];
  if (t->dtype != FR_F32 || g->dtype != FR_F32)
    return unsupported_dtype(n, t->dtype != FR_F32 ? t : g);
  static const char *const modes[] = {"nearest", "bilinear", "bicubic"};
  static const char *const pads[] = {"zeros", "border", "reflection"};
  const char *ms = fr_attr_str(n, FR_A_MODE);
  const char *ps = fr_attr_str(n, FR_A_PADDING_MODE);
  int mode = pick(ms, modes, 3), pad = pick(ps, pads, 3);
  if (mode < 0 || pad < 0)
    return fr_err_node(FR_ERR_INVALID, n, "unknown mode '%s' / '%s'", ms, ps);
  fr_k_gridsample p = {mode, pad, (int)fr_attr_int(n, FR_A_ALIGN_CORNERS),
                       t->dims[0], t->dims[1], t->dims[2], t->dims[3],
                       g->dims[1], g->dims[2]};
  fr_k_gridsample_f32(&p, t->data, g->data, out[0]->data);
  return FR_OK;
}

/* ---- quantization -------------------------------------------------------- */

static int ktype(fr_dtype t) {
  return t == FR_U8 ? FR_K_U8 : t == FR_I8 ? FR_K_I8 : FR_K_I32;
}

/* Layout (outer, axis_n, inner) of x for per-axis parameters, and those
 * parameters as float scales (s may be NULL) and int32 zero points. */
typedef struct qparams {
  int64_t outer, axis_n, inner;
  float *s;
  int32_t *z;
} qparams;

static void qparams_free(qparams *q) {
  fr_free(q->s);
  fr_free(q->z);
  q->s = NULL;
  q->z = NULL;
}

/* count: the number of parameters (1: per tensor); axis: the axis they
 * run along otherwise. */
static fr_status qparams_init(const fr_node *n, const fr_tensor *x,
                              int64_t count, int axis, const fr_tensor *s,
                              const fr_tensor *z, qparams *q) {
  memset(q, 0, sizeof *q);
  q->outer = 1;
  q->axis_n = 1;
  q->inner = fr_tensor_numel(x);
  if (count > 1) {
    if (axis < 0 || axis >= x->rank || x->dims[axis] != count)
      return fr_err_node(FR_ERR_SHAPE, n, "%lld quantization parameters "
                         "do not fit", (long long)count);
    q->axis_n = count;
    q->inner = 1;
    for (int i = 0; i < x->rank; i++) {
      if (i < axis) q->outer *= x->dims[i];
      if (i > axis) q->inner *= x->dims[i];
    }
  }
  q->s = fr_malloc(sizeof(float) * (size_t)count);
  q->z = fr_malloc(sizeof(int32_t) * (size_t)count);
  if (!q->s || !q->z) {
    qparams_free(q);
    return fr_err_nomem(n);
  }
  for (int64_t i = 0; i < count; i++) {
    q->s[i] = s ? (float)fr_tensor_get_f64(s, s && fr_tensor_numel(s) == 1 ? 0 : i) : 1.0f;
    q->z[i] = z ? (int32_t)fr_tensor_get_i64(z, fr_tensor_numel(z) == 1 ? 0 : i) : 0;
  }
  return FR_OK;
}

static int quant_axis(const fr_node *n, const fr_tensor *x) {
  int ax = 0;
  if (fr_attr_axis(n, x->rank, &ax) != FR_OK) return -1;
  return ax;
}

fr_status fr_exec_quantize(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0], *s = in[1], *z = n->n_in > 2 ? in[2] : NULL;
  qparams q;
  FR_TRY(qparams_init(n, t, fr_tensor_numel(s), quant_axis(n, t), s, z, &q));
  if (n->op == FR_OP_QUANTIZE_LINEAR) {
    const float *xf = t->data;
    float *tmp = NULL;
    if (t->dtype == FR_I32) { /* int32 input: through float */
      int64_t ne = fr_tensor_numel(t);
      tmp = fr_malloc(sizeof(float) * (size_t)(ne + 1));
      if (!tmp) {
        qparams_free(&q);
        return fr_err_nomem(n);
      }
      for (int64_t i = 0; i < ne; i++) tmp[i] = (float)((const int32_t *)t->data)[i];
      xf = tmp;
    }
    fr_k_quantize_f32(q.outer, q.axis_n, q.inner, xf, q.s, q.z, out[0]->data,
                      ktype(out[0]->dtype));
    fr_free(tmp);
  } else {
    fr_k_dequantize_f32(q.outer, q.axis_n, q.inner, t->data, ktype(t->dtype),
                        q.s, q.z, out[0]->data);
  }
  qparams_free(&q);
  return FR_OK;
}

fr_status fr_exec_dynamic_quantize(fr_exec *x, const fr_node *n,
                                   fr_tensor *const *in,
                                   fr_tensor *const *out) {
  (void)x;
  float scale;
  uint8_t zp;
  fr_k_dynamic_quantize_f32(fr_tensor_numel(in[0]), in[0]->data, out[0]->data,
                            &scale, &zp);
  if (out[1]) *(float *)out[1]->data = scale;
  if (out[2]) *(uint8_t *)out[2]->data = zp;
  (void)n;
  return FR_OK;
}

/* x - zp as a new int32 array; zp per tensor, or per entry of axis. */
static fr_status widen(const fr_node *n, const fr_tensor *t,
                       const fr_tensor *zp, int axis, int32_t **y) {
  qparams q;
  int64_t cnt = zp ? fr_tensor_numel(zp) : 1;
  FR_TRY(qparams_init(n, t, cnt, axis, NULL, zp, &q));
  int64_t ne = fr_tensor_numel(t);
  *y = fr_malloc(sizeof(int32_t) * (size_t)(ne + 1));
  if (!*y) {
    qparams_free(&q);
    return fr_err_nomem(n);
  }
  fr_k_widen_i32(q.outer, q.axis_n, q.inner, t->data, ktype(t->dtype), q.z, *y);
  qparams_free(&q);
  return FR_OK;
}

/* MatMulInteger and QLinearMatMul. */
fr_status fr_exec_matmul_q(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  bool ql = n->op == FR_OP_QLINEAR_MATMUL;
  const fr_tensor *a = in[0], *b = in[ql ? 3 : 1];
  const fr_tensor *az = ql ? in[2] : n->n_in > 2 ? in[2] : NULL;
  const fr_tensor *bz = ql ? in[5] : n->n_in > 3 ? in[3] : NULL;
  /* a's zero point per row, b's per column, or one each */
  int32_t *ai = NULL, *bi = NULL, *acc = NULL;
  fr_status st = widen(n, a, az, a->rank >= 2 ? a->rank - 2 : 0, &ai);
  if (st == FR_OK) st = widen(n, b, bz, b->rank - 1, &bi);
  fr_k_matmul_plan p = {0};
  mm_plan_init(a, b, out[0], &p);
  int64_t ny = fr_tensor_numel(out[0]);
  if (st == FR_OK && ql) {
    acc = fr_malloc(sizeof(int32_t) * (size_t)(ny + 1));
    if (!acc) st = fr_err_nomem(n);
  }
  if (st == FR_OK && ql &&
      (fr_tensor_numel(in[1]) != 1 || fr_tensor_numel(in[4]) != 1 ||
       fr_tensor_numel(in[6]) != 1 || fr_tensor_numel(in[7]) != 1))
    st = fr_err_node(FR_ERR_UNSUPPORTED, n, "per-axis scales");
  if (st == FR_OK) {
    int32_t *y = ql ? acc : out[0]->data;
    for (int64_t t = 0; t < p.batches; t++) {
      int64_t oa, ob;
      fr_k_matmul_offsets(&p, t, &oa, &ob);
      fr_k_matmul_i32(p.M, p.N, p.K, ai + oa, bi + ob, y + t * p.M * p.N);
    }
    if (ql) {
      float mult = (float)(fr_tensor_get_f64(in[1], 0) *
                           fr_tensor_get_f64(in[4], 0)) /
                   (float)fr_tensor_get_f64(in[6], 0);
      int32_t yz = (int32_t)fr_tensor_get_i64(in[7], 0);
      fr_k_requantize_i32(1, 1, ny, acc, &mult, &yz, out[0]->data,
                          ktype(out[0]->dtype));
    }
  }
  fr_free(ai);
  fr_free(bi);
  fr_free(acc);
  return st;
}

/* ConvInteger and QLinearConv. */
fr_status fr_exec_conv_q(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)x;
  bool ql = n->op == FR_OP_QLINEAR_CONV;
  const fr_tensor *t = in[0], *w = in[ql ? 3 : 1];
  const fr_tensor *xz = ql ? in[2] : n->n_in > 2 ? in[2] : NULL;
  const fr_tensor *wz = ql ? in[5] : n->n_in > 3 ? in[3] : NULL;
  const fr_tensor *b = ql && n->n_in > 8 ? in[8] : NULL;
  fr_nn_geom g;
  FR_TRY(fr_nn_conv_geom(n, t, w, &g));
  fr_k_conv p = {0};
  conv_desc(t, w, &g, w->dims[0], &p);
  if (xz && fr_tensor_numel(xz) != 1)
    return fr_err_node(FR_ERR_INVALID, n, "x zero point must be a scalar");
  int32_t *xi = NULL, *wi = NULL, *acc = NULL;
  fr_status st = widen(n, t, xz, 1, &xi);
  if (st == FR_OK) st = widen(n, w, wz, 0, &wi);
  int64_t ny = fr_tensor_numel(out[0]);
  if (st == FR_OK && ql) {
    acc = fr_malloc(sizeof(int32_t) * (size_t)(ny + 1));
    if (!acc) st = fr_err_nomem(n);
  }
  if (st == FR_OK) {
    fr_k_conv_i32(&p, xi, wi, b ? b->data : NULL, ql ? acc : out[0]->data);
    if (ql) {
      /* x_scale * w_scale[m] / y_scale per output channel */
      qparams q;
      st = qparams_init(n, out[0], fr_tensor_numel(in[4]), 1, in[4], NULL, &q);
      if (st == FR_OK) {
        float xs = (float)fr_tensor_get_f64(in[1], 0);
        float ys = (float)fr_tensor_get_f64(in[6], 0);
        for (int64_t i = 0; i < q.axis_n; i++) q.s[i] = xs * q.s[i] / ys;
        int32_t yz = (int32_t)fr_tensor_get_i64(in[7], 0);
        fr_k_requantize_i32(q.outer, q.axis_n, q.inner, acc, q.s, &yz,
                            out[0]->data, ktype(out[0]->dtype));
        qparams_free(&q);
      }
    }
  }
  fr_free(xi);
  fr_free(wi);
  fr_free(acc);
  return st;
}

/* ---- Einsum, Det, MaxUnpool, RoiAlign --------------------------------------- */

fr_status fr_exec_einsum(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)x;
  if (in[0]->dtype != FR_F32 && in[0]->dtype != FR_F64)
    return unsupported_dtype(n, in[0]);
  fr_k_einsum e = {.n_in = n->n_in};
  int yr;
  int64_t yd[FR_MAX_RANK];
  FR_TRY(fr_nn_einsum_plan(n, in, &e.n_labels, e.size, e.stride, e.ystride,
                           &yr, yd));
  /* An empty output: nothing to compute (the kernel sizes the output from
   * its strides, which a zero dimension makes wrong). */
  if (fr_tensor_numel(out[0]) == 0) return FR_OK;
  if (in[0]->dtype == FR_F64) {
    const double *xs[FR_K_EINSUM_MAX_IN];
    for (int k = 0; k < n->n_in; k++) xs[k] = in[k]->data;
    fr_k_einsum_f64(&e, xs, out[0]->data);
  } else {
    const float *xs[FR_K_EINSUM_MAX_IN];
    for (int k = 0; k < n->n_in; k++) xs[k] = in[k]->data;
    fr_k_einsum_f32(&e, xs, out[0]->data);
  }
  return FR_OK;
}

fr_status fr_exec_det(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0];
  if (t->dtype != FR_F32) return unsupported_dtype(n, t);
  int64_t M = t->dims[t->rank - 1];
  double *lu = fr_malloc(sizeof(double) * (size_t)(M * M + 1));
  if (!lu) return fr_err_nomem(n);
  fr_k_det_f32(fr_tensor_numel(out[0]), M, t->data, out[0]->data, lu);
  fr_free(lu);
  return FR_OK;
}

fr_status fr_exec_maxunpool(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0];
  if (t->dtype != FR_F32) return unsupported_dtype(n, t);
  int nsp = t->rank - 2;
  int64_t dflt[FR_MAX_RANK];
  FR_TRY(fr_nn_maxunpool_dims(n, t, dflt));
  int64_t bad = fr_k_maxunpool_f32(fr_tensor_numel(t), t->data, in[1]->data,
                                   nsp, dflt, out[0]->dims + 2,
                                   t->dims[0] * t->dims[1], out[0]->data);
  if (bad)
    return fr_err_node(FR_ERR_INVALID, n, "%lld indices out of range",
                       (long long)bad);
  return FR_OK;
}

fr_status fr_exec_roialign(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0], *r = in[1], *b = in[2];
  if (t->dtype != FR_F32) return unsupported_dtype(n, t);
  int64_t R = r->dims[0];
  int64_t *bi = fr_malloc(sizeof(int64_t) * (size_t)(R + 1));
  if (!bi) return fr_err_nomem(n);
  for (int64_t i = 0; i < R; i++) {
    bi[i] = fr_tensor_get_i64(b, i);
    if (bi[i] < 0 || bi[i] >= t->dims[0]) {
      fr_free(bi);
      return fr_err_node(FR_ERR_INVALID, n, "batch index %lld out of range",
                         (long long)bi[i]);
    }
  }
  const char *mode = fr_attr_str(n, FR_A_MODE);
  const char *ctm = fr_attr_str(n, FR_A_COORDINATE_TRANSFORMATION_MODE);
  fr_k_roialign p = {t->dims[1], t->dims[2], t->dims[3], R,
                     out[0]->dims[2], out[0]->dims[3],
                     fr_attr_int(n, FR_A_SAMPLING_RATIO),
                     fr_attr_float(n, FR_A_SPATIAL_SCALE),
                     !strcmp(ctm, "half_pixel"), !strcmp(mode, "max")};
  if ((strcmp(mode, "avg") && strcmp(mode, "max")) ||
      (strcmp(ctm, "half_pixel") && strcmp(ctm, "output_half_pixel"))) {
    fr_free(bi);
    return fr_err_node(FR_ERR_INVALID, n, "unknown mode '%s' / '%s'", mode,
                       ctm);
  }
  fr_k_roialign_f32(&p, t->data, r->data, bi, out[0]->data);
  fr_free(bi);
  return FR_OK;
}
