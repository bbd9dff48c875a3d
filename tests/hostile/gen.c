/* gen.c: writes the hostile inputs of tests/hostile (bad models built with
 * protobuf-c, bad .npy and .pb files, a Unix socket), the models of the
 * fuzzers' findings (fuzz-load/, fuzz-run/) and the seed corpora of the fuzz
 * targets (fuzz-npy/, fuzz-pb/, fuzz-value_pb/, fuzz-text/, fuzz-opt/) into
 * a folder, at build time: nothing of it is committed, so every input is
 * documented by the code that made it. ctest (hostile.gen) checks that two
 * runs write the same files.
 *
 *   frost_hostile_gen DIR
 *
 * A test tool, not part of frost: everything it builds lives in one static
 * pool (no heap, so nothing to free and nothing leaked). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"

static const char *dir;

/* ---- a small builder over protobuf-c's structures --------------------- */

static void *zalloc(size_t n) {
  static _Alignas(16) unsigned char pool[64 << 20];
  static size_t used;
  n = (n + 15) & ~(size_t)15;
  if (n > sizeof pool - used) abort();
  void *p = pool + used;
  used += n;
  return p; /* zero: the pool is static and never reused */
}

/* Appends p to a protobuf-c repeated field (array of pointers). */
#define PUSH(arr, n, p)                                                     \
  do {                                                                      \
    void *na_ = zalloc(sizeof *(arr) * ((n) + 1));                          \
    if (n) memcpy(na_, (arr), sizeof *(arr) * (n));                         \
    (arr) = na_;                                                            \
    (arr)[(n)++] = (p);                                                     \
  } while (0)

#define LIST(...) (const char *[]){__VA_ARGS__}, \
    (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))
#define NONE NULL, 0
#define DIMS(...) (int64_t[]){__VA_ARGS__}, \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

static Onnx__GraphProto *graph_new(const char *name) {
  Onnx__GraphProto *g = zalloc(sizeof *g);
  onnx__graph_proto__init(g);
  g->name = (char *)name;
  return g;
}

static Onnx__ModelProto *model_new(int opset) {
  Onnx__ModelProto *m = zalloc(sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = 8;
  m->producer_name = "frost hostile-input generator";
  Onnx__OperatorSetIdProto *o = zalloc(sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = "";
  o->has_version = 1;
  o->version = opset;
  PUSH(m->opset_import, m->n_opset_import, o);
  m->graph = graph_new("g");
  return m;
}

static Onnx__TypeProto *tensor_type(int dtype, const int64_t *dims, int rank) {
  Onnx__TypeProto *t = zalloc(sizeof *t);
  onnx__type_proto__init(t);
  Onnx__TypeProto__Tensor *tt = zalloc(sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = dtype;
  if (rank >= 0) {
    Onnx__TensorShapeProto *sh = zalloc(sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i < rank; i++) {
      Onnx__TensorShapeProto__Dimension *d = zalloc(sizeof *d);
      onnx__tensor_shape_proto__dimension__init(d);
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
      PUSH(sh->dim, sh->n_dim, d);
    }
    tt->shape = sh;
  }
  t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tensor_type = tt;
  return t;
}

static Onnx__ValueInfoProto *value_info(const char *name, Onnx__TypeProto *t) {
  Onnx__ValueInfoProto *v = zalloc(sizeof *v);
  onnx__value_info_proto__init(v);
  v->name = (char *)name;
  v->type = t;
  return v;
}

static void input(Onnx__GraphProto *g, const char *name, int dtype,
                  const int64_t *dims, int rank) {
  PUSH(g->input, g->n_input, value_info(name, tensor_type(dtype, dims, rank)));
}

static void output(Onnx__GraphProto *g, const char *name) {
  PUSH(g->output, g->n_output, value_info(name, NULL));
}

static Onnx__NodeProto *node(Onnx__GraphProto *g, const char *op,
                             const char *name, const char **in, int n_in,
                             const char **out, int n_out) {
  Onnx__NodeProto *n = zalloc(sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)name;
  for (int i = 0; i < n_in; i++) PUSH(n->input, n->n_input, (char *)in[i]);
  for (int i = 0; i < n_out; i++) PUSH(n->output, n->n_output, (char *)out[i]);
  PUSH(g->node, g->n_node, n);
  return n;
}

static Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name,
                                  int type) {
  Onnx__AttributeProto *a = zalloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_type = 1;
  a->type = type;
  PUSH(n->attribute, n->n_attribute, a);
  return a;
}

static void attr_int(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}

static void attr_float(Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
}

static void attr_str(Onnx__NodeProto *n, const char *name, const char *v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.data = (uint8_t *)v;
  a->s.len = strlen(v);
}

static void attr_ints(Onnx__NodeProto *n, const char *name, int64_t *v,
                      int count) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = (size_t)count;
  a->ints = v;
}

static void attr_graph(Onnx__NodeProto *n, const char *name,
                       Onnx__GraphProto *g) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = g;
}

/* A tensor with raw data (len bytes of data, or none when data is NULL). */
static Onnx__TensorProto *tensor(const char *name, int dtype, int64_t *dims,
                                 int rank, const void *data, size_t len) {
  Onnx__TensorProto *t = zalloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = 1;
  t->data_type = dtype;
  t->n_dims = (size_t)rank;
  t->dims = dims;
  if (data) {
    t->has_raw_data = 1;
    t->raw_data.data = (uint8_t *)data;
    t->raw_data.len = len;
  }
  return t;
}

static Onnx__TensorProto *init(Onnx__GraphProto *g, Onnx__TensorProto *t) {
  PUSH(g->initializer, g->n_initializer, t);
  return t;
}

/* An external-data initializer: key/value pairs of external_data. */
static Onnx__TensorProto *external(Onnx__TensorProto *t, int n, ...) {
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    Onnx__StringStringEntryProto *e = zalloc(sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = va_arg(ap, char *);
    e->value = va_arg(ap, char *);
    PUSH(t->external_data, t->n_external_data, e);
  }
  va_end(ap);
  return t;
}

/* ---- writers -------------------------------------------------------- */

static void write_bytes(const char *file, const void *data, size_t len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "wb");
  if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
    fprintf(stderr, "gen: cannot write %s\n", path);
    exit(1);
  }
}

/* A Unix socket at DIR/file, left behind when gen exits: a path that names
 * no file. Bound from inside DIR, since a socket's path is at most 107
 * bytes. */
static void write_socket(const char *file) {
  int cwd = open(".", O_RDONLY | O_DIRECTORY);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", file);
  if (cwd < 0 || s < 0 || chdir(dir) != 0 || (unlink(file) != 0 && errno != ENOENT) ||
      bind(s, (const struct sockaddr *)&a, sizeof a) != 0 || fchdir(cwd) != 0) {
    fprintf(stderr, "gen: cannot make the socket %s/%s\n", dir, file);
    exit(1);
  }
  close(s);
  close(cwd);
}

static uint8_t *pack_model(const Onnx__ModelProto *m, size_t *len) {
  *len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = zalloc(*len);
  onnx__model_proto__pack(m, buf);
  return buf;
}

static void write_model(const char *file, const Onnx__ModelProto *m) {
  size_t len;
  uint8_t *buf = pack_model(m, &len);
  write_bytes(file, buf, len);
}

static void write_tensor_pb(const char *file, const Onnx__TensorProto *t) {
  size_t len = onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = zalloc(len);
  onnx__tensor_proto__pack(t, buf);
  write_bytes(file, buf, len);
}

/* A .npy file: magic, version, header (padded to 64 bytes), data. */
static void write_npy(const char *file, int version, const char *header,
                      const void *data, size_t len) {
  uint8_t buf[4096];
  size_t h = strlen(header), pre = version == 1 ? 10 : 12;
  size_t pad = (64 - (pre + h + 1) % 64) % 64;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (uint8_t)version;
  buf[7] = 0;
  size_t hl = h + pad + 1;
  buf[8] = (uint8_t)hl;
  buf[9] = (uint8_t)(hl >> 8);
  if (version != 1) buf[10] = buf[11] = 0;
  memcpy(buf + pre, header, h);
  memset(buf + pre + h, ' ', pad);
  buf[pre + h + pad] = '\n';
  size_t n = pre + hl;
  if (n + len > sizeof buf) abort();
  if (len) memcpy(buf + n, data, len);
  write_bytes(file, buf, n + len);
}

/* ---- models --------------------------------------------------------- */

/* y = Relu(x), x f32[3,4,5]: the valid base of many cases (the shape of the
 * ONNX test data's test_relu, so its inputs fit). */
static Onnx__ModelProto *relu(void) {
  Onnx__ModelProto *m = model_new(13);
  input(m->graph, "x", 1, DIMS(3, 4, 5));
  node(m->graph, "Relu", "relu", LIST("x"), LIST("y"));
  output(m->graph, "y");
  return m;
}

/* y = Add(x, w) with the initializer w: the base of the tensor cases. */
static Onnx__ModelProto *add_init(Onnx__TensorProto *w) {
  Onnx__ModelProto *m = model_new(13);
  input(m->graph, "x", 1, DIMS(4));
  init(m->graph, w);
  node(m->graph, "Add", "add", LIST("x", "w"), LIST("y"));
  output(m->graph, "y");
  return m;
}

static int64_t *dims_of(int n, ...) {
  int64_t *d = zalloc(sizeof *d * (size_t)(n ? n : 1));
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) d[i] = va_arg(ap, int64_t);
  va_end(ap);
  return d;
}

static const float FOUR[4] = {1, 2, 3, 4};

/* Subgraphs nested depth deep: If nodes whose then branch holds the next If
 * and whose else branch outputs a constant (as the innermost branches do). */
static Onnx__GraphProto *nested(int depth) {
  Onnx__GraphProto *g = graph_new("branch");
  if (depth == 0) {
    Onnx__NodeProto *c = node(g, "Constant", "c", NONE, LIST("r"));
    Onnx__AttributeProto *a = attr(c, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = tensor("", 1, NULL, 0, FOUR, 4);
  } else {
    Onnx__NodeProto *n = node(g, "If", "if", LIST("cond"), LIST("r"));
    attr_graph(n, "then_branch", nested(depth - 1));
    attr_graph(n, "else_branch", nested(0));
  }
  output(g, "r");
  return g;
}

static Onnx__ModelProto *nested_model(int depth) {
  Onnx__ModelProto *m = model_new(13);
  input(m->graph, "cond", 9, NULL, 0);
  Onnx__NodeProto *n = node(m->graph, "If", "top", LIST("cond"), LIST("y"));
  attr_graph(n, "then_branch", nested(depth - 1));
  attr_graph(n, "else_branch", nested(0));
  output(m->graph, "y");
  return m;
}

static void models(void) {
  Onnx__ModelProto *m;
  size_t len;
  uint8_t *buf;

  /* files that are not models */
  write_bytes("empty.onnx", "", 0);
  buf = pack_model(relu(), &len);
  write_bytes("truncated.onnx", buf, len / 2);
  write_bytes("truncated-1.onnx", buf, len - 1);
  uint8_t junk[2048];
  uint32_t r = 12345;
  for (size_t i = 0; i < sizeof junk; i++) {
    r = r * 1103515245 + 12345;
    junk[i] = (uint8_t)(r >> 16);
  }
  write_bytes("garbage.onnx", junk, sizeof junk);
  const char *text = "ir_version: 8\ngraph { node { op_type: \"Relu\" } }\n";
  write_bytes("text.onnx", text, strlen(text));
  /* a field of length 2^62: past the end of any file */
  const uint8_t huge_len[] = {0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                              0x80, 0x40, 0x00};
  write_bytes("length-past-end.onnx", huge_len, sizeof huge_len);
  m = relu();
  m->graph = NULL;
  write_model("no-graph.onnx", m);

  /* tensors */
  write_model("dims-overflow.onnx",
              add_init(tensor("w", 1, dims_of(3, (int64_t)1 << 40,
                                              (int64_t)1 << 40, (int64_t)1 << 40),
                              3, FOUR, 16)));
  m = relu();
  m->graph->input[0] = value_info("x", tensor_type(1, DIMS((int64_t)1 << 62, 4, 5)));
  write_model("dims-overflow-input.onnx", m);
  write_model("negative-dims.onnx",
              add_init(tensor("w", 1, dims_of(1, (int64_t)-4), 1, FOUR, 16)));
  write_model("raw-short.onnx", add_init(tensor("w", 1, dims_of(1, (int64_t)4), 1, FOUR, 12)));
  write_model("raw-long.onnx",
              add_init(tensor("w", 1, dims_of(1, (int64_t)3), 1, FOUR, 16)));
  write_model("raw-wrong-dtype.onnx",
              add_init(tensor("w", 7, dims_of(1, (int64_t)4), 1, FOUR, 16)));
  Onnx__TensorProto *t = tensor("w", 1, dims_of(1, (int64_t)4), 1, NULL, 0);
  static float three[3] = {1, 2, 3};
  t->n_float_data = 3;
  t->float_data = three;
  write_model("float-data-count.onnx", add_init(t));
  t = tensor("w", 8, dims_of(1, (int64_t)3), 1, NULL, 0);
  static ProtobufCBinaryData two[2] = {{1, (uint8_t *)"a"}, {1, (uint8_t *)"b"}};
  t->n_string_data = 2;
  t->string_data = two;
  write_model("string-count.onnx", add_init(t));
  write_model("dtype-unknown.onnx",
              add_init(tensor("w", 42, dims_of(1, (int64_t)4), 1, FOUR, 16)));
  write_model("dtype-undefined.onnx",
              add_init(tensor("w", 0, dims_of(1, (int64_t)4), 1, FOUR, 16)));
  write_model("rank9-initializer.onnx",
              add_init(tensor("w", 1, dims_of(9, (int64_t)1, (int64_t)1, (int64_t)1,
                                              (int64_t)1, (int64_t)1, (int64_t)1,
                                              (int64_t)1, (int64_t)1, (int64_t)4),
                              9, FOUR, 16)));
  m = relu();
  m->graph->input[0] = value_info("x", tensor_type(1, DIMS(1, 1, 1, 1, 1, 1, 1, 1, 1)));
  write_model("rank9-input.onnx", m);

  /* external data */
  int64_t *d4 = dims_of(1, (int64_t)4);
  write_model("ext-dotdot.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "location", "../../../../etc/passwd")));
  write_model("ext-absolute.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "location", "/etc/passwd")));
  write_model("ext-missing.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "location", "no-such-file.bin")));
  write_model("ext-symlink.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "location", "link.bin")));
  write_model("ext-short.onnx", add_init(external(
      tensor("w", 1, dims_of(1, (int64_t)1000), 1, NULL, 0), 1, "location",
      "ext-data.bin")));
  write_model("ext-offset.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 2, "location", "ext-data.bin", "offset",
      "-16")));
  write_model("ext-offset-past-end.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 2, "location", "ext-data.bin", "offset",
      "9223372036854775807")));
  write_model("ext-length.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 2, "location", "ext-data.bin", "length",
      "12")));
  write_model("ext-directory.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "location", ".")));
  write_model("ext-no-location.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "offset", "0")));
  /* hostile.sh puts a FIFO or a link to /dev/zero at special.bin */
  write_model("ext-special.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "location", "special.bin")));
  /* a socket in the model's folder */
  write_model("ext-socket.onnx", add_init(external(
      tensor("w", 1, d4, 1, NULL, 0), 1, "location", "socket")));
  write_socket("socket");
  write_bytes("ext-data.bin", FOUR, sizeof FOUR);
  /* far larger than memory: 4 TB in a file that does not even exist */
  write_model("huge-external.onnx", add_init(external(
      tensor("w", 1, dims_of(2, (int64_t)1000000, (int64_t)1000000), 2, NULL, 0),
      1, "location", "huge.bin")));
  /* 4 TB of raw data announced, 16 bytes there */
  write_model("huge-initializer.onnx", add_init(tensor(
      "w", 1, dims_of(2, (int64_t)1000000, (int64_t)1000000), 2, FOUR, 16)));
  m = model_new(13);
  Onnx__NodeProto *n = node(m->graph, "Constant", "c", NONE, LIST("y"));
  Onnx__AttributeProto *a = attr(n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  a->t = tensor("", 1, dims_of(2, (int64_t)1 << 20, (int64_t)1 << 20), 2, FOUR, 16);
  output(m->graph, "y");
  write_model("huge-constant.onnx", m);
  /* a 40 GB output computed at run time from a small shape */
  m = model_new(13);
  static int64_t big_shape[2] = {100000, 100000};
  init(m->graph, tensor("shape", 7, dims_of(1, (int64_t)2), 1, big_shape, 16));
  node(m->graph, "ConstantOfShape", "fill", LIST("shape"), LIST("y"));
  output(m->graph, "y");
  write_model("huge-output.onnx", m);

  /* graph structure */
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(4));
  node(m->graph, "Relu", "r1", LIST("y"), LIST("z"));
  node(m->graph, "Relu", "r2", LIST("z"), LIST("y"));
  output(m->graph, "y");
  write_model("cycle.onnx", m);
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(4));
  node(m->graph, "Add", "add", LIST("x", "nowhere"), LIST("y"));
  output(m->graph, "y");
  write_model("undefined-input.onnx", m);
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(4));
  node(m->graph, "Relu", "r1", LIST("x"), LIST("y"));
  node(m->graph, "Neg", "r2", LIST("x"), LIST("y"));
  output(m->graph, "y");
  write_model("duplicate-output.onnx", m);
  m = relu();
  output(m->graph, "y");
  write_model("output-listed-twice.onnx", m);
  m = relu();
  output(m->graph, "nowhere");
  write_model("undefined-graph-output.onnx", m);
  m = add_init(tensor("w", 1, dims_of(1, (int64_t)4), 1, FOUR, 16));
  init(m->graph, tensor("w", 1, dims_of(1, (int64_t)4), 1, FOUR, 16));
  write_model("duplicate-initializer.onnx", m);
  m = relu();
  input(m->graph, "x", 1, DIMS(3, 4, 5));
  write_model("duplicate-input.onnx", m);
  m = relu();
  m->graph->input[0]->name = "";
  write_model("input-without-name.onnx", m);
  write_model("initializer-without-name.onnx",
              add_init(tensor("", 1, dims_of(1, (int64_t)4), 1, FOUR, 16)));
  m = relu();
  m->graph->node[0]->op_type = "";
  write_model("no-op-type.onnx", m);
  m = relu();
  m->graph->node[0]->op_type = "FrobnicateV2";
  write_model("unknown-op.onnx", m);
  m = relu();
  m->opset_import[0]->version = 99;
  write_model("opset-99.onnx", m);
  m = relu();
  m->graph->node[0]->domain = "com.example";
  write_model("domain-not-imported.onnx", m);
  m = relu();
  node(m->graph, "Relu", "three", LIST("x", "x", "x"), LIST("z"));
  write_model("too-many-inputs.onnx", m);
  m = relu();
  node(m->graph, "Relu", "two", LIST("x"), LIST("z1", "z2"));
  write_model("too-many-outputs.onnx", m);
  m = relu();
  node(m->graph, "Relu", "omitted", LIST(""), LIST("z"));
  write_model("required-input-omitted.onnx", m);
  m = relu();
  m->graph->node[0]->op_type = "Frobnicate";
  m->graph->node[0]->name = "evil\nname\rwith\tcontrols";
  write_model("newline-in-name.onnx", m);
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(3, 4, 5));
  {
    const char *many[2000];
    for (int i = 0; i < 2000; i++) many[i] = "x";
    Onnx__NodeProto *c = node(m->graph, "Concat", "wide", many, 2000, LIST("y"));
    attr_int(c, "axis", 0);
  }
  output(m->graph, "y");
  write_model("concat-2000-inputs.onnx", m);
  m = relu();
  Onnx__SparseTensorProto *sp = zalloc(sizeof *sp);
  onnx__sparse_tensor_proto__init(sp);
  sp->values = tensor("s", 1, dims_of(1, (int64_t)1), 1, FOUR, 4);
  PUSH(m->graph->sparse_initializer, m->graph->n_sparse_initializer, sp);
  write_model("sparse-initializer.onnx", m);
  m = relu();
  {
    Onnx__TypeProto *mt = zalloc(sizeof *mt);
    onnx__type_proto__init(mt);
    Onnx__TypeProto__Map *map = zalloc(sizeof *map);
    onnx__type_proto__map__init(map);
    map->has_key_type = 1;
    map->key_type = 8;
    map->value_type = tensor_type(1, NULL, -1);
    mt->value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE;
    mt->map_type = map;
    m->graph->input[0] = value_info("x", mt);
  }
  write_model("map-input.onnx", m);

  /* attributes */
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(1, 1, 5, 5));
  init(m->graph, tensor("w", 1, dims_of(4, (int64_t)1, (int64_t)1, (int64_t)1,
                                        (int64_t)1), 4, FOUR, 4));
  n = node(m->graph, "Conv", "conv", LIST("x", "w"), LIST("y"));
  attr_float(n, "strides", 2.0f);
  output(m->graph, "y");
  write_model("conv-strides-float.onnx", m);
  n->n_attribute = 0;
  attr_str(n, "pads", "1,1,1,1");
  write_model("conv-pads-string.onnx", m);
  n->n_attribute = 0;
  attr_ints(n, "pads", (int64_t[]){1, 1, 1}, 3);
  write_model("conv-pads-length.onnx", m);
  n->n_attribute = 0;
  attr_ints(n, "strides", (int64_t[]){0, -1}, 2);
  write_model("conv-strides-zero.onnx", m);
  n->n_attribute = 0;
  attr_ints(n, "kernel_shape", (int64_t[]){1000000000, 1000000000}, 2);
  write_model("conv-kernel-huge.onnx", m);
  n->n_attribute = 0;
  attr_int(n, "group", 0);
  write_model("conv-group-zero.onnx", m);
  m = relu();
  m->graph->node[0]->op_type = "Transpose";
  attr_ints(m->graph->node[0], "perm", (int64_t[]){0, 0, 1}, 3);
  write_model("transpose-perm-repeated.onnx", m);
  m->graph->node[0]->n_attribute = 0;
  attr_ints(m->graph->node[0], "perm", (int64_t[]){0, 1, 7}, 3);
  write_model("transpose-perm-range.onnx", m);
  m = relu();
  m->graph->node[0]->op_type = "Softmax";
  attr_int(m->graph->node[0], "axis", 1000);
  write_model("softmax-axis-range.onnx", m);
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(3, 4, 5));
  static int64_t two_unknown[2] = {-1, -1};
  init(m->graph, tensor("shape", 7, dims_of(1, (int64_t)2), 1, two_unknown, 16));
  node(m->graph, "Reshape", "reshape", LIST("x", "shape"), LIST("y"));
  output(m->graph, "y");
  write_model("reshape-two-unknown.onnx", m);
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(3, 4, 5));
  static int64_t idx[1] = {10};
  init(m->graph, tensor("i", 7, dims_of(1, (int64_t)1), 1, idx, 8));
  node(m->graph, "Gather", "gather", LIST("x", "i"), LIST("y"));
  output(m->graph, "y");
  write_model("gather-index-range.onnx", m);
  m = model_new(11);
  input(m->graph, "x", 1, DIMS(4));
  n = node(m->graph, "Split", "split", LIST("x"), LIST("a", "b"));
  attr_ints(n, "split", (int64_t[]){1, 1}, 2);
  output(m->graph, "a");
  output(m->graph, "b");
  write_model("split-sizes.onnx", m);
  m = relu();
  m->graph->node[0]->op_type = "Cast";
  attr_int(m->graph->node[0], "to", 1234);
  write_model("cast-to-unknown.onnx", m);
  m = model_new(13);
  input(m->graph, "cond", 9, NULL, 0);
  n = node(m->graph, "If", "if", LIST("cond"), LIST("y"));
  attr(n, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  attr_graph(n, "else_branch", nested(0));
  output(m->graph, "y");
  write_model("graph-attribute-empty.onnx", m);
  m = model_new(13);
  n = node(m->graph, "Constant", "c", NONE, LIST("y"));
  attr(n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  output(m->graph, "y");
  write_model("tensor-attribute-empty.onnx", m);
  m = relu();
  attr(m->graph->node[0], "weird", 99);
  write_model("attribute-type-99.onnx", m);
  m = model_new(13);
  input(m->graph, "cond", 9, NULL, 0);
  n = node(m->graph, "If", "if", LIST("cond"), LIST("y"));
  attr_graph(n, "then_branch", nested(0));
  Onnx__GraphProto *two_out = nested(0);
  output(two_out, "r");
  attr_graph(n, "else_branch", two_out);
  output(m->graph, "y");
  write_model("if-branches-differ.onnx", m);

  /* nesting */
  write_model("nested-1000.onnx", nested_model(1000));
  write_model("nested-70.onnx", nested_model(70));

  /* outputs: the second cannot be written as .npy (bf16) */
  m = relu();
  n = node(m->graph, "Cast", "to_bf16", LIST("x"), LIST("z"));
  attr_int(n, "to", 16);
  output(m->graph, "z");
  write_model("second-output-bf16.onnx", m);
  /* two outputs, both writable */
  m = relu();
  node(m->graph, "Neg", "neg", LIST("x"), LIST("z"));
  output(m->graph, "z");
  write_model("two-outputs.onnx", m);
  /* two outputs whose file names collide once sanitized */
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(3, 4, 5));
  node(m->graph, "Relu", "r1", LIST("x"), LIST("a/b"));
  node(m->graph, "Neg", "r2", LIST("x"), LIST("a_b"));
  output(m->graph, "a/b");
  output(m->graph, "a_b");
  write_model("output-names-collide.onnx", m);
}

/* ---- .npy and .pb inputs ------------------------------------------------ */

static void inputs(void) {
  static float x[60], nan_inf[60];
  for (int i = 0; i < 60; i++) {
    x[i] = (float)(i - 30) / 10;
    nan_inf[i] = i % 3 == 0 ? __builtin_nanf("") : i % 3 == 1 ? __builtin_inff()
                                                              : -__builtin_inff();
  }
  const char *f345 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 5), }";
  write_npy("nan-inf.npy", 1, f345, nan_inf, sizeof nan_inf);
  write_npy("npy-truncated.npy", 1, f345, x, 100);
  write_npy("npy-lying-header.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
            x, sizeof x);
  write_npy("npy-wrong-shape.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3, 5), }", x,
            sizeof x);
  write_npy("npy-wrong-rank.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (60,), }", x,
            sizeof x);
  static int64_t xi[60];
  write_npy("npy-wrong-dtype.npy", 1,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4, 5), }", xi,
            sizeof xi);
  write_npy("npy-fortran.npy", 1,
            "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4, 5), }", x,
            sizeof x);
  write_npy("npy-big-endian.npy", 1,
            "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4, 5), }", x,
            sizeof x);
  write_npy("npy-unicode.npy", 1,
            "{'descr': '<U4', 'fortran_order': False, 'shape': (3, 4, 5), }", x,
            sizeof x);
  write_npy("npy-rank9.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 3, 20), }",
            x, sizeof x);
  write_npy("npy-dim-too-large.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
            x, sizeof x);
  write_npy("npy-numel-overflow.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
            x, sizeof x);
  write_npy("npy-negative-dim.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4, 5), }", x,
            sizeof x);
  write_npy("npy-no-shape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }",
            x, sizeof x);
  write_npy("npy-not-a-dict.npy", 1, "hello", x, sizeof x);
  write_npy("npy-version-9.npy", 9, f345, x, sizeof x);
  /* a version 2 header announcing 4 GB */
  uint8_t huge[64] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xf0, 0xff, 0xff, 0xff};
  memset(huge + 12, ' ', sizeof huge - 12);
  write_bytes("npy-huge-header.npy", huge, sizeof huge);
  write_bytes("npy-empty.npy", "", 0);
  write_bytes("npy-magic-only.npy", "\x93NUMPY", 6);

  /* TensorProto .pb inputs */
  Onnx__TensorProto *t = tensor("x", 1, dims_of(3, (int64_t)3, (int64_t)4,
                                                (int64_t)5), 3, x, sizeof x);
  size_t len = onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = zalloc(len);
  onnx__tensor_proto__pack(t, buf);
  write_bytes("pb-truncated.pb", buf, len - 7);
  write_tensor_pb("pb-raw-short.pb", tensor("x", 1, dims_of(3, (int64_t)3,
                                            (int64_t)4, (int64_t)5), 3, x, 200));
  write_tensor_pb("pb-wrong-dtype.pb", tensor("x", 6, dims_of(3, (int64_t)3,
                                              (int64_t)4, (int64_t)5), 3, x, 240));
  write_tensor_pb("pb-dims-overflow.pb", tensor("x", 1, dims_of(3, (int64_t)1 << 40,
                                                (int64_t)1 << 40, (int64_t)1 << 40),
                                                3, x, 240));
  write_tensor_pb("pb-external.pb", external(tensor("x", 1, dims_of(1, (int64_t)4), 1,
                                                    NULL, 0), 1, "location",
                                             "ext-data.bin"));
}

/* The models the fuzzers found bugs with, rebuilt: DIR/fuzz-load and
 * DIR/fuzz-run, replayed by ctest (fuzz.regress.load, fuzz.regress.run). */
static void fuzz_regressions(const char *top) {
  char sub[1024];
  snprintf(sub, sizeof sub, "%s/fuzz-load", top);
  mkdir(sub, 0777);
  dir = sub;
  /* An empty FLOATS attribute (protobuf-c's NULL array reached memcpy). */
  Onnx__ModelProto *m = model_new(13);
  Onnx__GraphProto *g = m->graph;
  input(g, "x", 1, dims_of(2, (int64_t)2, (int64_t)2), 2);
  input(g, "i", 7, dims_of(2, (int64_t)2, (int64_t)2), 2);
  output(g, "y");
  Onnx__NodeProto *n = node(g, "GatherND", "", (const char *[]){"x", "i"}, 2,
                            (const char *[]){"y"}, 1);
  attr(n, "batch_dims", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  write_model("empty-floats-attr.onnx", m);
  /* A required input omitted with an empty name (Resize's X). */
  m = model_new(13);
  g = m->graph;
  input(g, "s", 1, dims_of(1, (int64_t)4), 1);
  output(g, "y");
  node(g, "Resize", "", (const char *[]){"", "", "s"}, 3, (const char *[]){"y"}, 1);
  write_model("omitted-required-input.onnx", m);

  snprintf(sub, sizeof sub, "%s/fuzz-run", top);
  mkdir(sub, 0777);
  dir = sub;
  /* A required output omitted (Less). */
  m = model_new(13);
  g = m->graph;
  input(g, "a", 1, dims_of(1, (int64_t)3), 1);
  input(g, "b", 1, dims_of(1, (int64_t)3), 1);
  output(g, "z");
  node(g, "Less", "", (const char *[]){"a", "b"}, 2, (const char *[]){""}, 1);
  node(g, "Identity", "", (const char *[]){"a"}, 1, (const char *[]){"z"}, 1);
  write_model("omitted-required-output.onnx", m);
  /* QuantizeLinear with a zero scale: 0 / 0 is NaN, converted to u8. */
  m = model_new(13);
  g = m->graph;
  input(g, "x", 1, dims_of(1, (int64_t)6), 1);
  input(g, "y_scale", 1, NULL, 0);
  input(g, "y_zero_point", 2, NULL, 0);
  output(g, "y");
  node(g, "QuantizeLinear", "", (const char *[]){"x", "y_scale", "y_zero_point"}, 3,
       (const char *[]){"y"}, 1);
  write_model("quantize-nan.onnx", m);
  /* Einsum with an empty output (a zero dim). */
  m = model_new(13);
  g = m->graph;
  input(g, "x", 11, dims_of(3, (int64_t)5, (int64_t)0, (int64_t)3), 3);
  input(g, "y", 11, dims_of(3, (int64_t)5, (int64_t)3, (int64_t)4), 3);
  output(g, "z");
  n = node(g, "Einsum", "", (const char *[]){"x", "y"}, 2, (const char *[]){"z"}, 1);
  attr_str(n, "equation", "bij, bjk -> bik");
  write_model("einsum-empty-output.onnx", m);
}

/* ---- seed corpora of the fuzz targets ------------------------------------ */

/* The seeds of each fuzz target, in DIR/fuzz-TARGET, replayed by ctest
 * (fuzz.regress.TARGET) and a starting corpus for the fuzzers (scripts/fuzz).
 * A seed named ok-* must be accepted by its target and one named bad-* must
 * be refused with an error (replay.c checks both); they exercise the code
 * paths a fuzzer mutates from. */

static void seed_dir(const char *top, const char *target) {
  static char sub[1024];
  snprintf(sub, sizeof sub, "%s/fuzz-%s", top, target);
  mkdir(sub, 0777);
  dir = sub;
}

/* Writes len bytes with one selector byte in front (the targets that read
 * their first byte as an option: fuzz_text, fuzz_value_pb). */
static void write_selected(const char *file, uint8_t selector, const void *data,
                           size_t len) {
  uint8_t *buf = zalloc(len + 1);
  buf[0] = selector;
  if (len) memcpy(buf + 1, data, len);
  write_bytes(file, buf, len + 1);
}

static void write_text(const char *file, uint8_t selector, const char *text) {
  write_selected(file, selector, text, strlen(text));
}

/* ---- protobuf wire format, for SequenceProto and OptionalProto (messages
 * of onnx-data.proto, which protobuf-c does not know here) ---- */

typedef struct wbuf {
  uint8_t *p;
  size_t n, cap;
} wbuf;

static wbuf wbuf_new(size_t cap) { return (wbuf){zalloc(cap), 0, cap}; }

static void w_byte(wbuf *b, uint8_t v) {
  if (b->n == b->cap) abort();
  b->p[b->n++] = v;
}

static void w_varint(wbuf *b, uint64_t v) {
  do {
    w_byte(b, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
    v >>= 7;
  } while (v);
}

static void w_int(wbuf *b, int field, uint64_t v) { /* wire type 0 */
  w_varint(b, (uint64_t)field << 3);
  w_varint(b, v);
}

static void w_bytes(wbuf *b, int field, const void *data, size_t len) {
  w_varint(b, (uint64_t)field << 3 | 2);
  w_varint(b, len);
  for (size_t i = 0; i < len; i++) w_byte(b, ((const uint8_t *)data)[i]);
}

static void w_tensor(wbuf *b, int field, const Onnx__TensorProto *t) {
  size_t len = onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = zalloc(len);
  onnx__tensor_proto__pack(t, buf);
  w_bytes(b, field, buf, len);
}

enum { ELEM_TENSOR = 1, ELEM_SEQUENCE = 3, ELEM_MAP = 4, ELEM_OPTIONAL = 5 };

/* fuzz_value_pb's first byte: the kind in its two low bits (0 tensor, 1
 * sequence, 2 optional), the element type above them (used when the file
 * does not say it). */
#define VALUE_SEL(kind, dtype) ((uint8_t)((kind) | (dtype) << 2))

static void seeds_value_pb(void) {
  static const float two[2] = {1.5f, -2};
  static const int64_t three[3] = {7, 8, 9};
  Onnx__TensorProto *f = tensor("a", 1, dims_of(1, (int64_t)2), 1, two, 8);
  Onnx__TensorProto *g = tensor("b", 1, dims_of(2, (int64_t)1, (int64_t)2), 2, two, 8);
  Onnx__TensorProto *l = tensor("c", 7, dims_of(1, (int64_t)3), 1, three, 24);
  size_t len = onnx__tensor_proto__get_packed_size(f);
  uint8_t *packed = zalloc(len);
  onnx__tensor_proto__pack(f, packed);
  write_selected("ok-tensor.pb", VALUE_SEL(0, 1), packed, len);
  write_selected("bad-tensor-truncated.pb", VALUE_SEL(0, 1), packed, len - 3);

  wbuf b = wbuf_new(4096);
  w_bytes(&b, 1, "seq", 3);
  w_int(&b, 2, ELEM_TENSOR);
  w_tensor(&b, 3, f);
  w_tensor(&b, 3, g);
  write_selected("ok-sequence.pb", VALUE_SEL(1, 1), b.p, b.n);
  write_selected("bad-sequence-truncated.pb", VALUE_SEL(1, 1), b.p, b.n - 2);
  b = wbuf_new(64);
  w_int(&b, 2, ELEM_TENSOR);
  write_selected("ok-sequence-empty.pb", VALUE_SEL(1, 7), b.p, b.n);
  /* a sequence of two sequences, each of one tensor */
  wbuf inner = wbuf_new(1024);
  w_int(&inner, 2, ELEM_TENSOR);
  w_tensor(&inner, 3, l);
  b = wbuf_new(4096);
  w_int(&b, 2, ELEM_SEQUENCE);
  w_bytes(&b, 5, inner.p, inner.n);
  w_bytes(&b, 5, inner.p, inner.n);
  write_selected("ok-sequence-of-sequences.pb", VALUE_SEL(1, 7), b.p, b.n);
  b = wbuf_new(4096);
  w_int(&b, 2, ELEM_TENSOR);
  w_tensor(&b, 3, f);
  w_tensor(&b, 3, l);
  write_selected("bad-sequence-mixed-types.pb", VALUE_SEL(1, 1), b.p, b.n);
  b = wbuf_new(64);
  w_int(&b, 2, ELEM_MAP);
  write_selected("bad-sequence-of-maps.pb", VALUE_SEL(1, 1), b.p, b.n);
  b = wbuf_new(64);
  w_int(&b, 2, 42);
  write_selected("bad-sequence-elem-type.pb", VALUE_SEL(1, 1), b.p, b.n);
  /* sequences nested 20 deep (frost takes 16) */
  wbuf deep = wbuf_new(64);
  w_int(&deep, 2, ELEM_TENSOR);
  for (int i = 0; i < 20; i++) {
    wbuf outer = wbuf_new(deep.n + 16);
    w_int(&outer, 2, ELEM_SEQUENCE);
    w_bytes(&outer, 5, deep.p, deep.n);
    deep = outer;
  }
  write_selected("bad-sequence-nested-20.pb", VALUE_SEL(1, 1), deep.p, deep.n);

  b = wbuf_new(1024);
  w_int(&b, 2, ELEM_TENSOR);
  w_tensor(&b, 3, l);
  write_selected("ok-optional.pb", VALUE_SEL(2, 1), b.p, b.n);
  write_selected("ok-optional-none.pb", VALUE_SEL(2, 1), "", 0);
  b = wbuf_new(1024);
  w_int(&b, 2, ELEM_SEQUENCE);
  w_bytes(&b, 5, inner.p, inner.n);
  write_selected("ok-optional-sequence.pb", VALUE_SEL(2, 1), b.p, b.n);
  b = wbuf_new(1024);
  w_int(&b, 2, ELEM_TENSOR);
  w_tensor(&b, 3, l);
  w_tensor(&b, 3, l);
  write_selected("bad-optional-two-values.pb", VALUE_SEL(2, 1), b.p, b.n);
  b = wbuf_new(64);
  w_int(&b, 2, ELEM_TENSOR);
  w_bytes(&b, 3, "\xff\xff", 2);
  write_selected("bad-optional-garbage-tensor.pb", VALUE_SEL(2, 1), b.p, b.n);
}

static void seeds_npy(void) {
  static float x[60];
  for (int i = 0; i < 60; i++) x[i] = (float)(i - 30) / 10;
  static const int64_t one = 42;
  static const uint8_t bools[4] = {0, 1, 2, 0};
  static const uint16_t halves[3] = {0x3c00, 0xc000, 0x7e00}; /* 1, -2, NaN */
  static const double pair[2] = {0.25, -1e300};
  const char *f345 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 5), }";
  write_npy("ok-f32-3x4x5.npy", 1, f345, x, sizeof x);
  write_npy("ok-i64-scalar.npy", 1,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", &one, 8);
  write_npy("ok-bool.npy", 1,
            "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", bools, 4);
  write_npy("ok-v2-f16.npy", 2,
            "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", halves, 6);
  write_npy("ok-f64-1x2.npy", 3,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", pair, 16);
  write_npy("ok-u8-empty.npy", 1,
            "{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }", NULL, 0);
  write_npy("bad-truncated.npy", 1, f345, x, 100);
  write_npy("bad-lying-header.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
            x, sizeof x);
  write_npy("bad-fortran.npy", 1,
            "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4, 5), }", x,
            sizeof x);
  write_npy("bad-big-endian.npy", 1,
            "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4, 5), }", x,
            sizeof x);
  write_npy("bad-rank9.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 3, 20), }",
            x, sizeof x);
  write_npy("bad-version-9.npy", 9, f345, x, sizeof x);
  write_npy("bad-no-shape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }",
            x, sizeof x);
  write_bytes("bad-magic-only.npy", "\x93NUMPY", 6);
}

static void seeds_pb(void) {
  static float x[60];
  for (int i = 0; i < 60; i++) x[i] = (float)(i - 30) / 10;
  int64_t *d345 = dims_of(3, (int64_t)3, (int64_t)4, (int64_t)5);
  Onnx__TensorProto *t = tensor("x", 1, d345, 3, x, sizeof x);
  write_tensor_pb("ok-raw-f32.pb", t);
  size_t len = onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = zalloc(len);
  onnx__tensor_proto__pack(t, buf);
  write_bytes("bad-truncated.pb", buf, len - 7);

  t = tensor("typed", 1, dims_of(2, (int64_t)2, (int64_t)2), 2, NULL, 0);
  static float four[4] = {1, -2, 3.5f, 0};
  t->n_float_data = 4;
  t->float_data = four;
  write_tensor_pb("ok-float-data.pb", t);
  t = tensor("i64", 7, dims_of(1, (int64_t)3), 1, NULL, 0);
  static int64_t i64[3] = {-1, 0, (int64_t)1 << 40};
  t->n_int64_data = 3;
  t->int64_data = i64;
  write_tensor_pb("ok-int64-data.pb", t);
  t = tensor("scalar", 6, NULL, 0, NULL, 0);
  static int32_t i32[1] = {-7};
  t->n_int32_data = 1;
  t->int32_data = i32;
  write_tensor_pb("ok-i32-scalar.pb", t);
  t = tensor("half", 10, dims_of(1, (int64_t)2), 1, NULL, 0);
  static int32_t halves[2] = {0x3c00, 0xc000};
  t->n_int32_data = 2;
  t->int32_data = halves;
  write_tensor_pb("ok-f16-int32-data.pb", t);
  t = tensor("s", 8, dims_of(1, (int64_t)2), 1, NULL, 0);
  static ProtobufCBinaryData strs[2] = {{3, (uint8_t *)"abc"}, {0, (uint8_t *)""}};
  t->n_string_data = 2;
  t->string_data = strs;
  write_tensor_pb("ok-strings.pb", t);
  static const uint8_t flags[3] = {1, 0, 1};
  write_tensor_pb("ok-bool-raw.pb", tensor("b", 9, dims_of(1, (int64_t)3), 1, flags, 3));
  write_tensor_pb("ok-empty.pb", tensor("e", 1, dims_of(2, (int64_t)0, (int64_t)4), 2, x, 0));

  write_tensor_pb("bad-raw-short.pb", tensor("x", 1, d345, 3, x, 200));
  write_tensor_pb("bad-dims-overflow.pb",
                  tensor("x", 1, dims_of(3, (int64_t)1 << 40, (int64_t)1 << 40,
                                         (int64_t)1 << 40), 3, x, 240));
  write_tensor_pb("bad-negative-dim.pb", tensor("x", 1, dims_of(1, (int64_t)-4), 1, x, 16));
  write_tensor_pb("bad-dtype-unknown.pb", tensor("x", 42, dims_of(1, (int64_t)4), 1, x, 16));
  t = tensor("s", 8, dims_of(1, (int64_t)3), 1, NULL, 0);
  t->n_string_data = 2;
  t->string_data = strs;
  write_tensor_pb("bad-string-count.pb", t);
  write_tensor_pb("bad-external.pb",
                  external(tensor("x", 1, dims_of(1, (int64_t)4), 1, NULL, 0), 1,
                           "location", "ext-data.bin"));
}

/* fuzz_text: an odd first byte parses --shape dimensions, an even one a
 * --max-memory size. */
static void seeds_text(void) {
  write_text("ok-dims-4.txt", 1, "1x3x48x192");
  write_text("ok-dims-1.txt", 1, "5");
  write_text("ok-dims-commas.txt", 1, "2,3,4");
  write_text("ok-dims-zero.txt", 1, "0X4");
  write_text("ok-dims-scalar.txt", 1, "");
  write_text("bad-dims-letter.txt", 1, "1xQ");
  write_text("bad-dims-trailing-x.txt", 1, "3x");
  write_text("bad-dims-negative.txt", 1, "-1x4");
  write_text("bad-dims-overflow.txt", 1, "99999999999999999999x4x5");
  write_text("bad-dims-rank9.txt", 1, "1x1x1x1x1x1x1x1x1");
  write_text("ok-size-512M.txt", 0, "512M");
  write_text("ok-size-4GiB.txt", 0, "4GiB");
  write_text("ok-size-bytes.txt", 0, "1000000");
  write_text("ok-size-1kb.txt", 0, "1kB");
  write_text("bad-size-suffix.txt", 0, "12Q");
  write_text("bad-size-negative.txt", 0, "-1");
  write_text("bad-size-empty.txt", 0, "");
  write_text("bad-size-overflow.txt", 0, "99999999999999999999G");
  write_text("bad-size-shift-overflow.txt", 0, "9999999999T");
}

/* fuzz_opt (and fuzz_load, fuzz_run): models the passes have work on, and
 * models refused at load time. */
static void seeds_models(void) {
  static const float w9[18] = {1, 0, -1, 2, 0, -2, 1, 0, -1,
                               0.5f, 0.5f, 0.5f, 0, 0, 0, -0.5f, -0.5f, -0.5f};
  static const float b2[2] = {0.1f, -0.1f};
  static const float scale[2] = {2, 0.5f}, bias[2] = {0, 1}, mean[2] = {0.1f, 0},
                     var[2] = {1, 4};
  Onnx__ModelProto *m = relu();
  write_model("ok-relu.onnx", m);

  /* y = Relu(BatchNormalization(Conv(x, w, b))): fold-bn and fusion */
  m = model_new(13);
  Onnx__GraphProto *g = m->graph;
  input(g, "x", 1, DIMS(1, 1, 5, 5));
  init(g, tensor("w", 1, dims_of(4, (int64_t)2, (int64_t)1, (int64_t)3, (int64_t)3),
                 4, w9, sizeof w9));
  init(g, tensor("b", 1, dims_of(1, (int64_t)2), 1, b2, sizeof b2));
  init(g, tensor("scale", 1, dims_of(1, (int64_t)2), 1, scale, sizeof scale));
  init(g, tensor("bias", 1, dims_of(1, (int64_t)2), 1, bias, sizeof bias));
  init(g, tensor("mean", 1, dims_of(1, (int64_t)2), 1, mean, sizeof mean));
  init(g, tensor("var", 1, dims_of(1, (int64_t)2), 1, var, sizeof var));
  Onnx__NodeProto *n = node(g, "Conv", "conv", LIST("x", "w", "b"), LIST("c"));
  attr_ints(n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  node(g, "BatchNormalization", "bn", LIST("c", "scale", "bias", "mean", "var"),
       LIST("n"));
  node(g, "Relu", "relu", LIST("n"), LIST("y"));
  output(g, "y");
  write_model("ok-conv-bn-relu.onnx", m);

  /* y = (x + (a + b)) * c + Relu(x) + Relu(x): folding, CSE, Gemm fusion */
  m = model_new(13);
  g = m->graph;
  input(g, "x", 1, DIMS(2, 4));
  init(g, tensor("a", 1, dims_of(1, (int64_t)4), 1, FOUR, 16));
  init(g, tensor("b", 1, dims_of(1, (int64_t)4), 1, FOUR, 16));
  init(g, tensor("c", 1, dims_of(1, (int64_t)4), 1, FOUR, 16));
  node(g, "Add", "ab", LIST("a", "b"), LIST("ab"));
  node(g, "Add", "xab", LIST("x", "ab"), LIST("xab"));
  node(g, "Mul", "mul", LIST("xab", "c"), LIST("m"));
  node(g, "Relu", "r1", LIST("x"), LIST("r1"));
  node(g, "Relu", "r2", LIST("x"), LIST("r2"));
  node(g, "Add", "s1", LIST("m", "r1"), LIST("s1"));
  node(g, "Add", "s2", LIST("s1", "r2"), LIST("s2"));
  init(g, tensor("gw", 1, dims_of(2, (int64_t)4, (int64_t)2), 2, w9, 32));
  init(g, tensor("gb", 1, dims_of(1, (int64_t)2), 1, b2, sizeof b2));
  node(g, "Gemm", "gemm", LIST("s2", "gw", "gb"), LIST("gm"));
  node(g, "Relu", "gr", LIST("gm"), LIST("y"));
  output(g, "y");
  write_model("ok-fold-cse-gemm.onnx", m);

  /* Reshape(x, Concat(Gather(Shape(x), 0), [-1])): shape arithmetic folded
   * at load time */
  m = model_new(13);
  g = m->graph;
  input(g, "x", 1, DIMS(3, 4, 5));
  static const int64_t zero = 0, minus1[1] = {-1}, axes0[1] = {0};
  init(g, tensor("i0", 7, NULL, 0, &zero, 8));
  init(g, tensor("m1", 7, dims_of(1, (int64_t)1), 1, minus1, 8));
  init(g, tensor("axes", 7, dims_of(1, (int64_t)1), 1, axes0, 8));
  node(g, "Shape", "shape", LIST("x"), LIST("s"));
  node(g, "Gather", "gather", LIST("s", "i0"), LIST("d0"));
  node(g, "Unsqueeze", "unsq", LIST("d0", "axes"), LIST("d0v"));
  n = node(g, "Concat", "cat", LIST("d0v", "m1"), LIST("shp"));
  attr_int(n, "axis", 0);
  node(g, "Reshape", "reshape", LIST("x", "shp"), LIST("r"));
  n = node(g, "Softmax", "softmax", LIST("r"), LIST("y"));
  attr_int(n, "axis", -1);
  output(g, "y");
  write_model("ok-shape-chain.onnx", m);

  /* refused at load, by the verifier, or at run time */
  m = relu();
  m->graph->node[0]->op_type = "FrobnicateV2";
  write_model("bad-unknown-op.onnx", m);
  m = model_new(13);
  input(m->graph, "x", 1, DIMS(4));
  node(m->graph, "Relu", "r1", LIST("y"), LIST("z"));
  node(m->graph, "Relu", "r2", LIST("z"), LIST("y"));
  output(m->graph, "y");
  write_model("bad-cycle.onnx", m);
  size_t len;
  uint8_t *buf = pack_model(relu(), &len);
  write_bytes("bad-truncated.onnx", buf, len / 2);
}

/* fuzz_run and fuzz_opt (not fuzz_load, which takes it): a model refused
 * only when it runs. */
static void seeds_run(void) {
  Onnx__ModelProto *m = model_new(13);
  input(m->graph, "x", 1, DIMS(3, 4, 5));
  static int64_t idx[1] = {10};
  init(m->graph, tensor("i", 7, dims_of(1, (int64_t)1), 1, idx, 8));
  node(m->graph, "Gather", "gather", LIST("x", "i"), LIST("y"));
  output(m->graph, "y");
  write_model("bad-gather-index-range.onnx", m);
}

static void fuzz_seeds(const char *top) {
  seed_dir(top, "npy");
  seeds_npy();
  seed_dir(top, "pb");
  seeds_pb();
  seed_dir(top, "value_pb");
  seeds_value_pb();
  seed_dir(top, "text");
  seeds_text();
  seed_dir(top, "opt");
  seeds_models();
  seed_dir(top, "run");
  seeds_run();
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: frost_hostile_gen DIR\n");
    return 2;
  }
  dir = argv[1];
  models();
  inputs();
  fuzz_regressions(argv[1]);
  fuzz_seeds(argv[1]);
  return 0;
}
