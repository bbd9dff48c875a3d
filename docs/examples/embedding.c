/* embedding.c: the openWakeWord embedding model, compiled by frost into a
 * shared library, called from C. Built and run by the tests
 * (tests/aot/aot.sh); see docs/user-guide.md, "Native artifacts".
 *
 *   frost compile models/embedding_model.onnx --shape input_1=1x76x32x1 \
 *       --emit shared -o emb                # emb.so and emb.h
 *   cc -O2 docs/examples/embedding.c -I. ./emb.so -lm -Wl,-rpath,'$ORIGIN' \
 *       -o embedding                       # finds emb.so beside it
 *   ./embedding [INPUT.f32 [OUTPUT.f32]]
 *
 * INPUT.f32 holds the raw float32 input (76x32 mel frames), OUTPUT.f32
 * receives the raw 96-float embedding; without them a synthetic input is
 * used and the embedding printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emb.h"

static int read_raw(const char *path, void *buf, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t got = fread(buf, 1, n, f);
  int extra = fgetc(f);
  fclose(f);
  return got == n && extra == EOF ? 0 : -1;
}

int main(int argc, char **argv) {
  /* What the model takes and gives, from the header and at run time. */
  const frost_tensor_info *in = emb_input(0), *out = emb_output(0);
  printf("%s: %s (dtype %d, %llu bytes) -> %s (%llu bytes), compiled for %s\n",
         emb_info()->model, in->name, (int)in->dtype,
         (unsigned long long)in->bytes, out->name,
         (unsigned long long)out->bytes, emb_info()->target_cpu);
  if (in->bytes != EMB_INPUT_0_BYTES || out->bytes != EMB_OUTPUT_0_BYTES) return 1;

  static float x[EMB_INPUT_0_BYTES / sizeof(float)];
  static float y[EMB_OUTPUT_0_BYTES / sizeof(float)], y2[EMB_OUTPUT_0_BYTES / sizeof(float)];
  size_t nx = sizeof x / sizeof x[0], ny = sizeof y / sizeof y[0];
  if (argc > 1) {
    if (read_raw(argv[1], x, sizeof x)) {
      fprintf(stderr, "embedding: %s: expected %zu bytes of float32\n", argv[1], sizeof x);
      return 1;
    }
  } else {
    for (size_t i = 0; i < nx; i++) x[i] = sinf(0.01f * (float)i);
  }

  /* 1. A context owns the activation memory. */
  emb_ctx *c = emb_create();
  if (!c) return 1;
  const void *ins[EMB_NUM_INPUTS] = {x};
  void *outs[EMB_NUM_OUTPUTS] = {y};
  if (emb_run(c, ins, outs) != 0) return 1;
  emb_destroy(c);

  /* 2. Or the caller brings it: no allocation at all. */
  static _Alignas(EMB_ACTIVATION_ALIGN) unsigned char act[EMB_ACTIVATION_BYTES];
  void *outs2[EMB_NUM_OUTPUTS] = {y2};
  if (emb_run_in(act, sizeof act, ins, outs2) != 0) return 1;
  if (memcmp(y, y2, sizeof y)) {
    fprintf(stderr, "embedding: the two runs differ\n");
    return 1;
  }
  /* 3. On one thread and on two: the same bits. */
  emb_set_threads(1);
  if (emb_run_in(act, sizeof act, ins, outs2) != 0 || memcmp(y, y2, sizeof y)) return 1;
  if (emb_set_threads(2) != 2 || emb_threads() != 2) return 1;
  if (emb_run_in(act, sizeof act, ins, outs2) != 0 || memcmp(y, y2, sizeof y)) {
    fprintf(stderr, "embedding: 1 and 2 threads differ\n");
    return 1;
  }
  emb_set_threads(0); /* the default again */

  /* Bad arguments are refused, not run. */
  if (emb_run_in(act + 1, sizeof act - 1, ins, outs2) != -1) return 1;
  if (emb_run(NULL, ins, outs) != -1) return 1;

  if (argc > 2) {
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(y, sizeof y, 1, f) != 1 || fclose(f)) return 1;
  } else {
    printf("embedding:");
    for (size_t i = 0; i < ny; i++) printf(" %.4f", y[i]);
    printf("\n");
  }
  return 0;
}
