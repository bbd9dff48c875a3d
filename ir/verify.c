/* verify.c: structural invariants of a graph, checked after import and after
 * every pass: known ops with valid arities, required inputs present, every
 * operand defined before its use, each value produced once, outputs
 * defined, attributes listed for the op (attrs.def) with their types. */
#include <string.h>

#include "ir.h"

static const char *type_name(int t) {
  static const char *const names[] = {
      "undefined", "a float",   "an int",     "a string",
      "a tensor",  "a graph",   "floats",     "ints",
      "strings",   "tensors",   "graphs",     "a sparse tensor",
      "sparse tensors", "a type"};
  return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t]
                                                             : "unknown";
}

/* Each attribute of n must be one its op lists in attrs.def, with the type
 * listed there. Op code reads attributes with fr_attr_int and its
 * siblings, which fall back to the default on a wrong type: checking here
 * turns a model giving, say, Conv's strides as a float into an error
 * instead of a silently different model. */
static fr_status check_attrs(const fr_node *n) {
  int count;
  const fr_attr_info *ai = fr_op_attrs(n->op, &count);
  for (int i = 0; i < n->n_attr; i++) {
    const fr_attr *a = &n->attrs[i];
    const fr_attr_info *want = NULL;
    bool fits = false;
    for (int j = 0; j < count && !fits; j++) {
      if (strcmp(fr_attr_names[ai[j].id], a->name)) continue;
      if (!want) want = &ai[j];
      fits = fr_attr_fits(&ai[j], a);
    }
    if (!want)
      return fr_err_node(FR_ERR_INVALID, n, "unknown attribute '%s'", a->name);
    if (!fits)
      return fr_err_node(FR_ERR_INVALID, n, "attribute '%s' is %s, expected %s",
                         a->name, type_name(a->type), type_name(want->type));
  }
  return FR_OK;
}

/* A value is available at node k of g when it is an input, an initializer,
 * from an enclosing graph, or produced by an earlier node of g. */
static bool available(const fr_graph *g, const fr_value *v, int k) {
  if (v->graph != g) {
    for (const fr_graph *p = g->parent; p; p = p->parent)
      if (v->graph == p) return true;
    return false;
  }
  if (!v->producer) return (v->flags & (FR_V_INPUT | FR_V_CONST)) != 0;
  return v->producer->graph == g && v->producer->index < k;
}

fr_status fr_graph_verify(const fr_graph *g) {
  for (int k = 0; k < g->n_nodes; k++) {
    const fr_node *n = g->nodes[k];
    if (n->index != k)
      return fr_err_node(FR_ERR_INVALID, n, "node index out of sync");
    if (n->op < 0 || n->op >= FR_OP_COUNT)
      return fr_err_node(FR_ERR_UNSUPPORTED, n, "unknown operator");
    const fr_op_info *op = &fr_ops[n->op];
    if (n->n_in < op->in_min || (op->in_max >= 0 && n->n_in > op->in_max))
      return fr_err_node(FR_ERR_INVALID, n, "has %d inputs, expects %d to %d",
                         n->n_in, op->in_min, op->in_max);
    if (n->n_out < op->out_min || n->n_out > op->out_max)
      return fr_err_node(FR_ERR_INVALID, n,
                         "has %d outputs, expects %d to %d", n->n_out,
                         op->out_min, op->out_max);
    for (int i = 0; i < n->n_in; i++) {
      const fr_value *v = n->in[i];
      /* The first in_min inputs are required: an empty name ("") there
       * would reach the op's code as NULL. Loop's M and cond and Scan-8's
       * sequence_lens are the optional inputs listed before required ones. */
      if (!v && i < op->in_min && n->op != FR_OP_LOOP && n->op != FR_OP_SCAN)
        return fr_err_node(FR_ERR_INVALID, n,
                           "input %d is required but omitted", i);
      if (!v) continue;
      if (!available(g, v, k))
        return fr_err_node(FR_ERR_INVALID, n,
                           "input '%s' is used before it is defined "
                           "(a cycle or an undefined value)",
                           v->name);
    }
    for (int i = 0; i < n->n_out; i++) {
      const fr_value *v = n->out[i];
      /* Likewise the first out_min outputs (ONNX counts only required
       * outputs there: all of LSTM's are optional, its out_min is 0). */
      if (!v && i < op->out_min)
        return fr_err_node(FR_ERR_INVALID, n,
                           "output %d is required but omitted", i);
      if (!v) continue;
      if (v->producer != n)
        return fr_err_node(FR_ERR_INVALID, n,
                           "output '%s' is produced more than once", v->name);
    }
    FR_TRY(check_attrs(n));
    for (int i = 0; i < n->n_attr; i++) {
      const fr_attr *a = &n->attrs[i];
      if (a->type == FR_ATTR_GRAPH && a->g) FR_TRY(fr_graph_verify(a->g));
      if (a->type == FR_ATTR_GRAPHS)
        for (int j = 0; j < a->n; j++) FR_TRY(fr_graph_verify(a->graphs[j]));
    }
  }
  for (int i = 0; i < g->n_outputs; i++) {
    const fr_value *v = g->outputs[i];
    if (!available(g, v, g->n_nodes))
      return fr_err(FR_ERR_INVALID, "graph output '%s' is never defined",
                    v->name);
    for (int j = 0; j < i; j++)
      if (g->parent == NULL && g->outputs[j] == v)
        return fr_err(FR_ERR_INVALID, "graph output '%s' is listed twice",
                      v->name);
  }
  return FR_OK;
}
