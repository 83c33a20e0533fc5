/* fit's numeric guard (TerminateOnNaN, src/nn/fit.c): a non-finite loss or
 * gradient stops training with a message naming the epoch and batch, and the
 * weights stay those from before that batch. */
#include <math.h>

#include "nb_test.h"

/* The custom losses below see the model through this, to snapshot its
 * weights before the batch that goes wrong. */
static nb_model *g_model;
static int g_calls, g_bad_call;
static double g_snapshot[2];

static void snapshot(void)
{
    g_snapshot[0] = nb_tensor_get(nb_model_weight(g_model, 0), 0);
    g_snapshot[1] = nb_tensor_get(nb_model_weight(g_model, 1), 0);
}

/* mse, except on call g_bad_call, where it is log(-1) = nan. */
static nb_tensor *nan_on_call(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (++g_calls != g_bad_call)
        return nb_loss_mse(tape, pred, target);
    snapshot();
    nb_tensor *minus_one = nb_add_scalar(tape, nb_scale(tape, nb_mean(tape, pred), 0.0), -1.0);
    return nb_log(tape, minus_one);
}

/* mse, except on call g_bad_call: sqrt(sum(0 * pred)) = 0, a finite loss
 * whose gradient is 0 * inf = nan. */
static nb_tensor *nan_grad_on_call(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    if (++g_calls != g_bad_call)
        return nb_loss_mse(tape, pred, target);
    snapshot();
    return nb_sqrt(tape, nb_sum(tape, nb_scale(tape, pred, 0.0)));
}

/* Dense(1) on 1 input, SGD 0.1, the given loss. */
static nb_model *small_model(const nb_loss *loss, double learning_rate)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(1));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    nb_status s = nb_model_compile(model, &(nb_compile_options){
                                              .optimizer = nb_sgd(learning_rate, 0, false),
                                              .custom_loss = loss});
    ck_assert_msg(s == NB_OK, "compile: %s", nb_last_error());
    return model;
}

/* 40 rows x = i / 10, y = 3x + 1; batches of 4, 10 a epoch, in order. */
static void data(nb_tensor **x, nb_tensor **y)
{
    *x = nb_tensor_zeros(NB_F32, NB_SHAPE(40, 1));
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(40, 1));
    for (int i = 0; i < 40; i++) {
        nb_tensor_set(*x, i, i / 10.0);
        nb_tensor_set(*y, i, 3 * i / 10.0 + 1);
    }
}

static void fit_expect(nb_model *model, const char *message)
{
    nb_tensor *x, *y;
    data(&x, &y);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 5;
    fit.batch_size = 4;
    fit.shuffle = false;
    fit.verbose = 0;
    nb_history *history = nb_model_fit(model, x, y, &fit);
    ck_assert_ptr_null(history);
    ck_assert_int_eq(nb_last_status(), NB_ERR_NUMERIC);
    ck_assert_str_eq(nb_last_error(), message);
    nb_tensor_free(x);
    nb_tensor_free(y);
}

START_TEST(nan_loss_stops_with_epoch_batch_and_keeps_the_weights)
{
    nb_loss loss = {"nan_on_call", nan_on_call};
    g_model = small_model(&loss, 0.01);
    g_calls = 0;
    g_bad_call = 2 * 10 + 7; /* epoch 3, batch 7 */
    fit_expect(g_model, "nb_model_fit: epoch 3, batch 7: the loss is nan: training stopped; "
                        "the weights are those before this batch");
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(g_model, 0), 0), g_snapshot[0]);
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(g_model, 1), 0), g_snapshot[1]);
    nb_model_free(g_model);
}
END_TEST

START_TEST(nan_gradient_is_not_applied)
{
    nb_loss loss = {"nan_grad_on_call", nan_grad_on_call};
    g_model = small_model(&loss, 0.01);
    g_calls = 0;
    g_bad_call = 10 + 2; /* epoch 2, batch 2 */
    fit_expect(g_model, "nb_model_fit: epoch 2, batch 2: the gradient of weight 'dense/kernel' is nan "
                        "at element 0: training stopped; the weights are those before this batch");
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(g_model, 0), 0), g_snapshot[0]);
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(g_model, 1), 0), g_snapshot[1]);
    nb_model_free(g_model);
}
END_TEST

START_TEST(huge_learning_rate_stops_with_finite_weights)
{
    nb_model *model = small_model(nb_loss_get("mse"), 1e30);
    nb_tensor *x, *y;
    data(&x, &y);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 50;
    fit.batch_size = 4;
    fit.verbose = 0;
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NUMERIC);
    ck_assert_error_contains(": training stopped; the weights are those before this batch");
    ck_assert_msg(isfinite(nb_tensor_get(nb_model_weight(model, 0), 0)) &&
                      isfinite(nb_tensor_get(nb_model_weight(model, 1), 0)),
                  "a non-finite step was applied");
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_model_free(model);
}
END_TEST

START_TEST(nan_in_evaluate_does_not_talk_of_training)
{
    nb_model *model = small_model(nb_loss_get("mse"), 0.01);
    nb_tensor *x, *y;
    data(&x, &y);
    nb_tensor_set(y, 5, NAN);
    nb_logs logs;
    ck_assert_int_eq(nb_model_evaluate(model, x, y, 4, &logs), NB_ERR_NUMERIC);
    ck_assert_str_eq(nb_last_error(), "the loss is nan");
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_model_free(model);
}
END_TEST

static Suite *fit_numeric_suite(void)
{
    Suite *s = suite_create("fit_numeric");
    TCase *tc = tcase_create("terminate_on_nan");
    tcase_add_test(tc, nan_loss_stops_with_epoch_batch_and_keeps_the_weights);
    tcase_add_test(tc, nan_gradient_is_not_applied);
    tcase_add_test(tc, huge_learning_rate_stops_with_finite_weights);
    tcase_add_test(tc, nan_in_evaluate_does_not_talk_of_training);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(fit_numeric_suite)
