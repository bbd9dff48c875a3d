/* edit.c: graph surgery used by the passes - use counts, replacing uses,
 * removing nodes, adding and pruning initializers, the test for frozen
 * weights, and folding per-channel constants into affine ops. */
#include <string.h>

#include "ir.h"

/* Uses of v in g: operands of live nodes, uses inside their subgraphs
 * (counted in *nested), graph outputs. *user: the last node using it. */
static int uses_in(const fr_graph *g, const fr_value *v, fr_node **user,
                   int *nested) {
  int count = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->dead) continue;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] == v) {
        count++;
        *user = n;
      }
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      fr_node *ignored;
      int sub = 0;
      if (a->type == FR_ATTR_GRAPH) sub += uses_in(a->g, v, &ignored, nested);
      for (int j = 0; a->type == FR_ATTR_GRAPHS && j < a->n; j++)
        sub += uses_in(a->graphs[j], v, &ignored, nested);
      count += sub;
      *nested += sub;
    }
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == v) {
      count++;
      (*nested)++; /* an output is not a node's use */
    }
  return count;
}

int fr_value_uses(const fr_graph *g, const fr_value *v) {
  fr_node *user = NULL;
  int nested = 0;
  return uses_in(g, v, &user, &nested);
}

fr_node *fr_value_sole_user(const fr_graph *g, const fr_value *v) {
  fr_node *user = NULL;
  int nested = 0;
  int n = uses_in(g, v, &user, &nested);
  return n == 1 && nested == 0 ? user : NULL;
}

void fr_graph_replace_uses(fr_graph *g, fr_value *old, fr_value *new_) {
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] == old) n->in[i] = new_;
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      if (a->type == FR_ATTR_GRAPH) fr_graph_replace_uses(a->g, old, new_);
      for (int j = 0; a->type == FR_ATTR_GRAPHS && j < a->n; j++)
        fr_graph_replace_uses(a->graphs[j], old, new_);
    }
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i] == old) {
      /* The graph's output keeps its name: the replacement takes over the
       * role (and the name) unless it is an input or already an output. */
      g->outputs[i] = new_;
      new_->flags |= FR_V_OUTPUT;
    }
}

void fr_node_kill(fr_node *n) { n->dead = true; }

void fr_graph_compact(fr_graph *g) {
  int k = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    fr_node *n = g->nodes[i];
    if (n->dead) continue;
    n->index = k;
    g->nodes[k++] = n;
  }
  g->n_nodes = k;
}

static bool name_taken(const fr_graph *g, const char *name) {
  return fr_graph_find(g, name) != NULL;
}

fr_value *fr_graph_add_init(fr_graph *g, const char *name,
                            const fr_tensor *t) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", name);
  for (int i = 1; name_taken(g, buf) && i < 1000000; i++)
    snprintf(buf, sizeof buf, "%.480s.%d", name, i);
  fr_value *v = fr_value_new(g, buf);
  if (!v) return NULL;
  if (fr_value_make_const(g, v, t) != FR_OK) return NULL;
  return v;
}

fr_status fr_value_make_const(fr_graph *g, fr_value *v, const fr_tensor *t) {
  fr_arena *a = &g->model->arena;
  size_t nb = fr_tensor_nbytes(t);
  void *d = fr_arena_alloc(a, nb ? nb : 1);
  fr_value **inits = fr_arena_alloc(a, sizeof(fr_value *) * (size_t)(g->n_inits + 1));
  if (!d || !inits) return fr_err_nomem(NULL);
  if (nb) memcpy(d, t->data, nb);
  v->t = *t;
  v->t.data = d;
  v->flags |= FR_V_CONST;
  v->producer = NULL;
  if (g->n_inits) memcpy(inits, g->inits, sizeof(fr_value *) * (size_t)g->n_inits);
  inits[g->n_inits++] = v;
  g->inits = inits;
  return FR_OK;
}

bool fr_value_frozen_f32(const fr_value *v) {
  return v && (v->flags & FR_V_CONST) && !(v->flags & FR_V_WRITABLE) &&
         v->t.dtype == FR_F32 && v->t.kind == FR_KIND_TENSOR;
}

void fr_graph_prune_inits(fr_graph *g) {
  int j = 0;
  for (int i = 0; i < g->n_inits; i++)
    if (fr_value_uses(g, g->inits[i]) > 0) g->inits[j++] = g->inits[i];
  g->n_inits = j;
}

/* ---- affine ops ----------------------------------------------------------- */

bool fr_affine_layout(const fr_node *p, int64_t M, fr_affine *l) {
  if (!(fr_ops[p->op].flags & FR_OPF_AFFINE)) return false;
  const fr_value *x = p->in[0], *wv = fr_node_input(p, 1);
  if (!x || !fr_value_frozen_f32(wv) || x->t.dtype != FR_F32) return false;
  const fr_tensor *w = &wv->t;
  int64_t numel = fr_tensor_numel(w);
  switch (p->op) {
  case FR_OP_CONV: /* W (M, C/group, k...) */
    if (w->rank < 1 || w->dims[0] != M) return false;
    *l = (fr_affine){1, M, numel / M};
    return true;
  case FR_OP_CONV_TRANSPOSE: /* W (C, M/group, k...) */
    if (fr_attr_int(p, FR_A_GROUP) != 1 || w->rank < 2 || w->dims[1] != M)
      return false;
    *l = (fr_affine){w->dims[0], M, numel / (w->dims[0] * M)};
    return true;
  case FR_OP_GEMM: { /* B (K, M), or (M, K) when transposed */
    fr_gemm_attrs ga = fr_gemm_attrs_of(p);
    if (ga.trans_a || x->t.rank != 2 || w->rank != 2) return false;
    if (ga.trans_b) {
      if (w->dims[0] != M) return false;
      *l = (fr_affine){1, M, w->dims[1]};
    } else {
      if (w->dims[1] != M) return false;
      *l = (fr_affine){w->dims[0], M, 1};
    }
    return true;
  }
  default:
    return false;
  }
}

bool fr_affine_bias(const fr_node *p, int64_t M, float *b) {
  const fr_value *c = fr_node_input(p, 2);
  if (!c) {
    for (int64_t m = 0; m < M; m++) b[m] = 0;
    return true;
  }
  if (!fr_value_frozen_f32(c) || fr_tensor_numel(&c->t) != M) return false;
  if (p->op == FR_OP_GEMM && c->t.rank == 2 && c->t.dims[0] != 1) return false;
  float beta = p->op == FR_OP_GEMM ? fr_gemm_attrs_of(p).beta : 1;
  for (int64_t m = 0; m < M; m++) b[m] = beta * ((const float *)c->t.data)[m];
  return true;
}

void fr_affine_scale(const fr_affine *l, const float *w0, float alpha,
                     const float *s, bool divide, float *w) {
  for (int64_t a = 0; a < l->outer; a++)
    for (int64_t m = 0; m < l->M; m++)
      for (int64_t i = 0; i < l->inner; i++) {
        int64_t idx = (a * l->M + m) * l->inner + i;
        float v = alpha == 1 ? w0[idx] : w0[idx] * alpha;
        w[idx] = divide ? v / s[m] : v * s[m];
      }
}

/* Sets Gemm attribute name (alpha or beta) to 1, when the node has it. */
static void gemm_unit(fr_node *p, const char *name) {
  for (int i = 0; i < p->n_attr; i++)
    if (!strcmp(p->attrs[i].name, name)) {
      p->attrs[i].type = FR_ATTR_FLOAT;
      p->attrs[i].f = 1;
    }
}

fr_status fr_affine_install(fr_graph *g, fr_node *p, const float *w,
                            const char *suffix, const float *b, fr_node *e) {
  fr_value *wv = p->in[1], *y = e->out[0], *x = p->out[0];
  int64_t M = x->t.rank >= 2 ? x->t.dims[1] : 0;
  fr_tensor bt = {.dtype = FR_F32, .rank = 1, .dims = {M}, .data = (void *)b};
  char name[512];
  fr_value *nw = wv;
  if (w) {
    fr_tensor wt = wv->t;
    wt.data = (void *)w;
    snprintf(name, sizeof name, "%.400s.%.64s", wv->name, suffix);
    nw = fr_graph_add_init(g, name, &wt);
  }
  snprintf(name, sizeof name, "%.400s.bias", y->name);
  fr_value *nb = fr_graph_add_init(g, name, &bt);
  if (!nw || !nb) return fr_err_nomem(p);
  nb->flags |= FR_V_FOLDED;
  if (w) nw->flags |= FR_V_FOLDED;
  p->in[1] = nw;
  p->in[2] = nb;
  if (p->n_in < 3) p->n_in = 3;
  if (p->op == FR_OP_GEMM) {
    if (w) gemm_unit(p, "alpha");
    gemm_unit(p, "beta");
  }
  p->out[0] = y;
  y->producer = p;
  x->producer = NULL; /* orphaned */
  fr_node_kill(e);
  return FR_OK;
}
