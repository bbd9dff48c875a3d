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

FT_MAIN(core, add_broadcast, add_shape_mismatch, relu_values)
