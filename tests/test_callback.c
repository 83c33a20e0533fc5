/* Tests for callbacks (src/nn/callback.c): EarlyStopping.
 *
 * Most tests feed on_epoch_end hand-made logs with a NULL model (allowed
 * without restore_best_weights), so the decision rule is checked exactly;
 * the "fit" case checks it inside nb_model_fit, with restored weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nb_test.h"

/* ---- helpers ------------------------------------------------------------ */

static nb_logs logs_of(const char *name, double value)
{
    nb_logs logs = {.n = 1};
    snprintf(logs.names[0], sizeof logs.names[0], "%s", name);
    logs.values[0] = value;
    return logs;
}

/* Feed values[0..n) as epochs 0..n-1; returns the status of the last call. */
static nb_status feed(nb_callback *cb, const char *name, int n, const double *values)
{
    nb_status s = NB_OK;
    for (int e = 0; e < n && s == NB_OK; e++) {
        nb_logs logs = logs_of(name, values[e]);
        s = cb->on_epoch_end(cb, NULL, e, &logs);
    }
    return s;
}

/* ---- the rule, by hand -------------------------------------------------- */

START_TEST(stops_after_patience_epochs_without_improvement)
{
    nb_callback *cb = nb_early_stopping(NULL, 2, 0.0, false);
    ck_assert_ptr_nonnull(cb);
    ck_assert_int_eq(cb->on_train_begin(cb, NULL), NB_OK);
    /* improves at epochs 0 and 1, then two epochs without */
    ck_assert_int_eq(feed(cb, "val_loss", 3, (double[]){1.0, 0.9, 0.95}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), -1);
    nb_logs logs = logs_of("val_loss", 0.91);
    ck_assert_int_eq(cb->on_epoch_end(cb, NULL, 3, &logs), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 3);
    ck_assert_double_eq(nb_early_stopping_best(cb), 0.9);
    nb_callback_free(cb);
}
END_TEST

START_TEST(an_improvement_resets_the_count)
{
    nb_callback *cb = nb_early_stopping("loss", 2, 0.0, false);
    ck_assert_int_eq(feed(cb, "loss", 5, (double[]){1.0, 1.1, 0.8, 0.9, 0.85}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 4);
    ck_assert_double_eq(nb_early_stopping_best(cb), 0.8);
    nb_callback_free(cb);
}
END_TEST

START_TEST(min_delta_is_respected)
{
    /* 0.95 beats 1.0 by less than 0.1: no improvement, stop after 1 epoch */
    nb_callback *cb = nb_early_stopping("loss", 1, 0.1, false);
    ck_assert_int_eq(feed(cb, "loss", 2, (double[]){1.0, 0.95}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 1);
    ck_assert_double_eq(nb_early_stopping_best(cb), 1.0);
    /* 0.85 beats it by more: an improvement */
    cb->on_train_begin(cb, NULL);
    ck_assert_int_eq(feed(cb, "loss", 2, (double[]){1.0, 0.85}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), -1);
    ck_assert_double_eq(nb_early_stopping_best(cb), 0.85);
    nb_callback_free(cb);
}
END_TEST

START_TEST(negative_min_delta_counts_as_its_size)
{
    nb_callback *cb = nb_early_stopping("loss", 1, -0.1, false);
    ck_assert_int_eq(feed(cb, "loss", 2, (double[]){1.0, 0.95}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 1);
    nb_callback_free(cb);
}
END_TEST

START_TEST(accuracy_improves_upwards)
{
    nb_callback *cb = nb_early_stopping("val_accuracy", 1, 0.0, false);
    ck_assert_int_eq(feed(cb, "val_accuracy", 2, (double[]){0.5, 0.6}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), -1);
    ck_assert_double_eq(nb_early_stopping_best(cb), 0.6);
    nb_logs logs = logs_of("val_accuracy", 0.55);
    ck_assert_int_eq(cb->on_epoch_end(cb, NULL, 2, &logs), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 2);
    nb_callback_free(cb);
    /* any name containing "acc" counts, as in Keras */
    cb = nb_early_stopping("sparse_categorical_accuracy", 1, 0.0, false);
    ck_assert_int_eq(feed(cb, "sparse_categorical_accuracy", 2, (double[]){0.5, 0.4}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 1);
    nb_callback_free(cb);
}
END_TEST

START_TEST(never_stops_after_the_first_epoch)
{
    /* Keras: patience 0 still trains a second epoch */
    nb_callback *cb = nb_early_stopping("loss", 0, 0.0, false);
    ck_assert_int_eq(feed(cb, "loss", 1, (double[]){1.0}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), -1);
    ck_assert_int_eq(feed(cb, "loss", 2, (double[]){1.0, 1.0}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 1);
    nb_callback_free(cb);
}
END_TEST

START_TEST(nan_is_no_improvement)
{
    nb_callback *cb = nb_early_stopping("loss", 1, 0.0, false);
    ck_assert_int_eq(feed(cb, "loss", 2, (double[]){1.0, NAN}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 1);
    ck_assert_double_eq(nb_early_stopping_best(cb), 1.0);
    nb_callback_free(cb);
}
END_TEST

START_TEST(train_begin_starts_afresh)
{
    nb_callback *cb = nb_early_stopping("loss", 1, 0.0, false);
    ck_assert_int_eq(feed(cb, "loss", 2, (double[]){1.0, 2.0}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 1);
    ck_assert_int_eq(cb->on_train_begin(cb, NULL), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), -1);
    ck_assert(isnan(nb_early_stopping_best(cb)));
    /* a best of 1.0 from the first fit must not linger */
    ck_assert_int_eq(feed(cb, "loss", 2, (double[]){5.0, 4.0}), NB_OK);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), -1);
    nb_callback_free(cb);
}
END_TEST

/* ---- errors ----------------------------------------------------------------- */

START_TEST(missing_monitor_names_it_and_the_logs)
{
    nb_callback *cb = nb_early_stopping(NULL, 3, 0.0, false);
    nb_logs logs = logs_of("loss", 0.5);
    snprintf(logs.names[1], sizeof logs.names[1], "accuracy");
    logs.values[1] = 0.75;
    logs.n = 2;
    ck_assert_int_eq(cb->on_epoch_end(cb, NULL, 0, &logs), NB_ERR_ARG);
    ck_assert_error_contains("nb_early_stopping: monitor 'val_loss' is not in the logs of "
                             "epoch 1; available: loss, accuracy");
    ck_assert_error_contains("validation");
    nb_callback_free(cb);
}
END_TEST

START_TEST(restoring_needs_the_model)
{
    nb_callback *cb = nb_early_stopping("loss", 1, 0.0, true);
    nb_logs logs = logs_of("loss", 0.5);
    ck_assert_int_eq(cb->on_epoch_end(cb, NULL, 0, &logs), NB_ERR_NULL);
    ck_assert_error_contains("nb_early_stopping: model is NULL: restore_best_weights");
    ck_assert_int_eq(cb->on_epoch_end(cb, NULL, 0, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_early_stopping: logs is NULL");
    nb_callback_free(cb);
}
END_TEST

START_TEST(bad_options_are_rejected)
{
    ck_assert_ptr_null(nb_early_stopping("loss", -1, 0.0, false));
    ck_assert_error_contains("nb_early_stopping: patience is -1: expected 0 or more epochs");
    ck_assert_ptr_null(nb_early_stopping("loss", 1, NAN, false));
    ck_assert_error_contains("nb_early_stopping: min_delta is nan: expected a finite number");
    ck_assert_ptr_null(nb_early_stopping("", 1, 0.0, false));
    ck_assert_error_contains("nb_early_stopping: monitor '' must have 1 to 31 characters");
    ck_assert_ptr_null(nb_early_stopping("a_name_far_too_long_for_any_log_entry", 1, 0, false));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
}
END_TEST

START_TEST(accessors_and_free_accept_other_callbacks)
{
    nb_callback plain = {.name = "mine"};
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(&plain), -1);
    ck_assert(isnan(nb_early_stopping_best(&plain)));
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(NULL), -1);
    nb_callback_free(&plain); /* no destroy: nothing to free */
    nb_callback_free(NULL);
}
END_TEST

/* ---- inside fit --------------------------------------------------------------- */

/* y = 2 x0 - x1 learnt by one Dense unit with SGD: the loss falls every
 * epoch, so only a huge min_delta makes later epochs "no improvement". */
static nb_model *make_model(void)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, 7);
    nb_model_set_input_shape(model, NB_SHAPE(2));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    nb_status s = nb_model_compile(model, &(nb_compile_options){
                                              .optimizer = nb_sgd(0.05, 0.0, false),
                                              .loss = "mse"});
    ck_assert_msg(s == NB_OK, "compile: %s", nb_last_error());
    return model;
}

static void make_data(nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    *x = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(64, 2), -1, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(64, 1));
    for (int64_t i = 0; i < 64; i++)
        nb_tensor_set(*y, i, 2 * nb_tensor_get(*x, 2 * i) - nb_tensor_get(*x, 2 * i + 1));
}

static nb_history *fit(nb_model *model, nb_tensor *x, nb_tensor *y, int epochs,
                       nb_callback *cb)
{
    nb_fit_options o = nb_fit_defaults();
    o.epochs = epochs;
    o.batch_size = 16;
    o.verbose = 0;
    o.callbacks[0] = cb;
    return nb_model_fit(model, x, y, &o);
}

static bool same_weights(const nb_model *a, const nb_model *b)
{
    for (int i = 0; i < nb_model_weight_count(a); i++) {
        const nb_tensor *wa = nb_model_weight(a, i), *wb = nb_model_weight(b, i);
        for (int64_t k = 0; k < wa->size; k++)
            if (nb_tensor_get(wa, k) != nb_tensor_get(wb, k))
                return false;
    }
    return true;
}

START_TEST(fit_stops_early_and_restores_the_best_weights)
{
    nb_tensor *x, *y;
    make_data(&x, &y);
    nb_callback *cb = nb_early_stopping("loss", 2, 1e9, true);
    nb_model *stopped = make_model();
    nb_history *h = fit(stopped, x, y, 20, cb);
    ck_assert_msg(h != NULL, "fit: %s", nb_last_error());
    /* epoch 0 is the best; epochs 1 and 2 do not improve by 1e9 */
    ck_assert_int_eq(h->epochs, 3);
    ck_assert_int_eq(nb_early_stopping_stopped_epoch(cb), 2);
    ck_assert_double_eq(nb_early_stopping_best(cb), nb_logs_get(&h->logs[0], "loss"));
    /* the same model trained 1 epoch has the restored weights; 3 epochs not */
    nb_model *one = make_model(), *three = make_model();
    nb_history *h1 = fit(one, x, y, 1, NULL), *h3 = fit(three, x, y, 3, NULL);
    ck_assert(same_weights(stopped, one));
    ck_assert(!same_weights(stopped, three));
    ck_assert_int_eq(nb_model_weight_count(stopped), 2);
    nb_history_free(h);
    nb_history_free(h1);
    nb_history_free(h3);
    nb_model_free(stopped);
    nb_model_free(one);
    nb_model_free(three);
    nb_callback_free(cb);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(fit_without_restoring_keeps_the_last_weights)
{
    nb_tensor *x, *y;
    make_data(&x, &y);
    nb_callback *cb = nb_early_stopping("loss", 2, 1e9, false);
    nb_model *stopped = make_model(), *three = make_model();
    nb_history *h = fit(stopped, x, y, 20, cb), *h3 = fit(three, x, y, 3, NULL);
    ck_assert_int_eq(h->epochs, 3);
    ck_assert(same_weights(stopped, three));
    nb_history_free(h);
    nb_history_free(h3);
    nb_model_free(stopped);
    nb_model_free(three);
    nb_callback_free(cb);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(fit_reports_a_missing_monitor)
{
    nb_tensor *x, *y;
    make_data(&x, &y);
    nb_callback *cb = nb_early_stopping(NULL, 2, 0.0, true); /* val_loss, no validation */
    nb_model *model = make_model();
    ck_assert_ptr_null(fit(model, x, y, 5, cb));
    ck_assert_error_contains("monitor 'val_loss' is not in the logs of epoch 1; available: loss");
    nb_model_free(model);
    nb_callback_free(cb);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

static Suite *callback_suite(void)
{
    Suite *s = suite_create("callback");
    TCase *tc = tcase_create("early_stopping_rule");
    tcase_add_test(tc, stops_after_patience_epochs_without_improvement);
    tcase_add_test(tc, an_improvement_resets_the_count);
    tcase_add_test(tc, min_delta_is_respected);
    tcase_add_test(tc, negative_min_delta_counts_as_its_size);
    tcase_add_test(tc, accuracy_improves_upwards);
    tcase_add_test(tc, never_stops_after_the_first_epoch);
    tcase_add_test(tc, nan_is_no_improvement);
    tcase_add_test(tc, train_begin_starts_afresh);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, missing_monitor_names_it_and_the_logs);
    tcase_add_test(tc, restoring_needs_the_model);
    tcase_add_test(tc, bad_options_are_rejected);
    tcase_add_test(tc, accessors_and_free_accept_other_callbacks);
    suite_add_tcase(s, tc);
    tc = tcase_create("fit");
    tcase_add_test(tc, fit_stops_early_and_restores_the_best_weights);
    tcase_add_test(tc, fit_without_restoring_keeps_the_last_weights);
    tcase_add_test(tc, fit_reports_a_missing_monitor);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(callback_suite)
