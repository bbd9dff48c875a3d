/* edit.c: graph surgery used by the passes - use counts, replacing uses,
 * removing nodes, adding initializers, and the test for frozen weights. */
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
  if (!d || !inits) return fr_err(FR_ERR_NOMEM, "out of memory");
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
  return v && (v->flags & FR_V_CONST) && !(v->flags & FR_V_TRAINABLE) &&
         v->t.dtype == FR_F32 && v->t.kind == FR_KIND_TENSOR;
}
