/* ops_fused.c: the plan of frost's fused ops (see ir/infer_fused.c): the
 * Conv, Gemm and MatMul plans with an epilogue. */
#include <string.h>

#include "runtime.h"

/* The activation attribute as an FR_K_EPI_* kind. */
static fr_status epi_kind(const fr_node *n, int *act) {
  static const struct {
    const char *name;
    int act;
  } acts[] = {{"Relu", FR_K_EPI_RELU},         {"LeakyRelu", FR_K_EPI_LEAKY_RELU},
              {"Clip", FR_K_EPI_CLIP},         {"HardSigmoid", FR_K_EPI_HARD_SIGMOID},
              {"HardSwish", FR_K_EPI_HARD_SWISH}, {"Sigmoid", FR_K_EPI_SIGMOID},
              {"Tanh", FR_K_EPI_TANH}};
  const char *s = fr_attr_str(n, FR_A_ACTIVATION);
  *act = FR_K_EPI_NONE;
  if (!s) return FR_OK;
  for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
    if (!strcmp(s, acts[i].name)) {
      *act = acts[i].act;
      return FR_OK;
    }
  return fr_err_node(FR_ERR_INVALID, n, "unknown activation '%s'", s);
}

fr_status fr_plan_fused(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out, fr_kplan *p) {
  int act;
  FR_TRY(epi_kind(n, &act));
  float a = fr_attr_float(n, FR_A_ACT_ALPHA), b = fr_attr_float(n, FR_A_ACT_BETA);
  switch (n->op) {
  case FR_OP_FUSED_CONV: return fr_plan_conv_fused(n, in, out, p, act, a, b);
  case FR_OP_FUSED_GEMM: return fr_plan_gemm_fused(n, in, out, p, act, a, b);
  default: return fr_plan_matmul_fused(n, in, out, p, act, a, b);
  }
}
