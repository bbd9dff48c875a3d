/* infer.c: shape-inference helpers and the graph-wide inference walk. */
#include <string.h>

#include "ir.h"

fr_status fr_broadcast(const fr_node *n, const fr_tensor *a,
                       const fr_tensor *b, int *rank, int64_t *dims) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da == db || db == 1)
      dims[i] = da;
    else if (da == 1)
      dims[i] = db;
    else {
      char sa[128], sb[128];
      return fr_err_node(FR_ERR_SHAPE, n, "cannot broadcast %s with %s",
                         fr_shape_str(a, sa, sizeof sa),
                         fr_shape_str(b, sb, sizeof sb));
    }
  }
  *rank = r;
  return FR_OK;
}

fr_status fr_axis(const fr_node *n, int64_t axis, int rank, int *out) {
  int64_t r = rank ? rank : 1;
  if (axis < -r || axis >= r)
    return fr_err_node(FR_ERR_SHAPE, n, "axis %lld out of range for rank %d",
                       (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + r : axis);
  return FR_OK;
}

void fr_set_shape(fr_tensor *out, fr_dtype t, int rank, const int64_t *dims) {
  out->kind = FR_KIND_TENSOR;
  out->dtype = t;
  out->rank = rank;
  for (int i = 0; i < rank; i++) out->dims[i] = dims[i];
}

bool fr_at_run_time(const fr_node *n, fr_tensor *const *in,
                    fr_tensor *const *out) {
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i] && out[i]) return out[i] != &n->out[i]->t;
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && in[i]) return in[i] != &n->in[i]->t;
  return false;
}

void fr_set_later(fr_tensor *o) {
  if (!o) return;
  o->kind = FR_KIND_OPTIONAL;
  o->rank = 0;
  o->data = NULL;
}

/* Gathers a node's value tensors into the arrays infer functions take. */
static void node_tensors(const fr_node *n, fr_tensor **in, fr_tensor **out) {
  for (int i = 0; i < n->n_in; i++) in[i] = n->in[i] ? &n->in[i]->t : NULL;
  for (int i = 0; i < n->n_out; i++)
    out[i] = n->out[i] ? &n->out[i]->t : NULL;
}

enum { MAX_IO = 1024 };

fr_status fr_node_infer(const fr_node *n) {
  if (n->n_in > MAX_IO || n->n_out > MAX_IO)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "too many inputs or outputs");
  fr_tensor *in[MAX_IO + 1], *out[MAX_IO + 1];
  node_tensors(n, in, out);
  return fr_ops[n->op].infer(n, in, out);
}

static bool inputs_known(const fr_node *n, bool need_data) {
  for (int i = 0; i < n->n_in; i++) {
    const fr_value *v = n->in[i];
    if (!v) continue;
    if (v->t.rank < 0 && v->t.kind == FR_KIND_TENSOR) return false;
    if (need_data && !v->t.data) return false;
  }
  return true;
}

/* Shape and Size read only their input's shape, not its data: they fold as
 * soon as the shape is known (the start of shape-computing chains). */
static bool needs_data(const fr_node *n) {
  return n->op != FR_OP_SHAPE && n->op != FR_OP_SIZE;
}

fr_status fr_graph_infer(fr_graph *g, const fr_infer_opts *o) {
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    /* Subgraphs first, as far as their typed inputs allow. Best effort: the
     * interpreter infers them again from the actual values, so a failure
     * here (declared shapes can be loose) is not an error. */
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      fr_infer_opts so = *o;
      so.partial = true;
      if (a->type == FR_ATTR_GRAPH) (void)fr_graph_infer(a->g, &so);
      for (int j = 0; a->type == FR_ATTR_GRAPHS && j < a->n; j++)
        (void)fr_graph_infer(a->graphs[j], &so);
    }
    if (!inputs_known(n, false)) {
      if (o->partial) continue;
      return fr_err_node(FR_ERR_SHAPE, n, "an input has an unknown shape");
    }
    fr_tensor saved[16] = {0};
    int ns = n->n_out < 16 ? n->n_out : 16;
    for (int i = 0; i < ns; i++)
      if (n->out[i]) saved[i] = n->out[i]->t;
    fr_status st = fr_node_infer(n);
    if (st != FR_OK) {
      if (o->partial && st == FR_ERR_UNSUPPORTED) {
        for (int i = 0; i < ns; i++)
          if (n->out[i]) n->out[i]->t = saved[i];
        continue;
      }
      return st;
    }
    unsigned fl = fr_ops[n->op].flags;
    if (o->eval && (fl & FR_OPF_FOLD) && !(fl & FR_OPF_RANDOM) && !n->trainable &&
        inputs_known(n, needs_data(n))) {
      fr_tensor *in[MAX_IO + 1], *out[MAX_IO + 1];
      if (n->n_in <= MAX_IO && n->n_out <= MAX_IO) {
        node_tensors(n, in, out);
        /* Only small tensors: this is for shapes computed from shapes. */
        bool small = true;
        for (int i = 0; i < n->n_out; i++)
          if (out[i] && fr_tensor_numel(out[i]) > 4096) small = false;
        if (small) FR_TRY(o->eval(&g->model->arena, n, in, out));
      }
    }
  }
  return FR_OK;
}
