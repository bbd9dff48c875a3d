/* infer_core.c: shape inference of Constant and Identity. */
#include "ir.h"

fr_status fr_infer_constant(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  (void)in;
  const fr_attr *a = n->n_attr == 1 ? &n->attrs[0] : NULL;
  if (!a)
    return fr_err_node(FR_ERR_INVALID, n, "needs exactly one attribute");
  int64_t one = 1;
  switch (a->type) {
  case FR_ATTR_TENSOR:
    fr_set_shape(out[0], a->t->dtype, a->t->rank, a->t->dims);
    break;
  case FR_ATTR_FLOAT: fr_set_shape(out[0], FR_F32, 0, NULL); break;
  case FR_ATTR_INT: fr_set_shape(out[0], FR_I64, 0, NULL); break;
  case FR_ATTR_STRING: fr_set_shape(out[0], FR_STRING, 0, NULL); break;
  case FR_ATTR_FLOATS: one = a->n; fr_set_shape(out[0], FR_F32, 1, &one); break;
  case FR_ATTR_INTS: one = a->n; fr_set_shape(out[0], FR_I64, 1, &one); break;
  case FR_ATTR_STRINGS:
    one = a->n;
    fr_set_shape(out[0], FR_STRING, 1, &one);
    break;
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "attribute '%s' not supported",
                       a->name);
  }
  return FR_OK;
}

fr_status fr_infer_identity(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  (void)n;
  fr_tensor *d = out[0];
  d->kind = in[0]->kind;
  d->dtype = in[0]->dtype;
  d->rank = in[0]->rank;
  for (int i = 0; i < in[0]->rank && i < FR_MAX_RANK; i++)
    d->dims[i] = in[0]->dims[i];
  if (in[0]->kind == FR_KIND_SEQUENCE) d->dims[0] = in[0]->dims[0];
  return FR_OK;
}
