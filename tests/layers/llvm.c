/* llvm.c: frost_llvm links with the passes, the layers below them and LLVM
 * alone: no frontend, no command. */
#include <stdio.h>

#include "compiler/llvm/llvm.h"

int main(void) {
  size_t len = 0;
  const unsigned char *bc = fr_kernels_bitcode(1, &len);
  printf("frost_llvm: %zu bytes of baseline kernel bitcode\n", len);
  return !bc || !len;
}
