/* Tests for the metrics (src/nn/metric.c) and the op they threshold with,
 * nb_greater_scalar (src/ops/compare.c). */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* fn(a, b) on a fresh tape. */
static double metric_value(nb_loss_fn fn, nb_tensor *a, nb_tensor *b)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *m = fn(tape, a, b);
    ck_assert_msg(m != NULL, "metric failed: %s", nb_last_error());
    double value = nb_tensor_item(m);
    nb_tape_free(tape);
    return value;
}

/* ---- nb_greater_scalar -------------------------------------------------------- */

START_TEST(greater_scalar_is_one_strictly_above_the_threshold)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), -1, 0.5, 0.75, 2, NAN, 0.25);
        nb_tensor *y = nb_test_keep(nb_greater_scalar(NULL, x, 0.5));
        ck_assert_int_eq(y->dtype, dtypes[d]);
        ck_assert(nb_same_shape(x, y));
        const double expected[] = {0, 0, 1, 1, 0, 0}; /* 0.5 itself and NaN give 0 */
        for (int i = 0; i < 6; i++)
            ck_assert_double_eq(nb_tensor_get(y, i), expected[i]);
    }
}
END_TEST

START_TEST(greater_scalar_records_nothing_and_needs_no_gradient)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(3), -1, 0, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *y = nb_greater_scalar(tape, x, 0.0);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_eq(y->tape, tape);
    ck_assert(!y->requires_grad);
    ck_assert_int_eq(nb_tape_size(tape), 0);
    ck_assert_double_eq(nb_tensor_get(y, 2), 1.0);
    nb_tape_free(tape);
}
END_TEST

START_TEST(greater_scalar_of_null_reports_the_op)
{
    nb_clear_error();
    ck_assert_ptr_null(nb_greater_scalar(NULL, NULL, 0.5));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_greater_scalar: input 0 is NULL");
}
END_TEST

/* ---- values ------------------------------------------------------------------- */

START_TEST(categorical_accuracy_counts_rows_whose_argmax_matches)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *pred = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4, 3), 0.1, 0.8, 0.1, 0.6, 0.3, 0.1,
                                         0.2, 0.2, 0.6, 0.3, 0.4, 0.3);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4, 3), 0, 1, 0, 1, 0, 0,
                                           1, 0, 0, 0, 0, 1);
        /* rows 0 and 1 right, 2 and 3 wrong */
        ck_assert_double_eq(metric_value(nb_metric_categorical_accuracy, pred, target), 0.5);
    }
}
END_TEST

START_TEST(categorical_accuracy_breaks_ties_to_the_first_class)
{
    nb_tensor *pred = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 2), 0.5, 0.5, 0.5, 0.5);
    nb_tensor *target = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 2), 1, 0, 0, 1);
    ck_assert_double_eq(metric_value(nb_metric_categorical_accuracy, pred, target), 0.5);
}
END_TEST

START_TEST(sparse_categorical_accuracy_compares_argmax_with_labels)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *pred = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4, 3), 0.1, 0.8, 0.1, 0.6, 0.3, 0.1,
                                         0.2, 0.2, 0.6, 0.3, 0.4, 0.3);
        nb_tensor *labels = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4), 1, 0, 0, 2);
        nb_tensor *column = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4, 1), 1, 0, 2, 2);
        nb_loss_fn sparse = nb_metric_sparse_categorical_accuracy;
        ck_assert_double_eq(metric_value(sparse, pred, labels), 0.5);
        ck_assert_double_eq(metric_value(sparse, pred, column), 0.75); /* row 2 now right */
    }
}
END_TEST

START_TEST(binary_accuracy_thresholds_at_one_half)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *pred = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(5, 1), 0.9, 0.4, 0.5, 0.51, 0.1);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(5, 1), 1, 0, 1, 1, 1);
        /* thresholded 1, 0, 0, 1, 0: three of five agree */
        ck_assert_double_eq_tol(metric_value(nb_metric_binary_accuracy, pred, target), 0.6, 1e-7);
    }
}
END_TEST

START_TEST(mae_and_mse_metrics_equal_the_losses)
{
    nb_tensor *pred = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 2), 1, 2, 3, 4);
    nb_tensor *target = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 2), 0, 2, 5, 1);
    ck_assert_double_eq(metric_value(nb_metric_mae, pred, target), 1.5);
    ck_assert_double_eq(metric_value(nb_metric_mse, pred, target), 3.5);
}
END_TEST

START_TEST(accuracy_records_nothing_on_the_tape)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *pred = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 2), 0.2, 0.8, 0.7, 0.3);
    nb_tensor *target = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 2), 0, 1, 0, 1);
    nb_tensor_set_requires_grad(pred, true);
    nb_tensor *acc = nb_metric_categorical_accuracy(tape, pred, target);
    ck_assert_ptr_nonnull(acc);
    ck_assert(!acc->requires_grad);
    ck_assert_int_eq(nb_tape_size(tape), 0);
    ck_assert_double_eq(nb_tensor_item(acc), 0.5);
    nb_tape_free(tape);
}
END_TEST

START_TEST(null_tape_gives_a_caller_owned_metric)
{
    nb_tensor *pred = NB_TEST_TENSOR(NB_F32, NB_SHAPE(2, 2), 0.2, 0.8, 0.7, 0.3);
    nb_tensor *labels = NB_TEST_TENSOR(NB_F32, NB_SHAPE(2), 1, 0);
    nb_tensor *acc = nb_metric_sparse_categorical_accuracy(NULL, pred, labels);
    ck_assert_ptr_nonnull(acc);
    ck_assert_ptr_null(acc->tape);
    ck_assert_double_eq(nb_tensor_item(acc), 1.0);
    nb_tensor_free(acc);
}
END_TEST

/* (The metrics' shape and dtype errors are the op table's rejects,
 * tests/op_table_loss.c.) */

/* ---- by name ------------------------------------------------------------------ */

START_TEST(accuracy_is_chosen_from_the_loss)
{
    const nb_metric *m = nb_metric_get("accuracy", nb_loss_get("sparse_categorical_crossentropy"));
    ck_assert_str_eq(m->name, "accuracy");
    ck_assert(m->fn == nb_metric_sparse_categorical_accuracy);
    m = nb_metric_get("accuracy", nb_loss_get("binary_crossentropy"));
    ck_assert(m->fn == nb_metric_binary_accuracy);
    m = nb_metric_get("accuracy", nb_loss_get("categorical_crossentropy"));
    ck_assert(m->fn == nb_metric_categorical_accuracy);
    m = nb_metric_get("accuracy", nb_loss_get("categorical_crossentropy_from_logits"));
    ck_assert(m->fn == nb_metric_categorical_accuracy);
    m = nb_metric_get("accuracy", NULL);
    ck_assert(m->fn == nb_metric_categorical_accuracy);
    static const nb_loss custom = {"my_loss", nb_loss_mse};
    ck_assert(nb_metric_get("accuracy", &custom)->fn == nb_metric_categorical_accuracy);
}
END_TEST

START_TEST(metric_get_keeps_the_name_asked_for)
{
    const char *names[] = {"categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
                           "mae", "mean_absolute_error", "mse", "mean_squared_error"};
    for (int i = 0; i < 7; i++)
        ck_assert_str_eq(nb_metric_get(names[i], NULL)->name, names[i]);
    ck_assert(nb_metric_get("mae", NULL)->fn == nb_metric_mae);
    ck_assert(nb_metric_get("mean_squared_error", NULL)->fn == nb_metric_mse);
}
END_TEST

START_TEST(metric_get_lists_the_names_for_an_unknown_one)
{
    ck_assert_ptr_null(nb_metric_get("auc", NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_metric_get: unknown metric 'auc': expected one of accuracy, "
                             "categorical_accuracy, sparse_categorical_accuracy, binary_accuracy");
    ck_assert_ptr_null(nb_metric_get(NULL, NULL));
    ck_assert_error_contains("nb_metric_get: name is NULL");
}
END_TEST

static Suite *metric_suite(void)
{
    Suite *s = suite_create("metric");
    TCase *tc = tcase_create("greater_scalar");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, greater_scalar_is_one_strictly_above_the_threshold);
    tcase_add_test(tc, greater_scalar_records_nothing_and_needs_no_gradient);
    tcase_add_test(tc, greater_scalar_of_null_reports_the_op);
    suite_add_tcase(s, tc);
    tc = tcase_create("value");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, categorical_accuracy_counts_rows_whose_argmax_matches);
    tcase_add_test(tc, categorical_accuracy_breaks_ties_to_the_first_class);
    tcase_add_test(tc, sparse_categorical_accuracy_compares_argmax_with_labels);
    tcase_add_test(tc, binary_accuracy_thresholds_at_one_half);
    tcase_add_test(tc, mae_and_mse_metrics_equal_the_losses);
    tcase_add_test(tc, accuracy_records_nothing_on_the_tape);
    tcase_add_test(tc, null_tape_gives_a_caller_owned_metric);
    suite_add_tcase(s, tc);
    tc = tcase_create("by_name");
    tcase_add_test(tc, accuracy_is_chosen_from_the_loss);
    tcase_add_test(tc, metric_get_keeps_the_name_asked_for);
    tcase_add_test(tc, metric_get_lists_the_names_for_an_unknown_one);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(metric_suite)
