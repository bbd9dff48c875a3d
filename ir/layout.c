/* layout.c: the parameter memory layout. Every tensor parameter of the main
 * graph gets a place in one of two blocks: the frozen weights (read-only)
 * and the trainable parameters (writable). Training adds a gradient block of
 * the trainable block's layout and state_slots optimizer copies of it, so a
 * parameter's gradient and its optimizer moments are found at the same
 * offset in each. The interpreter, the JIT and artifacts place parameters by
 * this one layout, and `frost dump` and an artifact's `info` print it the
 * same way (fr_layout_print; runtime/rt/main.c). */
#include <string.h>

#include "ir.h"


static int64_t align_up(int64_t n) {
  return (n + FR_PARAM_ALIGN - 1) / FR_PARAM_ALIGN * FR_PARAM_ALIGN;
}

/* Whether v is placed: a tensor of fixed-size elements known at compile
 * time. */
static bool placed(const fr_value *v) {
  return (v->flags & FR_V_CONST) && v->t.kind == FR_KIND_TENSOR &&
         v->t.dtype != FR_STRING;
}

/* Whether an attribute of a node of g (or of its subgraphs) holds p. */
static bool attrs_use(const fr_graph *g, const void *p) {
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    for (int j = 0; j < n->n_attr; j++) {
      const fr_attr *a = &n->attrs[j];
      if (a->t && a->t->data == p) return true;
      for (int e = 0; a->tensors && e < a->n; e++)
        if (a->tensors[e] && a->tensors[e]->data == p) return true;
      if (a->g && attrs_use(a->g, p)) return true;
      for (int e = 0; a->graphs && e < a->n; e++)
        if (a->graphs[e] && attrs_use(a->graphs[e], p)) return true;
    }
  }
  return false;
}

/* Whether a value or an attribute of m still holds p. */
static bool still_used(const fr_model *m, const void *p) {
  for (int i = 0; i < m->n_ids; i++)
    if (m->by_id[i] && m->by_id[i]->t.data == p) return true;
  return attrs_use(m->graph, p);
}

fr_status fr_graph_layout(fr_graph *g, int state_slots) {
  if (state_slots < 0 || state_slots > 8)
    return fr_err(FR_ERR_USAGE, "%d optimizer slots (0 to 8)", state_slots);
  fr_param_layout *L = fr_arena_alloc(&g->model->arena, sizeof *L);
  if (!L) return fr_err_nomem(NULL);
  *L = (fr_param_layout){.state_slots = state_slots};
  for (int i = 0; i < g->n_inits; i++) {
    fr_value *v = g->inits[i];
    v->param_off = -1;
    if (!placed(v)) continue;
    int b = v->flags & FR_V_WRITABLE ? FR_PB_TRAINABLE : FR_PB_FROZEN;
    int64_t n = (int64_t)fr_tensor_nbytes(&v->t);
    if (n > INT64_MAX / 2 - L->bytes[b])
      return fr_err(FR_ERR_NOMEM, "parameter '%s': the %s block passes 2^62 "
                    "bytes", v->name, fr_pblock_names[b]);
    v->param_off = L->bytes[b];
    L->bytes[b] += align_up(n ? n : 1);
    L->params[b] += fr_tensor_numel(&v->t);
    L->tensors[b]++;
  }
  L->bytes[FR_PB_GRAD] = L->bytes[FR_PB_TRAINABLE];
  L->bytes[FR_PB_STATE] = state_slots * L->bytes[FR_PB_TRAINABLE];
  /* The frozen and trainable blocks hold the parameters from now on: each
   * value's data points into its block, so every engine reads them there.
   * (Gradients and optimizer state belong to training, which allocates
   * them by bytes[].) */
  for (int b = 0; b < 2; b++) {
    if (!L->bytes[b]) continue;
    char *raw = fr_arena_alloc(&g->model->arena,
                               (size_t)L->bytes[b] + FR_PARAM_ALIGN);
    if (!raw) return fr_err(FR_ERR_NOMEM, "out of memory for the %s "
                            "parameter block (%lld bytes)", fr_pblock_names[b],
                            (long long)L->bytes[b]);
    L->block[b] = raw + (FR_PARAM_ALIGN - (uintptr_t)raw % FR_PARAM_ALIGN) %
                            FR_PARAM_ALIGN;
  }
  void **old = fr_malloc(sizeof(void *) * (size_t)(g->n_inits + 1));
  if (!old) return fr_err_nomem(NULL);
  int n_old = 0;
  for (int i = 0; i < g->n_inits; i++) {
    fr_value *v = g->inits[i];
    if (v->param_off < 0) continue;
    char *dst = L->block[v->flags & FR_V_WRITABLE ? FR_PB_TRAINABLE
                                                    : FR_PB_FROZEN] +
                v->param_off;
    size_t n = fr_tensor_nbytes(&v->t);
    if (n) memcpy(dst, v->t.data, n);
    if (v->t.data) old[n_old++] = v->t.data;
    v->t.data = dst;
  }
  /* The copies left behind are freed when nothing else points to them, so
   * the parameters are not held twice. */
  for (int i = 0; i < n_old; i++)
    if (!still_used(g->model, old[i])) fr_arena_release(&g->model->arena, old[i]);
  fr_free(old);
  g->layout = L;
  return FR_OK;
}

void fr_layout_print(FILE *f, const fr_graph *g) {
  const fr_param_layout *L = g->layout;
  if (!L) {
    fputs("parameter layout: not planned\n", f);
    return;
  }
  fr_layout_print_blocks(f, L->bytes, L->tensors, L->params, L->state_slots);
  for (int i = 0; i < g->n_inits; i++) {
    const fr_value *v = g->inits[i];
    if (v->param_off >= 0 && (v->flags & FR_V_WRITABLE))
      fr_layout_print_param(f, v->param_off, &v->t, v->name);
  }
}
