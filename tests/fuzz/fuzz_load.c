/* fuzz_load.c: the ONNX loader on arbitrary bytes: protobuf decoding,
 * import, shape inference with constant evaluation, and the verifier. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_init();
  size_t before = fr_mem_in_use();
  fr_model *m;
  fr_onnx_opts o = {.quiet = true, .max_bytes = FZ_MEM_LIMIT / 2};
  fr_status st = fr_onnx_load_mem(data, size, "fuzz.onnx", NULL, &o, &m);
  if (st == FR_OK) {
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_graph_infer(m->graph, &io);
    if (st == FR_OK) st = fr_graph_verify(m->graph);
    fr_model_free(m);
  }
  fz_check(st, before);
  return 0;
}
