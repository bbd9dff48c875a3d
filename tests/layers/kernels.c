/* kernels.c: frost_kernels links alone (with libm): plain C over raw
 * pointers, nothing of frost. */
#include <stdio.h>

#include "runtime/kernels/kernels.h"

int main(void) {
  size_t n = fr_k_sgemm_scratch(64, 64, 64);
  printf("frost_kernels: a 64^3 GEMM wants %zu floats of scratch\n", n);
  return 0;
}
