/* fuzz_npy.c: the .npy reader on arbitrary bytes. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_init();
  size_t before = fr_mem_in_use();
  fr_tensor t;
  fr_status st = fr_npy_parse(data, size, &t);
  if (st == FR_OK) {
    /* What was read must be as big as its shape says. */
    if (fr_tensor_nbytes(&t)) {
      volatile uint8_t last = ((uint8_t *)t.data)[fr_tensor_nbytes(&t) - 1];
      (void)last;
    }
    fr_onnx_tensor_free(&t);
  }
  fz_check(st, before);
  return 0;
}
