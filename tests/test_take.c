/* Tests for nb_take (src/ops/take.c): NumPy's take along one axis (values
 * by hand), its gradient scattered back with repeated indices adding up,
 * and indices that get no gradient. Gradient checks, the errors with their
 * messages, the runs without a tape and NULL inputs are generated from the
 * op table (tests/op_table_index.c). */

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* take(x, indices, axis) without a tape, kept, asserted to have the shape
 * (rank, dims) and exactly the values `expected` (take copies). */
static void assert_takes(const char *what, nb_tensor *x, nb_tensor *indices, int axis, int rank,
                         const int64_t *dims, const double *expected)
{
    nb_tensor *y = nb_test_keep(nb_take(NULL, x, indices, axis));
    nb_test_assert_shape(what, y, rank, dims);
    ck_assert_int_eq(y->dtype, x->dtype);
    for (int64_t i = 0; i < y->size; i++)
        ck_assert_msg(nb_tensor_get(y, i) == expected[i], "%s (%s): element %d is %g, expected %g",
                      what, nb_dtype_name(y->dtype), (int)i, nb_tensor_get(y, i), expected[i]);
}

/* x[i][j][k] = 12 i + 4 j + k, shape [2, 3, 4] */
static nb_tensor *cube_0_to_23(nb_dtype dtype)
{
    nb_tensor *t = nb_test_keep(nb_tensor_zeros(dtype, NB_SHAPE(2, 3, 4)));
    for (int64_t i = 0; i < 24; i++)
        nb_tensor_set(t, i, (double)i);
    return t;
}

/* ---- values ------------------------------------------------------------- */

START_TEST(take_along_axis_0_picks_rows_whatever_the_indices_dtype)
{
    for (int d = 0; d < 2; d++)
        for (int di = 0; di < 2; di++) {
            nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3, 2), 1, 2, 3, 4, 5, 6);
            nb_tensor *at = NB_TEST_TENSOR(dtypes[di], NB_SHAPE(2), 2, 0);
            assert_takes("rows 2, 0", x, at, 0, 2, (int64_t[]){2, 2}, (double[]){5, 6, 1, 2});
        }
}
END_TEST

START_TEST(take_along_the_last_axis_puts_the_index_shape_there)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
        nb_tensor *at = NB_TEST_TENSOR(NB_F32, NB_SHAPE(2, 2), 0, 2, 1, 1);
        const double expected[] = {1, 3, 2, 2, 4, 6, 5, 5};
        assert_takes("axis 1", x, at, 1, 3, (int64_t[]){2, 2, 2}, expected);
        assert_takes("axis -1", x, at, -1, 3, (int64_t[]){2, 2, 2}, expected);
    }
}
END_TEST

START_TEST(take_along_a_middle_axis_keeps_the_axes_around_it)
{
    /* x[i][at[j]][k] = 12 i + 4 at[j] + k with at = [2, 0] */
    nb_tensor *x = cube_0_to_23(NB_F64);
    nb_tensor *at = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), 2, 0);
    assert_takes("axis 1 of [2, 3, 4]", x, at, -2, 3, (int64_t[]){2, 2, 4},
                 (double[]){8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15});
}
END_TEST

START_TEST(a_rank_0_index_removes_the_axis)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
        nb_tensor *one = nb_test_keep(nb_tensor_full(NB_F64, 0, NULL, 1));
        assert_takes("column 1", x, one, 1, 1, (int64_t[]){2}, (double[]){2, 5});
        assert_takes("row 1", x, one, 0, 1, (int64_t[]){3}, (double[]){4, 5, 6});
        nb_tensor *v = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 7, 8, 9);
        assert_takes("element 1 of a vector", v, one, 0, 0, NULL, (double[]){8});
    }
}
END_TEST

START_TEST(negative_indices_count_from_the_end)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4), 10, 20, 30, 40);
        nb_tensor *at = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), -1, -4, 1);
        assert_takes("-1, -4, 1", x, at, 0, 1, (int64_t[]){3}, (double[]){40, 10, 20});
    }
}
END_TEST

/* ---- gradients ---------------------------------------------------------- */

/* Seed take(x, at, axis) with `seed` and assert x's gradient is `expected`. */
static void assert_take_grad(const char *what, nb_tensor *x, nb_tensor *at, int axis,
                             const double *seed, const double *expected)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_take(tape, x, at, axis);
    ck_assert_ptr_nonnull(y);
    nb_tensor *g = nb_test_keep(nb_tensor_from_doubles(x->dtype, y->rank, y->shape, seed));
    ck_assert_int_eq(nb_backward_from(y, g), NB_OK);
    for (int64_t i = 0; i < x->size; i++)
        ck_assert_msg(nb_tensor_grad_get(x, i) == expected[i],
                      "%s (%s): gradient %d is %g, expected %g", what, nb_dtype_name(x->dtype),
                      (int)i, nb_tensor_grad_get(x, i), expected[i]);
    nb_tape_free(tape);
}

START_TEST(take_repeated_indices_add_gradients)
{
    for (int d = 0; d < 2; d++) {
        /* element 0 taken three times gets 1 + 100 + 1000; 1 is never taken */
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 1, 2, 3);
        nb_tensor *at = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4), 0, 2, 0, -3);
        assert_take_grad("[0, 2, 0, -3]", x, at, 0, (double[]){1, 10, 100, 1000},
                         (double[]){1101, 0, 10});
        /* row 1 taken twice gets both rows of the seed */
        nb_tensor *m = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3, 2), 1, 2, 3, 4, 5, 6);
        nb_tensor *twice = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), 1, 1);
        assert_take_grad("rows [1, 1]", m, twice, 0, (double[]){1, 2, 3, 4},
                         (double[]){0, 0, 4, 6, 0, 0});
    }
}
END_TEST

START_TEST(take_grad_adds_to_gradients_from_other_uses)
{
    /* loss = sum(take(x, [1], 0)) + sum(x): x[1] gets 1 + 1 */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(3), 4, 5, 6);
    nb_tensor *at = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1), 1);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *loss = nb_add(tape, nb_sum(tape, nb_take(tape, x, at, 0)), nb_sum(tape, x));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    nb_test_assert_close("take + sum", x, true, (double[]){1, 2, 1}, 3);
    nb_tape_free(tape);
}
END_TEST

START_TEST(indices_get_no_gradient)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(3), 4, 5, 6);
    nb_tensor *at = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2), 2, 0);
    nb_tensor_set_requires_grad(at, true);
    /* only the indices want a gradient: backward runs and gives them none */
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_take(tape, x, at, 0))), NB_OK);
    ck_assert_double_eq(nb_tensor_grad_get(at, 0), 0);
    ck_assert_double_eq(nb_tensor_grad_get(at, 1), 0);
    ck_assert_ptr_null(x->grad);
    nb_tape_free(tape);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

/* The table's null_inputs test checks that an earlier message is kept;
 * without one, the NULL input is named. */
START_TEST(take_of_null_indices_names_them)
{
    nb_tensor *x = NB_TEST_TENSOR(NB_F32, NB_SHAPE(2), 1, 2);
    nb_clear_error();
    ck_assert_ptr_null(nb_take(NULL, x, NULL, 0));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_take: input 1 is NULL");
}
END_TEST

static Suite *take_suite(void)
{
    Suite *s = suite_create("take");
    TCase *tc = tcase_create("values");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, take_along_axis_0_picks_rows_whatever_the_indices_dtype);
    tcase_add_test(tc, take_along_the_last_axis_puts_the_index_shape_there);
    tcase_add_test(tc, take_along_a_middle_axis_keeps_the_axes_around_it);
    tcase_add_test(tc, a_rank_0_index_removes_the_axis);
    tcase_add_test(tc, negative_indices_count_from_the_end);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, take_repeated_indices_add_gradients);
    tcase_add_test(tc, take_grad_adds_to_gradients_from_other_uses);
    tcase_add_test(tc, indices_get_no_gradient);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, take_of_null_indices_names_them);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(take_suite)
