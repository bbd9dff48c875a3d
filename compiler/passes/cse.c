/* cse.c: common subexpression elimination. Two live nodes with the same
 * op, the same operands and equal attributes compute the same values; the
 * later one is removed and its outputs' uses read the earlier one's. Small
 * constants with equal contents are merged first, so that nodes reading
 * equal constants match. Random ops and ops with subgraphs are left alone. */
#include <string.h>

#include "passes.h"

enum { SMALL_CONST = 256 }; /* bytes */

static bool same_tensor(const fr_tensor *a, const fr_tensor *b) {
  if (a->kind != b->kind || a->dtype != b->dtype || a->rank != b->rank)
    return false;
  if (memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)(a->rank > 0 ? a->rank : 0)))
    return false;
  if (a->dtype == FR_STRING || !a->data || !b->data) return a->data == b->data;
  return !memcmp(a->data, b->data, fr_tensor_nbytes(a));
}

static bool same_attr(const fr_attr *a, const fr_attr *b) {
  if (strcmp(a->name, b->name) || a->type != b->type) return false;
  switch (a->type) {
  case FR_ATTR_FLOAT: return !memcmp(&a->f, &b->f, sizeof a->f);
  case FR_ATTR_INT: return a->i == b->i;
  case FR_ATTR_STRING: return a->slen == b->slen && !memcmp(a->s, b->s, a->slen);
  case FR_ATTR_TENSOR: return same_tensor(a->t, b->t);
  case FR_ATTR_FLOATS:
    return a->n == b->n && !memcmp(a->floats, b->floats, sizeof(float) * (size_t)a->n);
  case FR_ATTR_INTS:
    return a->n == b->n && !memcmp(a->ints, b->ints, sizeof(int64_t) * (size_t)a->n);
  case FR_ATTR_STRINGS:
    if (a->n != b->n) return false;
    for (int i = 0; i < a->n; i++)
      if (strcmp(a->strings[i], b->strings[i])) return false;
    return true;
  default: return false; /* graphs and lists of tensors: never equal */
  }
}

static bool same_node(const fr_node *a, const fr_node *b) {
  if (a->op != b->op || a->n_in != b->n_in || a->n_out != b->n_out ||
      a->n_attr != b->n_attr || a->opset != b->opset)
    return false;
  for (int i = 0; i < a->n_in; i++)
    if (a->in[i] != b->in[i]) return false;
  for (int i = 0; i < a->n_out; i++)
    if (!a->out[i] != !b->out[i]) return false;
  for (int i = 0; i < a->n_attr; i++)
    if (!same_attr(&a->attrs[i], &b->attrs[i])) return false;
  return true;
}

/* A hash of op and operands, to bucket candidates. */
static uint32_t node_hash(const fr_node *n) {
  uint32_t h = 2166136261u ^ (uint32_t)n->op;
  for (int i = 0; i < n->n_in; i++)
    h = (h ^ (uint32_t)(n->in[i] ? n->in[i]->id + 1 : 0)) * 16777619u;
  return h;
}

fr_status fr_pass_cse(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  /* Equal small frozen constants become one. */
  for (int i = 0; i < g->n_inits; i++) {
    fr_value *a = g->inits[i];
    if ((a->flags & FR_V_WRITABLE) || fr_tensor_nbytes(&a->t) > SMALL_CONST) continue;
    for (int j = 0; j < i; j++) {
      fr_value *b = g->inits[j];
      if ((b->flags & FR_V_WRITABLE) || (a->flags & FR_V_OUTPUT)) continue;
      if (same_tensor(&a->t, &b->t)) {
        fr_graph_replace_uses(g, a, b);
        break;
      }
    }
  }
  enum { NB = 1024 };
  int *head = fr_malloc(sizeof(int) * NB);
  int *next = fr_malloc(sizeof(int) * ((size_t)g->n_nodes + 1));
  if (!head || !next) {
    fr_free(head);
    fr_free(next);
    return fr_err_nomem(NULL);
  }
  for (int i = 0; i < NB; i++) head[i] = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    unsigned fl = fr_ops[n->op].flags;
    next[k] = -1;
    if (n->dead || (fl & (FR_OPF_RANDOM | FR_OPF_SUBGRAPH))) continue;
    bool has_graph = false;
    for (int i = 0; i < n->n_attr; i++)
      has_graph |= n->attrs[i].type == FR_ATTR_GRAPH || n->attrs[i].type == FR_ATTR_GRAPHS;
    if (has_graph) continue;
    uint32_t b = node_hash(n) % NB;
    fr_node *twin = NULL;
    for (int j = head[b]; j >= 0 && !twin; j = next[j])
      if (same_node(g->nodes[j], n)) twin = g->nodes[j];
    if (!twin) {
      next[k] = head[b];
      head[b] = k;
      continue;
    }
    bool named_output = false;
    for (int i = 0; i < n->n_out; i++)
      if (n->out[i] && (n->out[i]->flags & FR_V_OUTPUT)) named_output = true;
    if (named_output) continue; /* graph outputs keep their own values */
    for (int i = 0; i < n->n_out; i++)
      if (n->out[i]) fr_graph_replace_uses(g, n->out[i], twin->out[i]);
    fr_node_kill(n);
  }
  fr_free(head);
  fr_free(next);
  fr_graph_compact(g);
  fr_graph_prune_inits(g); /* merged constants leave some unused */
  return FR_OK;
}
