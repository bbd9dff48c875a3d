/* pass_fold_affine.c: y = linear(x) followed by a Mul, Div, Add or Sub with a
 * frozen constant that is per output channel (or a single value) is folded
 * into the linear op's weights and bias:
 *   Mul c:  W'[m] = W[m] * c[m], b'[m] = b[m] * c[m]     (Div: / c[m])
 *   Add c:  b'[m] = b[m] + c[m]                          (Sub: - c[m])
 * Linear ops: Conv, and Gemm (transA = 0). Algebraically exact; results move
 * by float rounding only. */
#include <string.h>

#include "compiler.h"

/* c (rank <= y's) broadcasts along y's axis 1 only: returns the stride of
 * c's elements per channel (0: one value for all), or -1. */
static int64_t channel_stride(const fr_tensor *c, const fr_tensor *y) {
  int64_t n = fr_tensor_numel(c);
  if (n == 1) return c->rank <= y->rank ? 0 : -1;
  if (c->rank > y->rank || y->rank < 2) return -1;
  for (int i = 0; i < c->rank; i++) {
    int yi = i + (y->rank - c->rank);
    int64_t want = yi == 1 ? y->dims[1] : 1;
    if (c->dims[i] != want) return -1;
  }
  return n == y->dims[1] ? 1 : -1;
}

fr_status fr_pass_fold_affine(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *e = g->nodes[k];
    if (e->dead || e->trainable || e->n_in != 2 || !e->out[0]) continue;
    if (e->op != FR_OP_MUL && e->op != FR_OP_DIV && e->op != FR_OP_ADD &&
        e->op != FR_OP_SUB)
      continue;
    bool commutes = e->op == FR_OP_MUL || e->op == FR_OP_ADD;
    int ci = fr_value_frozen_f32(e->in[1]) ? 1
             : commutes && fr_value_frozen_f32(e->in[0]) ? 0 : -1;
    if (ci < 0) continue;
    fr_value *x = e->in[1 - ci], *cv = e->in[ci];
    fr_node *p = x->producer;
    if (!p || p->dead || p->trainable || fr_value_sole_user(g, x) != e) continue;
    if (p->op != FR_OP_CONV && p->op != FR_OP_GEMM) continue;
    if (p->op == FR_OP_GEMM &&
        (fr_attr_int(p, FR_A_TRANS_A) || x->t.rank != 2))
      continue;
    fr_value *wv = fr_node_input(p, 1), *bv = fr_node_input(p, 2);
    if (!fr_value_frozen_f32(wv) || (bv && !fr_value_frozen_f32(bv))) continue;
    /* The output shape must not change by the broadcast. */
    if (e->out[0]->t.rank != x->t.rank ||
        memcmp(e->out[0]->t.dims, x->t.dims, sizeof(int64_t) * (size_t)x->t.rank))
      continue;
    int64_t cs = channel_stride(&cv->t, &x->t);
    if (cs < 0) continue;
    int64_t M = x->t.dims[1];
    bool transB = p->op == FR_OP_GEMM && fr_attr_int(p, FR_A_TRANS_B);
    /* W as (outer, M, inner). */
    int64_t numel = fr_tensor_numel(&wv->t), outer = 1, inner = numel / M;
    if (p->op == FR_OP_GEMM && !transB) outer = wv->t.dims[0], inner = 1;
    if (bv && fr_tensor_numel(&bv->t) != M) continue;
    if (p->op == FR_OP_GEMM && bv && bv->t.rank == 2 && bv->t.dims[0] != 1) continue;
    float beta = p->op == FR_OP_GEMM ? fr_attr_float(p, FR_A_BETA) : 1;
    float *b = fr_malloc(sizeof(float) * (size_t)M);
    float *w = fr_malloc(sizeof(float) * (size_t)numel);
    if (!b || !w) {
      fr_free(b);
      fr_free(w);
      return fr_err(FR_ERR_NOMEM, "out of memory");
    }
    const float *c = cv->t.data, *w0 = wv->t.data;
    for (int64_t j = 0; j < M; j++)
      b[j] = bv ? beta * ((const float *)bv->t.data)[j] : 0;
    memcpy(w, w0, sizeof(float) * (size_t)numel);
    for (int64_t j = 0; j < M; j++) {
      float cj = c[j * cs];
      switch (e->op) {
      case FR_OP_MUL: b[j] *= cj; break;
      case FR_OP_DIV: b[j] /= cj; break;
      case FR_OP_ADD: b[j] += cj; break;
      default: b[j] -= cj; break;
      }
      if (e->op != FR_OP_MUL && e->op != FR_OP_DIV) continue;
      for (int64_t a = 0; a < outer; a++)
        for (int64_t i = 0; i < inner; i++) {
          int64_t idx = (a * M + j) * inner + i;
          w[idx] = e->op == FR_OP_MUL ? w0[idx] * cj : w0[idx] / cj;
        }
    }
    fr_tensor wt = wv->t, bt = {.dtype = FR_F32, .rank = 1, .dims = {M}};
    wt.data = w;
    bt.data = b;
    char name[512];
    snprintf(name, sizeof name, "%.400s.scaled", wv->name);
    fr_value *nw = e->op == FR_OP_MUL || e->op == FR_OP_DIV
                       ? fr_graph_add_init(g, name, &wt)
                       : wv;
    snprintf(name, sizeof name, "%.400s.bias", e->out[0]->name);
    fr_value *nb = fr_graph_add_init(g, name, &bt);
    fr_free(b);
    fr_free(w);
    if (!nw || !nb) return fr_err(FR_ERR_NOMEM, "out of memory");
    p->in[1] = nw;
    p->in[2] = nb;
    if (p->n_in < 3) p->n_in = 3;
    for (int i = 0; p->op == FR_OP_GEMM && i < p->n_attr; i++)
      if (!strcmp(p->attrs[i].name, "beta")) {
        p->attrs[i].type = FR_ATTR_FLOAT;
        p->attrs[i].f = 1;
      }
    fr_value *y = e->out[0];
    p->out[0] = y;
    y->producer = p;
    x->producer = NULL;
    fr_node_kill(e);
  }
  fr_graph_compact(g);
  return FR_OK;
}
