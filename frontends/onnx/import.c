/* import.c: ONNX ModelProto (protobuf-c) to frost's IR.
 *
 * Validation happens here, so passes can trust the graph: every operand is
 * defined, every op is known for its opset, tensors are consistent with their
 * shapes. Errors read "node 'NAME' (Op): reason"; fr_onnx_load prefixes the
 * file name. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"
#include "onnx.pb-c.h"

enum { MAX_DEPTH = FR_ONNX_MAX_SUBGRAPH_DEPTH }; /* subgraph nesting */

typedef struct loader {
  fr_model *m;
  const fr_onnx_opts *o;
  const char *dir; /* model folder, for external data */
  int64_t bytes;   /* tensor bytes so far */
  /* Unsupported ops, all reported at once: distinct op types and counts. */
  const fr_node *unsupported[32];
  int unsupported_count[32];
  int n_unsupported_types, n_unsupported;
} loader;

fr_status fr_parse_dims(const char *s, int *rank, int64_t *dims) {
  int r = 0;
  if (!*s) {
    *rank = 0;
    return FR_OK;
  }
  for (;;) {
    char *end;
    if (*s < '0' || *s > '9')
      return fr_err(FR_ERR_USAGE, "bad dimensions '%s' (expected e.g. 1x3x224x224)", s);
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE)
      return fr_err(FR_ERR_USAGE, "dimension '%.*s' is too large",
                    (int)(end - s), s);
    if (r == FR_MAX_RANK)
      return fr_err(FR_ERR_USAGE, "more than %d dimensions", FR_MAX_RANK);
    dims[r++] = v;
    if (*end == 0) break;
    if (*end != 'x' && *end != 'X' && *end != ',')
      return fr_err(FR_ERR_USAGE, "bad dimensions near '%s'", end);
    s = end + 1;
  }
  *rank = r;
  return FR_OK;
}

static char *dup(loader *L, const char *s) {
  return fr_arena_strdup(&L->m->arena, s ? s : "");
}

/* Decodes a tensor of the model. Its size is checked against the limit
 * before its data is allocated or read. */
static fr_status tensor(loader *L, const Onnx__TensorProto *tp, fr_tensor *t) {
  size_t nbytes;
  FR_TRY(fr_onnx_tensor_nbytes(tp, &nbytes));
  if (L->o->max_bytes && (uint64_t)nbytes > (uint64_t)(L->o->max_bytes - L->bytes))
    return fr_err(FR_ERR_NOMEM,
                  "tensor '%s' (%zu bytes) takes the model's tensors past the "
                  "memory limit of %lld bytes (raise it with --max-memory)",
                  tp->name ? tp->name : "", nbytes,
                  (long long)L->o->max_bytes);
  FR_TRY(fr_onnx_tensor(tp, &L->m->arena, L->dir, t));
  L->bytes += (int64_t)nbytes;
  return FR_OK;
}

/* Type of a value from a TypeProto: dtype and shape (symbolic dims fixed by
 * overrides or set to 1, with a note, in the main graph). */
static fr_status value_type(loader *L, const Onnx__TypeProto *tp,
                            fr_value *v, bool is_main_input) {
  if (!tp) return FR_OK;
  const Onnx__TypeProto *el = tp;
  v->t.kind = FR_KIND_TENSOR;
  if (tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
    v->t.kind = FR_KIND_SEQUENCE;
    el = tp->sequence_type ? tp->sequence_type->elem_type : NULL;
  } else if (tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE) {
    v->t.kind = FR_KIND_OPTIONAL;
    el = tp->optional_type ? tp->optional_type->elem_type : NULL;
    if (el && el->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE)
      el = el->sequence_type ? el->sequence_type->elem_type : NULL;
  } else if (tp->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE ||
             tp->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE) {
    return fr_err(FR_ERR_UNSUPPORTED, "value '%s' has a map or sparse type",
                  v->name);
  }
  if (!el || el->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
      !el->tensor_type)
    return FR_OK;
  const Onnx__TypeProto__Tensor *tt = el->tensor_type;
  if (tt->elem_type < 0 || tt->elem_type >= FR_DTYPE_COUNT)
    return fr_err(FR_ERR_UNSUPPORTED, "value '%s' has data type %d", v->name,
                  (int)tt->elem_type);
  v->t.dtype = (fr_dtype)tt->elem_type;
  if (v->t.kind != FR_KIND_TENSOR) return FR_OK;
  const fr_shape_override *ov = NULL;
  for (int i = 0; is_main_input && i < L->o->n_shapes; i++)
    if (!strcmp(L->o->shapes[i].name, v->name)) ov = &L->o->shapes[i];
  if (!tt->shape || (ov && ov->replace)) { /* the override gives it */
    if (ov) fr_set_shape(&v->t, v->t.dtype, ov->rank, ov->dims);
    return FR_OK;
  }
  const Onnx__TensorShapeProto *sh = tt->shape;
  if (sh->n_dim > FR_MAX_RANK)
    return fr_err(FR_ERR_UNSUPPORTED, "value '%s' has rank %zu (max %d)",
                  v->name, sh->n_dim, FR_MAX_RANK);
  if (ov) {
    char who[512];
    if (ov->origin)
      snprintf(who, sizeof who, "input '%.200s' from %.250s", v->name,
               ov->origin);
    else
      snprintf(who, sizeof who, "--shape %.200s", v->name);
    if (ov->rank != (int)sh->n_dim)
      return fr_err(FR_ERR_SHAPE,
                    "%s has %d dimensions, the model's input has %zu", who,
                    ov->rank, sh->n_dim);
    v->t.rank = ov->rank;
    for (int i = 0; i < ov->rank; i++) {
      const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
      if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
          d->dim_value != ov->dims[i] && d->dim_value > 0)
        return fr_err(FR_ERR_SHAPE,
                      "%s: dimension %d is %lld in the model, not %lld", who,
                      i, (long long)d->dim_value, (long long)ov->dims[i]);
      v->t.dims[i] = ov->dims[i];
    }
    return FR_OK;
  }
  bool unknown = false;
  /* Symbolic dims of a main input are taken as 1: one note per input, and
   * a --shape template for errors that may follow (fr_model.shape_hint). */
  char idx[128] = "", names[512] = "", tmpl[512] = "";
  int n_sym = 0;
  for (size_t i = 0; i < sh->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
        d->dim_value >= 0) {
      v->t.dims[i] = d->dim_value;
      if (is_main_input)
        snprintf(tmpl + strlen(tmpl), sizeof tmpl - strlen(tmpl), "%s%lld",
                 i ? "x" : "", (long long)d->dim_value);
    } else {
      const char *sym =
          d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                  d->dim_param && *d->dim_param
              ? d->dim_param
              : NULL;
      if (!is_main_input) unknown = true;
      if (is_main_input) {
        snprintf(idx + strlen(idx), sizeof idx - strlen(idx), "%s%zu",
                 n_sym ? ", " : "", i);
        if (sym)
          snprintf(names + strlen(names), sizeof names - strlen(names),
                   "%s'%.60s'", n_sym ? ", " : "", sym);
        else
          snprintf(names + strlen(names), sizeof names - strlen(names),
                   "%sunnamed", n_sym ? ", " : "");
        /* In the template: <name> when short and plain, else ?. */
        bool plain = sym && strlen(sym) <= 16;
        for (const char *q = sym; plain && *q; q++)
          plain = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                  (*q >= '0' && *q <= '9') || *q == '_';
        snprintf(tmpl + strlen(tmpl), sizeof tmpl - strlen(tmpl), "%s%s%s%s",
                 i ? "x" : "", plain ? "<" : "", plain ? sym : "?",
                 plain ? ">" : "");
        n_sym++;
      }
      v->t.dims[i] = 1;
    }
  }
  if (n_sym && L->o->static_shapes)
    return fr_err(FR_ERR_USAGE,
                  "input '%.100s' %s %s (%s) %s not fixed by the model: give "
                  "--shape %.100s=%s",
                  v->name, n_sym > 1 ? "dims" : "dim", idx, names,
                  n_sym > 1 ? "are" : "is", v->name, tmpl);
  if (n_sym) {
    char hint[768], note[1024];
    snprintf(hint, sizeof hint, "%s%s--shape %.100s=%s",
             L->m->shape_hint ? L->m->shape_hint : "",
             L->m->shape_hint ? " " : "", v->name, tmpl);
    L->m->shape_hint = dup(L, hint);
    if (!L->m->shape_hint) return fr_err_nomem(NULL);
    if (!L->o->quiet) {
      snprintf(note, sizeof note,
               "frost: note: input '%.100s' %s %s %s symbolic (%s): taken as "
               "1; give --shape %.100s=%s\n",
               v->name, n_sym > 1 ? "dims" : "dim", idx,
               n_sym > 1 ? "are" : "is", names, v->name, tmpl);
      size_t len = (L->m->notes ? strlen(L->m->notes) : 0) + strlen(note) + 1;
      char *all = fr_arena_alloc(&L->m->arena, len);
      if (!all) return fr_err_nomem(NULL);
      snprintf(all, len, "%s%s", L->m->notes ? L->m->notes : "", note);
      L->m->notes = all;
    }
  }
  v->t.rank = unknown ? -1 : (int)sh->n_dim;
  /* A graph input is allocated when the model runs: its size must be a
   * number (the product of its dims fits in 64 bits). */
  int64_t numel;
  if (is_main_input && fr_shape_numel(v->t.rank, v->t.dims, &numel) != FR_OK)
    return fr_err(FR_ERR_INVALID, "input '%s': %s", v->name, fr_err_msg());
  return FR_OK;
}

static fr_status graph(loader *L, const Onnx__GraphProto *gp, fr_graph *parent,
                       int depth, fr_graph **out);

static fr_status attribute(loader *L, fr_node *n, const Onnx__AttributeProto *ap,
                           fr_attr *a, int depth) {
  fr_arena *ar = &L->m->arena;
  fr_status st;
  a->name = dup(L, ap->name);
  if (!a->name) return fr_err_nomem(NULL);
  int type = ap->type;
  if (!ap->has_type || type == 0) { /* very old models: guess from content */
    if (ap->g) type = FR_ATTR_GRAPH;
    else if (ap->t) type = FR_ATTR_TENSOR;
    else if (ap->n_ints) type = FR_ATTR_INTS;
    else if (ap->n_floats) type = FR_ATTR_FLOATS;
    else if (ap->n_strings) type = FR_ATTR_STRINGS;
    else if (ap->has_s) type = FR_ATTR_STRING;
    else if (ap->has_f) type = FR_ATTR_FLOAT;
    else type = FR_ATTR_INT;
  }
  if (ap->ref_attr_name && ap->ref_attr_name[0])
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "attribute '%s' refers to a function attribute",
                       a->name);
  a->type = (fr_attr_type)type;
  switch (type) {
  case FR_ATTR_FLOAT: a->f = ap->f; break;
  case FR_ATTR_INT: a->i = ap->i; break;
  case FR_ATTR_STRING: {
    char *s = fr_arena_alloc(ar, ap->s.len + 1);
    if (!s) return fr_err_nomem(NULL);
    if (ap->s.len) memcpy(s, ap->s.data, ap->s.len);
    a->s = s;
    a->slen = ap->s.len;
    break;
  }
  case FR_ATTR_TENSOR:
    if (!ap->t)
      return fr_err_node(FR_ERR_INVALID, n, "attribute '%s' has no tensor",
                         a->name);
    a->t = fr_arena_alloc(ar, sizeof(fr_tensor));
    if (!a->t) return fr_err_nomem(NULL);
    /* The tensor's own status: out of memory is not an invalid model. */
    if ((st = tensor(L, ap->t, a->t)) != FR_OK)
      return fr_err_node(st, n, "attribute '%s': %s", a->name, fr_err_msg());
    break;
  case FR_ATTR_GRAPH:
    if (!ap->g)
      return fr_err_node(FR_ERR_INVALID, n, "attribute '%s' has no graph",
                         a->name);
    FR_TRY(graph(L, ap->g, n->graph, depth + 1, &a->g));
    break;
  case FR_ATTR_FLOATS:
    a->n = (int)ap->n_floats;
    a->floats = fr_arena_alloc(ar, sizeof(float) * ap->n_floats);
    if (!a->floats) return fr_err_nomem(NULL);
    /* An empty list has no array (NULL): memcpy must not see it. */
    if (ap->n_floats)
      memcpy(a->floats, ap->floats, sizeof(float) * ap->n_floats);
    break;
  case FR_ATTR_INTS:
    a->n = (int)ap->n_ints;
    a->ints = fr_arena_alloc(ar, sizeof(int64_t) * ap->n_ints);
    if (!a->ints) return fr_err_nomem(NULL);
    if (ap->n_ints) memcpy(a->ints, ap->ints, sizeof(int64_t) * ap->n_ints);
    break;
  case FR_ATTR_STRINGS:
    a->n = (int)ap->n_strings;
    a->strings = fr_arena_alloc(ar, sizeof(char *) * ap->n_strings);
    if (!a->strings) return fr_err_nomem(NULL);
    for (size_t i = 0; i < ap->n_strings; i++) {
      char *s = fr_arena_alloc(ar, ap->strings[i].len + 1);
      if (!s) return fr_err_nomem(NULL);
      if (ap->strings[i].len) memcpy(s, ap->strings[i].data, ap->strings[i].len);
      a->strings[i] = s;
    }
    break;
  case FR_ATTR_TENSORS:
    a->n = (int)ap->n_tensors;
    a->tensors = fr_arena_alloc(ar, sizeof(fr_tensor *) * ap->n_tensors);
    if (!a->tensors) return fr_err_nomem(NULL);
    for (size_t i = 0; i < ap->n_tensors; i++) {
      a->tensors[i] = fr_arena_alloc(ar, sizeof(fr_tensor));
      if (!a->tensors[i]) return fr_err_nomem(NULL);
      if ((st = tensor(L, ap->tensors[i], a->tensors[i])) != FR_OK)
        return fr_err_node(st, n, "attribute '%s': %s", a->name, fr_err_msg());
    }
    break;
  case FR_ATTR_TYPE_PROTO: {
    if (!ap->tp)
      return fr_err_node(FR_ERR_INVALID, n, "attribute '%s' has no type",
                         a->name);
    fr_value tmp = {.name = a->name, .t = {.rank = -1}};
    FR_TRY(value_type(L, ap->tp, &tmp, false));
    a->t = fr_arena_alloc(ar, sizeof(fr_tensor));
    if (!a->t) return fr_err_nomem(NULL);
    *a->t = tmp.t;
    break;
  }
  case FR_ATTR_GRAPHS:
    a->n = (int)ap->n_graphs;
    a->graphs = fr_arena_alloc(ar, sizeof(fr_graph *) * ap->n_graphs);
    if (!a->graphs) return fr_err_nomem(NULL);
    for (size_t i = 0; i < ap->n_graphs; i++)
      FR_TRY(graph(L, ap->graphs[i], n->graph, depth + 1, &a->graphs[i]));
    break;
  default:
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "attribute '%s' has unsupported type %d", a->name, type);
  }
  return FR_OK;
}

static fr_status push(fr_arena *a, fr_value ***arr, int *n, fr_value *v) {
  fr_value **na = fr_arena_alloc(a, sizeof(fr_value *) * (size_t)(*n + 1));
  if (!na) return fr_err_nomem(NULL);
  if (*n) memcpy(na, *arr, sizeof(fr_value *) * (size_t)*n);
  na[(*n)++] = v;
  *arr = na;
  return FR_OK;
}

/* Finds a value defined in g itself (not in enclosing graphs). */
static fr_value *find_local(fr_graph *g, const char *name) {
  for (int i = g->n_values - 1; i >= 0; i--)
    if (!strcmp(g->values[i]->name, name)) return g->values[i];
  return NULL;
}

static fr_status node(loader *L, fr_graph *g, const Onnx__NodeProto *np,
                      int depth) {
  if (!np->op_type || !np->op_type[0])
    return fr_err(FR_ERR_INVALID, "node '%s' has no op_type",
                  np->name ? np->name : "");
  fr_node *n = fr_node_new(g, np->name, np->op_type, np->domain,
                           (int)np->n_input, (int)np->n_output,
                           (int)np->n_attribute);
  if (!n) return fr_err_nomem(NULL);
  for (size_t i = 0; i < np->n_output; i++) {
    const char *name = np->output[i];
    if (!name || !name[0]) continue; /* omitted optional output */
    fr_value *v = find_local(g, name);
    if (v && (v->producer || (v->flags & (FR_V_INPUT | FR_V_CONST))))
      return fr_err_node(FR_ERR_INVALID, n,
                         "output '%s' is already defined elsewhere", name);
    if (!v) v = fr_value_new(g, name);
    if (!v) return fr_err_nomem(NULL);
    v->producer = n;
    n->out[i] = v;
  }
  for (size_t i = 0; i < np->n_attribute; i++)
    FR_TRY(attribute(L, n, np->attribute[i], &n->attrs[i], depth));
  n->opset = fr_model_opset(L->m, n->domain);
  n->op = fr_op_lookup(n->domain, n->op_type);
  if (n->op == FR_OP_COUNT) {
    L->n_unsupported++;
    int k;
    for (k = 0; k < L->n_unsupported_types; k++)
      if (!strcmp(L->unsupported[k]->op_type, n->op_type) &&
          !strcmp(L->unsupported[k]->domain, n->domain))
        break;
    if (k == L->n_unsupported_types && k < 32) {
      L->unsupported[k] = n;
      L->n_unsupported_types++;
    }
    if (k < 32) L->unsupported_count[k]++;
    return FR_OK;
  }
  const fr_op_info *op = &fr_ops[n->op];
  if (n->opset == 0 && !fr_domain_is_onnx(n->domain))
    return fr_err_node(FR_ERR_INVALID, n, "domain '%s' is not imported",
                       n->domain);
  if (n->opset < op->since || n->opset > op->last)
    return fr_err_node(FR_ERR_UNSUPPORTED, n,
                       "opset %d is not supported (supported: %d to %d)",
                       n->opset, op->since, op->last);
  if ((int)np->n_input < op->in_min ||
      (op->in_max >= 0 && (int)np->n_input > op->in_max))
    return fr_err_node(FR_ERR_INVALID, n, "has %zu inputs, expects %d to %d",
                       np->n_input, op->in_min, op->in_max);
  if ((int)np->n_output < op->out_min || (int)np->n_output > op->out_max)
    return fr_err_node(FR_ERR_INVALID, n, "has %zu outputs, expects %d to %d",
                       np->n_output, op->out_min, op->out_max);
  return FR_OK;
}

/* Resolves node inputs once every value of g exists. */
static fr_status link_inputs(fr_graph *g, const Onnx__GraphProto *gp) {
  for (int k = 0; k < g->n_nodes; k++) {
    fr_node *n = g->nodes[k];
    const Onnx__NodeProto *np = gp->node[k];
    for (size_t i = 0; i < np->n_input; i++) {
      const char *name = np->input[i];
      if (!name || !name[0]) continue;
      fr_value *v = fr_graph_find(g, name);
      if (!v)
        return fr_err_node(FR_ERR_INVALID, n, "input '%s' is not defined",
                           name);
      n->in[i] = v;
    }
  }
  return FR_OK;
}

static fr_status graph(loader *L, const Onnx__GraphProto *gp, fr_graph *parent,
                       int depth, fr_graph **out) {
  if (depth > MAX_DEPTH)
    return fr_err(FR_ERR_UNSUPPORTED, "subgraphs nested deeper than %d",
                  MAX_DEPTH);
  fr_arena *ar = &L->m->arena;
  fr_graph *g = fr_graph_new(L->m, parent, gp->name);
  if (!g) return fr_err_nomem(NULL);
  if (gp->n_sparse_initializer)
    return fr_err(FR_ERR_UNSUPPORTED, "graph '%s' has sparse initializers",
                  g->name);
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    if (!tp->name || !tp->name[0])
      return fr_err(FR_ERR_INVALID, "an initializer has no name");
    if (find_local(g, tp->name))
      return fr_err(FR_ERR_INVALID, "initializer '%s' is defined twice",
                    tp->name);
    fr_value *v = fr_value_new(g, tp->name);
    if (!v) return fr_err_nomem(NULL);
    FR_TRY(tensor(L, tp, &v->t));
    v->flags |= FR_V_CONST;
    FR_TRY(push(ar, &g->inits, &g->n_inits, v));
  }
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    if (!vi->name || !vi->name[0])
      return fr_err(FR_ERR_INVALID, "a graph input has no name");
    fr_value *v = find_local(g, vi->name);
    if (v && !(v->flags & FR_V_CONST))
      return fr_err(FR_ERR_INVALID, "input '%s' is declared twice", vi->name);
    if (v) continue; /* an initializer listed as input: stays a constant */
    v = fr_value_new(g, vi->name);
    if (!v) return fr_err_nomem(NULL);
    v->flags |= FR_V_INPUT;
    FR_TRY(value_type(L, vi->type, v, parent == NULL));
    FR_TRY(push(ar, &g->inputs, &g->n_inputs, v));
  }
  for (size_t i = 0; i < gp->n_node; i++) FR_TRY(node(L, g, gp->node[i], depth));
  FR_TRY(link_inputs(g, gp));
  for (size_t i = 0; i < gp->n_value_info; i++) {
    const Onnx__ValueInfoProto *vi = gp->value_info[i];
    fr_value *v = vi->name ? find_local(g, vi->name) : NULL;
    if (v && !(v->flags & (FR_V_INPUT | FR_V_CONST)))
      FR_TRY(value_type(L, vi->type, v, false));
  }
  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    fr_value *v = vi->name ? fr_graph_find(g, vi->name) : NULL;
    if (!v)
      return fr_err(FR_ERR_INVALID, "graph output '%s' is not defined",
                    vi->name ? vi->name : "");
    if (v->producer && v->t.dtype == FR_UNDEFINED)
      FR_TRY(value_type(L, vi->type, v, false));
    v->flags |= FR_V_OUTPUT;
    FR_TRY(push(ar, &g->outputs, &g->n_outputs, v));
  }
  *out = g;
  return FR_OK;
}

/* The bytes of a ModelProto to protobuf-c's structures. */
static fr_status unpack(const uint8_t *buf, size_t len, const char *path,
                        Onnx__ModelProto **mp) {
  /* protobuf-c recurses once per nested message: refuse deep nesting
   * first, without recursion (a thousand-deep subgraph must not overflow the
   * stack). */
  fr_status st = fr_pb_check_depth(&onnx__model_proto__descriptor, buf, len,
                                   FR_PB_MAX_DEPTH);
  if (st == FR_ERR_UNSUPPORTED) {
    fr_err_prefix(path);
    return st;
  }
  unsigned long failures = fr_pb_alloc_failures();
  *mp = st == FR_OK ? onnx__model_proto__unpack(fr_pb_allocator(), len, buf)
                    : NULL;
  if (!*mp && fr_pb_alloc_failures() != failures)
    return fr_err(FR_ERR_NOMEM,
                  "%s: out of memory decoding the model (memory limit %zu "
                  "bytes; raise it with --max-memory)",
                  path, fr_mem_limit());
  if (!*mp)
    return fr_err(FR_ERR_PARSE,
                  "%s: not a valid ONNX model (protobuf decoding failed: "
                  "truncated or corrupt file)",
                  path);
  return FR_OK;
}

/* protobuf-c's ModelProto to a verified model; frees mp. */
static fr_status import(Onnx__ModelProto *mp, const char *path,
                        const char *dir, const fr_onnx_opts *o,
                        fr_model **out) {
  static const fr_onnx_opts dflt;
  if (!o) o = &dflt;
  fr_status st = FR_OK;
  loader L = {.o = o, .dir = dir};
  L.m = fr_model_new();
  if (!L.m) {
    onnx__model_proto__free_unpacked(mp, fr_pb_allocator());
    return fr_err_nomem(NULL);
  }
  fr_model *m = L.m;
  m->path = dup(&L, path);
  m->producer = dup(&L, mp->producer_name);
  m->ir_version = mp->ir_version;
  m->n_opsets = (int)mp->n_opset_import;
  m->opsets = fr_arena_alloc(&m->arena, sizeof(fr_opset) * (mp->n_opset_import + 1));
  if (!m->path || !m->producer || !m->opsets) st = fr_err_nomem(NULL);
  for (size_t i = 0; st == FR_OK && i < mp->n_opset_import; i++) {
    m->opsets[i].domain = dup(&L, mp->opset_import[i]->domain);
    m->opsets[i].version = (int)mp->opset_import[i]->version;
    if (!m->opsets[i].domain) st = fr_err_nomem(NULL);
  }
  if (st == FR_OK && m->n_opsets == 0) {
    /* IR version 1-2 models have no opset_import: opset 1 is implied. */
    m->n_opsets = 1;
    m->opsets[0].domain = "";
    m->opsets[0].version = 1;
  }
  if (st == FR_OK && !mp->graph)
    st = fr_err(FR_ERR_INVALID, "the model has no graph");
  if (st == FR_OK) st = graph(&L, mp->graph, NULL, 0, &m->graph);
  if (st == FR_OK && L.n_unsupported) {
    char all[1024] = "";
    size_t k = 0;
    for (int i = 0; i < L.n_unsupported_types && k + 200 < sizeof all; i++) {
      const fr_node *u = L.unsupported[i];
      k += (size_t)snprintf(all + k, sizeof all - k, "%s%s%s%s x%d",
                            i ? ", " : "", fr_domain_is_onnx(u->domain) ? "" : u->domain,
                            fr_domain_is_onnx(u->domain) ? "" : ".", u->op_type,
                            L.unsupported_count[i]);
    }
    st = fr_err_node(FR_ERR_UNSUPPORTED, L.unsupported[0],
                     "unsupported operator; %d unsupported nodes in all: %s",
                     L.n_unsupported, all);
  }
  if (st == FR_OK) st = fr_graph_verify(m->graph);
  onnx__model_proto__free_unpacked(mp, fr_pb_allocator());
  if (st != FR_OK) {
    fr_err_prefix(path);
    fr_model_free(m);
    return st;
  }
  *out = m;
  return FR_OK;
}

fr_status fr_onnx_load_mem(const uint8_t *buf, size_t len, const char *path,
                           const char *dir, const fr_onnx_opts *o,
                           fr_model **out) {
  *out = NULL;
  Onnx__ModelProto *mp;
  FR_TRY(unpack(buf, len, path, &mp));
  return import(mp, path, dir, o, out);
}

fr_status fr_onnx_load(const char *path, const fr_onnx_opts *o,
                       fr_model **out) {
  *out = NULL;
  uint8_t *buf;
  size_t len;
  FR_TRY(fr_read_file(path, &buf, &len));
  Onnx__ModelProto *mp;
  fr_status st = unpack(buf, len, path, &mp);
  fr_free(buf); /* protobuf-c copied what it needs */
  if (st != FR_OK) return st;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  return import(mp, path, dirname(dir), o, out);
}
