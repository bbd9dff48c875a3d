/* infer.c: shape inference on concrete shapes. Foldable nodes on known
 * data are evaluated on the way (shapes computed from shapes). Unless the
 * pipeline is partial (dump), every value must end up with a known shape. */
#include "passes.h"

fr_status fr_pass_infer(fr_model *m, const fr_pipeline_opts *o) {
  fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
  FR_TRY(fr_graph_infer(m->graph, &io));
  if (o->partial) return FR_OK;
  const fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    for (int i = 0; i < n->n_out; i++) {
      const fr_value *v = n->out[i];
      if (v && v->t.kind == FR_KIND_TENSOR && v->t.rank < 0)
        return fr_err_node(FR_ERR_UNSUPPORTED, n,
                           "the shape of '%s' is only known at run time",
                           v->name);
    }
  }
  return FR_OK;
}
