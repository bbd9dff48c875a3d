/* ops_core.c: interpreter glue of Constant and Identity (whose tensors run
 * through a plan). */
#include <string.h>

#include "runtime.h"

fr_status fr_exec_constant(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  (void)in;
  const fr_attr *a = &n->attrs[0];
  fr_tensor *y = out[0];
  switch (a->type) {
  case FR_ATTR_TENSOR:
    if (a->t->dtype == FR_STRING) {
      fr_tensor c = {0};
      FR_TRY(fr_tensor_clone(a->t, &c));
      fr_tensor_release(y);
      *y = c;
    } else {
      memcpy(y->data, a->t->data, fr_tensor_nbytes(a->t));
    }
    break;
  case FR_ATTR_FLOAT: *(float *)y->data = a->f; break;
  case FR_ATTR_INT: *(int64_t *)y->data = a->i; break;
  case FR_ATTR_FLOATS: memcpy(y->data, a->floats, sizeof(float) * (size_t)a->n); break;
  case FR_ATTR_INTS: memcpy(y->data, a->ints, sizeof(int64_t) * (size_t)a->n); break;
  case FR_ATTR_STRING:
  case FR_ATTR_STRINGS: {
    char **s = y->data;
    for (int i = 0; i < (a->type == FR_ATTR_STRING ? 1 : a->n); i++) {
      s[i] = fr_strdup(a->type == FR_ATTR_STRING ? a->s : a->strings[i]);
      if (!s[i]) return fr_err_nomem(n);
    }
    break;
  }
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "unsupported attribute");
  }
  return FR_OK;
}

/* Sequences and optionals are cloned here; tensors run through the copy
 * plan (fr_plan_copy, ops_tensor.c). */
fr_status fr_exec_identity(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  if (in[0]->kind != FR_KIND_TENSOR) {
    fr_tensor c = {0};
    if (fr_tensor_clone(in[0], &c) != FR_OK)
      return fr_err_nomem(n);
    fr_tensor_release(out[0]);
    *out[0] = c;
    return FR_OK;
  }
  return fr_exec_planned(x, n, in, out);
}
