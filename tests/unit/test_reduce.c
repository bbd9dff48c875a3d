/* test_reduce.c: reductions, ArgMax/ArgMin, the softmax family, CumSum,
 * TopK, normalizations and losses on small hand-computed cases; error
 * paths (bad axes, shapes, targets) must return a status, not crash. */
#include <math.h>
#include <string.h>

#include "testutil.h"

/* Appends a constant input (an initializer holding a copy of t) to the
 * node of c, after its graph inputs. */
static void add_const(ft_case *c, fr_tensor t) {
  fr_node *n = c->n;
  fr_model *m = c->m;
  fr_graph *g = m->graph;
  fr_value **in = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(n->n_in + 2));
  ck_assert_ptr_nonnull(in);
  memcpy(in, n->in, sizeof(fr_value *) * (size_t)n->n_in);
  char name[32];
  snprintf(name, sizeof name, "const%d", n->n_in);
  fr_value *v = fr_value_new(g, name);
  ck_assert_ptr_nonnull(v);
  v->flags = FR_V_CONST;
  v->t = t;
  size_t nb = fr_tensor_nbytes(&t);
  v->t.data = fr_arena_alloc(&m->arena, nb ? nb : 1);
  if (nb) memcpy(v->t.data, t.data, nb);
  fr_value **inits = fr_arena_alloc(&m->arena, sizeof(fr_value *) * (size_t)(g->n_inits + 1));
  if (g->n_inits) memcpy(inits, g->inits, sizeof(fr_value *) * (size_t)g->n_inits);
  inits[g->n_inits++] = v;
  g->inits = inits;
  in[n->n_in++] = v;
  n->in = in;
}

static void check_i64(const fr_tensor *got, int n, const int64_t *want) {
  ck_assert_int_eq(got->dtype, FR_I64);
  ck_assert_int_eq(fr_tensor_numel(got), n);
  const int64_t *g = got->data;
  for (int i = 0; i < n; i++)
    ck_assert_msg(g[i] == want[i], "element %d: got %lld, expected %lld", i,
                  (long long)g[i], (long long)want[i]);
}

static void check_dims(const fr_tensor *t, int rank, const int64_t *dims) {
  ck_assert_int_eq(t->rank, rank);
  for (int i = 0; i < rank; i++) ck_assert_int_eq(t->dims[i], dims[i]);
}

/* ---- Reduce* -------------------------------------------------------- */

START_TEST(reduce_sum_attr_axes) {
  /* opset 11: axes as attribute; (2, 3) summed over axis 1 */
  ft_case *c = ft_new("ReduceSum", 11, 1, 1, 2);
  ft_attr_ints(c, "axes", 1, (const int64_t[]){1});
  ft_attr_i(c, "keepdims", 0);
  float a[6] = {1, 2, 3, 4, 5, 6};
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 1, FT_DIMS(2));
  ft_check_f32(&out[0], 2, (const float[]){6, 15}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(reduce_sum_axes_input) {
  /* opset 13: axes as input; (2, 3, 2) over axes [0, 2], keepdims */
  ft_case *c = ft_new("ReduceSum", 13, 1, 1, 0);
  int64_t axes[2] = {0, -1};
  add_const(c, ft_tensor(FR_I64, 1, FT_DIMS(2), axes));
  float a[12];
  for (int i = 0; i < 12; i++) a[i] = (float)i;
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 2), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 3, FT_DIMS(1, 3, 1));
  /* j=0: 0+1+6+7, j=1: 2+3+8+9, j=2: 4+5+10+11 */
  ft_check_f32(&out[0], 3, (const float[]){14, 22, 30}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(reduce_sum_noop_empty_axes) {
  ft_case *c = ft_new("ReduceSum", 13, 1, 1, 1);
  ft_attr_i(c, "noop_with_empty_axes", 1);
  add_const(c, ft_tensor(FR_I64, 1, FT_DIMS(0), NULL));
  float a[3] = {1, -2, 3};
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(3), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, a, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(reduce_mean_last_axis) {
  /* (2, 19): rows 0..18 and 19..37; exercises the 8-way fold and its tail */
  ft_case *c = ft_new("ReduceMean", 13, 1, 1, 1);
  ft_attr_ints(c, "axes", 1, (const int64_t[]){-1});
  float a[38];
  for (int i = 0; i < 38; i++) a[i] = (float)i;
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 19), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 1));
  ft_check_f32(&out[0], 2, (const float[]){9, 28}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(reduce_max_min_all) {
  float a[24];
  for (int i = 0; i < 24; i++) a[i] = (float)((i * 7) % 24) - 10;
  a[13] = 100; /* max */
  a[5] = -50;  /* min */
  const char *ops[2] = {"ReduceMax", "ReduceMin"};
  const float want[2] = {100, -50};
  for (int k = 0; k < 2; k++) {
    ft_case *c = ft_new(ops[k], 13, 1, 1, 0);
    fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 3, 4), a)};
    fr_tensor out[1];
    ck_assert_int_eq(ft_run(c, in, out), FR_OK);
    check_dims(&out[0], 3, FT_DIMS(1, 1, 1));
    ft_check_f32(&out[0], 1, &want[k], 0);
    ft_release(out, 1);
    ft_free(c);
  }
}
END_TEST

START_TEST(reduce_middle_axis_kinds) {
  /* (2, 2, 2) over axis 1, keepdims 0: pairs (x[i,0,k], x[i,1,k]) */
  float a[8] = {1, -2, 3, 4, -1, 2, 2, 0.5f};
  struct {
    const char *op;
    float want[4];
  } cases[] = {
      {"ReduceProd", {3, -8, -2, 1}},
      {"ReduceL1", {4, 6, 3, 2.5f}},
      {"ReduceL2", {sqrtf(10), sqrtf(20), sqrtf(5), sqrtf(4.25f)}},
      {"ReduceSumSquare", {10, 20, 5, 4.25f}},
      {"ReduceLogSum", {logf(4), logf(2), logf(1), logf(2.5f)}},
      {"ReduceLogSumExp",
       {logf(expf(1) + expf(3)), logf(expf(-2) + expf(4)),
        logf(expf(-1) + expf(2)), logf(expf(2) + expf(0.5f))}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    ft_case *c = ft_new(cases[k].op, 13, 1, 1, 2);
    ft_attr_ints(c, "axes", 1, (const int64_t[]){1});
    ft_attr_i(c, "keepdims", 0);
    fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 2, 2), a)};
    fr_tensor out[1];
    ck_assert_int_eq(ft_run(c, in, out), FR_OK);
    check_dims(&out[0], 2, FT_DIMS(2, 2));
    ft_check_f32(&out[0], 4, cases[k].want, 1e-5f);
    ft_release(out, 1);
    ft_free(c);
  }
}
END_TEST

START_TEST(reduce_int_types) {
  ft_case *c = ft_new("ReduceSum", 11, 1, 1, 1);
  ft_attr_ints(c, "axes", 1, (const int64_t[]){0});
  int64_t a[6] = {1, 2, 3, 40, 50, 60};
  fr_tensor in[1] = {ft_tensor(FR_I64, 2, FT_DIMS(2, 3), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_i64(&out[0], 3, (const int64_t[]){41, 52, 63});
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("ReduceMin", 11, 1, 1, 1);
  ft_attr_i(c, "keepdims", 0);
  int32_t b[4] = {5, -7, 3, 9};
  in[0] = ft_tensor(FR_I32, 1, FT_DIMS(4), b);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 0);
  ck_assert_int_eq(out[0].dtype, FR_I32);
  ck_assert_int_eq(((int32_t *)out[0].data)[0], -7);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(reduce_bad_axes) {
  float a[6] = {0};
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a)};
  fr_tensor out[1];
  ft_case *c = ft_new("ReduceMean", 13, 1, 1, 1);
  ft_attr_ints(c, "axes", 2, (const int64_t[]){1, -1});
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID); /* repeated */
  ft_free(c);
  c = ft_new("ReduceMean", 13, 1, 1, 1);
  ft_attr_ints(c, "axes", 1, (const int64_t[]){2});
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE); /* out of range */
  ft_free(c);
}
END_TEST

/* ---- ArgMax / ArgMin ------------------------------------------------ */

START_TEST(argmax_argmin) {
  /* (2, 3): ties on row 0 */
  float a[6] = {2, 5, 5, 1, -1, 1};
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a)};
  fr_tensor out[1];
  ft_case *c = ft_new("ArgMax", 13, 1, 1, 2);
  ft_attr_i(c, "axis", 1);
  ft_attr_i(c, "keepdims", 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 1, FT_DIMS(2));
  check_i64(&out[0], 2, (const int64_t[]){1, 0});
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("ArgMax", 13, 1, 1, 2);
  ft_attr_i(c, "axis", -1);
  ft_attr_i(c, "select_last_index", 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(2, 1));
  check_i64(&out[0], 2, (const int64_t[]){2, 2});
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("ArgMin", 13, 1, 1, 0); /* default axis 0 */
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_dims(&out[0], 2, FT_DIMS(1, 3));
  check_i64(&out[0], 3, (const int64_t[]){1, 1, 1});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- Softmax family ------------------------------------------------- */

START_TEST(softmax_axis_inner) {
  /* opset 13, (1, 2, 2) along axis 1: columns (0, ln 3) and (1000, 1000) */
  ft_case *c = ft_new("Softmax", 13, 1, 1, 1);
  ft_attr_i(c, "axis", 1);
  float a[4] = {0, 1000, logf(3), 1000};
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0.25f, 0.5f, 0.75f, 0.5f}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(softmax_old_opset_coerces_2d) {
  /* opset 9, axis 1 on (2, 2, 1): rows of 2 elements after coercion; from
   * opset 13 the same axis would normalize pairs along axis 1 too, so use
   * axis 1 of (1, 2, 2) where they differ: old = one row of 4. */
  ft_case *c = ft_new("Softmax", 9, 1, 1, 0);
  float a[4] = {0, 0, 0, 0};
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0.25f, 0.25f, 0.25f, 0.25f}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Softmax", 13, 1, 1, 1);
  ft_attr_i(c, "axis", 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0.5f, 0.5f, 0.5f, 0.5f}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(logsoftmax_hardmax) {
  float a[6] = {1, 2, 3, 1e4f, 1e4f, -1e4f};
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a)};
  fr_tensor out[1];
  ft_case *c = ft_new("LogSoftmax", 13, 1, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  float l = logf(expf(-2) + expf(-1) + 1);
  ft_check_f32(&out[0], 6,
               (const float[]){-2 - l, -1 - l, -l, -logf(2), -logf(2), -2e4f - logf(2)},
               1e-5f);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Hardmax", 13, 1, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 6, (const float[]){0, 0, 1, 1, 0, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(softmax_rejects_int) {
  ft_case *c = ft_new("Softmax", 13, 1, 1, 0);
  int32_t a[2] = {1, 2};
  fr_tensor in[1] = {ft_tensor(FR_I32, 1, FT_DIMS(2), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- CumSum, TopK --------------------------------------------------- */

START_TEST(cumsum_variants) {
  /* (2, 3) along axis 1 */
  double a[6] = {1, 2, 3, 4, 5, 6};
  struct {
    int exc, rev;
    double want[6];
  } cases[] = {{0, 0, {1, 3, 6, 4, 9, 15}},
               {1, 0, {0, 1, 3, 0, 4, 9}},
               {0, 1, {6, 5, 3, 15, 11, 6}},
               {1, 1, {5, 3, 0, 11, 6, 0}}};
  for (int k = 0; k < 4; k++) {
    ft_case *c = ft_new("CumSum", 14, 1, 1, 2);
    ft_attr_i(c, "exclusive", cases[k].exc);
    ft_attr_i(c, "reverse", cases[k].rev);
    int32_t axis = -1;
    add_const(c, ft_tensor(FR_I32, 0, NULL, &axis));
    fr_tensor in[1] = {ft_tensor(FR_F64, 2, FT_DIMS(2, 3), a)};
    fr_tensor out[1];
    ck_assert_int_eq(ft_run(c, in, out), FR_OK);
    const double *y = out[0].data;
    for (int i = 0; i < 6; i++) ck_assert_double_eq(y[i], cases[k].want[i]);
    ft_release(out, 1);
    ft_free(c);
  }
}
END_TEST

START_TEST(cumsum_axis0) {
  ft_case *c = ft_new("CumSum", 14, 1, 1, 0);
  int64_t axis = 0;
  add_const(c, ft_tensor(FR_I64, 1, FT_DIMS(1), &axis));
  int64_t a[4] = {1, 2, 10, 20};
  fr_tensor in[1] = {ft_tensor(FR_I64, 2, FT_DIMS(2, 2), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_i64(&out[0], 4, (const int64_t[]){1, 2, 11, 22});
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(topk_largest_smallest) {
  /* (2, 4) along axis 1, ties: lower index first */
  float a[8] = {3, 1, 3, 2, -1, -5, 0, -5};
  int64_t k = 2;
  for (int largest = 1; largest >= 0; largest--) {
    ft_case *c = ft_new("TopK", 11, 1, 2, 1);
    ft_attr_i(c, "largest", largest);
    add_const(c, ft_tensor(FR_I64, 1, FT_DIMS(1), &k));
    fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 4), a)};
    fr_tensor out[2];
    ck_assert_int_eq(ft_run(c, in, out), FR_OK);
    check_dims(&out[0], 2, FT_DIMS(2, 2));
    if (largest) {
      ft_check_f32(&out[0], 4, (const float[]){3, 3, 0, -1}, 0);
      check_i64(&out[1], 4, (const int64_t[]){0, 2, 2, 0});
    } else {
      ft_check_f32(&out[0], 4, (const float[]){1, 2, -5, -5}, 0);
      check_i64(&out[1], 4, (const int64_t[]){1, 3, 1, 3});
    }
    ft_release(out, 2);
    ft_free(c);
  }
}
END_TEST

START_TEST(topk_axis0_and_bad_k) {
  /* (3, 2) along axis 0, k = 1 */
  float a[6] = {1, 9, 7, 2, 4, 8};
  int64_t k = 1;
  ft_case *c = ft_new("TopK", 11, 1, 2, 1);
  ft_attr_i(c, "axis", 0);
  add_const(c, ft_tensor(FR_I64, 1, FT_DIMS(1), &k));
  fr_tensor in[1] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 2), a)};
  fr_tensor out[2];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){7, 9}, 0);
  check_i64(&out[1], 2, (const int64_t[]){1, 0});
  ft_release(out, 2);
  ft_free(c);

  k = 4; /* more than the 3 elements along axis 0 */
  c = ft_new("TopK", 11, 1, 2, 1);
  ft_attr_i(c, "axis", 0);
  add_const(c, ft_tensor(FR_I64, 1, FT_DIMS(1), &k));
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* ---- normalizations ------------------------------------------------- */

START_TEST(batchnorm_inference) {
  /* opset 9, (1, 2, 2): y = (x - mean) / sqrt(var + eps) * s + b */
  ft_case *c = ft_new("BatchNormalization", 9, 5, 1, 1);
  ft_attr_f(c, "epsilon", 0);
  float x[4] = {1, 3, 10, 20}, s[2] = {2, 1}, b[2] = {0, 1}, m[2] = {1, 10},
        v[2] = {4, 25};
  fr_tensor in[5] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), x),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), s),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), b),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), m),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), v)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0, 2, 1, 3}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(batchnorm_training) {
  /* opset 15, (2, 1, 1): batch mean 2, var 1; momentum 0.5 */
  ft_case *c = ft_new("BatchNormalization", 15, 5, 3, 3);
  ft_attr_i(c, "training_mode", 1);
  ft_attr_f(c, "momentum", 0.5f);
  ft_attr_f(c, "epsilon", 0);
  float x[2] = {1, 3}, s[1] = {1}, b[1] = {0}, m[1] = {0}, v[1] = {3};
  fr_tensor in[5] = {ft_tensor(FR_F32, 3, FT_DIMS(2, 1, 1), x),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), s),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), b),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), m),
                     ft_tensor(FR_F32, 1, FT_DIMS(1), v)};
  fr_tensor out[3];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){-1, 1}, 1e-6f);
  ft_check_f32(&out[1], 1, (const float[]){1}, 1e-6f);
  ft_check_f32(&out[2], 1, (const float[]){2}, 1e-6f);
  ft_release(out, 3);
  ft_free(c);
}
END_TEST

START_TEST(batchnorm_bad_scale) {
  ft_case *c = ft_new("BatchNormalization", 15, 5, 1, 0);
  float x[4] = {0}, p[3] = {1, 1, 1};
  fr_tensor in[5] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), x),
                     ft_tensor(FR_F32, 1, FT_DIMS(3), p),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), p),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), p),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), p)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(instancenorm_values) {
  /* (1, 2, 2): channel 0 {0, 2}: mean 1, var 1; channel 1 constant */
  ft_case *c = ft_new("InstanceNormalization", 6, 3, 1, 1);
  float x[4] = {0, 2, 5, 5}, s[2] = {3, 1}, b[2] = {1, 7};
  fr_tensor in[3] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), x),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), s),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), b)};
  fr_tensor out[1];
  ft_attr_f(c, "epsilon", 1e-30f);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){-2, 4, 7, 7}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(layernorm_with_stats) {
  /* (2, 2), axis -1; rows {1, 3} and {-2, 2}; W {1, 2}, B {0, 1} */
  ft_case *c = ft_new("LayerNormalization", 17, 3, 3, 1);
  ft_attr_f(c, "epsilon", 0);
  float x[4] = {1, 3, -2, 2}, w[2] = {1, 2}, b[2] = {0, 1};
  fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 2), x),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), w),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), b)};
  fr_tensor out[3];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){-1, 3, -1, 3}, 1e-6f);
  check_dims(&out[1], 2, FT_DIMS(2, 1));
  ft_check_f32(&out[1], 2, (const float[]){2, 0}, 1e-6f);
  ft_check_f32(&out[2], 2, (const float[]){1, 0.5f}, 1e-6f);
  ft_release(out, 3);
  ft_free(c);
}
END_TEST

START_TEST(layernorm_broadcast_scale_and_bad) {
  /* (1, 2, 2), axis 1, W of shape (1, 2) broadcast over the normalized
   * (2, 2); B omitted */
  ft_case *c = ft_new("LayerNormalization", 17, 2, 1, 2);
  ft_attr_i(c, "axis", 1);
  ft_attr_f(c, "epsilon", 0);
  float x[4] = {0, 2, 0, 2}, w[2] = {1, 10};
  fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), x),
                     ft_tensor(FR_F32, 2, FT_DIMS(1, 2), w)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){-1, 10, -1, 10}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("LayerNormalization", 17, 2, 1, 0);
  float w3[3] = {1, 1, 1};
  in[1] = ft_tensor(FR_F32, 1, FT_DIMS(3), w3);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(lrn_values) {
  /* (1, 3, 1), size 3, alpha 3, beta 1, bias 1: y = x / (1 + sumsq) */
  ft_case *c = ft_new("LRN", 13, 1, 1, 4);
  ft_attr_i(c, "size", 3);
  ft_attr_f(c, "alpha", 3);
  ft_attr_f(c, "beta", 1);
  ft_attr_f(c, "bias", 1);
  float x[3] = {1, 2, 3};
  fr_tensor in[1] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 3, 1), x)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){1.0f / 6, 2.0f / 15, 3.0f / 14},
               1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(mvn_values) {
  /* (1, 2, 1, 2), default axes (0, 2, 3): per channel {1, 3} and {4, 4} */
  ft_case *c = ft_new("MeanVarianceNormalization", 13, 1, 1, 0);
  float x[4] = {1, 3, 4, 4};
  fr_tensor in[1] = {ft_tensor(FR_F32, 4, FT_DIMS(1, 2, 1, 2), x)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){-1, 1, 0, 0}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* ---- losses --------------------------------------------------------- */

START_TEST(nllloss_weight_ignore) {
  /* (3, 2) log-probs, targets {0, 1, 1} with ignore_index 0, weight {5, 2} */
  float x[6] = {-1, -2, -3, -4, -5, -6}, w[2] = {5, 2};
  int64_t t[3] = {0, 1, 1};
  fr_tensor in[3] = {ft_tensor(FR_F32, 2, FT_DIMS(3, 2), x),
                     ft_tensor(FR_I64, 1, FT_DIMS(3), t),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), w)};
  fr_tensor out[1];
  ft_case *c = ft_new("NegativeLogLikelihoodLoss", 13, 3, 1, 2);
  ft_attr_i(c, "ignore_index", 0);
  ft_attr_s(c, "reduction", "none");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){0, 8, 12}, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("NegativeLogLikelihoodLoss", 13, 3, 1, 1);
  ft_attr_i(c, "ignore_index", 0); /* mean: (8 + 12) / (2 + 2) */
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 0);
  ft_check_f32(&out[0], 1, (const float[]){5}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(nllloss_bad_target) {
  float x[4] = {-1, -2, -3, -4};
  int64_t t[2] = {0, 2}; /* 2 is not a class of C = 2 */
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 2), x),
                     ft_tensor(FR_I64, 1, FT_DIMS(2), t)};
  fr_tensor out[1];
  ft_case *c = ft_new("NegativeLogLikelihoodLoss", 13, 2, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

START_TEST(sce_log_prob) {
  /* scores (N=1, C=2, D=2), uniform over the classes at both d */
  float x[4] = {0, 5, 0, 5};
  int64_t t[2] = {1, 0};
  fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), x),
                     ft_tensor(FR_I64, 2, FT_DIMS(1, 2), t)};
  fr_tensor out[2];
  ft_case *c = ft_new("SoftmaxCrossEntropyLoss", 13, 2, 2, 1);
  ft_attr_s(c, "reduction", "sum");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  float l2 = -logf(2);
  ft_check_f32(&out[1], 4, (const float[]){l2, l2, l2, l2}, 1e-6f);
  ft_check_f32(&out[0], 1, (const float[]){2 * logf(2)}, 1e-6f);
  ft_release(out, 2);
  ft_free(c);
}
END_TEST

FT_MAIN(reduce, reduce_sum_attr_axes, reduce_sum_axes_input,
        reduce_sum_noop_empty_axes, reduce_mean_last_axis, reduce_max_min_all,
        reduce_middle_axis_kinds, reduce_int_types, reduce_bad_axes,
        argmax_argmin, softmax_axis_inner, softmax_old_opset_coerces_2d,
        logsoftmax_hardmax, softmax_rejects_int, cumsum_variants, cumsum_axis0,
        topk_largest_smallest, topk_axis0_and_bad_k, batchnorm_inference,
        batchnorm_training, batchnorm_bad_scale, instancenorm_values,
        layernorm_with_stats, layernorm_broadcast_scale_and_bad, lrn_values,
        mvn_values, nllloss_weight_ignore, nllloss_bad_target, sce_log_prob)
