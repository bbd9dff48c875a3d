/* passes.c: frost_passes links with the runtime and what it uses alone:
 * no LLVM, no frontend. Also checks that freeze is the first pass. */
#include <stdio.h>
#include <string.h>

#include "compiler/passes/passes.h"

int main(void) {
  int n;
  const fr_pass *p = fr_passes(&n);
  printf("frost_passes: %d passes, the first %s\n", n, p[0].name);
  return n < 1 || strcmp(p[0].name, "freeze") != 0;
}
