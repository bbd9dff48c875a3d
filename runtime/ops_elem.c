/* ops_elem.c: interpreter glue of elementwise ops. */
#include "runtime.h"

fr_status fr_exec_unary(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  (void)x;
  int64_t numel = fr_tensor_numel(in[0]);
  if (in[0]->dtype != FR_F32)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(in[0]->dtype));
  switch (n->op) {
  case FR_OP_RELU: fr_k_relu_f32(numel, in[0]->data, out[0]->data); break;
  default: return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  }
  return FR_OK;
}

fr_status fr_exec_binary(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)x;
  fr_k_bcast b;
  if (in[0]->dtype != FR_F32)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(in[0]->dtype));
  fr_bcast_init(&b, in[0], in[1], out[0]);
  switch (n->op) {
  case FR_OP_ADD: fr_k_add_f32(&b, in[0]->data, in[1]->data, out[0]->data); break;
  default: return fr_err_node(FR_ERR_UNSUPPORTED, n, "no kernel");
  }
  return FR_OK;
}
