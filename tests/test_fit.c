/* Tests for fit, evaluate and predict (src/nn/fit.c), the per-epoch logs and
 * history (src/nn/logs.c) and the progress display (src/nn/progress.c); an
 * integration test trains a small MLP on spirals. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/fpenv.h"
#include "nb_test.h"
#include "nn/progress.h"

/* ---- models and data ----------------------------------------------------------- */

/* Dense(1) on one input that is always 0: the output is the bias b, so with
 * mse the loss on rows with target t is (b - t)^2 and the kernel never
 * moves. SGD with learning rate 0.1, metric mae. */
static nb_model *bias_model(void)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(1));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    return nb_test_compiled(model, nb_sgd(0.1, 0, false), "mse", "mae");
}

static double bias_of(const nb_model *model) { return nb_tensor_get(nb_model_weight(model, 1), 0); }

/* x zeros [n, 1]; y [n, 1] is `train` on the first n_train rows, `rest` on
 * the others. */
static void constant_data(int64_t n, int64_t n_train, double train, double rest, nb_tensor **x,
                          nb_tensor **y)
{
    *x = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 1));
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 1));
    for (int64_t i = 0; i < n; i++)
        nb_tensor_set(*y, i, i < n_train ? train : rest);
}

/* A linear regression model 3 -> 1 with a seed, Adam, mse and mae. */
static nb_model *regression_model(uint64_t seed)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, seed);
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    return nb_test_compiled(model, nb_adam(0.05, 0.9, 0.999, 1e-7), "mse", "mae");
}

/* n rows of 3 random features and y = x . (1, -2, 0.5) + 0.3 */
static void regression_data(int64_t n, nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 17);
    *x = nb_tensor_rand_normal(NB_F32, NB_SHAPE(n, 3), 0, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 1));
    for (int64_t i = 0; i < n; i++) {
        double v = nb_tensor_get(*x, 3 * i) - 2 * nb_tensor_get(*x, 3 * i + 1) +
                   0.5 * nb_tensor_get(*x, 3 * i + 2) + 0.3;
        nb_tensor_set(*y, i, v);
    }
}

static nb_history *fit_ok(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                          const nb_fit_options *fit)
{
    nb_history *history = nb_model_fit(model, x, y, fit);
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    return history;
}

static double last(const nb_history *history, const char *name)
{
    return nb_logs_get(&history->logs[history->epochs - 1], name);
}

/* ---- fit ------------------------------------------------------------------------ */

START_TEST(validation_split_holds_out_the_last_rows_before_shuffling)
{
    /* the first 40 rows have target 1, the last 10 target 10; with
     * validation_split 0.2 the model trains on the ones only, so b stays in
     * [0, 1] (train loss < 1) and val_loss is (b - 10)^2 at the final b */
    nb_tensor *x, *y;
    constant_data(50, 40, 1.0, 10.0, &x, &y);
    nb_model *model = bias_model();
    nb_fit_options fit = nb_test_quiet_fit(3, 8);
    fit.validation_split = 0.2;
    ck_assert(fit.shuffle);
    nb_history *history = fit_ok(model, x, y, &fit);
    double b = bias_of(model);
    ck_assert_msg(b > 0.5 && b < 1.0, "bias %g: expected it to approach 1", b);
    for (int e = 0; e < 3; e++)
        ck_assert_double_lt(nb_logs_get(&history->logs[e], "loss"), 1.0);
    ck_assert_double_eq_tol(last(history, "val_loss"), (b - 10) * (b - 10), 1e-4);
    ck_assert_double_eq_tol(last(history, "val_mae"), 10 - b, 1e-5);
    /* the kernel saw only zeros */
    ck_assert_double_eq(nb_tensor_grad_get(nb_model_weight(model, 0), 0), 0.0);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(explicit_validation_data_is_evaluated_after_each_epoch)
{
    nb_tensor *x, *y, *vx, *vy;
    constant_data(32, 32, 1.0, 0.0, &x, &y);
    constant_data(5, 5, 5.0, 0.0, &vx, &vy);
    nb_model *model = bias_model();
    nb_fit_options fit = nb_test_quiet_fit(2, 8);
    fit.validation_x = vx;
    fit.validation_y = vy;
    nb_history *history = fit_ok(model, x, y, &fit);
    double b = bias_of(model);
    ck_assert_double_eq_tol(last(history, "val_loss"), (b - 5) * (b - 5), 1e-4);
    ck_assert_double_eq_tol(last(history, "val_mae"), 5 - b, 1e-5);
    /* epoch 1's validation used the weights after epoch 1: a larger error */
    ck_assert_double_gt(nb_logs_get(&history->logs[0], "val_loss"), last(history, "val_loss"));
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(vx);
    nb_tensor_free(vy);
}
END_TEST

START_TEST(history_has_loss_metrics_and_val_entries_per_epoch)
{
    nb_tensor *x, *y;
    regression_data(40, &x, &y);
    nb_model *model = regression_model(1);
    nb_fit_options fit = nb_test_quiet_fit(4, 10);
    fit.validation_split = 0.25;
    nb_history *history = fit_ok(model, x, y, &fit);
    ck_assert_int_eq(history->epochs, 4);
    const char *names[] = {"loss", "mae", "val_loss", "val_mae"};
    for (int e = 0; e < 4; e++) {
        ck_assert_int_eq(history->logs[e].n, 4);
        for (int k = 0; k < 4; k++) {
            ck_assert_str_eq(history->logs[e].names[k], names[k]);
            ck_assert(isfinite(history->logs[e].values[k]));
        }
    }
    double series[8];
    ck_assert_int_eq(nb_history_series(history, "val_mae", series, 8), 4);
    ck_assert_double_eq(series[3], last(history, "val_mae"));
    ck_assert_int_eq(nb_history_series(history, "loss", series, 2), 2);
    ck_assert_int_eq(nb_history_series(history, "accuracy", series, 8), -1);
    ck_assert(isnan(nb_logs_get(&history->logs[0], "accuracy")));
    /* training lowers the loss */
    ck_assert_double_lt(last(history, "loss"), nb_logs_get(&history->logs[0], "loss"));
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* A "loss" whose value is the mean of the targets and whose gradient is 0:
 * pred * 0 + target. It shows how fit averages the batches. */
static nb_tensor *target_mean(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_mean(tape, nb_add(tape, nb_scale(tape, pred, 0.0), target));
}

START_TEST(epoch_loss_weights_a_partial_last_batch_by_its_size)
{
    /* y = 0..9 in batches of 4: batch means 1.5, 5.5, 8.5. Weighted by batch
     * size the epoch's loss is 4.5 (the mean of y); the plain mean of the
     * batch means would be 5.17 */
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 1));
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 1));
    for (int i = 0; i < 10; i++)
        nb_tensor_set(y, i, i);
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(1));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    nb_loss custom = {"target_mean", target_mean};
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){.optimizer = nb_sgd_default(),
                                                                   .custom_loss = &custom}),
                     NB_OK);
    ck_assert_str_eq(nb_model_loss(model)->name, "target_mean");
    char *text = NULL;
    size_t len = 0;
    nb_fit_options fit = nb_test_quiet_fit(2, 4);
    fit.verbose = 2;
    fit.out = open_memstream(&text, &len);
    fit.shuffle = false;
    nb_history *history = fit_ok(model, x, y, &fit);
    fclose(fit.out);
    ck_assert_double_eq_tol(nb_logs_get(&history->logs[0], "loss"), 4.5, 1e-6);
    ck_assert_msg(strstr(text, "3/3 - ") != NULL, "expected 3 steps per epoch:\n%s", text);
    nb_history_free(history);
    /* the same with shuffling and a validation split: rows 0..7 train, 8..9
     * validate */
    fit = nb_test_quiet_fit(1, 3);
    fit.validation_split = 0.2;
    history = fit_ok(model, x, y, &fit);
    ck_assert_double_eq_tol(nb_logs_get(&history->logs[0], "loss"), 3.5, 1e-6);
    ck_assert_double_eq_tol(nb_logs_get(&history->logs[0], "val_loss"), 8.5, 1e-6);
    nb_history_free(history);
    free(text);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(shuffle_with_a_seed_is_reproducible)
{
    nb_tensor *x, *y;
    regression_data(48, &x, &y);
    nb_model *a = regression_model(7), *b = regression_model(7);
    nb_fit_options fit = nb_test_quiet_fit(3, 8);
    nb_history *ha = fit_ok(a, x, y, &fit), *hb = fit_ok(b, x, y, &fit);
    ck_assert(nb_test_same_weights(a, b));
    for (int e = 0; e < 3; e++)
        for (int k = 0; k < ha->logs[e].n; k++)
            ck_assert_double_eq(ha->logs[e].values[k], hb->logs[e].values[k]);
    nb_history_free(ha);
    nb_history_free(hb);
    nb_model_free(a);
    nb_model_free(b);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(no_shuffle_is_deterministic_and_differs_from_shuffled)
{
    nb_tensor *x, *y;
    regression_data(48, &x, &y);
    nb_model *shuffled = regression_model(7);
    nb_model *a = regression_model(7), *b = regression_model(7);
    nb_fit_options fit = nb_test_quiet_fit(3, 8);
    nb_history_free(fit_ok(shuffled, x, y, &fit));
    fit.shuffle = false;
    nb_history *ha = fit_ok(a, x, y, &fit), *hb = fit_ok(b, x, y, &fit);
    ck_assert(nb_test_same_weights(a, b));
    ck_assert_double_eq(last(ha, "loss"), last(hb, "loss"));
    ck_assert(!nb_test_same_weights(a, shuffled));
    nb_history_free(ha);
    nb_history_free(hb);
    nb_model_free(shuffled);
    nb_model_free(a);
    nb_model_free(b);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(fit_converts_f32_data_for_an_f64_model)
{
    nb_tensor *x, *y;
    regression_data(32, &x, &y);
    nb_model *model = nb_sequential();
    nb_model_set_dtype(model, NB_F64);
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    nb_test_compiled(model, nb_adam(0.1, 0.9, 0.999, 1e-7), "mse", NULL);
    nb_fit_options fit = nb_test_quiet_fit(30, 8);
    nb_history *history = fit_ok(model, x, y, &fit);
    ck_assert_double_lt(last(history, "loss"), 0.05 * nb_logs_get(&history->logs[0], "loss"));
    ck_assert_double_eq_tol(nb_tensor_get(nb_model_weight(model, 0), 1), -2.0, 0.2);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- errors --------------------------------------------------------------------- */

typedef struct error_case {
    nb_model *model;
    nb_tensor *x, *y;
} error_case;

static error_case error_setup(void)
{
    error_case c = {bias_model(), NULL, NULL};
    constant_data(10, 10, 1.0, 0.0, &c.x, &c.y);
    return c;
}

static void error_teardown(error_case *c)
{
    nb_model_free(c->model);
    nb_tensor_free(c->x);
    nb_tensor_free(c->y);
}

static void expect_fit_error(error_case *c, const nb_tensor *x, const nb_tensor *y,
                             const nb_fit_options *fit, nb_status status, const char *message)
{
    nb_clear_error();
    ck_assert_ptr_null(nb_model_fit(c->model, x ? x : c->x, y ? y : c->y, fit));
    ck_assert_int_eq(nb_last_status(), status);
    ck_assert_error_contains(message);
}

START_TEST(fit_rejects_bad_options)
{
    error_case c = error_setup();
    nb_fit_options fit = nb_test_quiet_fit(0, 4);
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_ARG,
                     "nb_model_fit: epochs is 0: expected at least 1");
    fit = nb_test_quiet_fit(1, 0);
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_ARG,
                     "nb_model_fit: batch_size is 0: expected at least 1");
    const double splits[] = {1.0, -0.1, NAN};
    const char *texts[] = {"validation_split is 1: expected a fraction in [0, 1)",
                           "validation_split is -0.1: expected a fraction in [0, 1)",
                           "validation_split is nan"};
    for (int i = 0; i < 3; i++) {
        fit = nb_test_quiet_fit(1, 4);
        fit.validation_split = splits[i];
        expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_ARG, texts[i]);
    }
    fit = nb_test_quiet_fit(1, 4);
    fit.verbose = 3;
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_ARG, "verbose is 3: expected 0, 1 or 2");
    error_teardown(&c);
}
END_TEST

START_TEST(fit_rejects_data_that_does_not_fit)
{
    error_case c = error_setup();
    nb_fit_options fit = nb_test_quiet_fit(1, 4);
    nb_tensor *short_y = nb_tensor_zeros(NB_F32, NB_SHAPE(9, 1));
    expect_fit_error(&c, NULL, short_y, &fit, NB_ERR_SHAPE,
                     "nb_model_fit: x has 10 samples but y has 9: expected the same number on "
                     "axis 0");
    nb_tensor *wide_x = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 2));
    expect_fit_error(&c, wide_x, NULL, &fit, NB_ERR_SHAPE,
                     "nb_model_fit: x has shape [10, 2]: expected [n] followed by the model's "
                     "input shape [1]");
    nb_tensor *flat_x = nb_tensor_zeros(NB_F32, NB_SHAPE(10));
    expect_fit_error(&c, flat_x, NULL, &fit, NB_ERR_SHAPE, "x has shape [10]: expected [n]");
    nb_clear_error();
    ck_assert_ptr_null(nb_model_fit(c.model, NULL, c.y, &fit));
    ck_assert_error_contains("nb_model_fit: x is NULL");
    ck_assert_ptr_null(nb_model_fit(c.model, c.x, NULL, &fit));
    ck_assert_error_contains("nb_model_fit: y is NULL");
    /* one sample and a split leave nothing to train on */
    nb_tensor *one_x = nb_tensor_zeros(NB_F32, NB_SHAPE(1, 1));
    nb_tensor *one_y = nb_tensor_zeros(NB_F32, NB_SHAPE(1, 1));
    fit.validation_split = 0.5;
    expect_fit_error(&c, one_x, one_y, &fit, NB_ERR_ARG,
                     "nb_model_fit: no training samples left: 1 samples with validation_split 0.5");
    nb_tensor_free(short_y);
    nb_tensor_free(wide_x);
    nb_tensor_free(flat_x);
    nb_tensor_free(one_x);
    nb_tensor_free(one_y);
    error_teardown(&c);
}
END_TEST

START_TEST(fit_takes_one_kind_of_validation)
{
    error_case c = error_setup();
    nb_fit_options fit = nb_test_quiet_fit(1, 4);
    fit.validation_split = 0.2;
    fit.validation_x = c.x;
    fit.validation_y = c.y;
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_ARG,
                     "both validation_split and validation data given: expected one of them");
    fit.validation_split = 0;
    fit.validation_y = NULL;
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_ARG,
                     "validation_y is NULL: give both validation_x and validation_y");
    nb_tensor *wide = nb_tensor_zeros(NB_F32, NB_SHAPE(3, 4));
    fit.validation_x = wide;
    fit.validation_y = c.y;
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_SHAPE,
                     "nb_model_fit (validation data): x has shape [3, 4]");
    nb_tensor_free(wide);
    error_teardown(&c);
}
END_TEST

START_TEST(loss_error_in_a_batch_names_epoch_batch_and_cause)
{
    error_case c = error_setup();
    nb_fit_options fit = nb_test_quiet_fit(1, 4);
    nb_tensor *wide_y = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 2));
    expect_fit_error(&c, NULL, wide_y, &fit, NB_ERR_SHAPE, "nb_model_fit: epoch 1, batch 1: ");
    /* followed by the loss's own message, intact */
    const char *cause = strstr(nb_last_error(), "batch 1: ") + strlen("batch 1: ");
    ck_assert_msg(strncmp(cause, "nb_loss_mse: ", 13) == 0, "the cause is garbled: %s",
                  nb_last_error());
    ck_assert_msg(strstr(cause, "nb_model_fit") == NULL, "the cause repeats the prefix: %s",
                  nb_last_error());
    /* the same in validation data */
    fit.validation_x = c.x;
    fit.validation_y = wide_y;
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_SHAPE,
                     "nb_model_fit: validation after epoch 1: nb_loss_mse");
    nb_tensor_free(wide_y);
    error_teardown(&c);
}
END_TEST

START_TEST(a_nan_loss_stops_fit_with_a_numeric_error)
{
    error_case c = error_setup();
    nb_tensor_set(c.y, 6, NAN);
    nb_fit_options fit = nb_test_quiet_fit(1, 4);
    fit.shuffle = false;
    expect_fit_error(&c, NULL, NULL, &fit, NB_ERR_NUMERIC, "epoch 1, batch 2: the loss is nan");
    error_teardown(&c);
}
END_TEST

/* ---- progress ----------------------------------------------------------------- */

static char *fit_output(int verbose, int epochs, nb_history **history)
{
    nb_tensor *x, *y;
    regression_data(20, &x, &y);
    nb_model *model = regression_model(3);
    char *text = NULL;
    size_t len = 0;
    nb_fit_options fit = nb_test_quiet_fit(epochs, 10);
    fit.verbose = verbose;
    fit.validation_split = 0.5;
    fit.out = open_memstream(&text, &len);
    *history = fit_ok(model, x, y, &fit);
    fclose(fit.out);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return text;
}

static int count_lines_with(const char *text, const char *needle)
{
    int n = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        for (const char *p = line; p + strlen(needle) <= line + len; p++)
            if (strncmp(p, needle, strlen(needle)) == 0) {
                n++;
                break;
            }
        line = end ? end + 1 : NULL;
    }
    return n;
}

START_TEST(durations_use_keras_units)
{
    const struct { double seconds; const char *text; } cases[] = {
        {12.4, "12s"}, {1.0, "1s"}, {0.934, "934ms"}, {0.001, "1ms"},
        {0.00049, "490us"}, {0, "0s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[32];
        nb__format_duration(text, sizeof text, cases[i].seconds);
        ck_assert_str_eq(text, cases[i].text);
    }
}
END_TEST

START_TEST(verbose_2_writes_one_line_per_epoch)
{
    nb_history *history;
    char *text = fit_output(2, 2, &history);
    ck_assert_msg(strncmp(text, "Epoch 1/2\n1/1 - ", 16) == 0, "output:\n%s", text);
    ck_assert_msg(strstr(text, "\nEpoch 2/2\n1/1 - ") != NULL, "output:\n%s", text);
    int newlines = 0;
    for (const char *c = text; *c; c++)
        newlines += *c == '\n';
    ck_assert_int_eq(newlines, 4);
    ck_assert_int_eq(count_lines_with(text, "loss:"), 2);
    ck_assert_int_eq(count_lines_with(text, "val_loss:"), 2);
    ck_assert_int_eq(count_lines_with(text, "mae:"), 2);
    ck_assert_ptr_null(strchr(text, '\r'));
    char expected[64];
    snprintf(expected, sizeof expected, " - loss: %.4f - mae: ",
             nb_logs_get(&history->logs[1], "loss"));
    ck_assert_msg(strstr(text, expected) != NULL, "expected \"%s\" in:\n%s", expected, text);
    free(text);
    nb_history_free(history);
}
END_TEST

START_TEST(verbose_1_into_a_file_writes_the_finished_bar_per_epoch)
{
    nb_history *history;
    char *text = fit_output(1, 2, &history);
    ck_assert_int_eq(count_lines_with(text, "Epoch "), 2);
    ck_assert_int_eq(count_lines_with(text, "1/1 [==============================] - "), 2);
    ck_assert_int_eq(count_lines_with(text, "loss:"), 2);
    ck_assert_ptr_null(strchr(text, '\r'));
    free(text);
    nb_history_free(history);
}
END_TEST

START_TEST(verbose_0_writes_nothing)
{
    nb_history *history;
    char *text = fit_output(0, 2, &history);
    ck_assert_str_eq(text, "");
    ck_assert_int_eq(history->epochs, 2);
    free(text);
    nb_history_free(history);
}
END_TEST

/* ---- callbacks -------------------------------------------------------------------- */

typedef struct recorder {
    int begins, ends, epochs, batches;
    int epoch_seen[16];
    double losses[16];
    int stop_after;     /* stop at the end of this epoch; -1 never */
    int fail_at;        /* return an error at this epoch; -1 never */
    bool stop_at_begin; /* stop from on_train_begin */
} recorder;

static nb_status rec_begin(nb_callback *self, nb_model *model)
{
    recorder *r = self->state;
    r->begins++;
    if (r->stop_at_begin)
        nb_model_stop_training(model);
    return NB_OK;
}

static nb_status rec_epoch(nb_callback *self, nb_model *model, int epoch, const nb_logs *logs)
{
    recorder *r = self->state;
    ck_assert_int_lt(r->epochs, 16);
    r->epoch_seen[r->epochs] = epoch;
    r->losses[r->epochs] = nb_logs_get(logs, "loss");
    r->epochs++;
    if (epoch == r->fail_at)
        return nb_error(NB_ERR_ARG, "recorder: refusing epoch %d", epoch + 1);
    if (epoch == r->stop_after)
        nb_model_stop_training(model);
    return NB_OK;
}

static nb_status rec_batch(nb_callback *self, nb_model *model, int64_t batch, const nb_logs *logs)
{
    (void)model;
    recorder *r = self->state;
    ck_assert_int_eq(batch, r->batches % 4); /* batches counted from 0 in each epoch */
    ck_assert(isfinite(nb_logs_get(logs, "loss")));
    r->batches++;
    return NB_OK;
}

static nb_status rec_end(nb_callback *self, nb_model *model)
{
    (void)model;
    ((recorder *)self->state)->ends++;
    return NB_OK;
}

static nb_callback recorder_callback(recorder *r)
{
    return (nb_callback){.name = "recorder", .state = r, .on_train_begin = rec_begin,
                         .on_epoch_end = rec_epoch, .on_batch_end = rec_batch,
                         .on_train_end = rec_end};
}

START_TEST(callback_sees_every_epoch_and_batch_with_the_logs)
{
    nb_tensor *x, *y;
    regression_data(32, &x, &y); /* 4 batches of 8 */
    nb_model *model = regression_model(2);
    recorder r = {.stop_after = -1, .fail_at = -1};
    recorder r2 = {.stop_after = -1, .fail_at = -1};
    nb_callback cb = recorder_callback(&r), cb2 = recorder_callback(&r2);
    nb_fit_options fit = nb_test_quiet_fit(5, 8);
    fit.callbacks[0] = &cb;
    fit.callbacks[1] = &cb2;
    nb_history *history = fit_ok(model, x, y, &fit);
    ck_assert_int_eq(r.begins, 1);
    ck_assert_int_eq(r.ends, 1);
    ck_assert_int_eq(r.epochs, 5);
    ck_assert_int_eq(r.batches, 5 * 4);
    ck_assert_int_eq(r2.epochs, 5);
    for (int e = 0; e < 5; e++) {
        ck_assert_int_eq(r.epoch_seen[e], e);
        ck_assert_double_eq(r.losses[e], nb_logs_get(&history->logs[e], "loss"));
    }
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(stop_training_from_a_callback_ends_fit_after_that_epoch)
{
    nb_tensor *x, *y;
    regression_data(32, &x, &y);
    nb_model *model = regression_model(2);
    recorder r = {.stop_after = 1, .fail_at = -1};
    nb_callback cb = recorder_callback(&r);
    nb_fit_options fit = nb_test_quiet_fit(10, 8);
    fit.callbacks[0] = &cb;
    nb_history *history = fit_ok(model, x, y, &fit);
    ck_assert_int_eq(history->epochs, 2);
    ck_assert_int_eq(r.epochs, 2);
    ck_assert_int_eq(r.ends, 1);
    nb_history_free(history);
    /* the next fit starts afresh and runs every epoch */
    r = (recorder){.stop_after = -1, .fail_at = -1};
    fit.epochs = 3;
    history = fit_ok(model, x, y, &fit);
    ck_assert_int_eq(history->epochs, 3);
    nb_history_free(history);
    /* a stop asked for before the first epoch runs none */
    r = (recorder){.stop_after = -1, .fail_at = -1, .stop_at_begin = true};
    history = fit_ok(model, x, y, &fit);
    ck_assert_int_eq(history->epochs, 0);
    ck_assert_int_eq(r.epochs, 0);
    ck_assert_int_eq(r.ends, 1);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(callback_error_stops_fit_with_that_error)
{
    nb_tensor *x, *y;
    regression_data(32, &x, &y);
    nb_model *model = regression_model(2);
    recorder r = {.stop_after = -1, .fail_at = 2};
    nb_callback cb = recorder_callback(&r);
    nb_fit_options fit = nb_test_quiet_fit(10, 8);
    fit.callbacks[0] = &cb;
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("recorder: refusing epoch 3");
    ck_assert_int_eq(r.epochs, 3);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(early_stopping_ends_a_fit_whose_val_loss_gets_worse)
{
    /* training pulls b towards -1 while the validation rows want 10: val_loss
     * grows every epoch, so with patience 2 fit stops after epoch 3 */
    nb_tensor *x, *y;
    constant_data(50, 40, -1.0, 10.0, &x, &y);
    nb_model *model = bias_model();
    nb_callback *stop = nb_early_stopping("val_loss", 2, 0.0, false);
    ck_assert_ptr_nonnull(stop);
    nb_fit_options fit = nb_test_quiet_fit(20, 8);
    fit.validation_split = 0.2;
    fit.callbacks[0] = stop;
    nb_history *history = fit_ok(model, x, y, &fit);
    ck_assert_int_eq(history->epochs, 3);
    ck_assert_double_gt(last(history, "val_loss"), nb_logs_get(&history->logs[0], "val_loss"));
    nb_history_free(history);
    nb_callback_free(stop);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- evaluate and predict ------------------------------------------------------------ */

/* Dense(2 -> 1) with W = (1, 2), b = 0.5 on four rows:
 *   x          x W + b   y     error
 *   ( 1,  1)    3.5     4.5    -1
 *   ( 2,  0)    2.5     2.0     0.5
 *   ( 0, -1)   -1.5     0.0    -1.5
 *   ( 3,  1)    5.5     5.0     0.5
 * mse = (1 + 0.25 + 2.25 + 0.25) / 4 = 0.9375, mae = 3.5 / 4 = 0.875 */
static const double EVAL_X[] = {1, 1, 2, 0, 0, -1, 3, 1};
static const double EVAL_Y[] = {4.5, 2, 0, 5};
static const double EVAL_PRED[] = {3.5, 2.5, -1.5, 5.5};

static nb_model *tiny_model(bool compile)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(2));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    if (compile)
        nb_test_compiled(model, nb_sgd_default(), "mse", "mae");
    else
        ck_assert_int_eq(nb_model_build(model), NB_OK);
    nb_tensor *w = nb_tensor_from_doubles(NB_F32, NB_SHAPE(2, 1), (double[]){1, 2});
    nb_tensor *b = nb_tensor_from_doubles(NB_F32, NB_SHAPE(1), (double[]){0.5});
    ck_assert_int_eq(nb_model_set_weights(model, 2, (const nb_tensor *[]){w, b}), NB_OK);
    nb_tensor_free(w);
    nb_tensor_free(b);
    return model;
}

START_TEST(evaluate_matches_a_hand_computation_for_any_batch_size)
{
    nb_model *model = tiny_model(true);
    nb_tensor *x = nb_tensor_from_doubles(NB_F32, NB_SHAPE(4, 2), EVAL_X);
    nb_tensor *y = nb_tensor_from_doubles(NB_F32, NB_SHAPE(4, 1), EVAL_Y);
    const int64_t sizes[] = {1, 3, 4, 100};
    for (int i = 0; i < 4; i++) {
        nb_logs logs;
        ck_assert_int_eq(nb_model_evaluate(model, x, y, sizes[i], &logs), NB_OK);
        ck_assert_int_eq(logs.n, 2);
        ck_assert_str_eq(logs.names[0], "loss");
        ck_assert_str_eq(logs.names[1], "mae");
        ck_assert_double_eq_tol(nb_logs_get(&logs, "loss"), 0.9375, 1e-6);
        ck_assert_double_eq_tol(nb_logs_get(&logs, "mae"), 0.875, 1e-6);
    }
    /* evaluation does not train */
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(model, 1), 0), 0.5);
    nb_logs logs;
    ck_assert_int_eq(nb_model_evaluate(model, x, y, 0, &logs), NB_ERR_ARG);
    ck_assert_error_contains("nb_model_evaluate: batch_size is 0: expected at least 1");
    ck_assert_int_eq(nb_model_evaluate(model, x, y, 4, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_evaluate: logs is NULL");
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(predict_gives_the_same_outputs_for_any_batch_size)
{
    nb_model *model = tiny_model(false);
    nb_tensor *x = nb_tensor_from_doubles(NB_F32, NB_SHAPE(4, 2), EVAL_X);
    nb_tensor *p4 = nb_model_predict(model, x, 4);
    ck_assert_ptr_nonnull(p4);
    ck_assert_int_eq(p4->rank, 2);
    ck_assert_int_eq(p4->shape[0], 4);
    ck_assert_int_eq(p4->shape[1], 1);
    ck_assert_ptr_null(p4->tape);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq(nb_tensor_get(p4, i), EVAL_PRED[i]);
    const int64_t sizes[] = {1, 3, 0};
    for (int i = 0; i < 3; i++) {
        nb_tensor *p = nb_model_predict(model, x, sizes[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(memcmp(p->data, p4->data, 4 * sizeof(float)), 0);
        nb_tensor_free(p);
    }
    nb_tensor_free(p4);
    nb_model_free(model);
    nb_tensor_free(x);
}
END_TEST

START_TEST(predict_on_a_bigger_model_agrees_across_batch_sizes)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(2, 3));
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dense(16, NB_RELU));
    nb_model_add(model, nb_dropout(0.5)); /* inactive in predict */
    nb_model_add(model, nb_dense(4, NB_SOFTMAX));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    nb_rng rng;
    nb_rng_seed(&rng, 4);
    nb_tensor *x = nb_tensor_rand_normal(NB_F32, NB_SHAPE(7, 2, 3), 0, 1, &rng);
    nb_tensor *all = nb_model_predict(model, x, 7);
    nb_tensor *ones = nb_model_predict(model, x, 1);
    nb_tensor *threes = nb_model_predict(model, x, 3);
    ck_assert_int_eq(all->shape[1], 4);
    ck_assert_int_eq(memcmp(all->data, ones->data, 28 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(all->data, threes->data, 28 * sizeof(float)), 0);
    /* and they equal a forward pass without a tape */
    nb_tensor *direct = nb_model_forward(model, NULL, x, false);
    ck_assert_ptr_nonnull(direct);
    ck_assert_int_eq(memcmp(all->data, direct->data, 28 * sizeof(float)), 0);
    nb_tensor_free(direct);
    nb_tensor_free(all);
    nb_tensor_free(ones);
    nb_tensor_free(threes);
    nb_tensor_free(x);
    nb_model_free(model);
}
END_TEST

START_TEST(predict_errors_name_the_problem)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(2));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(3, 2));
    ck_assert_ptr_null(nb_model_predict(model, x, 1));
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_predict: the model is not built");
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_ptr_null(nb_model_predict(model, x, -2));
    ck_assert_error_contains("nb_model_predict: batch_size is -2: expected at least 1");
    nb_tensor *wrong = nb_tensor_zeros(NB_F32, NB_SHAPE(3, 5));
    ck_assert_ptr_null(nb_model_predict(model, wrong, 1));
    ck_assert_error_contains("nb_model_predict: x has shape [3, 5]: expected [n] followed by the "
                             "model's input shape [2]");
    ck_assert_ptr_null(nb_model_predict(model, NULL, 1));
    ck_assert_error_contains("nb_model_predict: x is NULL");
    nb_tensor_free(wrong);
    nb_tensor_free(x);
    nb_model_free(model);
}
END_TEST

/* ---- allocation -------------------------------------------------------------------------- */

/* Allocations made by a second one-epoch fit of `batches` batches of
 * batch_size (with validation) on `threads` threads, after a first fit
 * warmed up the tape, optimizer, history and the threads' replicas. */
static long allocations_of_a_warm_fit(int64_t batches, int64_t batch_size, int threads)
{
    nb_tensor *x, *y;
    regression_data(batches * batch_size * 5 / 4, &x, &y);
    ck_assert_int_eq(nb_set_num_threads(threads), NB_OK);
    nb_model *model = regression_model(5);
    nb_fit_options fit = nb_test_quiet_fit(1, batch_size);
    fit.validation_split = 0.2;
    nb_history_free(fit_ok(model, x, y, &fit));
    nb_test_count_allocations();
    nb_history *history = nb_model_fit(model, x, y, &fit);
    nb_set_allocator(NULL);
    long counted = nb_test_allocations;
    ck_assert_ptr_nonnull(history);
    nb_history_free(history);
    nb_model_free(model);
    nb_set_num_threads(1);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return counted;
}

/* ---- subnormal numbers --------------------------------------------------- */

static nb_status note_flushing(nb_callback *self, nb_model *model, int64_t batch,
                               const nb_logs *logs)
{
    (void)model, (void)batch, (void)logs;
    *(bool *)self->state = nb_test_flushing();
    return NB_OK;
}

/* Dense(1) with kernel 0.5 and bias 0 on x = FLT_MIN: the output, half the
 * smallest normal float, is subnormal. fit, evaluate and predict flush it
 * to zero (nb_set_flush_denormals), and give the caller back IEEE
 * arithmetic when they return. */
START_TEST(fit_evaluate_and_predict_flush_subnormals_and_restore_the_callers_mode)
{
    if (!nb_test_can_flush())
        return; /* no flushing on this CPU, or under valgrind: nothing to check */
    nb_model *model = bias_model();
    nb_tensor_set(nb_model_weight(model, 0), 0, 0.5);
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(1, 1));
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(1, 1));
    nb_tensor_set(x, 0, FLT_MIN);
    const double half_min = FLT_MIN * 0.5;

    nb_tensor *out = nb_model_predict(model, x, 1);
    ck_assert_double_eq(nb_tensor_get(out, 0), 0);
    nb_tensor_free(out);
    nb_logs logs;
    ck_assert_int_eq(nb_model_evaluate(model, x, y, 1, &logs), NB_OK);
    ck_assert_double_eq(nb_logs_get(&logs, "mae"), 0);
    ck_assert(!nb_test_flushing());

    ck_assert(nb_set_flush_denormals(false));
    ck_assert(!nb_flush_denormals());
    out = nb_model_predict(model, x, 1);
    ck_assert_double_eq(nb_tensor_get(out, 0), half_min);
    nb_tensor_free(out);
    ck_assert_int_eq(nb_model_evaluate(model, x, y, 1, &logs), NB_OK);
    ck_assert_double_eq(nb_logs_get(&logs, "mae"), half_min);

    /* and inside fit, where a callback's code runs in fit's mode */
    bool seen = true;
    nb_callback cb = {.name = "flushing", .state = &seen, .on_batch_end = note_flushing};
    nb_fit_options fit = nb_test_quiet_fit(1, 1);
    fit.callbacks[0] = &cb;
    nb_history_free(fit_ok(model, x, y, &fit));
    ck_assert(!seen);
    ck_assert(nb_set_flush_denormals(true));
    nb_history_free(fit_ok(model, x, y, &fit));
    ck_assert(seen);
    ck_assert(!nb_test_flushing());

    /* a caller that flushes itself keeps flushing */
    unsigned saved = nb__fp_enter();
    nb_tensor_free(nb_model_predict(model, x, 1));
    ck_assert(nb_test_flushing());
    nb__fp_leave(saved);
    ck_assert(!nb_test_flushing());
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(a_warm_training_step_allocates_nothing)
{
    /* batch 8 on one thread; batch 64 on two, which fit splits in halves */
    for (int threads = 1; threads <= 2; threads++) {
        int64_t batch = threads == 1 ? 8 : 64;
        long ten = allocations_of_a_warm_fit(10, batch, threads);
        long fifty = allocations_of_a_warm_fit(50, batch, threads);
        /* fit allocates per call only: the row order and the history */
        ck_assert_msg(ten == fifty, "%d thread(s): %ld allocations with 10 batches but %ld with "
                      "50", threads, ten, fifty);
        ck_assert_msg(ten <= 4, "%d thread(s): %ld allocations in a warm fit: expected only the "
                      "row order and history", threads, ten);
    }
}
END_TEST

/* ---- integration ------------------------------------------------------------------------ */

enum { SPIRAL_CLASSES = 3, SPIRAL_PER_CLASS = 200 };

/* Three interleaved spiral arms in the plane (the classic CS231n data):
 * class c, point i: radius r = i / n, angle 4 (c + r) plus noise. */
static void spirals(nb_tensor **x, nb_tensor **y)
{
    int64_t n = SPIRAL_CLASSES * SPIRAL_PER_CLASS;
    nb_rng rng;
    nb_rng_seed(&rng, 2024);
    *x = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 2));
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, SPIRAL_CLASSES));
    for (int c = 0; c < SPIRAL_CLASSES; c++)
        for (int i = 0; i < SPIRAL_PER_CLASS; i++) {
            int64_t row = c * SPIRAL_PER_CLASS + i;
            double r = (double)i / SPIRAL_PER_CLASS;
            double t = 4.0 * (c + r) + 0.2 * nb_rng_normal(&rng);
            nb_tensor_set(*x, 2 * row, r * sin(t));
            nb_tensor_set(*x, 2 * row + 1, r * cos(t));
            nb_tensor_set(*y, SPIRAL_CLASSES * row + c, 1.0);
        }
}

START_TEST(mlp_learns_three_spirals)
{
    nb_tensor *x, *y;
    spirals(&x, &y);
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, 1);
    nb_model_set_input_shape(model, NB_SHAPE(2));
    nb_model_add(model, nb_dense(32, NB_RELU));
    nb_model_add(model, nb_dense(32, NB_RELU));
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    nb_test_compiled(model, nb_adam(0.01, 0.9, 0.999, 1e-7), "categorical_crossentropy",
                     "accuracy");
    nb_fit_options fit = nb_test_quiet_fit(60, 32);
    nb_history *history = fit_ok(model, x, y, &fit);
    nb_logs logs;
    ck_assert_int_eq(nb_model_evaluate(model, x, y, 600, &logs), NB_OK);
    double accuracy = nb_logs_get(&logs, "accuracy");
    ck_assert_msg(accuracy >= 0.95, "training accuracy %.3f after %d epochs: expected >= 0.95",
                  accuracy, history->epochs);
    ck_assert_double_lt(nb_logs_get(&logs, "loss"), nb_logs_get(&history->logs[0], "loss"));
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

static Suite *fit_suite(void)
{
    Suite *s = suite_create("fit");
    TCase *tc = tcase_create("fit");
    tcase_add_test(tc, validation_split_holds_out_the_last_rows_before_shuffling);
    tcase_add_test(tc, explicit_validation_data_is_evaluated_after_each_epoch);
    tcase_add_test(tc, history_has_loss_metrics_and_val_entries_per_epoch);
    tcase_add_test(tc, epoch_loss_weights_a_partial_last_batch_by_its_size);
    tcase_add_test(tc, shuffle_with_a_seed_is_reproducible);
    tcase_add_test(tc, no_shuffle_is_deterministic_and_differs_from_shuffled);
    tcase_add_test(tc, fit_converts_f32_data_for_an_f64_model);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, fit_rejects_bad_options);
    tcase_add_test(tc, fit_rejects_data_that_does_not_fit);
    tcase_add_test(tc, fit_takes_one_kind_of_validation);
    tcase_add_test(tc, loss_error_in_a_batch_names_epoch_batch_and_cause);
    tcase_add_test(tc, a_nan_loss_stops_fit_with_a_numeric_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("progress");
    tcase_add_test(tc, durations_use_keras_units);
    tcase_add_test(tc, verbose_2_writes_one_line_per_epoch);
    tcase_add_test(tc, verbose_1_into_a_file_writes_the_finished_bar_per_epoch);
    tcase_add_test(tc, verbose_0_writes_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("callbacks");
    tcase_add_test(tc, callback_sees_every_epoch_and_batch_with_the_logs);
    tcase_add_test(tc, stop_training_from_a_callback_ends_fit_after_that_epoch);
    tcase_add_test(tc, callback_error_stops_fit_with_that_error);
    tcase_add_test(tc, early_stopping_ends_a_fit_whose_val_loss_gets_worse);
    suite_add_tcase(s, tc);
    tc = tcase_create("evaluate_predict");
    tcase_add_test(tc, evaluate_matches_a_hand_computation_for_any_batch_size);
    tcase_add_test(tc, predict_gives_the_same_outputs_for_any_batch_size);
    tcase_add_test(tc, predict_on_a_bigger_model_agrees_across_batch_sizes);
    tcase_add_test(tc, predict_errors_name_the_problem);
    suite_add_tcase(s, tc);
    tc = tcase_create("subnormals");
    tcase_add_test(tc, fit_evaluate_and_predict_flush_subnormals_and_restore_the_callers_mode);
    suite_add_tcase(s, tc);
    tc = tcase_create("allocation");
    tcase_add_test(tc, a_warm_training_step_allocates_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("integration");
    tcase_add_test(tc, mlp_learns_three_spirals);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(fit_suite)
