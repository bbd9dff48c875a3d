/* freeze.c: the freeze boundary. Frozen is a property of values: every
 * parameter (initializer or Constant-node tensor) is frozen unless the
 * options make it trainable (FR_V_TRAINABLE: training updates it). A
 * trainable parameter and every value computed from one need a gradient
 * (FR_V_GRAD), and the nodes computing them are marked trainable: only they
 * get backward graphs; everything else may be folded. It is the first pass
 * of the pipeline, so the passes after it know what they may fold.
 *
 *   --train-from NAME[,NAME]  a value or node: the parameters only nodes
 *                             downstream of it use become trainable (a
 *                             parameterless node between it and them reads
 *                             no FR_V_GRAD value and stays frozen)
 *   --trainable REGEX         parameters whose names match become trainable
 *   --frozen REGEX            ... become frozen (rules apply in order)
 *
 * BatchNormalization's running statistics are never trainable.
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "passes.h"

/* A parameter: an initializer, or the output of a Constant node. */
static bool is_param(const fr_value *v) {
  if (v->flags & FR_V_CONST) return true;
  return v->producer && v->producer->op == FR_OP_CONSTANT;
}

/* A parameter training can update: floating point. Shapes, indices and
 * masks (a Reshape's target, a Gather's indices) stay frozen whatever the
 * options say, and so do the constants of frost's losses (frost.* other
 * than a head's or a projection's: a --trainable '.*' matches them). */
static bool is_trainable_param(const fr_value *v) {
  if (!is_param(v)) return false;
  if (!strncmp(v->name, "frost.", 6) && strncmp(v->name, "frost.head.", 11) &&
      strncmp(v->name, "frost.proj.", 11))
    return false;
  fr_dtype t = v->t.dtype;
  const fr_node *c = v->producer;
  if (t == FR_UNDEFINED && c && c->n_attr == 1 &&
      c->attrs[0].type == FR_ATTR_TENSOR) /* a Constant not yet inferred */
    t = c->attrs[0].t->dtype;
  return fr_dtype_is_float(t);
}

/* A parameter's rank (a Constant's before inference: its tensor's). */
static int param_rank(const fr_value *v) {
  const fr_node *c = v->producer;
  if (v->t.rank < 0 && c && c->n_attr == 1 && c->attrs[0].type == FR_ATTR_TENSOR)
    return c->attrs[0].t->rank;
  return v->t.rank;
}


/* "unknown name 'x' (closest: a, b, c)" over value and node names. */
static fr_status unknown_name(const fr_graph *g, const char *name) {
  const char *best[3] = {0};
  int dist[3] = {1 << 30, 1 << 30, 1 << 30};
  for (int pass = 0; pass < 2; pass++) {
    int n = pass ? g->n_nodes : g->n_values;
    for (int i = 0; i < n; i++) {
      const char *c = pass ? g->nodes[i]->name : g->values[i]->name;
      if (!c[0]) continue;
      int d = fr_edit_distance(name, c);
      bool dup = false;
      for (int k = 0; k < 3; k++)
        if (best[k] && !strcmp(best[k], c)) dup = true;
      if (dup) continue;
      for (int k = 0; k < 3; k++)
        if (d < dist[k]) {
          for (int m = 2; m > k; m--) best[m] = best[m - 1], dist[m] = dist[m - 1];
          best[k] = c;
          dist[k] = d;
          break;
        }
    }
  }
  return fr_err(FR_ERR_USAGE,
                "--train-from: no value or node named '%s' (closest: %s%s%s%s%s)",
                name, best[0] ? best[0] : "none", best[1] ? ", " : "",
                best[1] ? best[1] : "", best[2] ? ", " : "",
                best[2] ? best[2] : "");
}

fr_status fr_freeze_apply(fr_model *m, fr_freeze_opts *o) {
  fr_graph *g = m->graph;
  int nv = m->n_ids;
  uint8_t *down = fr_calloc((size_t)nv + 1, 1);     /* by value id */
  uint8_t *down_node = fr_calloc((size_t)g->n_nodes + 1, 1);
  if (!down || !down_node) {
    fr_free(down);
    fr_free(down_node);
    return fr_err_nomem(NULL);
  }
  fr_status st = FR_OK;
  for (int i = 0; i < g->n_values; i++)
    g->values[i]->flags &= ~(uint32_t)(FR_V_TRAINABLE | FR_V_GRAD | FR_V_STATE);
  for (int k = 0; k < g->n_nodes; k++) g->nodes[k]->trainable = false;

  /* 1. Nodes downstream of the --train-from names. */
  for (int t = 0; t < o->n_train_from && st == FR_OK; t++) {
    const char *name = o->train_from[t];
    fr_value *v = fr_graph_find(g, name);
    if (v && v->graph == g) {
      down[v->id] = 1;
      continue;
    }
    int k;
    for (k = 0; k < g->n_nodes; k++)
      if (!strcmp(g->nodes[k]->name, name)) break;
    if (k == g->n_nodes) {
      st = unknown_name(g, name);
      break;
    }
    down_node[k] = 1;
  }
  for (int k = 0; k < g->n_nodes && st == FR_OK; k++) {
    fr_node *n = g->nodes[k];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && n->in[i]->id < nv && down[n->in[i]->id]) down_node[k] = 1;
    if (down_node[k] && n->op != FR_OP_CONSTANT)
      for (int i = 0; i < n->n_out; i++)
        if (n->out[i]) down[n->out[i]->id] = 1;
  }
  /* 2. Parameters used only by downstream nodes are trainable; scalars
   * (rank 0: the 3 and 6 of a HardSwish written as Add, Clip, Div) are
   * constants of formulas, not weights (a rule may still name them). */
  for (int i = 0; i < g->n_values && st == FR_OK && o->n_train_from; i++) {
    fr_value *v = g->values[i];
    if (!is_trainable_param(v) || param_rank(v) == 0) continue;
    int users = 0, inside = 0;
    for (int k = 0; k < g->n_nodes; k++)
      for (int j = 0; j < g->nodes[k]->n_in; j++)
        if (g->nodes[k]->in[j] == v) {
          users++;
          inside += down_node[k] && !(v->producer == g->nodes[k]);
        }
    if (users && users == inside) v->flags |= FR_V_TRAINABLE;
  }
  /* 3. Name rules, in order. */
  for (int r = 0; r < o->n_rules && st == FR_OK; r++) {
    regex_t re;
    if (regcomp(&re, o->rules[r].regex, REG_EXTENDED | REG_NOSUB) != 0) {
      st = fr_err(FR_ERR_USAGE, "bad regular expression '%s'", o->rules[r].regex);
      break;
    }
    o->matched[r] = 0;
    for (int i = 0; i < g->n_values; i++) {
      fr_value *v = g->values[i];
      if (!is_trainable_param(v) || regexec(&re, v->name, 0, NULL, 0) != 0)
        continue;
      o->matched[r]++;
      if (o->rules[r].trainable) v->flags |= FR_V_TRAINABLE;
      else v->flags &= ~FR_V_TRAINABLE;
    }
    regfree(&re);
  }
  /* The running mean and variance of BatchNormalization (inputs 3 and 4)
   * are statistics, not parameters (PyTorch's buffers): frozen whatever
   * the options say. */
  for (int k = 0; k < g->n_nodes && st == FR_OK; k++) {
    fr_node *n = g->nodes[k];
    if (n->op != FR_OP_BATCH_NORMALIZATION) continue;
    for (int i = 3; i < 5 && i < n->n_in; i++) {
      fr_value *v = n->in[i];
      /* An exporter that merges equal tensors may hand a statistic over as
       * Identity(a parameter): torch.onnx exports a fresh BatchNorm2d's
       * running_var as Identity(weight), both all ones. The statistic gets
       * its own frozen copy, so training the parameter leaves it alone. */
      while (v && v->producer && v->producer->op == FR_OP_IDENTITY)
        v = v->producer->in[0];
      if (v && v != n->in[i] && (v->flags & FR_V_CONST) && v->t.data) {
        char name[512];
        snprintf(name, sizeof name, "%s.statistic", n->in[i]->name);
        fr_value *c = fr_graph_add_init(g, name, &v->t);
        if (!c) {
          st = fr_err_nomem(n);
          break;
        }
        n->in[i] = c;
      }
      if (n->in[i] && is_param(n->in[i]))
        n->in[i]->flags &= ~(uint32_t)FR_V_TRAINABLE;
    }
    bool learns = (n->in[1] && (n->in[1]->flags & FR_V_TRAINABLE)) ||
                  (n->in[2] && (n->in[2]->flags & FR_V_TRAINABLE));
    /* (an initializer, or a Constant node's output: paddle2onnx's) */
    for (int i = 3; ((o->bn_train && learns) || o->bn_adapt) && i < 5 && i < n->n_in; i++)
      if (n->in[i] && is_trainable_param(n->in[i]))
        n->in[i]->flags |= FR_V_STATE;
  }
  /* 4. Trainable parameters, and everything computed from one, need a
   * gradient. */
  for (int i = 0; i < g->n_values && st == FR_OK; i++)
    if (g->values[i]->flags & FR_V_TRAINABLE) g->values[i]->flags |= FR_V_GRAD;
  for (int k = 0; k < g->n_nodes && st == FR_OK; k++) {
    fr_node *n = g->nodes[k];
    if (n->op == FR_OP_CONSTANT) {
      n->trainable = n->out[0] && (n->out[0]->flags & FR_V_TRAINABLE);
      continue;
    }
    /* Shape and Size read only their input's shape: integers no gradient
     * flows through, which the fold pass folds (a Reshape's target) */
    if (n->op == FR_OP_SHAPE || n->op == FR_OP_SIZE) continue;
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] && (n->in[i]->flags & FR_V_GRAD)) n->trainable = true;
    if (n->trainable)
      for (int i = 0; i < n->n_out; i++)
        if (n->out[i]) n->out[i]->flags |= FR_V_GRAD;
  }
  fr_free(down);
  fr_free(down_node);
  return st;
}

void fr_freeze_warn(const fr_freeze_opts *o, FILE *f) {
  for (int r = 0; r < o->n_rules; r++)
    if (!o->matched[r] && strncmp(o->rules[r].regex, "^frost\\.", 8))
      fprintf(f, "frost: warning: --%s '%s' names no floating-point "
              "parameter\n", o->rules[r].trainable ? "trainable" : "frozen",
              o->rules[r].regex);
}

fr_status fr_pass_freeze(fr_model *m, const fr_pipeline_opts *o) {
  if (!o->freeze) return FR_OK;
  return fr_freeze_apply(m, o->freeze);
}

static void count(fr_param_count *c, const fr_value *v, const fr_tensor *t) {
  int64_t n = fr_tensor_numel(t), b = (int64_t)fr_tensor_nbytes(t);
  if (v->flags & FR_V_TRAINABLE) {
    c->trainable += n;
    c->trainable_bytes += b;
  } else {
    c->frozen += n;
    c->frozen_bytes += b;
  }
}

void fr_freeze_count(const fr_model *m, fr_param_count *c) {
  memset(c, 0, sizeof *c);
  const fr_graph *g = m->graph;
  for (int i = 0; i < g->n_inits; i++) count(c, g->inits[i], &g->inits[i]->t);
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    if (n->op == FR_OP_CONSTANT && n->out[0] && n->n_attr == 1 &&
        n->attrs[0].type == FR_ATTR_TENSOR)
      count(c, n->out[0], n->attrs[0].t);
  }
}
