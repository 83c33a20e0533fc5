/* Tests for the losses (src/nn/loss.c): values against hand-computed numbers
 * in f32 and f64, gradients by hand, finiteness at the extremes, NULL and
 * freed inputs, lookup by name. Gradient checks and the shape and dtype
 * errors are the op table's (tests/op_table_loss.c). */
#include <math.h>

#include "nb_test.h"

/* ---- helpers ---------------------------------------------------------------- */

static const nb_dtype dtypes[] = {NB_F32, NB_F64};
static double tolerance(nb_dtype dtype) { return dtype == NB_F32 ? 1e-6 : 1e-12; }

/* The value of fn(a, b) computed on a fresh tape. */
static double loss_value(nb_loss_fn fn, nb_tensor *a, nb_tensor *b)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = fn(tape, a, b);
    ck_assert_msg(loss != NULL, "loss failed: %s", nb_last_error());
    ck_assert_int_eq(loss->rank, 0);
    double value = nb_tensor_item(loss);
    nb_tape_free(tape);
    return value;
}

/* Backward through fn(pred, target); returns the loss and asserts that it
 * and every element of pred's gradient are finite. */
static double finite_loss_and_grad(nb_loss_fn fn, nb_tensor *pred, nb_tensor *target)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor_set_requires_grad(pred, true);
    nb_tensor_zero_grad(pred);
    nb_tensor *loss = fn(tape, pred, target);
    ck_assert_msg(loss != NULL, "loss failed: %s", nb_last_error());
    double value = nb_tensor_item(loss);
    ck_assert_msg(isfinite(value), "loss is %g: expected a finite value", value);
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    for (int64_t i = 0; i < pred->size; i++)
        ck_assert_msg(isfinite(nb_tensor_grad_get(pred, i)), "grad[%lld] is %g: expected finite",
                      (long long)i, nb_tensor_grad_get(pred, i));
    nb_tape_free(tape);
    return value;
}

/* ---- values ------------------------------------------------------------------ */

START_TEST(mse_is_the_mean_of_squared_differences)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *pred = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 1, 2, 3, 4);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 0, 2, 5, 1);
        /* differences 1, 0, -2, 3: (1 + 0 + 4 + 9) / 4 */
        ck_assert_double_eq_tol(loss_value(nb_loss_mse, pred, target), 3.5, tolerance(dtypes[d]));
    }
}
END_TEST

START_TEST(mae_is_the_mean_of_absolute_differences)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *pred = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 1, 2, 3, 4);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 0, 2, 5, 1);
        /* (1 + 0 + 2 + 3) / 4 */
        ck_assert_double_eq_tol(loss_value(nb_loss_mae, pred, target), 1.5, tolerance(dtypes[d]));
    }
}
END_TEST

START_TEST(categorical_crossentropy_is_mean_negative_log_of_true_class)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *probs = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 0.7, 0.2, 0.1, 0.1, 0.1, 0.8);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 0, 0, 0, 0, 1);
        /* (-ln 0.7 - ln 0.8) / 2 = (0.3566749439 + 0.2231435513) / 2 */
        ck_assert_double_eq_tol(loss_value(nb_loss_categorical_crossentropy, probs, target),
                                0.2899092476, 1e-9 + tolerance(dtypes[d]));
    }
}
END_TEST

START_TEST(categorical_crossentropy_weighs_soft_targets)
{
    nb_tensor *probs = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1, 2), 0.25, 0.75);
    nb_tensor *target = NB_TEST_TENSOR(NB_F64, NB_SHAPE(1, 2), 0.5, 0.5);
    /* -(0.5 ln 0.25 + 0.5 ln 0.75) = 0.6931471806 + 0.1438410362 */
    ck_assert_double_eq_tol(loss_value(nb_loss_categorical_crossentropy, probs, target),
                            0.8369882168, 1e-9);
}
END_TEST

START_TEST(categorical_crossentropy_from_logits_uses_log_softmax)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *logits = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 2, 3, 0, 0, 0);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 0, 0, 1, 0, 1, 0);
        /* row 0: ln(e + e^2 + e^3) - 3 = 0.4076059644; row 1: ln 3 = 1.0986122887 */
        ck_assert_double_eq_tol(loss_value(nb_loss_categorical_crossentropy_logits, logits, target),
                                0.7531091265, 1e-9 + tolerance(dtypes[d]));
    }
}
END_TEST

START_TEST(sparse_categorical_crossentropy_equals_categorical_on_one_hot)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *probs = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 0.7, 0.2, 0.1, 0.1, 0.1, 0.8);
        nb_tensor *labels = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2), 0, 2);
        nb_tensor *column = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 1), 0, 2);
        double tol = 1e-9 + tolerance(dtypes[d]);
        ck_assert_double_eq_tol(loss_value(nb_loss_sparse_categorical_crossentropy, probs, labels),
                                0.2899092476, tol);
        ck_assert_double_eq_tol(loss_value(nb_loss_sparse_categorical_crossentropy, probs, column),
                                0.2899092476, tol);
    }
}
END_TEST

START_TEST(binary_crossentropy_averages_every_element)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *probs = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3, 1), 0.9, 0.2, 0.6);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3, 1), 1, 0, 1);
        /* -(ln 0.9 + ln 0.8 + ln 0.6) / 3 */
        ck_assert_double_eq_tol(loss_value(nb_loss_binary_crossentropy, probs, target),
                                0.2797765636, 1e-9 + tolerance(dtypes[d]));
    }
}
END_TEST

START_TEST(null_tape_gives_a_caller_owned_loss)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 3), 0.7, 0.2, 0.1, 0.1, 0.1, 0.8);
    nb_tensor *probs = nb_scale(tape, x, 1.0); /* an input living on a tape */
    nb_tensor *target = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 3), 1, 0, 0, 0, 0, 1);
    nb_tensor *loss = nb_loss_categorical_crossentropy(NULL, probs, target);
    ck_assert_ptr_nonnull(loss);
    ck_assert_ptr_null(loss->tape);
    ck_assert(!loss->requires_grad);
    ck_assert_double_eq_tol(nb_tensor_item(loss), 0.2899092476, 1e-9);
    nb_tensor_free(loss);
    nb_tape_free(tape);
}
END_TEST

/* ---- gradients ------------------------------------------------------------------
 * Gradient checks of every loss (and their second derivatives), f32 against
 * f64, the tape-free runs and the shape, dtype and label errors are the op
 * table's (tests/op_table_loss.c). */

START_TEST(logits_gradient_is_softmax_minus_target_over_batch)
{
    nb_tensor *logits = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 3), 1, 2, 3, 0, 0, 0);
    nb_tensor *target = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 3), 0, 0, 1, 0, 1, 0);
    finite_loss_and_grad(nb_loss_categorical_crossentropy_logits, logits, target);
    double z = exp(1) + exp(2) + exp(3);
    double expected[6] = {exp(1) / z, exp(2) / z, exp(3) / z - 1, 1.0 / 3, 1.0 / 3 - 1, 1.0 / 3};
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq_tol(nb_tensor_grad_get(logits, i), expected[i] / 2, 1e-12);
}
END_TEST

/* ---- extremes ----------------------------------------------------------------- */

START_TEST(categorical_crossentropy_is_finite_at_probabilities_0_and_1)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *probs = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 0, 1, 0, 1, 0, 0);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 0, 0, 1, 0, 0);
        double value = finite_loss_and_grad(nb_loss_categorical_crossentropy, probs, target);
        /* row 0: -ln 1e-7 = 16.118; row 1: -ln(1 - 1e-7) ~ 0 */
        ck_assert_double_eq_tol(value, -log(1e-7) / 2, 1e-4);
    }
}
END_TEST

START_TEST(sparse_categorical_crossentropy_is_finite_at_probability_0)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *probs = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 0, 1, 1, 0);
        nb_tensor *labels = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2), 0, 1);
        double value = finite_loss_and_grad(nb_loss_sparse_categorical_crossentropy, probs,
                                                    labels);
        ck_assert_double_eq_tol(value, -log(1e-7), 1e-4);
    }
}
END_TEST

START_TEST(binary_crossentropy_is_finite_at_probabilities_0_and_1)
{
    for (int d = 0; d < 2; d++) {
        /* right and confidently wrong, both ways */
        nb_tensor *probs = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4, 1), 0, 1, 0, 1);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4, 1), 0, 1, 1, 0);
        double value = finite_loss_and_grad(nb_loss_binary_crossentropy, probs, target);
        /* two terms of ~ -ln 1e-7 (f32 rounds 1 - 1e-7 to 1 - 1.19e-7) over 4 */
        ck_assert_double_eq_tol(value, -log(1e-7) / 2, dtypes[d] == NB_F32 ? 0.1 : 1e-4);
    }
}
END_TEST

START_TEST(categorical_crossentropy_from_logits_is_finite_at_plus_minus_1000)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *logits = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 1000, -1000, -1000, 1000);
        nb_tensor *target = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 2), 0, 1, 0, 1);
        double value =
            finite_loss_and_grad(nb_loss_categorical_crossentropy_logits, logits, target);
        /* row 0 is wrong by 2000 nats, row 1 right */
        ck_assert_double_eq_tol(value, 1000.0, 1e-3);
        /* (softmax - target) / 2: row 0 gives [0.5, -0.5], row 1 zeros */
        ck_assert_double_eq_tol(nb_tensor_grad_get(logits, 0), 0.5, 1e-6);
        ck_assert_double_eq_tol(nb_tensor_grad_get(logits, 1), -0.5, 1e-6);
        ck_assert_double_eq_tol(nb_tensor_grad_get(logits, 3), 0.0, 1e-6);
    }
}
END_TEST

/* ---- errors ------------------------------------------------------------------- */

/* A NULL input with no earlier error is named (the op table's null_inputs
 * test checks that an earlier message is kept). */
START_TEST(a_null_input_is_named)
{
    nb_tensor *a = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3)));
    ck_assert_ptr_null(nb_loss_mse(NULL, a, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_error_contains("nb_loss_mse: target is NULL");
}
END_TEST

START_TEST(inputs_freed_by_a_reset_are_reported)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_test_keep(nb_tensor_zeros(NB_F32, NB_SHAPE(2, 2)));
    nb_tensor *y = nb_scale(tape, x, 2.0);
    nb_tensor_set_name(y, "y");
    nb_tape_reset(tape);
    ck_assert_ptr_null(nb_loss_mse(tape, y, x));
    ck_assert_error_contains("nb_loss_mse: tensor 'y' was freed by nb_tape_reset");
    nb_tape_free(tape);
}
END_TEST

/* ---- by name ------------------------------------------------------------------ */

START_TEST(loss_get_resolves_keras_names_and_aliases)
{
    const char *names[] = {"mean_squared_error", "mean_absolute_error", "categorical_crossentropy",
                           "categorical_crossentropy_from_logits",
                           "sparse_categorical_crossentropy", "binary_crossentropy"};
    for (int i = 0; i < 6; i++) {
        const nb_loss *loss = nb_loss_get(names[i]);
        ck_assert_ptr_nonnull(loss);
        ck_assert_str_eq(loss->name, names[i]);
    }
    ck_assert(nb_loss_get("mse") == nb_loss_get("mean_squared_error"));
    ck_assert(nb_loss_get("mae") == nb_loss_get("mean_absolute_error"));
    ck_assert(nb_loss_get("mse")->fn == nb_loss_mse);
    ck_assert(nb_loss_get("binary_crossentropy")->fn == nb_loss_binary_crossentropy);
}
END_TEST

START_TEST(loss_get_lists_the_names_for_an_unknown_one)
{
    ck_assert_ptr_null(nb_loss_get("hinge"));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_loss_get: unknown loss 'hinge': expected one of mean_squared_error (mse), ");
    ck_assert_error_contains("binary_crossentropy");
    ck_assert_ptr_null(nb_loss_get(NULL));
    ck_assert_error_contains("nb_loss_get: name is NULL");
}
END_TEST

static Suite *loss_suite(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("value");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, mse_is_the_mean_of_squared_differences);
    tcase_add_test(tc, mae_is_the_mean_of_absolute_differences);
    tcase_add_test(tc, categorical_crossentropy_is_mean_negative_log_of_true_class);
    tcase_add_test(tc, categorical_crossentropy_weighs_soft_targets);
    tcase_add_test(tc, categorical_crossentropy_from_logits_uses_log_softmax);
    tcase_add_test(tc, sparse_categorical_crossentropy_equals_categorical_on_one_hot);
    tcase_add_test(tc, binary_crossentropy_averages_every_element);
    tcase_add_test(tc, null_tape_gives_a_caller_owned_loss);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradient");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, logits_gradient_is_softmax_minus_target_over_batch);
    suite_add_tcase(s, tc);
    tc = tcase_create("extremes");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, categorical_crossentropy_is_finite_at_probabilities_0_and_1);
    tcase_add_test(tc, sparse_categorical_crossentropy_is_finite_at_probability_0);
    tcase_add_test(tc, binary_crossentropy_is_finite_at_probabilities_0_and_1);
    tcase_add_test(tc, categorical_crossentropy_from_logits_is_finite_at_plus_minus_1000);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, a_null_input_is_named);
    tcase_add_test(tc, inputs_freed_by_a_reset_are_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("by_name");
    tcase_add_test(tc, loss_get_resolves_keras_names_and_aliases);
    tcase_add_test(tc, loss_get_lists_the_names_for_an_unknown_one);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(loss_suite)
