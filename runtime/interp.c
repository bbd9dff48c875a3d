/* interp.c: the reference interpreter. Runs a graph node by node: infers
 * each node's output shapes from the actual inputs (so shapes computed from
 * data work), allocates the outputs, calls the op's exec glue, and frees
 * each activation after its last use. */
#include <string.h>

#include "runtime.h"

fr_status fr_interp_init(fr_exec *x, fr_model *m) {
  memset(x, 0, sizeof *x);
  x->m = m;
  x->n_env = m->n_ids;
  x->env = fr_calloc((size_t)x->n_env + 1, sizeof *x->env);
  x->owned = fr_calloc((size_t)x->n_env + 1, 1);
  x->rng = 0x853c49e6748fea9bULL;
  if (!x->env || !x->owned) {
    fr_interp_free(x);
    return fr_err_nomem(NULL);
  }
  return FR_OK;
}

void fr_interp_free(fr_exec *x) {
  /* Either array may be missing (fr_interp_init out of memory). */
  for (int i = 0; x->env && x->owned && i < x->n_env; i++)
    if (x->owned[i]) fr_tensor_release(&x->env[i]);
  fr_free(x->env);
  fr_free(x->owned);
  memset(x, 0, sizeof *x);
}

static void drop(fr_exec *x, int id) {
  if (x->owned[id]) fr_tensor_release(&x->env[id]);
  x->owned[id] = 0;
  memset(&x->env[id], 0, sizeof x->env[id]);
  x->env[id].rank = -1;
}

/* Marks values of g used inside the subgraphs of node k as used at k. */
static void subgraph_uses(const fr_graph *g, const fr_graph *sub, int k,
                          int *last) {
  for (int j = 0; j < sub->n_nodes; j++) {
    const fr_node *n = sub->nodes[j];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && n->in[i]->graph == g) last[n->in[i]->id] = k;
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      if (a->type == FR_ATTR_GRAPH) subgraph_uses(g, a->g, k, last);
      if (a->type == FR_ATTR_GRAPHS)
        for (int m = 0; m < a->n; m++) subgraph_uses(g, a->graphs[m], k, last);
    }
  }
  for (int i = 0; i < sub->n_outputs; i++)
    if (sub->outputs[i]->graph == g) last[sub->outputs[i]->id] = k;
}

enum { MAX_IO = 1024 };

static fr_status run_node(fr_exec *x, const fr_node *n) {
  fr_tensor *in[MAX_IO + 1], *out[MAX_IO + 1];
  if (n->n_in > MAX_IO || n->n_out > MAX_IO)
    return fr_err_node(FR_ERR_UNSUPPORTED, n, "too many inputs or outputs");
  for (int i = 0; i < n->n_in; i++) {
    in[i] = n->in[i] ? &x->env[n->in[i]->id] : NULL;
    if (in[i] && in[i]->rank < 0 && in[i]->kind == FR_KIND_TENSOR)
      return fr_err_node(FR_ERR_INVALID, n, "input '%s' has no value",
                         n->in[i]->name);
  }
  for (int i = 0; i < n->n_out; i++) {
    out[i] = NULL;
    if (!n->out[i]) continue;
    drop(x, n->out[i]->id);
    out[i] = &x->env[n->out[i]->id];
    out[i]->dtype = n->out[i]->t.dtype;
  }
  FR_TRY(fr_ops[n->op].infer(n, in, out));
  for (int i = 0; i < n->n_out; i++) {
    if (!out[i]) continue;
    x->owned[n->out[i]->id] = 1;
    if (out[i]->kind != FR_KIND_TENSOR) continue;
    if (fr_tensor_alloc(out[i]) != FR_OK)
      return fr_err_node(FR_ERR_NOMEM, n, "output '%s': %s", n->out[i]->name,
                         fr_err_msg());
  }
  return fr_rt_ops[n->op].exec(x, n, in, out);
}

fr_status fr_interp_run(fr_exec *x, const fr_graph *g, fr_tensor *const *in,
                        fr_tensor *out) {
  if (x->m->n_ids != x->n_env)
    return fr_err(FR_ERR_INVALID, "the model changed since the interpreter "
                                  "was set up");
  for (int i = 0; i < g->n_inputs; i++) {
    int id = g->inputs[i]->id;
    drop(x, id);
    x->env[id] = *in[i];
  }
  for (int i = 0; i < g->n_inits; i++) {
    int id = g->inits[i]->id;
    drop(x, id);
    x->env[id] = g->inits[i]->t;
  }
  /* Last use of each value of g, by node index (n_nodes: a graph output). */
  int *last = fr_malloc(sizeof(int) * ((size_t)x->n_env + 1));
  if (!last) return fr_err_nomem(NULL);
  for (int i = 0; i < g->n_values; i++) last[g->values[i]->id] = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    for (int i = 0; i < n->n_out; i++)
      if (n->out[i]) last[n->out[i]->id] = k;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && n->in[i]->graph == g) last[n->in[i]->id] = k;
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      if (a->type == FR_ATTR_GRAPH) subgraph_uses(g, a->g, k, last);
      if (a->type == FR_ATTR_GRAPHS)
        for (int m = 0; m < a->n; m++) subgraph_uses(g, a->graphs[m], k, last);
    }
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i]->graph == g) last[g->outputs[i]->id] = g->n_nodes;

  fr_status st = FR_OK;
  for (int k = 0; k < g->n_nodes && st == FR_OK; k++) {
    const fr_node *n = g->nodes[k];
    st = run_node(x, n);
    for (int i = 0; i < n->n_in && st == FR_OK; i++)
      if (n->in[i] && n->in[i]->graph == g && last[n->in[i]->id] == k)
        drop(x, n->in[i]->id);
    for (int i = 0; i < n->n_out && st == FR_OK; i++)
      if (n->out[i] && last[n->out[i]->id] == k) drop(x, n->out[i]->id);
    if (st == FR_OK)
      for (int i = 0; i < n->n_attr; i++) /* captured values used last here */
        if (n->attrs[i].type == FR_ATTR_GRAPH ||
            n->attrs[i].type == FR_ATTR_GRAPHS)
          for (int v = 0; v < g->n_values; v++)
            if (last[g->values[v]->id] == k && g->values[v]->producer)
              drop(x, g->values[v]->id);
  }
  for (int i = 0; i < g->n_outputs; i++) {
    memset(&out[i], 0, sizeof out[i]);
    if (st != FR_OK) continue;
    const fr_value *v = g->outputs[i];
    bool again = false;
    for (int j = 0; j < i; j++)
      if (g->outputs[j] == v) again = true;
    if (x->owned[v->id] && !again && v->graph == g) {
      out[i] = x->env[v->id];
      x->owned[v->id] = 0;
    } else {
      st = fr_tensor_clone(&x->env[v->id], &out[i]);
    }
  }
  if (st != FR_OK)
    for (int i = 0; i < g->n_outputs; i++) fr_tensor_release(&out[i]);
  /* Nothing of g stays alive: inputs and constants were borrowed. */
  for (int i = 0; i < g->n_values; i++) {
    const fr_value *v = g->values[i];
    if (v->producer) drop(x, v->id);
    else memset(&x->env[v->id], 0, sizeof x->env[v->id]);
  }
  fr_free(last);
  return st;
}

fr_status fr_interp_eval(fr_arena *a, const fr_node *n, fr_tensor *const *in,
                         fr_tensor *const *out) {
  for (int i = 0; i < n->n_out; i++) {
    if (!out[i]) continue;
    if (out[i]->kind != FR_KIND_TENSOR || out[i]->dtype == FR_STRING ||
        !fr_dtype_size(out[i]->dtype))
      return FR_OK;
  }
  for (int i = 0; i < n->n_in; i++)
    if (in[i] && (in[i]->kind != FR_KIND_TENSOR || in[i]->dtype == FR_STRING))
      return FR_OK;
  fr_tensor tmp[16] = {0};
  if (n->n_out > 16) return FR_OK;
  for (int i = 0; i < n->n_out; i++) {
    if (!out[i]) continue;
    tmp[i] = *out[i];
    int64_t numel;
    FR_TRY(fr_shape_numel(tmp[i].rank, tmp[i].dims, &numel));
    tmp[i].data = fr_arena_alloc(a, (size_t)numel * fr_dtype_size(tmp[i].dtype));
    if (!tmp[i].data) return fr_err_nomem(NULL);
  }
  fr_tensor *tp[17];
  for (int i = 0; i < n->n_out; i++) tp[i] = out[i] ? &tmp[i] : NULL;
  fr_exec x = {.rng = 1};
  FR_TRY(fr_rt_ops[n->op].exec(&x, n, in, tp));
  for (int i = 0; i < n->n_out; i++)
    if (out[i]) out[i]->data = tmp[i].data;
  return FR_OK;
}
