/* fuzz_value_pb.c: the SequenceProto / OptionalProto reader (value_pb.c) on
 * arbitrary bytes. The first byte picks the kind expected in its two low
 * bits (0 tensor, 1 sequence, 2 optional; 3 is read as a tensor) and, above
 * them, the element type used when the file does not say: 4 * dtype + kind,
 * e.g. 5 for a sequence of f32 (scripts/fuzz and gen.c's seeds write it). */
#include "fuzz.h"

static void touch(const fr_tensor *t, int depth) {
  if (!t || depth > 64) return;
  if (t->kind == FR_KIND_SEQUENCE) {
    fr_tensor **el = t->data;
    for (int64_t i = 0; i < t->dims[0]; i++) touch(el[i], depth + 1);
  } else if (t->kind == FR_KIND_OPTIONAL) {
    touch(t->data, depth + 1);
  } else if (t->dtype != FR_STRING && fr_tensor_nbytes(t)) {
    volatile uint8_t last = ((uint8_t *)t->data)[fr_tensor_nbytes(t) - 1];
    (void)last;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_init();
  if (size < 1) return 0;
  size_t before = fr_mem_in_use();
  fr_kind kind = (fr_kind)((data[0] & 3) % 3);
  fr_dtype dt = (fr_dtype)((data[0] >> 2) % FR_DTYPE_COUNT);
  fr_tensor t;
  fr_status st = fr_onnx_parse_value_pb(data + 1, size - 1, kind, dt, &t);
  if (st == FR_OK) {
    touch(&t, 0);
    fr_onnx_value_free(&t);
  }
  fz_check(st, before);
  return 0;
}
