/* Tests for resuming training: the epoch count kept in models and files,
 * fit's initial_epoch, nb_model_restore (src/io/model_restore.c) and the
 * BackupAndRestore callback (src/nn/backup.c). The promise under test is
 * bit-for-bit: a run interrupted and resumed ends with exactly the bytes of
 * a run that was never interrupted. */
#include <stdio.h>
#include <stdlib.h>

#include "nb_test.h"

/* ---- a model whose steps use every kind of state ----------------------------
 * Shuffling and dropout draw from the training RNG, Adam keeps momenta and a
 * step count: a resume that lost any of them would differ. */

/* How a model differs from the usual one (the restore tests need others). */
typedef struct variant {
    int rank;
    int64_t shape[2];
    int64_t units;
    bool without_dropout;
} variant;

/* Dense(units, relu), Dropout (unless without_dropout), Dense(1) on
 * samples of `shape` (flattened first when it has two axes), seed 7,
 * compiled with `optimizer`, mse and mae. */
static nb_model *model_of(variant v, nb_optimizer *optimizer)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, 7);
    nb_model_set_input_shape(model, v.rank, v.shape);
    if (v.rank == 2)
        nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dense(v.units, NB_RELU));
    if (!v.without_dropout)
        nb_model_add(model, nb_dropout(0.25));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    return nb_test_compiled(model, optimizer, "mse", "mae");
}

static const variant usual = {.rank = 1, .shape = {4}, .units = 8};

static nb_model *resumable_model(void)
{
    return model_of(usual, nb_adam(0.01, 0.9, 0.999, 1e-7));
}

static nb_tensor *x_data, *y_data;
static char *dir;

static void setup(void)
{
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    x_data = nb_tensor_rand_normal(NB_F32, NB_SHAPE(50, 4), 0, 1, &rng);
    y_data = nb_tensor_zeros(NB_F32, NB_SHAPE(50, 1));
    for (int64_t i = 0; i < 50; i++)
        nb_tensor_set(y_data, i, nb_tensor_get(x_data, 4 * i) - nb_tensor_get(x_data, 4 * i + 3));
    dir = nb_test_make_dir("resume");
}

static void teardown(void)
{
    nb_tensor_free(x_data);
    nb_tensor_free(y_data);
    nb_test_remove_dir(dir);
}

static char *path_in_dir(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

static nb_fit_options fit_options(int epochs)
{
    nb_fit_options fit = nb_test_quiet_fit(epochs, 8);
    fit.validation_split = 0.2;
    return fit;
}

/* Fit with the given options, asserting success; returns the epochs run. */
static int fit_ok(nb_model *model, const nb_fit_options *fit)
{
    nb_history *history = nb_model_fit(model, x_data, y_data, fit);
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    int epochs = history->epochs;
    nb_history_free(history);
    return epochs;
}

/* The reference: 6 epochs without interruption. */
static nb_model *uninterrupted(void)
{
    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(6);
    fit_ok(model, &fit);
    ck_assert_int_eq(nb_model_epoch(model), 6);
    return model;
}

/* A callback that fails at the end of one epoch, as a crash would. */
static nb_status crash_at_epoch(nb_callback *self, nb_model *model, int epoch, const nb_logs *logs)
{
    (void)model, (void)logs;
    return epoch == *(int *)self->state ? nb_error(NB_ERR_STATE, "simulated crash") : NB_OK;
}

/* ---- the epoch count and initial_epoch ------------------------------------- */

START_TEST(test_epoch_is_counted_saved_and_loaded)
{
    nb_model *model = resumable_model();
    ck_assert_int_eq(nb_model_epoch(model), 0);
    ck_assert_int_eq(nb_model_epoch(NULL), 0);
    nb_fit_options fit = fit_options(3);
    fit_ok(model, &fit);
    ck_assert_int_eq(nb_model_epoch(model), 3);
    ck_assert_int_eq(nb_model_save(model, path_in_dir("m.safetensors"), true), NB_OK);
    nb_model *loaded = nb_model_load(path_in_dir("m.safetensors"));
    ck_assert_ptr_nonnull(loaded);
    ck_assert_int_eq(nb_model_epoch(loaded), 3);
    nb_model_free(loaded);
    nb_model_free(model);
}
END_TEST

START_TEST(test_initial_epoch_runs_the_remaining_epochs)
{
    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(5);
    fit.initial_epoch = 3;
    ck_assert_int_eq(fit_ok(model, &fit), 2);
    ck_assert_int_eq(nb_model_epoch(model), 5);
    nb_model_free(model);
}
END_TEST

START_TEST(test_initial_epoch_out_of_range_is_refused)
{
    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(4);
    int bad[] = {-1, 4, 9};
    for (int i = 0; i < 3; i++) {
        fit.initial_epoch = bad[i];
        ck_assert_ptr_null(nb_model_fit(model, x_data, y_data, &fit));
        char expected[96];
        snprintf(expected, sizeof expected, "nb_model_fit: initial_epoch is %d with epochs 4: "
                 "expected 0 <= initial_epoch < epochs", bad[i]);
        ck_assert_error_contains(expected);
    }
    nb_model_free(model);
}
END_TEST

/* ---- bit-for-bit resume ---------------------------------------------------- */

START_TEST(test_save_load_and_initial_epoch_match_an_uninterrupted_run)
{
    nb_model *reference = uninterrupted();
    nb_model *first = resumable_model();
    nb_fit_options fit = fit_options(3);
    fit_ok(first, &fit);
    ck_assert_int_eq(nb_model_save(first, path_in_dir("half.safetensors"), true), NB_OK);
    nb_model_free(first);

    nb_model *resumed = nb_model_load(path_in_dir("half.safetensors"));
    ck_assert_ptr_nonnull(resumed);
    fit = fit_options(6);
    fit.initial_epoch = nb_model_epoch(resumed);
    ck_assert_int_eq(fit_ok(resumed, &fit), 3);
    ck_assert_msg(nb_test_same_weights(resumed, reference),
                  "resumed weights differ from the uninterrupted run's");
    nb_model_free(resumed);
    nb_model_free(reference);
}
END_TEST

START_TEST(test_backup_resumes_after_a_crash_to_the_same_bytes)
{
    nb_model *reference = uninterrupted();
    const char *path = path_in_dir("run.backup");
    nb_callback *backup = nb_backup_and_restore(path, 2, false);
    int crash_epoch = 4; /* after the backup of epochs 1..4 */
    nb_callback crash = {.name = "crash", .state = &crash_epoch, .on_epoch_end = crash_at_epoch};

    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(6);
    fit.callbacks[0] = backup;
    fit.callbacks[1] = &crash;
    ck_assert_ptr_null(nb_model_fit(model, x_data, y_data, &fit));
    ck_assert_error_contains("simulated crash");
    nb_model_free(model);

    model = resumable_model(); /* a new process: the same program from the start */
    fit.callbacks[1] = NULL;
    ck_assert_int_eq(fit_ok(model, &fit), 2); /* epochs 5 and 6 */
    ck_assert_int_eq(nb_model_epoch(model), 6);
    ck_assert_msg(nb_test_same_weights(model, reference),
                  "weights after backup and resume differ from the uninterrupted run's");
    nb_model_free(model);
    nb_model_free(reference);
    nb_callback_free(backup);
}
END_TEST

START_TEST(test_backup_saves_the_last_epoch_and_resumes_with_more)
{
    const char *path = path_in_dir("run.backup");
    nb_callback *backup = nb_backup_and_restore(path, 4, false);
    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(3);
    fit.callbacks[0] = backup;
    fit_ok(model, &fit); /* 3 is not a multiple of 4: saved at the end */
    nb_model_free(model);

    model = resumable_model();
    fit.epochs = 6;
    ck_assert_int_eq(fit_ok(model, &fit), 3); /* goes on from epoch 3 */
    nb_model *reference = uninterrupted();
    ck_assert(nb_test_same_weights(model, reference));
    nb_model_free(reference);
    nb_model_free(model);
    nb_callback_free(backup);
}
END_TEST

START_TEST(test_backup_of_a_finished_run_trains_nothing_more)
{
    const char *path = path_in_dir("run.backup");
    nb_callback *backup = nb_backup_and_restore(path, 1, false);
    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(2);
    fit.callbacks[0] = backup;
    fit_ok(model, &fit);
    ck_assert_int_eq(fit_ok(model, &fit), 0);
    ck_assert_int_eq(nb_model_epoch(model), 2);
    nb_model_free(model);
    nb_callback_free(backup);
}
END_TEST

START_TEST(test_backup_deleted_at_end_when_asked)
{
    const char *path = path_in_dir("run.backup");
    nb_callback *backup = nb_backup_and_restore(path, 1, true);
    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(2);
    fit.callbacks[0] = backup;
    fit_ok(model, &fit);
    ck_assert_int_eq(nb_test_count_entries(dir), 0);
    nb_model_free(model);
    nb_callback_free(backup);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(test_backup_bad_arguments)
{
    ck_assert_ptr_null(nb_backup_and_restore(NULL, 1, false));
    ck_assert_error_contains("nb_backup_and_restore: path is NULL");
    ck_assert_ptr_null(nb_backup_and_restore("", 1, false));
    ck_assert_error_contains("nb_backup_and_restore: path is empty");
    ck_assert_ptr_null(nb_backup_and_restore("x", 0, false));
    ck_assert_error_contains("nb_backup_and_restore: every_epochs is 0: expected at least 1");
}
END_TEST

START_TEST(test_damaged_backup_stops_fit_with_a_clear_error)
{
    const char *path = path_in_dir("run.backup");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("not a model", f);
    fclose(f);
    nb_callback *backup = nb_backup_and_restore(path, 1, false);
    nb_model *model = resumable_model();
    nb_fit_options fit = fit_options(2);
    fit.callbacks[0] = backup;
    ck_assert_ptr_null(nb_model_fit(model, x_data, y_data, &fit));
    ck_assert_error_contains("nb_backup_and_restore: restoring the backup (delete '");
    ck_assert_error_contains("to start afresh): nb_model_restore: nb_model_load: '");
    nb_model_free(model);
    nb_callback_free(backup);
}
END_TEST

START_TEST(test_restore_null_and_unbuilt)
{
    nb_model *model = nb_sequential();
    ck_assert_int_eq(nb_model_restore(NULL, "x"), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_restore: model is NULL");
    ck_assert_int_eq(nb_model_restore(model, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_restore: path is NULL");
    ck_assert_int_eq(nb_model_restore(model, "x"), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_restore: the model is not built");
    nb_model_free(model);
}
END_TEST

/* Save `saved`, restore it into `target`: fails with `message`, and the
 * target's weights are untouched. */
static void assert_restore_refused(nb_model *saved, bool include_optimizer, nb_model *target,
                                   const char *message)
{
    const char *path = path_in_dir("other.safetensors");
    ck_assert_int_eq(nb_model_save(saved, path, include_optimizer), NB_OK);
    nb_model *before = resumable_model();
    ck_assert_int_eq(nb_model_restore(target, path), NB_ERR_ARG);
    ck_assert_error_contains(message);
    if (nb_model_weight_count(target) == nb_model_weight_count(before))
        ck_assert(nb_test_same_weights(target, before));
    nb_model_free(before);
    nb_model_free(saved);
}

START_TEST(test_restore_refuses_other_layers)
{
    nb_model *target = resumable_model();
    variant v = usual;
    v.without_dropout = true;
    assert_restore_refused(model_of(v, nb_adam_default()), true,
                           target, "the file has 2 layers with 4 weights but the model has 3 "
                           "layers with 4 weights");
    nb_model_free(target);
}
END_TEST

START_TEST(test_restore_refuses_other_shapes)
{
    nb_model *target = resumable_model();
    variant v = usual;
    v.units = 9;
    assert_restore_refused(model_of(v, nb_adam_default()), true,
                           target, "weight 0 ('dense/kernel') is [4, 9] in the file but [4, 8] "
                           "in the model");
    nb_model_free(target);
}
END_TEST

START_TEST(test_restore_refuses_a_file_without_optimizer_state)
{
    nb_model *target = resumable_model();
    assert_restore_refused(resumable_model(), false, target,
                           "the file has no optimizer state: save it with include_optimizer true");
    nb_model_free(target);
}
END_TEST

START_TEST(test_restore_refuses_another_optimizer)
{
    nb_model *target = resumable_model();
    assert_restore_refused(model_of(usual, nb_sgd(0.1, 0.9, false)), true,
                           target, "the file's optimizer is SGD but the model's is Adam");
    nb_model_free(target);
}
END_TEST

/* The same optimizer kind with another state layout: RMSprop keeps
 * momenta only with momentum > 0. */
START_TEST(test_restore_refuses_another_state_layout)
{
    nb_model *target = model_of(usual, nb_rmsprop(0.01, 0.9, 0.5, 1e-7));
    nb_model *saved = model_of(usual, nb_rmsprop(0.01, 0.9, 0, 1e-7));
    nb_fit_options fit = fit_options(1);
    fit_ok(saved, &fit); /* so that the file holds built state */
    const char *path = path_in_dir("rms.safetensors");
    ck_assert_int_eq(nb_model_save(saved, path, true), NB_OK);
    ck_assert_int_eq(nb_model_restore(target, path), NB_ERR_ARG);
    ck_assert_error_contains("the file's RMSprop keeps 1 state tensors per weight but the "
                             "model's keeps 2");
    nb_model_free(saved);
    nb_model_free(target);
}
END_TEST

START_TEST(test_restore_refuses_another_input_shape)
{
    nb_model *target = resumable_model();
    variant v = {.rank = 2, .shape = {2, 2}, .units = 8};
    assert_restore_refused(model_of(v, nb_adam_default()), true,
                           target, "the file's model takes samples of shape [2, 2] but this "
                           "one [4]");
    nb_model_free(target);
}
END_TEST

static Suite *resume_suite(void)
{
    Suite *s = suite_create("resume");
    TCase *epochs = tcase_create("epochs");
    tcase_add_checked_fixture(epochs, setup, teardown);
    tcase_add_test(epochs, test_epoch_is_counted_saved_and_loaded);
    tcase_add_test(epochs, test_initial_epoch_runs_the_remaining_epochs);
    tcase_add_test(epochs, test_initial_epoch_out_of_range_is_refused);
    suite_add_tcase(s, epochs);
    TCase *resume = tcase_create("bit_for_bit");
    tcase_add_checked_fixture(resume, setup, teardown);
    tcase_add_test(resume, test_save_load_and_initial_epoch_match_an_uninterrupted_run);
    tcase_add_test(resume, test_backup_resumes_after_a_crash_to_the_same_bytes);
    tcase_add_test(resume, test_backup_saves_the_last_epoch_and_resumes_with_more);
    tcase_add_test(resume, test_backup_of_a_finished_run_trains_nothing_more);
    tcase_add_test(resume, test_backup_deleted_at_end_when_asked);
    suite_add_tcase(s, resume);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_backup_bad_arguments);
    tcase_add_test(errors, test_damaged_backup_stops_fit_with_a_clear_error);
    tcase_add_test(errors, test_restore_null_and_unbuilt);
    tcase_add_test(errors, test_restore_refuses_other_layers);
    tcase_add_test(errors, test_restore_refuses_other_shapes);
    tcase_add_test(errors, test_restore_refuses_a_file_without_optimizer_state);
    tcase_add_test(errors, test_restore_refuses_another_optimizer);
    tcase_add_test(errors, test_restore_refuses_another_state_layout);
    tcase_add_test(errors, test_restore_refuses_another_input_shape);
    suite_add_tcase(s, errors);
    return s;
}

NB_TEST_MAIN(resume_suite)
