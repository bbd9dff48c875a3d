/* infer_elem.c: shape inference of elementwise ops. */
#include "ir.h"

/* y = f(x): same dtype and shape. */
fr_status fr_infer_unary(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)n;
  fr_set_shape(out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
  return FR_OK;
}

/* y = f(a, b) with numpy broadcasting; a and b of the same dtype. */
fr_status fr_infer_binary(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  if (in[0]->dtype != in[1]->dtype)
    return fr_err_node(FR_ERR_SHAPE, n, "operands are %s and %s",
                       fr_dtype_name(in[0]->dtype),
                       fr_dtype_name(in[1]->dtype));
  int rank;
  int64_t dims[FR_MAX_RANK];
  FR_TRY(fr_broadcast(n, in[0], in[1], &rank, dims));
  fr_set_shape(out[0], in[0]->dtype, rank, dims);
  return FR_OK;
}
