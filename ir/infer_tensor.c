/* infer_tensor.c: shape inference of the tensor movement and shape ops
 * (Reshape, Shape, Transpose, Concat, Split, Slice, Gather, Scatter, Pad,
 * Tile, Range, OneHot, Unique, ...), and the plans they share with the
 * interpreter glue (ir.h). Ops whose output shape depends on input values
 * need those values (they are known at run time, and at compile time when
 * they are constants or computed from shapes); Unique's shapes are left to
 * its exec, which counts the distinct values. */
#include <math.h>
#include <string.h>

#include "ir.h"

enum { MAX_LIST = 1024 };

/* Every present input must be a tensor with a known shape. */
static fr_status check_tensors(const fr_node *n, fr_tensor *const *in) {
  for (int i = 0; i < n->n_in; i++) {
    if (!in[i] && i < fr_ops[n->op].in_min)
      return fr_err_node(FR_ERR_INVALID, n, "required input %d is missing", i);
    if (!in[i]) continue;
    if (in[i]->kind != FR_KIND_TENSOR)
      return fr_err_node(FR_ERR_SHAPE, n, "input %d is not a tensor", i);
    if (in[i]->rank < 0 || in[i]->rank > FR_MAX_RANK)
      return fr_err_node(FR_ERR_SHAPE, n, "input %d has no known shape", i);
  }
  return FR_OK;
}

/* Validates the shape and sets out (skipped when the output is omitted). */
static fr_status set_out(const fr_node *n, fr_tensor *out, fr_dtype t,
                         int rank, const int64_t *dims) {
  if (rank > FR_MAX_RANK)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "output rank %d exceeds %d",
                       rank, FR_MAX_RANK);
  int64_t numel;
  if (fr_shape_numel(rank, dims, &numel) != FR_OK) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", fr_err_msg());
    return fr_err_node(FR_ERR_SHAPE, n, "output shape: %s", msg);
  }
  if (out) fr_set_shape(out, t, rank, dims);
  return FR_OK;
}

static bool is_index_type(fr_dtype t) { return t == FR_I32 || t == FR_I64; }

fr_status fr_tensor_read_ints(const fr_node *n, const fr_tensor *t,
                              const char *what, int64_t *v, int max,
                              int *count) {
  if (!t->data && !(t->rank == 1 && t->dims[0] == 0))
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant '%s'", what);
  if (!fr_dtype_is_int(t->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "'%s' must be integers, not %s", what,
                       fr_dtype_name(t->dtype));
  if (t->rank > 1)
    return fr_err_node(FR_ERR_SHAPE, n, "'%s' must be 1-D, has rank %d", what,
                       t->rank);
  int64_t k = fr_tensor_numel(t);
  if (k > max)
    return fr_err_node(FR_ERR_SHAPE, n, "'%s' has %lld values, at most %d",
                       what, (long long)k, max);
  for (int64_t i = 0; i < k; i++) v[i] = fr_tensor_get_i64(t, i);
  *count = (int)k;
  return FR_OK;
}

/* An integer list from attribute attr (opsets before since) or input i
 * (from since on). *present is false when neither is given. */
static fr_status read_list(const fr_node *n, fr_tensor *const *in, int i,
                           fr_attr_id id, int since, int64_t *v, int max,
                           int *count, bool *present) {
  const char *attr = fr_attr_names[id];
  *count = 0;
  *present = false;
  if (n->opset < since) {
    int len;
    const int64_t *a = fr_attr_ints(n, id, &len);
    if (!a && !fr_attr_get(n, id)) return FR_OK;
    if (len > max)
      return fr_err_node(FR_ERR_SHAPE, n, "'%s' has %d values, at most %d",
                         attr, len, max);
    for (int k = 0; k < len; k++) v[k] = a[k];
    *count = len;
    *present = true;
    return FR_OK;
  }
  if (i >= n->n_in || !in[i]) return FR_OK;
  *present = true;
  return fr_tensor_read_ints(n, in[i], attr, v, max, count);
}

/* Normalizes a list of axes against rank; rejects repeats. */
static fr_status norm_axes(const fr_node *n, const int64_t *axes, int k,
                           int rank, int *out) {
  bool seen[FR_MAX_RANK] = {0};
  for (int i = 0; i < k; i++) {
    FR_TRY(fr_axis(n, axes[i], rank, &out[i]));
    if (out[i] >= FR_MAX_RANK || seen[out[i]])
      return fr_err_node(FR_ERR_SHAPE, n, "axis %lld is repeated",
                         (long long)axes[i]);
    seen[out[i]] = true;
  }
  return FR_OK;
}

static int64_t prod(const int64_t *d, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= d[i];
  return p;
}

/* ---- reshapes --------------------------------------------------------- */

fr_status fr_infer_reshape(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int64_t shape[FR_MAX_RANK + 1];
  int k;
  bool present;
  FR_TRY(read_list(n, in, 1, FR_A_SHAPE, 5, shape, FR_MAX_RANK, &k, &present));
  if (!present) return fr_err_node(FR_ERR_INVALID, n, "'shape' is missing");
  bool allowzero = n->opset >= 14 && fr_attr_int(n, FR_A_ALLOWZERO) != 0;
  const fr_tensor *x = in[0];
  int64_t numel = fr_tensor_numel(x), known = 1, dims[FR_MAX_RANK];
  int neg = -1;
  for (int i = 0; i < k; i++) {
    int64_t v = shape[i];
    if (v == 0 && !allowzero) {
      if (i >= x->rank)
        return fr_err_node(FR_ERR_SHAPE, n,
                           "shape[%d] = 0 copies a dim the input lacks", i);
      v = x->dims[i];
    }
    if (v == -1) {
      if (neg >= 0)
        return fr_err_node(FR_ERR_SHAPE, n, "more than one -1 in the shape");
      neg = i;
      dims[i] = 1;
      continue;
    }
    if (v < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "shape[%d] = %lld is invalid", i,
                         (long long)v);
    if (v && known > INT64_MAX / 16 / v)
      return fr_err_node(FR_ERR_SHAPE, n, "shape is too large");
    known *= v;
    dims[i] = v;
  }
  if (neg >= 0) {
    if (known == 0 || numel % known)
      return fr_err_node(FR_ERR_SHAPE, n,
                         "cannot infer the -1 dim: %lld elements into %lld",
                         (long long)numel, (long long)known);
    dims[neg] = numel / known;
    known *= dims[neg];
  }
  if (known != numel) {
    char s[128];
    return fr_err_node(FR_ERR_SHAPE, n, "cannot reshape %s (%lld elements) "
                       "to a shape of %lld elements",
                       fr_shape_str(x, s, sizeof s), (long long)numel,
                       (long long)known);
  }
  return set_out(n, out[0], x->dtype, k, dims);
}

fr_status fr_infer_flatten(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0];
  int64_t axis = fr_attr_int(n, FR_A_AXIS);
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis > x->rank)
    return fr_err_node(FR_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                       (long long)fr_attr_int(n, FR_A_AXIS), x->rank);
  int64_t dims[2] = {prod(x->dims, 0, (int)axis),
                     prod(x->dims, (int)axis, x->rank)};
  return set_out(n, out[0], x->dtype, 2, dims);
}

fr_status fr_infer_squeeze(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0];
  int64_t axes[FR_MAX_RANK];
  int k, ax[FR_MAX_RANK];
  bool present;
  FR_TRY(read_list(n, in, 1, FR_A_AXES, 13, axes, FR_MAX_RANK, &k, &present));
  bool drop[FR_MAX_RANK] = {0};
  if (!present) {
    for (int d = 0; d < x->rank; d++) drop[d] = x->dims[d] == 1;
  } else {
    FR_TRY(norm_axes(n, axes, k, x->rank, ax));
    for (int i = 0; i < k; i++) {
      if (ax[i] >= x->rank || x->dims[ax[i]] != 1)
        return fr_err_node(FR_ERR_SHAPE, n, "cannot squeeze axis %lld of "
                           "size %lld", (long long)axes[i],
                           (long long)(ax[i] < x->rank ? x->dims[ax[i]] : 0));
      drop[ax[i]] = true;
    }
  }
  int64_t dims[FR_MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->rank; d++)
    if (!drop[d]) dims[r++] = x->dims[d];
  return set_out(n, out[0], x->dtype, r, dims);
}

fr_status fr_infer_unsqueeze(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0];
  int64_t axes[FR_MAX_RANK];
  int k, ax[FR_MAX_RANK];
  bool present;
  FR_TRY(read_list(n, in, 1, FR_A_AXES, 13, axes, FR_MAX_RANK, &k, &present));
  if (!present)
    return fr_err_node(FR_ERR_INVALID, n, "'axes' is missing");
  int r = x->rank + k;
  if (r > FR_MAX_RANK)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "output rank %d exceeds %d", r,
                       FR_MAX_RANK);
  FR_TRY(norm_axes(n, axes, k, r, ax));
  bool ins[FR_MAX_RANK] = {0};
  for (int i = 0; i < k; i++) ins[ax[i]] = true;
  int64_t dims[FR_MAX_RANK];
  for (int d = 0, j = 0; d < r; d++) dims[d] = ins[d] ? 1 : x->dims[j++];
  return set_out(n, out[0], x->dtype, r, dims);
}

/* ---- shapes ----------------------------------------------------------- */

void fr_shape_range(const fr_node *n, int rank, int *start, int *end) {
  int64_t s = 0, e = rank;
  if (n->opset >= 15) {
    s = fr_attr_int(n, FR_A_START);
    if (fr_attr_get(n, FR_A_END)) e = fr_attr_int(n, FR_A_END);
  }
  if (s < 0) s += rank;
  if (e < 0) e += rank;
  s = s < 0 ? 0 : s > rank ? rank : s;
  e = e < 0 ? 0 : e > rank ? rank : e;
  *start = (int)s;
  *end = (int)(e > s ? e : s);
}

fr_status fr_infer_shape(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int s, e;
  fr_shape_range(n, in[0]->rank, &s, &e);
  int64_t len = e - s;
  return set_out(n, out[0], FR_I64, 1, &len);
}

fr_status fr_infer_size(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  return set_out(n, out[0], FR_I64, 0, NULL);
}

/* ---- permutations ----------------------------------------------------- */

fr_status fr_transpose_perm(const fr_node *n, int rank, int *perm) {
  int len;
  const int64_t *p = fr_attr_ints(n, FR_A_PERM, &len);
  if (!p) {
    for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
    return FR_OK;
  }
  if (len != rank)
    return fr_err_node(FR_ERR_SHAPE, n, "perm has %d entries for rank %d",
                       len, rank);
  bool seen[FR_MAX_RANK] = {0};
  for (int i = 0; i < rank; i++) {
    if (p[i] < 0 || p[i] >= rank || seen[p[i]])
      return fr_err_node(FR_ERR_SHAPE, n, "perm is not a permutation of "
                         "0..%d", rank - 1);
    seen[p[i]] = true;
    perm[i] = (int)p[i];
  }
  return FR_OK;
}

fr_status fr_infer_transpose(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int perm[FR_MAX_RANK];
  FR_TRY(fr_transpose_perm(n, in[0]->rank, perm));
  int64_t dims[FR_MAX_RANK];
  for (int i = 0; i < in[0]->rank; i++) dims[i] = in[0]->dims[perm[i]];
  return set_out(n, out[0], in[0]->dtype, in[0]->rank, dims);
}

fr_status fr_depth_space_attrs(const fr_node *n, int64_t *b, bool *crd) {
  *b = fr_attr_int(n, FR_A_BLOCKSIZE);
  if (*b <= 0 || *b > (1 << 20))
    return fr_err_node(FR_ERR_INVALID, n, "blocksize %lld is invalid",
                       (long long)*b);
  *crd = false;
  if (n->op != FR_OP_DEPTH_TO_SPACE || n->opset < 11) return FR_OK;
  const char *mode = fr_attr_str(n, FR_A_MODE);
  if (strcmp(mode, "DCR") && strcmp(mode, "CRD"))
    return fr_err_node(FR_ERR_INVALID, n, "unknown mode '%s'", mode);
  *crd = !strcmp(mode, "CRD");
  return FR_OK;
}

/* DepthToSpace (N, C, H, W) -> (N, C/b^2, H*b, W*b); SpaceToDepth back. */
fr_status fr_infer_depth_space(const fr_node *n, fr_tensor *const *in,
                               fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0];
  if (x->rank != 4)
    return fr_err_node(FR_ERR_SHAPE, n, "input must be (N, C, H, W), has "
                       "rank %d", x->rank);
  int64_t b, dims[4];
  bool crd;
  FR_TRY(fr_depth_space_attrs(n, &b, &crd));
  if (n->op == FR_OP_DEPTH_TO_SPACE) {
    if (x->dims[1] % (b * b))
      return fr_err_node(FR_ERR_SHAPE, n, "channels %lld not divisible by "
                         "blocksize^2 = %lld", (long long)x->dims[1],
                         (long long)(b * b));
    if (x->dims[2] > INT64_MAX / b / 16 || x->dims[3] > INT64_MAX / b / 16)
      return fr_err_node(FR_ERR_SHAPE, n, "output is too large");
    int64_t d[4] = {x->dims[0], x->dims[1] / (b * b), x->dims[2] * b,
                    x->dims[3] * b};
    memcpy(dims, d, sizeof d);
  } else {
    if (x->dims[2] % b || x->dims[3] % b)
      return fr_err_node(FR_ERR_SHAPE, n, "H and W must be divisible by "
                         "blocksize %lld", (long long)b);
    if (x->dims[1] > INT64_MAX / b / b / 16)
      return fr_err_node(FR_ERR_SHAPE, n, "output is too large");
    int64_t d[4] = {x->dims[0], x->dims[1] * b * b, x->dims[2] / b,
                    x->dims[3] / b};
    memcpy(dims, d, sizeof d);
  }
  return set_out(n, out[0], x->dtype, 4, dims);
}

/* ---- concatenation and splitting -------------------------------------- */

fr_status fr_infer_concat(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  for (int i = 0; i < n->n_in; i++)
    if (!in[i]) return fr_err_node(FR_ERR_INVALID, n, "input %d is missing", i);
  const fr_tensor *x = in[0];
  if (n->opset >= 4 && !fr_attr_get(n, FR_A_AXIS))
    return fr_err_node(FR_ERR_INVALID, n, "attribute 'axis' is missing");
  if (x->rank == 0)
    return fr_err_node(FR_ERR_SHAPE, n, "cannot concatenate scalars");
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  int64_t dims[FR_MAX_RANK];
  memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  for (int i = 1; i < n->n_in; i++) {
    const fr_tensor *t = in[i];
    bool ok = t->dtype == x->dtype && t->rank == x->rank;
    for (int d = 0; ok && d < x->rank; d++)
      if (d != axis && t->dims[d] != x->dims[d]) ok = false;
    if (!ok) {
      char a[128], b[128];
      return fr_err_node(FR_ERR_SHAPE, n, "cannot concatenate %s and %s on "
                         "axis %d", fr_shape_str(x, a, sizeof a),
                         fr_shape_str(t, b, sizeof b), axis);
    }
    dims[axis] += t->dims[axis];
  }
  return set_out(n, out[0], x->dtype, x->rank, dims);
}

fr_status fr_split_plan(const fr_node *n, fr_tensor *const *in, int *axis,
                        int64_t *sizes) {
  const fr_tensor *x = in[0];
  if (x->rank == 0) return fr_err_node(FR_ERR_SHAPE, n, "cannot split a scalar");
  FR_TRY(fr_attr_axis(n, x->rank, axis));
  int64_t dim = x->dims[*axis];
  int k = 0, nout = n->n_out;
  bool present = false;
  if (n->n_in > 1 && in[1]) { /* an input in opset 1 and from 13 on */
    FR_TRY(fr_tensor_read_ints(n, in[1], "split", sizes, nout, &k));
    present = true;
  } else if (n->opset < 13 && fr_attr_get(n, FR_A_SPLIT)) {
    const int64_t *a = fr_attr_ints(n, FR_A_SPLIT, &k);
    if (k > nout)
      return fr_err_node(FR_ERR_SHAPE, n, "'split' has %d values for %d "
                         "outputs", k, nout);
    for (int i = 0; i < k; i++) sizes[i] = a[i];
    present = true;
  }
  if (present) {
    if (k != nout)
      return fr_err_node(FR_ERR_SHAPE, n, "'split' has %d values for %d "
                         "outputs", k, nout);
    int64_t sum = 0;
    for (int i = 0; i < k; i++) {
      if (sizes[i] < 0 || sizes[i] > dim)
        return fr_err_node(FR_ERR_SHAPE, n, "split size %lld is invalid",
                           (long long)sizes[i]);
      sum += sizes[i];
    }
    if (sum != dim)
      return fr_err_node(FR_ERR_SHAPE, n, "split sizes sum to %lld, the "
                         "axis has %lld", (long long)sum, (long long)dim);
    return FR_OK;
  }
  if (n->opset >= 18 && fr_attr_get(n, FR_A_NUM_OUTPUTS)) {
    int64_t no = fr_attr_int(n, FR_A_NUM_OUTPUTS);
    if (no != nout)
      return fr_err_node(FR_ERR_INVALID, n, "num_outputs is %lld but the node "
                         "has %d outputs", (long long)no, nout);
    int64_t chunk = (dim + nout - 1) / nout;
    for (int i = 0; i < nout; i++) {
      int64_t left = dim - chunk * i;
      sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
    }
    return FR_OK;
  }
  if (dim % nout)
    return fr_err_node(FR_ERR_SHAPE, n, "axis of %lld cannot be split in %d "
                       "equal parts", (long long)dim, nout);
  for (int i = 0; i < nout; i++) sizes[i] = dim / nout;
  return FR_OK;
}

fr_status fr_infer_split(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int64_t sizes[MAX_LIST];
  int axis;
  if (n->n_out > MAX_LIST)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "too many outputs");
  FR_TRY(fr_split_plan(n, in, &axis, sizes));
  int64_t dims[FR_MAX_RANK];
  memcpy(dims, in[0]->dims, sizeof(int64_t) * (size_t)in[0]->rank);
  for (int i = 0; i < n->n_out; i++) {
    dims[axis] = sizes[i];
    FR_TRY(set_out(n, out[i], in[0]->dtype, in[0]->rank, dims));
  }
  return FR_OK;
}

/* ---- slicing ---------------------------------------------------------- */

fr_status fr_slice_plan(const fr_node *n, fr_tensor *const *in,
                        int64_t *start, int64_t *step, int64_t *len) {
  const fr_tensor *x = in[0];
  int r = x->rank;
  for (int d = 0; d < r; d++) {
    start[d] = 0;
    step[d] = 1;
    len[d] = x->dims[d];
  }
  int64_t st[FR_MAX_RANK], en[FR_MAX_RANK], axes[FR_MAX_RANK],
      steps[FR_MAX_RANK];
  int ks, ke, ka, kp;
  bool pa, pp, ps, pe;
  FR_TRY(read_list(n, in, 1, FR_A_STARTS, 10, st, FR_MAX_RANK, &ks, &ps));
  FR_TRY(read_list(n, in, 2, FR_A_ENDS, 10, en, FR_MAX_RANK, &ke, &pe));
  FR_TRY(read_list(n, in, 3, FR_A_AXES, 10, axes, FR_MAX_RANK, &ka, &pa));
  pp = n->opset >= 10 && n->n_in > 4 && in[4], kp = 0; /* an input only */
  if (pp) FR_TRY(fr_tensor_read_ints(n, in[4], "steps", steps, FR_MAX_RANK, &kp));
  if (!ps || !pe)
    return fr_err_node(FR_ERR_INVALID, n, "'starts' and 'ends' are required");
  if (ks != ke || (pa && ka != ks) || (pp && kp != ks))
    return fr_err_node(FR_ERR_SHAPE, n, "starts, ends, axes and steps "
                       "differ in length");
  if (ks > r)
    return fr_err_node(FR_ERR_SHAPE, n, "%d axes sliced for rank %d", ks, r);
  int ax[FR_MAX_RANK];
  if (pa) {
    FR_TRY(norm_axes(n, axes, ka, r, ax));
    for (int i = 0; i < ka; i++)
      if (ax[i] >= r)
        return fr_err_node(FR_ERR_SHAPE, n, "axis %lld out of range",
                           (long long)axes[i]);
  } else {
    for (int i = 0; i < ks; i++) ax[i] = i;
  }
  for (int i = 0; i < ks; i++) {
    int a = ax[i];
    int64_t d = x->dims[a], s = st[i], e = en[i], p = pp ? steps[i] : 1;
    if (p == 0) return fr_err_node(FR_ERR_INVALID, n, "step 0 on axis %d", a);
    if (p < -INT64_MAX) p = -INT64_MAX;
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t l;
    if (p > 0) {
      s = s < 0 ? 0 : s > d ? d : s;
      e = e < 0 ? 0 : e > d ? d : e;
      l = e > s ? 1 + (e - s - 1) / p : 0;
    } else {
      s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
      e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
      l = d > 0 && s > e ? 1 + (s - e - 1) / -p : 0;
    }
    start[a] = l ? s : 0;
    step[a] = p;
    len[a] = l;
  }
  return FR_OK;
}

fr_status fr_infer_slice(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int64_t start[FR_MAX_RANK], step[FR_MAX_RANK], len[FR_MAX_RANK];
  FR_TRY(fr_slice_plan(n, in, start, step, len));
  return set_out(n, out[0], in[0]->dtype, in[0]->rank, len);
}

/* ---- gathers and scatters --------------------------------------------- */

fr_status fr_infer_gather(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0], *idx = in[1];
  if (!is_index_type(idx->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "indices must be i32 or i64");
  if (x->rank == 0) return fr_err_node(FR_ERR_SHAPE, n, "data is a scalar");
  int axis;
  FR_TRY(fr_attr_axis(n, x->rank, &axis));
  int r = x->rank - 1 + idx->rank;
  if (r > FR_MAX_RANK)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "output rank %d exceeds %d", r,
                       FR_MAX_RANK);
  int64_t dims[FR_MAX_RANK];
  int k = 0;
  for (int d = 0; d < axis; d++) dims[k++] = x->dims[d];
  for (int d = 0; d < idx->rank; d++) dims[k++] = idx->dims[d];
  for (int d = axis + 1; d < x->rank; d++) dims[k++] = x->dims[d];
  return set_out(n, out[0], x->dtype, r, dims);
}

/* GatherElements (data, indices) and ScatterElements / Scatter (data,
 * indices, updates): indices of data's rank, no larger than data except
 * along the axis; updates shaped as indices. */
static fr_status elements_check(const fr_node *n, fr_tensor *const *in,
                                int *axis) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0], *idx = in[1];
  if (!is_index_type(idx->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "indices must be i32 or i64");
  if (x->rank == 0 || idx->rank != x->rank)
    return fr_err_node(FR_ERR_SHAPE, n, "indices have rank %d, data %d",
                       idx->rank, x->rank);
  FR_TRY(fr_attr_axis(n, x->rank, axis));
  for (int d = 0; d < x->rank; d++)
    if (d != *axis && idx->dims[d] > x->dims[d])
      return fr_err_node(FR_ERR_SHAPE, n, "indices dim %d (%lld) exceeds the "
                         "data's (%lld)", d, (long long)idx->dims[d],
                         (long long)x->dims[d]);
  if (n->n_in > 2) {
    const fr_tensor *u = in[2];
    if (!u) return fr_err_node(FR_ERR_INVALID, n, "updates are missing");
    if (u->dtype != x->dtype || u->rank != idx->rank ||
        memcmp(u->dims, idx->dims, sizeof(int64_t) * (size_t)u->rank))
      return fr_err_node(FR_ERR_SHAPE, n, "updates must match the indices' "
                         "shape and the data's dtype");
  }
  return FR_OK;
}

fr_status fr_infer_gather_elements(const fr_node *n, fr_tensor *const *in,
                                   fr_tensor *const *out) {
  int axis;
  FR_TRY(elements_check(n, in, &axis));
  return set_out(n, out[0], in[0]->dtype, in[1]->rank, in[1]->dims);
}

fr_status fr_scatter_reduction(const fr_node *n, int *red) {
  static const char *const names[] = {"none", "add", "mul", "max", "min"};
  /* Scatter (opset 9, 10) has no reduction */
  const char *r = n->op == FR_OP_SCATTER ? "none" : fr_attr_str(n, FR_A_REDUCTION);
  for (int i = 0; i < 5; i++) {
    if (strcmp(r, names[i])) continue;
    *red = i;
    if (i == FR_SCATTER_NONE || (i <= FR_SCATTER_MUL && n->opset >= 16) ||
        n->opset >= 18)
      return FR_OK;
  }
  return fr_err_node(FR_ERR_INVALID, n, "reduction '%s' is not valid", r);
}

fr_status fr_infer_scatter_elements(const fr_node *n, fr_tensor *const *in,
                                    fr_tensor *const *out) {
  int axis;
  FR_TRY(elements_check(n, in, &axis));
  int red;
  FR_TRY(fr_scatter_reduction(n, &red));
  return set_out(n, out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
}

int64_t fr_gather_nd_batch_dims(const fr_node *n) {
  return n->opset >= 12 ? fr_attr_int(n, FR_A_BATCH_DIMS) : 0;
}

fr_status fr_infer_gather_nd(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0], *idx = in[1];
  if (!is_index_type(idx->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "indices must be i32 or i64");
  int64_t b = fr_gather_nd_batch_dims(n);
  int r = x->rank, q = idx->rank;
  if (r < 1 || q < 1 || b < 0 || b >= (r < q ? r : q))
    return fr_err_node(FR_ERR_SHAPE, n, "batch_dims %lld invalid for data "
                       "rank %d and indices rank %d", (long long)b, r, q);
  for (int d = 0; d < b; d++)
    if (x->dims[d] != idx->dims[d])
      return fr_err_node(FR_ERR_SHAPE, n, "batch dim %d differs", d);
  int64_t k = idx->dims[q - 1];
  if (k < 1 || k > r - b)
    return fr_err_node(FR_ERR_SHAPE, n, "index tuples of %lld for %lld "
                       "indexable dims", (long long)k, (long long)(r - b));
  int64_t dims[2 * FR_MAX_RANK];
  int o = 0;
  for (int d = 0; d < q - 1; d++) dims[o++] = idx->dims[d];
  for (int d = (int)(b + k); d < r; d++) dims[o++] = x->dims[d];
  return set_out(n, out[0], x->dtype, o, dims);
}

fr_status fr_infer_scatter_nd(const fr_node *n, fr_tensor *const *in,
                              fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0], *idx = in[1], *u = in[2];
  if (!is_index_type(idx->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "indices must be i32 or i64");
  int red;
  FR_TRY(fr_scatter_reduction(n, &red));
  int r = x->rank, q = idx->rank;
  if (r < 1 || q < 1)
    return fr_err_node(FR_ERR_SHAPE, n, "data and indices need rank >= 1");
  int64_t k = idx->dims[q - 1];
  if (k < 1 || k > r)
    return fr_err_node(FR_ERR_SHAPE, n, "index tuples of %lld for rank %d",
                       (long long)k, r);
  bool ok = u->dtype == x->dtype && u->rank == q - 1 + r - (int)k;
  for (int d = 0; ok && d < q - 1; d++) ok = u->dims[d] == idx->dims[d];
  for (int d = (int)k; ok && d < r; d++)
    ok = u->dims[q - 1 + d - k] == x->dims[d];
  if (!ok)
    return fr_err_node(FR_ERR_SHAPE, n, "updates do not fit data and "
                       "indices");
  return set_out(n, out[0], x->dtype, r, x->dims);
}

fr_status fr_compress_axis(const fr_node *n, const fr_tensor *x, int *axis) {
  *axis = -1;
  if (!fr_attr_get(n, FR_A_AXIS)) return FR_OK;
  if (x->rank == 0) return fr_err_node(FR_ERR_SHAPE, n, "data is a scalar");
  return fr_attr_axis(n, x->rank, axis);
}

fr_status fr_infer_compress(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0], *c = in[1];
  if (c->rank != 1 || c->dtype != FR_BOOL)
    return fr_err_node(FR_ERR_SHAPE, n, "condition must be a 1-D bool");
  if (!c->data)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant condition");
  int axis;
  FR_TRY(fr_compress_axis(n, x, &axis));
  bool has_axis = axis >= 0;
  int64_t dim = has_axis ? x->dims[axis] : fr_tensor_numel(x);
  int64_t cnt = 0;
  const uint8_t *cv = c->data;
  for (int64_t i = 0; i < c->dims[0]; i++) {
    if (!cv[i]) continue;
    if (i >= dim)
      return fr_err_node(FR_ERR_SHAPE, n, "condition selects index %lld of "
                         "an axis of %lld", (long long)i, (long long)dim);
    cnt++;
  }
  if (!has_axis) return set_out(n, out[0], x->dtype, 1, &cnt);
  int64_t dims[FR_MAX_RANK];
  memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  dims[axis] = cnt;
  return set_out(n, out[0], x->dtype, x->rank, dims);
}

/* ---- broadcasting and padding ----------------------------------------- */

fr_status fr_infer_expand(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int64_t shape[FR_MAX_RANK];
  int k;
  FR_TRY(fr_tensor_read_ints(n, in[1], "shape", shape, FR_MAX_RANK, &k));
  fr_tensor s = {.kind = FR_KIND_TENSOR, .dtype = in[0]->dtype, .rank = k};
  for (int i = 0; i < k; i++) {
    if (shape[i] < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "shape[%d] = %lld is negative", i,
                         (long long)shape[i]);
    s.dims[i] = shape[i];
  }
  int r;
  int64_t dims[FR_MAX_RANK];
  FR_TRY(fr_broadcast(n, in[0], &s, &r, dims));
  return set_out(n, out[0], in[0]->dtype, r, dims);
}

fr_status fr_infer_tile(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0];
  int64_t rep[FR_MAX_RANK], dims[FR_MAX_RANK];
  int k;
  FR_TRY(fr_tensor_read_ints(n, in[1], "repeats", rep, FR_MAX_RANK, &k));
  if (k != x->rank)
    return fr_err_node(FR_ERR_SHAPE, n, "%d repeats for rank %d", k, x->rank);
  for (int d = 0; d < k; d++) {
    if (rep[d] < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "repeats[%d] is negative", d);
    if (rep[d] && x->dims[d] > INT64_MAX / 16 / rep[d])
      return fr_err_node(FR_ERR_SHAPE, n, "output is too large");
    dims[d] = x->dims[d] * rep[d];
  }
  return set_out(n, out[0], x->dtype, k, dims);
}

fr_status fr_pad_plan(const fr_node *n, fr_tensor *const *in, int64_t *pads,
                      int *mode) {
  const fr_tensor *x = in[0];
  int r = x->rank;
  const char *m = fr_attr_str(n, FR_A_MODE);
  if (!strcmp(m, "constant")) *mode = FR_PAD_CONSTANT;
  else if (!strcmp(m, "reflect")) *mode = FR_PAD_REFLECT;
  else if (!strcmp(m, "edge")) *mode = FR_PAD_EDGE;
  else if (!strcmp(m, "wrap") && n->opset >= 19) *mode = FR_PAD_WRAP;
  else return fr_err_node(FR_ERR_INVALID, n, "unknown mode '%s'", m);
  int64_t p[2 * FR_MAX_RANK], axes[FR_MAX_RANK];
  int k, ka = r;
  bool present;
  FR_TRY(read_list(n, in, 1, FR_A_PADS, 11, p, 2 * FR_MAX_RANK, &k, &present));
  if (!present) return fr_err_node(FR_ERR_INVALID, n, "'pads' is missing");
  int ax[FR_MAX_RANK];
  for (int d = 0; d < r; d++) ax[d] = d;
  if (n->opset >= 18 && n->n_in > 3 && in[3]) {
    FR_TRY(fr_tensor_read_ints(n, in[3], "axes", axes, FR_MAX_RANK, &ka));
    FR_TRY(norm_axes(n, axes, ka, r, ax));
  }
  if (k != 2 * ka)
    return fr_err_node(FR_ERR_SHAPE, n, "%d pads for %d axes", k, ka);
  for (int d = 0; d < 2 * r; d++) pads[d] = 0;
  for (int i = 0; i < ka; i++) {
    pads[ax[i]] = p[i];
    pads[r + ax[i]] = p[ka + i];
  }
  for (int d = 0; d < r; d++) {
    int64_t b = pads[d], e = pads[r + d], dim = x->dims[d];
    if (b > (INT64_C(1) << 40) || e > (INT64_C(1) << 40) ||
        b < -dim || e < -dim || dim + b + e < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "pads %lld, %lld invalid for a dim "
                         "of %lld", (long long)b, (long long)e,
                         (long long)dim);
    if (*mode != FR_PAD_CONSTANT && dim == 0 && (b > 0 || e > 0))
      return fr_err_node(FR_ERR_SHAPE, n, "cannot pad an empty dim in mode "
                         "'%s'", m);
  }
  return FR_OK;
}

fr_status fr_infer_pad(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0];
  int64_t pads[2 * FR_MAX_RANK], dims[FR_MAX_RANK];
  int mode;
  FR_TRY(fr_pad_plan(n, in, pads, &mode));
  if (n->opset >= 11 && n->n_in > 2 && in[2] &&
      (in[2]->dtype != x->dtype || fr_tensor_numel(in[2]) != 1))
    return fr_err_node(FR_ERR_SHAPE, n, "constant_value must be one element "
                       "of the data's dtype");
  for (int d = 0; d < x->rank; d++)
    dims[d] = x->dims[d] + pads[d] + pads[x->rank + d];
  return set_out(n, out[0], x->dtype, x->rank, dims);
}

/* ---- generators ------------------------------------------------------- */

fr_status fr_constant_of_shape_value(const fr_node *n, const fr_tensor **v) {
  const fr_attr *a = fr_attr_get(n, FR_A_VALUE);
  *v = NULL;
  if (!a) return FR_OK;
  if (!a->t || fr_tensor_numel(a->t) != 1 || !fr_dtype_size(a->t->dtype))
    return fr_err_node(FR_ERR_INVALID, n, "'value' must be a one-element "
                       "tensor");
  *v = a->t;
  return FR_OK;
}

fr_status fr_infer_constant_of_shape(const fr_node *n, fr_tensor *const *in,
                                     fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int64_t dims[FR_MAX_RANK];
  int k;
  FR_TRY(fr_tensor_read_ints(n, in[0], "input", dims, FR_MAX_RANK, &k));
  for (int i = 0; i < k; i++)
    if (dims[i] < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "shape[%d] = %lld is negative", i,
                         (long long)dims[i]);
  const fr_tensor *v;
  FR_TRY(fr_constant_of_shape_value(n, &v));
  return set_out(n, out[0], v ? v->dtype : FR_F32, k, dims);
}

/* The element count of Range, computed exactly for integers. */
static fr_status range_count(const fr_node *n, fr_tensor *const *in,
                             int64_t *count) {
  for (int i = 0; i < 3; i++) {
    if (fr_tensor_numel(in[i]) != 1 || in[i]->dtype != in[0]->dtype)
      return fr_err_node(FR_ERR_SHAPE, n, "start, limit and delta must be "
                         "scalars of one dtype");
    if (!in[i]->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs constant inputs");
  }
  fr_dtype t = in[0]->dtype;
  double c;
  if (t == FR_F32 || t == FR_F64) {
    double s = fr_tensor_get_f64(in[0], 0), l = fr_tensor_get_f64(in[1], 0),
           d = fr_tensor_get_f64(in[2], 0);
    if (d == 0 || isnan(s) || isnan(l) || isnan(d))
      return fr_err_node(FR_ERR_INVALID, n, "delta is 0 or a value is NaN");
    c = ceil((l - s) / d);
  } else if (t == FR_I16 || t == FR_I32 || t == FR_I64) {
    __int128 s = fr_tensor_get_i64(in[0], 0), l = fr_tensor_get_i64(in[1], 0),
             d = fr_tensor_get_i64(in[2], 0);
    if (d == 0) return fr_err_node(FR_ERR_INVALID, n, "delta is 0");
    __int128 diff = l - s, q = diff / d;
    if (q * d != diff && (diff > 0) == (d > 0)) q++; /* ceil */
    c = (double)q;
  } else {
    return fr_err_node(FR_ERR_SHAPE, n, "dtype %s is not supported",
                       fr_dtype_name(t));
  }
  if (!(c < (double)(INT64_C(1) << 40)))
    return fr_err_node(FR_ERR_SHAPE, n, "the range is too long");
  *count = c > 0 ? (int64_t)c : 0;
  return FR_OK;
}

fr_status fr_infer_range(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int64_t c;
  FR_TRY(range_count(n, in, &c));
  return set_out(n, out[0], in[0]->dtype, 1, &c);
}

fr_status fr_infer_eye_like(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  if (in[0]->rank != 2)
    return fr_err_node(FR_ERR_SHAPE, n, "input must be 2-D, has rank %d",
                       in[0]->rank);
  fr_dtype t = fr_attr_get(n, FR_A_DTYPE) ? (fr_dtype)fr_attr_int(n, FR_A_DTYPE)
                                          : in[0]->dtype;
  if (t == FR_STRING || t == FR_C64 || t == FR_C128 || !fr_dtype_size(t))
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "dtype %d", (int)t);
  return set_out(n, out[0], t, 2, in[0]->dims);
}

fr_status fr_infer_trilu(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  if (in[0]->rank < 2)
    return fr_err_node(FR_ERR_SHAPE, n, "input needs rank >= 2");
  if (n->n_in > 1 && in[1] &&
      (fr_tensor_numel(in[1]) != 1 || !fr_dtype_is_int(in[1]->dtype)))
    return fr_err_node(FR_ERR_SHAPE, n, "k must be an integer scalar");
  return set_out(n, out[0], in[0]->dtype, in[0]->rank, in[0]->dims);
}

/* OneHot: the depth and the normalized axis of the new dim. */
static fr_status onehot_plan(const fr_node *n, fr_tensor *const *in,
                             int64_t *depth, int *axis) {
  const fr_tensor *idx = in[0], *dp = in[1], *v = in[2];
  if (fr_tensor_numel(dp) != 1 || fr_tensor_numel(v) != 2 || v->rank != 1)
    return fr_err_node(FR_ERR_SHAPE, n, "depth must be a scalar and values "
                       "hold [off, on]");
  if (!dp->data)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant depth");
  double d = fr_tensor_get_f64(dp, 0);
  if (!(d >= 1 && d < (double)(INT64_C(1) << 40)))
    return fr_err_node(FR_ERR_INVALID, n, "depth %g is invalid", d);
  *depth = (int64_t)d;
  return fr_attr_axis(n, idx->rank + 1, axis);
}

fr_status fr_infer_onehot(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int64_t depth = 0;
  int axis = 0;
  FR_TRY(onehot_plan(n, in, &depth, &axis));
  const fr_tensor *idx = in[0];
  if (idx->rank + 1 > FR_MAX_RANK)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "output rank exceeds %d",
                       FR_MAX_RANK);
  int64_t dims[FR_MAX_RANK];
  for (int d = 0, j = 0; d <= idx->rank; d++)
    dims[d] = d == axis ? depth : idx->dims[j++];
  return set_out(n, out[0], in[2]->dtype, idx->rank + 1, dims);
}

/* ---- sequences and selections ----------------------------------------- */

fr_status fr_infer_reverse_sequence(const fr_node *n, fr_tensor *const *in,
                                    fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0], *l = in[1];
  int64_t ba = fr_attr_int(n, FR_A_BATCH_AXIS), ta = fr_attr_int(n, FR_A_TIME_AXIS);
  if (x->rank < 2 || (ba != 0 && ba != 1) || (ta != 0 && ta != 1) || ba == ta)
    return fr_err_node(FR_ERR_SHAPE, n, "needs rank >= 2 and batch_axis, "
                       "time_axis being 0 and 1");
  if (l->rank != 1 || l->dims[0] != x->dims[ba] || !fr_dtype_is_int(l->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "sequence_lens must be integers, one "
                       "per batch entry");
  return set_out(n, out[0], x->dtype, x->rank, x->dims);
}

fr_status fr_infer_nonzero(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  const fr_tensor *x = in[0];
  if (!x->data)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant input");
  int64_t numel = fr_tensor_numel(x), cnt = 0;
  for (int64_t i = 0; i < numel; i++) {
    if (x->dtype == FR_STRING) {
      const char *s = ((char *const *)x->data)[i];
      cnt += s && s[0];
    } else {
      cnt += fr_tensor_get_f64(x, i) != 0;
    }
  }
  int64_t dims[2] = {x->rank ? x->rank : 1, cnt};
  return set_out(n, out[0], FR_I64, 2, dims);
}

fr_status fr_unique_layout(const fr_node *n, const fr_tensor *x, int *axis,
                           int64_t *outer, int64_t *rows, int64_t *inner) {
  *axis = -1;
  *outer = *inner = 1;
  *rows = fr_tensor_numel(x);
  if (!fr_attr_get(n, FR_A_AXIS)) return FR_OK;
  if (x->rank == 0) return fr_err_node(FR_ERR_SHAPE, n, "input is a scalar");
  FR_TRY(fr_attr_axis(n, x->rank, axis));
  *outer = prod(x->dims, 0, *axis);
  *rows = x->dims[*axis];
  *inner = prod(x->dims, *axis + 1, x->rank);
  return FR_OK;
}

/* Unique's output shapes depend on its input's values: the number of
 * distinct rows is known only once exec has counted them, which then
 * produces the outputs (fr_set_later). */
fr_status fr_infer_unique(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  FR_TRY(check_tensors(n, in));
  int axis;
  int64_t outer, rows, inner;
  FR_TRY(fr_unique_layout(n, in[0], &axis, &outer, &rows, &inner));
  if (!fr_at_run_time(n, in, out))
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the number of unique values is known only at run "
                       "time");
  for (int i = 0; i < n->n_out; i++) fr_set_later(out[i]);
  return FR_OK;
}
