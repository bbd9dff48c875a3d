/* layout_text.c: the text of a parameter layout, written once for
 * `frost dump` (ir/layout.c, from the graph) and for an artifact's `info`
 * (runtime/rt/main.c, from its descriptor), so that both print the same
 * lines and a test can compare them. Base layer: no IR graphs. */
#include "ir.h"

void fr_layout_print_blocks(FILE *f, const int64_t bytes[FR_PB_COUNT],
                            const int tensors[2], const int64_t params[2],
                            int state_slots) {
  fprintf(f, "parameter layout (%d-byte aligned):\n", FR_PARAM_ALIGN);
  for (int b = 0; b < 2; b++)
    fprintf(f, "  %-10s %12lld bytes %6d tensors %12lld values\n",
            fr_pblock_names[b], (long long)bytes[b], tensors[b],
            (long long)params[b]);
  fprintf(f, "  %-10s %12lld bytes (training)\n", fr_pblock_names[FR_PB_GRAD],
          (long long)bytes[FR_PB_GRAD]);
  fprintf(f, "  %-10s %12lld bytes (training, %d slots)\n",
          fr_pblock_names[FR_PB_STATE], (long long)bytes[FR_PB_STATE],
          state_slots);
}

void fr_layout_print_param(FILE *f, int64_t off, const fr_tensor *t,
                           const char *name) {
  char shape[128];
  fprintf(f, "  trainable @%-10lld %s %s\n", (long long)off,
          fr_shape_str(t, shape, sizeof shape), name);
}

const char *const fr_pblock_names[FR_PB_COUNT] = {
    [FR_PB_FROZEN] = "frozen",
    [FR_PB_TRAINABLE] = "trainable",
    [FR_PB_GRAD] = "gradients",
    [FR_PB_STATE] = "optimizer",
};
