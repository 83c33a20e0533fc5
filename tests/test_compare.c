/* Tests for the ops without gradients (src/ops/compare.c): argmax, equal,
 * one_hot: their values, and that their results never require a gradient.
 * Their errors, f32 against f64, the runs without a tape and NULL inputs are
 * generated from the op table (tests/op_table_binary.c, op_table_index.c). */

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* Assert t has shape [dims...] and exactly the values `expected`. */
static void assert_exact(const char *what, const nb_tensor *t, int rank, const int64_t *dims,
                         const double *expected)
{
    nb_test_assert_shape(what, t, rank, dims);
    for (int64_t i = 0; i < t->size; i++)
        ck_assert_msg(nb_tensor_get(t, i) == expected[i], "%s (%s): element %d is %g, expected %g",
                      what, nb_dtype_name(t->dtype), (int)i, nb_tensor_get(t, i), expected[i]);
}

/* ---- values ------------------------------------------------------------- */

START_TEST(argmax_picks_the_first_largest_along_the_last_axis)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3, 3),
                                              (double[]){1, 3, 2, 5, -1, 5, -2, -1, -3});
        nb_tensor *i = nb_argmax(NULL, x);
        assert_exact("argmax", i, 1, (int64_t[]){3}, (double[]){1, 0, 1});
        ck_assert_int_eq(i->dtype, dtypes[d]);
        nb_tensor_free(i);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(argmax_of_a_vector_is_a_scalar)
{
    nb_tensor *x = nb_tensor_from_doubles(NB_F32, NB_SHAPE(4), (double[]){0.5, 7, 7.5, -1});
    nb_tensor *i = nb_argmax(NULL, x);
    assert_exact("argmax of [4]", i, 0, NULL, (double[]){2});
    nb_tensor_free(i);
    nb_tensor_free(x);
}
END_TEST

START_TEST(argmax_of_rank_3_keeps_the_leading_axes)
{
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2, 3),
                                          (double[]){0, 0, 1, 9, 8, 7, -5, -4, -6, 2, 3, 3});
    nb_tensor *i = nb_argmax(NULL, x);
    assert_exact("argmax of [2, 2, 3]", i, 2, (int64_t[]){2, 2}, (double[]){2, 0, 1, 1});
    nb_tensor_free(i);
    nb_tensor_free(x);
}
END_TEST

START_TEST(equal_is_one_where_elements_match)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *a = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2), (double[]){1, 2, 3, -0.5});
        nb_tensor *b = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2), (double[]){1, 0, 3, 0.5});
        nb_tensor *e = nb_equal(NULL, a, b);
        assert_exact("equal", e, 2, (int64_t[]){2, 2}, (double[]){1, 0, 1, 0});
        nb_tensor_free(e);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

START_TEST(one_hot_sets_one_column_per_label)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *labels = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(4), (double[]){2, 0, 1, 2});
        nb_tensor *y = nb_one_hot(NULL, labels, 3);
        assert_exact("one_hot", y, 2, (int64_t[]){4, 3},
                     (double[]){0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
        ck_assert_int_eq(y->dtype, dtypes[d]);
        nb_tensor_free(y);
        nb_tensor_free(labels);
    }
}
END_TEST

START_TEST(one_hot_with_one_class_is_a_column_of_ones)
{
    nb_tensor *labels = nb_tensor_zeros(NB_F32, NB_SHAPE(2));
    nb_tensor *y = nb_one_hot(NULL, labels, 1);
    assert_exact("one_hot 1 class", y, 2, (int64_t[]){2, 1}, (double[]){1, 1});
    nb_tensor_free(y);
    nb_tensor_free(labels);
}
END_TEST

/* ---- no gradients ------------------------------------------------------- */

START_TEST(results_never_require_grad_even_when_inputs_do)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3), (double[]){1, 2, 0, 2, 2, 1});
    nb_tensor *labels = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){1, 0});
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(labels, true);
    nb_tensor *results[] = {nb_argmax(tape, x), nb_equal(tape, x, x), nb_one_hot(tape, labels, 3)};
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(results[i]);
        ck_assert_msg(!results[i]->requires_grad, "result %d requires a gradient", i);
        ck_assert_ptr_null(results[i]->node);
    }
    ck_assert_int_eq(nb_tape_size(tape), 0);
    ck_assert_int_eq(nb_backward(nb_sum(tape, results[0])), NB_ERR_STATE);
    ck_assert_error_contains("nb_backward: the tensor does not require a gradient");
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(labels);
}
END_TEST

START_TEST(equal_mask_is_a_constant_in_a_product)
{
    /* y = sum(x * equal(x, t)): dy/dx is the mask itself, no gradient flows
     * through the comparison */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(4), (double[]){1, 2, 3, 4});
    nb_tensor *t = nb_tensor_from_doubles(NB_F64, NB_SHAPE(4), (double[]){1, 0, 3, 0});
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_sum(tape, nb_mul(tape, x, nb_equal(tape, x, t)));
    ck_assert_double_eq(nb_tensor_item(y), 4.0);
    ck_assert_int_eq(nb_backward(y), NB_OK);
    const double mask[] = {1, 0, 1, 0};
    for (int64_t i = 0; i < 4; i++)
        ck_assert_double_eq(nb_tensor_grad_get(x, i), mask[i]);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(t);
}
END_TEST

static Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, argmax_picks_the_first_largest_along_the_last_axis);
    tcase_add_test(tc, argmax_of_a_vector_is_a_scalar);
    tcase_add_test(tc, argmax_of_rank_3_keeps_the_leading_axes);
    tcase_add_test(tc, equal_is_one_where_elements_match);
    tcase_add_test(tc, one_hot_sets_one_column_per_label);
    tcase_add_test(tc, one_hot_with_one_class_is_a_column_of_ones);
    suite_add_tcase(s, tc);
    tc = tcase_create("no_gradients");
    tcase_add_test(tc, results_never_require_grad_even_when_inputs_do);
    tcase_add_test(tc, equal_mask_is_a_constant_in_a_product);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(compare_suite)
