/* verify.c: structural invariants of a graph, checked after import and after
 * every pass: known ops with valid arities, required inputs present, every
 * operand defined before its use, each value produced once, outputs
 * defined, attributes of the types the ONNX spec gives them. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* The types ONNX gives its attributes, by name (a name has the same type in
 * every operator of the default domain, but for the few listed with two).
 * Op code reads attributes with fr_attr_* accessors, which fall back to the
 * default on a wrong type: checking here turns a model giving, say, Conv's
 * strides as a float into an error instead of a silently different model.
 * Names not listed are not checked. */
enum {
  F = 1 << FR_ATTR_FLOAT, I = 1 << FR_ATTR_INT, S = 1 << FR_ATTR_STRING,
  T = 1 << FR_ATTR_TENSOR, G = 1 << FR_ATTR_GRAPH, FS = 1 << FR_ATTR_FLOATS,
  IS = 1 << FR_ATTR_INTS, SS = 1 << FR_ATTR_STRINGS,
  TS = 1 << FR_ATTR_TENSORS, GS = 1 << FR_ATTR_GRAPHS, SP = 1 << 11,
  TP = 1 << FR_ATTR_TYPE_PROTO,
};

typedef struct attr_type {
  const char *name;
  unsigned types;
} attr_type;

static const attr_type attr_types[] = { /* sorted by name */
    {"activation_alpha", FS}, {"activation_beta", FS}, {"activations", SS},
    {"align_corners", I}, {"allowzero", I}, {"alpha", F}, {"antialias", I},
    {"auto_pad", S}, {"axes", IS}, {"axis", I}, {"batch_axis", I},
    {"batch_dims", I}, {"beta", F}, {"bias", F}, {"block_size", I},
    {"blocksize", I}, {"body", G}, {"broadcast", I},
    {"case_change_action", S}, {"ceil_mode", I}, {"center_point_box", I},
    {"clip", F}, {"consumed_inputs", IS},
    {"coordinate_transformation_mode", S}, {"count_include_pad", I},
    {"cubic_coeff_a", F}, {"detect_negative", I}, {"detect_positive", I},
    {"dilations", IS}, {"direction", S}, {"directions", IS}, {"dtype", I},
    {"else_branch", G}, {"end", I}, {"ends", IS}, {"epsilon", F},
    {"equation", S}, {"exclude_outside", I}, {"exclusive", I},
    {"extrapolation_value", F}, {"fmod", I}, {"gamma", F}, {"group", I},
    {"height_scale", F}, {"hidden_size", I}, {"high", F}, {"ignore_index", I},
    {"input_forget", I}, {"inverse", I}, {"is_case_sensitive", I},
    {"is_test", I}, {"k", I}, {"keep_aspect_ratio_policy", S},
    {"keepdims", I}, {"kernel_shape", IS}, {"lambd", F}, {"largest", I},
    {"layout", I}, {"linear_before_reset", I}, {"locale", S}, {"low", F},
    {"max", F}, {"max_gram_length", I}, {"max_skip_count", I}, {"mean", F},
    {"min", F}, {"min_gram_length", I}, {"mode", S}, {"momentum", F},
    {"nearest_mode", S}, {"new_axis", I}, {"ngram_counts", IS},
    {"ngram_indexes", IS}, {"noop_with_empty_axes", I}, {"num_outputs", I},
    {"num_scan_inputs", I}, {"onesided", I}, {"output_datatype", I},
    {"output_dtype", I}, {"output_height", I}, {"output_padding", IS},
    {"output_sequence", I}, {"output_shape", IS}, {"output_width", I},
    {"p", F | I}, {"padding_mode", S}, {"paddings", IS}, {"pads", IS},
    {"periodic", I}, {"perm", IS}, {"pool_int64s", IS}, {"pool_strings", SS},
    {"pooled_shape", IS}, {"ratio", F}, {"reduction", S}, {"reverse", I},
    {"sample_size", I}, {"sampling_ratio", I}, {"saturate", I}, {"scale", F},
    {"scales", FS}, {"scan_input_axes", IS}, {"scan_input_directions", IS},
    {"scan_output_axes", IS}, {"scan_output_directions", IS}, {"seed", F | I},
    {"select_last_index", I}, {"shape", IS}, {"size", I}, {"sorted", I},
    {"sparse_value", SP}, {"spatial", I}, {"spatial_scale", F}, {"split", IS},
    {"start", I}, {"starts", IS}, {"stash_type", I}, {"stopwords", SS},
    {"storage_order", I}, {"strides", IS}, {"then_branch", G},
    {"time_axis", I}, {"to", I | S}, {"training_mode", I}, {"transA", I},
    {"transB", I}, {"type", TP}, {"upper", I}, {"value", F | T},
    {"value_float", F}, {"value_floats", FS}, {"value_int", I},
    {"value_ints", IS}, {"value_string", S}, {"value_strings", SS},
    {"weights", FS}, {"width_scale", F},
};

static int cmp_attr(const void *a, const void *b) {
  return strcmp(((const attr_type *)a)->name, ((const attr_type *)b)->name);
}

static const char *type_name(int t) {
  static const char *const names[] = {
      "undefined", "a float",   "an int",     "a string",
      "a tensor",  "a graph",   "floats",     "ints",
      "strings",   "tensors",   "graphs",     "a sparse tensor",
      "sparse tensors", "a type"};
  return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t]
                                                             : "unknown";
}

static fr_status check_attrs(const fr_node *n) {
  if (!fr_domain_is_onnx(n->domain)) return FR_OK;
  for (int i = 0; i < n->n_attr; i++) {
    const fr_attr *a = &n->attrs[i];
    attr_type key = {a->name, 0};
    const attr_type *at = bsearch(&key, attr_types,
                                  sizeof attr_types / sizeof attr_types[0],
                                  sizeof attr_types[0], cmp_attr);
    if (!at) continue;
    unsigned ok = at->types;
    if (ok & F) ok |= I; /* fr_attr_float reads an int too */
    /* Models of IR version 1-2 carry no attribute types: an empty list
     * there is guessed to be the int 0. */
    if ((ok & (FS | IS | SS)) && a->type == FR_ATTR_INT && a->i == 0) continue;
    if (a->type < 0 || a->type > 13 || !(ok & (1u << a->type))) {
      int want = 0;
      while (!(at->types & (1u << want))) want++;
      return fr_err_node(FR_ERR_INVALID, n, "attribute '%s' is %s, expected %s",
                         a->name, type_name(a->type), type_name(want));
    }
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
