/* base.c: frost_base links alone (memory, errors, files, dtypes). */
#include <stdio.h>

#include "ir/ir.h"

int main(void) {
  printf("frost_base: f32 is %zu bytes\n", fr_dtype_size(FR_F32));
  return fr_dtype_size(FR_F32) != 4;
}
