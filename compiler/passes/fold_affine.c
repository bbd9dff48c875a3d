/* fold_affine.c: y = linear(x) followed by a Mul, Div, Add or Sub with a
 * frozen constant that is per output channel (or a single value) is folded
 * into the linear op's weights and bias:
 *   Mul c:  W'[m] = W[m] * c[m], b'[m] = b[m] * c[m]     (Div: / c[m])
 *   Add c:  b'[m] = b[m] + c[m]                          (Sub: - c[m])
 * Linear ops: the affine ops (FR_OPF_AFFINE: Conv, ConvTranspose with one
 * group, Gemm with transA = 0; ir/edit.c fr_affine_*). Algebraically exact;
 * results move by float rounding only. */
#include <string.h>

#include "passes.h"

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
    /* The output shape must not change by the broadcast. */
    if (x->t.rank < 2 || e->out[0]->t.rank != x->t.rank ||
        memcmp(e->out[0]->t.dims, x->t.dims, sizeof(int64_t) * (size_t)x->t.rank))
      continue;
    int64_t cs = channel_stride(&cv->t, &x->t);
    if (cs < 0) continue;
    int64_t M = x->t.dims[1];
    fr_affine l;
    if (!fr_affine_layout(p, M, &l)) continue;
    bool scales = e->op == FR_OP_MUL || e->op == FR_OP_DIV;
    const fr_tensor *w0t = &p->in[1]->t;
    int64_t numel = fr_tensor_numel(w0t);
    float *b = fr_malloc(sizeof(float) * (size_t)M * 2), *s = b ? b + M : NULL;
    float *w = scales ? fr_malloc(sizeof(float) * (size_t)numel) : NULL;
    if (!b || (scales && !w)) {
      fr_free(b);
      fr_free(w);
      return fr_err_nomem(e);
    }
    if (!fr_affine_bias(p, M, b)) {
      fr_free(b);
      fr_free(w);
      continue;
    }
    const float *c = cv->t.data;
    for (int64_t j = 0; j < M; j++) {
      float cj = s[j] = c[j * cs];
      switch (e->op) {
      case FR_OP_MUL: b[j] *= cj; break;
      case FR_OP_DIV: b[j] /= cj; break;
      case FR_OP_ADD: b[j] += cj; break;
      default: b[j] -= cj; break;
      }
    }
    /* a scaled weight takes Gemm's alpha in */
    float alpha = scales && p->op == FR_OP_GEMM ? fr_gemm_attrs_of(p).alpha : 1;
    if (scales) fr_affine_scale(&l, w0t->data, alpha, s, e->op == FR_OP_DIV, w);
    fr_status st = fr_affine_install(g, p, w, "scaled", b, e);
    fr_free(b);
    fr_free(w);
    FR_TRY(st);
  }
  fr_graph_compact(g);
  return FR_OK;
}
