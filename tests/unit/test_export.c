/* test_export.c: the exported model packed in memory (fr_onnx_export_mem)
 * and the offsets of its weights' raw_data (fr_onnx_raw_offsets): the bytes
 * there are the trained weights, overwriting them changes the model's
 * weights, and bad bytes give an error, never a read out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "testutil.h"

static char dir[256], path[512];

/* The original model, y = Mul(x, w); c = Constant; z = Add(y, c), with w
 * an initializer (raw_data), c a Constant whose unnamed tensor is stored as
 * float_data, and s a frozen initializer stored as float_data. */
static float W0[4] = {1, 2, 3, 4}, C0[4] = {5, 6, 7, 8}, S0[1] = {9};
static int64_t D4[1] = {4}, D1[1] = {1};

static void write_orig(void) {
  static char *mul_in[] = {"x", "w"}, *mul_out[] = {"y"}, *c_out[] = {"c"},
              *add_in[] = {"y", "c"}, *add_out[] = {"z"};
  Onnx__ModelProto m;
  Onnx__GraphProto g;
  Onnx__OperatorSetIdProto os, *pos[1] = {&os};
  Onnx__NodeProto nd[3], *pnd[3] = {&nd[0], &nd[1], &nd[2]};
  Onnx__AttributeProto at, *pat[1] = {&at};
  Onnx__TensorProto tw, tc, ts, *pinit[2] = {&tw, &ts};
  Onnx__ValueInfoProto vx, vz, *pin[1] = {&vx}, *pout[1] = {&vz};
  Onnx__TypeProto ty;
  Onnx__TypeProto__Tensor tt;
  Onnx__TensorShapeProto sh;
  Onnx__TensorShapeProto__Dimension d[2], *pd[2] = {&d[0], &d[1]};
  onnx__model_proto__init(&m);
  onnx__graph_proto__init(&g);
  onnx__operator_set_id_proto__init(&os);
  os.domain = "";
  os.has_version = 1;
  os.version = 13;
  m.has_ir_version = 1;
  m.ir_version = 8;
  m.n_opset_import = 1;
  m.opset_import = pos;
  m.graph = &g;
  g.name = "g";
  for (int i = 0; i < 3; i++) onnx__node_proto__init(&nd[i]);
  nd[0].op_type = "Mul", nd[0].name = "mul";
  nd[0].n_input = 2, nd[0].input = mul_in, nd[0].n_output = 1, nd[0].output = mul_out;
  nd[1].op_type = "Constant", nd[1].name = "const";
  nd[1].n_output = 1, nd[1].output = c_out;
  nd[1].n_attribute = 1, nd[1].attribute = pat;
  nd[2].op_type = "Add", nd[2].name = "add";
  nd[2].n_input = 2, nd[2].input = add_in, nd[2].n_output = 1, nd[2].output = add_out;
  onnx__attribute_proto__init(&at);
  at.name = "value";
  at.has_type = 1;
  at.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  at.t = &tc;
  onnx__tensor_proto__init(&tw);
  tw.name = "w";
  tw.has_data_type = 1, tw.data_type = FR_F32;
  tw.n_dims = 1, tw.dims = D4;
  tw.has_raw_data = 1, tw.raw_data.len = sizeof W0, tw.raw_data.data = (uint8_t *)W0;
  onnx__tensor_proto__init(&tc);
  tc.has_data_type = 1, tc.data_type = FR_F32;
  tc.n_dims = 1, tc.dims = D4;
  tc.n_float_data = 4, tc.float_data = C0;
  onnx__tensor_proto__init(&ts);
  ts.name = "s";
  ts.has_data_type = 1, ts.data_type = FR_F32;
  ts.n_dims = 1, ts.dims = D1;
  ts.n_float_data = 1, ts.float_data = S0;
  onnx__value_info_proto__init(&vx);
  onnx__value_info_proto__init(&vz);
  onnx__type_proto__init(&ty);
  onnx__type_proto__tensor__init(&tt);
  onnx__tensor_shape_proto__init(&sh);
  /* x: [N, 4], the batch symbolic (the head's output copies it) */
  for (int i = 0; i < 2; i++) onnx__tensor_shape_proto__dimension__init(&d[i]);
  d[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  d[0].dim_param = "N";
  d[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  d[1].dim_value = 4;
  ty.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  ty.tensor_type = &tt;
  tt.has_elem_type = 1, tt.elem_type = FR_F32;
  tt.shape = &sh;
  sh.n_dim = 2, sh.dim = pd;
  vx.name = "x", vx.type = &ty;
  vz.name = "z";
  g.n_node = 3, g.node = pnd;
  g.n_initializer = 2, g.initializer = pinit;
  g.n_input = 1, g.input = pin;
  g.n_output = 1, g.output = pout;
  size_t len = onnx__model_proto__get_packed_size(&m);
  uint8_t *buf = malloc(len + 1);
  onnx__model_proto__pack(&m, buf);
  snprintf(path, sizeof path, "%s/orig.onnx", dir);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
  fclose(f);
  free(buf);
}

/* The trained model: new w and c, and a head of one Gemm [2, 4]. */
static float W1[4] = {-1, -2, -3, -4}, C1[4] = {0.5f, 0.25f, 0.125f, 1},
             HW[8] = {1, 0, 0, 0, 0, 1, 0, 0}, HB[2] = {0.1f, 0.2f};
enum { NP = 4 };
static const char *const PNAMES[NP] = {"w", "c", "frost.head.0.weight",
                                       "frost.head.0.bias"};
static const float *const PDATA[NP] = {W1, C1, HW, HB};
static const int64_t PLEN[NP] = {4, 4, 8, 2};

static fr_model *trained(void) {
  fr_model *m = fg_model(13);
  fr_value *v[NP] = {
      fg_const(m, "w", FR_F32, 1, D4, W1),
      fg_const(m, "c", FR_F32, 1, D4, C1),
      fg_const(m, "frost.head.0.weight", FR_F32, 2, FT_DIMS(2, 4), HW),
      fg_const(m, "frost.head.0.bias", FR_F32, 1, FT_DIMS(2), HB),
  };
  for (int i = 0; i < NP; i++) v[i]->flags |= FR_V_TRAINABLE;
  fg_const(m, "s", FR_F32, 1, D1, S0);
  return m;
}

/* Exports the trained model; buf, len receive the bytes. */
static void export_mem(uint8_t **buf, size_t *len) {
  ft_tmpdir(dir, sizeof dir, "export");
  write_orig();
  fr_model *m = trained();
  ck_assert_int_eq(fr_onnx_export_mem(path, m, NULL, buf, len), FR_OK);
  fr_model_free(m);
}

/* The raw_data of t as floats, checked against want (n floats). */
static void check_raw(const Onnx__TensorProto *t, const float *want, int n) {
  ck_assert_ptr_nonnull(t);
  ck_assert(t->has_raw_data);
  ck_assert_int_eq(t->n_float_data, 0);
  ck_assert_uint_eq(t->raw_data.len, sizeof(float) * (size_t)n);
  ck_assert_mem_eq(t->raw_data.data, want, sizeof(float) * (size_t)n);
}

static const Onnx__TensorProto *find_init(const Onnx__GraphProto *g,
                                          const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (!strcmp(g->initializer[i]->name, name)) return g->initializer[i];
  return NULL;
}

static const Onnx__TensorProto *find_const(const Onnx__GraphProto *g,
                                           const char *name) {
  for (size_t i = 0; i < g->n_node; i++)
    if (!strcmp(g->node[i]->op_type, "Constant") &&
        !strcmp(g->node[i]->output[0], name))
      return g->node[i]->attribute[0]->t;
  return NULL;
}

/* The offsets point at the trained weights; patched there, the model
 * (unpacked by protobuf-c, and loaded by frost) holds the patched ones. */
START_TEST(offsets_and_patch) {
  uint8_t *buf;
  size_t len;
  export_mem(&buf, &len);
  int64_t off[NP], size[NP];
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, PNAMES, NP, off, size), FR_OK);
  for (int i = 0; i < NP; i++) {
    ck_assert_int_eq(size[i], PLEN[i] * 4);
    ck_assert(off[i] > 0 && off[i] + size[i] <= (int64_t)len);
    ck_assert_mem_eq(buf + off[i], PDATA[i], (size_t)size[i]);
  }
  /* Patch: each parameter's values plus 100. */
  float patched[NP][8];
  for (int i = 0; i < NP; i++) {
    for (int k = 0; k < PLEN[i]; k++) patched[i][k] = PDATA[i][k] + 100;
    memcpy(buf + off[i], patched[i], (size_t)size[i]);
  }
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
  ck_assert_ptr_nonnull(mp);
  const Onnx__GraphProto *g = mp->graph;
  check_raw(find_init(g, "w"), patched[0], 4);
  check_raw(find_const(g, "c"), patched[1], 4);
  check_raw(find_init(g, "frost.head.0.weight"), patched[2], 8);
  check_raw(find_init(g, "frost.head.0.bias"), patched[3], 2);
  const Onnx__TypeProto *zt = g->n_output == 1 ? g->output[0]->type : NULL;
  ck_assert(zt && zt->tensor_type->shape->n_dim == 2);
  ck_assert_str_eq(zt->tensor_type->shape->dim[0]->dim_param, "N");
  /* s was not trained: still float_data. */
  const Onnx__TensorProto *s = find_init(g, "s");
  ck_assert(s && !s->has_raw_data && s->n_float_data == 1);
  onnx__model_proto__free_unpacked(mp, NULL);
  /* frost loads the patched file with the patched weights. */
  char out[600];
  snprintf(out, sizeof out, "%s/patched.onnx", dir);
  FILE *f = fopen(out, "wb");
  ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
  fclose(f);
  fr_model *m = NULL;
  fr_onnx_opts o = {.quiet = true};
  ck_assert_int_eq(fr_onnx_load(out, &o, &m), FR_OK);
  const fr_value *w = fr_graph_find(m->graph, "w");
  ck_assert(w && (w->flags & FR_V_CONST));
  ck_assert_mem_eq(w->t.data, patched[0], sizeof patched[0][0] * 4);
  const fr_value *hw = fr_graph_find(m->graph, "frost.head.0.weight");
  ck_assert(hw && (hw->flags & FR_V_CONST));
  ck_assert_mem_eq(hw->t.data, patched[2], sizeof patched[2][0] * 8);
  fr_model_free(m);
  fr_free(buf);
  ft_rmdir(dir);
}
END_TEST

/* fr_onnx_export writes the bytes fr_onnx_export_mem packs. */
START_TEST(export_file_same_bytes) {
  uint8_t *buf, *fbuf;
  size_t len, flen;
  export_mem(&buf, &len);
  char out[600];
  snprintf(out, sizeof out, "%s/out.onnx", dir);
  fr_model *m = trained();
  ck_assert_int_eq(fr_onnx_export(path, m, NULL, out), FR_OK);
  fr_model_free(m);
  ck_assert_int_eq(fr_read_file(out, &fbuf, &flen), FR_OK);
  ck_assert_uint_eq(flen, len);
  ck_assert_mem_eq(fbuf, buf, len);
  fr_free(fbuf);
  fr_free(buf);
  ft_rmdir(dir);
}
END_TEST

/* Names not found, or without raw_data, are errors naming them. */
START_TEST(missing_and_not_raw) {
  uint8_t *buf;
  size_t len;
  export_mem(&buf, &len);
  int64_t off[2], size[2];
  const char *const missing[2] = {"w", "nope"};
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, missing, 2, off, size),
                   FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "'nope'"));
  /* y is a node output, not a tensor; x a graph input. */
  const char *const y[1] = {"y"}, *const x[1] = {"x"};
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, y, 1, off, size), FR_ERR_INVALID);
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, x, 1, off, size), FR_ERR_INVALID);
  const char *const s[1] = {"s"};
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, s, 1, off, size),
                   FR_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "'s'"));
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, NULL, 0, off, size), FR_OK);
  fr_free(buf);
  ft_rmdir(dir);
}
END_TEST

/* Every prefix of the bytes: an error, or (once the graph is whole, at a
 * field boundary) the same offsets; each prefix is copied to a buffer of
 * its exact size so a read past it is caught by ASan or valgrind. */
START_TEST(truncated) {
  uint8_t *buf;
  size_t len;
  export_mem(&buf, &len);
  int64_t off[NP], size[NP], want[NP], end = 0;
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, PNAMES, NP, want, size), FR_OK);
  for (int i = 0; i < NP; i++)
    if (want[i] + size[i] > end) end = want[i] + size[i];
  int ok = 0;
  for (size_t n = 0; n < len; n++) {
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, buf, n);
    fr_status st = fr_onnx_raw_offsets(p, n, PNAMES, NP, off, size);
    if ((int64_t)n < end) ck_assert_int_ne(st, FR_OK);
    if (st == FR_OK) {
      ok++;
      ck_assert_mem_eq(off, want, sizeof want);
    }
    free(p);
  }
  ck_assert_int_lt(ok, 8);
  fr_free(buf);
  ft_rmdir(dir);
}
END_TEST

/* Every byte set in turn to 0x00, 0x80, 0xff: any status, no crash, and
 * offsets (when found) inside the buffer. */
START_TEST(corrupted) {
  uint8_t *buf;
  size_t len;
  export_mem(&buf, &len);
  const uint8_t vals[3] = {0x00, 0x80, 0xff};
  uint8_t *p = malloc(len);
  for (size_t i = 0; i < len; i++)
    for (int k = 0; k < 3; k++) {
      memcpy(p, buf, len);
      p[i] = vals[k];
      int64_t off[NP], size[NP];
      if (fr_onnx_raw_offsets(p, len, PNAMES, NP, off, size) == FR_OK)
        for (int j = 0; j < NP; j++)
          ck_assert(off[j] >= 0 && size[j] >= 0 && off[j] + size[j] <= (int64_t)len);
    }
  free(p);
  fr_free(buf);
  ft_rmdir(dir);
}
END_TEST

/* Fields of wire types 0, 1 and 5 are skipped; groups (3, 4) refused. */
START_TEST(wire_types) {
  uint8_t *buf;
  size_t len;
  export_mem(&buf, &len);
  /* field 15: varint 150, fixed64, fixed32 (17 bytes) before the model */
  const uint8_t pre[] = {0x78, 0x96, 0x01, 0x79, 1, 2, 3, 4, 5, 6, 7, 8,
                         0x7d, 1, 2, 3, 4};
  size_t np = sizeof pre;
  uint8_t *p = malloc(np + len);
  memcpy(p, pre, np);
  memcpy(p + np, buf, len);
  int64_t off[NP], size[NP], want[NP];
  ck_assert_int_eq(fr_onnx_raw_offsets(buf, len, PNAMES, NP, want, size), FR_OK);
  ck_assert_int_eq(fr_onnx_raw_offsets(p, np + len, PNAMES, NP, off, size), FR_OK);
  for (int i = 0; i < NP; i++) ck_assert_int_eq(off[i], want[i] + (int64_t)np);
  /* a group start (field 15, type 3), then type 4, 6, 7 */
  for (uint8_t key = 0x7b; key <= 0x7f; key++) {
    if (key == 0x7d) continue;
    p[0] = key;
    ck_assert_int_eq(fr_onnx_raw_offsets(p, np + len, PNAMES, NP, off, size),
                     FR_ERR_PARSE);
  }
  /* field number 0 */
  const uint8_t zero[] = {0x02, 0x00};
  ck_assert_int_eq(fr_onnx_raw_offsets(zero, sizeof zero, PNAMES, NP, off, size),
                   FR_ERR_PARSE);
  /* a length past the end, and a varint of 11 bytes */
  const uint8_t past[] = {0x3a, 0x05, 0x0a};
  ck_assert_int_eq(fr_onnx_raw_offsets(past, sizeof past, PNAMES, NP, off, size),
                   FR_ERR_PARSE);
  const uint8_t lng[] = {0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                         0xff, 0xff, 0xff, 0x01};
  ck_assert_int_eq(fr_onnx_raw_offsets(lng, sizeof lng, PNAMES, NP, off, size),
                   FR_ERR_PARSE);
  free(p);
  fr_free(buf);
  ft_rmdir(dir);
}
END_TEST

/* Each allocation of fr_onnx_export_mem fails in turn: FR_ERR_NOMEM, no
 * buffer (and, under valgrind, no leak). */
START_TEST(out_of_memory) {
  ft_tmpdir(dir, sizeof dir, "export");
  write_orig();
  fr_model *m = trained();
  uint8_t *buf;
  size_t len;
  unsigned long a0 = fr_mem_allocs();
  ck_assert_int_eq(fr_onnx_export_mem(path, m, NULL, &buf, &len), FR_OK);
  unsigned long n = fr_mem_allocs() - a0;
  fr_free(buf);
  for (unsigned long k = 0; k < n; k++) {
    fr_mem_fail_only((long)k);
    fr_status st = fr_onnx_export_mem(path, m, NULL, &buf, &len);
    fr_mem_fail_only(-1);
    ck_assert_msg(st == FR_ERR_NOMEM, "allocation %lu of %lu: status %d (%s)",
                  k, n, st, fr_err_msg());
    ck_assert_ptr_null(buf);
  }
  fr_model_free(m);
  ft_rmdir(dir);
}
END_TEST

FT_MAIN(export, offsets_and_patch, export_file_same_bytes, missing_and_not_raw,
        truncated, corrupted, wire_types, out_of_memory)
