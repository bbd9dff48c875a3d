/* runtime.c: frost_runtime links with frost_ir, frost_kernels, frost_base
 * and the image libraries (runtime/image.c) alone. */
#include <stdio.h>

#include "runtime/runtime.h"

int main(void) {
  bool planned = fr_rt_ops[FR_OP_RELU].plan != fr_plan_none;
  printf("frost_runtime: Relu %s a kernel plan\n", planned ? "has" : "lacks");
  /* a PNG signature and nothing after it: libpng's error is caught */
  static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  fr_image im = {0};
  bool refused = fr_image_decode("x.png", png, sizeof png, &im) == FR_ERR_PARSE;
  printf("frost_runtime: a truncated PNG is %s\n",
         refused ? "refused" : "not refused");
  return !planned || !refused;
}
