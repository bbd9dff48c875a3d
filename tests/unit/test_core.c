/* test_core.c: Identity, Add and Relu on hand-made cases; error paths. */
#include "testutil.h"

START_TEST(add_broadcast) {
  ft_case *c = ft_new("Add", 13, 2, 1, 0);
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30};
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a),
                     ft_tensor(FR_F32, 1, FT_DIMS(3), b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ck_assert_int_eq(out[0].rank, 2);
  ft_check_f32(&out[0], 6, (const float[]){11, 22, 33, 14, 25, 36}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

START_TEST(add_shape_mismatch) {
  ft_case *c = ft_new("Add", 13, 2, 1, 0);
  float a[6] = {0}, b[2] = {0};
  fr_tensor in[2] = {ft_tensor(FR_F32, 2, FT_DIMS(2, 3), a),
                     ft_tensor(FR_F32, 1, FT_DIMS(2), b)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_ERR_SHAPE);
  ck_assert_ptr_nonnull(strstr(fr_err_msg(), "cannot broadcast"));
  ft_free(c);
}
END_TEST

START_TEST(relu_values) {
  ft_case *c = ft_new("Relu", 14, 1, 1, 0);
  float a[4] = {-1, 0, 2, -3};
  fr_tensor in[1] = {ft_tensor(FR_F32, 1, FT_DIMS(4), a)};
  fr_tensor out[1];
  ck_assert_int_eq(ft_run(c, in, out), FR_OK);
  ft_check_f32(&out[0], 4, (const float[]){0, 0, 2, 0}, 0);
  ft_release(out, 1);
  ft_free(c);
}
END_TEST

/* The training RNG: a seed gives one stream, fr_rng_below stays in range
 * and fills every bucket near evenly, shuffling permutes. */
START_TEST(rng_streams) {
  fr_rng a, b, c;
  fr_rng_seed(&a, 42);
  fr_rng_seed(&b, 42);
  fr_rng_seed(&c, 43);
  int same_c = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = fr_rng_u64(&a);
    ck_assert_uint_eq(x, fr_rng_u64(&b));
    same_c += x == fr_rng_u64(&c);
  }
  ck_assert_int_eq(same_c, 0);
  int count[7] = {0};
  for (int i = 0; i < 70000; i++) {
    uint64_t k = fr_rng_below(&a, 7);
    ck_assert_uint_lt(k, 7);
    count[k]++;
  }
  for (int k = 0; k < 7; k++) ck_assert(count[k] > 9500 && count[k] < 10500);
  double sum = 0;
  for (int i = 0; i < 10000; i++) {
    double u = fr_rng_uniform(&a);
    ck_assert(u >= 0 && u < 1);
    sum += u;
  }
  ck_assert(sum > 4900 && sum < 5100);
  int p[50], seen[50] = {0};
  for (int i = 0; i < 50; i++) p[i] = i;
  fr_rng_shuffle(&a, p, 50);
  int moved = 0;
  for (int i = 0; i < 50; i++) seen[p[i]]++, moved += p[i] != i;
  for (int i = 0; i < 50; i++) ck_assert_int_eq(seen[i], 1);
  ck_assert_int_gt(moved, 25);
}
END_TEST

FT_MAIN(core, rng_streams, add_broadcast, add_shape_mismatch, relu_values)
