/* test_loader.c: the ONNX loader on malformed models, each built here with
 * protobuf-c, written to a temporary folder and loaded: every one must give
 * a status and a one-line message naming the problem, never a crash. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "testutil.h"

static char dir[256];

static void make_dir(void) { ft_tmpdir(dir, sizeof dir, "loader"); }

static void rm_dir(void) { ft_rmdir(dir); }

/* A small model under construction: nodes, initializers, inputs, outputs. */
typedef struct mb {
  Onnx__ModelProto m;
  Onnx__GraphProto g;
  Onnx__OperatorSetIdProto opset, *opsets[1];
  Onnx__NodeProto nodes[8], *pnodes[8];
  Onnx__TensorProto inits[4], *pinits[4];
  Onnx__ValueInfoProto ins[4], outs[4], *pins[4], *pouts[4];
  Onnx__TypeProto types[8];
  Onnx__TypeProto__Tensor ttypes[8];
  Onnx__TensorShapeProto shapes[8];
  Onnx__TensorShapeProto__Dimension dims[8][4], *pdims[8][4];
  int n_types;
} mb;

static void mb_init(mb *b, int opset) {
  memset(b, 0, sizeof *b);
  onnx__model_proto__init(&b->m);
  onnx__graph_proto__init(&b->g);
  onnx__operator_set_id_proto__init(&b->opset);
  b->opset.domain = "";
  b->opset.has_version = 1;
  b->opset.version = opset;
  b->opsets[0] = &b->opset;
  b->m.n_opset_import = 1;
  b->m.opset_import = b->opsets;
  b->m.has_ir_version = 1;
  b->m.ir_version = 8;
  b->m.graph = &b->g;
  b->g.name = "g";
  b->g.node = b->pnodes;
  b->g.initializer = b->pinits;
  b->g.input = b->pins;
  b->g.output = b->pouts;
}

static Onnx__TypeProto *mb_type(mb *b, int dtype, int rank, const int64_t *d) {
  int k = b->n_types++;
  Onnx__TypeProto *t = &b->types[k];
  onnx__type_proto__init(t);
  onnx__type_proto__tensor__init(&b->ttypes[k]);
  onnx__tensor_shape_proto__init(&b->shapes[k]);
  t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tensor_type = &b->ttypes[k];
  b->ttypes[k].has_elem_type = 1;
  b->ttypes[k].elem_type = dtype;
  b->ttypes[k].shape = &b->shapes[k];
  b->shapes[k].n_dim = (size_t)rank;
  b->shapes[k].dim = b->pdims[k];
  for (int i = 0; i < rank; i++) {
    onnx__tensor_shape_proto__dimension__init(&b->dims[k][i]);
    b->dims[k][i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    b->dims[k][i].dim_value = d[i];
    b->pdims[k][i] = &b->dims[k][i];
  }
  return t;
}

static void mb_input(mb *b, char *name, int dtype, int rank, const int64_t *d) {
  Onnx__ValueInfoProto *v = &b->ins[b->g.n_input];
  onnx__value_info_proto__init(v);
  v->name = name;
  v->type = mb_type(b, dtype, rank, d);
  b->pins[b->g.n_input++] = v;
}

static void mb_output(mb *b, char *name) {
  Onnx__ValueInfoProto *v = &b->outs[b->g.n_output];
  onnx__value_info_proto__init(v);
  v->name = name;
  b->pouts[b->g.n_output++] = v;
}

static Onnx__NodeProto *mb_node(mb *b, char *op, char *name, int n_in,
                                char **in, int n_out, char **out) {
  Onnx__NodeProto *n = &b->nodes[b->g.n_node];
  onnx__node_proto__init(n);
  n->op_type = op;
  n->name = name;
  n->n_input = (size_t)n_in;
  n->input = in;
  n->n_output = (size_t)n_out;
  n->output = out;
  b->pnodes[b->g.n_node++] = n;
  return n;
}

static Onnx__TensorProto *mb_init_f32(mb *b, char *name, int rank,
                                      int64_t *d, void *raw, size_t len) {
  Onnx__TensorProto *t = &b->inits[b->g.n_initializer];
  onnx__tensor_proto__init(t);
  t->name = name;
  t->has_data_type = 1;
  t->data_type = FR_F32;
  t->n_dims = (size_t)rank;
  t->dims = d;
  t->has_raw_data = 1;
  t->raw_data.len = len;
  t->raw_data.data = raw;
  b->pinits[b->g.n_initializer++] = t;
  return t;
}

/* Writes the model to dir/file; path receives the full path. */
static void mb_write(mb *b, const char *file, char *path, size_t n) {
  snprintf(path, n, "%s/%s", dir, file);
  size_t len = onnx__model_proto__get_packed_size(&b->m);
  uint8_t *buf = malloc(len + 1);
  onnx__model_proto__pack(&b->m, buf);
  FILE *f = fopen(path, "wb");
  fwrite(buf, 1, len, f);
  fclose(f);
  free(buf);
}

/* Writes the model, loads it, returns the status (model freed). */
static fr_status mb_load(mb *b, const char *file) {
  char path[512];
  mb_write(b, file, path, sizeof path);
  fr_model *m = NULL;
  fr_onnx_opts o = {.quiet = true};
  fr_status st = fr_onnx_load(path, &o, &m);
  if (st == FR_OK) {
    fr_infer_opts io = {.partial = true, .eval = fr_interp_eval};
    st = fr_graph_infer(m->graph, &io);
    fr_model_free(m);
  }
  ck_assert_ptr_null(strchr(fr_err_msg(), '\n'));
  return st;
}

static char *X[] = {"x"}, *Y[] = {"y"}, *XW[] = {"x", "w"}, *Z[] = {"z"},
            *YZ[] = {"y", "z"}, *ZY[] = {"z", "y"};
static const int64_t D4[] = {4};

/* The valid base case: y = Relu(x). */
START_TEST(valid_model) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  mb_node(&b, "Relu", "r", 1, X, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "ok.onnx"), FR_OK);
  rm_dir();
}
END_TEST

START_TEST(garbage_and_truncated) {
  make_dir();
  char path[512];
  snprintf(path, sizeof path, "%s/garbage.onnx", dir);
  FILE *f = fopen(path, "wb");
  for (int i = 0; i < 4096; i++) fputc((i * 7919) & 0xff, f);
  fclose(f);
  fr_model *m;
  ck_assert_int_eq(fr_onnx_load(path, NULL, &m), FR_ERR_PARSE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), path));
  /* a zero-length file decodes as an empty model: no graph */
  snprintf(path, sizeof path, "%s/empty.onnx", dir);
  f = fopen(path, "wb");
  fclose(f);
  ck_assert_int_eq(fr_onnx_load(path, NULL, &m), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "no graph"));
  ck_assert_int_eq(fr_onnx_load("/nonexistent/x.onnx", NULL, &m), FR_ERR_IO);
  rm_dir();
}
END_TEST

START_TEST(unknown_ops_all_named) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  mb_node(&b, "FancyOp", "f1", 1, X, 1, Z);
  mb_node(&b, "OtherOp", "f2", 1, Z, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "unknown.onnx"), FR_ERR_UNSUPPORTED);
  const char *msg = fr_err_msg();
  ck_assert_ptr_nonnull(strstr(msg, "node 'f1' (FancyOp)"));
  ck_assert_ptr_nonnull(strstr(msg, "OtherOp"));
  rm_dir();
}
END_TEST

START_TEST(unsupported_opset) {
  make_dir();
  mb b;
  mb_init(&b, 99);
  mb_input(&b, "x", FR_F32, 1, D4);
  mb_node(&b, "Relu", "r", 1, X, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "opset.onnx"), FR_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "opset 99"));
  rm_dir();
}
END_TEST

START_TEST(missing_initializer) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  mb_node(&b, "Add", "a", 2, XW, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "missing.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "node 'a' (Add): input 'w' is not defined"));
  rm_dir();
}
END_TEST

START_TEST(raw_data_size_mismatch) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  float w[3] = {1, 2, 3};
  int64_t d[1] = {4};
  mb_init_f32(&b, "w", 1, d, w, sizeof w);
  mb_node(&b, "Add", "a", 2, XW, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "raw.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "12 bytes"));
  rm_dir();
}
END_TEST

START_TEST(bad_dims) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  float w[4] = {0};
  int64_t neg[1] = {-4};
  mb_init_f32(&b, "w", 1, neg, w, sizeof w);
  mb_node(&b, "Add", "a", 2, XW, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "neg.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "negative"));
  int64_t huge[4] = {1LL << 40, 1LL << 40, 1LL << 40, 4};
  b.inits[0].n_dims = 4;
  b.inits[0].dims = huge;
  ck_assert_int_eq(mb_load(&b, "overflow.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "overflow"));
  rm_dir();
}
END_TEST

START_TEST(external_data_refused) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  int64_t d[1] = {4};
  Onnx__TensorProto *t = mb_init_f32(&b, "w", 1, d, NULL, 0);
  t->has_raw_data = 0;
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  Onnx__StringStringEntryProto e;
  onnx__string_string_entry_proto__init(&e);
  Onnx__StringStringEntryProto *pe[1] = {&e};
  t->n_external_data = 1;
  t->external_data = pe;
  e.key = "location";
  mb_node(&b, "Add", "a", 2, XW, 1, Y);
  mb_output(&b, "y");
  e.value = "../../etc/passwd";
  ck_assert_int_eq(mb_load(&b, "ext1.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "leaves the model's folder"));
  e.value = "/etc/passwd";
  ck_assert_int_eq(mb_load(&b, "ext2.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "absolute"));
  e.value = "missing.bin";
  ck_assert_int_eq(mb_load(&b, "ext3.onnx"), FR_ERR_IO);
  /* a real external file next to the model loads */
  char path[512];
  snprintf(path, sizeof path, "%s/w.bin", dir);
  FILE *f = fopen(path, "wb");
  float w[4] = {1, 2, 3, 4};
  fwrite(w, 1, sizeof w, f);
  fclose(f);
  e.value = "w.bin";
  ck_assert_int_eq(mb_load(&b, "ext4.onnx"), FR_OK);
  rm_dir();
}
END_TEST

START_TEST(cycle_and_duplicates) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  /* z = Relu(y); y = Relu(z): a cycle */
  mb_node(&b, "Relu", "r1", 1, Y, 1, Z);
  mb_node(&b, "Relu", "r2", 1, Z, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "cycle.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "before it is defined"));
  /* two nodes producing y */
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  mb_node(&b, "Relu", "r1", 1, X, 1, Y);
  mb_node(&b, "Relu", "r2", 1, X, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "dup.onnx"), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "already defined"));
  (void)YZ;
  (void)ZY;
  rm_dir();
}
END_TEST

START_TEST(dtype_mismatch) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  mb_input(&b, "w", FR_I64, 1, D4);
  mb_node(&b, "Add", "a", 2, XW, 1, Y);
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "dtype.onnx"), FR_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "node 'a' (Add)"));
  rm_dir();
}
END_TEST

START_TEST(deep_nesting) {
  make_dir();
  enum { DEPTH = 200 };
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  static Onnx__GraphProto gs[DEPTH];
  static Onnx__AttributeProto as[DEPTH], *pas[DEPTH];
  static Onnx__NodeProto ns[DEPTH], *pns[DEPTH];
  Onnx__NodeProto *top = mb_node(&b, "Wrapper", "w0", 1, X, 1, Y);
  Onnx__NodeProto *cur = top;
  for (int i = 0; i < DEPTH; i++) {
    onnx__attribute_proto__init(&as[i]);
    onnx__graph_proto__init(&gs[i]);
    onnx__node_proto__init(&ns[i]);
    as[i].name = "body";
    as[i].has_type = 1;
    as[i].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    as[i].g = &gs[i];
    pas[i] = &as[i];
    cur->n_attribute = 1;
    cur->attribute = &pas[i];
    ns[i].op_type = "Wrapper";
    pns[i] = &ns[i];
    gs[i].n_node = 1;
    gs[i].node = &pns[i];
    cur = &ns[i];
  }
  mb_output(&b, "y");
  ck_assert_int_eq(mb_load(&b, "deep.onnx"), FR_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "nested deeper"));
  rm_dir();
}
END_TEST

START_TEST(shape_override_mismatch) {
  make_dir();
  mb b;
  mb_init(&b, 13);
  mb_input(&b, "x", FR_F32, 1, D4);
  mb_node(&b, "Relu", "r", 1, X, 1, Y);
  mb_output(&b, "y");
  char path[512];
  mb_write(&b, "ov.onnx", path, sizeof path);
  fr_shape_override ov = {.name = "x", .rank = 2, .dims = {2, 2}};
  fr_onnx_opts o = {.shapes = &ov, .n_shapes = 1, .quiet = true};
  fr_model *m;
  ck_assert_int_eq(fr_onnx_load(path, &o, &m), FR_ERR_SHAPE);
  ov.rank = 1;
  ov.dims[0] = 5;
  ck_assert_int_eq(fr_onnx_load(path, &o, &m), FR_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "dimension 0 is 4"));
  rm_dir();
}
END_TEST

FT_MAIN(loader, valid_model, garbage_and_truncated, unknown_ops_all_named,
        unsupported_opset, missing_initializer, raw_data_size_mismatch,
        bad_dims, external_data_refused, cycle_and_duplicates, dtype_mismatch,
        deep_nesting, shape_override_mismatch)
