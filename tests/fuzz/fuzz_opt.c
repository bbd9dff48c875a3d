/* fuzz_opt.c: what `frost run` does by default before code generation:
 * load from arbitrary bytes, shape inference, verifier, the optimization
 * pipeline (folding, simplification, CSE, fusion, memory planning; the
 * verifier after each pass), then the interpreter on the optimized graph
 * with zero-filled inputs (the CLI's "opt" engine). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_init();
  size_t before = fr_mem_in_use();
  fr_model *m;
  fr_onnx_opts o = {.quiet = true, .max_bytes = FZ_MEM_LIMIT / 4};
  fr_status st = fr_onnx_load_mem(data, size, "fuzz.onnx", NULL, &o, &m);
  if (st == FR_OK) {
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_graph_infer(m->graph, &io);
    if (st == FR_OK) st = fr_graph_verify(m->graph);
    fr_pipeline_opts po = {.partial = true};
    if (st == FR_OK) st = fr_pipeline_run(m, &po);
    if (st == FR_OK) st = fz_run_zero(m);
    fr_model_free(m);
  }
  fz_check(st, before);
  return 0;
}
