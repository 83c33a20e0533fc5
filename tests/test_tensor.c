/* Tests for tensor construction, access and printing (src/autograd/tensor.c). */
#include <math.h>
#include <stdlib.h>

#include "nb_test.h"

START_TEST(zeros_has_shape_size_and_zeros)
{
    nb_tensor *t = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3));
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->rank, 2);
    ck_assert_int_eq(t->size, 6);
    for (int64_t i = 0; i < t->size; i++)
        ck_assert_double_eq(nb_tensor_get(t, i), 0.0);
    nb_tensor_free(t);
}
END_TEST

START_TEST(from_doubles_round_trips_in_f64_and_f32)
{
    const double v[] = {1.5, -2.25, 3.0, 4.0};
    for (int dt = 0; dt < 2; dt++) {
        nb_tensor *t = nb_tensor_from_doubles((nb_dtype)dt, NB_SHAPE(2, 2), v);
        ck_assert_ptr_nonnull(t);
        ck_assert_double_eq(nb_tensor_at(t, (int64_t[]){1, 0}), 3.0);
        ck_assert_double_eq(nb_tensor_get(t, 1), -2.25);
        nb_tensor_free(t);
    }
}
END_TEST

START_TEST(rank_zero_is_a_scalar)
{
    nb_tensor *t = nb_tensor_full(NB_F64, 0, NULL, 7.0);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->size, 1);
    ck_assert_double_eq(nb_tensor_item(t), 7.0);
    nb_tensor_free(t);
}
END_TEST

START_TEST(random_tensors_repeat_for_a_seed)
{
    nb_rng r1, r2;
    nb_rng_seed(&r1, 42);
    nb_rng_seed(&r2, 42);
    nb_tensor *a = nb_tensor_rand_normal(NB_F32, NB_SHAPE(4, 5), 0, 1, &r1);
    nb_tensor *b = nb_tensor_rand_normal(NB_F32, NB_SHAPE(4, 5), 0, 1, &r2);
    ck_assert_mem_eq(a->data, b->data, 20 * sizeof(float));
    nb_tensor *u = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(100), -2, 3, &r1);
    for (int64_t i = 0; i < u->size; i++) {
        double x = nb_tensor_get(u, i);
        ck_assert(x >= -2 && x < 3);
    }
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(u);
}
END_TEST

START_TEST(bad_shapes_are_errors)
{
    ck_assert_ptr_null(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 0)));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_tensor_zeros: dimension 1 of shape [2, 0] is 0");
    ck_assert_ptr_null(nb_tensor_zeros(NB_F32, NB_SHAPE(-3)));
    ck_assert_error_contains("is -3: expected a positive size");
    ck_assert_ptr_null(nb_tensor_zeros(NB_F32, 5, (int64_t[]){1, 1, 1, 1, 1}));
    ck_assert_error_contains("nb_tensor_zeros: rank 5 is out of range: expected 0 to 4");
    ck_assert_ptr_null(nb_tensor_zeros(NB_F32, NB_SHAPE(INT64_MAX / 2, 4)));
    ck_assert_error_contains("too many elements (overflow)");
    ck_assert_ptr_null(nb_tensor_zeros((nb_dtype)7, NB_SHAPE(2)));
    ck_assert_error_contains("nb_tensor_zeros: dtype 7 is not NB_F32 or NB_F64");
}
END_TEST

START_TEST(out_of_range_access_is_an_error)
{
    nb_tensor *t = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3));
    ck_assert(isnan(nb_tensor_get(t, 6)));
    ck_assert_error_contains("nb_tensor_get: index 6 is out of range for 6 elements");
    ck_assert_int_eq(nb_tensor_set(t, -1, 1.0), NB_ERR_ARG);
    ck_assert(isnan(nb_tensor_at(t, (int64_t[]){0, 3})));
    ck_assert_error_contains("nb_tensor_at: index 3 on axis 1 is out of range for shape [2, 3]");
    ck_assert(isnan(nb_tensor_item(t)));
    ck_assert_error_contains("nb_tensor_item: tensor of shape [2, 3] has 6 elements: expected 1");
    nb_tensor_free(t);
}
END_TEST

START_TEST(print_shows_dtype_shape_and_values)
{
    nb_tensor *t = nb_tensor_from_doubles(NB_F32, NB_SHAPE(2, 2), (double[]){1, 2, 3, 4.5});
    nb_tensor_set_name(t, "w");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_int_eq(nb_tensor_print(t, out, 0), NB_OK);
    fclose(out);
    ck_assert_str_eq(buf, "tensor 'w' f32 [2, 2] [[1, 2],\n [3, 4.5]]\n");
    free(buf);
    nb_tensor_free(t);
}
END_TEST

START_TEST(null_arguments_are_errors)
{
    ck_assert_ptr_null(nb_tensor_from_array(NB_F32, NB_SHAPE(2), NULL));
    ck_assert_error_contains("nb_tensor_from_array: values is NULL");
    ck_assert_ptr_null(nb_tensor_rand_normal(NB_F32, NB_SHAPE(2), 0, 1, NULL));
    ck_assert_error_contains("nb_tensor_rand_normal: rng is NULL");
    ck_assert_int_eq(nb_tensor_print(NULL, stdout, 0), NB_ERR_NULL);
    nb_tensor_free(NULL);
}
END_TEST

static Suite *tensor_suite(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("tensor");
    tcase_add_test(tc, zeros_has_shape_size_and_zeros);
    tcase_add_test(tc, from_doubles_round_trips_in_f64_and_f32);
    tcase_add_test(tc, rank_zero_is_a_scalar);
    tcase_add_test(tc, random_tensors_repeat_for_a_seed);
    tcase_add_test(tc, bad_shapes_are_errors);
    tcase_add_test(tc, out_of_range_access_is_an_error);
    tcase_add_test(tc, print_shows_dtype_shape_and_values);
    tcase_add_test(tc, null_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(tensor_suite)
