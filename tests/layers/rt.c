/* rt.c: libfrost_rt, what an executable built by `frost compile` links,
 * links with libc and libm alone. frost_rt holds main (runtime/rt/main.c);
 * this file stands in for the model's object: an empty model's C API. */
#include <stddef.h>

#include "runtime/rt/abi.h"

typedef struct frost_ctx frost_ctx;

static void run(const void *const *inputs, void *const *outputs, void *arena) {
  (void)inputs;
  (void)outputs;
  (void)arena;
}

const frost_model_info *frost_artifact_info(void) {
  static const frost_model_info info = {
      .model = "tests/layers/rt.c", .target_cpu = "none",
      .frost_version = "layers", .run = run,
      .abi_version = FROST_ABI_VERSION};
  return &info;
}

frost_ctx *frost_artifact_create(void) {
  static int ctx;
  return (frost_ctx *)&ctx;
}

void frost_artifact_destroy(frost_ctx *c) { (void)c; }

int frost_artifact_set_threads(int n) { return n; }

int frost_artifact_threads(void) { return 1; }

int frost_artifact_run(frost_ctx *c, const void *const *inputs,
                       void *const *outputs) {
  (void)c;
  (void)inputs;
  (void)outputs;
  return 0;
}
