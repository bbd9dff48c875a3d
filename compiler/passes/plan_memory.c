/* plan_memory.c: the static activation memory plan. Every intermediate tensor of
 * the main graph gets an offset in one buffer: values are placed when their
 * producer runs and their bytes are freed after their last use (best fit
 * over the free gaps). View ops (FR_OPF_VIEW: Reshape, Flatten, Squeeze,
 * Unsqueeze, Identity) share their input's bytes; in-place ops (FR_OPF_INPLACE) take
 * their first input's bytes when that input dies there. Graph inputs,
 * outputs and constants live elsewhere (caller's buffers, read-only data).
 * The peak is recorded in graph->peak. */
#include <string.h>

#include "passes.h"

enum { ALIGN = 64 };

/* Whether v lives in the activation buffer. */
static bool planned(const fr_value *v) {
  return v && v->producer && !(v->flags & (FR_V_OUTPUT | FR_V_CONST)) &&
         v->t.kind == FR_KIND_TENSOR && v->t.dtype != FR_STRING;
}

typedef struct gap {
  int64_t off, size;
} gap;

typedef struct plan {
  gap *gaps;
  int n, cap;
  int64_t top; /* end of the highest block */
} plan;

static fr_status take(plan *p, int64_t size, int64_t *off) {
  size = (size + ALIGN - 1) / ALIGN * ALIGN;
  if (!size) size = ALIGN;
  int best = -1;
  for (int i = 0; i < p->n; i++)
    if (p->gaps[i].size >= size && (best < 0 || p->gaps[i].size < p->gaps[best].size))
      best = i;
  if (best >= 0) {
    *off = p->gaps[best].off;
    p->gaps[best].off += size;
    p->gaps[best].size -= size;
    if (!p->gaps[best].size) p->gaps[best] = p->gaps[--p->n];
    return FR_OK;
  }
  /* A gap at the top grows instead of leaving a hole. */
  for (int i = 0; i < p->n; i++)
    if (p->gaps[i].off + p->gaps[i].size == p->top) {
      *off = p->gaps[i].off;
      p->top = *off + size;
      p->gaps[i] = p->gaps[--p->n];
      return FR_OK;
    }
  *off = p->top;
  p->top += size;
  return FR_OK;
}

static fr_status give(plan *p, int64_t off, int64_t size) {
  size = (size + ALIGN - 1) / ALIGN * ALIGN;
  if (!size) size = ALIGN;
  /* merge with neighbours */
  for (int i = 0; i < p->n; i++) {
    if (p->gaps[i].off + p->gaps[i].size == off) {
      off = p->gaps[i].off;
      size += p->gaps[i].size;
      p->gaps[i--] = p->gaps[--p->n];
    } else if (off + size == p->gaps[i].off) {
      size += p->gaps[i].size;
      p->gaps[i--] = p->gaps[--p->n];
    }
  }
  if (p->n == p->cap) {
    int nc = p->cap ? 2 * p->cap : 64;
    gap *ng = fr_realloc(p->gaps, sizeof(gap) * (size_t)nc);
    if (!ng) return fr_err_nomem(NULL);
    p->gaps = ng;
    p->cap = nc;
  }
  p->gaps[p->n++] = (gap){off, size};
  return FR_OK;
}

fr_status fr_pass_plan_memory(fr_model *m, const fr_pipeline_opts *o) {
  fr_graph *g = m->graph;
  int nv = m->n_ids;
  /* root[id]: the value whose block id uses; last[id]: last node using the
   * block (over all values sharing it). */
  int *root = fr_malloc(sizeof(int) * ((size_t)nv + 1));
  int *last = fr_malloc(sizeof(int) * ((size_t)nv + 1));
  plan p = {0};
  if (!root || !last) {
    fr_free(root);
    fr_free(last);
    return fr_err_nomem(NULL);
  }
  for (int i = 0; i < nv; i++) root[i] = i, last[i] = -1;
  for (int i = 0; i < g->n_values; i++) g->values[i]->offset = -1;
  g->peak = -1;
  if (o->partial) {
    for (int k = 0; k < g->n_nodes; k++)
      for (int i = 0; i < g->nodes[k]->n_out; i++)
        if (planned(g->nodes[k]->out[i]) && g->nodes[k]->out[i]->t.rank < 0)
          goto done; /* shapes unknown: no plan */
  }
  /* Last use of each value (its producer, at least). */
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    for (int i = 0; i < n->n_out; i++)
      if (n->out[i]) last[n->out[i]->id] = k;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) last[n->in[i]->id] = k;
  }
  /* Sharing, decided in order: a view or in-place node's output joins its
   * input's block; in place only when nothing reads the block after it.
   * last[] of a root becomes the last use over the whole block. */
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    fr_value *in = n->n_in ? n->in[0] : NULL, *out = n->n_out ? n->out[0] : NULL;
    if (!planned(in) || !planned(out)) continue;
    int r = root[in->id];
    bool view = fr_ops[n->op].flags & FR_OPF_VIEW;
    bool inplace = (fr_ops[n->op].flags & FR_OPF_INPLACE) && last[r] == k &&
                   fr_tensor_nbytes(&in->t) == fr_tensor_nbytes(&out->t);
    for (int i = 1; inplace && i < n->n_in; i++)
      if (n->in[i] && root[n->in[i]->id] == r) inplace = false;
    if (!view && !inplace) continue;
    root[out->id] = r;
    if (last[out->id] > last[r]) last[r] = last[out->id];
  }
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    for (int i = 0; i < n->n_out; i++) {
      fr_value *v = n->out[i];
      if (!planned(v)) continue;
      if (root[v->id] != v->id) {
        v->offset = m->by_id[root[v->id]]->offset;
        continue;
      }
      int64_t off;
      fr_status st = take(&p, (int64_t)fr_tensor_nbytes(&v->t), &off);
      if (st != FR_OK) goto fail;
      v->offset = off;
    }
    /* Blocks whose last use is here go back to the free gaps. */
    for (int pass = 0; pass < 2; pass++) {
      fr_value **vs = pass ? n->out : n->in;
      int cnt = pass ? n->n_out : n->n_in;
      for (int i = 0; i < cnt; i++) {
        if (!planned(vs[i])) continue;
        fr_value *r = m->by_id[root[vs[i]->id]];
        if (last[r->id] != k) continue;
        last[r->id] = -2; /* freed once */
        fr_status st = give(&p, r->offset, (int64_t)fr_tensor_nbytes(&r->t));
        if (st != FR_OK) goto fail;
      }
    }
  }
  g->peak = p.top;
done:
  fr_free(p.gaps);
  fr_free(root);
  fr_free(last);
  return FR_OK;
fail:
  fr_free(p.gaps);
  fr_free(root);
  fr_free(last);
  return fr_err_nomem(NULL);
}
