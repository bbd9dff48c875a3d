/* ops_ctrl.c: interpreter glue of control flow (If, Loop, Scan, SequenceMap
 * run their subgraphs with fr_interp_run), sequences, optionals, recurrent
 * nets, NonMaxSuppression, signal processing, random generators, training
 * optimizers and string ops.
 *
 * Outputs whose shape is known only after running (marked by the infer
 * functions of ir/infer_ctrl.c as non-tensors, so not allocated) and
 * sequences/optionals are built here and stored whole into *out[i]. */
#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "runtime.h"

/* ---- helpers --------------------------------------------------------- */

/* Replaces *out with v (taking ownership of v's data). */
static void put(fr_tensor *out, fr_tensor *v) {
  if (!out) {
    fr_tensor_release(v);
    return;
  }
  fr_tensor_release(out);
  *out = *v;
  memset(v, 0, sizeof *v);
}

static bool truth(const fr_tensor *t) { return fr_tensor_get_f64(t, 0) != 0; }

static int64_t prod(const int64_t *d, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= d[i];
  return p;
}

/* After t's string pointers were moved elsewhere by a byte copy: forgets
 * them, so that releasing t does not free them. */
static void disown_strings(fr_tensor *t) {
  if (t->dtype != FR_STRING || !t->data) return;
  char **s = t->data;
  int64_t k = fr_tensor_numel(t);
  for (int64_t i = 0; i < k; i++) s[i] = NULL;
}

/* Sequence inputs must be well formed: rank 1, an element array, no
 * missing element. */
static fr_status check_seqs(const fr_node *n, fr_tensor *const *in) {
  for (int i = 0; i < n->n_in; i++) {
    const fr_tensor *t = in[i];
    if (!t || t->kind != FR_KIND_SEQUENCE) continue;
    bool ok = t->rank == 1 && t->dims[0] >= 0 && (t->data || !t->dims[0]);
    for (int64_t k = 0; ok && k < t->dims[0]; k++)
      ok = ((fr_tensor *const *)t->data)[k] != NULL;
    if (!ok)
      return fr_err_node(FR_ERR_INVALID, n, "input %d is not a valid "
                                            "sequence", i);
  }
  return FR_OK;
}

/* ---- If -------------------------------------------------------------- */

fr_status fr_exec_if(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                     fr_tensor *const *out) {
  if (fr_tensor_numel(in[0]) != 1)
    return fr_err_node(FR_ERR_SHAPE, n, "the condition must hold one value");
  fr_graph *g = fr_attr_graph(n, truth(in[0]) ? FR_A_THEN_BRANCH : FR_A_ELSE_BRANCH);
  if (g->n_inputs != 0)
    return fr_err_node(FR_ERR_INVALID, n, "a branch graph has inputs");
  fr_tensor *res = fr_calloc((size_t)n->n_out + 1, sizeof *res);
  if (!res) return fr_err_nomem(n);
  fr_status st = fr_interp_run(x, g, NULL, res);
  if (st == FR_OK)
    for (int i = 0; i < n->n_out; i++) put(out[i], &res[i]);
  fr_free(res);
  return st;
}

/* ---- stacking of per-iteration results ------------------------------- */

/* A growable list of tensors (scan outputs of Loop). */
typedef struct tlist {
  fr_tensor *t;
  int64_t n, cap;
} tlist;

static fr_status tlist_push(const fr_node *n, tlist *l, fr_tensor *v) {
  if (l->n == l->cap) {
    int64_t nc = l->cap ? l->cap * 2 : 16;
    fr_tensor *nt = fr_realloc(l->t, sizeof *nt * (size_t)nc);
    if (!nt) return fr_err_nomem(n);
    l->t = nt;
    l->cap = nc;
  }
  l->t[l->n++] = *v;
  memset(v, 0, sizeof *v);
  return FR_OK;
}

static void tlist_free(tlist *l) {
  for (int64_t i = 0; i < l->n; i++) fr_tensor_release(&l->t[i]);
  fr_free(l->t);
  memset(l, 0, sizeof *l);
}

/* Stacks items (all of one shape) along a new axis 0 into out. decl: the
 * declared per-iteration type, for the shape of an empty stack. */
static fr_status stack(const fr_node *n, tlist *l, const fr_tensor *decl,
                       fr_dtype dflt, fr_tensor *out) {
  fr_tensor r = {0};
  if (l->n == 0) {
    r.dtype = decl->kind == FR_KIND_TENSOR && decl->dtype ? decl->dtype : dflt;
    r.rank = 1;
    if (decl->kind == FR_KIND_TENSOR && decl->rank >= 0 &&
        decl->rank < FR_MAX_RANK) {
      r.rank = decl->rank + 1;
      for (int k = 0; k < decl->rank; k++) r.dims[k + 1] = decl->dims[k];
    }
    r.dims[0] = 0;
    if (!fr_dtype_size(r.dtype)) r.dtype = FR_F32;
    if (fr_tensor_alloc(&r) != FR_OK) return fr_err_nomem(n);
    put(out, &r);
    return FR_OK;
  }
  const fr_tensor *e0 = &l->t[0];
  if (e0->kind != FR_KIND_TENSOR || e0->rank + 1 > FR_MAX_RANK)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "scan outputs must be tensors of rank < %d",
                       FR_MAX_RANK);
  for (int64_t i = 1; i < l->n; i++) {
    const fr_tensor *e = &l->t[i];
    if (e->kind != FR_KIND_TENSOR || e->dtype != e0->dtype ||
        e->rank != e0->rank ||
        memcmp(e->dims, e0->dims, sizeof(int64_t) * (size_t)e0->rank))
      return fr_err_node(FR_ERR_SHAPE, n,
                         "scan output of iteration %lld differs in shape",
                         (long long)i);
  }
  r.dtype = e0->dtype;
  r.rank = e0->rank + 1;
  r.dims[0] = l->n;
  for (int k = 0; k < e0->rank; k++) r.dims[k + 1] = e0->dims[k];
  FR_TRY(fr_tensor_alloc(&r));
  size_t es = fr_dtype_size(r.dtype);
  int64_t inner = fr_tensor_numel(e0) * (int64_t)es;
  for (int64_t i = 0; i < l->n; i++) {
    fr_k_copy_slices(1, inner, 1, l->t[i].data, 1, 0, r.data, l->n, i);
    if (r.dtype == FR_STRING) disown_strings(&l->t[i]); /* moved */
  }
  put(out, &r);
  return FR_OK;
}

/* ---- Loop ------------------------------------------------------------ */

fr_status fr_exec_loop(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  fr_graph *body = fr_attr_graph(n, FR_A_BODY);
  int n_state = n->n_in - 2, n_scan = n->n_out - n_state;
  int64_t max_iter = INT64_MAX;
  if (in[0]) {
    if (fr_tensor_numel(in[0]) != 1)
      return fr_err_node(FR_ERR_SHAPE, n, "M must hold one value");
    max_iter = fr_tensor_get_i64(in[0], 0);
  }
  bool cond = true;
  if (in[1]) {
    if (fr_tensor_numel(in[1]) != 1)
      return fr_err_node(FR_ERR_SHAPE, n, "cond must hold one value");
    cond = truth(in[1]);
  }
  if (!in[0] && !in[1])
    return fr_err_node(FR_ERR_INVALID, n,
                       "neither a trip count nor a condition: endless loop");
  int n_body_in = n_state + 2, n_res = 1 + n->n_out;
  fr_tensor *state = fr_calloc((size_t)n_state + 1, sizeof *state);
  bool *owned = fr_calloc((size_t)n_state + 1, sizeof *owned);
  fr_tensor **bin = fr_calloc((size_t)n_body_in + 1, sizeof *bin);
  fr_tensor *res = fr_calloc((size_t)n_res + 1, sizeof *res);
  tlist *scans = fr_calloc((size_t)n_scan + 1, sizeof *scans);
  fr_status st = FR_OK;
  if (!state || !owned || !bin || !res || !scans) st = fr_err_nomem(n);
  int64_t it = 0;
  uint8_t cond_v = cond;
  fr_tensor it_t = {.dtype = FR_I64, .rank = 0, .data = &it};
  fr_tensor cond_t = {.dtype = FR_BOOL, .rank = 0, .data = &cond_v};
  for (int i = 0; st == FR_OK && i < n_state; i++) state[i] = *in[2 + i];
  for (; st == FR_OK && cond && it < max_iter; it++) {
    bin[0] = &it_t;
    bin[1] = &cond_t;
    cond_v = 1;
    for (int i = 0; i < n_state; i++) bin[2 + i] = &state[i];
    st = fr_interp_run(x, body, bin, res);
    if (st != FR_OK) break;
    if (res[0].kind != FR_KIND_TENSOR || fr_tensor_numel(&res[0]) != 1 ||
        !res[0].data)
      st = fr_err_node(FR_ERR_SHAPE, n, "the body's condition is not a "
                                        "one-value tensor");
    else if (in[1]) /* without a cond input, the body's is ignored */
      cond = truth(&res[0]);
    fr_tensor_release(&res[0]);
    for (int i = 0; i < n_state; i++) {
      if (owned[i]) fr_tensor_release(&state[i]);
      state[i] = res[1 + i];
      owned[i] = true;
      memset(&res[1 + i], 0, sizeof res[1 + i]);
    }
    for (int j = 0; j < n_scan; j++) {
      if (st == FR_OK) st = tlist_push(n, &scans[j], &res[1 + n_state + j]);
      fr_tensor_release(&res[1 + n_state + j]);
    }
  }
  for (int i = 0; st == FR_OK && i < n_state; i++) {
    if (!owned[i]) {
      fr_tensor c = {0};
      st = fr_tensor_clone(&state[i], &c);
      if (st != FR_OK) break;
      state[i] = c;
      owned[i] = true;
    }
    put(out[i], &state[i]);
    owned[i] = false;
  }
  for (int j = 0; st == FR_OK && j < n_scan; j++) {
    const fr_value *d = body->outputs[1 + n_state + j];
    st = stack(n, &scans[j], &d->t, n->out[n_state + j]
                                        ? n->out[n_state + j]->t.dtype
                                        : FR_F32,
               out[n_state + j]);
  }
  for (int i = 0; owned && i < n_state; i++)
    if (owned[i]) fr_tensor_release(&state[i]);
  for (int j = 0; scans && j < n_scan; j++) tlist_free(&scans[j]);
  fr_free(state);
  fr_free(owned);
  fr_free(bin);
  fr_free(res);
  fr_free(scans);
  return st;
}

/* ---- Scan ------------------------------------------------------------ */

/* Slice t[idx] along axis a (a view copy: strings stay borrowed); s must
 * be allocated with the right shape already. */
static void take_slice(const fr_tensor *t, int a, int64_t idx, fr_tensor *s) {
  int64_t es = (int64_t)fr_dtype_size(t->dtype);
  int64_t outer = prod(t->dims, 0, a), inner = prod(t->dims, a + 1, t->rank);
  fr_k_copy_slices(outer, inner * es, 1, t->data, t->dims[a], idx, s->data, 1,
                   0);
}

/* Frees a slice made by take_slice (its strings are borrowed). */
static void free_slice(fr_tensor *s) {
  fr_free(s->data);
  s->data = NULL;
}

static fr_status alloc_slice(const fr_node *n, const fr_tensor *t, int a,
                             fr_tensor *s) {
  memset(s, 0, sizeof *s);
  s->dtype = t->dtype;
  s->rank = t->rank - 1;
  for (int k = 0, r = 0; k < t->rank; k++)
    if (k != a) s->dims[r++] = t->dims[k];
  if (fr_tensor_alloc(s) != FR_OK)
    return fr_err_node(FR_ERR_NOMEM, n, "%s", fr_err_msg());
  return FR_OK;
}

/* One Scan (opset 9 semantics) over seq_len steps. states (N) and scans
 * (M) are borrowed; res receives N final states and K scan outputs
 * (scan outputs stacked along out_axes). */
typedef struct scan_run {
  fr_graph *body;
  int n_state, n_in, n_out; /* N, M, K */
  const int64_t *in_axes, *in_dirs, *out_axes, *out_dirs;
} scan_run;

static fr_status scan_core(fr_exec *x, const fr_node *n, const scan_run *s,
                           fr_tensor *const *states, fr_tensor *const *scans,
                           int64_t seq_len, fr_tensor *res) {
  int N = s->n_state, M = s->n_in, K = s->n_out;
  fr_tensor *st = fr_calloc((size_t)N + 1, sizeof *st);
  bool *owned = fr_calloc((size_t)N + 1, sizeof *owned);
  fr_tensor *sl = fr_calloc((size_t)M + 1, sizeof *sl);
  fr_tensor **bin = fr_calloc((size_t)(N + M) + 1, sizeof *bin);
  fr_tensor *r = fr_calloc((size_t)(N + K) + 1, sizeof *r);
  fr_status rc = FR_OK;
  if (!st || !owned || !sl || !bin || !r) rc = fr_err_nomem(n);
  for (int i = 0; rc == FR_OK && i < N; i++) st[i] = *states[i];
  for (int j = 0; rc == FR_OK && j < M; j++)
    rc = alloc_slice(n, scans[j], (int)s->in_axes[j], &sl[j]);
  for (int64_t t = 0; rc == FR_OK && t < seq_len; t++) {
    for (int j = 0; j < M; j++)
      take_slice(scans[j], (int)s->in_axes[j],
                 s->in_dirs && s->in_dirs[j] ? seq_len - 1 - t : t, &sl[j]);
    for (int i = 0; i < N; i++) bin[i] = &st[i];
    for (int j = 0; j < M; j++) bin[N + j] = &sl[j];
    rc = fr_interp_run(x, s->body, bin, r);
    if (rc != FR_OK) break;
    for (int i = 0; i < N; i++) {
      if (owned[i]) fr_tensor_release(&st[i]);
      st[i] = r[i];
      owned[i] = true;
      memset(&r[i], 0, sizeof r[i]);
    }
    for (int k = 0; rc == FR_OK && k < K; k++) {
      fr_tensor *e = &r[N + k], *o = &res[N + k];
      if (e->kind != FR_KIND_TENSOR || e->rank + 1 > FR_MAX_RANK) {
        rc = fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "scan output %d is not a tensor of rank < %d", k,
                         FR_MAX_RANK);
        break;
      }
      int a;
      rc = fr_axis(n, s->out_axes ? s->out_axes[k] : 0, e->rank + 1, &a);
      if (rc != FR_OK) break;
      if (t == 0) {
        memset(o, 0, sizeof *o);
        o->dtype = e->dtype;
        o->rank = e->rank + 1;
        for (int q = 0, w = 0; q < o->rank; q++)
          o->dims[q] = q == a ? seq_len : e->dims[w++];
        rc = fr_tensor_alloc(o);
        if (rc != FR_OK) break;
      }
      bool same = e->dtype == o->dtype && e->rank + 1 == o->rank;
      for (int q = 0, w = 0; same && q < o->rank; q++)
        if (q != a) same = o->dims[q] == e->dims[w++];
      if (!same) {
        rc = fr_err_node(FR_ERR_SHAPE, n,
                         "scan output %d changes shape between iterations",
                         k);
        break;
      }
      int64_t es = (int64_t)fr_dtype_size(e->dtype);
      int64_t outer = prod(o->dims, 0, a), inner = prod(o->dims, a + 1, o->rank);
      int64_t pos = s->out_dirs && s->out_dirs[k] ? seq_len - 1 - t : t;
      fr_k_copy_slices(outer, inner * es, 1, e->data, 1, 0, o->data, seq_len,
                       pos);
      disown_strings(e); /* moved into o */
    }
    for (int k = 0; k < K; k++) fr_tensor_release(&r[N + k]);
  }
  if (rc == FR_OK && seq_len == 0 && K > 0)
    rc = fr_err_node(FR_ERR_UNSUPPORTED, n,
                     "scan over an empty sequence: output shapes unknown");
  for (int i = 0; rc == FR_OK && i < N; i++) {
    if (owned[i]) {
      res[i] = st[i];
      owned[i] = false;
    } else {
      rc = fr_tensor_clone(&st[i], &res[i]);
    }
  }
  for (int i = 0; owned && i < N; i++)
    if (owned[i]) fr_tensor_release(&st[i]);
  for (int j = 0; sl && j < M; j++) free_slice(&sl[j]);
  if (rc != FR_OK && res)
    for (int i = 0; i < N + K; i++) fr_tensor_release(&res[i]);
  fr_free(st);
  fr_free(owned);
  fr_free(sl);
  fr_free(bin);
  fr_free(r);
  return rc;
}

/* Opset 8: a batch axis 0 on every input and output; scan axis 1. */
static fr_status scan8(fr_exec *x, const fr_node *n, scan_run *s,
                       fr_tensor *const *in, fr_tensor *const *out) {
  int N = s->n_state, M = s->n_in, K = s->n_out;
  const fr_tensor *lens = in[0];
  const fr_tensor *x0 = in[1 + N];
  int64_t batch = x0->dims[0], max_len = x0->dims[1];
  for (int i = 0; i < N; i++)
    if (in[1 + i]->rank < 1 || in[1 + i]->dims[0] != batch)
      return fr_err_node(FR_ERR_SHAPE, n, "state %d lacks the batch axis", i);
  if (lens && lens->dims[0] != batch)
    return fr_err_node(FR_ERR_SHAPE, n, "sequence_lens has %lld values",
                       (long long)lens->dims[0]);
  if (batch == 0)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "empty batch");
  static const int64_t zero_axes[64];
  s->in_axes = zero_axes;
  s->out_axes = NULL;
  s->out_dirs = NULL;
  fr_tensor *bs = fr_calloc((size_t)(N + M) + 1, sizeof *bs);
  fr_tensor **bp = fr_calloc((size_t)(N + M) + 1, sizeof *bp);
  fr_tensor *res = fr_calloc((size_t)(N + K) + 1, sizeof *res);
  fr_tensor *all = fr_calloc((size_t)(N + K) + 1, sizeof *all);
  fr_status rc = FR_OK;
  if (!bs || !bp || !res || !all) rc = fr_err_nomem(n);
  for (int i = 0; rc == FR_OK && i < N + M; i++) {
    rc = alloc_slice(n, in[1 + i], 0, &bs[i]);
    bp[i] = &bs[i];
  }
  for (int64_t b = 0; rc == FR_OK && b < batch; b++) {
    int64_t len = lens ? fr_tensor_get_i64(lens, b) : max_len;
    if (len < 0 || len > max_len) {
      rc = fr_err_node(FR_ERR_INVALID, n, "sequence length %lld",
                       (long long)len);
      break;
    }
    for (int i = 0; i < N + M; i++) take_slice(in[1 + i], 0, b, &bs[i]);
    rc = scan_core(x, n, s, bp, bp + N, len, res);
    if (rc != FR_OK) break;
    for (int i = 0; rc == FR_OK && i < N + K; i++) {
      fr_tensor *e = &res[i], *o = &all[i];
      bool scan_out = i >= N;
      if (e->kind != FR_KIND_TENSOR || e->rank + 1 > FR_MAX_RANK ||
          (scan_out && e->rank < 1)) {
        rc = fr_err_node(FR_ERR_UNSUPPORTED, n, "output %d is not a tensor",
                         i);
        break;
      }
      if (b == 0) {
        o->dtype = e->dtype;
        o->rank = e->rank + 1;
        o->dims[0] = batch;
        for (int q = 0; q < e->rank; q++) o->dims[q + 1] = e->dims[q];
        if (scan_out) o->dims[1] = max_len;
        rc = fr_tensor_alloc(o);
        if (rc != FR_OK) break;
      }
      bool same = e->dtype == o->dtype && e->rank + 1 == o->rank;
      for (int q = scan_out ? 1 : 0; same && q < e->rank; q++)
        same = o->dims[q + 1] == e->dims[q];
      if (!same) {
        rc = fr_err_node(FR_ERR_SHAPE, n, "output %d differs between batches",
                         i);
        break;
      }
      int64_t bytes = (int64_t)fr_tensor_nbytes(e);
      int64_t row = (int64_t)fr_tensor_nbytes(o) / batch;
      fr_k_copy_slices(1, bytes, 1, e->data, 1, 0, (unsigned char *)o->data + b * row, 1, 0);
      disown_strings(e);
    }
    for (int i = 0; i < N + K; i++) fr_tensor_release(&res[i]);
  }
  for (int i = 0; rc == FR_OK && i < N + K; i++) put(out[i], &all[i]);
  for (int i = 0; all && i < N + K; i++) fr_tensor_release(&all[i]);
  for (int i = 0; bs && i < N + M; i++) free_slice(&bs[i]);
  fr_free(bs);
  fr_free(bp);
  fr_free(res);
  fr_free(all);
  return rc;
}

fr_status fr_exec_scan(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  fr_scan_info si;
  FR_TRY(fr_scan_plan(n, in, &si));
  scan_run s = {.body = si.body, .n_state = si.n_state, .n_in = si.n_scan_in,
                .n_out = si.n_scan_out, .in_axes = si.in_axes,
                .in_dirs = si.in_dirs, .out_axes = si.out_axes,
                .out_dirs = si.out_dirs};
  if (si.first) return scan8(x, n, &s, in, out);
  int64_t seq_len = in[s.n_state]->dims[si.in_axes[0]];
  fr_tensor *res = fr_calloc((size_t)n->n_out + 1, sizeof *res);
  if (!res) return fr_err_nomem(n);
  fr_status st = scan_core(x, n, &s, in, in + s.n_state, seq_len, res);
  if (st == FR_OK)
    for (int i = 0; i < n->n_out; i++) put(out[i], &res[i]);
  fr_free(res);
  return st;
}

/* ---- SequenceMap ------------------------------------------------------ */

fr_status fr_exec_sequence_map(fr_exec *x, const fr_node *n,
                               fr_tensor *const *in, fr_tensor *const *out) {
  fr_graph *body = fr_attr_graph(n, FR_A_BODY);
  FR_TRY(check_seqs(n, in));
  int64_t count = in[0]->dims[0];
  for (int i = 1; i < n->n_in; i++)
    if (in[i]->kind == FR_KIND_SEQUENCE && in[i]->dims[0] != count)
      return fr_err_node(FR_ERR_SHAPE, n,
                         "sequences of different lengths (%lld, %lld)",
                         (long long)count, (long long)in[i]->dims[0]);
  fr_tensor **bin = fr_calloc((size_t)n->n_in + 1, sizeof *bin);
  fr_tensor *res = fr_calloc((size_t)n->n_out + 1, sizeof *res);
  fr_tensor *seqs = fr_calloc((size_t)n->n_out + 1, sizeof *seqs);
  fr_status st = FR_OK;
  if (!bin || !res || !seqs) st = fr_err_nomem(n);
  for (int j = 0; st == FR_OK && j < n->n_out; j++) {
    seqs[j].kind = FR_KIND_SEQUENCE;
    seqs[j].dtype = body->outputs[j]->t.dtype;
    seqs[j].rank = 1;
    seqs[j].data = fr_calloc((size_t)count + 1, sizeof(fr_tensor *));
    if (!seqs[j].data) st = fr_err_nomem(n);
  }
  for (int64_t e = 0; st == FR_OK && e < count; e++) {
    for (int i = 0; i < n->n_in; i++)
      bin[i] = in[i]->kind == FR_KIND_SEQUENCE
                   ? ((fr_tensor **)in[i]->data)[e]
                   : in[i];
    st = fr_interp_run(x, body, bin, res);
    for (int j = 0; st == FR_OK && j < n->n_out; j++) {
      fr_tensor *h = fr_malloc(sizeof *h);
      if (!h) {
        st = fr_err_nomem(n);
        break;
      }
      *h = res[j];
      memset(&res[j], 0, sizeof res[j]);
      ((fr_tensor **)seqs[j].data)[e] = h;
      seqs[j].dims[0] = e + 1;
      if (h->dtype != FR_UNDEFINED) seqs[j].dtype = h->dtype;
    }
    for (int j = 0; res && j < n->n_out; j++) fr_tensor_release(&res[j]);
  }
  for (int j = 0; st == FR_OK && j < n->n_out; j++) put(out[j], &seqs[j]);
  for (int j = 0; seqs && j < n->n_out; j++) fr_tensor_release(&seqs[j]);
  fr_free(bin);
  fr_free(res);
  fr_free(seqs);
  return st;
}

/* ---- sequences ------------------------------------------------------- */

/* A new sequence of count slots (NULL) into v. */
static fr_status new_seq(const fr_node *n, fr_dtype dt, int64_t count,
                         fr_tensor *v) {
  memset(v, 0, sizeof *v);
  v->kind = FR_KIND_SEQUENCE;
  v->dtype = dt;
  v->rank = 1;
  v->data = fr_calloc((size_t)count + 1, sizeof(fr_tensor *));
  if (!v->data) return fr_err_nomem(n);
  return FR_OK;
}

/* Appends a deep copy of t to the sequence v. */
static fr_status seq_add(const fr_node *n, fr_tensor *v, const fr_tensor *t) {
  fr_tensor *c = fr_tensor_dup(t);
  if (!c) return fr_err_nomem(n);
  ((fr_tensor **)v->data)[v->dims[0]++] = c;
  return FR_OK;
}

static fr_status seq_pos(const fr_node *n, const fr_tensor *p, int64_t count,
                         bool end_ok, int64_t dflt, int64_t *pos) {
  *pos = dflt;
  if (!p) return FR_OK;
  if (fr_tensor_numel(p) != 1)
    return fr_err_node(FR_ERR_SHAPE, n, "position must hold one value");
  int64_t v = fr_tensor_get_i64(p, 0);
  if (v < -count || v > (end_ok ? count : count - 1))
    return fr_err_node(FR_ERR_INVALID, n,
                       "position %lld out of range for a sequence of %lld",
                       (long long)v, (long long)count);
  *pos = v < 0 ? v + count : v;
  return FR_OK;
}

/* SplitToSequence into v. */
static fr_status split_to_seq(const fr_node *n, fr_tensor *const *in,
                              fr_tensor *v) {
  const fr_tensor *x = in[0], *split = n->n_in > 1 ? in[1] : NULL;
  int axis;
  int64_t count;
  FR_TRY(fr_split_to_sequence_plan(n, x, split, &axis, &count, NULL, 0));
  int64_t *sizes = fr_malloc(sizeof(int64_t) * ((size_t)count + 1));
  if (!sizes) return fr_err_nomem(n);
  fr_status st =
      fr_split_to_sequence_plan(n, x, split, &axis, &count, sizes, count);
  bool squeeze = !split && fr_attr_int(n, FR_A_KEEPDIMS) == 0;
  if (st == FR_OK) st = new_seq(n, x->dtype, count, v);
  int64_t es = (int64_t)fr_dtype_size(x->dtype);
  int64_t outer = prod(x->dims, 0, axis), inner = prod(x->dims, axis + 1, x->rank);
  int64_t off = 0;
  for (int64_t i = 0; st == FR_OK && i < count; i++) {
    fr_tensor *c = fr_calloc(1, sizeof *c);
    if (!c) {
      st = fr_err_nomem(n);
      break;
    }
    c->dtype = x->dtype;
    for (int k = 0; k < x->rank; k++) {
      if (k == axis && squeeze) continue;
      c->dims[c->rank++] = k == axis ? sizes[i] : x->dims[k];
    }
    st = fr_tensor_alloc(c);
    if (st == FR_OK) {
      fr_k_copy_slices(outer, inner * es, sizes[i], x->data, x->dims[axis],
                       off, c->data, sizes[i], 0);
      st = fr_own_strings(n, c);
    }
    ((fr_tensor **)v->data)[v->dims[0]++] = c;
    off += sizes[i];
  }
  fr_free(sizes);
  return st;
}

/* ConcatFromSequence into out (allocated by the interpreter). */
static fr_status concat_from_seq(const fr_node *n, const fr_tensor *seq,
                                 fr_tensor *out) {
  fr_tensor *const *el = seq->data;
  int64_t count = seq->dims[0];
  int new_axis = fr_attr_int(n, FR_A_NEW_AXIS) != 0;
  int a;
  FR_TRY(fr_attr_axis(n, out->rank, &a));
  int64_t es = (int64_t)fr_dtype_size(out->dtype);
  int64_t outer = prod(out->dims, 0, a), inner = prod(out->dims, a + 1, out->rank);
  int64_t off = 0;
  for (int64_t i = 0; i < count; i++) {
    int64_t k = new_axis ? 1 : el[i]->dims[a];
    fr_k_copy_slices(outer, inner * es, k, el[i]->data, k, 0, out->data,
                     out->dims[a], off);
    off += k;
  }
  return fr_own_strings(n, out);
}

fr_status fr_exec_seq(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)x;
  fr_tensor v = {0};
  fr_status st = FR_OK;
  FR_TRY(check_seqs(n, in));
  switch (n->op) {
  case FR_OP_SEQUENCE_EMPTY:
    st = new_seq(n, out[0]->dtype, 0, &v);
    break;
  case FR_OP_SEQUENCE_CONSTRUCT:
    st = new_seq(n, in[0]->dtype, n->n_in, &v);
    for (int i = 0; st == FR_OK && i < n->n_in; i++) st = seq_add(n, &v, in[i]);
    break;
  case FR_OP_SEQUENCE_INSERT: {
    int64_t count = in[0]->dims[0], pos;
    fr_tensor *const *el = in[0]->data;
    FR_TRY(seq_pos(n, n->n_in > 2 ? in[2] : NULL, count, true, count, &pos));
    st = new_seq(n, in[1]->dtype, count + 1, &v);
    for (int64_t i = 0; st == FR_OK && i <= count; i++) {
      if (i == pos) st = seq_add(n, &v, in[1]);
      if (st == FR_OK && i < count) st = seq_add(n, &v, el[i]);
    }
    break;
  }
  case FR_OP_SEQUENCE_ERASE: {
    int64_t count = in[0]->dims[0], pos;
    fr_tensor *const *el = in[0]->data;
    FR_TRY(seq_pos(n, n->n_in > 1 ? in[1] : NULL, count, false, count - 1,
                   &pos));
    if (count == 0)
      return fr_err_node(FR_ERR_INVALID, n, "the sequence is empty");
    st = new_seq(n, in[0]->dtype, count - 1, &v);
    for (int64_t i = 0; st == FR_OK && i < count; i++)
      if (i != pos) st = seq_add(n, &v, el[i]);
    break;
  }
  case FR_OP_SEQUENCE_AT: {
    int64_t count = in[0]->dims[0], pos;
    FR_TRY(seq_pos(n, in[1], count, false, 0, &pos));
    st = fr_tensor_clone(((fr_tensor *const *)in[0]->data)[pos], &v);
    break;
  }
  case FR_OP_SEQUENCE_LENGTH:
    *(int64_t *)out[0]->data = in[0]->dims[0];
    return FR_OK;
  case FR_OP_SPLIT_TO_SEQUENCE:
    st = split_to_seq(n, in, &v);
    break;
  case FR_OP_CONCAT_FROM_SEQUENCE:
    return concat_from_seq(n, in[0], out[0]);
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "not a sequence op");
  }
  if (st == FR_OK) put(out[0], &v);
  else fr_tensor_release(&v);
  return st;
}

/* ---- optionals ------------------------------------------------------- */

fr_status fr_exec_optional(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  const fr_tensor *t = n->n_in > 0 ? in[0] : NULL;
  fr_tensor v = {0};
  switch (n->op) {
  case FR_OP_OPTIONAL:
    v.kind = FR_KIND_OPTIONAL;
    v.dtype = t ? t->dtype : out[0]->dtype;
    if (t && !(v.data = fr_tensor_dup(t))) return fr_err_nomem(n);
    put(out[0], &v);
    return FR_OK;
  case FR_OP_OPTIONAL_HAS_ELEMENT:
    *(uint8_t *)out[0]->data = t && (t->kind != FR_KIND_OPTIONAL || t->data);
    return FR_OK;
  case FR_OP_OPTIONAL_GET_ELEMENT: {
    const fr_tensor *e = t->kind == FR_KIND_OPTIONAL ? t->data : t;
    if (!e) return fr_err_node(FR_ERR_INVALID, n, "the optional is empty");
    if (fr_tensor_clone(e, &v) != FR_OK) return fr_err_nomem(n);
    put(out[0], &v);
    return FR_OK;
  }
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "not an optional op");
  }
}

/* ---- RNN, GRU, LSTM -------------------------------------------------- */

static const struct {
  const char *name;
  int code;
  float alpha, beta; /* defaults, when the function takes them */
  int n_params;
} acts[] = {
    {"Relu", FR_K_ACT_RELU, 0, 0, 0},
    {"Tanh", FR_K_ACT_TANH, 0, 0, 0},
    {"Sigmoid", FR_K_ACT_SIGMOID, 0, 0, 0},
    {"Affine", FR_K_ACT_AFFINE, 1, 0, 2},
    {"LeakyRelu", FR_K_ACT_LEAKY_RELU, 0.01f, 0, 1},
    {"ThresholdedRelu", FR_K_ACT_THRESHOLDED_RELU, 1, 0, 1},
    {"ScaledTanh", FR_K_ACT_SCALED_TANH, 1, 1, 2},
    {"HardSigmoid", FR_K_ACT_HARD_SIGMOID, 0.2f, 0.5f, 2},
    {"Elu", FR_K_ACT_ELU, 1, 0, 1},
    {"Softsign", FR_K_ACT_SOFTSIGN, 0, 0, 0},
    {"Softplus", FR_K_ACT_SOFTPLUS, 0, 0, 0},
};

/* Activations of direction d into p (f, g, h). */
static fr_status rnn_acts(const fr_node *n, int per, int dirs, int d,
                          fr_k_rnn *p) {
  static const char *dflt[3] = {"Sigmoid", "Tanh", "Tanh"};
  const fr_attr *a = fr_attr_get(n, FR_A_ACTIVATIONS);
  int cnt = a && a->type == FR_ATTR_STRINGS ? a->n : 0;
  if (cnt && cnt != per && cnt != per * dirs)
    return fr_err_node(FR_ERR_INVALID, n, "%d activations, expected %d", cnt,
                       per * dirs);
  int na, nb;
  const float *alpha = fr_attr_floats(n, FR_A_ACTIVATION_ALPHA, &na);
  const float *beta = fr_attr_floats(n, FR_A_ACTIVATION_BETA, &nb);
  int ia = 0, ib = 0; /* alpha/beta consumed in order by those that take them */
  for (int k = 0; k < per * dirs; k++) {
    const char *name = n->op == FR_OP_RNN ? "Tanh" : dflt[k % per];
    if (cnt) name = a->strings[cnt == per ? k % per : k];
    int f = -1;
    for (size_t q = 0; q < sizeof acts / sizeof acts[0]; q++)
      if (!strcasecmp(acts[q].name, name)) f = (int)q;
    if (f < 0)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "activation '%s'", name);
    float al = acts[f].alpha, be = acts[f].beta;
    if (acts[f].n_params >= 1 && alpha && ia < na) al = alpha[ia++];
    if (acts[f].n_params >= 2 && beta && ib < nb) be = beta[ib++];
    if (k / per == d) {
      p->act[k % per] = acts[f].code;
      p->alpha[k % per] = al;
      p->beta[k % per] = be;
    }
  }
  return FR_OK;
}

fr_status fr_exec_rnn(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)x;
  const fr_tensor *X = in[0], *W = in[1], *R = in[2];
  if (X->dtype != FR_F32)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                       fr_dtype_name(X->dtype));
  int cell = n->op == FR_OP_RNN ? FR_K_CELL_RNN
             : n->op == FR_OP_GRU ? FR_K_CELL_GRU
                                  : FR_K_CELL_LSTM;
  int gates = cell == FR_K_CELL_RNN ? 1 : cell == FR_K_CELL_GRU ? 3 : 4;
  int per = cell == FR_K_CELL_RNN ? 1 : cell == FR_K_CELL_GRU ? 2 : 3;
  const fr_tensor *B = n->n_in > 3 ? in[3] : NULL;
  const fr_tensor *lens = n->n_in > 4 ? in[4] : NULL;
  const fr_tensor *h0 = n->n_in > 5 ? in[5] : NULL;
  const fr_tensor *c0 = n->n_in > 6 ? in[6] : NULL;
  const fr_tensor *P = n->n_in > 7 ? in[7] : NULL;
  fr_rnn_attrs ra;
  FR_TRY(fr_rnn_attrs_of(n, &ra));
  int layout = ra.layout, dirs = ra.dirs;
  fr_k_rnn p = {.cell = cell};
  p.seq = layout ? X->dims[1] : X->dims[0];
  p.batch = layout ? X->dims[0] : X->dims[1];
  p.input = X->dims[2];
  p.hidden = W->dims[1] / gates;
  p.clip = fr_attr_get(n, FR_A_CLIP) ? fr_attr_float(n, FR_A_CLIP) : 0;
  p.linear_before_reset =
      n->op == FR_OP_GRU && fr_attr_int(n, FR_A_LINEAR_BEFORE_RESET) != 0;
  p.input_forget = n->op == FR_OP_LSTM && fr_attr_int(n, FR_A_INPUT_FORGET) != 0;
  int64_t H = p.hidden, Bn = p.batch;
  p.x_st = layout ? p.input : Bn * p.input;
  p.x_sb = layout ? p.seq * p.input : p.input;
  p.y_st = layout ? dirs * H : dirs * Bn * H;
  p.y_sb = layout ? p.seq * dirs * H : H;
  p.h_sb = layout ? dirs * H : H;
  float *scratch = fr_malloc(sizeof(float) * (size_t)((4 + gates) * H));
  int64_t *lv = lens ? fr_malloc(sizeof(int64_t) * (size_t)(Bn + 1)) : NULL;
  if (!scratch || (lens && !lv)) {
    fr_free(scratch);
    fr_free(lv);
    return fr_err_nomem(n);
  }
  fr_status st = FR_OK;
  for (int64_t b = 0; lv && b < Bn; b++) {
    lv[b] = fr_tensor_get_i64(lens, b);
    if (lv[b] < 0 || lv[b] > p.seq)
      st = fr_err_node(FR_ERR_INVALID, n, "sequence length %lld (max %lld)",
                       (long long)lv[b], (long long)p.seq);
  }
  float *Y = n->n_out > 0 && out[0] ? out[0]->data : NULL;
  float *Yh = n->n_out > 1 && out[1] ? out[1]->data : NULL;
  float *Yc = n->n_out > 2 && out[2] ? out[2]->data : NULL;
  for (int d = 0; st == FR_OK && d < dirs; d++) {
    st = rnn_acts(n, per, dirs, d, &p);
    if (st != FR_OK) break;
    p.reverse = ra.reverse || d == 1;
    int64_t GH = gates * H;
    int64_t y_off = layout ? d * H : d * Bn * H;
    int64_t h_off = layout ? d * H : d * Bn * H;
    fr_k_rnn_f32(&p, X->data, (const float *)W->data + d * GH * p.input,
                 (const float *)R->data + d * GH * H,
                 B ? (const float *)B->data + d * 2 * GH : NULL,
                 P ? (const float *)P->data + d * 3 * H : NULL, lv,
                 h0 ? (const float *)h0->data + h_off : NULL,
                 c0 ? (const float *)c0->data + h_off : NULL,
                 Y ? Y + y_off : NULL, Yh ? Yh + h_off : NULL,
                 Yc ? Yc + h_off : NULL, scratch);
  }
  fr_free(scratch);
  fr_free(lv);
  return st;
}

/* ---- NonMaxSuppression ------------------------------------------------ */

fr_status fr_exec_nms(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)x;
  const fr_tensor *boxes = in[0], *scores = in[1];
  int64_t B = scores->dims[0], C = scores->dims[1], S = scores->dims[2];
  int64_t max_out = n->n_in > 2 && in[2] ? fr_tensor_get_i64(in[2], 0) : 0;
  float iou_th = n->n_in > 3 && in[3] ? (float)fr_tensor_get_f64(in[3], 0) : 0;
  bool has_score = n->n_in > 4 && in[4];
  float score_th = has_score ? (float)fr_tensor_get_f64(in[4], 0) : 0;
  int center = (int)fr_attr_int(n, FR_A_CENTER_POINT_BOX);
  if (max_out < 0) max_out = 0;
  if (max_out > S) max_out = S;
  int64_t cap = B * C * max_out;
  int64_t *scratch = fr_malloc(sizeof(int64_t) * (size_t)(3 * S + 1));
  int64_t *sel = fr_malloc(sizeof(int64_t) * (size_t)(3 * cap + 1));
  if (!scratch || !sel) {
    fr_free(scratch);
    fr_free(sel);
    return fr_err_nomem(n);
  }
  int64_t count = 0;
  for (int64_t b = 0; b < B; b++)
    for (int64_t c = 0; c < C && max_out > 0; c++) {
      int64_t k = fr_k_nms_f32(S, (const float *)boxes->data + b * S * 4,
                               (const float *)scores->data + (b * C + c) * S,
                               center, max_out, iou_th, has_score, score_th,
                               scratch, scratch + S, scratch + 2 * S);
      for (int64_t i = 0; i < k; i++) {
        sel[3 * count] = b;
        sel[3 * count + 1] = c;
        sel[3 * count + 2] = scratch[2 * S + i];
        count++;
      }
    }
  fr_free(scratch);
  fr_tensor v = {.dtype = FR_I64, .rank = 2, .dims = {count, 3}};
  fr_status st = fr_tensor_alloc(&v);
  if (st == FR_OK) {
    memcpy(v.data, sel, sizeof(int64_t) * (size_t)(3 * count));
    put(out[0], &v);
  }
  fr_free(sel);
  return st;
}

/* ---- signal processing ----------------------------------------------- */

/* Writes doubles d (numel of t) into t, converting to its dtype. */
static void store(fr_tensor *t, const double *d) {
  int64_t k = fr_tensor_numel(t);
  for (int64_t i = 0; i < k; i++) fr_tensor_set_f64(t, i, d[i]);
}

fr_status fr_exec_window(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  (void)x;
  (void)in;
  int64_t size = out[0]->dims[0];
  int kind = n->op == FR_OP_HANN_WINDOW      ? FR_K_WIN_HANN
             : n->op == FR_OP_HAMMING_WINDOW ? FR_K_WIN_HAMMING
                                             : FR_K_WIN_BLACKMAN;
  double *d = fr_malloc(sizeof(double) * (size_t)(size + 1));
  if (!d) return fr_err_nomem(n);
  fr_k_window(kind, size, fr_attr_int(n, FR_A_PERIODIC) != 0, d);
  store(out[0], d);
  fr_free(d);
  return FR_OK;
}

/* A float32 copy of t (converting f64), or t's data itself. */
static float *as_f32(const fr_tensor *t, bool *copied) {
  *copied = false;
  if (t->dtype == FR_F32) return t->data;
  int64_t k = fr_tensor_numel(t);
  float *f = fr_malloc(sizeof(float) * (size_t)(k + 1));
  if (!f) return NULL;
  for (int64_t i = 0; i < k; i++) f[i] = (float)fr_tensor_get_f64(t, i);
  *copied = true;
  return f;
}

fr_status fr_exec_dft(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)x;
  int axis;
  int64_t nfft;
  bool inverse, onesided;
  FR_TRY(fr_dft_plan(n, in, &axis, &nfft, &inverse, &onesided));
  const fr_tensor *X = in[0];
  fr_tensor *Y = out[0];
  int64_t n_in = X->dims[axis] < nfft ? X->dims[axis] : nfft;
  if ((double)fr_tensor_numel(Y) * (double)n_in > 1e11)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "transform too large for the direct DFT");
  bool cx, cy = Y->dtype != FR_F32;
  float *xf = as_f32(X, &cx);
  double *tw = fr_malloc(sizeof(double) * (size_t)(2 * nfft));
  float *yf = cy ? fr_malloc(sizeof(float) * (size_t)(fr_tensor_numel(Y) + 1))
                 : Y->data;
  fr_status st = FR_OK;
  if (!xf || !tw || !yf) st = fr_err_nomem(n);
  if (st == FR_OK) {
    fr_k_twiddles(nfft, tw);
    fr_k_dft_f32(prod(X->dims, 0, axis), X->dims[axis],
                 prod(X->dims, axis + 1, X->rank - 1), X->dims[X->rank - 1],
                 nfft, Y->dims[axis], inverse, tw,
                 xf, yf);
    if (cy)
      for (int64_t i = 0; i < fr_tensor_numel(Y); i++)
        fr_tensor_set_f64(Y, i, yf[i]);
  }
  if (cx) fr_free(xf);
  if (cy) fr_free(yf);
  fr_free(tw);
  return st;
}

fr_status fr_exec_stft(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  (void)x;
  int64_t step, frames, flen;
  FR_TRY(fr_stft_plan(n, in, &step, &frames, &flen));
  const fr_tensor *X = in[0], *win = n->n_in > 2 ? in[2] : NULL;
  fr_tensor *Y = out[0];
  if ((double)fr_tensor_numel(Y) * (double)flen > 1e11)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "transform too large for the direct DFT");
  bool cx, cw = false, cy = Y->dtype != FR_F32;
  float *xf = as_f32(X, &cx), *wf = win ? as_f32(win, &cw) : NULL;
  double *tw = fr_malloc(sizeof(double) * (size_t)(2 * flen));
  float *yf = cy ? fr_malloc(sizeof(float) * (size_t)(fr_tensor_numel(Y) + 1))
                 : Y->data;
  fr_status st = FR_OK;
  if (!xf || !tw || !yf || (win && !wf)) st = fr_err_nomem(n);
  if (st == FR_OK) {
    fr_k_twiddles(flen, tw);
    fr_k_stft_f32(X->dims[0], X->dims[1], X->dims[2], frames, step, flen,
                  Y->dims[2], tw, wf, xf, yf);
    if (cy)
      for (int64_t i = 0; i < fr_tensor_numel(Y); i++)
        fr_tensor_set_f64(Y, i, yf[i]);
  }
  if (cx) fr_free(xf);
  if (cw) fr_free(wf);
  if (cy) fr_free(yf);
  fr_free(tw);
  return st;
}

fr_status fr_exec_mel(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  (void)x;
  int64_t bins = out[0]->dims[1];
  int64_t dft = fr_tensor_get_i64(in[1], 0), rate = fr_tensor_get_i64(in[2], 0);
  int64_t k = fr_tensor_numel(out[0]);
  double *d = fr_calloc((size_t)k + 1, sizeof(double));
  if (!d) return fr_err_nomem(n);
  fr_k_mel_weights(bins, dft, rate, (float)fr_tensor_get_f64(in[3], 0),
                   (float)fr_tensor_get_f64(in[4], 0), d);
  store(out[0], d);
  fr_free(d);
  return FR_OK;
}

/* ---- random generators ------------------------------------------------ */

fr_status fr_exec_random(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  fr_tensor *y = out[0];
  int64_t k = fr_tensor_numel(y);
  uint64_t seeded, *state = &x->rng;
  if (fr_attr_get(n, FR_A_SEED)) {
    float s = fr_attr_float(n, FR_A_SEED);
    memcpy(&seeded, &(double){s}, sizeof seeded);
    state = &seeded;
  }
  int64_t m = n->op == FR_OP_MULTINOMIAL ? in[0]->dims[1] : 0;
  double *d = fr_malloc(sizeof(double) * (size_t)(k + m + 1));
  if (!d) return fr_err_nomem(n);
  switch (n->op) {
  case FR_OP_RANDOM_UNIFORM:
  case FR_OP_RANDOM_UNIFORM_LIKE:
    fr_k_random_uniform(state, k, fr_attr_float(n, FR_A_LOW),
                        fr_attr_float(n, FR_A_HIGH), d);
    break;
  case FR_OP_RANDOM_NORMAL:
  case FR_OP_RANDOM_NORMAL_LIKE:
    fr_k_random_normal(state, k, fr_attr_float(n, FR_A_MEAN),
                       fr_attr_float(n, FR_A_SCALE), d);
    break;
  case FR_OP_BERNOULLI:
    fr_k_random_uniform(state, k, 0, 1, d);
    for (int64_t i = 0; i < k; i++) d[i] = d[i] < fr_tensor_get_f64(in[0], i);
    break;
  case FR_OP_MULTINOMIAL: {
    /* Rows of unnormalized log-probabilities: sample by inverse CDF. */
    int64_t rows = in[0]->dims[0], samples = y->dims[1];
    double *p = d + k;
    for (int64_t r = 0; r < rows; r++) {
      double mx = -1e300, sum = 0;
      for (int64_t c = 0; c < m; c++)
        if (fr_tensor_get_f64(in[0], r * m + c) > mx)
          mx = fr_tensor_get_f64(in[0], r * m + c);
      for (int64_t c = 0; c < m; c++) {
        p[c] = exp(fr_tensor_get_f64(in[0], r * m + c) - mx);
        sum += p[c];
      }
      fr_k_random_uniform(state, samples, 0, sum, d + r * samples);
      for (int64_t s = 0; s < samples; s++) {
        double u = d[r * samples + s], acc = 0;
        int64_t c = 0;
        for (; c < m - 1; c++) {
          acc += p[c];
          if (u < acc) break;
        }
        d[r * samples + s] = (double)c;
      }
    }
    break;
  }
  default:
    fr_free(d);
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "not a random op");
  }
  store(y, d);
  fr_free(d);
  return FR_OK;
}

/* ---- training optimizers --------------------------------------------- */

/* Gradient nodes are replaced by backward nodes before anything runs
 * (compiler/passes/autodiff.c, which every engine applies). */
fr_status fr_exec_gradient(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  (void)x;
  (void)in;
  (void)out;
  return fr_err_node(FR_ERR_UNSUPPORTED, n,
                     "Gradient runs only after the autodiff pass");
}

fr_status fr_plan_optimizer(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out, fr_kplan *kp) {
  (void)out;
  fr_k_onnx_optim_plan p;
  memset(&p, 0, sizeof p);
  int per = n->op == FR_OP_ADAM ? 4 : 3;
  p.k = (n->n_in - 2) / per;
  if (p.k > FR_K_OPTIM_MAX)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "%d tensors (at most %d)", p.k,
                       FR_K_OPTIM_MAX);
  p.op = n->op == FR_OP_ADAGRAD ? FR_K_ONNX_ADAGRAD
         : n->op == FR_OP_ADAM  ? FR_K_ONNX_ADAM
                                : FR_K_ONNX_MOMENTUM;
  p.n_in = n->n_in;
  p.n_out = n->n_out;
  p.r_f64 = in[0]->dtype == FR_F64;
  p.norm = fr_attr_float(n, FR_A_NORM_COEFFICIENT);
  int64_t most = 0;
  for (int i = 0; i < p.k; i++) {
    if (in[2 + i]->dtype != FR_F32)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "data type %s",
                         fr_dtype_name(in[2 + i]->dtype));
    p.count[i] = fr_tensor_numel(in[2 + i]);
    if (p.count[i] > most) most = p.count[i];
  }
  switch (n->op) {
  case FR_OP_ADAGRAD:
    p.decay = fr_attr_float(n, FR_A_DECAY_FACTOR);
    p.eps = fr_attr_float(n, FR_A_EPSILON);
    break;
  case FR_OP_ADAM:
    p.alpha = fr_attr_float(n, FR_A_ALPHA);
    p.beta = fr_attr_float(n, FR_A_BETA);
    p.norm_post = fr_attr_float(n, FR_A_NORM_COEFFICIENT_POST);
    p.eps = fr_attr_float(n, FR_A_EPSILON);
    break;
  default: {
    const char *mode = fr_attr_str(n, FR_A_MODE); /* checked by infer */
    if (strcmp(mode, "standard") && strcmp(mode, "nesterov"))
      return fr_err_node(FR_ERR_INVALID, n, "mode '%s'", mode);
    p.nesterov = !strcmp(mode, "nesterov");
    p.alpha = fr_attr_float(n, FR_A_ALPHA);
    p.beta = fr_attr_float(n, FR_A_BETA);
    break;
  }
  }
  FR_KPLAN(kp, fr_ke_onnx_optim, p);
  kp->scratch = sizeof(float) * (size_t)(3 * most + 1);
  return FR_OK;
}

/* ---- strings --------------------------------------------------------- */

static void change_case(char *s, int upper) {
  for (; *s; s++)
    *s = (char)(upper ? toupper((unsigned char)*s) : tolower((unsigned char)*s));
}

fr_status fr_exec_strnorm(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  (void)x;
  const fr_tensor *X = in[0];
  const char *cc = fr_attr_str(n, FR_A_CASE_CHANGE_ACTION);
  bool sensitive = fr_attr_int(n, FR_A_IS_CASE_SENSITIVE) != 0;
  const fr_attr *sw = fr_attr_get(n, FR_A_STOPWORDS);
  int n_sw = sw && sw->type == FR_ATTR_STRINGS ? sw->n : 0;
  int64_t cnt = fr_tensor_numel(X), kept = 0;
  char **src = X->data;
  char **dst = fr_calloc((size_t)cnt + 1, sizeof(char *));
  if (!dst) return fr_err_nomem(n);
  fr_status st = FR_OK;
  for (int64_t i = 0; i < cnt && st == FR_OK; i++) {
    const char *s = src[i] ? src[i] : "";
    bool stop = false;
    for (int j = 0; j < n_sw && !stop; j++)
      stop = sensitive ? !strcmp(s, sw->strings[j])
                       : !strcasecmp(s, sw->strings[j]);
    if (stop) continue;
    dst[kept] = fr_strdup(s);
    if (!dst[kept]) st = fr_err_nomem(n);
    else {
      if (!strcmp(cc, "LOWER")) change_case(dst[kept], 0);
      if (!strcmp(cc, "UPPER")) change_case(dst[kept], 1);
      kept++;
    }
  }
  /* Everything filtered out: one empty string. */
  if (st == FR_OK && kept == 0) {
    dst[0] = fr_strdup("");
    if (!dst[0]) st = fr_err_nomem(n);
    else kept = 1;
  }
  fr_tensor v = {.dtype = FR_STRING, .rank = X->rank};
  if (X->rank == 2) v.dims[0] = 1, v.dims[1] = kept;
  else v.dims[0] = kept;
  if (st == FR_OK) st = fr_tensor_alloc(&v);
  if (st == FR_OK) {
    memcpy(v.data, dst, sizeof(char *) * (size_t)kept);
    put(out[0], &v);
  } else {
    for (int64_t i = 0; i < kept; i++) fr_free(dst[i]);
  }
  fr_free(dst);
  return st;
}

/* TfIdfVectorizer: counts n-grams (n from min to max, items skipping up to
 * max_skip_count between them) of each row found in the pool. */
fr_status fr_exec_tfidf(fr_exec *x, const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  (void)x;
  const fr_tensor *X = in[0];
  fr_tensor *Y = out[0];
  int64_t minn = fr_attr_int(n, FR_A_MIN_GRAM_LENGTH);
  int64_t maxn = fr_attr_int(n, FR_A_MAX_GRAM_LENGTH);
  int64_t skip = fr_attr_int(n, FR_A_MAX_SKIP_COUNT);
  const char *mode = fr_attr_str(n, FR_A_MODE);
  if (!mode) return fr_err_node(FR_ERR_INVALID, n, "needs a mode");
  int n_counts, n_idx, n_w = 0, n_pool;
  const int64_t *counts = fr_attr_ints(n, FR_A_NGRAM_COUNTS, &n_counts);
  const int64_t *idx = fr_attr_ints(n, FR_A_NGRAM_INDEXES, &n_idx);
  const float *weights = fr_attr_floats(n, FR_A_WEIGHTS, &n_w);
  bool strs = X->dtype == FR_STRING;
  const fr_attr *ps = fr_attr_get(n, FR_A_POOL_STRINGS);
  const int64_t *pool_i = fr_attr_ints(n, FR_A_POOL_INT64S, &n_pool);
  if (strs) n_pool = ps && ps->type == FR_ATTR_STRINGS ? ps->n : 0;
  if (minn < 1 || maxn < minn || skip < 0 || maxn > n_counts || !counts)
    return fr_err_node(FR_ERR_INVALID, n,
                       "gram lengths %lld..%lld, skip %lld, %d ngram_counts",
                       (long long)minn, (long long)maxn, (long long)skip,
                       n_counts);
  int m_tf = !strcmp(mode, "TF"), m_idf = !strcmp(mode, "IDF"),
      m_tfidf = !strcmp(mode, "TFIDF");
  if (!m_tf && !m_idf && !m_tfidf)
    return fr_err_node(FR_ERR_INVALID, n, "mode '%s'", mode);
  for (int i = 0; i < n_counts; i++)
    if (counts[i] < 0 || counts[i] > n_pool ||
        (i > 0 && counts[i] < counts[i - 1]))
      return fr_err_node(FR_ERR_INVALID, n, "ngram_counts are invalid");
  /* Number of n-grams of each length in the pool. */
  int64_t n_grams = 0;
  for (int i = 0; i < n_counts; i++) {
    int64_t end = i + 1 < n_counts ? counts[i + 1] : n_pool;
    if ((end - counts[i]) % (i + 1))
      return fr_err_node(FR_ERR_INVALID, n, "pool size of %d-grams", i + 1);
    n_grams += (end - counts[i]) / (i + 1);
  }
  if (n_grams != n_idx || (weights && n_w != n_idx))
    return fr_err_node(FR_ERR_INVALID, n,
                       "%lld n-grams but %d indexes and %d weights",
                       (long long)n_grams, n_idx, n_w);
  int64_t rows = X->rank == 2 ? X->dims[0] : 1;
  int64_t cols = X->rank == 2 ? X->dims[1] : X->dims[0];
  int64_t width = Y->rank == 2 ? Y->dims[1] : Y->dims[0];
  float *y = Y->data;
  for (int64_t r = 0; r < rows; r++) {
    float *yr = y + r * width;
    for (int64_t len = minn; len <= maxn; len++) {
      int64_t first = counts[len - 1];
      int64_t end = len < n_counts ? counts[len] : n_pool;
      int64_t ng = (end - first) / len;
      /* Ids of the first n-gram of length len in ngram_indexes. */
      int64_t id0 = 0;
      for (int64_t q = 0; q < len - 1; q++) {
        int64_t e = q + 1 < n_counts ? counts[q + 1] : n_pool;
        id0 += (e - counts[q]) / (q + 1);
      }
      for (int64_t sk = 0; sk <= (len == 1 ? 0 : skip); sk++) {
        int64_t span = (len - 1) * (sk + 1) + 1;
        for (int64_t st0 = 0; st0 + span <= cols; st0++) {
          for (int64_t g = 0; g < ng; g++) {
            bool match = true;
            for (int64_t q = 0; q < len && match; q++) {
              int64_t c = r * cols + st0 + q * (sk + 1);
              int64_t p = first + g * len + q;
              if (strs) {
                const char *a = ((char **)X->data)[c];
                match = !strcmp(a ? a : "", ps->strings[p]);
              } else {
                match = fr_tensor_get_i64(X, c) == pool_i[p];
              }
            }
            if (match) {
              int64_t o = idx[id0 + g];
              if (o >= 0 && o < width) yr[o] += 1;
            }
          }
        }
      }
    }
    for (int64_t g = 0; g < n_idx; g++) {
      int64_t o = idx[g];
      if (o < 0 || o >= width) continue;
      float w = weights ? weights[g] : 1;
      if (m_idf) yr[o] = yr[o] > 0 ? w : 0;
      else if (m_tfidf) yr[o] *= w;
    }
  }
  return FR_OK;
}
