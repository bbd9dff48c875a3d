/* ir.c: frost_ir links with frost_base alone: the IR calls nothing of the
 * runtime, the kernels, a frontend or a back end. */
#include <stdio.h>

#include "ir/ir.h"

int main(void) {
  fr_op op = fr_op_lookup("", "Relu");
  printf("frost_ir: Relu is op %d of %d\n", (int)op, FR_OP_COUNT);
  return op == FR_OP_COUNT;
}
