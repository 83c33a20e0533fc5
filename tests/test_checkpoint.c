/* Tests of src/nn/checkpoint.c: the ModelCheckpoint callback saves the
 * model during fit, every epoch or only when its monitored value improves,
 * stops fit when that value is missing, and checks its arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nabla/model_io.h"
#include "nb_test.h"

/* ---- helpers: files and directories -------------------------------------- */

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/nabla-checkpoint-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
}

/* Remove the directory and the files in it. */
static void remove_dir(void) { nb_test_remove_dir(dir); }

static int files_in_dir(void) { return nb_test_count_entries(dir); }

static bool file_exists(const char *file)
{
    struct stat st;
    return stat(file, &st) == 0;
}

/* ---- ModelCheckpoint ------------------------------------------------------------- */

START_TEST(checkpoint_saves_every_epoch)
{
    make_dir();
    nb_tensor *x, *y;
    nb_test_mlp_data(32, &x, &y);
    nb_model *model = nb_test_mlp(NB_F32, nb_adam_default());
    char pattern[128], file[128];
    snprintf(pattern, sizeof pattern, "%s/model-{epoch}.safetensors", dir);
    nb_callback *cb = nb_model_checkpoint(pattern, NULL, false, true);
    ck_assert_ptr_nonnull(cb);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 3;
    fit.verbose = 0;
    fit.callbacks[0] = cb;
    nb_history *h = nb_model_fit(model, x, y, &fit);
    ck_assert_msg(h != NULL, "%s", nb_last_error());
    ck_assert_int_eq(files_in_dir(), 3);
    for (int e = 1; e <= 3; e++) {
        snprintf(file, sizeof file, "%s/model-%02d.safetensors", dir, e);
        ck_assert_msg(file_exists(file), "no %s", file);
    }
    nb_model *last = nb_model_load(file);
    ck_assert_ptr_nonnull(last);
    nb_test_assert_same_weights(model, last);
    nb_test_assert_same_optimizer(model, last);
    nb_model_free(last);
    nb_history_free(h);
    nb_callback_free(cb);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

static nb_logs logs_with(const char *name, double value)
{
    nb_logs logs = {.n = 1};
    snprintf(logs.names[0], sizeof logs.names[0], "%s", name);
    logs.values[0] = value;
    return logs;
}

/* _i: 0 monitors a loss (lower is better), 1 an accuracy (higher) */
START_TEST(checkpoint_saves_only_on_improvement)
{
    make_dir();
    const char *monitor = _i ? "val_accuracy" : "val_loss";
    double sign = _i ? -1 : 1;
    nb_model *model = nb_test_mlp(NB_F32, nb_adam_default());
    nb_callback *cb = nb_model_checkpoint(path, _i ? monitor : NULL, true, false);
    const double values[] = {1.0, 2.0, 1.0, NAN, 0.5};
    const bool saves[] = {true, false, false, false, true};
    for (int e = 0; e < 5; e++) {
        nb_logs logs = logs_with(monitor, sign * values[e]);
        ck_assert_int_eq(cb->on_epoch_end(cb, model, e, &logs), NB_OK);
        ck_assert_msg(file_exists(path) == saves[e], "epoch %d: saved %d", e, !saves[e]);
        unlink(path);
    }
    nb_callback_free(cb);
    nb_model_free(model);
    remove_dir();
}
END_TEST

START_TEST(checkpoint_best_only_with_validation_in_fit)
{
    make_dir();
    nb_tensor *x, *y;
    nb_test_mlp_data(48, &x, &y);
    nb_model *model = nb_test_mlp(NB_F64, nb_adam(0.01, 0.9, 0.999, 1e-7));
    nb_callback *cb = nb_model_checkpoint(path, "val_loss", true, true);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 3;
    fit.batch_size = 12; /* 36 training rows: 3 steps an epoch */
    fit.verbose = 0;
    fit.validation_split = 0.25;
    fit.callbacks[0] = cb;
    nb_history *h = nb_model_fit(model, x, y, &fit);
    ck_assert_msg(h != NULL, "%s", nb_last_error());
    double val[3];
    ck_assert_int_eq(nb_history_series(h, "val_loss", val, 3), 3);
    int best = 0;
    for (int e = 1; e < 3; e++)
        best = val[e] < val[best] ? e : best;
    nb_model *saved = nb_model_load(path);
    ck_assert_msg(saved != NULL, "%s", nb_last_error());
    ck_assert_int_eq(nb_optimizer_iterations(nb_model_optimizer(saved)), 3 * (best + 1));
    if (best == 2)
        nb_test_assert_same_weights(model, saved);
    nb_model_free(saved);
    nb_history_free(h);
    nb_callback_free(cb);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(checkpoint_without_its_monitor_stops_fit)
{
    make_dir();
    nb_tensor *x, *y;
    nb_test_mlp_data(16, &x, &y);
    nb_model *model = nb_test_mlp(NB_F32, nb_adam_default());
    nb_callback *cb = nb_model_checkpoint(path, NULL, true, false);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 2;
    fit.verbose = 0;
    fit.callbacks[0] = cb;
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_error_contains("nb_model_checkpoint: monitor 'val_loss' is not in the logs of "
                             "epoch 1; available: loss, accuracy");
    ck_assert_int_eq(files_in_dir(), 0);
    nb_callback_free(cb);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(checkpoint_checks_its_arguments)
{
    ck_assert_ptr_null(nb_model_checkpoint(NULL, NULL, false, false));
    ck_assert_int_eq(nb_last_status(), NB_ERR_NULL);
    ck_assert_ptr_null(nb_model_checkpoint("", NULL, false, false));
    ck_assert_error_contains("nb_model_checkpoint: path is empty");
    ck_assert_ptr_null(nb_model_checkpoint("m.safetensors", "a_monitor_name_that_is_much_too_long",
                                           true, false));
    ck_assert_error_contains("must have 1 to 31 characters");
    nb_callback_free(NULL);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_add_test(tc, checkpoint_saves_every_epoch);
    tcase_add_loop_test(tc, checkpoint_saves_only_on_improvement, 0, 2);
    tcase_add_test(tc, checkpoint_best_only_with_validation_in_fit);
    tcase_add_test(tc, checkpoint_without_its_monitor_stops_fit);
    tcase_add_test(tc, checkpoint_checks_its_arguments);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(make_suite)
