/* simplify.c: Identity (and inference Dropout) removal, dead-node
 * elimination, and removal of parameters nothing uses any more. */
#include <string.h>

#include "passes.h"

/* Dropout that is the identity: inference (no training_mode input, or a
 * constant false one) and no mask output in use. */
static bool dropout_is_identity(const fr_graph *g, const fr_node *n) {
  const fr_value *t = fr_node_input(n, 2);
  if (t && (!(t->flags & FR_V_CONST) || !t->t.data ||
            fr_tensor_get_i64(&t->t, 0) != 0))
    return false;
  if (n->opset < 7 && fr_attr_int(n, FR_A_IS_TEST) == 0) return false;
  return n->n_out < 2 || !n->out[1] || fr_value_uses(g, n->out[1]) == 0;
}

/* Removes n (out = in): uses of its output read its input instead. When the
 * output is a graph output, the producer of the input computes it directly
 * (keeping the output's name), if that is possible. */
static void bypass(fr_graph *g, fr_node *n) {
  fr_value *in = n->in[0], *out = n->out[0];
  if (!(out->flags & FR_V_OUTPUT)) {
    fr_graph_replace_uses(g, out, in);
    fr_node_kill(n);
    return;
  }
  fr_node *p = in->producer;
  if (!p || p->graph != g || (in->flags & FR_V_OUTPUT) ||
      fr_value_sole_user(g, in) != n)
    return; /* keep it: the output must stay a separate, named value */
  for (int i = 0; i < p->n_out; i++)
    if (p->out[i] == in) p->out[i] = out;
  out->producer = p;
  in->producer = NULL;
  fr_node_kill(n);
}

fr_status fr_pass_simplify(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->dead || !n->in[0] || !n->out[0]) continue;
    if (n->in[0]->t.kind != FR_KIND_TENSOR) continue;
    if (n->op == FR_OP_IDENTITY ||
        (n->op == FR_OP_DROPOUT && dropout_is_identity(g, n)))
      bypass(g, n);
  }
  /* Dead nodes, last to first, so chains go in one sweep. */
  for (int k = g->n_nodes - 1; k >= 0; k--) {
    fr_node *n = g->nodes[k];
    if (n->dead) continue;
    bool used = false;
    for (int i = 0; i < n->n_out && !used; i++)
      used = n->out[i] && fr_value_uses(g, n->out[i]) > 0;
    if (!used) fr_node_kill(n);
  }
  fr_graph_compact(g);
  fr_graph_prune_inits(g); /* parameters nothing reads */
  return FR_OK;
}
