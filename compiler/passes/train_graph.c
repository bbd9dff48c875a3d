/* train_graph.c: turns a loaded model into a training graph, before the
 * pass pipeline: head surgery (--cut keeps the graph up to a value, --head
 * appends fresh layers) and the loss, which the autodiff pass then
 * differentiates (g->train).
 *
 * The loss is built from ordinary ops and takes its targets and per-sample
 * weights as graph inputs, so the data loader decides label smoothing,
 * class weights and a short last batch (its padding rows weigh 0):
 *   ce   loss = -sum_i w_i sum_c t_ic log_softmax(z)_ic   (t: one-hot,
 *        smoothed; w_i = 1 / n for a plain mean)
 *   bce  loss = sum_i w_i sum_c (max(z, 0) - t z + log(1 + exp(-|z|)))
 *   mse  loss = sum_i w_i sum_c (z - t)^2
 * Inputs: frost.targets [B, C] (f32), frost.weights [B] (f32).
 *
 * --ssl (InfoNCE, SimCLR's NT-Xent): the batch holds two augmented views
 * of B/2 samples, rows i and i + B/2 the same sample's. Each embedding is
 * L2-normalized (u = z / sqrt(|z|^2 + 1e-12)), the similarities S = u u^T
 * / temperature lose their diagonal (a sample is not its own positive:
 * -1e9 added there), and the loss is ce above with S as the logits and
 * the other view's row as the class: targets [B, B], given by the loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

typedef struct tb {
  fr_model *m;
  fr_graph *g;
  int counter;
  fr_status st;
} tb;

static fr_value *add_node(tb *b, const char *op, int n_in, fr_value *const *in,
                          int n_attr, const fr_attr *attrs, const char *name) {
  if (b->st != FR_OK) return NULL;
  for (int i = 0; i < n_in; i++)
    if (!in[i]) return NULL;
  char nm[256];
  snprintf(nm, sizeof nm, "frost.%s.%d", name, b->counter++);
  fr_node *n = fr_node_new(b->g, nm, op, "", n_in, 1, n_attr);
  fr_value *y = n ? fr_value_new(b->g, nm) : NULL;
  if (!n || !y) {
    b->st = fr_err_nomem(NULL);
    return NULL;
  }
  n->op = fr_op_lookup("", op);
  FR_ASSERT(n->op < FR_OP_COUNT);
  n->opset = 13;
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  for (int i = 0; i < n_attr; i++) n->attrs[i] = attrs[i];
  n->out[0] = y;
  y->producer = n;
  return y;
}

static fr_value *op1(tb *b, const char *op, fr_value *x, const char *name) {
  return add_node(b, op, 1, &x, 0, NULL, name);
}

static fr_value *op2(tb *b, const char *op, fr_value *x, fr_value *y,
                     const char *name) {
  return add_node(b, op, 2, (fr_value *[]){x, y}, 0, NULL, name);
}

static fr_value *init(tb *b, const char *name, fr_dtype dt, int rank,
                      const int64_t *dims, const void *data) {
  if (b->st != FR_OK) return NULL;
  fr_tensor t = {.kind = FR_KIND_TENSOR, .dtype = dt, .rank = rank,
                 .data = (void *)data};
  for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
  fr_value *v = fr_graph_add_init(b->g, name, &t);
  if (!v) b->st = fr_err_nomem(NULL);
  return v;
}

static fr_value *scalar(tb *b, float x) {
  char name[64];
  snprintf(name, sizeof name, "frost.const.%d", b->counter++);
  return init(b, name, FR_F32, 0, NULL, &x);
}

static fr_value *reduce_sum(tb *b, fr_value *x, int axis, const char *name) {
  int64_t ax = axis;
  char nm[64];
  snprintf(nm, sizeof nm, "frost.axes.%d", b->counter++);
  fr_value *axes = axis >= 0 ? init(b, nm, FR_I64, 1, (int64_t[]){1}, &ax) : NULL;
  fr_attr keep = {.name = "keepdims", .type = FR_ATTR_INT, .i = 0};
  return add_node(b, "ReduceSum", axis >= 0 ? 2 : 1,
                  (fr_value *[]){x, axes}, 1, &keep, name);
}

static fr_value *new_input(tb *b, const char *name, int rank,
                           const int64_t *dims) {
  fr_graph *g = b->g;
  if (b->st != FR_OK) return NULL;
  fr_value *v = fr_value_new(g, name);
  fr_value **ins = fr_arena_alloc(&b->m->arena, sizeof(fr_value *) *
                                                    (size_t)(g->n_inputs + 1));
  if (!v || !ins) {
    b->st = fr_err_nomem(NULL);
    return NULL;
  }
  v->flags |= FR_V_INPUT;
  v->t.kind = FR_KIND_TENSOR;
  v->t.dtype = FR_F32;
  v->t.rank = rank;
  for (int i = 0; i < rank; i++) v->t.dims[i] = dims[i];
  memcpy(ins, g->inputs, sizeof(fr_value *) * (size_t)g->n_inputs);
  ins[g->n_inputs++] = v;
  g->inputs = ins;
  return v;
}

/* Uniform in [-bound, bound], as torch.nn.Linear initializes (Kaiming
 * uniform with a = sqrt(5): bound 1 / sqrt(fan_in), weights and bias). */
static void fill_uniform(float *w, int64_t n, float bound, fr_rng *r) {
  for (int64_t i = 0; i < n; i++)
    w[i] = (float)((2 * fr_rng_uniform(r) - 1) * bound);
}

/* Parses "linear:N" or "mlp:H1,...,N" (spec from its kind on) into
 * widths. */
static fr_status parse_head(const char *spec, const char *kind,
                            int64_t *widths, int *n) {
  const char *p;
  bool mlp;
  if (!strncmp(kind, "linear:", 7)) {
    p = kind + 7;
    mlp = false;
  } else if (!strncmp(kind, "mlp:", 4)) {
    p = kind + 4;
    mlp = true;
  } else {
    return fr_err(FR_ERR_USAGE, "--head '%s': expected linear:N or "
                  "mlp:H1,...,N, or NAME:linear:N for one of several heads", spec);
  }
  *n = 0;
  while (*p) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || v <= 0 || v > (1 << 24) || (*end && *end != ','))
      return fr_err(FR_ERR_USAGE, "--head '%s': '%s' is not a positive "
                    "width", spec, p);
    if (*n == 16) return fr_err(FR_ERR_USAGE, "--head '%s': too many layers", spec);
    widths[(*n)++] = v;
    p = *end ? end + 1 : end;
    if (*end && !*p) return fr_err(FR_ERR_USAGE, "--head '%s' ends with ','", spec);
  }
  if (*n == 0 || (!mlp && *n != 1))
    return fr_err(FR_ERR_USAGE, "--head '%s': %s", spec,
                  mlp ? "no widths" : "linear takes one width");
  return FR_OK;
}

fr_status fr_head_parse(const char *spec, fr_head_spec *h) {
  *h = (fr_head_spec){0};
  const char *kind = spec;
  if (strncmp(spec, "linear:", 7) && strncmp(spec, "mlp:", 4)) {
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : 0;
    bool ok = n > 0 && n < sizeof h->name &&
              ((spec[0] >= 'a' && spec[0] <= 'z') || (spec[0] >= 'A' && spec[0] <= 'Z'));
    for (size_t i = 1; ok && i < n; i++) {
      char ch = spec[i];
      ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    }
    if (colon && !ok)
      return fr_err(FR_ERR_USAGE, "--head '%s': a head's name is a letter then "
                    "letters, digits, '_' or '-' (at most %d)", spec,
                    (int)sizeof h->name - 1);
    if (ok) {
      memcpy(h->name, spec, n);
      kind = colon + 1;
    }
  }
  return parse_head(spec, kind, h->widths, &h->n);
}

/* Appends the head layers to x [B, F]: Gemm (+ Relu between layers), their
 * parameters named prefix<layer>.weight|bias. */
static fr_value *append_head(tb *b, fr_value *x, int64_t fan_in,
                             const int64_t *widths, int n, uint64_t seed,
                             const char *prefix) {
  fr_rng r;
  fr_rng_seed(&r, seed);
  for (int l = 0; l < n && x; l++) {
    int64_t out = widths[l], nw = out * fan_in;
    float *w = fr_malloc(sizeof(float) * (size_t)(nw + out));
    if (!w) {
      b->st = fr_err_nomem(NULL);
      return NULL;
    }
    float bound = 1.0f / sqrtf((float)fan_in);
    fill_uniform(w, nw, bound, &r);
    fill_uniform(w + nw, out, bound, &r);
    char wn[128], bn[128];
    snprintf(wn, sizeof wn, "%s%d.weight", prefix, l);
    snprintf(bn, sizeof bn, "%s%d.bias", prefix, l);
    fr_value *W = init(b, wn, FR_F32, 2, (int64_t[]){out, fan_in}, w);
    fr_value *B = init(b, bn, FR_F32, 1, &out, w + nw);
    fr_free(w);
    fr_attr tb_ = {.name = "transB", .type = FR_ATTR_INT, .i = 1};
    char gn[128], rn[128]; /* frost.head.gemm.K, frost.proj.relu.K, ... */
    snprintf(gn, sizeof gn, "%sgemm", prefix + 6);
    snprintf(rn, sizeof rn, "%srelu", prefix + 6);
    x = add_node(b, "Gemm", 3, (fr_value *[]){x, W, B}, 1, &tb_, gn);
    if (l + 1 < n) x = op1(b, "Relu", x, rn);
    fan_in = out;
  }
  return x;
}

/* --ssl: the similarities of the views' embeddings z [B, ...] as logits
 * [B, B] (see the top). */
static fr_value *similarities(tb *b, fr_value *z, const fr_train_spec *s) {
  int64_t B = s->batch;
  fr_attr ax = {.name = "axis", .type = FR_ATTR_INT, .i = 1};
  if (z->t.rank != 2) z = add_node(b, "Flatten", 1, &z, 1, &ax, "ssl.flatten");
  int64_t one = 1;
  char nm[64];
  snprintf(nm, sizeof nm, "frost.axes.%d", b->counter++);
  fr_value *axes = init(b, nm, FR_I64, 1, &one, &one);
  fr_attr keep = {.name = "keepdims", .type = FR_ATTR_INT, .i = 1};
  fr_value *sq = add_node(b, "ReduceSum", 2,
                          (fr_value *[]){op2(b, "Mul", z, z, "ssl.sq"), axes}, 1,
                          &keep, "ssl.norm2");
  fr_value *norm = op1(b, "Sqrt", op2(b, "Add", sq, scalar(b, 1e-12f), "ssl.eps"), "ssl.norm");
  fr_value *u = op2(b, "Div", z, norm, "ssl.unit");
  int64_t *p = fr_arena_alloc(&b->m->arena, 2 * sizeof *p);
  if (!p) {
    b->st = fr_err_nomem(NULL);
    return NULL;
  }
  p[0] = 1;
  p[1] = 0;
  fr_attr perm = {.name = "perm", .type = FR_ATTR_INTS, .n = 2, .ints = p};
  fr_value *ut = add_node(b, "Transpose", 1, &u, 1, &perm, "ssl.unit_t");
  fr_value *sim = op2(b, "MatMul", u, ut, "ssl.sim");
  sim = op2(b, "Mul", sim, scalar(b, (float)(1 / s->temperature)), "ssl.scaled");
  if (b->st != FR_OK) return NULL;
  float *mask = fr_calloc((size_t)(B * B), sizeof *mask);
  if (!mask) {
    b->st = fr_err_nomem(NULL);
    return NULL;
  }
  for (int64_t i = 0; i < B; i++) mask[i * B + i] = -1e9f;
  snprintf(nm, sizeof nm, "frost.ssl.mask.%d", b->counter++);
  fr_value *M = init(b, nm, FR_F32, 2, (int64_t[]){B, B}, mask);
  fr_free(mask);
  return op2(b, "Add", sim, M, "ssl.logits");
}

/* z [B, ...] flattened to [B, F] for the heads (*F its width, from the
 * model's input shapes). */
static fr_value *flatten_for_head(tb *b, fr_value *z, int64_t batch, int64_t *F) {
  fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
  if (b->st == FR_OK) b->st = fr_graph_infer(b->g, &io);
  if (b->st != FR_OK) return NULL;
  if (z->t.rank < 1 || z->t.dims[0] != batch) {
    b->st = fr_err(FR_ERR_USAGE, "--head: '%s' has no batch dim of %lld "
                   "(its shape is %s)", z->name, (long long)batch,
                   z->t.rank < 0 ? "unknown" : "another");
    return NULL;
  }
  *F = fr_tensor_numel(&z->t) / batch;
  fr_attr ax = {.name = "axis", .type = FR_ATTR_INT, .i = 1};
  return add_node(b, "Flatten", 1, &z, 1, &ax, "head.flatten");
}

/* The cross-entropy of each sample [B] against targets t [B, C]. */
static fr_value *ce_per_sample(tb *b, fr_value *z, fr_value *t, bool probabilities) {
  fr_attr ax = {.name = "axis", .type = FR_ATTR_INT, .i = 1};
  fr_value *lp = probabilities
                     ? op1(b, "Log", op2(b, "Add", z, scalar(b, 1e-12f), "probs"), "log")
                     : add_node(b, "LogSoftmax", 1, &z, 1, &ax, "log_softmax");
  return op1(b, "Neg", reduce_sum(b, op2(b, "Mul", t, lp, "tlogp"), 1, "ce"), "nll");
}

/* The graph's outputs become outs[0..n). */
static fr_status set_outputs(fr_model *m, fr_value *const *outs, int n) {
  fr_value **o = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)n);
  if (!o) return fr_err_nomem(NULL);
  for (int i = 0; i < n; i++) {
    o[i] = outs[i];
    o[i]->flags |= FR_V_OUTPUT;
  }
  m->graph->outputs = o;
  m->graph->n_outputs = n;
  return FR_OK;
}

/* Several named heads on z, one task each (multi-task training): head k's
 * parameters are frost.head.NAME.<layer>.weight|bias, its inputs
 * frost.targets.NAME [B, C_k] and frost.weights.NAME [B], and
 *   loss = sum_k task_weight_k L_k,  L_k = sum_i w_ik ce_ik
 * Outputs: [loss, logits_1..K, L_1..K]. */
static fr_status build_tasks(tb *b, fr_value *z, const fr_train_spec *s) {
  int K = s->n_heads;
  if (K > FR_MAX_TASKS)
    return fr_err(FR_ERR_USAGE, "%d heads: at most %d", K, FR_MAX_TASKS);
  if (s->loss_kind != FR_LOSS_CE)
    return fr_err(FR_ERR_USAGE, "several heads are classifiers: they train "
                  "with --loss ce");
  fr_head_spec h[FR_MAX_TASKS];
  for (int k = 0; k < K; k++) {
    FR_TRY(fr_head_parse(s->heads[k], &h[k]));
    if (!h[k].name[0])
      return fr_err(FR_ERR_USAGE, "--head '%s': with several heads each has a "
                    "name (NAME:linear:N)", s->heads[k]);
    for (int j = 0; j < k; j++)
      if (!strcmp(h[j].name, h[k].name))
        return fr_err(FR_ERR_USAGE, "--head: two heads are named '%s'", h[k].name);
    if (fr_graph_find(b->g, h[k].name))
      return fr_err(FR_ERR_USAGE, "--head '%s': the model has a value named "
                    "'%s' already (the head's output takes its name)",
                    s->heads[k], h[k].name);
  }
  int64_t F = 0;
  fr_value *x = flatten_for_head(b, z, s->batch, &F);
  fr_value *logits[FR_MAX_TASKS], *task_loss[FR_MAX_TASKS], *loss = NULL;
  for (int k = 0; k < K; k++) {
    char prefix[96];
    snprintf(prefix, sizeof prefix, "frost.head.%.63s.", h[k].name);
    /* the first head's weights are those of a single head of that seed */
    uint64_t seed = s->seed + (uint64_t)k * 0x9E3779B97F4A7C15ull;
    logits[k] = x ? append_head(b, x, F, h[k].widths, h[k].n, seed, prefix) : NULL;
  }
  if (b->st != FR_OK) return b->st;
  if (s->infer_only) {
    b->g->train = NULL;
    return set_outputs(b->m, logits, K);
  }
  for (int k = 0; k < K && b->st == FR_OK; k++) {
    char tn[96], wn[96];
    snprintf(tn, sizeof tn, "frost.targets.%.63s", h[k].name);
    snprintf(wn, sizeof wn, "frost.weights.%.63s", h[k].name);
    int64_t C = h[k].widths[h[k].n - 1];
    fr_value *t = new_input(b, tn, 2, (int64_t[]){s->batch, C});
    fr_value *w = new_input(b, wn, 1, &s->batch);
    fr_value *per = ce_per_sample(b, logits[k], t, s->probabilities);
    task_loss[k] = reduce_sum(b, op2(b, "Mul", per, w, "weighted"), -1, "task_loss");
    float tw = s->task_weights ? (float)s->task_weights[k] : 1.0f;
    fr_value *part = op2(b, "Mul", task_loss[k], scalar(b, tw), "task_weight");
    loss = loss ? op2(b, "Add", loss, part, "loss") : part;
    if (k == 0 && b->st == FR_OK) {
      fr_train_graph *tg = fr_arena_alloc(&b->m->arena, sizeof *tg);
      if (!tg) return fr_err_nomem(NULL);
      *tg = (fr_train_graph){.labels = t, .logits = logits[0]};
      b->g->train = tg;
    }
  }
  if (b->st != FR_OK) return b->st;
  b->g->train->loss = loss;
  fr_value *outs[1 + 2 * FR_MAX_TASKS];
  outs[0] = loss;
  for (int k = 0; k < K; k++) {
    outs[1 + k] = logits[k];
    outs[1 + K + k] = task_loss[k];
  }
  return set_outputs(b->m, outs, 1 + 2 * K);
}

fr_status fr_train_build(fr_model *m, const fr_train_spec *s) {
  fr_graph *g = m->graph;
  tb b = {.m = m, .g = g};
  if (s->batch <= 0 || s->n_classes <= 0)
    return fr_err(FR_ERR_USAGE, "batch %lld and %lld classes", (long long)s->batch,
                  (long long)s->n_classes);
  /* The value the head or the loss starts from. */
  fr_value *z = NULL;
  if (s->cut) {
    z = fr_graph_find(g, s->cut);
    if (!z || z->graph != g || (z->flags & FR_V_CONST))
      return fr_err(FR_ERR_USAGE, "--cut: the model '%s' computes no value "
                    "named '%s'", m->path ? m->path : "?", s->cut);
  } else {
    if (g->n_outputs < 1) return fr_err(FR_ERR_USAGE, "the model has no output");
    z = g->outputs[0];
  }
  for (int i = 0; i < g->n_outputs; i++) g->outputs[i]->flags &= ~(uint32_t)FR_V_OUTPUT;
  if (s->n_heads) return build_tasks(&b, z, s);
  int64_t widths[16];
  int n_layers = 0;
  if (s->head) {
    FR_TRY(parse_head(s->head, s->head, widths, &n_layers));
    if (!s->ssl && widths[n_layers - 1] != s->n_classes)
      return fr_err(FR_ERR_USAGE, "--head '%s' ends with %lld outputs, the "
                    "data has %lld %s", s->head, (long long)widths[n_layers - 1],
                    (long long)s->n_classes, s->loss_kind == FR_LOSS_CE ? "classes" : "targets");
    int64_t feature_dim = 0;
    z = flatten_for_head(&b, z, s->batch, &feature_dim);
    z = z ? append_head(&b, z, feature_dim, widths, n_layers, s->seed,
                                s->ssl ? "frost.proj." : "frost.head.") : NULL;
  }
  if (s->ssl && !s->infer_only) z = similarities(&b, z, s);
  if (s->infer_only) {
    if (b.st != FR_OK) return b.st;
    g->train = NULL;
    return set_outputs(m, &z, 1);
  }
  int64_t B = s->batch, C = s->n_classes;
  fr_value *t = new_input(&b, "frost.targets", 2, (int64_t[]){B, C});
  fr_value *w = new_input(&b, "frost.weights", 1, &B);
  fr_value *per = NULL;
  if (s->loss_kind == FR_LOSS_CE) {
    per = ce_per_sample(&b, z, t, s->probabilities);
  } else if (s->loss_kind == FR_LOSS_BCE) {
    fr_value *pos = op1(&b, "Relu", z, "bce.relu");
    fr_value *tz = op2(&b, "Mul", t, z, "bce.tz");
    fr_value *e = op1(&b, "Exp", op1(&b, "Neg", op1(&b, "Abs", z, "bce.abs"), "bce.neg"), "bce.exp");
    fr_value *l = op1(&b, "Log", op2(&b, "Add", e, scalar(&b, 1), "bce.1p"), "bce.log");
    per = reduce_sum(&b, op2(&b, "Add", op2(&b, "Sub", pos, tz, "bce.sub"), l, "bce.add"), 1, "bce");
  } else {
    fr_value *d = op2(&b, "Sub", z, t, "mse.diff");
    per = reduce_sum(&b, op2(&b, "Mul", d, d, "mse.sq"), 1, "mse");
  }
  fr_value *loss = reduce_sum(&b, op2(&b, "Mul", per, w, "weighted"), -1, "loss");
  if (b.st != FR_OK) return b.st;
  fr_train_graph *tg = fr_arena_alloc(&m->arena, sizeof *tg);
  if (!tg) return fr_err_nomem(NULL);
  *tg = (fr_train_graph){.loss = loss, .labels = t, .logits = z};
  g->train = tg;
  return set_outputs(m, (fr_value *[]){loss, z}, 2);
}

/* ---- the feature cache's cut ---------------------------------------------- */

fr_value *fr_train_boundary(const fr_graph *g) {
  fr_value *b = NULL;
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    if (n->dead || !n->trainable) continue;
    for (int i = 0; i < n->n_in; i++) {
      fr_value *v = n->in[i];
      if (!v || (v->flags & (FR_V_GRAD | FR_V_CONST))) continue;
      if (v->flags & FR_V_INPUT) {
        if (!strncmp(v->name, "frost.", 6)) continue; /* targets, weights */
        return NULL; /* the model's input reaches a trainable node */
      }
      if (v->producer && v->producer->op == FR_OP_CONSTANT) continue;
      /* Known at compile time (a shape computed from shapes), or not
       * floating point (indices, shapes): the fold pass's, not features. */
      if (v->t.data || !fr_dtype_is_float(v->t.dtype)) continue;
      if (b && b != v) return NULL;
      b = v;
    }
  }
  return b;
}

fr_status fr_train_cut_input(fr_model *m, fr_value *b) {
  fr_graph *g = m->graph;
  char name[512];
  snprintf(name, sizeof name, "%s", b->name);
  fr_value *in = fr_value_new(g, name);
  char *old = fr_arena_alloc(&m->arena, strlen(name) + 8);
  fr_value **ins = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(g->n_inputs + 1));
  if (!in || !old || !ins) return fr_err_nomem(NULL);
  snprintf(old, strlen(name) + 8, "%s.frozen", name);
  b->name = old;
  in->t = b->t;
  in->t.data = NULL;
  in->flags = FR_V_INPUT;
  fr_graph_replace_uses(g, b, in);
  /* The model's own inputs go: only the features (first) and the
   * training inputs remain. */
  int k = 0;
  ins[k++] = in;
  for (int i = 0; i < g->n_inputs; i++)
    if (!strncmp(g->inputs[i]->name, "frost.", 6)) ins[k++] = g->inputs[i];
    else g->inputs[i]->flags &= ~(uint32_t)FR_V_INPUT;
  g->inputs = ins;
  g->n_inputs = k;
  /* The frozen nodes before the cut compute nothing used: they go. */
  for (bool changed = true; changed;) {
    changed = false;
    for (int j = g->n_nodes - 1; j >= 0; j--) {
      fr_node *n = g->nodes[j];
      if (n->dead) continue;
      bool used = false;
      for (int o = 0; o < n->n_out && !used; o++)
        used = n->out[o] && fr_value_uses(g, n->out[o]) > 0;
      if (!used) {
        fr_node_kill(n);
        changed = true;
      }
    }
  }
  fr_graph_compact(g);
  fr_graph_prune_inits(g);
  return FR_OK;
}

/* ---- --bn-train -------------------------------------------------------------- */

fr_status fr_train_bn_mode(fr_model *m, fr_value **stats, fr_value **outs,
                           int max, int *n_stats) {
  fr_graph *g = m->graph;
  *n_stats = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    if (n->dead || n->op != FR_OP_BATCH_NORMALIZATION || n->n_in < 5 ||
        !n->in[3] || !n->in[4] || !(n->in[3]->flags & FR_V_STATE) ||
        !(n->in[4]->flags & FR_V_STATE))
      continue;
    if (*n_stats + 2 > max)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "more than %d statistics", max);
    /* Training mode, ONNX's way (opset 15): batch statistics normalize, and
     * outputs 1 and 2 are the updated running mean and variance. */
    fr_attr *at = fr_arena_alloc(&m->arena, sizeof(fr_attr) * (size_t)(n->n_attr + 1));
    fr_value **out = fr_arena_alloc(&m->arena, sizeof(fr_value *) * 4);
    fr_value **gout = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(g->n_outputs + 3));
    if (!at || !out || !gout) return fr_err_nomem(n);
    int na = 0;
    for (int i = 0; i < n->n_attr; i++)
      if (strcmp(n->attrs[i].name, "training_mode") && strcmp(n->attrs[i].name, "spatial") &&
          strcmp(n->attrs[i].name, "is_test") && strcmp(n->attrs[i].name, "consumed_inputs"))
        at[na++] = n->attrs[i];
    at[na++] = (fr_attr){.name = "training_mode", .type = FR_ATTR_INT, .i = 1};
    n->attrs = at;
    n->n_attr = na;
    if (n->opset < 15) n->opset = 15;
    out[0] = n->out[0];
    for (int i = 1; i < 3; i++) {
      char name[512];
      snprintf(name, sizeof name, "%s.updated", n->in[2 + i]->name);
      fr_value *v = fr_value_new(g, name);
      if (!v) return fr_err_nomem(n);
      v->producer = n;
      v->flags |= FR_V_OUTPUT;
      out[i] = v;
      stats[*n_stats] = n->in[2 + i];
      outs[(*n_stats)++] = v;
    }
    n->out = out;
    n->n_out = 3;
    memcpy(gout, g->outputs, sizeof(fr_value *) * (size_t)g->n_outputs);
    gout[g->n_outputs] = out[1];
    gout[g->n_outputs + 1] = out[2];
    g->outputs = gout;
    g->n_outputs += 2;
  }
  return FR_OK;
}
