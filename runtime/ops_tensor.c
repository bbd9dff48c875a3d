/* ops_tensor.c: interpreter glue and plans of the tensor movement and
 * shape ops. Reads attributes and index inputs (validating every index),
 * computes sizes and strides; the movement ops are plans of the entries of
 * kernels/tensor.c, the rest call its kernels. Movement kernels copy bytes,
 * so string tensors come out holding the input's char*; fr_own_strings
 * (called by fr_exec_planned for plans) then gives the output its own
 * copies. */
#include <string.h>

#include "runtime.h"

static int64_t esz(const fr_tensor *t) {
  return (int64_t)fr_dtype_size(t->dtype);
}

static int64_t prod(const int64_t *d, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= d[i];
  return p;
}

/* Row-major strides (in elements) of t. */
static void strides_of(const fr_tensor *t, int64_t *s) {
  int64_t k = 1;
  for (int d = t->rank - 1; d >= 0; d--) {
    s[d] = k;
    k *= t->dims[d];
  }
}

/* Drops dims of size 1 and merges dims that are contiguous in x too, so
 * the kernel's inner loop runs as long as possible. */
static void coalesce(fr_k_strided *p) {
  int r = 0;
  for (int i = 0; i < p->rank; i++) {
    if (p->dims[i] == 1) continue;
    if (r > 0 && p->xs[r - 1] == p->xs[i] * p->dims[i]) {
      p->dims[r - 1] *= p->dims[i];
      p->xs[r - 1] = p->xs[i];
    } else {
      p->dims[r] = p->dims[i];
      p->xs[r] = p->xs[i];
      r++;
    }
  }
  p->rank = r;
}

/* The plan of a strided copy of x into y (bufs slot y_slot). */
static fr_status strided(const fr_node *n, fr_k_strided *s, const fr_tensor *x,
                         fr_kplan *kp) {
  fr_k_strided_plan p;
  memset(&p, 0, sizeof p);
  p.y = fr_kplan_in_slots(n);
  p.s = *s;
  p.s.esize = esz(x);
  coalesce(&p.s);
  FR_KPLAN(kp, fr_ke_strided, p);
  return FR_OK;
}

/* Normalized copy of an index tensor: each value in [-dim, dim) (dim of
 * component i % q), made non-negative. *out is fr_malloc'd. */
static fr_status norm_indices(const fr_node *n, const fr_tensor *idx, int q,
                              const int64_t *dims, int64_t **out) {
  int64_t k = fr_tensor_numel(idx);
  int64_t *v = fr_malloc(sizeof(int64_t) * (size_t)(k + 1));
  if (!v) return fr_err_nomem(n);
  for (int64_t i = 0; i < k; i++) {
    int64_t x = fr_tensor_get_i64(idx, i), d = dims[i % q];
    if (x < -d || x >= d) {
      fr_free(v);
      return fr_err_node(FR_ERR_INVALID, n, "index %lld out of range for a "
                         "dim of %lld", (long long)x, (long long)d);
    }
    v[i] = x < 0 ? x + d : x;
  }
  *out = v;
  return FR_OK;
}

/* ---- copies ----------------------------------------------------------- */

/* Identity, Reshape, Flatten, Squeeze, Unsqueeze: the same bytes. */
fr_status fr_plan_copy(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  if (in[0]->kind != FR_KIND_TENSOR)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "not a tensor");
  fr_k_copy_plan p;
  memset(&p, 0, sizeof p);
  p.bytes = (int64_t)fr_tensor_nbytes(in[0]);
  p.y = fr_kplan_in_slots(n);
  FR_KPLAN(kp, fr_ke_copy, p);
  kp->alias = true;
  return FR_OK;
}

fr_status fr_exec_shape(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  (void)x;
  int64_t *y = out[0]->data;
  if (n->op == FR_OP_SIZE) {
    y[0] = fr_tensor_numel(in[0]);
    return FR_OK;
  }
  int s, e;
  fr_shape_range(n, in[0]->rank, &s, &e);
  for (int i = s; i < e; i++) y[i - s] = in[0]->dims[i];
  return FR_OK;
}

fr_status fr_plan_transpose(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  int perm[FR_MAX_RANK];
  int64_t s[FR_MAX_RANK];
  FR_TRY(fr_transpose_perm(n, in[0]->rank, perm));
  strides_of(in[0], s);
  fr_k_strided p = {.rank = in[0]->rank};
  for (int i = 0; i < p.rank; i++) {
    p.dims[i] = in[0]->dims[perm[i]];
    p.xs[i] = s[perm[i]];
  }
  return strided(n, &p, in[0], kp);
}

/* Both are a reshape to 6-D, a transpose and a reshape back. */
fr_status fr_plan_depth_space(const fr_node *n, fr_tensor *const *in,
                              fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *t = in[0];
  int64_t b;
  bool crd;
  FR_TRY(fr_depth_space_attrs(n, &b, &crd));
  int64_t N = t->dims[0], C = t->dims[1], H = t->dims[2], W = t->dims[3];
  fr_k_strided p = {.rank = 6};
  if (n->op == FR_OP_DEPTH_TO_SPACE) {
    int64_t c = C / (b * b);
    /* output viewed as (N, c, H, b, W, b) */
    int64_t dims[6] = {N, c, H, b, W, b};
    int64_t xs[6];
    if (crd) { /* x viewed as (N, c, b, b, H, W) */
      int64_t v[6] = {C * H * W, b * b * H * W, W, b * H * W, 1, H * W};
      memcpy(xs, v, sizeof v);
    } else { /* x viewed as (N, b, b, c, H, W) */
      int64_t v[6] = {C * H * W, H * W, W, b * c * H * W, 1, c * H * W};
      memcpy(xs, v, sizeof v);
    }
    memcpy(p.dims, dims, sizeof dims);
    memcpy(p.xs, xs, sizeof xs);
  } else {
    int64_t h = H / b, w = W / b;
    /* output viewed as (N, b, b, C, h, w); x as (N, C, h, b, w, b) */
    int64_t dims[6] = {N, b, b, C, h, w};
    int64_t xs[6] = {C * H * W, W, 1, H * W, b * W, b};
    memcpy(p.dims, dims, sizeof dims);
    memcpy(p.xs, xs, sizeof xs);
  }
  return strided(n, &p, t, kp);
}

/* ---- concatenation and splitting -------------------------------------- */

/* Axis lengths of the parts of Concat and Split, as the entries take them. */
static fr_status part_len(const fr_node *n, int64_t d, uint32_t *len) {
  if (d < 0 || d > (int64_t)UINT32_MAX)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "a part of %lld along the axis",
                       (long long)d);
  *len = (uint32_t)d;
  return FR_OK;
}

fr_status fr_plan_concat(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  fr_tensor *y = out[0];
  int axis;
  FR_TRY(fr_attr_axis(n, y->rank, &axis));
  _Alignas(16) unsigned char buf[FR_KPLAN_MAX];
  fr_k_concat_plan *p = (fr_k_concat_plan *)buf;
  size_t size = sizeof *p + sizeof(uint32_t) * (size_t)n->n_in;
  if (size > sizeof buf)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "%d inputs", n->n_in);
  memset(buf, 0, size);
  int64_t inner = prod(y->dims, axis + 1, y->rank);
  p->outer = prod(y->dims, 0, axis);
  p->inner_bytes = inner * esz(y);
  p->pitch = y->dims[axis] * p->inner_bytes;
  p->n = n->n_in;
  for (int i = 0; i < n->n_in; i++)
    FR_TRY(part_len(n, in[i]->dims[axis], &p->len[i]));
  fr_kplan_set(kp, "fr_ke_concat", fr_ke_concat, buf, size);
  return FR_OK;
}

fr_status fr_plan_split(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *t = in[0];
  _Alignas(16) unsigned char buf[FR_KPLAN_MAX];
  fr_k_split_plan *p = (fr_k_split_plan *)buf;
  size_t size = sizeof *p + sizeof(uint32_t) * (size_t)n->n_out;
  if (size > sizeof buf)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "%d outputs", n->n_out);
  memset(buf, 0, size);
  int64_t *sizes = fr_malloc(sizeof(int64_t) * (size_t)(n->n_out + 1));
  if (!sizes) return fr_err_nomem(n);
  int axis;
  fr_status st = fr_split_plan(n, in, &axis, sizes);
  if (st == FR_OK) {
    int64_t inner = prod(t->dims, axis + 1, t->rank);
    p->outer = prod(t->dims, 0, axis);
    p->inner_bytes = inner * esz(t);
    p->pitch = t->dims[axis] * p->inner_bytes;
    p->n = n->n_out;
    p->in_slots = fr_kplan_in_slots(n);
  }
  for (int i = 0; st == FR_OK && i < n->n_out; i++)
    st = part_len(n, sizes[i], &p->len[i]);
  fr_free(sizes);
  if (st == FR_OK) fr_kplan_set(kp, "fr_ke_split", fr_ke_split, buf, size);
  return st;
}

/* ---- slicing and broadcasting ----------------------------------------- */

fr_status fr_plan_slice(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  int64_t start[FR_MAX_RANK], step[FR_MAX_RANK], len[FR_MAX_RANK],
      s[FR_MAX_RANK];
  FR_TRY(fr_slice_plan(n, in, start, step, len));
  strides_of(in[0], s);
  fr_k_strided p = {.rank = in[0]->rank};
  for (int d = 0; d < p.rank; d++) {
    p.dims[d] = len[d];
    p.xs[d] = step[d] * s[d];
    p.off += start[d] * s[d];
  }
  return strided(n, &p, in[0], kp);
}

fr_status fr_plan_expand(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  fr_tensor *y = out[0];
  fr_k_strided p = {.rank = y->rank};
  fr_bcast_strides(in[0], y->rank, y->dims, p.xs);
  for (int d = 0; d < y->rank; d++) p.dims[d] = y->dims[d];
  return strided(n, &p, in[0], kp);
}

/* Tile: y viewed as (r0, d0, r1, d1, ...) reading x with strides
 * (0, s0, 0, s1, ...). */
fr_status fr_plan_tile(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *t = in[0];
  int64_t s[FR_MAX_RANK];
  strides_of(t, s);
  fr_k_strided p = {.rank = 2 * t->rank};
  for (int d = 0; d < t->rank; d++) {
    p.dims[2 * d] = t->dims[d] ? out[0]->dims[d] / t->dims[d] : 0;
    p.xs[2 * d] = 0;
    p.dims[2 * d + 1] = t->dims[d];
    p.xs[2 * d + 1] = s[d];
  }
  return strided(n, &p, t, kp);
}

fr_status fr_plan_pad(const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out, fr_kplan *kp) {
  const fr_tensor *t = in[0];
  fr_tensor *y = out[0];
  int64_t pads[2 * FR_MAX_RANK];
  int mode, r = t->rank;
  FR_TRY(fr_pad_plan(n, in, pads, &mode));
  fr_k_pad_plan p;
  memset(&p, 0, sizeof p);
  switch (mode) {
  case FR_PAD_CONSTANT: p.mode = FR_K_PADM_CONSTANT; break;
  case FR_PAD_REFLECT: p.mode = FR_K_PADM_REFLECT; break;
  case FR_PAD_EDGE: p.mode = FR_K_PADM_EDGE; break;
  default: p.mode = FR_K_PADM_WRAP; break;
  }
  /* The constant, as one element of the dtype (zero bytes: "" for
   * strings, given their own copies by fr_exec_planned). */
  if (n->opset < 11) {
    fr_tensor c = {.dtype = t->dtype, .data = p.cval};
    fr_tensor_set_f64(&c, 0, fr_attr_float(n, FR_A_VALUE));
  } else if (n->n_in > 2 && in[2] && fr_tensor_numel(in[2]) == 1) {
    if (in[2]->dtype != t->dtype)
      return fr_err_node(FR_ERR_SHAPE, n, "constant_value is not %s",
                         fr_dtype_name(t->dtype));
    if (in[2]->data && t->dtype != FR_STRING)
      memcpy(p.cval, in[2]->data, fr_dtype_size(t->dtype));
    else
      p.cval_buf = 1;
  }
  p.p.rank = r;
  p.p.esize = esz(t);
  int64_t total = 0;
  for (int d = 0; d < r; d++) {
    p.p.xdims[d] = t->dims[d];
    p.p.ydims[d] = y->dims[d];
    p.p.pb[d] = pads[d];
    total += y->dims[d];
  }
  kp->scratch = sizeof(int64_t) * (size_t)(total + 1);
  FR_KPLAN(kp, fr_ke_pad, p);
  return FR_OK;
}

/* ---- gathers ---------------------------------------------------------- */

fr_status fr_plan_gather(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  const fr_tensor *t = in[0], *ind = in[1];
  int axis;
  FR_TRY(fr_attr_axis(n, t->rank, &axis));
  fr_k_gather_plan p;
  memset(&p, 0, sizeof p);
  p.outer = prod(t->dims, 0, axis);
  p.n = t->dims[axis];
  p.k = fr_tensor_numel(ind);
  p.inner = prod(t->dims, axis + 1, t->rank);
  p.esize = esz(t);
  p.idx_dtype = ind->dtype;
  if (fr_k_cast(ind->dtype, FR_I64, 0, NULL, NULL))
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "indices of type %s",
                       fr_dtype_name(ind->dtype));
  if (ind->data) { /* known indices are checked now */
    int64_t *idx;
    FR_TRY(norm_indices(n, ind, 1, &t->dims[axis], &idx));
    fr_free(idx);
  }
  kp->scratch = sizeof(int64_t) * (size_t)(p.k + 1);
  FR_KPLAN(kp, fr_ke_gather, p);
  return FR_OK;
}

/* Offsets into data of the elements named by GatherElements /
 * ScatterElements indices (fr_malloc'd). */
static fr_status elem_offsets(const fr_node *n, const fr_tensor *t,
                              const fr_tensor *ind, int64_t **off) {
  int axis;
  FR_TRY(fr_attr_axis(n, t->rank, &axis));
  int64_t *idx, xs[FR_MAX_RANK];
  FR_TRY(norm_indices(n, ind, 1, &t->dims[axis], &idx));
  strides_of(t, xs);
  *off = fr_malloc(sizeof(int64_t) * (size_t)(fr_tensor_numel(ind) + 1));
  if (!*off) {
    fr_free(idx);
    return fr_err_nomem(n);
  }
  fr_k_elem_offsets(ind->rank, ind->dims, axis, xs, idx, *off);
  fr_free(idx);
  return FR_OK;
}

fr_status fr_exec_gather_elements(fr_exec *x, const fr_node *n,
                                  fr_tensor *const *in,
                                  fr_tensor *const *out) {
  (void)x;
  int64_t *off;
  FR_TRY(elem_offsets(n, in[0], in[1], &off));
  fr_k_gather_rows(fr_tensor_numel(in[1]), 1, esz(in[0]), off, in[0]->data,
                   out[0]->data);
  fr_free(off);
  return fr_own_strings(n, out[0]);
}

/* GatherND / ScatterND: offsets of the slices the index tuples name, with
 * b batch dims; *count tuples of *len elements each. */
static fr_status nd_offsets(const fr_node *n, const fr_tensor *t,
                            const fr_tensor *ind, int b, int64_t **off,
                            int64_t *count, int64_t *len) {
  int q = ind->rank;
  int k = (int)ind->dims[q - 1];
  int64_t xs[FR_MAX_RANK], *idx;
  strides_of(t, xs);
  FR_TRY(norm_indices(n, ind, k, &t->dims[b], &idx));
  int64_t tuples = prod(ind->dims, 0, q - 1), nb = prod(ind->dims, 0, b);
  *off = fr_malloc(sizeof(int64_t) * (size_t)(tuples + 1));
  if (!*off) {
    fr_free(idx);
    return fr_err_nomem(n);
  }
  fr_k_nd_offsets(tuples, b && nb ? tuples / nb : 0,
                  b ? prod(t->dims, b, t->rank) : 0, k, &xs[b], idx, *off);
  fr_free(idx);
  *count = tuples;
  *len = prod(t->dims, b + k, t->rank);
  return FR_OK;
}

fr_status fr_exec_gather_nd(fr_exec *x, const fr_node *n,
                            fr_tensor *const *in, fr_tensor *const *out) {
  (void)x;
  int b = (int)fr_gather_nd_batch_dims(n);
  int64_t *off, cnt, len;
  FR_TRY(nd_offsets(n, in[0], in[1], b, &off, &cnt, &len));
  fr_k_gather_rows(cnt, len, esz(in[0]), off, in[0]->data, out[0]->data);
  fr_free(off);
  return fr_own_strings(n, out[0]);
}

fr_status fr_exec_compress(fr_exec *x, const fr_node *n,
                           fr_tensor *const *in, fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0], *c = in[1];
  int64_t outer = 1, dim = fr_tensor_numel(t), inner = 1;
  int axis;
  FR_TRY(fr_compress_axis(n, t, &axis));
  if (axis >= 0) {
    outer = prod(t->dims, 0, axis);
    dim = t->dims[axis];
    inner = prod(t->dims, axis + 1, t->rank);
  }
  int64_t lim = c->dims[0] < dim ? c->dims[0] : dim, k = 0;
  int64_t *sel = fr_malloc(sizeof(int64_t) * (size_t)(lim + 1));
  if (!sel) return fr_err_nomem(n);
  const uint8_t *cv = c->data;
  for (int64_t i = 0; i < lim; i++)
    if (cv[i]) sel[k++] = i;
  if (outer * k * inner != fr_tensor_numel(out[0])) {
    fr_free(sel);
    return fr_err_node(FR_ERR_SHAPE, n, "output shape does not match the "
                       "condition");
  }
  fr_k_gather(outer, dim, k, inner, esz(t), sel, t->data, out[0]->data);
  fr_free(sel);
  return fr_own_strings(n, out[0]);
}

/* ---- scatters --------------------------------------------------------- */

/* The kernels' reductions are numbered as the IR's. */
_Static_assert((int)FR_SCATTER_NONE == FR_K_SCAT_NONE &&
                   (int)FR_SCATTER_ADD == FR_K_SCAT_ADD &&
                   (int)FR_SCATTER_MUL == FR_K_SCAT_MUL &&
                   (int)FR_SCATTER_MAX == FR_K_SCAT_MAX &&
                   (int)FR_SCATTER_MIN == FR_K_SCAT_MIN,
               "scatter reductions numbered apart");

static float half_get(fr_dtype t, uint16_t h) {
  return t == FR_F16 ? fr_f16_to_f32(h) : fr_bf16_to_f32(h);
}

/* y[off[j] + i] = red(y[off[j] + i], u[j*len + i]). */
static fr_status scatter_apply(const fr_node *n, fr_tensor *y,
                               const fr_tensor *u, int64_t cnt, int64_t len,
                               const int64_t *off, int red) {
  void *d = y->data;
  const void *s = u->data;
  if (y->dtype == FR_STRING) {
    if (red != FR_K_SCAT_NONE)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "reduction of strings");
    char **dy = d;
    char *const *su = s;
    for (int64_t j = 0; j < cnt; j++)
      for (int64_t i = 0; i < len; i++) {
        char *c = fr_strdup(su[j * len + i] ? su[j * len + i] : "");
        if (!c) return fr_err_nomem(n);
        fr_free(dy[off[j] + i]);
        dy[off[j] + i] = c;
      }
    return FR_OK;
  }
  if (red == FR_K_SCAT_NONE) {
    fr_k_scatter_rows(cnt, len, esz(y), off, s, d);
    return FR_OK;
  }
  switch (y->dtype) {
  case FR_F32: fr_k_scatter_red_f32(cnt, len, off, s, d, red); break;
  case FR_F64: fr_k_scatter_red_f64(cnt, len, off, s, d, red); break;
  case FR_I8: fr_k_scatter_red_i8(cnt, len, off, s, d, red); break;
  case FR_U8: fr_k_scatter_red_u8(cnt, len, off, s, d, red); break;
  case FR_I16: fr_k_scatter_red_i16(cnt, len, off, s, d, red); break;
  case FR_U16: fr_k_scatter_red_u16(cnt, len, off, s, d, red); break;
  case FR_I32: fr_k_scatter_red_i32(cnt, len, off, s, d, red); break;
  case FR_U32: fr_k_scatter_red_u32(cnt, len, off, s, d, red); break;
  case FR_I64: fr_k_scatter_red_i64(cnt, len, off, s, d, red); break;
  case FR_U64: fr_k_scatter_red_u64(cnt, len, off, s, d, red); break;
  case FR_BOOL: /* or for add, and for mul */
    fr_k_scatter_red_u8(cnt, len, off, s, d,
                        red == FR_K_SCAT_ADD   ? FR_K_SCAT_MAX
                        : red == FR_K_SCAT_MUL ? FR_K_SCAT_MIN
                                              : red);
    break;
  case FR_F16:
  case FR_BF16: {
    uint16_t *dy = d;
    const uint16_t *su = s;
    for (int64_t j = 0; j < cnt; j++)
      for (int64_t i = 0; i < len; i++) {
        float a = half_get(y->dtype, dy[off[j] + i]);
        float b = half_get(y->dtype, su[j * len + i]);
        float r = red == FR_K_SCAT_ADD   ? a + b
                  : red == FR_K_SCAT_MUL ? a * b
                  : red == FR_K_SCAT_MAX ? (b > a ? b : a)
                                        : (b < a ? b : a);
        dy[off[j] + i] =
            y->dtype == FR_F16 ? fr_f32_to_f16(r) : fr_f32_to_bf16(r);
      }
    break;
  }
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "reduction of %s",
                       fr_dtype_name(y->dtype));
  }
  return FR_OK;
}

/* Output = data, then the updates written in. */
static fr_status copy_data(const fr_node *n, const fr_tensor *t,
                           fr_tensor *y) {
  memcpy(y->data, t->data, fr_tensor_nbytes(t));
  return fr_own_strings(n, y);
}

/* ScatterElements and Scatter. */
fr_status fr_exec_scatter_elements(fr_exec *x, const fr_node *n,
                                   fr_tensor *const *in,
                                   fr_tensor *const *out) {
  (void)x;
  int red;
  FR_TRY(fr_scatter_reduction(n, &red));
  int64_t *off;
  FR_TRY(elem_offsets(n, in[0], in[1], &off));
  fr_status st = copy_data(n, in[0], out[0]);
  if (st == FR_OK)
    st = scatter_apply(n, out[0], in[2], fr_tensor_numel(in[1]), 1, off, red);
  fr_free(off);
  return st;
}

fr_status fr_exec_scatter_nd(fr_exec *x, const fr_node *n,
                             fr_tensor *const *in, fr_tensor *const *out) {
  (void)x;
  int red;
  FR_TRY(fr_scatter_reduction(n, &red));
  int64_t *off, cnt, len;
  FR_TRY(nd_offsets(n, in[0], in[1], 0, &off, &cnt, &len));
  fr_status st = copy_data(n, in[0], out[0]);
  if (st == FR_OK) st = scatter_apply(n, out[0], in[2], cnt, len, off, red);
  fr_free(off);
  return st;
}

/* ---- generators ------------------------------------------------------- */

fr_status fr_exec_constant_of_shape(fr_exec *x, const fr_node *n,
                                    fr_tensor *const *in,
                                    fr_tensor *const *out) {
  (void)x;
  (void)in;
  const fr_tensor *t;
  FR_TRY(fr_constant_of_shape_value(n, &t));
  static const float zero = 0;
  const void *v = t ? t->data : &zero;
  fr_k_fill(fr_tensor_numel(out[0]), esz(out[0]), v, out[0]->data);
  return fr_own_strings(n, out[0]);
}

fr_status fr_exec_range(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  (void)x;
  fr_tensor *y = out[0];
  int64_t c = y->dims[0];
  switch (y->dtype) {
  case FR_F32:
    fr_k_range_f32(c, *(const float *)in[0]->data,
                   *(const float *)in[2]->data, y->data);
    break;
  case FR_F64:
    fr_k_range_f64(c, *(const double *)in[0]->data,
                   *(const double *)in[2]->data, y->data);
    break;
  case FR_I16:
    fr_k_range_i16(c, *(const int16_t *)in[0]->data,
                   *(const int16_t *)in[2]->data, y->data);
    break;
  case FR_I32:
    fr_k_range_i32(c, *(const int32_t *)in[0]->data,
                   *(const int32_t *)in[2]->data, y->data);
    break;
  case FR_I64:
    fr_k_range_i64(c, *(const int64_t *)in[0]->data,
                   *(const int64_t *)in[2]->data, y->data);
    break;
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "dtype %s",
                       fr_dtype_name(y->dtype));
  }
  return FR_OK;
}

fr_status fr_exec_eye_like(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  (void)in;
  fr_tensor *y = out[0];
  unsigned char one[16] = {0};
  fr_tensor o = {.dtype = y->dtype, .data = one};
  fr_tensor_set_f64(&o, 0, 1);
  int64_t k = fr_attr_int(n, FR_A_K), lim = y->dims[0] + y->dims[1];
  k = k > lim ? lim : k < -lim ? -lim : k; /* keeps i + k finite */
  fr_k_eye(y->dims[0], y->dims[1], k, esz(y), one, y->data);
  return FR_OK;
}

fr_status fr_exec_trilu(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0];
  int64_t k = n->n_in > 1 && in[1] ? fr_tensor_get_i64(in[1], 0) : 0;
  int r = t->rank;
  int64_t rows = t->dims[r - 2], cols = t->dims[r - 1];
  int64_t batch = prod(t->dims, 0, r - 2);
  /* Beyond +-(rows + cols) every k selects the same: keeps i + k finite. */
  if (k > rows + cols) k = rows + cols;
  if (k < -(rows + cols)) k = -(rows + cols);
  fr_k_trilu(batch, rows, cols, k, fr_attr_int(n, FR_A_UPPER) != 0, esz(t),
             t->data, out[0]->data);
  return fr_own_strings(n, out[0]);
}

fr_status fr_exec_onehot(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)x;
  const fr_tensor *ind = in[0], *v = in[2];
  fr_tensor *y = out[0];
  int axis;
  FR_TRY(fr_attr_axis(n, y->rank, &axis));
  int64_t depth = y->dims[axis], k = fr_tensor_numel(ind);
  int64_t *idx = fr_malloc(sizeof(int64_t) * (size_t)(k + 1));
  if (!idx) return fr_err_nomem(n);
  for (int64_t i = 0; i < k; i++) {
    int64_t j = fr_tensor_get_i64(ind, i);
    if (j < 0 && j >= -depth) j += depth;
    idx[i] = j >= 0 && j < depth ? j : -1;
  }
  int64_t es = esz(v);
  fr_k_onehot(prod(ind->dims, 0, axis), depth,
              prod(ind->dims, axis, ind->rank), es, idx, v->data,
              (const char *)v->data + es, y->data);
  fr_free(idx);
  return fr_own_strings(n, y);
}

/* ---- sequences and selections ----------------------------------------- */

fr_status fr_exec_reverse_sequence(fr_exec *x, const fr_node *n,
                                   fr_tensor *const *in,
                                   fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0];
  int ba = (int)fr_attr_int(n, FR_A_BATCH_AXIS);
  int64_t batch = t->dims[ba], time = t->dims[1 - ba];
  int64_t *lens = fr_malloc(sizeof(int64_t) * (size_t)(batch + 1));
  if (!lens) return fr_err_nomem(n);
  for (int64_t b = 0; b < batch; b++) {
    lens[b] = fr_tensor_get_i64(in[1], b);
    if (lens[b] < 0 || lens[b] > time) {
      fr_status st = fr_err_node(FR_ERR_INVALID, n, "sequence length %lld "
                                 "not in [0, %lld]", (long long)lens[b],
                                 (long long)time);
      fr_free(lens);
      return st;
    }
  }
  fr_k_reverse_sequence(batch, time, prod(t->dims, 2, t->rank), ba == 0,
                        esz(t), lens, t->data, out[0]->data);
  fr_free(lens);
  return fr_own_strings(n, out[0]);
}

fr_status fr_exec_nonzero(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0];
  int64_t numel = fr_tensor_numel(t), cnt = 0;
  uint8_t *mask = fr_malloc((size_t)numel + 1);
  if (!mask) return fr_err_nomem(n);
  for (int64_t i = 0; i < numel; i++) {
    if (t->dtype == FR_STRING) {
      const char *s = ((char *const *)t->data)[i];
      mask[i] = s && s[0];
    } else {
      mask[i] = fr_tensor_get_f64(t, i) != 0;
    }
    cnt += mask[i];
  }
  int64_t one = 1;
  if (cnt != out[0]->dims[1]) {
    fr_free(mask);
    return fr_err_node(FR_ERR_SHAPE, n, "output shape does not match the "
                       "input");
  }
  fr_k_nonzero(t->rank ? t->rank : 1, t->rank ? t->dims : &one, numel, mask,
               cnt, out[0]->data);
  fr_free(mask);
  return FR_OK;
}

/* Output o of Unique (NULL: omitted), now that its shape is known: the
 * infer function left it to run time (fr_set_later). */
static fr_status unique_out(const fr_node *n, fr_tensor *o, fr_dtype dt,
                            int rank, const int64_t *dims) {
  if (!o) return FR_OK;
  fr_set_shape(o, dt, rank, dims);
  o->data = NULL;
  if (fr_tensor_alloc(o) != FR_OK)
    return fr_err_node(FR_ERR_NOMEM, n, "%s", fr_err_msg());
  return FR_OK;
}

fr_status fr_exec_unique(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = in[0];
  int axis;
  int64_t outer, rows, inner;
  FR_TRY(fr_unique_layout(n, t, &axis, &outer, &rows, &inner));
  int64_t len = outer * inner, es = esz(t);
  int64_t *s = fr_malloc(sizeof(int64_t) * (size_t)(5 * rows + 1));
  void *tr = fr_malloc((size_t)(rows * len * es + 1));
  if (!s || !tr) {
    fr_free(s);
    fr_free(tr);
    return fr_err_nomem(n);
  }
  /* (outer, rows, inner) -> (rows, outer, inner): rows contiguous. */
  fr_k_strided p = {.rank = 3, .dims = {rows, outer, inner},
                    .xs = {inner, rows * inner, 1}, .esize = es};
  fr_k_strided_copy(&p, t->data, tr);
  int64_t *first = s + 2 * rows, *inv = s + 3 * rows, *counts = s + 4 * rows;
  int64_t u = fr_k_unique(rows, len, t->dtype, tr,
                          fr_attr_int(n, FR_A_SORTED) != 0, s, first, inv,
                          counts);
  fr_free(tr);
  fr_status st = FR_OK;
  if (u < 0)
    st = fr_err_node(FR_ERR_UNSUPPORTED, n, "dtype %s",
                     fr_dtype_name(t->dtype));
  /* Y: u rows along the axis (u values without one); indices and counts:
   * u each; inverse_indices: one per input row. */
  int64_t dims[FR_MAX_RANK] = {u};
  int rank = 1;
  if (axis >= 0) {
    rank = t->rank;
    memcpy(dims, t->dims, sizeof(int64_t) * (size_t)rank);
    dims[axis] = u;
  }
  if (st == FR_OK) st = unique_out(n, out[0], t->dtype, rank, dims);
  if (st == FR_OK && out[0]) {
    fr_k_gather(outer, rows, u, inner, es, first, t->data, out[0]->data);
    st = fr_own_strings(n, out[0]);
  }
  const int64_t *from[3] = {first, inv, counts};
  for (int i = 1; i < n->n_out && i < 4 && st == FR_OK; i++) {
    int64_t k = i == 2 ? rows : u;
    st = unique_out(n, out[i], FR_I64, 1, &k);
    if (st == FR_OK && out[i])
      memcpy(out[i]->data, from[i - 1], sizeof(int64_t) * (size_t)k);
  }
  fr_free(s);
  return st;
}
