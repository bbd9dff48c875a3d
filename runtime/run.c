/* run.c: running a loaded model on given inputs, checked against the
 * model's declared input types. */
#include <string.h>

#include "runtime.h"

fr_status fr_check_inputs(const fr_model *m, fr_tensor *const *inputs) {
  const fr_graph *g = m->graph;
  for (int i = 0; i < g->n_inputs; i++) {
    const fr_value *v = g->inputs[i];
    const fr_tensor *t = inputs[i];
    char a[256], b[256];
    if (t->kind != v->t.kind ||
        (v->t.dtype != FR_UNDEFINED && t->dtype != v->t.dtype))
      return fr_err(FR_ERR_SHAPE, "input '%s' is %s, the model expects %s",
                    v->name, fr_shape_str(t, a, sizeof a),
                    fr_shape_str(&v->t, b, sizeof b));
    if (v->t.rank >= 0 && t->kind == FR_KIND_TENSOR &&
        (v->t.rank != t->rank ||
         memcmp(v->t.dims, t->dims, sizeof(int64_t) * (size_t)t->rank)))
      return fr_err(FR_ERR_SHAPE, "input '%s' is %s, the model expects %s",
                    v->name, fr_shape_str(t, a, sizeof a),
                    fr_shape_str(&v->t, b, sizeof b));
  }
  return FR_OK;
}

fr_status fr_run_model(fr_model *m, fr_tensor *const *inputs, fr_tensor *out) {
  const fr_graph *g = m->graph;
  FR_TRY(fr_check_inputs(m, inputs));
  fr_exec x = {0};
  FR_TRY(fr_interp_init(&x, m));
  fr_status st = fr_interp_run(&x, g, inputs, out);
  fr_interp_free(&x);
  return st;
}

