/* fuzz_pb.c: the TensorProto (.pb) reader on arbitrary bytes. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_init();
  size_t before = fr_mem_in_use();
  fr_tensor t;
  char *name = NULL;
  fr_status st = fr_onnx_parse_pb(data, size, &t, &name);
  if (st == FR_OK) {
    if (t.dtype == FR_STRING) { /* every string is there and terminated */
      char **s = t.data;
      for (int64_t i = 0; i < fr_tensor_numel(&t); i++) (void)strlen(s[i]);
    } else if (fr_tensor_nbytes(&t)) {
      volatile uint8_t last = ((uint8_t *)t.data)[fr_tensor_nbytes(&t) - 1];
      (void)last;
    }
    fr_onnx_tensor_free(&t);
  }
  fr_free(name);
  fz_check(st, before);
  return 0;
}
