/* onnx.c: frost_onnx links with frost_ir, frost_base and protobuf-c alone:
 * the importer needs no runtime. */
#include <stdio.h>

#include "frontends/onnx/onnx.h"

int main(void) {
  int rank = 0;
  int64_t dims[FR_MAX_RANK];
  fr_status st = fr_parse_dims("1x3x224x224", &rank, dims);
  printf("frost_onnx: 1x3x224x224 has rank %d\n", rank);
  return st != FR_OK || rank != 4;
}
