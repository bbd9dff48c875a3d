/* fuzz_text.c: the command line's text parsers on arbitrary bytes: --shape
 * dimensions (fr_parse_dims) and --max-memory sizes (fr_parse_size). The
 * first byte picks the parser; the rest is the text. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_init();
  if (size < 1 || size > 4096) return 0;
  size_t before = fr_mem_in_use();
  char s[4097];
  memcpy(s, data + 1, size - 1);
  s[size - 1] = 0;
  fr_status st;
  if (data[0] & 1) {
    int64_t dims[FR_MAX_RANK];
    int rank = -1;
    st = fr_parse_dims(s, &rank, dims);
    if (st == FR_OK && (rank < 0 || rank > FR_MAX_RANK)) abort();
    for (int i = 0; st == FR_OK && i < rank; i++)
      if (dims[i] < 0) abort();
  } else {
    int64_t bytes = -1;
    st = fr_parse_size(s, &bytes);
    if (st == FR_OK && bytes < 0) abort();
  }
  fz_check(st, before);
  return 0;
}
