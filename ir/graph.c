/* graph.c: models, graphs, values, nodes, and the attribute table
 * (attrs.def) with its readers. */
#include <math.h>
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

/* ---- the attribute table ---------------------------------------------- */

const char *const fr_attr_names[FR_A_COUNT] = {
#define FR_ANAME(ID, name) [FR_A_##ID] = name,
#include "attrs.def"
};

/* The default column, by type: a number for INT and FLOAT, a string for
 * STRING, FR_NONE for the rest (test_ops checks it). */
#define FR_NONE NAN
#define DEFAULT_FLOAT(d) .num = (d)
#define DEFAULT_INT(d) .num = (d)
#define DEFAULT_STRING(d) .num = FR_NONE, .str = (d)
#define DEFAULT_TENSOR(d) .num = (d)
#define DEFAULT_GRAPH(d) .num = (d)
#define DEFAULT_FLOATS(d) .num = (d)
#define DEFAULT_INTS(d) .num = (d)
#define DEFAULT_STRINGS(d) .num = (d)
#define DEFAULT_SPARSE_TENSOR(d) .num = (d)
#define DEFAULT_TYPE_PROTO(d) .num = (d)

const fr_attr_info fr_attr_infos[] = {
#define FR_ATTR(OP, ID, TYPE, dflt)                                           \
  {.op = FR_OP_##OP, .id = FR_A_##ID, .type = FR_ATTR_##TYPE,                 \
   DEFAULT_##TYPE(dflt)},
#include "attrs.def"
};
const int fr_attr_info_count = sizeof fr_attr_infos / sizeof fr_attr_infos[0];

const fr_attr_info *fr_op_attrs(int op, int *count) {
  /* The lines are grouped by op in the order of ops.def: bisect to the
   * first line of op. */
  int lo = 0, hi = fr_attr_info_count;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (fr_attr_infos[mid].op < op) lo = mid + 1;
    else hi = mid;
  }
  int end = lo;
  while (end < fr_attr_info_count && fr_attr_infos[end].op == op) end++;
  *count = end - lo;
  return &fr_attr_infos[lo];
}

bool fr_op_has_attr(int op, fr_attr_id id) {
  int count;
  const fr_attr_info *ai = fr_op_attrs(op, &count);
  for (int i = 0; i < count; i++)
    if (ai[i].id == id) return true;
  return false;
}

bool fr_attr_fits(const fr_attr_info *ai, const fr_attr *a) {
  if (a->type == ai->type) return true;
  /* A float may be given as an int; models of IR version 1-2 carry no
   * attribute types, and an empty list there is taken for the int 0. */
  if (a->type == FR_ATTR_INT && ai->type == FR_ATTR_FLOAT) return true;
  return a->type == FR_ATTR_INT && a->i == 0 &&
         (ai->type == FR_ATTR_INTS || ai->type == FR_ATTR_FLOATS ||
          ai->type == FR_ATTR_STRINGS);
}

/* ---- attribute readers ------------------------------------------------- */

const fr_attr *fr_attr_find(const fr_node *n, const char *name) {
  for (int i = 0; i < n->n_attr; i++)
    if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
  return NULL;
}

/* The table's line for attribute id of n's op with type t: reading an
 * attribute the op does not list is a bug in the reader. */
static const fr_attr_info *listed(const fr_node *n, fr_attr_id id,
                                  fr_attr_type t) {
  int count;
  const fr_attr_info *ai = fr_op_attrs(n->op, &count);
  for (int i = 0; i < count; i++)
    if (ai[i].id == id && ai[i].type == t) return &ai[i];
  FR_ASSERT(!"attribute not listed for the op in attrs.def");
  return NULL;
}

/* n's attribute id when its type fits line ai, else NULL. */
static const fr_attr *value_of(const fr_node *n, fr_attr_id id,
                               const fr_attr_info *ai) {
  const fr_attr *a = fr_attr_find(n, fr_attr_names[id]);
  return a && fr_attr_fits(ai, a) ? a : NULL;
}

const fr_attr *fr_attr_get(const fr_node *n, fr_attr_id id) {
  const fr_attr *a = fr_attr_find(n, fr_attr_names[id]);
  if (!a) return NULL;
  int count;
  const fr_attr_info *ai = fr_op_attrs(n->op, &count);
  for (int i = 0; i < count; i++)
    if (ai[i].id == id && fr_attr_fits(&ai[i], a)) return a;
  return NULL;
}

int64_t fr_attr_int(const fr_node *n, fr_attr_id id) {
  const fr_attr_info *ai = listed(n, id, FR_ATTR_INT);
  const fr_attr *a = value_of(n, id, ai);
  if (a) return a->i;
  return isnan(ai->num) ? 0 : (int64_t)ai->num;
}

float fr_attr_float(const fr_node *n, fr_attr_id id) {
  const fr_attr_info *ai = listed(n, id, FR_ATTR_FLOAT);
  const fr_attr *a = value_of(n, id, ai);
  if (a) return a->type == FR_ATTR_FLOAT ? a->f : (float)a->i;
  return isnan(ai->num) ? 0 : (float)ai->num;
}

const char *fr_attr_str(const fr_node *n, fr_attr_id id) {
  const fr_attr_info *ai = listed(n, id, FR_ATTR_STRING);
  const fr_attr *a = value_of(n, id, ai);
  return a ? a->s : ai->str;
}

const int64_t *fr_attr_ints(const fr_node *n, fr_attr_id id, int *len) {
  const fr_attr *a = value_of(n, id, listed(n, id, FR_ATTR_INTS));
  if (a && a->type == FR_ATTR_INTS) {
    *len = a->n;
    return a->ints;
  }
  *len = 0;
  return NULL;
}

const float *fr_attr_floats(const fr_node *n, fr_attr_id id, int *len) {
  const fr_attr *a = value_of(n, id, listed(n, id, FR_ATTR_FLOATS));
  if (a && a->type == FR_ATTR_FLOATS) {
    *len = a->n;
    return a->floats;
  }
  *len = 0;
  return NULL;
}

fr_graph *fr_attr_graph(const fr_node *n, fr_attr_id id) {
  const fr_attr *a = value_of(n, id, listed(n, id, FR_ATTR_GRAPH));
  return a ? a->g : NULL;
}

fr_status fr_attr_axis(const fr_node *n, int rank, int *axis) {
  return fr_axis(n, fr_attr_int(n, FR_A_AXIS), rank, axis);
}
