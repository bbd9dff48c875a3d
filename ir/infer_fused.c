/* infer_fused.c: shape inference of frost's fused ops (domain "frost"),
 * made by compiler/pass_fuse.c: FusedConv, FusedGemm, FusedMatMul compute
 *     y = post(act(op(x, w, bias) + residual))
 * with the attributes of the op they come from, plus `activation` (an ONNX
 * op name, or absent), `act_alpha`, `act_beta`, and `post` ("Max", "Min" or
 * absent) with its constant `post_c`. Inputs: the op's (MatMul's
 * third is a per-column bias), then the residual (or omitted); FusedConv
 * then a per-channel scale of its input, s (1 or N, C, 1, ...): it
 * convolves x * s (a squeeze-excite Mul fused into the next conv). */
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
  const fr_tensor *s = n->n_in > 4 ? in[4] : NULL;
  if (s) {
    const fr_tensor *x = in[0];
    bool ok = s->dtype == x->dtype && s->rank == x->rank && x->rank >= 2 &&
              (s->dims[0] == 1 || s->dims[0] == x->dims[0]) &&
              s->dims[1] == x->dims[1];
    for (int i = 2; ok && i < s->rank; i++) ok = s->dims[i] == 1;
    if (!ok)
      return fr_err_node(FR_ERR_SHAPE, n,
                         "input scale must be (1 or N, C, 1, ...) of the input's type");
  }
  return FR_OK;
}
