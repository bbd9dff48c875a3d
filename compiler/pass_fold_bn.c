/* pass_fold_bn.c: BatchNormalization (inference form) folded into the Conv,
 * ConvTranspose (group 1) or Gemm that produces its input, in the frozen
 * region:
 *   s = scale / sqrt(var + eps)
 *   W'[m, ...] = W[m, ...] * s[m]        (m: the output channel)
 *   b'[m]      = (b[m] - mean[m]) * s[m] + B[m]
 * The linear op then produces the BatchNormalization's output value. */
#include <math.h>
#include <string.h>

#include "compiler.h"

/* Where the output channel of the weight lies: weight index i belongs to
 * channel chan_of(i). */
typedef struct layout {
  int64_t outer, M, inner; /* W viewed as (outer, M, inner) */
} layout;

/* Finds the layout of W's output channels for node p, or false. */
static bool weight_layout(const fr_node *p, const fr_tensor *w, int64_t M,
                          layout *l) {
  int64_t numel = fr_tensor_numel(w);
  switch (p->op) {
  case FR_OP_CONV:
    if (w->dims[0] != M) return false;
    *l = (layout){1, M, numel / M};
    return true;
  case FR_OP_CONV_TRANSPOSE:
    if (fr_attr_int(p, FR_A_GROUP) != 1 || w->rank < 2 || w->dims[1] != M)
      return false;
    *l = (layout){w->dims[0], M, numel / (w->dims[0] * M)};
    return true;
  case FR_OP_GEMM:
    if (w->rank != 2) return false;
    if (fr_attr_int(p, FR_A_TRANS_B)) {
      if (w->dims[0] != M) return false;
      *l = (layout){1, M, w->dims[1]};
    } else {
      if (w->dims[1] != M) return false;
      *l = (layout){w->dims[0], M, 1};
    }
    return true;
  default:
    return false;
  }
}

/* The bias of p as M floats (0 when absent); Gemm's C must be (M) or
 * (1, M); its beta is folded in. */
static bool bias_of(const fr_node *p, int64_t M, float *b) {
  const fr_value *c = fr_node_input(p, 2);
  if (!c) {
    for (int64_t m = 0; m < M; m++) b[m] = 0;
    return true;
  }
  if (!fr_value_frozen_f32(c) || fr_tensor_numel(&c->t) != M) return false;
  if (p->op == FR_OP_GEMM && c->t.rank == 2 && c->t.dims[0] != 1) return false;
  float beta = p->op == FR_OP_GEMM ? fr_attr_float(p, FR_A_BETA) : 1;
  for (int64_t m = 0; m < M; m++) b[m] = beta * ((const float *)c->t.data)[m];
  return true;
}

fr_status fr_pass_fold_bn(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *bn = g->nodes[k];
    if (bn->dead || bn->op != FR_OP_BATCH_NORMALIZATION || bn->trainable ||
        bn->n_out != 1 || bn->n_in != 5)
      continue;
    if (fr_attr_int(bn, FR_A_TRAINING_MODE)) continue;
    fr_value *x = bn->in[0];
    fr_node *p = x ? x->producer : NULL;
    if (!p || p->dead || p->trainable || fr_value_sole_user(g, x) != bn ||
        x->t.rank < 2)
      continue;
    if (p->op == FR_OP_GEMM &&
        (fr_attr_int(p, FR_A_TRANS_A) != 0 || x->t.rank != 2))
      continue;
    bool ok = true;
    for (int i = 1; i < 5; i++) ok = ok && fr_value_frozen_f32(bn->in[i]);
    fr_value *wv = fr_node_input(p, 1);
    ok = ok && fr_value_frozen_f32(wv) && x->t.dtype == FR_F32;
    int64_t M = x->t.dims[1];
    for (int i = 1; ok && i < 5; i++) ok = fr_tensor_numel(&bn->in[i]->t) == M;
    layout l;
    if (!ok || !weight_layout(p, &wv->t, M, &l)) continue;
    float *b = fr_malloc(sizeof(float) * (size_t)M * 2);
    float *w = fr_malloc(fr_tensor_nbytes(&wv->t));
    if (!b || !w) {
      fr_free(b);
      fr_free(w);
      return fr_err(FR_ERR_NOMEM, "out of memory");
    }
    float *s = b + M;
    if (!bias_of(p, M, b)) {
      fr_free(b);
      fr_free(w);
      continue;
    }
    const float *scale = bn->in[1]->t.data, *beta = bn->in[2]->t.data,
                *mean = bn->in[3]->t.data, *var = bn->in[4]->t.data;
    float eps = fr_attr_float(bn, FR_A_EPSILON);
    float alpha = p->op == FR_OP_GEMM ? fr_attr_float(p, FR_A_ALPHA) : 1;
    for (int64_t c = 0; c < M; c++) {
      s[c] = scale[c] / sqrtf(var[c] + eps);
      b[c] = (b[c] - mean[c]) * s[c] + beta[c];
    }
    const float *w0 = wv->t.data;
    for (int64_t a = 0; a < l.outer; a++)
      for (int64_t c = 0; c < M; c++)
        for (int64_t i = 0; i < l.inner; i++) {
          int64_t idx = (a * M + c) * l.inner + i;
          w[idx] = w0[idx] * s[c] * alpha;
        }
    fr_tensor wt = wv->t, bt = {.dtype = FR_F32, .rank = 1, .dims = {M}};
    wt.data = w;
    bt.data = b;
    char name[512];
    snprintf(name, sizeof name, "%.400s.folded", wv->name);
    fr_value *nw = fr_graph_add_init(g, name, &wt);
    snprintf(name, sizeof name, "%.400s.bias", bn->out[0]->name);
    fr_value *nb = fr_graph_add_init(g, name, &bt);
    fr_free(b);
    fr_free(w);
    if (!nw || !nb) return fr_err(FR_ERR_NOMEM, "out of memory");
    /* p now computes the BatchNormalization's output, bias included. */
    p->in[1] = nw;
    p->in[2] = nb;
    if (p->n_in < 3) p->n_in = 3;
    if (p->op == FR_OP_GEMM) {
      for (int i = 0; i < p->n_attr; i++)
        if (!strcmp(p->attrs[i].name, "alpha") || !strcmp(p->attrs[i].name, "beta")) {
          p->attrs[i].type = FR_ATTR_FLOAT;
          p->attrs[i].f = 1;
        }
    }
    fr_value *y = bn->out[0];
    p->out[0] = y;
    y->producer = p;
    x->producer = NULL; /* orphaned */
    fr_node_kill(bn);
    /* The graph order stays topological: p comes before bn's users. */
  }
  fr_graph_compact(g);
  return FR_OK;
}
