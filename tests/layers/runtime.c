/* runtime.c: frost_runtime links with frost_ir, frost_kernels and
 * frost_base alone. */
#include <stdio.h>

#include "runtime/runtime.h"

int main(void) {
  bool planned = fr_rt_ops[FR_OP_RELU].plan != fr_plan_none;
  printf("frost_runtime: Relu %s a kernel plan\n", planned ? "has" : "lacks");
  return !planned;
}
