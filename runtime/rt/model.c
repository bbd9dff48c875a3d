/* model.c: the C API of a compiled model. clang-19 compiles this file to
 * LLVM bitcode, embedded in frost; `frost compile` links it into every
 * artifact next to the generated code, renames each frost_api_NAME to
 * PREFIX_NAME (the names of the generated header) and makes everything else
 * internal. So an artifact needs only libc.
 *
 * The compiler defines the two symbols below in the same module: the
 * model's descriptor and its code. Runs allocate nothing: the activations
 * live in one buffer, owned by a context or brought by the caller. */
#include <stdlib.h>

#include "abi.h"

extern const frost_model_info frost_desc_;

struct frost_ctx {
  void *arena;
};

const frost_model_info *frost_api_info(void) { return &frost_desc_; }

size_t frost_api_activation_bytes(void) {
  return (size_t)frost_desc_.activation_bytes;
}

int frost_api_num_inputs(void) { return frost_desc_.n_inputs; }
int frost_api_num_outputs(void) { return frost_desc_.n_outputs; }

const frost_tensor_info *frost_api_input(int i) {
  return i >= 0 && i < frost_desc_.n_inputs ? &frost_desc_.inputs[i] : NULL;
}

const frost_tensor_info *frost_api_output(int i) {
  return i >= 0 && i < frost_desc_.n_outputs ? &frost_desc_.outputs[i] : NULL;
}

struct frost_ctx *frost_api_create(void) {
  struct frost_ctx *c = malloc(sizeof *c);
  if (!c) return NULL;
  size_t align = (size_t)frost_desc_.activation_align;
  size_t n = ((size_t)frost_desc_.activation_bytes + align - 1) / align * align;
  c->arena = aligned_alloc(align, n ? n : align);
  if (!c->arena) {
    free(c);
    return NULL;
  }
  return c;
}

void frost_api_destroy(struct frost_ctx *c) {
  if (!c) return;
  free(c->arena);
  free(c);
}

/* Every input and output pointer must be given (a zero-byte tensor's may be
 * NULL). */
static int check_io(const void *const *inputs, void *const *outputs) {
  if ((!inputs && frost_desc_.n_inputs) || (!outputs && frost_desc_.n_outputs))
    return -1;
  for (int i = 0; i < frost_desc_.n_inputs; i++)
    if (!inputs[i] && frost_desc_.inputs[i].bytes) return -1;
  for (int i = 0; i < frost_desc_.n_outputs; i++)
    if (!outputs[i] && frost_desc_.outputs[i].bytes) return -1;
  return 0;
}

int frost_api_run_in(void *activations, size_t bytes, const void *const *inputs,
                     void *const *outputs) {
  if (bytes < frost_desc_.activation_bytes ||
      (!activations && frost_desc_.activation_bytes) ||
      (uintptr_t)activations % frost_desc_.activation_align)
    return -1;
  if (check_io(inputs, outputs)) return -1;
  frost_desc_.run(inputs, outputs, activations);
  return 0;
}

int frost_api_run(struct frost_ctx *c, const void *const *inputs,
                  void *const *outputs) {
  if (!c) return -1;
  if (check_io(inputs, outputs)) return -1;
  frost_desc_.run(inputs, outputs, c->arena);
  return 0;
}
