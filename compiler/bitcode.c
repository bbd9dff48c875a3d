/* bitcode.c: the kernels' LLVM bitcode (built by clang-19 from
 * runtime/kernels/), embedded in the frost binary so that no extra file is
 * needed at run time. */
#include <stddef.h>

#include "compiler.h"

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl fr_kernels_bc_start\n"
        "fr_kernels_bc_start:\n"
        ".incbin \"" FR_KERNELS_BC "\"\n"
        ".globl fr_kernels_bc_end\n"
        "fr_kernels_bc_end:\n"
        ".previous\n");

extern const unsigned char fr_kernels_bc_start[], fr_kernels_bc_end[];

const unsigned char *fr_kernels_bitcode(size_t *len) {
  *len = (size_t)(fr_kernels_bc_end - fr_kernels_bc_start);
  return fr_kernels_bc_start;
}
