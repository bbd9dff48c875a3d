/* graph.c: models, graphs, values, nodes and attribute accessors. */
#include <string.h>

#include "ir.h"

fr_model *fr_model_new(void) {
  fr_model *m = fr_calloc(1, sizeof *m);
  return m;
}

void fr_model_free(fr_model *m) {
  if (!m) return;
  fr_free(m->by_id);
  fr_arena_free(&m->arena);
  fr_free(m);
}

fr_graph *fr_graph_new(fr_model *m, fr_graph *parent, const char *name) {
  fr_graph *g = fr_arena_alloc(&m->arena, sizeof *g);
  if (!g) return NULL;
  g->model = m;
  g->parent = parent;
  g->peak = -1;
  g->name = fr_arena_strdup(&m->arena, name ? name : "");
  if (!g->name) return NULL;
  return g;
}

/* Grows an arena-held pointer array (old storage is left in the arena). */
static bool grow(fr_arena *a, void ***arr, int n, int *cap) {
  if (n < *cap) return true;
  int nc = *cap ? *cap * 2 : 16;
  void **na = fr_arena_alloc(a, sizeof(void *) * (size_t)nc);
  if (!na) return false;
  if (n) memcpy(na, *arr, sizeof(void *) * (size_t)n);
  *arr = na;
  *cap = nc;
  return true;
}

fr_value *fr_value_new(fr_graph *g, const char *name) {
  fr_model *m = g->model;
  fr_value *v = fr_arena_alloc(&m->arena, sizeof *v);
  if (!v) return NULL;
  v->name = fr_arena_strdup(&m->arena, name ? name : "");
  if (!v->name) return NULL;
  v->graph = g;
  v->t.rank = -1;
  v->offset = -1;
  v->param_off = -1;
  if (!grow(&m->arena, (void ***)&g->values, g->n_values, &g->cap_values))
    return NULL;
  if (m->n_ids == m->cap_by_id) {
    int nc = m->cap_by_id ? m->cap_by_id * 2 : 64;
    fr_value **nb = fr_realloc(m->by_id, sizeof(fr_value *) * (size_t)nc);
    if (!nb) return NULL;
    m->by_id = nb;
    m->cap_by_id = nc;
  }
  v->id = m->n_ids++;
  m->by_id[v->id] = v;
  g->values[g->n_values++] = v;
  return v;
}

fr_value *fr_graph_find(const fr_graph *g, const char *name) {
  for (; g; g = g->parent)
    for (int i = g->n_values - 1; i >= 0; i--)
      if (!strcmp(g->values[i]->name, name)) return g->values[i];
  return NULL;
}

fr_node *fr_node_new(fr_graph *g, const char *name, const char *op_type,
                     const char *domain, int n_in, int n_out, int n_attr) {
  fr_arena *a = &g->model->arena;
  fr_node *n = fr_arena_alloc(a, sizeof *n);
  if (!n) return NULL;
  n->name = fr_arena_strdup(a, name ? name : "");
  n->op_type = fr_arena_strdup(a, op_type ? op_type : "");
  n->domain = fr_arena_strdup(a, domain ? domain : "");
  n->in = fr_arena_alloc(a, sizeof(fr_value *) * (size_t)(n_in + 1));
  n->out = fr_arena_alloc(a, sizeof(fr_value *) * (size_t)(n_out + 1));
  n->attrs = fr_arena_alloc(a, sizeof(fr_attr) * (size_t)(n_attr + 1));
  if (!n->name || !n->op_type || !n->domain || !n->in || !n->out || !n->attrs)
    return NULL;
  n->n_in = n_in;
  n->n_out = n_out;
  n->n_attr = n_attr;
  n->graph = g;
  n->op = FR_OP_COUNT;
  if (!grow(a, (void ***)&g->nodes, g->n_nodes, &g->cap_nodes)) return NULL;
  n->index = g->n_nodes;
  g->nodes[g->n_nodes++] = n;
  return n;
}

int fr_model_opset(const fr_model *m, const char *domain) {
  bool onnx = fr_domain_is_onnx(domain);
  for (int i = 0; i < m->n_opsets; i++) {
    const char *d = m->opsets[i].domain;
    if (onnx ? fr_domain_is_onnx(d) : !strcmp(d, domain))
      return m->opsets[i].version;
  }
  return 0;
}

const fr_attr *fr_attr_find(const fr_node *n, const char *name) {
  for (int i = 0; i < n->n_attr; i++)
    if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
  return NULL;
}

int64_t fr_attr_int(const fr_node *n, const char *name, int64_t dflt) {
  const fr_attr *a = fr_attr_find(n, name);
  return a && a->type == FR_ATTR_INT ? a->i : dflt;
}

float fr_attr_float(const fr_node *n, const char *name, float dflt) {
  const fr_attr *a = fr_attr_find(n, name);
  if (!a) return dflt;
  if (a->type == FR_ATTR_FLOAT) return a->f;
  if (a->type == FR_ATTR_INT) return (float)a->i;
  return dflt;
}

const char *fr_attr_str(const fr_node *n, const char *name,
                        const char *dflt) {
  const fr_attr *a = fr_attr_find(n, name);
  return a && a->type == FR_ATTR_STRING ? a->s : dflt;
}

const int64_t *fr_attr_ints(const fr_node *n, const char *name, int *len) {
  const fr_attr *a = fr_attr_find(n, name);
  if (a && a->type == FR_ATTR_INTS) {
    *len = a->n;
    return a->ints;
  }
  *len = 0;
  return NULL;
}

const float *fr_attr_floats(const fr_node *n, const char *name, int *len) {
  const fr_attr *a = fr_attr_find(n, name);
  if (a && a->type == FR_ATTR_FLOATS) {
    *len = a->n;
    return a->floats;
  }
  *len = 0;
  return NULL;
}

fr_graph *fr_attr_graph(const fr_node *n, const char *name) {
  const fr_attr *a = fr_attr_find(n, name);
  return a && a->type == FR_ATTR_GRAPH ? a->g : NULL;
}
