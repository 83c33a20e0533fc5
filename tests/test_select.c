/* Tests for where and broadcast_to (src/ops/select.c) under NumPy
 * broadcasting: values and gradients worked out by hand, cond getting no
 * gradient, and a NULL shape. Gradient checks, the errors, the runs without
 * a tape and NULL inputs are generated from the op table
 * (tests/op_table_binary.c). The binary ops are tested in test_binary.c. */
#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* ---- forward values, worked out by hand ------------------------------------ */

START_TEST(where_picks_a_or_b_under_a_broadcast_cond)
{
    /* cond [2, 1] picks row 0 from a [3], row 1 from the scalar b */
    for (int d = 0; d < 2; d++) {
        nb_tensor *cond = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 1), 1, 0);
        nb_tensor *a = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 1, 2, 3);
        nb_tensor *b = nb_test_keep(nb_tensor_from_doubles(dtypes[d], 0, NULL, (double[]){10}));
        nb_tensor *y = nb_test_keep(nb_where(NULL, cond, a, b));
        nb_test_assert_shape("where", y, NB_SHAPE(2, 3));
        nb_test_assert_close("where", y, false, (double[]){1, 2, 3, 10, 10, 10}, 6);
        /* any nonzero cond counts as true; cond may carry the largest shape */
        nb_tensor *c2 = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 0.5, 0, -1, 0);
        nb_tensor *a2 = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2), 1, 2);
        nb_tensor *y2 = nb_test_keep(nb_where(NULL, c2, a2, b));
        nb_test_assert_shape("where [2, 2]", y2, NB_SHAPE(2, 2));
        nb_test_assert_close("where [2, 2]", y2, false, (double[]){1, 10, 1, 10}, 4);
    }
}
END_TEST

START_TEST(broadcast_to_repeats_rows_columns_and_scalars)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *row = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 1, 2, 3);
        nb_tensor *col = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 1), 4, 5);
        nb_tensor *one = nb_test_keep(nb_tensor_from_doubles(dtypes[d], 0, NULL, (double[]){7}));
        nb_tensor *y = nb_test_keep(nb_broadcast_to(NULL, row, NB_SHAPE(2, 3)));
        nb_test_assert_shape("[3] to [2, 3]", y, NB_SHAPE(2, 3));
        nb_test_assert_close("[3] to [2, 3]", y, false, (double[]){1, 2, 3, 1, 2, 3}, 6);
        y = nb_test_keep(nb_broadcast_to(NULL, col, NB_SHAPE(2, 3)));
        nb_test_assert_close("[2, 1] to [2, 3]", y, false, (double[]){4, 4, 4, 5, 5, 5}, 6);
        y = nb_test_keep(nb_broadcast_to(NULL, one, NB_SHAPE(2, 2)));
        nb_test_assert_close("scalar to [2, 2]", y, false, (double[]){7, 7, 7, 7}, 4);
        y = nb_test_keep(nb_broadcast_to(NULL, col, NB_SHAPE(2, 2, 1)));
        nb_test_assert_close("[2, 1] to [2, 2, 1]", y, false, (double[]){4, 5, 4, 5}, 4);
        y = nb_test_keep(nb_broadcast_to(NULL, one, 0, NULL));
        nb_test_assert_shape("scalar to scalar", y, 0, NULL);
        nb_test_assert_close("scalar to scalar", y, false, (double[]){7}, 1);
    }
}
END_TEST

/* ---- gradients ---------------------------------------------------------- */

static bool grad_is_absent_or_zero(const nb_tensor *t)
{
    for (int64_t i = 0; t->grad && i < t->size; i++)
        if (t->dtype == NB_F32 ? ((const float *)t->grad)[i] != 0
                               : ((const double *)t->grad)[i] != 0)
            return false;
    return true;
}

START_TEST(where_routes_the_gradient_by_cond_and_gives_cond_none)
{
    /* y = where([[1], [0]], a [3], b scalar), seeded with g = [[1, 2, 3], [4, 5, 6]]:
     * row 0 came from a, row 1 from b (summed: 4 + 5 + 6) */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *cond = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 1), 1, 0);
        nb_tensor *a = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 1, 2, 3);
        nb_tensor *b = nb_test_keep(nb_tensor_from_doubles(dtypes[d], 0, NULL, (double[]){10}));
        nb_tensor *g = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
        nb_tensor_set_requires_grad(cond, true);
        nb_tensor_set_requires_grad(a, true);
        nb_tensor_set_requires_grad(b, true);
        ck_assert_int_eq(nb_backward_from(nb_where(tape, cond, a, b), g), NB_OK);
        nb_test_assert_close("where da", a, true, (double[]){1, 2, 3}, 3);
        nb_test_assert_close("where db", b, true, (double[]){15}, 1);
        ck_assert_msg(grad_is_absent_or_zero(cond), "cond got a gradient");
        nb_tape_free(tape);
    }
}
END_TEST

START_TEST(broadcast_to_backward_sums_the_copies)
{
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *row = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3), 1, 2, 3);
        nb_tensor *col = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 1), 4, 5);
        nb_tensor *one = nb_test_keep(nb_tensor_from_doubles(dtypes[d], 0, NULL, (double[]){7}));
        nb_tensor *g = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 2, 3, 4, 5, 6);
        nb_tensor *g4 = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 1, 2, 3, 4);
        nb_tensor_set_requires_grad(row, true);
        nb_tensor_set_requires_grad(col, true);
        nb_tensor_set_requires_grad(one, true);
        ck_assert_int_eq(nb_backward_from(nb_broadcast_to(tape, row, NB_SHAPE(2, 3)), g), NB_OK);
        nb_test_assert_close("[3] to [2, 3]", row, true, (double[]){5, 7, 9}, 3);
        nb_tape_reset(tape);
        ck_assert_int_eq(nb_backward_from(nb_broadcast_to(tape, col, NB_SHAPE(2, 3)), g), NB_OK);
        nb_test_assert_close("[2, 1] to [2, 3]", col, true, (double[]){6, 15}, 2);
        nb_tape_reset(tape);
        ck_assert_int_eq(nb_backward_from(nb_broadcast_to(tape, one, NB_SHAPE(2, 2)), g4), NB_OK);
        nb_test_assert_close("scalar to [2, 2]", one, true, (double[]){10}, 1);
        nb_tape_free(tape);
    }
}
END_TEST


/* ---- errors ------------------------------------------------------------- */

/* the table's call always passes a shape; a NULL one is NB_ERR_NULL, but
 * only once x is there: a NULL x keeps the earlier message */
START_TEST(broadcast_to_rejects_a_null_shape_after_a_null_x)
{
    nb_tensor *x = NB_TEST_TENSOR(NB_F32, NB_SHAPE(3), 0, 0, 0);
    ck_assert_ptr_null(nb_broadcast_to(NULL, x, 2, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_str_eq(nb_last_error(), "nb_broadcast_to: shape is NULL for rank 2");
    nb_error(NB_ERR_SHAPE, "an earlier failure");
    ck_assert_ptr_null(nb_broadcast_to(NULL, NULL, 2, NULL));
    ck_assert_ptr_null(nb_broadcast_to(NULL, NULL, NB_SHAPE(0)));
    ck_assert_str_eq(nb_last_error(), "an earlier failure");
}
END_TEST

static Suite *select_suite(void)
{
    Suite *s = suite_create("select");
    TCase *tc = tcase_create("forward");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, where_picks_a_or_b_under_a_broadcast_cond);
    tcase_add_test(tc, broadcast_to_repeats_rows_columns_and_scalars);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, where_routes_the_gradient_by_cond_and_gives_cond_none);
    tcase_add_test(tc, broadcast_to_backward_sums_the_copies);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, broadcast_to_rejects_a_null_shape_after_a_null_x);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(select_suite)
