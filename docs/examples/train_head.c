/* train_head.c: a new head on the frozen openWakeWord embedding model,
 * trained on the device through the C API of a frost artifact: no frost,
 * no LLVM, no allocation by the library (the context lives in this
 * program's memory). Built and run by the tests (tests/aot/train.sh); see
 * docs/user-guide.md, "Artifacts that train".
 *
 *   frost compile models/embedding_model.onnx --train --head linear:2 \
 *       --batch 8 --lr 1e-2 --emit shared -o head   # head.so and head.h
 *   cc -O2 docs/examples/train_head.c -I. ./head.so -lm -Wl,-rpath,'$ORIGIN' \
 *       -o train_head                      # finds head.so beside it
 *   ./train_head
 *
 * The task is made up here: two classes of mel-like frames, class k
 * louder in band k of the 32 mel bands. The program trains for a few
 * hundred steps, measures the accuracy on fresh samples, and checks that
 * saving and loading the weights and optimizer state round-trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "head.h"

enum { B = HEAD_TRAIN_BATCH, C = HEAD_TRAIN_CLASSES };

/* One sample of n floats (frames x 32 bands) of class k. */
static void sample(float *x, int64_t n, int k, uint32_t *seed) {
  for (int64_t i = 0; i < n; i++) {
    *seed = *seed * 1664525u + 1013904223u;
    float noise = (float)(*seed >> 8) / 16777216.0f - 0.5f;
    int band = (int)(i % 32);
    x[i] = noise + (band / 16 == k ? 0.5f : 0.0f);
  }
}

static void batch(float *x, int32_t *y, int64_t n, uint32_t *seed) {
  for (int i = 0; i < B; i++) {
    y[i] = (int32_t)((*seed >> 16) % C);
    sample(x + i * n, n, y[i], seed);
  }
}

/* The context: this program's memory, 64-byte aligned. */
static _Alignas(64) unsigned char mem[HEAD_CTX_BYTES];
static unsigned char saved[HEAD_SAVE_BYTES];

int main(void) {
  const frost_tensor_info *in = head_input(0);
  int64_t n = (int64_t)(in->bytes / sizeof(float)) / in->dims[0]; /* one sample */
  if (head_ctx_bytes() != HEAD_CTX_BYTES || head_save_bytes() != HEAD_SAVE_BYTES) {
    fprintf(stderr, "the header's sizes are not the library's\n");
    return 1;
  }
  head_ctx *c = head_create_in(mem, sizeof mem);
  float *x = malloc(sizeof(float) * (size_t)(B * n));
  if (!c || !x) return 1;
  int32_t y[B];
  uint32_t seed = 1;
  const void *inputs[1] = {x};
  float loss = 0;
  for (int step = 1; step <= 200; step++) {
    batch(x, y, n, &seed);
    if (head_train_step(c, inputs, y, &loss) != 0) {
      fprintf(stderr, "train step %d failed\n", step);
      return 1;
    }
    if (step == 1 || step % 50 == 0) printf("step %d: loss %.4f\n", step, loss);
  }
  /* Accuracy on fresh samples. */
  int right = 0, total = 0;
  float logits[B * C];
  for (int k = 0; k < 8; k++) {
    batch(x, y, n, &seed);
    if (head_eval(c, inputs, y, &loss, logits) != 0) return 1;
    for (int i = 0; i < B; i++, total++)
      right += (logits[i * C + 1] > logits[i * C]) == (y[i] == 1);
  }
  printf("accuracy on %d fresh samples: %.1f%%\n", total, 100.0 * right / total);
  /* Save, train one more step, load: the weights are back. */
  if (head_save(c, saved, sizeof saved) != 0) return 1;
  float before[B * C], after[B * C];
  head_eval(c, inputs, y, &loss, before);
  head_train_step(c, inputs, y, &loss);
  if (head_load(c, saved, sizeof saved) != 0) return 1;
  head_eval(c, inputs, y, &loss, after);
  if (memcmp(before, after, sizeof before)) {
    fprintf(stderr, "load did not restore the weights\n");
    return 1;
  }
  saved[10] ^= 1; /* a damaged state is refused */
  if (head_load(c, saved, sizeof saved) == 0) return 1;
  int32_t bad[B] = {C}; /* a label out of range */
  if (head_train_step(c, inputs, bad, &loss) == 0) return 1;
  printf("save/load: restored; a damaged state and a bad label refused\n");
  head_destroy(c);
  free(x);
  return right * 10 >= total * 9 ? 0 : 1;
}
