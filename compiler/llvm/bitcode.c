/* bitcode.c: files built with frost and embedded in its binary, so that no
 * extra file is needed at run time: the kernels' LLVM bitcode (built by
 * clang-19 from runtime/kernels/ for three x86-64 levels), the artifacts' C API as bitcode
 * (runtime/rt/model.c), libfrost_rt.a (linked into executables),
 * libfrost_rt_image.a (image decoding, for executables that take images) and
 * runtime/rt/abi.h (pasted into generated headers). */
#include <stddef.h>

#include "llvm.h"

#define FR_INCBIN(sym, file)                                                  \
  __asm__(".section .rodata\n"                                                \
          ".balign 16\n"                                                      \
          ".globl " #sym "_start\n" #sym "_start:\n"                          \
          ".incbin \"" file "\"\n"                                            \
          ".globl " #sym "_end\n" #sym "_end:\n"                              \
          ".byte 0\n"                                                         \
          ".previous\n");                                                     \
  extern const unsigned char sym##_start[], sym##_end[]

FR_INCBIN(fr_kernels_bc1, FR_KERNELS_BC1);
FR_INCBIN(fr_kernels_bc3, FR_KERNELS_BC3);
FR_INCBIN(fr_kernels_bc4, FR_KERNELS_BC4);
FR_INCBIN(fr_model_api_bc, FR_MODEL_API_BC);
FR_INCBIN(fr_rt_a, FR_RT_ARCHIVE);
FR_INCBIN(fr_rt_image_a, FR_RT_IMAGE_ARCHIVE);
FR_INCBIN(fr_abi_h, FR_ABI_H);

const unsigned char *fr_kernels_bitcode(int level, size_t *len) {
  if (level >= 4) {
    *len = (size_t)(fr_kernels_bc4_end - fr_kernels_bc4_start);
    return fr_kernels_bc4_start;
  }
  if (level == 3) {
    *len = (size_t)(fr_kernels_bc3_end - fr_kernels_bc3_start);
    return fr_kernels_bc3_start;
  }
  *len = (size_t)(fr_kernels_bc1_end - fr_kernels_bc1_start);
  return fr_kernels_bc1_start;
}

const unsigned char *fr_model_api_bitcode(size_t *len) {
  *len = (size_t)(fr_model_api_bc_end - fr_model_api_bc_start);
  return fr_model_api_bc_start;
}

const unsigned char *fr_rt_archive(size_t *len) {
  *len = (size_t)(fr_rt_a_end - fr_rt_a_start);
  return fr_rt_a_start;
}

const unsigned char *fr_rt_image_archive(size_t *len) {
  *len = (size_t)(fr_rt_image_a_end - fr_rt_image_a_start);
  return fr_rt_image_a_start;
}

/* NUL-terminated: the incbin is followed by a zero byte. */
const char *fr_abi_header(size_t *len) {
  *len = (size_t)(fr_abi_h_end - fr_abi_h_start);
  return (const char *)fr_abi_h_start;
}
