/* cmd.c: frost_cmd links with every layer below it (compiler/main.c adds
 * only main). */
#include <stdio.h>

#include "compiler/cmd/cmd.h"

int main(void) {
  float x = 1;
  fr_tensor t = {.dtype = FR_F32, .rank = 0, .data = &x};
  fr_status st = fr_compare(&t, &t, 0, 0);
  printf("frost_cmd: a tensor %s itself\n", st == FR_OK ? "matches" : "differs from");
  return st != FR_OK;
}
