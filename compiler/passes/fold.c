/* fold.c: constant folding. A frozen node whose outputs can be computed
 * at compile time - all inputs constant, or (Shape, Size) only their shapes
 * needed - is evaluated by the interpreter's own kernels, and its outputs
 * become initializers, marked FR_V_FOLDED. Constant nodes become
 * initializers too, unmarked: their tensors are the model's (they keep a
 * trainable mark if the freeze boundary gave one). Trainable nodes and
 * random ops are never folded. */
#include "passes.h"

/* Folding must not blow up the model: outputs up to 64 MiB, or up to twice
 * the bytes of the inputs they replace. */
enum { MAX_FOLD_BYTES = 64 << 20 };

static bool all_inputs_const(const fr_node *n) {
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && !(n->in[i]->flags & FR_V_CONST)) return false;
  return true;
}

static bool outputs_known(const fr_node *n) {
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i] && !n->out[i]->t.data) return false;
  return true;
}

static bool is_plain_tensor(const fr_tensor *t) {
  return t->kind == FR_KIND_TENSOR && t->rank >= 0 &&
         t->dtype != FR_STRING && fr_dtype_size(t->dtype);
}

fr_status fr_pass_fold(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    unsigned fl = fr_ops[n->op].flags;
    if (n->dead || !(fl & FR_OPF_FOLD) || (fl & FR_OPF_RANDOM)) continue;
    if (n->trainable && n->op != FR_OP_CONSTANT) continue;
    bool plain = true;
    int64_t in_bytes = 0, out_bytes = 0;
    for (int i = 0; i < n->n_out; i++)
      if (n->out[i]) {
        plain = plain && is_plain_tensor(&n->out[i]->t);
        out_bytes += (int64_t)fr_tensor_nbytes(&n->out[i]->t);
      }
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i]) {
        plain = plain && is_plain_tensor(&n->in[i]->t);
        in_bytes += (int64_t)fr_tensor_nbytes(&n->in[i]->t);
      }
    if (!plain) continue;
    if (!outputs_known(n)) {
      if (!all_inputs_const(n)) continue;
      if (out_bytes > MAX_FOLD_BYTES && out_bytes > 2 * in_bytes) continue;
      fr_tensor *in[1025], *out[1025];
      if (n->n_in > 1024 || n->n_out > 1024) continue;
      for (int i = 0; i < n->n_in; i++) in[i] = n->in[i] ? &n->in[i]->t : NULL;
      for (int i = 0; i < n->n_out; i++) out[i] = n->out[i] ? &n->out[i]->t : NULL;
      FR_TRY(fr_interp_eval(&m->arena, n, in, out));
      if (!outputs_known(n)) continue;
    }
    for (int i = 0; i < n->n_out; i++) {
      fr_value *v = n->out[i];
      if (!v) continue;
      fr_tensor t = v->t;
      FR_TRY(fr_value_make_const(g, v, &t));
      /* computed here; a Constant node's tensor is the model's own */
      if (n->op != FR_OP_CONSTANT) v->flags |= FR_V_FOLDED;
    }
    fr_node_kill(n);
  }
  fr_graph_compact(g);
  return FR_OK;
}
