/* infer_ctrl.c: shape inference of control flow (If, Loop, Scan), sequences,
 * optionals, recurrent nets (RNN, GRU, LSTM), NonMaxSuppression, signal
 * processing (windows, DFT, STFT, MelWeightMatrix), random generators,
 * training optimizers and string ops.
 *
 * Values that are not tensors: a sequence is {kind SEQUENCE, dtype of its
 * elements, rank 1, dims[0] = element count} (rank -1 while the count is not
 * known at compile time); an optional is {kind OPTIONAL, dtype of its
 * innermost elements, rank 0}. The interpreter does not allocate them: the
 * exec functions fill their data.
 *
 * Ops whose output shapes are only known once they have run (If, Loop,
 * Scan, NonMaxSuppression, StringNormalizer) report FR_ERR_UNSUPPORTED at
 * compile time when the shapes cannot be derived, and at run time mark their
 * outputs as produced by exec (fr_set_later, infer.c). Run time is
 * recognized by the tensors passed in: the interpreter passes its own
 * environment, compile-time inference the IR values' tensors. */
#include <string.h>

#include "ir.h"

/* ---- helpers --------------------------------------------------------- */

static void set_seq(fr_tensor *o, fr_dtype dt, int64_t count) {
  if (!o) return;
  o->kind = FR_KIND_SEQUENCE;
  o->dtype = dt;
  o->rank = count >= 0 ? 1 : -1;
  o->dims[0] = count >= 0 ? count : 0;
}

static void set_opt(fr_tensor *o, fr_dtype dt) {
  if (!o) return;
  o->kind = FR_KIND_OPTIONAL;
  o->dtype = dt;
  o->rank = 0;
}

/* Copies kind, dtype and shape (not data). */
static void copy_type(fr_tensor *o, const fr_tensor *t) {
  if (!o) return;
  o->kind = t->kind;
  o->dtype = t->dtype;
  o->rank = t->rank;
  for (int i = 0; i < t->rank && i < FR_MAX_RANK; i++) o->dims[i] = t->dims[i];
  if (t->kind == FR_KIND_SEQUENCE) o->dims[0] = t->dims[0];
}

static bool is_tensor(const fr_tensor *t) {
  return t && t->kind == FR_KIND_TENSOR;
}

/* A tensor input that must hold one element (rank 0 or [1]). */
static fr_status need_scalar(const fr_node *n, const fr_tensor *t,
                             const char *what) {
  if (!is_tensor(t))
    return fr_err_node(FR_ERR_SHAPE, n, "%s must be a tensor", what);
  if (t->rank >= 0 && fr_tensor_numel(t) != 1)
    return fr_err_node(FR_ERR_SHAPE, n, "%s must hold one element", what);
  return FR_OK;
}

static fr_status need_int_scalar(const fr_node *n, const fr_tensor *t,
                                 const char *what) {
  FR_TRY(need_scalar(n, t, what));
  if (t->dtype != FR_I64 && t->dtype != FR_I32)
    return fr_err_node(FR_ERR_SHAPE, n, "%s must be int32 or int64, not %s",
                       what, fr_dtype_name(t->dtype));
  return FR_OK;
}

/* Value of an int scalar input known now (data present). */
static fr_status int_value(const fr_node *n, const fr_tensor *t,
                           const char *what, int64_t *v) {
  FR_TRY(need_int_scalar(n, t, what));
  if (!t->data)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant %s", what);
  *v = fr_tensor_get_i64(t, 0);
  return FR_OK;
}

static bool known(const fr_tensor *t) {
  return t->kind != FR_KIND_TENSOR || t->rank >= 0;
}

static bool same_type(const fr_tensor *a, const fr_tensor *b) {
  if (a->kind != b->kind || a->dtype != b->dtype || a->rank != b->rank)
    return false;
  if (a->kind == FR_KIND_SEQUENCE) return a->rank < 0 || a->dims[0] == b->dims[0];
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

/* ---- If, Loop, Scan -------------------------------------------------- */

static fr_status branch(const fr_node *n, fr_attr_id id, fr_graph **g) {
  const char *name = fr_attr_names[id];
  *g = fr_attr_graph(n, id);
  if (!*g) return fr_err_node(FR_ERR_INVALID, n, "has no '%s' graph", name);
  if ((*g)->n_outputs != n->n_out)
    return fr_err_node(FR_ERR_INVALID, n, "'%s' has %d outputs, the node %d",
                       name, (*g)->n_outputs, n->n_out);
  return FR_OK;
}

fr_status fr_infer_if(const fr_node *n, fr_tensor *const *in,
                      fr_tensor *const *out) {
  fr_graph *then_g, *else_g;
  FR_TRY(branch(n, FR_A_THEN_BRANCH, &then_g));
  FR_TRY(branch(n, FR_A_ELSE_BRANCH, &else_g));
  FR_TRY(need_scalar(n, in[0], "the condition"));
  if (fr_at_run_time(n, in, out)) {
    for (int i = 0; i < n->n_out; i++) fr_set_later(out[i]);
    return FR_OK;
  }
  const fr_graph *only = NULL;
  if (in[0]->data) only = fr_tensor_get_f64(in[0], 0) != 0 ? then_g : else_g;
  for (int i = 0; i < n->n_out; i++) {
    const fr_tensor *a = &then_g->outputs[i]->t, *b = &else_g->outputs[i]->t;
    if (only) a = b = &only->outputs[i]->t;
    if (!known(a) || !known(b) || !same_type(a, b))
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "output %d is known only at run time", i);
    copy_type(out[i], a);
  }
  return FR_OK;
}

fr_status fr_infer_loop(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  fr_graph *body = fr_attr_graph(n, FR_A_BODY);
  if (!body) return fr_err_node(FR_ERR_INVALID, n, "has no 'body' graph");
  int n_state = n->n_in - 2, n_scan = n->n_out - n_state;
  if (n_scan < 0)
    return fr_err_node(FR_ERR_INVALID, n,
                       "has %d loop-carried inputs but %d outputs", n_state,
                       n->n_out);
  if (body->n_inputs != n_state + 2 || body->n_outputs != 1 + n->n_out)
    return fr_err_node(FR_ERR_INVALID, n,
                       "body has %d inputs and %d outputs, expected %d and %d",
                       body->n_inputs, body->n_outputs, n_state + 2,
                       1 + n->n_out);
  if (in[0]) FR_TRY(need_scalar(n, in[0], "the trip count M"));
  if (in[1]) FR_TRY(need_scalar(n, in[1], "the condition"));
  for (int i = 0; i < n_state; i++)
    if (!in[2 + i])
      return fr_err_node(FR_ERR_INVALID, n, "loop-carried input %d omitted",
                         i);
  if (fr_at_run_time(n, in, out)) {
    for (int i = 0; i < n->n_out; i++) fr_set_later(out[i]);
    return FR_OK;
  }
  /* Compile time: a loop-carried value keeps its type when the body says
   * so; scan outputs depend on the trip count. */
  for (int i = 0; i < n_state; i++) {
    const fr_tensor *b = &body->outputs[1 + i]->t;
    if (!known(in[2 + i]) || !known(b) || !same_type(in[2 + i], b))
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "output %d is known only at run time", i);
    copy_type(out[i], in[2 + i]);
  }
  if (n_scan > 0)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "scan outputs are known only at run time");
  return FR_OK;
}

fr_status fr_scan_plan(const fr_node *n, fr_tensor *const *in,
                       fr_scan_info *s) {
  memset(s, 0, sizeof *s);
  s->body = fr_attr_graph(n, FR_A_BODY);
  if (!s->body) return fr_err_node(FR_ERR_INVALID, n, "has no 'body' graph");
  s->first = n->opset < 9 ? 1 : 0;
  int64_t m = fr_attr_int(n, FR_A_NUM_SCAN_INPUTS);
  int rest = n->n_in - s->first;
  if (m < 1 || m > rest || m > 64)
    return fr_err_node(FR_ERR_INVALID, n, "num_scan_inputs %lld is invalid",
                       (long long)m);
  s->n_scan_in = (int)m;
  s->n_state = rest - s->n_scan_in;
  s->n_scan_out = n->n_out - s->n_state;
  if (s->n_scan_out < 0 || s->n_scan_out > 64)
    return fr_err_node(FR_ERR_INVALID, n, "has %d states but %d outputs",
                       s->n_state, n->n_out);
  if (s->body->n_inputs != s->n_state + s->n_scan_in ||
      s->body->n_outputs != n->n_out)
    return fr_err_node(FR_ERR_INVALID, n,
                       "body has %d inputs and %d outputs, expected %d and %d",
                       s->body->n_inputs, s->body->n_outputs,
                       s->n_state + s->n_scan_in, n->n_out);
  for (int i = s->first; i < n->n_in; i++)
    if (!is_tensor(in[i]) || in[i]->rank < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "input %d must be a tensor", i);
  if (s->first && in[0] &&
      (!is_tensor(in[0]) || in[0]->rank != 1 || !fr_dtype_is_int(in[0]->dtype)))
    return fr_err_node(FR_ERR_SHAPE, n, "sequence_lens must be a 1-D int");
  int len;
  const int64_t *ax = fr_attr_ints(n, FR_A_SCAN_INPUT_AXES, &len);
  if (ax && (len != s->n_scan_in || s->first))
    return fr_err_node(FR_ERR_INVALID, n, "scan_input_axes has %d values",
                       len);
  const int64_t *dirs = fr_attr_ints(
      n, s->first ? FR_A_DIRECTIONS : FR_A_SCAN_INPUT_DIRECTIONS, &len);
  if (dirs && len != s->n_scan_in)
    return fr_err_node(FR_ERR_INVALID, n, "input directions has %d values",
                       len);
  for (int j = 0; dirs && j < len; j++)
    if (dirs[j] != 0 && dirs[j] != 1)
      return fr_err_node(FR_ERR_INVALID, n, "direction %lld is not 0 or 1",
                         (long long)dirs[j]);
  s->in_dirs = dirs;
  int64_t seq_len = -1;
  for (int j = 0; j < s->n_scan_in; j++) {
    const fr_tensor *t = in[s->first + s->n_state + j];
    int a;
    /* Opset 8: (batch, sequence, ...): the sequence axis is 1. */
    if (s->first) {
      if (t->rank < 2)
        return fr_err_node(FR_ERR_SHAPE, n, "scan input %d has rank %d", j,
                           t->rank);
      a = 1;
    } else {
      if (t->rank < 1)
        return fr_err_node(FR_ERR_SHAPE, n, "scan input %d is a scalar", j);
      FR_TRY(fr_axis(n, ax ? ax[j] : 0, t->rank, &a));
    }
    s->in_axes[j] = a;
    if (seq_len >= 0 && t->dims[a] != seq_len)
      return fr_err_node(FR_ERR_SHAPE, n,
                         "scan inputs have different lengths (%lld, %lld)",
                         (long long)seq_len, (long long)t->dims[a]);
    seq_len = t->dims[a];
    if (s->first && t->dims[0] != in[s->first + s->n_state]->dims[0])
      return fr_err_node(FR_ERR_SHAPE, n, "scan inputs' batch sizes differ");
  }
  const int64_t *oax = fr_attr_ints(n, FR_A_SCAN_OUTPUT_AXES, &len);
  if (oax && (len != s->n_scan_out || s->first))
    return fr_err_node(FR_ERR_INVALID, n, "scan_output_axes has %d values",
                       len);
  const int64_t *odirs = fr_attr_ints(n, FR_A_SCAN_OUTPUT_DIRECTIONS, &len);
  if (odirs && (len != s->n_scan_out || s->first))
    return fr_err_node(FR_ERR_INVALID, n,
                       "scan_output_directions has %d values", len);
  for (int j = 0; odirs && j < len; j++)
    if (odirs[j] != 0 && odirs[j] != 1)
      return fr_err_node(FR_ERR_INVALID, n, "direction %lld is not 0 or 1",
                         (long long)odirs[j]);
  for (int j = 0; j < s->n_scan_out; j++) s->out_axes[j] = oax ? oax[j] : 0;
  s->out_dirs = odirs;
  return FR_OK;
}

fr_status fr_infer_scan(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  fr_scan_info s = {0};
  FR_TRY(fr_scan_plan(n, in, &s));
  if (fr_at_run_time(n, in, out)) {
    for (int i = 0; i < n->n_out; i++) fr_set_later(out[i]);
    return FR_OK;
  }
  for (int i = 0; i < s.n_state; i++) {
    const fr_tensor *b = &s.body->outputs[i]->t, *t = in[s.first + i];
    if (s.first) { /* opset 8: the body sees states without the batch */
      if (!known(b) || b->rank + 1 != t->rank ||
          memcmp(b->dims, t->dims + 1, sizeof(int64_t) * (size_t)b->rank))
        return fr_err_node(FR_ERR_UNSUPPORTED, n,
                           "output %d is known only at run time", i);
    } else if (!known(b) || !same_type(b, t)) {
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "output %d is known only at run time", i);
    }
    copy_type(out[i], t);
  }
  const fr_tensor *x0 = in[s.first + s.n_state];
  int64_t seq_len = x0->dims[s.in_axes[0]];
  for (int j = 0; j < s.n_scan_out; j++) {
    const fr_tensor *b = &s.body->outputs[s.n_state + j]->t;
    if (!is_tensor(b) || b->rank < 0 || b->rank + 1 + s.first > FR_MAX_RANK)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "scan output %d is known only at run time", j);
    int64_t dims[FR_MAX_RANK];
    int a, r = 0;
    if (s.first) {
      dims[r++] = x0->dims[0];
      a = 0;
    } else {
      FR_TRY(fr_axis(n, s.out_axes[j], b->rank + 1, &a));
    }
    for (int k = 0; k <= b->rank; k++) {
      if (k == a) dims[r++] = seq_len;
      if (k < b->rank) dims[r++] = b->dims[k];
    }
    fr_set_shape(out[s.n_state + j], b->dtype, r, dims);
  }
  return FR_OK;
}

/* ---- sequences ------------------------------------------------------- */

static fr_status need_seq(const fr_node *n, const fr_tensor *t) {
  if (!t || t->kind != FR_KIND_SEQUENCE)
    return fr_err_node(FR_ERR_SHAPE, n, "input 0 must be a sequence");
  return FR_OK;
}

/* Sequence count, -1 when unknown. */
static int64_t seq_count(const fr_tensor *t) {
  return t->rank >= 1 ? t->dims[0] : -1;
}

static fr_status check_position(const fr_node *n, int64_t pos, int64_t count,
                                bool end_ok) {
  int64_t hi = end_ok ? count : count - 1;
  if (count >= 0 && (pos < -count || pos > hi))
    return fr_err_node(FR_ERR_INVALID, n,
                       "position %lld out of range for a sequence of %lld",
                       (long long)pos, (long long)count);
  return FR_OK;
}

/* SplitToSequence: number of chunks and the size of each (sizes may be
 * NULL); needs split's data when it is a scalar. */
fr_status fr_split_to_sequence_plan(const fr_node *n, const fr_tensor *x,
                                    const fr_tensor *split, int *axis,
                                    int64_t *count, int64_t *sizes,
                                    int64_t max_sizes) {
  if (!is_tensor(x) || x->rank < 1)
    return fr_err_node(FR_ERR_SHAPE, n, "input must be a tensor of rank >= 1");
  FR_TRY(fr_attr_axis(n, x->rank, axis));
  int64_t d = x->dims[*axis];
  if (!split) {
    *count = d;
    for (int64_t i = 0; sizes && i < d && i < max_sizes; i++) sizes[i] = 1;
    return FR_OK;
  }
  if (!is_tensor(split) || (split->dtype != FR_I64 && split->dtype != FR_I32) ||
      split->rank > 1)
    return fr_err_node(FR_ERR_SHAPE, n, "split must be an int scalar or 1-D");
  if (split->rank == 0) {
    if (!split->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "needs a constant split");
    int64_t s = fr_tensor_get_i64(split, 0);
    if (s <= 0)
      return fr_err_node(FR_ERR_INVALID, n, "split %lld must be positive",
                         (long long)s);
    *count = d / s + (d % s != 0);
    for (int64_t i = 0; sizes && i < *count && i < max_sizes; i++)
      sizes[i] = i + 1 < *count || d % s == 0 ? s : d % s;
    return FR_OK;
  }
  *count = split->dims[0];
  if (!split->data) return sizes ? fr_err_node(FR_ERR_UNSUPPORTED, n,
                                               "needs a constant split")
                                 : FR_OK;
  int64_t sum = 0;
  for (int64_t i = 0; i < *count; i++) {
    int64_t s = fr_tensor_get_i64(split, i);
    if (s < 0 || s > d)
      return fr_err_node(FR_ERR_INVALID, n, "split size %lld is invalid",
                         (long long)s);
    sum += s;
    if (sizes && i < max_sizes) sizes[i] = s;
  }
  if (sum != d)
    return fr_err_node(FR_ERR_INVALID, n,
                       "split sizes add up to %lld, the axis has %lld",
                       (long long)sum, (long long)d);
  return FR_OK;
}

/* ConcatFromSequence's output shape from the elements (run time). */
static fr_status concat_shape(const fr_node *n, const fr_tensor *seq,
                              fr_tensor *out) {
  fr_tensor *const *el = seq->data;
  int64_t count = seq->dims[0];
  if (count < 1)
    return fr_err_node(FR_ERR_INVALID, n, "the sequence is empty");
  int new_axis = fr_attr_int(n, FR_A_NEW_AXIS) != 0;
  for (int64_t i = 0; i < count; i++)
    if (!el[i])
      return fr_err_node(FR_ERR_INVALID, n, "a sequence element is missing");
  const fr_tensor *e0 = el[0];
  if (!is_tensor(e0))
    return fr_err_node(FR_ERR_SHAPE, n, "elements must be tensors");
  if (e0->rank + new_axis < 1 || e0->rank + new_axis > FR_MAX_RANK)
    return fr_err_node(FR_ERR_SHAPE, n, "elements have rank %d", e0->rank);
  int a;
  FR_TRY(fr_attr_axis(n, e0->rank + new_axis, &a));
  int64_t total = 0;
  for (int64_t i = 0; i < count; i++) {
    const fr_tensor *e = el[i];
    if (!is_tensor(e) || e->dtype != e0->dtype || e->rank != e0->rank)
      return fr_err_node(FR_ERR_SHAPE, n, "element %lld differs in type or "
                                          "rank from element 0",
                         (long long)i);
    for (int k = 0; k < e->rank; k++)
      if (e->dims[k] != e0->dims[k] && (new_axis || k != a))
        return fr_err_node(FR_ERR_SHAPE, n,
                           "element %lld differs in shape from element 0",
                           (long long)i);
    total += new_axis ? 1 : e->dims[a];
  }
  int64_t dims[FR_MAX_RANK];
  int r = 0;
  for (int k = 0; k < e0->rank + new_axis; k++) {
    if (new_axis) dims[r++] = k == a ? count : e0->dims[k < a ? k : k - 1];
    else dims[r++] = k == a ? total : e0->dims[k];
  }
  fr_set_shape(out, e0->dtype, r, dims);
  return FR_OK;
}

fr_status fr_infer_seq(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  bool run = fr_at_run_time(n, in, out);
  switch (n->op) {
  case FR_OP_SEQUENCE_EMPTY: {
    int64_t dt = fr_attr_int(n, FR_A_DTYPE);
    if (dt <= 0 || dt >= FR_DTYPE_COUNT || !fr_dtype_size((fr_dtype)dt))
      return fr_err_node(FR_ERR_INVALID, n, "dtype %lld is invalid",
                         (long long)dt);
    set_seq(out[0], (fr_dtype)dt, 0);
    return FR_OK;
  }
  case FR_OP_SEQUENCE_CONSTRUCT:
    for (int i = 0; i < n->n_in; i++) {
      if (!is_tensor(in[i]))
        return fr_err_node(FR_ERR_SHAPE, n, "input %d must be a tensor", i);
      if (in[i]->dtype != in[0]->dtype)
        return fr_err_node(FR_ERR_SHAPE, n, "inputs are %s and %s",
                           fr_dtype_name(in[0]->dtype),
                           fr_dtype_name(in[i]->dtype));
    }
    set_seq(out[0], in[0]->dtype, n->n_in);
    return FR_OK;
  case FR_OP_SEQUENCE_INSERT: {
    FR_TRY(need_seq(n, in[0]));
    if (!is_tensor(in[1]))
      return fr_err_node(FR_ERR_SHAPE, n, "input 1 must be a tensor");
    int64_t count = seq_count(in[0]);
    if (in[0]->dtype != in[1]->dtype && in[0]->dtype != FR_UNDEFINED &&
        count != 0)
      return fr_err_node(FR_ERR_SHAPE, n, "inserting %s into a sequence of %s",
                         fr_dtype_name(in[1]->dtype),
                         fr_dtype_name(in[0]->dtype));
    if (n->n_in > 2 && in[2]) {
      FR_TRY(need_int_scalar(n, in[2], "position"));
      if (in[2]->data)
        FR_TRY(check_position(n, fr_tensor_get_i64(in[2], 0), count, true));
    }
    set_seq(out[0], in[1]->dtype, count >= 0 ? count + 1 : -1);
    return FR_OK;
  }
  case FR_OP_SEQUENCE_ERASE: {
    FR_TRY(need_seq(n, in[0]));
    int64_t count = seq_count(in[0]);
    if (count == 0)
      return fr_err_node(FR_ERR_INVALID, n, "the sequence is empty");
    if (n->n_in > 1 && in[1]) {
      FR_TRY(need_int_scalar(n, in[1], "position"));
      if (in[1]->data)
        FR_TRY(check_position(n, fr_tensor_get_i64(in[1], 0), count, false));
    }
    set_seq(out[0], in[0]->dtype, count >= 0 ? count - 1 : -1);
    return FR_OK;
  }
  case FR_OP_SEQUENCE_AT: {
    FR_TRY(need_seq(n, in[0]));
    int64_t pos = 0;
    FR_TRY(need_int_scalar(n, in[1], "position"));
    if (!in[0]->data || !in[1]->data)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "the element's shape is known only at run time");
    FR_TRY(int_value(n, in[1], "position", &pos));
    int64_t count = seq_count(in[0]);
    if (count < 0 || pos < -count || pos >= count)
      return fr_err_node(FR_ERR_INVALID, n,
                         "position %lld out of range for a sequence of %lld",
                         (long long)pos, (long long)count);
    const fr_tensor *e =
        ((fr_tensor *const *)in[0]->data)[pos < 0 ? pos + count : pos];
    if (!e) return fr_err_node(FR_ERR_INVALID, n, "a sequence element is "
                                                  "missing");
    copy_type(out[0], e);
    return FR_OK;
  }
  case FR_OP_SEQUENCE_LENGTH:
    FR_TRY(need_seq(n, in[0]));
    fr_set_shape(out[0], FR_I64, 0, NULL);
    return FR_OK;
  case FR_OP_SPLIT_TO_SEQUENCE: {
    int axis;
    int64_t count;
    const fr_tensor *split = n->n_in > 1 ? in[1] : NULL;
    fr_status st = fr_split_to_sequence_plan(n, in[0], split, &axis, &count,
                                             NULL, 0);
    if (st == FR_ERR_UNSUPPORTED && !run) {
      set_seq(out[0], in[0]->dtype, -1);
      return FR_OK;
    }
    FR_TRY(st);
    set_seq(out[0], in[0]->dtype, count);
    return FR_OK;
  }
  case FR_OP_CONCAT_FROM_SEQUENCE:
    FR_TRY(need_seq(n, in[0]));
    if (!in[0]->data || in[0]->rank < 1)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "the output shape is known only at run time");
    return concat_shape(n, in[0], out[0]);
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "not a sequence op");
  }
}

fr_status fr_infer_sequence_map(const fr_node *n, fr_tensor *const *in,
                                fr_tensor *const *out) {
  fr_graph *body = fr_attr_graph(n, FR_A_BODY);
  if (!body) return fr_err_node(FR_ERR_INVALID, n, "has no 'body' graph");
  if (body->n_inputs != n->n_in || body->n_outputs != n->n_out)
    return fr_err_node(FR_ERR_INVALID, n,
                       "body has %d inputs and %d outputs, expected %d and %d",
                       body->n_inputs, body->n_outputs, n->n_in, n->n_out);
  FR_TRY(need_seq(n, in[0]));
  int64_t count = seq_count(in[0]);
  for (int i = 1; i < n->n_in; i++) {
    if (!in[i])
      return fr_err_node(FR_ERR_INVALID, n, "input %d is omitted", i);
    if (in[i]->kind == FR_KIND_SEQUENCE && count >= 0 &&
        seq_count(in[i]) >= 0 && seq_count(in[i]) != count)
      return fr_err_node(FR_ERR_SHAPE, n,
                         "sequences of different lengths (%lld, %lld)",
                         (long long)count, (long long)seq_count(in[i]));
  }
  for (int i = 0; i < n->n_out; i++)
    set_seq(out[i], body->outputs[i]->t.dtype, count);
  return FR_OK;
}

/* ---- optionals ------------------------------------------------------- */

fr_status fr_infer_optional(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  const fr_tensor *x = n->n_in > 0 ? in[0] : NULL;
  switch (n->op) {
  case FR_OP_OPTIONAL: {
    if (x && x->kind == FR_KIND_OPTIONAL)
      return fr_err_node(FR_ERR_SHAPE, n, "optional of an optional");
    const fr_attr *ty = fr_attr_get(n, FR_A_TYPE);
    fr_dtype dt = out[0]->dtype;
    if (ty && ty->type == FR_ATTR_TYPE_PROTO && ty->t) dt = ty->t->dtype;
    if (!x && !ty)
      return fr_err_node(FR_ERR_INVALID, n, "needs an input or a 'type'");
    set_opt(out[0], x ? x->dtype : dt);
    return FR_OK;
  }
  case FR_OP_OPTIONAL_HAS_ELEMENT:
    fr_set_shape(out[0], FR_BOOL, 0, NULL);
    return FR_OK;
  case FR_OP_OPTIONAL_GET_ELEMENT:
    if (x->kind != FR_KIND_OPTIONAL) { /* opset 18: a tensor or sequence */
      copy_type(out[0], x);
      return FR_OK;
    }
    if (x->data) {
      copy_type(out[0], x->data);
      return FR_OK;
    }
    if (fr_at_run_time(n, in, out))
      return fr_err_node(FR_ERR_INVALID, n, "the optional is empty");
    if (out[0]->kind == FR_KIND_SEQUENCE) { /* declared in the model */
      set_seq(out[0], x->dtype, -1);
      return FR_OK;
    }
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "the element's shape is known only at run time");
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "not an optional op");
  }
}

/* ---- RNN, GRU, LSTM -------------------------------------------------- */

static fr_status check_dims(const fr_node *n, const fr_tensor *t,
                            const char *what, int rank, const int64_t *dims) {
  if (!t) return FR_OK;
  bool ok = is_tensor(t) && t->rank == rank;
  for (int i = 0; ok && i < rank; i++) ok = t->dims[i] == dims[i];
  if (!ok) {
    char a[128], b[128];
    fr_tensor want = {.rank = rank};
    for (int i = 0; i < rank; i++) want.dims[i] = dims[i];
    want.dtype = t->dtype;
    return fr_err_node(FR_ERR_SHAPE, n, "%s is %s, expected %s", what,
                       fr_shape_str(t, a, sizeof a),
                       fr_shape_str(&want, b, sizeof b));
  }
  return FR_OK;
}

fr_status fr_rnn_attrs_of(const fr_node *n, fr_rnn_attrs *a) {
  int64_t layout = fr_attr_int(n, FR_A_LAYOUT);
  if (layout != 0 && layout != 1)
    return fr_err_node(FR_ERR_INVALID, n, "layout %lld", (long long)layout);
  a->layout = (int)layout;
  const char *dir = fr_attr_str(n, FR_A_DIRECTION);
  a->reverse = !strcmp(dir, "reverse");
  if (!strcmp(dir, "forward") || a->reverse) a->dirs = 1;
  else if (!strcmp(dir, "bidirectional")) a->dirs = 2;
  else return fr_err_node(FR_ERR_INVALID, n, "direction '%s'", dir);
  return FR_OK;
}

fr_status fr_infer_rnn(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  int gates = n->op == FR_OP_RNN ? 1 : n->op == FR_OP_GRU ? 3 : 4;
  const fr_tensor *x = in[0], *w = in[1], *r = in[2];
  for (int i = 0; i < 3; i++)
    if (!in[i] || !is_tensor(in[i]))
      return fr_err_node(FR_ERR_SHAPE, n, "input %d must be a tensor", i);
  if (x->rank != 3 || w->rank != 3 || r->rank != 3)
    return fr_err_node(FR_ERR_SHAPE, n, "X, W and R must have rank 3");
  if (x->dtype != FR_F32 && x->dtype != FR_F64 && x->dtype != FR_F16)
    return fr_err_node(FR_ERR_SHAPE, n, "data type %s",
                       fr_dtype_name(x->dtype));
  for (int i = 1; i < n->n_in; i++)
    if (in[i] && i != 4 && in[i]->dtype != x->dtype)
      return fr_err_node(FR_ERR_SHAPE, n, "input %d is %s, X is %s", i,
                         fr_dtype_name(in[i]->dtype),
                         fr_dtype_name(x->dtype));
  fr_rnn_attrs ra;
  FR_TRY(fr_rnn_attrs_of(n, &ra));
  int layout = ra.layout, dirs = ra.dirs;
  int64_t seq = layout ? x->dims[1] : x->dims[0];
  int64_t batch = layout ? x->dims[0] : x->dims[1];
  int64_t isz = x->dims[2];
  const fr_attr *ha = fr_attr_get(n, FR_A_HIDDEN_SIZE);
  int64_t hid = ha ? ha->i : w->dims[1] / gates;
  if (hid <= 0 || w->dims[1] != gates * hid)
    return fr_err_node(FR_ERR_SHAPE, n, "W has %lld rows, expected %d x %lld",
                       (long long)w->dims[1], gates, (long long)hid);
  FR_TRY(check_dims(n, w, "W", 3, (int64_t[]){dirs, gates * hid, isz}));
  FR_TRY(check_dims(n, r, "R", 3, (int64_t[]){dirs, gates * hid, hid}));
  const fr_tensor *b = n->n_in > 3 ? in[3] : NULL;
  const fr_tensor *lens = n->n_in > 4 ? in[4] : NULL;
  const fr_tensor *h0 = n->n_in > 5 ? in[5] : NULL;
  const fr_tensor *c0 = n->n_in > 6 ? in[6] : NULL;
  const fr_tensor *p = n->n_in > 7 ? in[7] : NULL;
  FR_TRY(check_dims(n, b, "B", 2, (int64_t[]){dirs, 2 * gates * hid}));
  FR_TRY(check_dims(n, lens, "sequence_lens", 1, (int64_t[]){batch}));
  if (lens && lens->dtype != FR_I32 && lens->dtype != FR_I64)
    return fr_err_node(FR_ERR_SHAPE, n, "sequence_lens must be int32");
  int64_t hd[3] = {dirs, batch, hid};
  if (layout) hd[0] = batch, hd[1] = dirs;
  FR_TRY(check_dims(n, h0, "initial_h", 3, hd));
  FR_TRY(check_dims(n, c0, "initial_c", 3, hd));
  FR_TRY(check_dims(n, p, "P", 2, (int64_t[]){dirs, 3 * hid}));
  if (n->n_out > 0 && out[0]) {
    int64_t yd[4] = {seq, dirs, batch, hid};
    if (layout) yd[0] = batch, yd[1] = seq, yd[2] = dirs;
    fr_set_shape(out[0], x->dtype, 4, yd);
  }
  for (int i = 1; i < n->n_out; i++)
    if (out[i]) fr_set_shape(out[i], x->dtype, 3, hd);
  return FR_OK;
}

/* ---- NonMaxSuppression ------------------------------------------------ */

fr_status fr_infer_nms(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  const fr_tensor *boxes = in[0], *scores = in[1];
  if (!is_tensor(boxes) || boxes->rank != 3 || boxes->dims[2] != 4)
    return fr_err_node(FR_ERR_SHAPE, n, "boxes must be (batch, boxes, 4)");
  if (!is_tensor(scores) || scores->rank != 3 ||
      scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
    return fr_err_node(FR_ERR_SHAPE, n,
                       "scores must be (batch, classes, boxes)");
  if (boxes->dtype != FR_F32 || scores->dtype != FR_F32)
    return fr_err_node(FR_ERR_SHAPE, n, "boxes and scores must be float");
  if (n->n_in > 2 && in[2]) FR_TRY(need_int_scalar(n, in[2], "max_output_boxes_per_class"));
  for (int i = 3; i < n->n_in; i++)
    if (in[i]) {
      FR_TRY(need_scalar(n, in[i], i == 3 ? "iou_threshold" : "score_threshold"));
      if (in[i]->dtype != FR_F32)
        return fr_err_node(FR_ERR_SHAPE, n, "thresholds must be float");
    }
  int64_t cpb = fr_attr_int(n, FR_A_CENTER_POINT_BOX);
  if (cpb != 0 && cpb != 1)
    return fr_err_node(FR_ERR_INVALID, n, "center_point_box %lld",
                       (long long)cpb);
  if (fr_at_run_time(n, in, out)) {
    fr_set_later(out[0]);
    return FR_OK;
  }
  return fr_err_node(FR_ERR_UNSUPPORTED, n,
                     "the number of boxes is known only at run time");
}

/* ---- signal processing ----------------------------------------------- */

static fr_status float_dtype_attr(const fr_node *n, fr_attr_id id,
                                  fr_dtype *dt) {
  int64_t v = fr_attr_int(n, id);
  if (v <= 0 || v >= FR_DTYPE_COUNT || v == FR_STRING || v == FR_C64 ||
      v == FR_C128 || !fr_dtype_size((fr_dtype)v))
    return fr_err_node(FR_ERR_INVALID, n, "%s %lld is not supported",
                       fr_attr_names[id], (long long)v);
  *dt = (fr_dtype)v;
  return FR_OK;
}

fr_status fr_infer_window(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  int64_t size;
  fr_dtype dt;
  FR_TRY(float_dtype_attr(n, FR_A_OUTPUT_DATATYPE, &dt));
  FR_TRY(int_value(n, in[0], "size", &size));
  if (size < 0 || size > ((int64_t)1 << 31))
    return fr_err_node(FR_ERR_INVALID, n, "size %lld", (long long)size);
  fr_set_shape(out[0], dt, 1, &size);
  return FR_OK;
}

/* DFT: normalized axis, signal length, transform length (from dft_length or
 * the signal). */
fr_status fr_dft_plan(const fr_node *n, fr_tensor *const *in, int *axis,
                      int64_t *nfft, bool *inverse, bool *onesided) {
  const fr_tensor *x = in[0];
  if (!is_tensor(x) || x->rank < 3 || (x->dims[x->rank - 1] != 1 &&
                                        x->dims[x->rank - 1] != 2))
    return fr_err_node(FR_ERR_SHAPE, n,
                       "input must be (batch, ..., 1 or 2), rank >= 3");
  if (x->dtype != FR_F32 && x->dtype != FR_F64)
    return fr_err_node(FR_ERR_SHAPE, n, "data type %s",
                       fr_dtype_name(x->dtype));
  int64_t a = fr_attr_int(n, FR_A_AXIS);
  if (a < 0) a += x->rank;
  if (a < 1 || a >= x->rank - 1)
    return fr_err_node(FR_ERR_INVALID, n,
                       "axis %lld must be a signal axis (1 to %d)",
                       (long long)fr_attr_int(n, FR_A_AXIS), x->rank - 2);
  *axis = (int)a;
  *nfft = x->dims[a];
  if (n->n_in > 1 && in[1]) {
    FR_TRY(int_value(n, in[1], "dft_length", nfft));
    if (*nfft < 1 || *nfft > ((int64_t)1 << 24))
      return fr_err_node(FR_ERR_INVALID, n, "dft_length %lld",
                         (long long)*nfft);
  }
  *onesided = fr_attr_int(n, FR_A_ONESIDED) != 0;
  *inverse = fr_attr_int(n, FR_A_INVERSE) != 0;
  if (*onesided && (*inverse || x->dims[x->rank - 1] == 2))
    return fr_err_node(FR_ERR_INVALID, n,
                       "onesided needs a real input and a forward transform");
  return FR_OK;
}

fr_status fr_infer_dft(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  int axis;
  int64_t nfft;
  bool inverse, onesided;
  FR_TRY(fr_dft_plan(n, in, &axis, &nfft, &inverse, &onesided));
  const fr_tensor *x = in[0];
  int64_t dims[FR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = x->dims[i];
  dims[axis] = onesided ? nfft / 2 + 1 : nfft;
  dims[x->rank - 1] = 2;
  fr_set_shape(out[0], x->dtype, x->rank, dims);
  return FR_OK;
}

/* STFT: frame count, frame length. */
fr_status fr_stft_plan(const fr_node *n, fr_tensor *const *in, int64_t *step,
                       int64_t *frames, int64_t *flen) {
  const fr_tensor *x = in[0];
  if (!is_tensor(x) || x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
    return fr_err_node(FR_ERR_SHAPE, n,
                       "signal must be (batch, length, 1 or 2)");
  if (x->dtype != FR_F32 && x->dtype != FR_F64)
    return fr_err_node(FR_ERR_SHAPE, n, "data type %s",
                       fr_dtype_name(x->dtype));
  FR_TRY(int_value(n, in[1], "frame_step", step));
  if (*step < 1)
    return fr_err_node(FR_ERR_INVALID, n, "frame_step %lld", (long long)*step);
  const fr_tensor *win = n->n_in > 2 ? in[2] : NULL;
  const fr_tensor *len = n->n_in > 3 ? in[3] : NULL;
  if (win && (!is_tensor(win) || win->rank != 1 || win->dtype != x->dtype))
    return fr_err_node(FR_ERR_SHAPE, n, "window must be 1-D, of the signal's "
                                        "type");
  if (len) FR_TRY(int_value(n, len, "frame_length", flen));
  else if (win) *flen = win->dims[0];
  else return fr_err_node(FR_ERR_INVALID, n, "needs a window or frame_length");
  if (win && win->dims[0] != *flen)
    return fr_err_node(FR_ERR_SHAPE, n, "window has %lld values, frame_length "
                                        "is %lld",
                       (long long)win->dims[0], (long long)*flen);
  if (*flen < 1 || *flen > x->dims[1] || *flen > ((int64_t)1 << 24))
    return fr_err_node(FR_ERR_INVALID, n,
                       "frame_length %lld for a signal of %lld",
                       (long long)*flen, (long long)x->dims[1]);
  *frames = (x->dims[1] - *flen) / *step + 1;
  return FR_OK;
}

fr_status fr_infer_stft(const fr_node *n, fr_tensor *const *in,
                        fr_tensor *const *out) {
  int64_t step, frames, flen;
  FR_TRY(fr_stft_plan(n, in, &step, &frames, &flen));
  int64_t onesided = fr_attr_int(n, FR_A_ONESIDED);
  if (onesided && in[0]->dims[2] == 2)
    return fr_err_node(FR_ERR_INVALID, n, "onesided needs a real signal");
  int64_t dims[4] = {in[0]->dims[0], frames, onesided ? flen / 2 + 1 : flen, 2};
  fr_set_shape(out[0], in[0]->dtype, 4, dims);
  return FR_OK;
}

fr_status fr_infer_mel(const fr_node *n, fr_tensor *const *in,
                       fr_tensor *const *out) {
  int64_t bins = 0, dft = 0, rate = 0;
  fr_dtype dt;
  FR_TRY(float_dtype_attr(n, FR_A_OUTPUT_DATATYPE, &dt));
  FR_TRY(int_value(n, in[0], "num_mel_bins", &bins));
  FR_TRY(int_value(n, in[1], "dft_length", &dft));
  FR_TRY(int_value(n, in[2], "sample_rate", &rate));
  for (int i = 3; i < 5; i++) {
    FR_TRY(need_scalar(n, in[i], i == 3 ? "lower_edge_hertz"
                                        : "upper_edge_hertz"));
    if (!fr_dtype_is_float(in[i]->dtype))
      return fr_err_node(FR_ERR_SHAPE, n, "edge frequencies must be float");
  }
  if (bins < 1 || dft < 1 || rate < 1 || bins > (1 << 20) || dft > (1 << 24))
    return fr_err_node(FR_ERR_INVALID, n,
                       "num_mel_bins %lld, dft_length %lld, sample_rate %lld",
                       (long long)bins, (long long)dft, (long long)rate);
  int64_t dims[2] = {dft / 2 + 1, bins};
  fr_set_shape(out[0], dt, 2, dims);
  return FR_OK;
}

/* ---- random generators ------------------------------------------------ */

fr_status fr_infer_random(const fr_node *n, fr_tensor *const *in,
                          fr_tensor *const *out) {
  fr_dtype dt;
  switch (n->op) {
  case FR_OP_RANDOM_UNIFORM:
  case FR_OP_RANDOM_NORMAL: {
    FR_TRY(float_dtype_attr(n, FR_A_DTYPE, &dt));
    int len;
    const int64_t *shape = fr_attr_ints(n, FR_A_SHAPE, &len);
    if (!shape || len > FR_MAX_RANK)
      return fr_err_node(FR_ERR_INVALID, n, "needs a 'shape' of rank <= %d",
                         FR_MAX_RANK);
    int64_t numel;
    if (fr_shape_numel(len, shape, &numel) != FR_OK)
      return fr_err_node(FR_ERR_INVALID, n, "shape: %s", fr_err_msg());
    fr_set_shape(out[0], dt, len, shape);
    break;
  }
  case FR_OP_RANDOM_UNIFORM_LIKE:
  case FR_OP_RANDOM_NORMAL_LIKE:
  case FR_OP_BERNOULLI:
    if (!is_tensor(in[0]) || in[0]->rank < 0)
      return fr_err_node(FR_ERR_SHAPE, n, "input must be a tensor");
    if (n->op == FR_OP_BERNOULLI && !fr_dtype_is_float(in[0]->dtype))
      return fr_err_node(FR_ERR_SHAPE, n, "input must be float");
    if (fr_attr_get(n, FR_A_DTYPE)) FR_TRY(float_dtype_attr(n, FR_A_DTYPE, &dt));
    else dt = in[0]->dtype;
    if (n->op == FR_OP_BERNOULLI) {
      int64_t v = fr_attr_get(n, FR_A_DTYPE) ? fr_attr_int(n, FR_A_DTYPE)
                                             : in[0]->dtype;
      if (v <= 0 || v >= FR_DTYPE_COUNT || v == FR_STRING || v == FR_C64 ||
          v == FR_C128)
        return fr_err_node(FR_ERR_INVALID, n, "dtype %lld", (long long)v);
      dt = (fr_dtype)v;
    } else if (!fr_dtype_is_float(dt)) {
      return fr_err_node(FR_ERR_SHAPE, n, "output must be float");
    }
    fr_set_shape(out[0], dt, in[0]->rank, in[0]->dims);
    break;
  case FR_OP_MULTINOMIAL: {
    if (!is_tensor(in[0]) || in[0]->rank != 2 || !fr_dtype_is_float(in[0]->dtype))
      return fr_err_node(FR_ERR_SHAPE, n, "input must be (batch, classes) float");
    int64_t v = fr_attr_int(n, FR_A_DTYPE);
    if (v != FR_I32 && v != FR_I64)
      return fr_err_node(FR_ERR_INVALID, n, "dtype %lld", (long long)v);
    int64_t k = fr_attr_int(n, FR_A_SAMPLE_SIZE);
    if (k < 1 || k > (1 << 24))
      return fr_err_node(FR_ERR_INVALID, n, "sample_size %lld", (long long)k);
    int64_t dims[2] = {in[0]->dims[0], k};
    fr_set_shape(out[0], (fr_dtype)v, 2, dims);
    break;
  }
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "not a random op");
  }
  return FR_OK;
}

/* ---- training optimizers --------------------------------------------- */

/* Gradient(xs..., zs...): output i is d y / d xs[i], of xs[i]'s type and
 * shape. The autodiff pass replaces the node by the backward nodes
 * (compiler/passes/autodiff.c). */
fr_status fr_infer_gradient(const fr_node *n, fr_tensor *const *in,
                            fr_tensor *const *out) {
  int nx = 0;
  const fr_attr *xs = fr_attr_get(n, FR_A_XS);
  if (!xs || !fr_attr_get(n, FR_A_Y))
    return fr_err_node(FR_ERR_INVALID, n, "needs the attributes xs and y");
  nx = xs->n;
  if (nx != n->n_out || nx > n->n_in)
    return fr_err_node(FR_ERR_INVALID, n, "%d xs for %d outputs and %d inputs",
                       nx, n->n_out, n->n_in);
  for (int i = 0; i < nx; i++) {
    if (!in[i] || strcmp(n->in[i]->name, xs->strings[i]))
      return fr_err_node(FR_ERR_INVALID, n, "input %d is not xs[%d] '%s'", i,
                         i, xs->strings[i]);
    if (out[i]) fr_set_shape(out[i], in[i]->dtype, in[i]->rank, in[i]->dims);
  }
  return FR_OK;
}

fr_status fr_infer_optimizer(const fr_node *n, fr_tensor *const *in,
                             fr_tensor *const *out) {
  int per = n->op == FR_OP_ADAM ? 4 : 3; /* X, G, (V), H per tensor */
  int outs = per - 1;
  int k = (n->n_in - 2) / per;
  if (k < 1 || n->n_in != 2 + per * k || n->n_out != outs * k)
    return fr_err_node(FR_ERR_INVALID, n,
                       "%d inputs and %d outputs do not describe tensors to "
                       "optimize",
                       n->n_in, n->n_out);
  if (n->op == FR_OP_MOMENTUM &&
      (!fr_attr_get(n, FR_A_ALPHA) || !fr_attr_get(n, FR_A_BETA) ||
       !fr_attr_get(n, FR_A_NORM_COEFFICIENT) || !fr_attr_get(n, FR_A_MODE)))
    return fr_err_node(FR_ERR_INVALID, n,
                       "needs alpha, beta, mode and norm_coefficient");
  FR_TRY(need_scalar(n, in[0], "R"));
  FR_TRY(need_scalar(n, in[1], "T"));
  if (!fr_dtype_is_float(in[0]->dtype) || in[1]->dtype != FR_I64)
    return fr_err_node(FR_ERR_SHAPE, n, "R must be float and T int64");
  for (int i = 0; i < k; i++) {
    const fr_tensor *x = in[2 + i];
    for (int j = 1; j < per; j++) {
      const fr_tensor *t = in[2 + j * k + i];
      if (!is_tensor(x) || !is_tensor(t) || !same_type(x, t) ||
          (x->dtype != FR_F32 && x->dtype != FR_F64))
        return fr_err_node(FR_ERR_SHAPE, n,
                           "input %d must match X%d (float tensors)",
                           2 + j * k + i, i);
    }
    for (int j = 0; j < outs; j++)
      if (out[j * k + i]) fr_set_shape(out[j * k + i], x->dtype, x->rank, x->dims);
  }
  return FR_OK;
}

/* ---- strings --------------------------------------------------------- */

fr_status fr_infer_strnorm(const fr_node *n, fr_tensor *const *in,
                           fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  if (!is_tensor(x) || x->dtype != FR_STRING ||
      !(x->rank == 1 || (x->rank == 2 && x->dims[0] == 1)))
    return fr_err_node(FR_ERR_SHAPE, n, "input must be strings, (C) or (1, C)");
  const char *cc = fr_attr_str(n, FR_A_CASE_CHANGE_ACTION);
  if (strcmp(cc, "NONE") && strcmp(cc, "LOWER") && strcmp(cc, "UPPER"))
    return fr_err_node(FR_ERR_INVALID, n, "case_change_action '%s'", cc);
  const fr_attr *sw = fr_attr_get(n, FR_A_STOPWORDS);
  if (!sw || sw->n == 0) {
    fr_set_shape(out[0], FR_STRING, x->rank, x->dims);
    return FR_OK;
  }
  if (fr_at_run_time(n, in, out)) {
    fr_set_later(out[0]);
    return FR_OK;
  }
  return fr_err_node(FR_ERR_UNSUPPORTED, n,
                     "the output shape is known only at run time");
}

fr_status fr_infer_tfidf(const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  const fr_tensor *x = in[0];
  if (!is_tensor(x) || (x->rank != 1 && x->rank != 2) ||
      (x->dtype != FR_STRING && x->dtype != FR_I32 && x->dtype != FR_I64))
    return fr_err_node(FR_ERR_SHAPE, n,
                       "input must be (C) or (N, C) of strings or ints");
  int n_idx;
  const int64_t *idx = fr_attr_ints(n, FR_A_NGRAM_INDEXES, &n_idx);
  int64_t width = 0;
  for (int i = 0; i < n_idx; i++) {
    if (idx[i] < 0 || idx[i] > (1 << 24))
      return fr_err_node(FR_ERR_INVALID, n, "ngram index %lld",
                         (long long)idx[i]);
    if (idx[i] + 1 > width) width = idx[i] + 1;
  }
  int64_t dims[2] = {x->dims[0], width};
  if (x->rank == 1) fr_set_shape(out[0], FR_F32, 1, &width);
  else fr_set_shape(out[0], FR_F32, 2, dims);
  return FR_OK;
}
