/* tensor.c: allocation, release and copies of runtime tensors. */
#include <string.h>

#include "runtime.h"

fr_status fr_tensor_alloc(fr_tensor *t) {
  int64_t numel;
  FR_TRY(fr_shape_numel(t->rank, t->dims, &numel));
  size_t es = fr_dtype_size(t->dtype);
  if (!es) return fr_err(FR_ERR_UNSUPPORTED, "tensor of unknown data type");
  if ((uint64_t)numel > ((uint64_t)1 << 40) / es)
    return fr_err(FR_ERR_NOMEM, "tensor of %lld elements is too large",
                  (long long)numel);
  if (!fr_mem_fits((size_t)numel * es))
    return fr_err(FR_ERR_NOMEM,
                  "tensor of %zu bytes does not fit under the memory limit of "
                  "%zu bytes (raise it with --max-memory)",
                  (size_t)numel * es, fr_mem_limit());
  t->data = fr_calloc((size_t)numel ? (size_t)numel : 1, es);
  if (!t->data) return fr_err_nomem(NULL);
  return FR_OK;
}

void fr_tensor_release(fr_tensor *t) {
  if (!t->data) return;
  if (t->kind == FR_KIND_SEQUENCE) {
    fr_tensor **el = t->data;
    for (int64_t i = 0; i < t->dims[0]; i++) {
      if (!el[i]) continue;
      fr_tensor_release(el[i]);
      fr_free(el[i]);
    }
  } else if (t->kind == FR_KIND_OPTIONAL) {
    fr_tensor *el = t->data;
    fr_tensor_release(el);
    fr_free(el); /* el is t->data */
    t->data = NULL;
    return;
  } else if (t->dtype == FR_STRING) {
    char **s = t->data;
    int64_t n = fr_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) fr_free(s[i]);
  }
  fr_free(t->data);
  t->data = NULL;
}

fr_status fr_tensor_clone(const fr_tensor *src, fr_tensor *dst) {
  *dst = *src;
  dst->data = NULL;
  if (!src->data) return FR_OK;
  if (src->kind == FR_KIND_SEQUENCE) {
    int64_t n = src->dims[0];
    fr_tensor **el = fr_calloc((size_t)n + 1, sizeof *el);
    if (!el) return fr_err_nomem(NULL);
    dst->data = el;
    fr_tensor **sel = src->data;
    for (int64_t i = 0; i < n; i++) {
      el[i] = fr_tensor_dup(sel[i]);
      if (!el[i]) {
        fr_tensor_release(dst);
        return fr_err_nomem(NULL);
      }
    }
    return FR_OK;
  }
  if (src->kind == FR_KIND_OPTIONAL) {
    dst->data = fr_tensor_dup(src->data);
    return dst->data ? FR_OK : fr_err_nomem(NULL);
  }
  FR_TRY(fr_tensor_alloc(dst));
  if (src->dtype == FR_STRING) {
    int64_t n = fr_tensor_numel(src);
    char **s = src->data, **d = dst->data;
    for (int64_t i = 0; i < n; i++) {
      d[i] = fr_strdup(s[i] ? s[i] : "");
      if (!d[i]) {
        fr_tensor_release(dst);
        return fr_err_nomem(NULL);
      }
    }
    return FR_OK;
  }
  memcpy(dst->data, src->data, fr_tensor_nbytes(src));
  return FR_OK;
}

fr_tensor *fr_tensor_dup(const fr_tensor *src) {
  fr_tensor *t = fr_calloc(1, sizeof *t);
  if (!t) return NULL;
  if (fr_tensor_clone(src, t) != FR_OK) {
    fr_free(t);
    return NULL;
  }
  return t;
}

void fr_bcast_strides(const fr_tensor *a, int rank, const int64_t *dims,
                      int64_t *strides) {
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    int ia = i - (rank - a->rank);
    if (ia < 0 || a->dims[ia] == 1 || dims[i] == 1) {
      strides[i] = 0;
    } else {
      strides[i] = s;
    }
    if (ia >= 0) s *= a->dims[ia];
  }
}

void fr_bcast_init(fr_k_bcast *k, const fr_tensor *a, const fr_tensor *b,
                   const fr_tensor *y) {
  k->rank = y->rank;
  for (int i = 0; i < y->rank; i++) k->dims[i] = y->dims[i];
  fr_bcast_strides(a, y->rank, y->dims, k->sa);
  fr_bcast_strides(b, y->rank, y->dims, k->sb);
}

void fr_tensor_fill_random(fr_tensor *t, uint64_t *seed) {
  for (int64_t i = 0, n = fr_tensor_numel(t); i < n; i++) {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    double u = (double)(*seed >> 11) / 9007199254740992.0;
    fr_tensor_set_f64(t, i, fr_dtype_is_float(t->dtype) ? 2 * u - 1
                            : t->dtype == FR_BOOL      ? u < 0.5
                                                       : (double)(int)(u * 4));
  }
}
