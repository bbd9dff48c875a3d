/* compare.c: tensor comparison with NumPy's allclose rule
 * |got - want| <= atol + rtol * |want|, NaN equal to NaN (used by the
 * conformance runner), and `frost compare`. */
#include <math.h>
#include <string.h>

#include "cmd.h"

static fr_status cmp_tensor(const fr_tensor *got, const fr_tensor *want,
                            double rtol, double atol) {
  char a[256], b[256];
  if (got->kind != want->kind || got->dtype != want->dtype ||
      got->rank != want->rank ||
      memcmp(got->dims, want->dims, sizeof(int64_t) * (size_t)(got->rank > 0 ? got->rank : 0)))
    return fr_err(FR_ERR_INVALID, "got %s, expected %s",
                  fr_shape_str(got, a, sizeof a), fr_shape_str(want, b, sizeof b));
  if (got->kind == FR_KIND_SEQUENCE) {
    fr_tensor **g = got->data, **w = want->data;
    for (int64_t i = 0; i < got->dims[0]; i++)
      FR_TRY(cmp_tensor(g[i], w[i], rtol, atol));
    return FR_OK;
  }
  if (got->kind == FR_KIND_OPTIONAL) {
    if (!got->data || !want->data)
      return got->data == want->data
                 ? FR_OK
                 : fr_err(FR_ERR_INVALID, "optional presence differs");
    return cmp_tensor(got->data, want->data, rtol, atol);
  }
  int64_t n = fr_tensor_numel(got);
  if (got->dtype == FR_STRING) {
    char **g = got->data, **w = want->data;
    for (int64_t i = 0; i < n; i++)
      if (strcmp(g[i] ? g[i] : "", w[i] ? w[i] : ""))
        return fr_err(FR_ERR_INVALID, "element %lld: got '%s', expected '%s'",
                      (long long)i, g[i] ? g[i] : "", w[i] ? w[i] : "");
    return FR_OK;
  }
  if (got->dtype == FR_C64 || got->dtype == FR_C128) {
    fr_tensor g = *got, w = *want;
    g.dtype = w.dtype = got->dtype == FR_C64 ? FR_F32 : FR_F64;
    g.rank = w.rank = 1;
    g.dims[0] = w.dims[0] = 2 * n;
    return cmp_tensor(&g, &w, rtol, atol);
  }
  if (!fr_dtype_is_float(got->dtype)) {
    if (memcmp(got->data, want->data, fr_tensor_nbytes(got)) == 0) return FR_OK;
    for (int64_t i = 0; i < n; i++)
      if (fr_tensor_get_i64(got, i) != fr_tensor_get_i64(want, i))
        return fr_err(FR_ERR_INVALID, "element %lld: got %lld, expected %lld",
                      (long long)i, (long long)fr_tensor_get_i64(got, i),
                      (long long)fr_tensor_get_i64(want, i));
    return FR_OK;
  }
  for (int64_t i = 0; i < n; i++) {
    double g = fr_tensor_get_f64(got, i), w = fr_tensor_get_f64(want, i);
    if (isnan(g) && isnan(w)) continue;
    if (g == w) continue;
    if (!(fabs(g - w) <= atol + rtol * fabs(w)))
      return fr_err(FR_ERR_INVALID, "element %lld: got %.9g, expected %.9g",
                    (long long)i, g, w);
  }
  return FR_OK;
}

fr_status fr_compare(const fr_tensor *got, const fr_tensor *want, double rtol,
                     double atol) {
  return cmp_tensor(got, want, rtol, atol);
}

/* `frost compare GOT WANT`: the same check on two tensor files. */
int fr_cmd_compare(fr_cli *c) {
  if (!c->second) {
    fr_err(FR_ERR_USAGE, "compare needs two files");
    return fr_cli_fail();
  }
  fr_tensor a = {0}, b = {0};
  fr_status st = fr_cli_read_input(c->model, &a);
  if (st == FR_OK) st = fr_cli_read_input(c->second, &b);
  if (st == FR_OK) {
    st = fr_compare(&a, &b, c->rtol, c->atol);
    if (st != FR_OK) fr_err_prefix(c->model);
  }
  if (st == FR_OK) {
    double maxdiff = 0;
    int64_t n = fr_tensor_numel(&a);
    for (int64_t i = 0; fr_dtype_is_float(a.dtype) && i < n; i++) {
      double d = fr_tensor_get_f64(&a, i) - fr_tensor_get_f64(&b, i);
      if (d < 0) d = -d;
      if (d > maxdiff) maxdiff = d;
    }
    printf("%s: match (%lld elements, max abs diff %.3g)\n", c->model,
           (long long)n, maxdiff);
  }
  fr_onnx_tensor_free(&a);
  fr_onnx_tensor_free(&b);
  return st == FR_OK ? 0 : fr_cli_fail();
}
