/* export.c: a trained model back to ONNX. The output is the original model
 * file with the trained weights written back and, when training appended a
 * head, that head appended, so the model's opset, names, metadata and
 * symbolic dimensions (the batch) stay as they were (--ssl's projection
 * head, frost.proj.*, is not written: the model keeps its outputs);
 * BatchNormalization stays in inference form (training never changes
 * forward nodes).
 *
 * A compiled artifact writes the same file without protobuf-c: frost packs
 * the exported model once (fr_onnx_export_mem) and records where each
 * weight's raw_data lies in those bytes (fr_onnx_raw_offsets, a walk over
 * the wire format); the artifact copies the bytes and overwrites those
 * ranges with its current weights.
 *
 * Every allocation goes through the allocator the importer unpacks with
 * (fr_pb_allocator: fr_malloc), so the message is freed as one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "onnx.h"
#include "onnx.pb-c.h"

static void *pb_new(size_t size) { return fr_calloc(1, size); }

/* Appends p to the array *arr of *n pointers. */
static bool push(void ***arr, size_t *n, void *p) {
  void **na = fr_realloc(*arr, sizeof(void *) * (*n + 1));
  if (!na) return false;
  na[(*n)++] = p;
  *arr = na;
  return true;
}

/* A float tensor proto named name holding t's data (raw little-endian). */
static Onnx__TensorProto *tensor_proto(const char *name, const fr_tensor *t) {
  Onnx__TensorProto *p = pb_new(sizeof *p);
  if (!p) return NULL;
  onnx__tensor_proto__init(p);
  p->name = fr_strdup(name);
  p->dims = fr_malloc(sizeof(int64_t) * (size_t)(t->rank + 1));
  size_t nb = fr_tensor_nbytes(t);
  p->raw_data.data = fr_malloc(nb + 1);
  if (!p->name || !p->dims || !p->raw_data.data) {
    onnx__tensor_proto__free_unpacked(p, fr_pb_allocator());
    return NULL;
  }
  p->n_dims = (size_t)t->rank;
  for (int i = 0; i < t->rank; i++) p->dims[i] = t->dims[i];
  p->has_data_type = true;
  p->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  p->has_raw_data = true;
  p->raw_data.len = nb;
  if (nb) memcpy(p->raw_data.data, t->data, nb);
  return p;
}

/* Replaces the data of initializer p by t's (same shape, float). */
static fr_status write_back(Onnx__TensorProto *p, const fr_tensor *t) {
  size_t nb = fr_tensor_nbytes(t);
  if (p->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
      p->n_external_data || t->dtype != FR_F32)
    return fr_err(FR_ERR_UNSUPPORTED, "initializer '%s': only float "
                  "parameters stored in the file are written back", p->name);
  uint8_t *d = fr_malloc(nb + 1);
  if (!d) return fr_err_nomem(NULL);
  if (nb) memcpy(d, t->data, nb);
  fr_free(p->float_data);
  p->float_data = NULL;
  p->n_float_data = 0;
  fr_free(p->raw_data.data);
  p->raw_data.data = d;
  p->raw_data.len = nb;
  p->has_raw_data = true;
  return FR_OK;
}

static Onnx__AttributeProto *attr_int(const char *name, int64_t v) {
  Onnx__AttributeProto *a = pb_new(sizeof *a);
  if (!a) return NULL;
  onnx__attribute_proto__init(a);
  a->name = fr_strdup(name);
  a->has_type = true;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a->has_i = true;
  a->i = v;
  if (!a->name) {
    fr_free(a);
    return NULL;
  }
  return a;
}

/* Appends node op(inputs) -> out to g, with the int attribute
 * attr_name = v unless attr_name is NULL. */
static fr_status add_node(Onnx__GraphProto *g, const char *op,
                          const char *const *in, int n_in, const char *out,
                          const char *attr_name, int64_t v) {
  Onnx__NodeProto *n = pb_new(sizeof *n);
  if (!n) return fr_err_nomem(NULL);
  onnx__node_proto__init(n);
  Onnx__AttributeProto *attr = attr_name ? attr_int(attr_name, v) : NULL;
  bool ok = push((void ***)&g->node, &g->n_node, n) && (attr || !attr_name);
  n->op_type = fr_strdup(op);
  n->name = fr_strdup(out);
  n->input = fr_calloc((size_t)n_in + 1, sizeof(char *));
  n->output = fr_calloc(2, sizeof(char *));
  ok = ok && n->op_type && n->name && n->input && n->output;
  for (int i = 0; ok && i < n_in; i++) ok = (n->input[n->n_input++] = fr_strdup(in[i])) != NULL;
  if (ok) ok = (n->output[n->n_output++] = fr_strdup(out)) != NULL;
  if (ok && attr) ok = push((void ***)&n->attribute, &n->n_attribute, attr);
  if (!ok) {
    if (g->n_node && g->node[g->n_node - 1] == n) g->n_node--;
    if (attr && !(n->n_attribute && n->attribute[n->n_attribute - 1] == attr))
      onnx__attribute_proto__free_unpacked(attr, fr_pb_allocator());
    onnx__node_proto__free_unpacked(n, fr_pb_allocator());
    return fr_err_nomem(NULL);
  }
  return FR_OK;
}

/* Appends the graph output name, float [batch, width], the batch dim
 * copied from the first input's. */
static fr_status add_output(Onnx__GraphProto *g, const char *name,
                            int64_t width) {
  Onnx__ValueInfoProto *v = pb_new(sizeof *v);
  Onnx__TypeProto *tp = pb_new(sizeof *tp);
  Onnx__TypeProto__Tensor *tt = pb_new(sizeof *tt);
  Onnx__TensorShapeProto *sh = pb_new(sizeof *sh);
  Onnx__TensorShapeProto__Dimension *d0 = pb_new(sizeof *d0), *d1 = pb_new(sizeof *d1);
  Onnx__TensorShapeProto__Dimension **dims = fr_calloc(2, sizeof *dims);
  if (!v || !tp || !tt || !sh || !d0 || !d1 || !dims) {
    fr_free(v), fr_free(tp), fr_free(tt), fr_free(sh), fr_free(d0), fr_free(d1);
    fr_free(dims);
    return fr_err_nomem(NULL);
  }
  onnx__value_info_proto__init(v);
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(sh);
  onnx__tensor_shape_proto__dimension__init(d0);
  onnx__tensor_shape_proto__dimension__init(d1);
  v->name = fr_strdup(name);
  v->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = true;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = sh;
  sh->dim = dims;
  sh->n_dim = 2;
  dims[0] = d0;
  dims[1] = d1;
  d1->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  d1->dim_value = width;
  /* The batch: the first input's first dim (a name or a number). */
  const Onnx__TensorShapeProto *in0 = NULL;
  for (size_t i = 0; i < g->n_input && !in0; i++) {
    bool init = false;
    for (size_t k = 0; k < g->n_initializer; k++)
      if (!strcmp(g->initializer[k]->name, g->input[i]->name)) init = true;
    const Onnx__TypeProto *t = g->input[i]->type;
    if (!init && t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
        t->tensor_type->shape && t->tensor_type->shape->n_dim)
      in0 = t->tensor_type->shape;
  }
  const Onnx__TensorShapeProto__Dimension *b = in0 ? in0->dim[0] : NULL;
  if (b && b->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
    d0->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0->dim_param = fr_strdup(b->dim_param);
  } else if (b && b->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
    d0->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d0->dim_value = b->dim_value;
  }
  if (!v->name || (d0->value_case ==
                        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                    !d0->dim_param)) {
    onnx__value_info_proto__free_unpacked(v, fr_pb_allocator());
    return fr_err_nomem(NULL);
  }
  if (!push((void ***)&g->output, &g->n_output, v)) {
    onnx__value_info_proto__free_unpacked(v, fr_pb_allocator());
    return fr_err_nomem(NULL);
  }
  return FR_OK;
}

/* A name no value of g has: base, else base.1, base.2... */
static void fresh_name(const Onnx__GraphProto *g, const char *base, char *out,
                       size_t n) {
  snprintf(out, n, "%s", base);
  for (int k = 1; k < 1000; k++) {
    bool taken = false;
    for (size_t i = 0; i < g->n_node && !taken; i++)
      for (size_t j = 0; j < g->node[i]->n_output; j++)
        if (!strcmp(g->node[i]->output[j], out)) taken = true;
    for (size_t i = 0; i < g->n_input && !taken; i++)
      if (!strcmp(g->input[i]->name, out)) taken = true;
    if (!taken) return;
    snprintf(out, n, "%s.%d", base, k);
  }
}

/* Appends the head prefix<l>.weight|bias of m after the flattened value
 * `flat`, its output named out (unless taken), and makes it a graph
 * output. */
static fr_status append_head(Onnx__GraphProto *g, const fr_model *m,
                             const char *flat, const char *prefix, const char *out) {
  char x[256], name[256];
  snprintf(x, sizeof x, "%s", flat);
  int64_t width = 0;
  for (int l = 0;; l++) {
    char wn[256], bn[256];
    snprintf(wn, sizeof wn, "%s%d.weight", prefix, l);
    snprintf(bn, sizeof bn, "%s%d.bias", prefix, l);
    const fr_value *w = fr_graph_find(m->graph, wn), *b = fr_graph_find(m->graph, bn);
    if (!w || !b) break;
    const fr_value *next = fr_graph_find(m->graph, (snprintf(wn, sizeof wn, "%s%d.weight", prefix, l + 1), wn));
    Onnx__TensorProto *tw = tensor_proto(w->name, &w->t), *tb = tensor_proto(b->name, &b->t);
    if (!tw || !tb || !push((void ***)&g->initializer, &g->n_initializer, tw)) {
      if (tw) onnx__tensor_proto__free_unpacked(tw, fr_pb_allocator());
      if (tb) onnx__tensor_proto__free_unpacked(tb, fr_pb_allocator());
      return fr_err_nomem(NULL);
    }
    if (!push((void ***)&g->initializer, &g->n_initializer, tb)) {
      onnx__tensor_proto__free_unpacked(tb, fr_pb_allocator());
      return fr_err_nomem(NULL);
    }
    fresh_name(g, next ? "frost.head.gemm" : out, name, sizeof name);
    FR_TRY(add_node(g, "Gemm", (const char *[]){x, w->name, b->name}, 3, name,
                    "transB", 1));
    width = w->t.dims[0];
    snprintf(x, sizeof x, "%s", name);
    if (next) {
      fresh_name(g, "frost.head.relu", name, sizeof name);
      FR_TRY(add_node(g, "Relu", (const char *[]){x}, 1, name, NULL, 0));
      snprintf(x, sizeof x, "%s", name);
    }
  }
  if (!width) return fr_err(FR_ERR_INVALID, "the model has no head to export");
  return add_output(g, x, width);
}

/* The heads of m after value `from`, in place of the graph's outputs: the
 * head frost.head.<l>.* (output "logits"), or several named heads
 * frost.head.NAME.<l>.* in the order of their parameters, each output
 * named NAME. */
static fr_status append_heads(Onnx__GraphProto *g, const fr_model *m,
                              const char *from) {
  char flat[256];
  fresh_name(g, "frost.head.flatten", flat, sizeof flat);
  FR_TRY(add_node(g, "Flatten", (const char *[]){from}, 1, flat, "axis", 1));
  for (size_t i = 0; i < g->n_output; i++)
    onnx__value_info_proto__free_unpacked(g->output[i], fr_pb_allocator());
  g->n_output = 0;
  if (fr_graph_find(m->graph, "frost.head.0.weight"))
    return append_head(g, m, flat, "frost.head.", "logits");
  const fr_graph *fg = m->graph;
  for (int i = 0; i < fg->n_inits; i++) {
    const char *nm = fg->inits[i]->name, *rest = nm + 11;
    size_t n = strlen(nm);
    if (strncmp(nm, "frost.head.", 11) || n < 11 + 10 ||
        strcmp(nm + n - 9, ".0.weight") || memchr(rest, '.', n - 11 - 9))
      continue;
    char name[128], prefix[160];
    snprintf(name, sizeof name, "%.*s", (int)(n - 11 - 9), rest);
    snprintf(prefix, sizeof prefix, "frost.head.%s.", name);
    FR_TRY(append_head(g, m, flat, prefix, name));
    if (strcmp(g->output[g->n_output - 1]->name, name))
      return fr_err(FR_ERR_INVALID, "the head '%s': the model has a value of that "
                    "name already", name);
  }
  if (!g->n_output) return fr_err(FR_ERR_INVALID, "the model has no head to export");
  return FR_OK;
}

static fr_status write_file(const char *path, const uint8_t *buf, size_t len) {
  FR_TRY(fr_file_check_target(path));
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
    return fr_err(FR_ERR_IO, "%s: path too long", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) return fr_err(FR_ERR_IO, "%s: cannot create (%s)", path, strerror(errno));
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, buf + done, len - done);
    if (w <= 0) break;
    done += (size_t)w;
  }
  bool ok = done == len && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    remove(tmp);
    return fr_err(FR_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
  }
  return FR_OK;
}

fr_status fr_onnx_export_mem(const char *orig, const fr_model *m,
                             const char *cut, uint8_t **buf, size_t *len) {
  *buf = NULL;
  *len = 0;
  uint8_t *ib = NULL;
  size_t ilen = 0;
  FR_TRY(fr_read_file(orig, &ib, &ilen));
  unsigned long failures = fr_pb_alloc_failures();
  Onnx__ModelProto *mp = onnx__model_proto__unpack(fr_pb_allocator(), ilen, ib);
  fr_free(ib);
  if (!mp && fr_pb_alloc_failures() != failures)
    return fr_err(FR_ERR_NOMEM, "%s: out of memory decoding the model", orig);
  if (!mp || !mp->graph) {
    if (mp) onnx__model_proto__free_unpacked(mp, fr_pb_allocator());
    return fr_err(FR_ERR_PARSE, "%s: not an ONNX model", orig);
  }
  Onnx__GraphProto *g = mp->graph;
  fr_status st = FR_OK;
  /* A model frost exported before has its head already: it is written
   * back like the other weights, not appended again. */
  bool has_head = false;
  for (size_t k = 0; k < g->n_initializer; k++)
    if (!strncmp(g->initializer[k]->name, "frost.head.", 11)) has_head = true;
  /* The trained weights, by name. */
  const fr_graph *fg = m->graph;
  for (int i = 0; i < fg->n_inits && st == FR_OK; i++) {
    const fr_value *v = fg->inits[i];
    if (!(v->flags & FR_V_WRITABLE) || (!has_head && !strncmp(v->name, "frost.head.", 11)) ||
        !strncmp(v->name, "frost.proj.", 11)) /* --ssl's projection: dropped */
      continue;
    Onnx__TensorProto *tp = NULL;
    for (size_t k = 0; !tp && k < g->n_initializer; k++)
      if (!strcmp(g->initializer[k]->name, v->name)) tp = g->initializer[k];
    /* or the value of a Constant node (exporters such as paddle2onnx write
     * weights so); fr_onnx_raw_offsets finds the same tensor */
    for (size_t k = 0; !tp && k < g->n_node; k++) {
      const Onnx__NodeProto *nd = g->node[k];
      if (strcmp(nd->op_type, "Constant") || nd->n_output != 1 ||
          strcmp(nd->output[0], v->name))
        continue;
      for (size_t a = 0; a < nd->n_attribute; a++)
        if (!strcmp(nd->attribute[a]->name, "value") && nd->attribute[a]->t)
          tp = nd->attribute[a]->t;
    }
    if (!tp) {
      st = fr_err(FR_ERR_UNSUPPORTED, "%s: the trained parameter '%s' is "
                  "neither an initializer nor a Constant of the model", orig,
                  v->name);
      break;
    }
    st = write_back(tp, &v->t);
  }
  /* The heads: after the cut value, or after the model's first output. */
  bool heads = false;
  for (int i = 0; i < fg->n_inits && !heads; i++)
    heads = !strncmp(fg->inits[i]->name, "frost.head.", 11);
  if (st == FR_OK && !has_head && heads) {
    char from[512];
    snprintf(from, sizeof from, "%s", cut ? cut : g->n_output ? g->output[0]->name : "");
    st = from[0] ? append_heads(g, m, from)
                 : fr_err(FR_ERR_INVALID, "%s has no output", orig);
  }
  if (st == FR_OK) {
    size_t n = onnx__model_proto__get_packed_size(mp);
    uint8_t *ob = fr_malloc(n + 1);
    if (!ob) st = fr_err_nomem(NULL);
    else {
      onnx__model_proto__pack(mp, ob);
      *buf = ob;
      *len = n;
    }
  }
  onnx__model_proto__free_unpacked(mp, fr_pb_allocator());
  return st;
}

fr_status fr_onnx_export(const char *orig, const fr_model *m,
                         const char *cut, const char *out) {
  uint8_t *buf = NULL;
  size_t len = 0;
  FR_TRY(fr_onnx_export_mem(orig, m, cut, &buf, &len));
  fr_status st = write_file(out, buf, len);
  fr_free(buf);
  return st;
}

/* ---- Where the weights are in a packed model -------------------------
 * The fields read (onnx.proto numbers; all others are skipped by length):
 *   ModelProto.graph 7 > GraphProto.initializer 5 > TensorProto
 *                      > GraphProto.node 1 > NodeProto.attribute 5
 *                                        > AttributeProto.t 5 > TensorProto
 *   TensorProto.name 8, raw_data 9; NodeProto.output 2, op_type 4;
 *   AttributeProto.name 1.
 * Where a field that is not repeated comes twice the last one counts, as
 * protobuf reads it. */

enum {
  W_MODEL_GRAPH = 7,
  W_GRAPH_NODE = 1,
  W_GRAPH_INITIALIZER = 5,
  W_NODE_OUTPUT = 2,
  W_NODE_OP_TYPE = 4,
  W_NODE_ATTRIBUTE = 5,
  W_ATTR_NAME = 1,
  W_ATTR_T = 5,
  W_TENSOR_NAME = 8,
  W_TENSOR_RAW_DATA = 9,
};

/* Whether the bytes of w spell the string s. */
static bool wire_is(fr_wire w, const char *s) {
  size_t n = strlen(s);
  return (size_t)(w.end - w.p) == n && (n == 0 || !memcmp(w.p, s, n));
}

/* The last length-delimited field num of message w, if any (*found). */
static fr_status wire_last(fr_wire w, uint32_t num, fr_wire *out,
                           bool *found) {
  *found = false;
  while (w.p < w.end) {
    fr_wire_field f;
    FR_TRY(fr_wire_next(&w, &f));
    if (f.num == num && f.type == 2) {
      *out = f.sub;
      *found = true;
    }
  }
  return FR_OK;
}

/* Sets offsets[i], sizes[i] from tensor message t for every names[i] equal
 * to name not yet found (offsets[i] < 0). */
static fr_status place(const uint8_t *buf, fr_wire t, fr_wire name,
                       const char *const *names, int n, int64_t *offsets,
                       int64_t *sizes) {
  bool want = false;
  for (int i = 0; i < n && !want; i++)
    want = offsets[i] < 0 && wire_is(name, names[i]);
  if (!want) return FR_OK;
  fr_wire raw;
  bool has_raw;
  FR_TRY(wire_last(t, W_TENSOR_RAW_DATA, &raw, &has_raw));
  for (int i = 0; i < n; i++) {
    if (offsets[i] >= 0 || !wire_is(name, names[i])) continue;
    if (!has_raw)
      return fr_err(FR_ERR_UNSUPPORTED, "the parameter '%s' is not stored "
                    "as raw_data in the model", names[i]);
    offsets[i] = raw.p - buf;
    sizes[i] = raw.end - raw.p;
  }
  return FR_OK;
}

/* One graph's initializers (constants false) or Constant nodes (true). */
static fr_status scan_graph(const uint8_t *buf, fr_wire g, bool constants,
                            const char *const *names, int n,
                            int64_t *offsets, int64_t *sizes) {
  while (g.p < g.end) {
    fr_wire_field f;
    FR_TRY(fr_wire_next(&g, &f));
    if (f.type != 2) continue;
    if (!constants && f.num == W_GRAPH_INITIALIZER) {
      fr_wire name = {0};
      bool named;
      FR_TRY(wire_last(f.sub, W_TENSOR_NAME, &name, &named));
      FR_TRY(place(buf, f.sub, name, names, n, offsets, sizes));
    } else if (constants && f.num == W_GRAPH_NODE) {
      /* A Constant with one output: that output names its "value". */
      fr_wire nd = f.sub, out = {0}, op = {0};
      int n_out = 0;
      while (nd.p < nd.end) {
        fr_wire_field nf;
        FR_TRY(fr_wire_next(&nd, &nf));
        if (nf.type != 2) continue;
        if (nf.num == W_NODE_OUTPUT && n_out++ == 0) out = nf.sub;
        if (nf.num == W_NODE_OP_TYPE) op = nf.sub;
      }
      if (n_out != 1 || !wire_is(op, "Constant")) continue;
      fr_wire t = {0};
      bool has_t = false;
      for (nd = f.sub; nd.p < nd.end;) {
        fr_wire_field nf;
        FR_TRY(fr_wire_next(&nd, &nf));
        if (nf.num != W_NODE_ATTRIBUTE || nf.type != 2) continue;
        fr_wire an = {0}, at;
        bool named, found;
        FR_TRY(wire_last(nf.sub, W_ATTR_NAME, &an, &named));
        FR_TRY(wire_last(nf.sub, W_ATTR_T, &at, &found));
        if (found && wire_is(an, "value")) t = at, has_t = true;
      }
      if (has_t) FR_TRY(place(buf, t, out, names, n, offsets, sizes));
    }
  }
  return FR_OK;
}

fr_status fr_onnx_raw_offsets(const uint8_t *buf, size_t len,
                              const char *const *names, int n,
                              int64_t *offsets, int64_t *sizes) {
  for (int i = 0; i < n; i++) offsets[i] = sizes[i] = -1;
  /* Initializers first, then Constant nodes, as fr_onnx_export looks. */
  for (int pass = 0; pass < 2; pass++) {
    fr_wire w = {buf, buf + len};
    while (w.p < w.end) {
      fr_wire_field f;
      FR_TRY(fr_wire_next(&w, &f));
      if (f.num == W_MODEL_GRAPH && f.type == 2)
        FR_TRY(scan_graph(buf, f.sub, pass == 1, names, n, offsets, sizes));
    }
  }
  for (int i = 0; i < n; i++)
    if (offsets[i] < 0)
      return fr_err(FR_ERR_INVALID, "the parameter '%s' is neither an "
                    "initializer nor a Constant of the model", names[i]);
  return FR_OK;
}
