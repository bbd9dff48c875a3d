/* test_tensor.c: the tensor movement and shape ops on small hand-computed
 * cases (values worked out by hand from the ONNX definitions), old-opset
 * forms, strings, folding of shape computations, and bad inputs that must
 * give an error status. */
#include <string.h>

#include "testutil.h"

/* Turns input i of the case into an initializer holding t (not copied);
 * an empty tensor pointer (NULL data, rank -1) omits the input. */
static void make_const(ft_case *c, int i, fr_tensor t) {
  fr_graph *g = c->m->graph;
  fr_value *v = c->n->in[i];
  int k = 0;
  for (int j = 0; j < g->n_inputs; j++)
    if (g->inputs[j] != v) g->inputs[k++] = g->inputs[j];
  g->n_inputs = k;
  if (t.rank < 0) {
    c->n->in[i] = NULL;
    return;
  }
  v->flags = FR_V_CONST;
  v->t = t;
  if (!g->inits) g->inits = fr_arena_alloc(&c->m->arena, sizeof(fr_value *) * 8);
  g->inits[g->n_inits++] = v;
}

static fr_tensor i64v(int n, int64_t *v) {
  return ft_tensor(FR_I64, 1, FT_DIMS(n), v);
}

static void attr_tensor(ft_case *c, const char *name, fr_tensor *t) {
  fr_attr *a = &c->n->attrs[c->n->n_attr++];
  a->name = fr_arena_strdup(&c->m->arena, name);
  a->type = FR_ATTR_TENSOR;
  a->t = t;
}

static void check_dims(const fr_tensor *t, int rank, const int64_t *dims) {
  ck_assert_int_eq(t->rank, rank);
  for (int i = 0; i < rank; i++)
    ck_assert_msg(t->dims[i] == dims[i], "dim %d: got %lld, expected %lld", i,
                  (long long)t->dims[i], (long long)dims[i]);
}

static void check_i64(const fr_tensor *t, int n, const int64_t *want) {
  ck_assert_int_eq(t->dtype, FR_I64);
  ck_assert_int_eq(fr_tensor_numel(t), n);
  const int64_t *g = t->data;
  for (int i = 0; i < n; i++)
    ck_assert_msg(g[i] == want[i], "element %d: got %lld, expected %lld", i,
                  (long long)g[i], (long long)want[i]);
}

static void check_i32(const fr_tensor *t, int n, const int32_t *want) {
  ck_assert_int_eq(t->dtype, FR_I32);
  ck_assert_int_eq(fr_tensor_numel(t), n);
  const int32_t *g = t->data;
  for (int i = 0; i < n; i++)
    ck_assert_msg(g[i] == want[i], "element %d: got %d, expected %d", i, g[i],
                  want[i]);
}

static void iota(float *x, int n) {
  for (int i = 0; i < n; i++) x[i] = (float)i;
}

/* ---- reshapes ----------------------------------------------------------- */

START_TEST(reshape_zero_and_minus_one) {
  ft_case *c = ft_new("Reshape", 14, 2, 1, 0);
  float x[24];
  iota(x, 24);
  int64_t shape[2] = {0, -1};
  make_const(c, 1, i64v(2, shape));
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), x)}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 12));
  ft_check_f32(&out[0], 24, x, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(reshape_bad_count) {
  ft_case *c = ft_new("Reshape", 13, 2, 1, 0);
  float x[24] = {0};
  int64_t shape[2] = {5, -1};
  make_const(c, 1, i64v(2, shape));
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), x)}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(reshape_needs_constant) {
  /* The shape as a runtime input: unknown at compile time. */
  ft_case *c = ft_new("Reshape", 13, 2, 1, 0);
  float x[4] = {0};
  int64_t shape[1] = {4};
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 2), x), i64v(1, shape)},
            out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "needs a constant"));
  ft_free(c);
}
END_TEST

START_TEST(flatten_squeeze_unsqueeze) {
  float x[24];
  iota(x, 24);
  fr_tensor out[1];
  ft_case *c = ft_new("Flatten", 13, 1, 1, 1);
  ft_attr_i(c, "axis", -1);
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), x)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(6, 4));
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Squeeze", 13, 2, 1, 0);
  int64_t ax[1] = {-2};
  make_const(c, 1, i64v(1, ax));
  in[0] = ft_tensor(FR_F32, 3, FT_DIMS(4, 1, 6), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(4, 6));
  ft_check_f32(&out[0], 24, x, 0);
  ft_release(out, 1);
  ft_free(c);

  /* Opset 11: axes as an attribute, negative against the output rank. */
  c = ft_new("Unsqueeze", 11, 1, 1, 1);
  ft_attr_ints(c, "axes", 2, (int64_t[]){-1, 0});
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(4, 6), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 4, FT_DIMS(1, 4, 6, 1));
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(squeeze_bad_axis) {
  ft_case *c = ft_new("Squeeze", 13, 2, 1, 0);
  float x[6] = {0};
  int64_t ax[1] = {0};
  make_const(c, 1, i64v(1, ax));
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), x)}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- shapes ------------------------------------------------------------- */

START_TEST(shape_and_size) {
  float x[120] = {0};
  fr_tensor in[1] = {ft_tensor(FR_F32, 4, FT_DIMS(2, 3, 4, 5), x)}, out[1];
  ft_case *c = ft_new("Shape", 15, 1, 1, 2);
  ft_attr_i(c, "start", 1);
  ft_attr_i(c, "end", -1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_i64(&out[0], 2, (const int64_t[]){3, 4});
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Size", 13, 1, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 0);
  check_i64(&out[0], 1, (const int64_t[]){120});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* Shape of an input whose data is unknown folds at compile time, so the
 * Reshape after a Shape -> Gather chain gets a known shape. */
START_TEST(shape_folds_at_compile_time) {
  ft_case *c = ft_new("Shape", 13, 1, 1, 0);
  fr_graph *g = c->m->graph;
  c->n->op = fr_op_lookup("", "Shape");
  g->inputs[0]->t = ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), NULL);
  g->inputs[0]->t.kind = FR_KIND_TENSOR;
  fr_infer_opts o = {.partial = true, .eval = fr_interp_eval};
  ck_assert_int_eq(fr_graph_infer(g, &o), FR_OK);
  ck_assert_ptr_nonnull(c->n->out[0]->t.data);
  check_i64(&c->n->out[0]->t, 3, (const int64_t[]){2, 3, 4});
  ft_free(c);
}
END_TEST

/* A node of g named after its op, inputs and outputs given as values. */
static fr_node *add_node(fr_graph *g, const char *op, int n_in, fr_value **in,
                         fr_value *out, int n_attr) {
  fr_node *n = fr_node_new(g, op, op, "", n_in, 1, n_attr);
  n->op = fr_op_lookup("", op);
  n->opset = 13;
  n->n_attr = 0;
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  n->out[0] = out;
  out->producer = n;
  return n;
}

static fr_value *const_value(fr_graph *g, const char *name, fr_tensor t) {
  fr_value *v = fr_value_new(g, name);
  v->flags = FR_V_CONST;
  v->t = t;
  return v;
}

/* X (2, 3, 4) with unknown data; Reshape(X, Concat(Unsqueeze(Gather(
 * Shape(X), 0)), [-1])) gets the shape (2, 12) at compile time. */
START_TEST(shape_chain_folds) {
  ft_case *c = ft_new("Identity", 13, 1, 1, 0);
  fr_graph *g = c->m->graph;
  c->n->op = fr_op_lookup("", "Identity");
  fr_value *x = g->inputs[0];
  x->t = ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), NULL);
  static int64_t zero = 0, ax = 0, m1 = -1;
  fr_value *i0 = const_value(g, "i0", ft_tensor(FR_I64, 0, NULL, &zero));
  fr_value *a0 = const_value(g, "a0", ft_tensor(FR_I64, 1, FT_DIMS(1), &ax));
  fr_value *mm = const_value(g, "m1", ft_tensor(FR_I64, 1, FT_DIMS(1), &m1));
  fr_value *s = fr_value_new(g, "s"), *d = fr_value_new(g, "d"),
           *du = fr_value_new(g, "du"), *shp = fr_value_new(g, "shp"),
           *y = fr_value_new(g, "y");
  add_node(g, "Shape", 1, (fr_value *[]){x}, s, 0);
  add_node(g, "Gather", 2, (fr_value *[]){s, i0}, d, 0);
  add_node(g, "Unsqueeze", 2, (fr_value *[]){d, a0}, du, 0);
  fr_node *cat = add_node(g, "Concat", 2, (fr_value *[]){du, mm}, shp, 1);
  cat->attrs[0] = (fr_attr){.name = "axis", .type = FR_ATTR_INT, .i = 0};
  cat->n_attr = 1;
  add_node(g, "Reshape", 2, (fr_value *[]){x, shp}, y, 0);
  fr_infer_opts o = {.partial = true, .eval = fr_interp_eval};
  ck_assert_int_eq(fr_graph_infer(g, &o), FR_OK);
  check_i64(&shp->t, 2, (const int64_t[]){2, -1});
  check_dims(&y->t, 2, FT_DIMS(2, 12));
  ft_free(c);
}
END_TEST

/* ---- transposes --------------------------------------------------------- */

START_TEST(transpose_perm) {
  float x[24];
  iota(x, 24);
  fr_tensor out[1];
  ft_case *c = ft_new("Transpose", 13, 1, 1, 1);
  ft_attr_ints(c, "perm", 3, (int64_t[]){1, 2, 0});
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), x)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 3, FT_DIMS(3, 4, 2));
  /* y[j, k, i] = x[i, j, k] = 12 i + 4 j + k */
  float want[24];
  for (int j = 0; j < 3; j++)
    for (int k = 0; k < 4; k++)
      for (int i = 0; i < 2; i++) want[(j * 4 + k) * 2 + i] = 12 * i + 4 * j + k;
  ft_check_f32(&out[0], 24, want, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Transpose", 1, 1, 1, 0); /* default: reversed dims */
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 3), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(3, 2));
  ft_check_f32(&out[0], 6, (const float[]){0, 3, 1, 4, 2, 5}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* Large enough for the tiled path: (10, 3, 70) -> (70, 3, 10). */
START_TEST(transpose_tiled) {
  enum { A = 10, B = 3, C = 70 };
  static float x[A * B * C], want[A * B * C];
  iota(x, A * B * C);
  for (int k = 0; k < C; k++)
    for (int j = 0; j < B; j++)
      for (int i = 0; i < A; i++)
        want[(k * B + j) * A + i] = x[(i * B + j) * C + k];
  ft_case *c = ft_new("Transpose", 13, 1, 1, 1);
  ft_attr_ints(c, "perm", 3, (int64_t[]){2, 1, 0});
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(A, B, C), x)}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 3, FT_DIMS(C, B, A));
  ft_check_f32(&out[0], A * B * C, want, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(transpose_bad_perm) {
  ft_case *c = ft_new("Transpose", 13, 1, 1, 1);
  ft_attr_ints(c, "perm", 3, (int64_t[]){0, 0, 1});
  float x[24] = {0};
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), x)}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(depth_space) {
  /* x (1, 4, 1, 2): channel c holds 10 c + w. */
  float x[8] = {0, 1, 10, 11, 20, 21, 30, 31};
  fr_tensor in[1] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 4, 1, 2), x)}, out[1];
  /* DCR: y[0, 0, h*2 + i, w*2 + j] = x[0, i*2 + j, h, w] */
  ft_case *c = ft_new("DepthToSpace", 13, 1, 1, 2);
  ft_attr_i(c, "blocksize", 2);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 4, FT_DIMS(1, 1, 2, 4));
  ft_check_f32(&out[0], 8, (const float[]){0, 10, 1, 11, 20, 30, 21, 31}, 0);
  fr_tensor y = out[0];
  ft_free(c);

  /* SpaceToDepth inverts DCR. */
  c = ft_new("SpaceToDepth", 13, 1, 1, 1);
  ft_attr_i(c, "blocksize", 2);
  ck_assert_int_eq(ft_run(c, &y, out), FR_OK);
  check_dims(&out[0], 4, FT_DIMS(1, 4, 1, 2));
  ft_check_f32(&out[0], 8, x, 0);
  ft_release(out, 1);
  ft_release(&y, 1);
  ft_free(c);

  /* CRD with one output channel: y[0, 0, h*2 + i, w*2 + j] = x[0, i*2 + j]
   * as well; with 2 output channels it differs: c' = c / 4. */
  float x2[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  in[0] = ft_tensor(FR_F32, 4, FT_DIMS(1, 8, 1, 1), x2);
  c = ft_new("DepthToSpace", 13, 1, 1, 2);
  ft_attr_i(c, "blocksize", 2);
  ft_attr_s(c, "mode", "CRD");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 4, FT_DIMS(1, 2, 2, 2));
  ft_check_f32(&out[0], 8, x2, 0);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("DepthToSpace", 13, 1, 1, 2);
  ft_attr_i(c, "blocksize", 2);
  ft_attr_s(c, "mode", "DCR"); /* channel i*4 + j*2 + c' */
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 8, (const float[]){0, 2, 4, 6, 1, 3, 5, 7}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- concatenation and splitting ---------------------------------------- */

START_TEST(concat_axis1) {
  ft_case *c = ft_new("Concat", 13, 2, 1, 1);
  ft_attr_i(c, "axis", -1);
  float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 2), a),
                     ft_tensor(FR_F32, 2, FT_DIMS(2, 1), b)},
            out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 3));
  ft_check_f32(&out[0], 6, (const float[]){1, 2, 5, 3, 4, 6}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(concat_mismatch) {
  ft_case *c = ft_new("Concat", 13, 2, 1, 1);
  ft_attr_i(c, "axis", 0);
  float a[4] = {0}, b[3] = {0};
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 2), a),
                     ft_tensor(FR_F32, 2, FT_DIMS(1, 3), b)},
            out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(split_forms) {
  float x[10];
  iota(x, 10);
  fr_tensor in[1], out[2];
  /* Opset 13: sizes as an input. */
  ft_case *c = ft_new("Split", 13, 2, 2, 0);
  int64_t sz[2] = {1, 2};
  make_const(c, 1, i64v(2, sz));
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(3, 2), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(1, 2));
  check_dims(&out[1], 2, FT_DIMS(2, 2));
  ft_check_f32(&out[1], 4, (const float[]){2, 3, 4, 5}, 0);
  ft_release(out, 2);
  ft_free(c);

  /* Opset 11: an attribute, on axis 1. */
  c = ft_new("Split", 11, 1, 2, 2);
  ft_attr_i(c, "axis", 1);
  ft_attr_ints(c, "split", 2, (int64_t[]){3, 2});
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 5), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 6, (const float[]){0, 1, 2, 5, 6, 7}, 0);
  ft_check_f32(&out[1], 4, (const float[]){3, 4, 8, 9}, 0);
  ft_release(out, 2);
  ft_free(c);

  /* Opset 18: num_outputs, the last part smaller. */
  c = ft_new("Split", 18, 1, 2, 1);
  ft_attr_i(c, "num_outputs", 2);
  in[0] = ft_tensor(FR_F32, 1, FT_DIMS(5), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){0, 1, 2}, 0);
  ft_check_f32(&out[1], 2, (const float[]){3, 4}, 0);
  ft_release(out, 2);
  ft_free(c);

  /* Unequal without sizes: an error. */
  c = ft_new("Split", 13, 1, 2, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- slicing ------------------------------------------------------------ */

START_TEST(slice_steps_and_clamping) {
  float x[10];
  iota(x, 10);
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(10), x)}, out[1];
  int64_t st[1] = {-1}, en[1] = {INT64_MIN}, ax[1] = {0}, sp[1] = {-3};
  ft_case *c = ft_new("Slice", 13, 5, 1, 0);
  make_const(c, 1, i64v(1, st));
  make_const(c, 2, i64v(1, en));
  make_const(c, 3, i64v(1, ax));
  make_const(c, 4, i64v(1, sp));
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){9, 6, 3, 0}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* Starts and ends beyond the dim, no axes, no steps. */
  int64_t st2[1] = {7}, en2[1] = {1000};
  c = ft_new("Slice", 13, 3, 1, 0);
  make_const(c, 1, i64v(1, st2));
  make_const(c, 2, i64v(1, en2));
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){7, 8, 9}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* Opset 9: attributes, 2-D, axis 1 only. */
  c = ft_new("Slice", 9, 1, 1, 3);
  ft_attr_ints(c, "starts", 1, (int64_t[]){1});
  ft_attr_ints(c, "ends", 1, (int64_t[]){-1});
  ft_attr_ints(c, "axes", 1, (int64_t[]){1});
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 5), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 3));
  ft_check_f32(&out[0], 6, (const float[]){1, 2, 3, 6, 7, 8}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(slice_zero_step) {
  float x[4] = {0};
  int64_t st[1] = {0}, en[1] = {4}, ax[1] = {0}, sp[1] = {0};
  ft_case *c = ft_new("Slice", 13, 5, 1, 0);
  make_const(c, 1, i64v(1, st));
  make_const(c, 2, i64v(1, en));
  make_const(c, 3, i64v(1, ax));
  make_const(c, 4, i64v(1, sp));
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(4), x)}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

/* ---- gathers ------------------------------------------------------------ */

START_TEST(gather_negative_and_bad) {
  float x[6] = {1, 2, 3, 4, 5, 6};
  int64_t idx[2] = {-1, 0};
  ft_case *c = ft_new("Gather", 13, 2, 1, 0);
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 2), x), i64v(2, idx)},
            out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 2));
  ft_check_f32(&out[0], 4, (const float[]){5, 6, 1, 2}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* axis 1, i32 scalar index: y (3) */
  int32_t i1 = 1;
  c = ft_new("Gather", 13, 2, 1, 1);
  ft_attr_i(c, "axis", 1);
  in[1] = ft_tensor(FR_I32, 0, NULL, &i1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 1, FT_DIMS(3));
  ft_check_f32(&out[0], 3, (const float[]){2, 4, 6}, 0);
  ft_release(out, 1);
  ft_free(c);

  int64_t bad[1] = {3};
  c = ft_new("Gather", 13, 2, 1, 0);
  in[1] = i64v(1, bad);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "out of range"));
  ft_free(c);
}
END_TEST

START_TEST(gather_elements_and_nd) {
  float x[4] = {1, 2, 3, 4};
  int64_t idx[4] = {0, 0, 1, -2};
  ft_case *c = ft_new("GatherElements", 13, 2, 1, 1);
  ft_attr_i(c, "axis", 1);
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 2), x),
                     ft_tensor(FR_I64, 2, FT_DIMS(2, 2), idx)},
            out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){1, 1, 4, 3}, 0);
  ft_release(out, 1);
  ft_free(c);

  idx[3] = 2; /* out of range */
  c = ft_new("GatherElements", 13, 2, 1, 1);
  ft_attr_i(c, "axis", 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);

  /* GatherND, batch_dims 1: data (2, 2, 2), indices (2, 1). */
  float d[8];
  iota(d, 8);
  int64_t ind[2] = {1, 0};
  c = ft_new("GatherND", 13, 2, 1, 1);
  ft_attr_i(c, "batch_dims", 1);
  in[0] = ft_tensor(FR_F32, 3, FT_DIMS(2, 2, 2), d);
  in[1] = ft_tensor(FR_I64, 2, FT_DIMS(2, 1), ind);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 2));
  ft_check_f32(&out[0], 4, (const float[]){2, 3, 4, 5}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* GatherND, tuples of 2 indexing (2, 2, 2): y (2, 2). */
  int64_t ind2[4] = {0, 1, 1, -1};
  c = ft_new("GatherND", 13, 2, 1, 0);
  in[1] = ft_tensor(FR_I64, 2, FT_DIMS(2, 2), ind2);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){2, 3, 6, 7}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(compress_axis_and_flat) {
  float x[6] = {1, 2, 3, 4, 5, 6};
  uint8_t cond[2] = {0, 1};
  fr_tensor out[1];
  ft_case *c = ft_new("Compress", 11, 2, 1, 1);
  ft_attr_i(c, "axis", -1);
  make_const(c, 1, ft_tensor(FR_BOOL, 1, FT_DIMS(2), cond));
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 2), x)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(3, 1));
  ft_check_f32(&out[0], 3, (const float[]){2, 4, 6}, 0);
  ft_release(out, 1);
  ft_free(c);

  uint8_t cond2[5] = {1, 0, 0, 1, 1};
  c = ft_new("Compress", 11, 2, 1, 0);
  make_const(c, 1, ft_tensor(FR_BOOL, 1, FT_DIMS(5), cond2));
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){1, 4, 5}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- scatters ----------------------------------------------------------- */

START_TEST(scatter_elements_reductions) {
  float x[5] = {1, 2, 3, 4, 5}, u[2] = {1.5f, 2.5f};
  int64_t idx[2] = {1, -4}; /* both name element 1 */
  fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(1, 5), x),
                     ft_tensor(FR_I64, 2, FT_DIMS(1, 2), idx),
                     ft_tensor(FR_F32, 2, FT_DIMS(1, 2), u)},
            out[1];
  ft_case *c = ft_new("ScatterElements", 16, 3, 1, 2);
  ft_attr_i(c, "axis", 1);
  ft_attr_s(c, "reduction", "add");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){1, 6, 3, 4, 5}, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("ScatterElements", 16, 3, 1, 2);
  ft_attr_i(c, "axis", 1);
  ft_attr_s(c, "reduction", "mul");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){1, 7.5f, 3, 4, 5}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* Scatter (opset 10) is ScatterElements without reduction. */
  idx[1] = 3;
  c = ft_new("Scatter", 10, 3, 1, 1);
  ft_attr_i(c, "axis", 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){1, 1.5f, 3, 2.5f, 5}, 0);
  ft_release(out, 1);
  ft_free(c);

  idx[1] = 5; /* out of range */
  c = ft_new("ScatterElements", 13, 3, 1, 1);
  ft_attr_i(c, "axis", 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);

  /* add is not in opset 13 */
  idx[1] = 3;
  c = ft_new("ScatterElements", 13, 3, 1, 1);
  ft_attr_s(c, "reduction", "add");
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

START_TEST(scatter_nd_slices) {
  /* data (2, 3) int32, indices (1, 1) = row 1, updates (1, 3) */
  int32_t x[6] = {1, 2, 3, 4, 5, 6}, u[3] = {10, 20, 30};
  int64_t idx[1] = {-1};
  fr_tensor in[3] = {ft_tensor(FR_I32, 2, FT_DIMS(2, 3), x),
                     ft_tensor(FR_I64, 2, FT_DIMS(1, 1), idx),
                     ft_tensor(FR_I32, 2, FT_DIMS(1, 3), u)},
            out[1];
  ft_case *c = ft_new("ScatterND", 16, 3, 1, 1);
  ft_attr_s(c, "reduction", "add");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_i32(&out[0], 6, (const int32_t[]){1, 2, 3, 14, 25, 36});
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("ScatterND", 13, 3, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_i32(&out[0], 6, (const int32_t[]){1, 2, 3, 10, 20, 30});
  ft_release(out, 1);
  ft_free(c);

  /* updates of the wrong shape */
  in[2] = ft_tensor(FR_I32, 2, FT_DIMS(1, 2), u);
  c = ft_new("ScatterND", 13, 3, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- broadcasting and padding ------------------------------------------- */

START_TEST(expand_and_tile) {
  float x[3] = {1, 2, 3};
  int64_t shape[3] = {2, 1, 2};
  fr_tensor out[1];
  ft_case *c = ft_new("Expand", 13, 2, 1, 0);
  make_const(c, 1, i64v(3, shape));
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 1), x)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 3, FT_DIMS(2, 3, 2));
  ft_check_f32(&out[0], 12,
               (const float[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, 0);
  ft_release(out, 1);
  ft_free(c);

  int64_t rep[2] = {2, 2};
  float y[4] = {1, 2, 3, 4};
  c = ft_new("Tile", 13, 2, 1, 0);
  make_const(c, 1, i64v(2, rep));
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 2), y);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(4, 4));
  ft_check_f32(&out[0], 16,
               (const float[]){1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4},
               0);
  ft_release(out, 1);
  ft_free(c);

  int64_t bad[3] = {2, 2, 2};
  c = ft_new("Expand", 13, 2, 1, 0);
  make_const(c, 1, i64v(3, bad));
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(3, 1), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

static void pad_case(const char *mode, const int64_t *pads,
                     const float *want, int n, int64_t w) {
  float x[6] = {1, 2, 3, 4, 5, 6}; /* (2, 3) */
  float cv = 9;
  int64_t p[4];
  memcpy(p, pads, sizeof p);
  ft_case *c = ft_new("Pad", 13, 3, 1, 1);
  ft_attr_s(c, "mode", mode);
  make_const(c, 1, i64v(4, p));
  make_const(c, 2, ft_tensor(FR_F32, 0, NULL, &cv));
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), x)}, out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(n / w, w));
  ft_check_f32(&out[0], n, want, 0);
  ft_release(out, 1);
  ft_free(c);
}

START_TEST(pad_modes) {
  /* pads: begin (dim0, dim1), end (dim0, dim1) */
  pad_case("constant", (const int64_t[]){0, 1, 1, -1},
           (const float[]){9, 1, 2, 9, 4, 5, 9, 9, 9}, 9, 3);
  pad_case("reflect", (const int64_t[]){0, 2, 0, 2},
           (const float[]){3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4}, 14, 7);
  pad_case("edge", (const int64_t[]){1, 1, 0, 0},
           (const float[]){1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6}, 12, 4);
}
END_TEST

START_TEST(pad_old_opset_and_bad) {
  float x[2] = {1, 2};
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(2), x)}, out[1];
  ft_case *c = ft_new("Pad", 2, 1, 1, 2);
  ft_attr_ints(c, "pads", 2, (int64_t[]){1, 2});
  ft_attr_f(c, "value", -1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){-1, 1, 2, -1, -1}, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Pad", 2, 1, 1, 1);
  ft_attr_ints(c, "pads", 2, (int64_t[]){-3, 0}); /* crops more than it has */
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- generators --------------------------------------------------------- */

START_TEST(constant_of_shape_and_range) {
  int64_t shape[2] = {2, 3}, seven = 7;
  fr_tensor val = ft_tensor(FR_I64, 1, FT_DIMS(1), &seven), out[1];
  ft_case *c = ft_new("ConstantOfShape", 13, 1, 1, 1);
  attr_tensor(c, "value", &val);
  make_const(c, 0, i64v(2, shape));
  ck_assert_int_eq(ft_run(c, NULL, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 3));
  check_i64(&out[0], 6, (const int64_t[]){7, 7, 7, 7, 7, 7});
  ft_release(out, 1);
  ft_free(c);

  int32_t s = 10, l = 4, d = -3;
  fr_tensor in[3] = {ft_tensor(FR_I32, 0, NULL, &s),
                     ft_tensor(FR_I32, 0, NULL, &l),
                     ft_tensor(FR_I32, 0, NULL, &d)};
  c = ft_new("Range", 11, 3, 1, 0);
  make_const(c, 0, in[0]);
  make_const(c, 1, in[1]);
  make_const(c, 2, in[2]);
  ck_assert_int_eq(ft_run(c, NULL, out), FR_OK);
  check_i32(&out[0], 2, (const int32_t[]){10, 7});
  ft_release(out, 1);
  ft_free(c);

  float fs = 1, fl = 2, fd = 0.25f;
  c = ft_new("Range", 11, 3, 1, 0);
  make_const(c, 0, ft_tensor(FR_F32, 0, NULL, &fs));
  make_const(c, 1, ft_tensor(FR_F32, 0, NULL, &fl));
  make_const(c, 2, ft_tensor(FR_F32, 0, NULL, &fd));
  ck_assert_int_eq(ft_run(c, NULL, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){1, 1.25f, 1.5f, 1.75f}, 0);
  ft_release(out, 1);
  ft_free(c);

  d = 0;
  c = ft_new("Range", 11, 3, 1, 0);
  make_const(c, 0, in[0]);
  make_const(c, 1, in[1]);
  make_const(c, 2, in[2]);
  ck_assert_int_eq(ft_run(c, NULL, out), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

START_TEST(trilu_eye_onehot) {
  float x[9];
  iota(x, 9);
  int64_t k = -1;
  fr_tensor out[1];
  ft_case *c = ft_new("Trilu", 14, 2, 1, 1);
  ft_attr_i(c, "upper", 0);
  make_const(c, 1, ft_tensor(FR_I64, 0, NULL, &k));
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 3), x)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 9, (const float[]){0, 0, 0, 3, 0, 0, 6, 7, 0}, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Trilu", 14, 1, 1, 0); /* upper, k = 0 */
  in[0] = ft_tensor(FR_F32, 2, FT_DIMS(2, 3), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 6, (const float[]){0, 1, 2, 0, 4, 5}, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("EyeLike", 9, 1, 1, 2);
  ft_attr_i(c, "k", 1);
  ft_attr_i(c, "dtype", FR_I32);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_i32(&out[0], 6, (const int32_t[]){0, 1, 0, 0, 0, 1});
  ft_release(out, 1);
  ft_free(c);

  /* OneHot: indices {1, -1, 5}, depth 3, axis 0 -> y (3, 3) */
  int64_t idx[3] = {1, -1, 5};
  float depth = 3, vals[2] = {0, 2};
  c = ft_new("OneHot", 11, 3, 1, 1);
  ft_attr_i(c, "axis", 0);
  make_const(c, 1, ft_tensor(FR_F32, 0, NULL, &depth));
  make_const(c, 2, ft_tensor(FR_F32, 1, FT_DIMS(2), vals));
  fr_tensor oin[1] = {i64v(3, idx)};
  ck_assert_int_eq(ft_run(c, oin, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(3, 3));
  ft_check_f32(&out[0], 9, (const float[]){0, 0, 0, 2, 0, 0, 0, 2, 0}, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Trilu", 14, 1, 1, 0); /* rank 1: an error */
  in[0] = ft_tensor(FR_F32, 1, FT_DIMS(3), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- sequences and selections ------------------------------------------- */

START_TEST(reverse_sequence) {
  /* (time 3, batch 2): x[t, b] = 10 t + b; lens {3, 1} */
  float x[6] = {0, 1, 10, 11, 20, 21};
  int64_t lens[2] = {3, 1};
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 2), x), i64v(2, lens)},
            out[1];
  ft_case *c = ft_new("ReverseSequence", 10, 2, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 6, (const float[]){20, 1, 10, 11, 0, 21}, 0);
  ft_release(out, 1);
  ft_free(c);

  lens[1] = 4;
  c = ft_new("ReverseSequence", 10, 2, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

START_TEST(nonzero_values) {
  float x[6] = {0, 1, 0, 0, -2, 3}; /* (2, 3) */
  ft_case *c = ft_new("NonZero", 13, 1, 1, 0);
  make_const(c, 0, ft_tensor(FR_F32, 2, FT_DIMS(2, 3), x));
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, NULL, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 3));
  check_i64(&out[0], 6, (const int64_t[]){0, 1, 1, 1, 1, 2});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* Unique's output shapes are known only once it has run: compile-time
 * inference leaves them unknown, even on a constant input, and the
 * interpreter's exec produces the outputs. */
static fr_status run_interp(ft_case *c, fr_tensor *out) {
  fr_node *n = c->n;
  n->op = fr_op_lookup("", n->op_type);
  ck_assert_int_eq(fr_node_infer(n), FR_ERR_UNSUPPORTED);
  FR_TRY(fr_graph_verify(c->m->graph));
  return fr_run_model(c->m, NULL, out);
}

START_TEST(unique_sorted_and_not) {
  float x[6] = {2, 1, 1, 3, 4, 3};
  fr_tensor out[4];
  ft_case *c = ft_new("Unique", 11, 1, 4, 0);
  make_const(c, 0, ft_tensor(FR_F32, 1, FT_DIMS(6), x));
  ck_assert_int_eq(run_interp(c, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){1, 2, 3, 4}, 0);
  check_i64(&out[1], 4, (const int64_t[]){1, 0, 3, 4});
  check_i64(&out[2], 6, (const int64_t[]){1, 0, 0, 2, 3, 2});
  check_i64(&out[3], 4, (const int64_t[]){2, 1, 2, 1});
  ft_release(out, 4);
  ft_free(c);

  c = ft_new("Unique", 11, 1, 4, 1);
  ft_attr_i(c, "sorted", 0);
  make_const(c, 0, ft_tensor(FR_F32, 1, FT_DIMS(6), x));
  ck_assert_int_eq(run_interp(c, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){2, 1, 3, 4}, 0);
  check_i64(&out[1], 4, (const int64_t[]){0, 1, 3, 4});
  check_i64(&out[2], 6, (const int64_t[]){0, 1, 1, 2, 3, 2});
  check_i64(&out[3], 4, (const int64_t[]){1, 2, 2, 1});
  ft_release(out, 4);
  ft_free(c);

  /* Along axis 1 of (2, 3): columns {1,4}, {0,5}, {1,4}. */
  float m[6] = {1, 0, 1, 4, 5, 4};
  c = ft_new("Unique", 11, 1, 4, 1);
  ft_attr_i(c, "axis", 1);
  make_const(c, 0, ft_tensor(FR_F32, 2, FT_DIMS(2, 3), m));
  ck_assert_int_eq(run_interp(c, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 2));
  ft_check_f32(&out[0], 4, (const float[]){0, 1, 5, 4}, 0);
  check_i64(&out[2], 3, (const int64_t[]){1, 0, 1});
  ft_release(out, 4);
  ft_free(c);
}
END_TEST

/* ---- strings ------------------------------------------------------------ */

START_TEST(strings_are_copied) {
  const char *s[4] = {"a", "bb", "ccc", "dddd"};
  int64_t idx[3] = {3, 0, -1};
  fr_tensor out[1];
  ft_case *c = ft_new("Gather", 13, 2, 1, 0);
  fr_tensor in[2] = {ft_tensor(FR_STRING, 1, FT_DIMS(4), s), i64v(3, idx)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  char **y = out[0].data;
  ck_assert_str_eq(y[0], "dddd");
  ck_assert_str_eq(y[1], "a");
  ck_assert_str_eq(y[2], "dddd");
  ck_assert_ptr_ne(y[0], s[3]); /* owned copies */
  ck_assert_ptr_ne(y[0], y[2]);
  ft_release(out, 1);
  ft_free(c);

  const char *t[2] = {"x", "y"};
  c = ft_new("Concat", 13, 2, 1, 1);
  ft_attr_i(c, "axis", 0);
  in[1] = ft_tensor(FR_STRING, 1, FT_DIMS(2), t);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  y = out[0].data;
  ck_assert_int_eq(fr_tensor_numel(&out[0]), 6);
  ck_assert_str_eq(y[3], "dddd");
  ck_assert_str_eq(y[5], "y");
  ft_release(out, 1);
  ft_free(c);

  /* Pad with the default constant, the empty string. */
  int64_t pads[2] = {1, 0};
  c = ft_new("Pad", 13, 2, 1, 0);
  make_const(c, 1, i64v(2, pads));
  fr_tensor pin[1] = {ft_tensor(FR_STRING, 1, FT_DIMS(2), t)};
  ck_assert_int_eq(ft_run(c, pin, out), FR_OK);
  y = out[0].data;
  ck_assert_str_eq(y[0], "");
  ck_assert_str_eq(y[1], "x");
  ck_assert_str_eq(y[2], "y");
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

FT_MAIN(tensor, reshape_zero_and_minus_one, reshape_bad_count,
        reshape_needs_constant, flatten_squeeze_unsqueeze, squeeze_bad_axis,
        shape_and_size, shape_folds_at_compile_time, shape_chain_folds,
        transpose_perm,
        transpose_tiled,
        transpose_bad_perm, depth_space, concat_axis1, concat_mismatch,
        split_forms, slice_steps_and_clamping, slice_zero_step,
        gather_negative_and_bad, gather_elements_and_nd,
        compress_axis_and_flat, scatter_elements_reductions,
        scatter_nd_slices, expand_and_tile, pad_modes, pad_old_opset_and_bad,
        constant_of_shape_and_range, trilu_eye_onehot, reverse_sequence,
        nonzero_values, unique_sorted_and_not, strings_are_copied)
