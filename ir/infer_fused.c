/* infer_fused.c: shape inference of frost's fused ops (domain "frost"),
 * made by compiler/pass_fuse.c: FusedConv, FusedGemm, FusedMatMul compute
 *     y = post(act(op(x, w, bias) + residual))
 * with the attributes of the op they come from, plus `activation` (an ONNX
 * op name, or absent), `act_alpha`, `act_beta`, and `post` ("Max", "Min" or
 * absent) with its constant `post_c`. Inputs: the op's (MatMul's
 * third is a per-column bias), then the residual (or omitted). */
#include "ir.h"

fr_status fr_infer_fused(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  switch (n->op) {
  case FR_OP_FUSED_CONV: FR_TRY(fr_infer_conv(n, in, out)); break;
  case FR_OP_FUSED_GEMM: FR_TRY(fr_infer_gemm(n, in, out)); break;
  default: {
    fr_tensor *mm[2] = {in[0], in[1]};
    FR_TRY(fr_infer_matmul(n, mm, out));
    const fr_tensor *b = n->n_in > 2 ? in[2] : NULL;
    if (b && (b->dtype != out[0]->dtype || out[0]->rank < 1 ||
              fr_tensor_numel(b) != out[0]->dims[out[0]->rank - 1]))
      return fr_err_node(FR_ERR_SHAPE, n, "bias must have one value per column");
  }
  }
  const fr_tensor *r = n->n_in > 3 ? in[3] : NULL;
  if (r) {
    bool same = r->dtype == out[0]->dtype && r->rank == out[0]->rank;
    for (int i = 0; same && i < r->rank; i++) same = r->dims[i] == out[0]->dims[i];
    if (!same)
      return fr_err_node(FR_ERR_SHAPE, n, "residual must have the output's shape");
  }
  return FR_OK;
}
