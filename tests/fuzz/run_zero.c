/* run_zero.c: runs a loaded model with the interpreter on zero-filled
 * inputs of the inferred shapes (fuzz_run, fuzz_opt and the bit-flip test).
 * Models whose inputs exceed 1 MB, or that take sequences or optionals, are
 * not run. */
#include "fuzz.h"

enum { MAX_INPUT_BYTES = 1 << 20, MAX_INPUTS = 64 };

int fz_status = -1;
const fr_shape_override *fz_shapes;
int fz_n_shapes;

fr_status fz_run_zero(fr_model *m) {
  const fr_graph *g = m->graph;
  if (g->n_inputs > MAX_INPUTS) return FR_OK;
  size_t total = 0;
  for (int i = 0; i < g->n_inputs; i++) {
    const fr_tensor *t = &g->inputs[i]->t;
    int64_t numel;
    if (t->kind != FR_KIND_TENSOR || t->rank < 0 ||
        !fr_dtype_size(t->dtype) ||
        fr_shape_numel(t->rank, t->dims, &numel) != FR_OK)
      return FR_OK;
    total += (size_t)numel * fr_dtype_size(t->dtype);
    if (total > MAX_INPUT_BYTES) return FR_OK;
  }
  fr_tensor in[MAX_INPUTS];
  fr_tensor *inp[MAX_INPUTS];
  fr_status st = FR_OK;
  int n = 0;
  for (; n < g->n_inputs && st == FR_OK; n++) {
    in[n] = g->inputs[n]->t;
    in[n].data = NULL;
    inp[n] = &in[n];
    st = fr_tensor_alloc(&in[n]);
    if (st == FR_OK && in[n].dtype == FR_STRING) {
      char **s = in[n].data;
      for (int64_t k = 0; st == FR_OK && k < fr_tensor_numel(&in[n]); k++)
        if (!(s[k] = fr_strdup(""))) st = fr_err_nomem(NULL);
    }
  }
  fr_tensor *out = NULL;
  if (st == FR_OK) {
    out = fr_calloc((size_t)g->n_outputs + 1, sizeof *out);
    if (!out) st = fr_err_nomem(NULL);
  }
  if (st == FR_OK) st = fr_run_model(m, inp, out);
  for (int i = 0; out && st == FR_OK && i < g->n_outputs; i++)
    fr_tensor_release(&out[i]);
  fr_free(out);
  for (int i = 0; i < n; i++) fr_tensor_release(&in[i]);
  return st;
}

