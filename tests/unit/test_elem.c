/* test_elem.c: elementwise ops on hand-computed cases - unary maps and
 * activations, Clip, broadcasting binaries (legacy broadcast too),
 * comparisons, variadic ops, Where, Cast/CastLike, Dropout - and their error
 * paths. */
#include <math.h>

#include "testutil.h"

/* Checks any numeric output against expected values given as doubles. */
static void check_num(const fr_tensor *got, fr_dtype t, int n,
                      const double *want, double tol) {
  ck_assert_int_eq(got->dtype, t);
  ck_assert_int_eq(fr_tensor_numel(got), n);
  for (int i = 0; i < n; i++) {
    double g = fr_tensor_get_f64(got, i);
    if (isnan(want[i])) {
      ck_assert_msg(isnan(g), "element %d: got %g, expected nan", i, g);
      continue;
    }
    if (g == want[i]) continue; /* infinities */
    ck_assert_msg(fabs(g - want[i]) <= tol * (1 + fabs(want[i])),
                  "element %d: got %.9g, expected %.9g", i, g, want[i]);
  }
}

/* Runs a one-input, one-output node on f32 values. */
static void unary_f32(const char *op, int opset, int n, const float *x,
                      const float *want, float tol) {
  ft_case *c = ft_new(op, opset, 1, 1, 0);
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(n), (void *)x)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], n, want, tol);
  ft_release(out, 1);
  ft_free(c);
}

START_TEST(unary_math) {
  float x[4] = {-2.5f, -0.5f, 1.5f, 4.0f};
  unary_f32("Abs", 13, 4, x, (const float[]){2.5f, 0.5f, 1.5f, 4}, 0);
  unary_f32("Neg", 13, 4, x, (const float[]){2.5f, 0.5f, -1.5f, -4}, 0);
  unary_f32("Floor", 13, 4, x, (const float[]){-3, -1, 1, 4}, 0);
  unary_f32("Ceil", 13, 4, x, (const float[]){-2, -0.0f, 2, 4}, 0);
  /* half to even: -2.5 -> -2, -0.5 -> -0, 1.5 -> 2 */
  unary_f32("Round", 11, 4, x, (const float[]){-2, 0, 2, 4}, 0);
  unary_f32("Sign", 13, 4, x, (const float[]){-1, -1, 1, 1}, 0);
  unary_f32("Reciprocal", 13, 4, x, (const float[]){-0.4f, -2, 2 / 3.0f, 0.25f},
            1e-6f);
  float p[3] = {0, 1, 4};
  unary_f32("Sqrt", 13, 3, p, (const float[]){0, 1, 2}, 0);
  unary_f32("Exp", 13, 3, p, (const float[]){1, 2.7182818f, 54.59815f}, 1e-6f);
  unary_f32("Log", 13, 2, (const float[]){1, 2.7182818f}, (const float[]){0, 1},
            1e-6f);
  unary_f32("Erf", 13, 2, (const float[]){0, 1}, (const float[]){0, 0.8427008f},
            1e-6f);
  unary_f32("Atanh", 9, 2, (const float[]){0, 0.5f},
            (const float[]){0, 0.5493061f}, 1e-6f);
}
END_TEST

START_TEST(activations) {
  float x[4] = {-2, -0.5f, 0.5f, 3};
  unary_f32("Relu", 14, 4, x, (const float[]){0, 0, 0.5f, 3}, 0);
  unary_f32("Sigmoid", 13, 2, (const float[]){0, 2},
            (const float[]){0.5f, 0.8807971f}, 1e-6f);
  /* HardSigmoid default alpha 0.2, beta 0.5: clip(0.2 x + 0.5, 0, 1) */
  unary_f32("HardSigmoid", 6, 4, (const float[]){-3, 0, 1, 3},
            (const float[]){0, 0.5f, 0.7f, 1}, 1e-6f);
  /* HardSwish: x * clip(x / 6 + 0.5, 0, 1) */
  unary_f32("HardSwish", 14, 4, (const float[]){-4, -1, 1, 4},
            (const float[]){0, -1 / 3.0f, 2 / 3.0f, 4}, 1e-6f);
  unary_f32("Softsign", 1, 2, (const float[]){-1, 3},
            (const float[]){-0.5f, 0.75f}, 1e-6f);
  /* Softplus must not overflow for large x */
  unary_f32("Softplus", 1, 3, (const float[]){0, 100, -100},
            (const float[]){0.6931472f, 100, 3.720076e-44f}, 1e-6f);
  unary_f32("Elu", 6, 2, (const float[]){-1, 2},
            (const float[]){-0.6321206f, 2}, 1e-6f);
  unary_f32("Selu", 6, 2, (const float[]){-1, 2},
            (const float[]){-1.1113307f, 2.101402f}, 1e-6f);
  unary_f32("ThresholdedRelu", 10, 3, (const float[]){0.5f, 1, 2},
            (const float[]){0, 0, 2}, 0);
  unary_f32("Celu", 12, 2, (const float[]){-1, 2},
            (const float[]){-0.6321206f, 2}, 1e-6f);

  ft_case *c = ft_new("LeakyRelu", 16, 1, 1, 1);
  ft_attr_f(c, "alpha", 0.1f);
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(4), x)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){-0.2f, -0.05f, 0.5f, 3}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("Shrink", 9, 1, 1, 2);
  ft_attr_f(c, "lambd", 1.0f);
  ft_attr_f(c, "bias", 0.5f);
  float s[5] = {-2, -1, 0, 1, 2};
  in[0] = ft_tensor(FR_F32, 1, FT_DIMS(5), s);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){-1.5f, 0, 0, 0, 1.5f}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(unary_int_and_bool) {
  int32_t xi[4] = {INT32_MIN, -3, 0, 7};
  ft_case *c = ft_new("Abs", 13, 1, 1, 0);
  fr_tensor in[1] = {ft_tensor(FR_I32, 1, FT_DIMS(4), xi)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  const int32_t *yi = out[0].data;
  ck_assert_int_eq(yi[0], INT32_MIN); /* wraps, as two's complement does */
  ck_assert_int_eq(yi[1], 3);
  ck_assert_int_eq(yi[3], 7);
  ft_release(out, 1);
  ft_free(c);

  int8_t x8[3] = {-128, -5, 5};
  c = ft_new("Neg", 13, 1, 1, 0);
  in[0] = ft_tensor(FR_I8, 1, FT_DIMS(3), x8);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_I8, 3, (const double[]){-128, 5, -5}, 0);
  ft_release(out, 1);
  ft_free(c);

  int64_t x64[3] = {-9, 0, 12};
  c = ft_new("Sign", 13, 1, 1, 0);
  in[0] = ft_tensor(FR_I64, 1, FT_DIMS(3), x64);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_I64, 3, (const double[]){-1, 0, 1}, 0);
  ft_release(out, 1);
  ft_free(c);

  uint8_t b[3] = {1, 0, 1};
  c = ft_new("Not", 1, 1, 1, 0);
  in[0] = ft_tensor(FR_BOOL, 1, FT_DIMS(3), b);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_BOOL, 3, (const double[]){0, 1, 0}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* f16 goes through f32 */
  uint16_t h[2] = {fr_f32_to_f16(-2.0f), fr_f32_to_f16(0.25f)};
  c = ft_new("Exp", 13, 1, 1, 0);
  in[0] = ft_tensor(FR_F16, 1, FT_DIMS(2), h);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_F16, 2, (const double[]){0.1353353, 1.2840254}, 1e-3);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(isnan_isinf) {
  float x[4] = {NAN, INFINITY, -INFINITY, 1};
  ft_case *c = ft_new("IsNaN", 13, 1, 1, 0);
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(4), x)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_BOOL, 4, (const double[]){1, 0, 0, 0}, 0);
  ft_release(out, 1);
  ft_free(c);

  c = ft_new("IsInf", 10, 1, 1, 1);
  ft_attr_i(c, "detect_negative", 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_BOOL, 4, (const double[]){0, 1, 0, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(clip_inputs_and_attrs) {
  float x[5] = {-3, -1, 0, 2, 5};
  float lo = -1.5f, hi = 1.5f;
  ft_case *c = ft_new("Clip", 13, 3, 1, 0);
  fr_tensor in[3] = {ft_tensor(FR_F32, 1, FT_DIMS(5), x),
                     ft_tensor(FR_F32, 0, NULL, &lo),
                     ft_tensor(FR_F32, 0, NULL, &hi)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){-1.5f, -1, 0, 1.5f, 1.5f}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* min > max: every value becomes max */
  lo = 2;
  hi = 1;
  c = ft_new("Clip", 13, 3, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){1, 1, 1, 1, 1}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* int8, min omitted */
  int8_t xi[4] = {-128, -1, 10, 127};
  int8_t mx = 5, unused = 0;
  c = ft_new("Clip", 13, 3, 1, 0);
  c->n->in[1] = NULL;
  fr_tensor ii[3] = {ft_tensor(FR_I8, 1, FT_DIMS(4), xi),
                     ft_tensor(FR_I8, 0, NULL, &unused),
                     ft_tensor(FR_I8, 0, NULL, &mx)};
  ck_assert_int_eq(ft_run(c, ii, out), FR_OK);
  check_num(&out[0], FR_I8, 4, (const double[]){-128, -1, 5, 5}, 0);
  ft_release(out, 1);
  ft_free(c);

  /* opset 6: attributes */
  c = ft_new("Clip", 6, 1, 1, 2);
  ft_attr_f(c, "min", -1);
  ft_attr_f(c, "max", 3);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 5, (const float[]){-1, -1, 0, 2, 3}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(clip_bad_bound) {
  float x[2] = {0, 1}, lo[2] = {0, 0}, hi = 1;
  ft_case *c = ft_new("Clip", 13, 3, 1, 0);
  fr_tensor in[3] = {ft_tensor(FR_F32, 1, FT_DIMS(2), x),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), lo),
                     ft_tensor(FR_F32, 0, NULL, &hi)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "scalar"));
  ft_free(c);
}
END_TEST

/* Runs a two-input node; out[0] is left for the caller to check. */
static ft_case *run2(const char *op, int opset, fr_tensor a, fr_tensor b,
                     fr_tensor *out, fr_status want) {
  ft_case *c = ft_new(op, opset, 2, 1, 2);
  fr_tensor in[2] = {a, b};
  ck_assert_int_eq(ft_run(c, in, out), want);
  return c;
}

START_TEST(binary_float_broadcast) {
  float a[3] = {1, 2, 3}, b[4] = {10, 20, 30, 40}, s = 2;
  fr_tensor out[1];
  /* (3, 1) - (1, 4) -> (3, 4) */
  ft_case *c = run2("Sub", 14, ft_tensor(FR_F32, 2, FT_DIMS(3, 1), a),
                    ft_tensor(FR_F32, 2, FT_DIMS(1, 4), b), out, FR_OK);
  ck_assert_int_eq(out[0].rank, 2);
  ck_assert_int_eq(out[0].dims[0], 3);
  ck_assert_int_eq(out[0].dims[1], 4);
  ft_check_f32(&out[0], 12,
               (const float[]){-9, -19, -29, -39, -8, -18, -28, -38, -7, -17,
                               -27, -37},
               0);
  ft_release(out, 1);
  ft_free(c);
  /* scalar on the left */
  c = run2("Div", 14, ft_tensor(FR_F32, 0, NULL, &s),
           ft_tensor(FR_F32, 1, FT_DIMS(4), b), out, FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0.2f, 0.1f, 2 / 30.0f, 0.05f},
               1e-6f);
  ft_release(out, 1);
  ft_free(c);
  c = run2("Pow", 15, ft_tensor(FR_F32, 1, FT_DIMS(3), a),
           ft_tensor(FR_F32, 0, NULL, &s), out, FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){1, 4, 9}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* exponents per element (2 among others), and a scalar other than 2 */
  float e3[3] = {2, 3, 0.5f}, e1 = 3;
  c = run2("Pow", 15, ft_tensor(FR_F32, 1, FT_DIMS(3), a),
           ft_tensor(FR_F32, 1, FT_DIMS(3), e3), out, FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){1, 8, 1.7320508f}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  c = run2("Pow", 15, ft_tensor(FR_F32, 2, FT_DIMS(3, 1), a),
           ft_tensor(FR_F32, 2, FT_DIMS(1, 1), &e1), out, FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){1, 8, 27}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  /* Mod on floats, fmod=1: sign of the dividend */
  float m1[2] = {-7, 7}, m2[2] = {3, -3};
  c = ft_new("Mod", 13, 2, 1, 1);
  ft_attr_i(c, "fmod", 1);
  fr_tensor in[2] = {ft_tensor(FR_F32, 1, FT_DIMS(2), m1),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), m2)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 2, (const float[]){-1, 1}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(binary_int) {
  fr_tensor out[1];
  int32_t a[4] = {-7, 7, INT32_MIN, 5}, b[4] = {2, -2, -1, 0};
  fr_tensor ta = ft_tensor(FR_I32, 1, FT_DIMS(4), a),
            tb = ft_tensor(FR_I32, 1, FT_DIMS(4), b);
  /* truncation; INT_MIN / -1 wraps; division by zero gives 0 */
  ft_case *c = run2("Div", 14, ta, tb, out, FR_OK);
  check_num(&out[0], FR_I32, 4, (const double[]){-3, -3, INT32_MIN, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* Mod, fmod=0: sign of the divisor */
  int64_t m1[4] = {-7, 7, -7, 7}, m2[4] = {3, -3, -3, 3};
  c = run2("Mod", 13, ft_tensor(FR_I64, 1, FT_DIMS(4), m1),
           ft_tensor(FR_I64, 1, FT_DIMS(4), m2), out, FR_OK);
  check_num(&out[0], FR_I64, 4, (const double[]){2, -2, -1, 1}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* u8 arithmetic wraps */
  uint8_t u1[2] = {250, 3}, u2[2] = {10, 5};
  c = run2("Add", 14, ft_tensor(FR_U8, 1, FT_DIMS(2), u1),
           ft_tensor(FR_U8, 1, FT_DIMS(2), u2), out, FR_OK);
  check_num(&out[0], FR_U8, 2, (const double[]){4, 8}, 0);
  ft_release(out, 1);
  ft_free(c);
  c = run2("Sub", 14, ft_tensor(FR_U8, 1, FT_DIMS(2), u1),
           ft_tensor(FR_U8, 1, FT_DIMS(2), u2), out, FR_OK);
  check_num(&out[0], FR_U8, 2, (const double[]){240, 254}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* BitShift: shifts by the width or more give 0 */
  uint8_t s1[3] = {1, 0x80, 0xff}, s2[3] = {3, 1, 8};
  c = ft_new("BitShift", 11, 2, 1, 1);
  ft_attr_s(c, "direction", "LEFT");
  fr_tensor in[2] = {ft_tensor(FR_U8, 1, FT_DIMS(3), s1),
                     ft_tensor(FR_U8, 1, FT_DIMS(3), s2)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_U8, 3, (const double[]){8, 0, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("BitShift", 11, 2, 1, 1);
  ft_attr_s(c, "direction", "RIGHT");
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_U8, 3, (const double[]){0, 0x40, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* integer powers */
  int64_t p1[3] = {2, -3, 5}, p2[3] = {10, 3, 0};
  c = run2("Pow", 15, ft_tensor(FR_I64, 1, FT_DIMS(3), p1),
           ft_tensor(FR_I64, 1, FT_DIMS(3), p2), out, FR_OK);
  check_num(&out[0], FR_I64, 3, (const double[]){1024, -27, 1}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(pow_mixed_types) {
  fr_tensor out[1];
  int32_t b[3] = {1, 2, 3};
  float e[3] = {4, 0.5f, 2};
  /* int base, float exponent: computed in f64 and truncated */
  ft_case *c = run2("Pow", 15, ft_tensor(FR_I32, 1, FT_DIMS(3), b),
                    ft_tensor(FR_F32, 1, FT_DIMS(3), e), out, FR_OK);
  check_num(&out[0], FR_I32, 3, (const double[]){1, 1, 9}, 0);
  ft_release(out, 1);
  ft_free(c);
  float fb[3] = {1.5f, 2, -2};
  int64_t ie[3] = {2, 3, 3};
  c = run2("Pow", 15, ft_tensor(FR_F32, 1, FT_DIMS(3), fb),
           ft_tensor(FR_I64, 1, FT_DIMS(3), ie), out, FR_OK);
  ft_check_f32(&out[0], 3, (const float[]){2.25f, 8, -8}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(logic_and_compare) {
  fr_tensor out[1];
  uint8_t a[4] = {0, 0, 1, 1}, b[2] = {0, 1};
  /* (2, 2) and (2,) */
  ft_case *c = run2("Xor", 7, ft_tensor(FR_BOOL, 2, FT_DIMS(2, 2), a),
                    ft_tensor(FR_BOOL, 1, FT_DIMS(2), b), out, FR_OK);
  check_num(&out[0], FR_BOOL, 4, (const double[]){0, 1, 1, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  c = run2("Or", 7, ft_tensor(FR_BOOL, 2, FT_DIMS(2, 2), a),
           ft_tensor(FR_BOOL, 1, FT_DIMS(2), b), out, FR_OK);
  check_num(&out[0], FR_BOOL, 4, (const double[]){0, 1, 1, 1}, 0);
  ft_release(out, 1);
  ft_free(c);
  float x[3] = {1, 2, NAN}, y = 2;
  c = run2("GreaterOrEqual", 16, ft_tensor(FR_F32, 1, FT_DIMS(3), x),
           ft_tensor(FR_F32, 0, NULL, &y), out, FR_OK);
  check_num(&out[0], FR_BOOL, 3, (const double[]){0, 1, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  int64_t i1[3] = {5, -1, 7}, i2[3] = {5, 1, 6};
  c = run2("Equal", 13, ft_tensor(FR_I64, 1, FT_DIMS(3), i1),
           ft_tensor(FR_I64, 1, FT_DIMS(3), i2), out, FR_OK);
  check_num(&out[0], FR_BOOL, 3, (const double[]){1, 0, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  c = run2("Less", 13, ft_tensor(FR_I64, 1, FT_DIMS(3), i1),
           ft_tensor(FR_I64, 1, FT_DIMS(3), i2), out, FR_OK);
  check_num(&out[0], FR_BOOL, 3, (const double[]){0, 1, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(prelu_and_legacy_broadcast) {
  fr_tensor out[1];
  /* X (1, 2, 2), slope (2, 1): per-channel */
  float x[4] = {-1, 2, -3, 4}, sl[2] = {0.5f, 0.1f};
  ft_case *c = run2("PRelu", 16, ft_tensor(FR_F32, 3, FT_DIMS(1, 2, 2), x),
                    ft_tensor(FR_F32, 2, FT_DIMS(2, 1), sl), out, FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){-0.5f, 2, -0.3f, 4}, 1e-6f);
  ft_release(out, 1);
  ft_free(c);
  /* slope may not make the output bigger than X */
  float big[8] = {0};
  c = run2("PRelu", 16, ft_tensor(FR_F32, 1, FT_DIMS(2), x),
           ft_tensor(FR_F32, 2, FT_DIMS(4, 2), big), out, FR_ERR_SHAPE);
  ft_free(c);

  /* opset 6 Add with broadcast=1, axis=1: B (3,) along A's axis 1 */
  float a[6] = {1, 1, 2, 2, 3, 3}, bb[3] = {10, 20, 30};
  c = ft_new("Add", 6, 2, 1, 2);
  ft_attr_i(c, "broadcast", 1);
  ft_attr_i(c, "axis", 1);
  fr_tensor in[2] = {ft_tensor(FR_F32, 3, FT_DIMS(1, 3, 2), a),
                     ft_tensor(FR_F32, 1, FT_DIMS(3), bb)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 3);
  ft_check_f32(&out[0], 6, (const float[]){11, 11, 22, 22, 33, 33}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* without broadcast, shapes must be equal */
  c = run2("Mul", 6, ft_tensor(FR_F32, 3, FT_DIMS(1, 3, 2), a),
           ft_tensor(FR_F32, 1, FT_DIMS(3), bb), out, FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

START_TEST(variadic) {
  float a[2] = {1, 5}, b[4] = {3, 2, 0, 9}, s = 4;
  ft_case *c = ft_new("Max", 13, 3, 1, 0);
  /* (2,), (2, 2), () -> (2, 2) */
  fr_tensor in[3] = {ft_tensor(FR_F32, 1, FT_DIMS(2), a),
                     ft_tensor(FR_F32, 2, FT_DIMS(2, 2), b),
                     ft_tensor(FR_F32, 0, NULL, &s)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 2);
  ft_check_f32(&out[0], 4, (const float[]){4, 5, 4, 9}, 0);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Mean", 13, 3, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){8 / 3.0f, 11 / 3.0f, 5 / 3.0f, 6},
               1e-6f);
  ft_release(out, 1);
  ft_free(c);
  c = ft_new("Sum", 13, 1, 1, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 2, a, 0);
  ft_release(out, 1);
  ft_free(c);
  /* f16 */
  uint16_t h1[2] = {fr_f32_to_f16(1.5f), fr_f32_to_f16(-2)},
           h2[2] = {fr_f32_to_f16(0.5f), fr_f32_to_f16(3)};
  c = ft_new("Min", 13, 2, 1, 0);
  fr_tensor hin[2] = {ft_tensor(FR_F16, 1, FT_DIMS(2), h1),
                      ft_tensor(FR_F16, 1, FT_DIMS(2), h2)};
  ck_assert_int_eq(ft_run(c, hin, out), FR_OK);
  check_num(&out[0], FR_F16, 2, (const double[]){0.5, -2}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* u32 */
  uint32_t u1[2] = {7, 4000000000u}, u2[2] = {9, 1};
  c = ft_new("Max", 13, 2, 1, 0);
  fr_tensor uin[2] = {ft_tensor(FR_U32, 1, FT_DIMS(2), u1),
                      ft_tensor(FR_U32, 1, FT_DIMS(2), u2)};
  ck_assert_int_eq(ft_run(c, uin, out), FR_OK);
  check_num(&out[0], FR_U32, 2, (const double[]){9, 4000000000.0}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(where_broadcast) {
  uint8_t cond[2] = {1, 0};
  int64_t x[4] = {1, 2, 3, 4}, y = -1;
  ft_case *c = ft_new("Where", 16, 3, 1, 0);
  /* cond (2,), x (2, 2), y () */
  fr_tensor in[3] = {ft_tensor(FR_BOOL, 1, FT_DIMS(2), cond),
                     ft_tensor(FR_I64, 2, FT_DIMS(2, 2), x),
                     ft_tensor(FR_I64, 0, NULL, &y)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_I64, 4, (const double[]){1, -1, 3, -1}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* the condition must be bool */
  c = ft_new("Where", 16, 3, 1, 0);
  in[0] = ft_tensor(FR_I64, 1, FT_DIMS(2), x);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

/* Cast of n f32 values to type `to`. */
static ft_case *cast_f32(int n, const float *x, fr_dtype to, fr_tensor *out) {
  ft_case *c = ft_new("Cast", 13, 1, 1, 1);
  ft_attr_i(c, "to", to);
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(n), (void *)x)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  return c;
}

START_TEST(cast_numbers) {
  fr_tensor out[1];
  float x[5] = {-1.7f, 2.9f, NAN, 300, 0};
  ft_case *c = cast_f32(5, x, FR_I32, out);
  check_num(&out[0], FR_I32, 5, (const double[]){-1, 2, 0, 300, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  c = cast_f32(5, x, FR_BOOL, out);
  check_num(&out[0], FR_BOOL, 5, (const double[]){1, 1, 1, 1, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* 65519 rounds to the largest half, 65520 to inf */
  float h[3] = {65519, 65520, 1e-8f};
  c = cast_f32(3, h, FR_F16, out);
  check_num(&out[0], FR_F16, 3, (const double[]){65504, INFINITY, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* bf16 truncates before opset 19 (as its reference did) */
  float bfx[1] = {0.48033667f};
  c = cast_f32(1, bfx, FR_BF16, out);
  ck_assert_uint_eq(((uint16_t *)out[0].data)[0], 16117);
  ft_release(out, 1);
  ft_free(c);
  /* opset 1: `to` is a name */
  int64_t big[2] = {-3, 1LL << 40};
  c = ft_new("Cast", 1, 1, 1, 1);
  ft_attr_s(c, "to", "DOUBLE");
  fr_tensor in[1] = {ft_tensor(FR_I64, 1, FT_DIMS(2), big)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_F64, 2, (const double[]){-3, 1099511627776.0}, 0);
  ft_release(out, 1);
  ft_free(c);
  /* CastLike takes the type of its second input */
  double like = 0;
  c = ft_new("CastLike", 15, 2, 1, 0);
  fr_tensor cl[2] = {ft_tensor(FR_I64, 1, FT_DIMS(2), big),
                     ft_tensor(FR_F64, 0, NULL, &like)};
  ck_assert_int_eq(ft_run(c, cl, out), FR_OK);
  check_num(&out[0], FR_F64, 2, (const double[]){-3, 1099511627776.0}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(cast_strings) {
  fr_tensor out[1];
  float x[6] = {0.1f, 1e-5f, 100, -1.5f, 0.039187793f, INFINITY};
  ft_case *c = cast_f32(6, x, FR_STRING, out);
  const char *want[6] = {"0.1", "1e-05", "100.0", "-1.5", "0.039187793",
                         "inf"};
  char **s = out[0].data;
  for (int i = 0; i < 6; i++) ck_assert_str_eq(s[i], want[i]);
  ft_release(out, 1);
  ft_free(c);

  const char *strs[4] = {"3.25", "NaN", "-INF", "+INF"};
  c = ft_new("Cast", 13, 1, 1, 1);
  ft_attr_i(c, "to", FR_F32);
  fr_tensor in[1] = {ft_tensor(FR_STRING, 1, FT_DIMS(4), (void *)strs)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  check_num(&out[0], FR_F32, 4, (const double[]){3.25, NAN, -INFINITY, INFINITY},
            0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(dropout_inference) {
  float x[3] = {1, -2, 3}, ratio = 0.3f;
  uint8_t training = 0;
  ft_case *c = ft_new("Dropout", 13, 3, 2, 0);
  fr_tensor in[3] = {ft_tensor(FR_F32, 1, FT_DIMS(3), x),
                     ft_tensor(FR_F32, 0, NULL, &ratio),
                     ft_tensor(FR_BOOL, 0, NULL, &training)};
  fr_tensor out[2];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, x, 0);
  check_num(&out[1], FR_BOOL, 3, (const double[]){1, 1, 1}, 0);
  ft_release(out, 2);
  ft_free(c);
  /* training with ratio 0 is the identity too */
  training = 1;
  ratio = 0;
  c = ft_new("Dropout", 13, 3, 2, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 3, x, 0);
  ft_release(out, 2);
  ft_free(c);
  /* training with ratio 1 is invalid */
  ratio = 1;
  c = ft_new("Dropout", 13, 3, 2, 0);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
}
END_TEST

/* Random ops over a large draw: the properties the ONNX tests cannot check
 * (their expected values come from numpy's generator; docs/conformance.md).
 * Dropout in training keeps about 1 - ratio of the elements, scaled by
 * 1 / (1 - ratio); Bernoulli(p) gives ones about p of the time; the same
 * seed gives the same bits, another seed others. */
enum { N_DRAW = 100000 };

static void run_dropout(float ratio, int64_t seed, float *x, fr_tensor *out) {
  uint8_t training = 1;
  ft_case *c = ft_new("Dropout", 13, 3, 2, 1);
  ft_attr_i(c, "seed", seed);
  fr_tensor in[3] = {ft_tensor(FR_F32, 1, FT_DIMS(N_DRAW), x),
                     ft_tensor(FR_F32, 0, NULL, &ratio),
                     ft_tensor(FR_BOOL, 0, NULL, &training)};
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_free(c);
}

START_TEST(random_draws) {
  float *x = fr_malloc(sizeof(float) * N_DRAW);
  ck_assert_ptr_nonnull(x);
  for (int i = 0; i < N_DRAW; i++) x[i] = 1 + (float)(i % 7);
  const float ratio = 0.3f;
  fr_tensor a[2], b[2], d[2];
  run_dropout(ratio, 42, x, a);
  run_dropout(ratio, 42, x, b);
  run_dropout(ratio, 43, x, d);
  const float *y = a[0].data;
  const uint8_t *mask = a[1].data;
  int dropped = 0;
  for (int i = 0; i < N_DRAW; i++) {
    if (!mask[i]) {
      ck_assert_float_eq(y[i], 0);
      dropped++;
    } else {
      ck_assert_float_eq_tol(y[i], x[i] / (1 - ratio), 1e-5);
    }
  }
  /* 4.4 standard deviations of a binomial(1e5, 0.3) is 0.0064 */
  ck_assert_double_eq_tol((double)dropped / N_DRAW, ratio, 0.0064);
  ck_assert_int_eq(memcmp(a[0].data, b[0].data, sizeof(float) * N_DRAW), 0);
  ck_assert_int_ne(memcmp(a[0].data, d[0].data, sizeof(float) * N_DRAW), 0);
  ft_release(a, 2);
  ft_release(b, 2);
  ft_release(d, 2);

  /* Bernoulli: p rising along the tensor; ones where p = 1, none where 0 */
  for (int i = 0; i < N_DRAW; i++) x[i] = (float)(i % 5) / 4;
  float seeds[2] = {7, 7};
  fr_tensor o[2][1];
  for (int r = 0; r < 2; r++) {
    ft_case *c = ft_new("Bernoulli", 15, 1, 1, 1);
    ft_attr_f(c, "seed", seeds[r]);
    fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(N_DRAW), x)};
    ck_assert_int_eq(ft_run(c, in, o[r]), FR_OK);
    ft_free(c);
  }
  const float *v = o[0][0].data;
  int ones[5] = {0};
  for (int i = 0; i < N_DRAW; i++) {
    ck_assert_msg(v[i] == 0 || v[i] == 1, "element %d is %g", i, v[i]);
    ones[i % 5] += v[i] == 1;
  }
  ck_assert_int_eq(ones[0], 0);
  ck_assert_int_eq(ones[4], N_DRAW / 5);
  for (int k = 1; k < 4; k++) /* 20000 draws each: 0.0141 is 4.4 sd at most */
    ck_assert_double_eq_tol(ones[k] / (N_DRAW / 5.0), k / 4.0, 0.0141);
  ck_assert_int_eq(memcmp(o[0][0].data, o[1][0].data, sizeof(float) * N_DRAW),
                   0);
  ft_release(o[0], 1);
  ft_release(o[1], 1);
  fr_free(x);
}
END_TEST

START_TEST(bad_inputs) {
  fr_tensor out[1];
  float f[2] = {1, 2};
  int32_t i[2] = {1, 2};
  /* mismatched operand types */
  ft_case *c = run2("Add", 14, ft_tensor(FR_F32, 1, FT_DIMS(2), f),
                    ft_tensor(FR_I32, 1, FT_DIMS(2), i), out, FR_ERR_SHAPE);
  ft_free(c);
  /* And wants bool */
  c = run2("And", 7, ft_tensor(FR_F32, 1, FT_DIMS(2), f),
           ft_tensor(FR_F32, 1, FT_DIMS(2), f), out, FR_ERR_SHAPE);
  ft_free(c);
  /* Sqrt of an integer tensor */
  c = ft_new("Sqrt", 13, 1, 1, 0);
  fr_tensor in[1] = {ft_tensor(FR_I32, 1, FT_DIMS(2), i)};
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ft_free(c);
  /* BitShift needs a direction */
  uint8_t u[2] = {1, 2};
  c = ft_new("BitShift", 11, 2, 1, 1);
  ft_attr_s(c, "direction", "UP");
  fr_tensor bs[2] = {ft_tensor(FR_U8, 1, FT_DIMS(2), u),
                     ft_tensor(FR_U8, 1, FT_DIMS(2), u)};
  ck_assert_int_eq(ft_run(c, bs, out), FR_ERR_INVALID);
  ft_free(c);
  /* Cast to complex is not supported; a missing `to` is invalid */
  c = ft_new("Cast", 13, 1, 1, 1);
  ft_attr_i(c, "to", FR_C64);
  in[0] = ft_tensor(FR_F32, 1, FT_DIMS(2), f);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_UNSUPPORTED);
  ft_free(c);
  c = ft_new("Cast", 13, 1, 1, 1);
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_INVALID);
  ft_free(c);
  /* Max operands that do not broadcast */
  float g[3] = {0};
  c = run2("Max", 13, ft_tensor(FR_F32, 1, FT_DIMS(2), f),
           ft_tensor(FR_F32, 1, FT_DIMS(3), g), out, FR_ERR_SHAPE);
  ft_free(c);
}
END_TEST

FT_MAIN(elem, unary_math, activations, unary_int_and_bool, isnan_isinf,
        clip_inputs_and_attrs, clip_bad_bound, binary_float_broadcast,
        binary_int, pow_mixed_types, logic_and_compare,
        prelu_and_legacy_broadcast, variadic, where_broadcast, cast_numbers,
        cast_strings, dropout_inference, random_draws, bad_inputs)
