/* autodiff.c: reverse-mode differentiation over the IR, a pass.
 *
 * When the graph carries a training description (g->train: the loss, a
 * scalar the graph computes), the pass appends the backward nodes: the
 * gradient of the loss seeds 1, then the nodes are visited from last to
 * first, and each node that computes from a trainable parameter (freeze
 * marks it trainable) and whose outputs received a gradient runs its op's
 * gradient rule (the grad column of ir/ops.def, rules in grad.c). A rule
 * adds, through fr_ad_accum, a gradient for each input that needs one
 * (FR_V_GRAD): the frozen backbone gets no backward node, and a frozen op
 * without a rule is never an error. Contributions to one value are summed.
 * The gradients of the trainable parameters become outputs of the graph
 * (g->train->grads), which the trainer writes into the gradient block of
 * the parameter layout.
 *
 * Backward nodes are ordinary nodes of the graph (ONNX ops and frost's),
 * so shape inference, the memory plan (which then keeps every forward
 * activation a backward node reads alive, and in-place reuse off for it),
 * the interpreter and the JIT treat them like any other.
 */
#include <stdio.h>
#include <string.h>

#include "grad.h"

const fr_grad_fn fr_grad_rules[] = {
#define FR_OP(ENUM, name, domain, since, last, in_min, in_max, out_min,       \
              out_max, flags, infer, exec, plan, kernel, grad)                \
  [FR_OP_##ENUM] = grad,
#include "../../ir/ops.def"
#undef FR_OP
};

_Static_assert(sizeof fr_grad_rules / sizeof fr_grad_rules[0] == FR_OP_COUNT,
               "gradient rule table out of sync with the enum");

/* ---- the builder ------------------------------------------------------ */

bool fr_ad_wants(const fr_ad *a, const fr_value *v) {
  (void)a;
  return v && (v->flags & FR_V_GRAD) && fr_dtype_is_float(v->t.dtype);
}

static fr_value *fail(fr_ad *a, fr_status st) {
  if (a->st == FR_OK) a->st = st;
  return NULL;
}

static fr_value *new_value(fr_ad *a, const char *what) {
  char name[512];
  snprintf(name, sizeof name, "%.200s/grad/%.100s.%d",
           a->at ? a->at->name : "loss", what, a->counter++);
  fr_value *v = fr_value_new(a->g, name);
  if (!v) fail(a, fr_err_nomem(a->at));
  return v;
}

static fr_value *make_node_n(fr_ad *a, const char *domain, const char *op,
                             int n_in, fr_value *const *in, int n_attr,
                             const fr_attr *attrs, int n_out, fr_value **outs) {
  if (a->st != FR_OK) return NULL;
  for (int i = 0; i < n_in; i++)
    if (!in[i] && i == 0) return fail(a, FR_ERR_INVALID);
  int code = fr_op_lookup(domain, op);
  FR_ASSERT(code >= 0 && code < FR_OP_COUNT);
  char name[512];
  snprintf(name, sizeof name, "%.200s/grad/%.60s.%d",
           a->at ? a->at->name : "loss", op, a->counter++);
  fr_node *n = fr_node_new(a->g, name, op, domain, n_in, n_out, n_attr);
  if (!n) return fail(a, fr_err_nomem(a->at));
  for (int i = 0; i < n_out; i++) {
    outs[i] = new_value(a, op);
    if (!outs[i]) return NULL;
    n->out[i] = outs[i];
    outs[i]->producer = n;
  }
  fr_value *y = outs[0];
  n->op = code;
  n->backward = true;
  int since = fr_ops[code].since;
  n->opset = domain[0] ? since : (since > 13 ? since : 13);
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  for (int i = 0; i < n_attr; i++) n->attrs[i] = attrs[i];
  fr_status st = fr_node_infer(n);
  if (st != FR_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", fr_err_msg());
    return fail(a, fr_err_node(st, a->at,
                               "its gradient rule built a bad %s: %s", op,
                               msg));
  }
  return y;
}

static fr_value *make_node(fr_ad *a, const char *domain, const char *op,
                           int n_in, fr_value *const *in, int n_attr,
                           const fr_attr *attrs) {
  fr_value *y;
  return make_node_n(a, domain, op, n_in, in, n_attr, attrs, 1, &y);
}

fr_value *fr_ad_frost_n(fr_ad *a, const char *op, int n_in, fr_value *const *in,
                        int n_attr, const fr_attr *attrs, int n_out, fr_value **outs) {
  return make_node_n(a, "frost", op, n_in, in, n_attr, attrs, n_out, outs);
}

fr_value *fr_ad_op(fr_ad *a, const char *op, int n_in, fr_value *const *in,
                   int n_attr, const fr_attr *attrs) {
  return make_node(a, "", op, n_in, in, n_attr, attrs);
}

fr_value *fr_ad_frost(fr_ad *a, const char *op, int n_in, fr_value *const *in,
                      int n_attr, const fr_attr *attrs) {
  return make_node(a, "frost", op, n_in, in, n_attr, attrs);
}

fr_value *fr_ad_binary(fr_ad *a, const char *op, fr_value *x, fr_value *y) {
  if (!x || !y) return fail(a, a->st ? a->st : FR_ERR_INVALID);
  return fr_ad_op(a, op, 2, (fr_value *[]){x, y}, 0, NULL);
}

fr_value *fr_ad_unary(fr_ad *a, const char *op, fr_value *x) {
  if (!x) return fail(a, a->st ? a->st : FR_ERR_INVALID);
  return fr_ad_op(a, op, 1, &x, 0, NULL);
}

static fr_value *constant(fr_ad *a, const fr_tensor *t) {
  if (a->st != FR_OK) return NULL;
  char name[512];
  snprintf(name, sizeof name, "%.200s/grad/const.%d",
           a->at ? a->at->name : "loss", a->counter++);
  fr_value *v = fr_graph_add_init(a->g, name, t);
  if (!v) return fail(a, fr_err_nomem(a->at));
  v->param_off = -1;
  return v;
}

fr_value *fr_ad_scalar(fr_ad *a, float x) {
  fr_tensor t = {.kind = FR_KIND_TENSOR, .dtype = FR_F32, .rank = 0,
                 .data = &x};
  return constant(a, &t);
}

fr_value *fr_ad_ints(fr_ad *a, int n, const int64_t *v) {
  if (n < 0) /* a shape of unknown rank */
    return fail(a, fr_err_node(FR_ERR_SHAPE, a->at, "a shape is not known"));
  fr_tensor t = {.kind = FR_KIND_TENSOR, .dtype = FR_I64, .rank = 1,
                 .dims = {n}, .data = (void *)v};
  return constant(a, &t);
}

fr_attr fr_ad_attr_i(const char *name, int64_t v) {
  return (fr_attr){.name = name, .type = FR_ATTR_INT, .i = v};
}

fr_attr fr_ad_attr_f(const char *name, float v) {
  return (fr_attr){.name = name, .type = FR_ATTR_FLOAT, .f = v};
}

fr_attr fr_ad_attr_ints(fr_ad *a, const char *name, int n, const int64_t *v) {
  int64_t *c = fr_arena_alloc(&a->m->arena, sizeof(int64_t) * (size_t)(n + 1));
  if (!c) fail(a, fr_err_nomem(a->at));
  else if (n) memcpy(c, v, sizeof(int64_t) * (size_t)n);
  return (fr_attr){.name = name, .type = FR_ATTR_INTS, .n = c ? n : 0,
                   .ints = c};
}

static bool same_dims(const fr_tensor *x, const fr_tensor *y) {
  if (x->rank != y->rank) return false;
  for (int i = 0; i < x->rank; i++)
    if (x->dims[i] != y->dims[i]) return false;
  return true;
}

fr_value *fr_ad_reshape(fr_ad *a, fr_value *d, const fr_tensor *t) {
  if (!d) return fail(a, a->st ? a->st : FR_ERR_INVALID);
  if (same_dims(&d->t, t)) return d;
  fr_value *shape = fr_ad_ints(a, t->rank, t->dims);
  if (!shape) return NULL;
  return fr_ad_op(a, "Reshape", 2, (fr_value *[]){d, shape}, 0, NULL);
}

fr_value *fr_ad_unbroadcast(fr_ad *a, fr_value *d, const fr_tensor *t) {
  if (!d) return fail(a, a->st ? a->st : FR_ERR_INVALID);
  if (same_dims(&d->t, t)) return d;
  int r = d->t.rank, lead = r - t->rank;
  if (lead < 0)
    return fail(a, fr_err_node(FR_ERR_SHAPE, a->at,
                               "a gradient of rank %d for a value of rank %d",
                               r, t->rank));
  int64_t axes[FR_MAX_RANK];
  int n = 0;
  for (int i = 0; i < r; i++)
    if (i < lead || (t->dims[i - lead] == 1 && d->t.dims[i] != 1)) axes[n++] = i;
  if (n) {
    fr_value *ax = fr_ad_ints(a, n, axes);
    fr_attr keep = fr_ad_attr_i("keepdims", 1);
    d = ax ? fr_ad_op(a, "ReduceSum", 2, (fr_value *[]){d, ax}, 1, &keep)
           : NULL;
  }
  return fr_ad_reshape(a, d, t);
}

fr_status fr_ad_accum(fr_ad *a, fr_value *x, fr_value *dx) {
  if (a->st != FR_OK) return a->st;
  if (!fr_ad_wants(a, x)) return FR_OK;
  if (!dx) return a->st ? a->st : fr_err_node(FR_ERR_INVALID, a->at, "no gradient");
  FR_ASSERT(x->id < a->n_ids);
  dx = fr_ad_unbroadcast(a, dx, &x->t);
  if (dx && a->grad[x->id]) dx = fr_ad_binary(a, "Add", a->grad[x->id], dx);
  if (!dx) return a->st;
  a->grad[x->id] = dx;
  return FR_OK;
}

/* ---- the pass ---------------------------------------------------------- */

/* Runs the rules from the loss back to the parameters. */
static fr_status backward(fr_ad *a, fr_train_graph *tg) {
  fr_graph *g = a->g;
  a->at = NULL;
  fr_value *one = fr_ad_scalar(a, 1.0f);
  if (!one) return a->st;
  if (tg->loss->t.rank < 0)
    return fr_err(FR_ERR_SHAPE, "the shape of the loss '%s' is not known",
                  tg->loss->name);
  if (tg->loss->t.rank != 0 && fr_tensor_numel(&tg->loss->t) != 1)
    return fr_err(FR_ERR_SHAPE, "the loss '%s' is not a scalar",
                  tg->loss->name);
  a->grad[tg->loss->id] = fr_ad_reshape(a, one, &tg->loss->t);
  int n_fwd = g->n_nodes;
  for (int k = n_fwd - 1; k >= 0 && a->st == FR_OK; k--) {
    fr_node *n = g->nodes[k];
    if (n->dead || !n->trainable || n->op == FR_OP_CONSTANT) continue;
    fr_value *dy[64] = {0};
    bool any = false;
    if (n->n_out > 64)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "%d outputs", n->n_out);
    for (int i = 0; i < n->n_out; i++)
      if (n->out[i] && n->out[i]->id < a->n_ids && a->grad[n->out[i]->id]) {
        dy[i] = a->grad[n->out[i]->id];
        any = true;
      }
    if (!any) continue;
    fr_grad_fn rule = fr_grad_rules[n->op];
    if (!rule)
      return fr_err_node(FR_ERR_UNSUPPORTED, n,
                         "%s has no gradient rule, and the gradient of a "
                         "trainable parameter flows through it (freeze the "
                         "layers before it, or train from after it)",
                         n->op_type);
    a->at = n;
    FR_TRY(rule(a, n, dy));
    if (a->st != FR_OK) return a->st;
  }
  return a->st;
}

/* ---- ONNX's Gradient op ---------------------------------------------------- */

/* Moves nodes [from, g->n_nodes) to position at, keeping their order. */
static void move_nodes(fr_graph *g, int from, int at) {
  int n_new = g->n_nodes - from;
  if (n_new <= 0 || at >= from) return;
  fr_node **tmp = fr_malloc(sizeof(fr_node *) * (size_t)n_new);
  FR_ASSERT(tmp); /* small; the caller checked the arena growth */
  memcpy(tmp, g->nodes + from, sizeof(fr_node *) * (size_t)n_new);
  memmove(g->nodes + at + n_new, g->nodes + at, sizeof(fr_node *) * (size_t)(from - at));
  memcpy(g->nodes + at, tmp, sizeof(fr_node *) * (size_t)n_new);
  fr_free(tmp);
  for (int k = 0; k < g->n_nodes; k++) g->nodes[k]->index = k;
}

/* One Gradient node n: d y / d xs[i], y's gradient all ones. The marks
 * freeze made are set aside: here "needs a gradient" means "depends on
 * an x". */
static fr_status expand_gradient(fr_model *m, fr_node *n) {
  fr_graph *g = m->graph;
  const fr_attr *xs = fr_attr_get(n, FR_A_XS);
  fr_value *y = fr_graph_find(g, fr_attr_str(n, FR_A_Y));
  if (!xs || !y)
    return fr_err_node(FR_ERR_INVALID, n, "no value named y '%s'",
                       fr_attr_str(n, FR_A_Y));
  int nv = m->n_ids, nn = g->n_nodes;
  uint32_t *flags = fr_malloc(sizeof(uint32_t) * (size_t)(nv + 1));
  bool *train = fr_malloc(sizeof(bool) * (size_t)(nn + 1));
  fr_ad a = {.m = m, .g = g, .n_ids = nv};
  a.grad = fr_calloc((size_t)nv + 1, sizeof(fr_value *));
  if (!flags || !train || !a.grad) {
    fr_free(flags), fr_free(train), fr_free(a.grad);
    return fr_err_nomem(n);
  }
  for (int i = 0; i < nv; i++) flags[i] = m->by_id[i] ? m->by_id[i]->flags : 0;
  for (int k = 0; k < nn; k++) train[k] = g->nodes[k]->trainable;
  for (int i = 0; i < nv; i++)
    if (m->by_id[i]) m->by_id[i]->flags &= ~(uint32_t)FR_V_GRAD;
  for (int i = 0; i < xs->n; i++) n->in[i]->flags |= FR_V_GRAD;
  for (int k = 0; k < nn; k++) {
    fr_node *q = g->nodes[k];
    q->trainable = false;
    if (q == n) continue;
    for (int i = 0; i < q->n_in; i++)
      if (q->in[i] && (q->in[i]->flags & FR_V_GRAD)) q->trainable = true;
    for (int i = 0; q->trainable && i < q->n_out; i++)
      if (q->out[i]) q->out[i]->flags |= FR_V_GRAD;
  }
  /* Seed: ones of y's shape. */
  a.at = n;
  fr_value *one = fr_ad_scalar(&a, 1.0f);
  fr_value *shape = fr_ad_ints(&a, y->t.rank, y->t.dims);
  fr_status st = FR_OK;
  if (y->t.rank < 0)
    st = fr_err_node(FR_ERR_UNSUPPORTED, n, "the shape of y '%s' is not known",
                     y->name);
  if (st == FR_OK)
    a.grad[y->id] = one && shape ? fr_ad_op(&a, "Expand", 2, (fr_value *[]){one, shape}, 0, NULL) : NULL;
  if (st == FR_OK) st = a.st;
  int first_new = nn;
  for (int k = nn - 1; k >= 0 && st == FR_OK; k--) {
    fr_node *q = g->nodes[k];
    if (q == n || q->dead || !q->trainable || q->op == FR_OP_CONSTANT) continue;
    fr_value *dy[64] = {0};
    bool any = false;
    for (int i = 0; i < q->n_out && i < 64; i++)
      if (q->out[i] && a.grad[q->out[i]->id]) dy[i] = a.grad[q->out[i]->id], any = true;
    if (!any) continue;
    fr_grad_fn rule = fr_grad_rules[q->op];
    if (!rule) {
      st = fr_err_node(FR_ERR_UNSUPPORTED, q, "%s has no gradient rule (for "
                       "the Gradient node '%s')", q->op_type, n->name);
      break;
    }
    a.at = q;
    st = rule(&a, q, dy);
    if (st == FR_OK) st = a.st;
  }
  /* The outputs: each x's gradient (zeros when y does not depend on it). */
  for (int i = 0; i < xs->n && st == FR_OK; i++) {
    fr_value *x = n->in[i], *d = a.grad[x->id];
    a.at = n;
    if (!d) d = fr_ad_binary(&a, "Mul", x, fr_ad_scalar(&a, 0));
    else if (!d->producer || (d->flags & FR_V_OUTPUT)) d = fr_ad_unary(&a, "Identity", d);
    if (!d) {
      st = a.st;
      break;
    }
    if (n->out[i]) {
      d->name = n->out[i]->name;
      fr_graph_replace_uses(g, n->out[i], d);
    }
  }
  for (int i = 0; i < nv; i++)
    if (m->by_id[i]) m->by_id[i]->flags = (m->by_id[i]->flags & ~(uint32_t)FR_V_GRAD) | (flags[i] & FR_V_GRAD);
  for (int k = 0; k < nn; k++) g->nodes[k]->trainable = train[k];
  if (st == FR_OK) {
    /* The backward nodes go where the Gradient node stood (after y). */
    int at = n->index + 1;
    if (y->producer && y->producer->index + 1 > at) at = y->producer->index + 1;
    move_nodes(g, first_new, at);
    fr_node_kill(n);
    fr_graph_compact(g);
  }
  fr_free(flags);
  fr_free(train);
  fr_free(a.grad);
  return st;
}

fr_status fr_expand_gradients(fr_model *m) {
  fr_graph *g = m->graph;
  for (int k = 0; k < g->n_nodes; k++)
    if (g->nodes[k]->op == FR_OP_GRADIENT && !g->nodes[k]->dead) {
      FR_TRY(expand_gradient(m, g->nodes[k]));
      k = -1; /* the nodes moved: from the start */
    }
  return FR_OK;
}

fr_status fr_pass_autodiff(fr_model *m, const fr_pipeline_opts *o) {
  (void)o;
  fr_graph *g = m->graph;
  FR_TRY(fr_expand_gradients(m));
  fr_train_graph *tg = g->train;
  if (!tg) return FR_OK;
  if (!tg->loss || !(tg->loss->flags & FR_V_GRAD))
    return fr_err(FR_ERR_USAGE, "nothing to train: the loss '%s' does not "
                  "depend on a trainable parameter (see --train-from, "
                  "--trainable, --head)",
                  tg->loss ? tg->loss->name : "?");
  fr_ad a = {.m = m, .g = g, .n_ids = m->n_ids};
  a.grad = fr_calloc((size_t)a.n_ids + 1, sizeof(fr_value *));
  if (!a.grad) return fr_err_nomem(NULL);
  fr_status st = backward(&a, tg);
  /* Each trainable parameter's gradient is an output of the graph; a
   * parameter the loss does not reach gets zeros. */
  int np = 0;
  for (int i = 0; i < g->n_inits; i++)
    np += (g->inits[i]->flags & FR_V_TRAINABLE) != 0;
  fr_value **params = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(np + 1));
  fr_value **grads = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(np + 1));
  fr_value **outs = fr_arena_alloc(&m->arena, sizeof(fr_value *) *
                                                  (size_t)(g->n_outputs + np + 1));
  if (st == FR_OK && (!params || !grads || !outs)) st = fr_err_nomem(NULL);
  int k = 0;
  for (int i = 0; i < g->n_inits && st == FR_OK; i++) {
    fr_value *p = g->inits[i];
    if (!(p->flags & FR_V_TRAINABLE)) continue;
    a.at = NULL;
    fr_value *d = a.grad[p->id];
    if (!d) { /* zeros: 0 * p */
      fr_value *zero = fr_ad_scalar(&a, 0.0f);
      d = zero ? fr_ad_binary(&a, "Mul", p, zero) : NULL;
    } else if (d->flags & (FR_V_CONST | FR_V_OUTPUT | FR_V_INPUT) ||
               !d->producer) {
      d = fr_ad_unary(&a, "Identity", d); /* an output of its own */
    }
    if (!d) {
      st = a.st;
      break;
    }
    d->flags |= FR_V_OUTPUT;
    params[k] = p;
    grads[k++] = d;
  }
  if (st == FR_OK) {
    memcpy(outs, g->outputs, sizeof(fr_value *) * (size_t)g->n_outputs);
    memcpy(outs + g->n_outputs, grads, sizeof(fr_value *) * (size_t)k);
    g->outputs = outs;
    g->n_outputs += k;
    tg->n_params = k;
    tg->params = params;
    tg->grads = grads;
  }
  fr_free(a.grad);
  return st;
}
