/* fuzz_run.c: loads a model from arbitrary bytes and, when it loads, runs it
 * with the interpreter on zero-filled inputs of the inferred shapes
 * (run_zero.c; models whose inputs exceed 1 MB, or that take sequences or
 * optionals, are only loaded). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_init();
  size_t before = fr_mem_in_use();
  fr_model *m;
  fr_onnx_opts o = {.shapes = fz_shapes, .n_shapes = fz_n_shapes,
                    .quiet = true, .max_bytes = FZ_MEM_LIMIT / 4};
  fr_status st = fr_onnx_load_mem(data, size, "fuzz.onnx", NULL, &o, &m);
  if (st == FR_OK) {
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_graph_infer(m->graph, &io);
    if (st == FR_OK) st = fr_graph_verify(m->graph);
    if (st == FR_OK) st = fz_run_zero(m);
    fr_model_free(m);
  }
  fz_check(st, before);
  return 0;
}
