/* Every bad argument in docs/errors.md, with its exact message: one row of
 * the table per test. Keep the two in step (docs/errors.md says how). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nb_test.h"

/* ---- helpers the rows share ------------------------------------------------ */

/* Dense(1) on inputs of 3, input shape set, not built. */
static nb_model *small(void)
{
    nb_model *m = nb_sequential();
    nb_model_set_input_shape(m, NB_SHAPE(3));
    nb_model_add(m, nb_dense(1, NB_LINEAR));
    return m;
}

/* small(), compiled with SGD and mse. */
static nb_model *compiled(void)
{
    nb_model *m = small();
    nb_status s =
        nb_model_compile(m, &(nb_compile_options){.optimizer = nb_sgd_default(), .loss = "mse"});
    ck_assert_msg(s == NB_OK, "compile: %s", nb_last_error());
    return m;
}

static nb_fit_options quiet(void)
{
    nb_fit_options o = nb_fit_defaults();
    o.verbose = 0;
    return o;
}

/* Fit m on zeros x [n_x, 3], y [n_y, 1]. */
static void fit_with(nb_model *m, int64_t n_x, int64_t n_y, const nb_fit_options *o)
{
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(n_x, 3));
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n_y, 1));
    nb_history_free(nb_model_fit(m, x, y, o));
    nb_tensor_free(x);
    nb_tensor_free(y);
}

/* The bad call of a row must fail with `status` and exactly `message`. */
#define EXPECT(status, message)                                                                    \
    do {                                                                                           \
        ck_assert_msg(nb_last_status() == (status), "expected %s, got %s: \"%s\"",                 \
                      nb_status_name(status), nb_status_name(nb_last_status()), nb_last_error());  \
        ck_assert_str_eq(nb_last_error(), (message));                                              \
    } while (0)

/* ---- the rows of docs/errors.md ---------------------------------------------- */
/* a negative dimension */
START_TEST(tensor_negative_dim)
{
    nb_clear_error();
    nb_tensor_free(nb_tensor_zeros(NB_F32, NB_SHAPE(2, -3)));
    EXPECT(NB_ERR_SHAPE,
           "nb_tensor_zeros: dimension 1 of shape [2, -3] is -3: expected a positive size");
}
END_TEST

/* a zero dimension */
START_TEST(tensor_zero_dim)
{
    nb_clear_error();
    nb_tensor_free(nb_tensor_zeros(NB_F32, NB_SHAPE(0, 3)));
    EXPECT(NB_ERR_SHAPE,
           "nb_tensor_zeros: dimension 0 of shape [0, 3] is 0: expected a positive size");
}
END_TEST

/* a rank above NB_MAX_RANK */
START_TEST(tensor_rank_too_big)
{
    nb_clear_error();
    nb_tensor_free(nb_tensor_zeros(NB_F32, NB_SHAPE(1, 1, 1, 1, 1)));
    EXPECT(NB_ERR_SHAPE, "nb_tensor_zeros: rank 5 is out of range: expected 0 to 4");
}
END_TEST

/* a negative rank */
START_TEST(tensor_negative_rank)
{
    nb_clear_error();
    int64_t s[1] = {1};
    nb_tensor_free(nb_tensor_zeros(NB_F32, -1, s));
    EXPECT(NB_ERR_SHAPE, "nb_tensor_zeros: rank -1 is out of range: expected 0 to 4");
}
END_TEST

/* an element count that overflows */
START_TEST(tensor_count_overflow)
{
    nb_clear_error();
    nb_tensor_free(nb_tensor_zeros(NB_F32, NB_SHAPE(INT64_C(1) << 40, INT64_C(1) << 40)));
    EXPECT(
        NB_ERR_SHAPE,
        "nb_tensor_zeros: shape [1099511627776, 1099511627776] has too many elements (overflow)");
}
END_TEST

/* a dtype that is not NB_F32 or NB_F64 */
START_TEST(tensor_bad_dtype)
{
    nb_clear_error();
    nb_tensor_free(nb_tensor_zeros((nb_dtype)7, NB_SHAPE(2)));
    EXPECT(NB_ERR_DTYPE, "nb_tensor_zeros: dtype 7 is not NB_F32 or NB_F64");
}
END_TEST

/* nb_to_categorical with a label outside the classes */
START_TEST(to_categorical_label_out_of_range)
{
    nb_clear_error();
    nb_tensor *t = nb_tensor_from_doubles(NB_F32, NB_SHAPE(3), (const double[]){0, 2, 5});
    nb_tensor_free(nb_to_categorical(t, 3, NB_F32));
    nb_tensor_free(t);
    EXPECT(NB_ERR_ARG, "nb_to_categorical: label 5 at index 2 is not a class index: expected an "
                       "integer in [0, 3)");
}
END_TEST

/* nb_to_categorical with a negative label */
START_TEST(to_categorical_negative_label)
{
    nb_clear_error();
    nb_tensor *t = nb_tensor_from_doubles(NB_F32, NB_SHAPE(2), (const double[]){0, -1});
    nb_tensor_free(nb_to_categorical(t, 3, NB_F32));
    nb_tensor_free(t);
    EXPECT(NB_ERR_ARG, "nb_to_categorical: label -1 at index 1 is not a class index: expected an "
                       "integer in [0, 3)");
}
END_TEST

/* nb_to_categorical with a label that is not an integer */
START_TEST(to_categorical_fractional_label)
{
    nb_clear_error();
    nb_tensor *t = nb_tensor_from_doubles(NB_F32, NB_SHAPE(2), (const double[]){0, 1.5});
    nb_tensor_free(nb_to_categorical(t, 3, NB_F32));
    nb_tensor_free(t);
    EXPECT(NB_ERR_ARG, "nb_to_categorical: label 1.5 at index 1 is not a class index: expected an "
                       "integer in [0, 3)");
}
END_TEST

/* nb_slice_rows past the end */
START_TEST(slice_rows_out_of_range)
{
    nb_clear_error();
    nb_tensor *t = nb_tensor_zeros(NB_F32, NB_SHAPE(4, 2));
    nb_tensor_free(nb_slice_rows(t, 3, 2));
    nb_tensor_free(t);
    EXPECT(NB_ERR_ARG, "nb_slice_rows: rows [3, 3 + 2) are out of range for shape [4, 2]: expected "
                       "start >= 0, count >= 1 and start + count <= 4");
}
END_TEST

/* Dense with 0 units */
START_TEST(dense_zero_units)
{
    nb_clear_error();
    nb_layer_free(nb_dense(0, NB_RELU));
    EXPECT(NB_ERR_ARG, "nb_dense: units is 0: expected at least 1");
}
END_TEST

/* Dense with negative units */
START_TEST(dense_negative_units)
{
    nb_clear_error();
    nb_layer_free(nb_dense(-4, NB_RELU));
    EXPECT(NB_ERR_ARG, "nb_dense: units is -4: expected at least 1");
}
END_TEST

/* Dropout rate 1 */
START_TEST(dropout_rate_one)
{
    nb_clear_error();
    nb_layer_free(nb_dropout(1.0));
    EXPECT(NB_ERR_ARG, "nb_dropout: rate is 1: expected 0 <= rate < 1");
}
END_TEST

/* Dropout rate below 0 */
START_TEST(dropout_rate_negative)
{
    nb_clear_error();
    nb_layer_free(nb_dropout(-0.5));
    EXPECT(NB_ERR_ARG, "nb_dropout: rate is -0.5: expected 0 <= rate < 1");
}
END_TEST

/* SGD learning rate below 0 */
START_TEST(sgd_negative_rate)
{
    nb_clear_error();
    nb_optimizer_free(nb_sgd(-0.1, 0, false));
    EXPECT(NB_ERR_ARG, "nb_sgd: learning_rate is -0.1: expected a finite value > 0");
}
END_TEST

/* SGD learning rate NaN */
START_TEST(sgd_nan_rate)
{
    nb_clear_error();
    nb_optimizer_free(nb_sgd(NAN, 0, false));
    EXPECT(NB_ERR_ARG, "nb_sgd: learning_rate is nan: expected a finite value > 0");
}
END_TEST

/* SGD momentum 1 */
START_TEST(sgd_momentum_one)
{
    nb_clear_error();
    nb_optimizer_free(nb_sgd(0.1, 1.0, false));
    EXPECT(NB_ERR_ARG, "nb_sgd: momentum is 1: expected a value in [0, 1)");
}
END_TEST

/* Adam learning rate 0 */
START_TEST(adam_zero_rate)
{
    nb_clear_error();
    nb_optimizer_free(nb_adam(0, 0.9, 0.999, 1e-7));
    EXPECT(NB_ERR_ARG, "nb_adam: learning_rate is 0: expected a finite value > 0");
}
END_TEST

/* Adam beta_1 1 */
START_TEST(adam_beta1_one)
{
    nb_clear_error();
    nb_optimizer_free(nb_adam(0.001, 1.0, 0.999, 1e-7));
    EXPECT(NB_ERR_ARG, "nb_adam: beta_1 is 1: expected a value in [0, 1)");
}
END_TEST

/* Adam epsilon below 0 */
START_TEST(adam_negative_epsilon)
{
    nb_clear_error();
    nb_optimizer_free(nb_adam(0.001, 0.9, 0.999, -1));
    EXPECT(NB_ERR_ARG, "nb_adam: epsilon is -1: expected a finite value > 0");
}
END_TEST

/* nb_set_num_threads with 0 threads */
START_TEST(set_num_threads_zero)
{
    nb_clear_error();
    ck_assert_int_eq(nb_set_num_threads(0), NB_ERR_ARG);
    EXPECT(NB_ERR_ARG, "nb_set_num_threads: n is 0: expected 1 to 64");
}
END_TEST

/* RMSprop rho below 0 */
START_TEST(rmsprop_rho_negative)
{
    nb_clear_error();
    nb_optimizer_free(nb_rmsprop(0.001, -0.9, 0, 1e-7));
    EXPECT(NB_ERR_ARG, "nb_rmsprop: rho is -0.9: expected a value in [0, 1)");
}
END_TEST

/* an input shape with a negative dimension */
START_TEST(input_shape_negative)
{
    nb_clear_error();
    nb_model *m = nb_sequential();
    nb_model_set_input_shape(m, NB_SHAPE(28, -28));
    nb_model_free(m);
    EXPECT(NB_ERR_SHAPE, "nb_model_set_input_shape: dimension 1 of shape [28, -28] is -28: "
                         "expected a positive size");
}
END_TEST

/* an input shape with a zero dimension */
START_TEST(input_shape_zero)
{
    nb_clear_error();
    nb_model *m = nb_sequential();
    nb_model_set_input_shape(m, NB_SHAPE(0));
    nb_model_free(m);
    EXPECT(NB_ERR_SHAPE,
           "nb_model_set_input_shape: dimension 0 of shape [0] is 0: expected a positive size");
}
END_TEST

/* compile without layers */
START_TEST(compile_no_layers)
{
    nb_clear_error();
    nb_model *m = nb_sequential();
    nb_model_set_input_shape(m, NB_SHAPE(3));
    nb_model_compile(m, &(nb_compile_options){.optimizer = nb_sgd_default(), .loss = "mse"});
    nb_model_free(m);
    EXPECT(NB_ERR_STATE, "nb_model_build: the model has no layers");
}
END_TEST

/* compile with an unknown loss */
START_TEST(compile_unknown_loss)
{
    nb_clear_error();
    nb_model *m = small();
    nb_model_compile(m, &(nb_compile_options){.optimizer = nb_sgd_default(), .loss = "msq"});
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_loss_get: unknown loss 'msq': expected one of mean_squared_error (mse), "
                       "mean_absolute_error (mae), categorical_crossentropy, "
                       "categorical_crossentropy_from_logits, sparse_categorical_crossentropy, "
                       "binary_crossentropy");
}
END_TEST

/* compile with an unknown metric */
START_TEST(compile_unknown_metric)
{
    nb_clear_error();
    nb_model *m = small();
    nb_model_compile(m, &(nb_compile_options){
                            .optimizer = nb_sgd_default(), .loss = "mse", .metrics = {"acuracy"}});
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_metric_get: unknown metric 'acuracy': expected one of accuracy, "
                       "categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, mae "
                       "(mean_absolute_error), mse (mean_squared_error)");
}
END_TEST

/* compile without an optimizer */
START_TEST(compile_no_optimizer)
{
    nb_clear_error();
    nb_model *m = small();
    nb_model_compile(m, &(nb_compile_options){.loss = "mse"});
    nb_model_free(m);
    EXPECT(NB_ERR_NULL, "nb_model_compile: optimizer is NULL");
}
END_TEST

/* predict on a model that is not built */
START_TEST(predict_before_build)
{
    nb_clear_error();
    nb_model *m = nb_sequential();
    nb_model_add(m, nb_dense(1, NB_LINEAR));
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 3));
    nb_tensor_free(nb_model_predict(m, x, 1));
    nb_tensor_free(x);
    nb_model_free(m);
    EXPECT(NB_ERR_STATE,
           "nb_model_predict: the model is not built: set its input shape and compile it first");
}
END_TEST

/* fit on a model built but not compiled */
START_TEST(fit_before_compile)
{
    nb_clear_error();
    nb_model *m = small();
    nb_model_build(m);
    fit_with(m, 10, 10, NULL);
    nb_model_free(m);
    EXPECT(NB_ERR_STATE, "nb_model_fit: the model is not compiled: call nb_model_compile first");
}
END_TEST

/* a layer added after the model is built */
START_TEST(add_after_build)
{
    nb_clear_error();
    nb_model *m = compiled();
    nb_model_add(m, nb_dense(1, NB_LINEAR));
    nb_model_free(m);
    EXPECT(NB_ERR_STATE,
           "nb_model_add: the model is already built: add every layer before compiling");
}
END_TEST

/* a layer added to a second model */
START_TEST(add_layer_of_another_model)
{
    nb_clear_error();
    nb_model *a = nb_sequential(), *b = nb_sequential();
    nb_layer *dense = nb_dense(1, NB_LINEAR);
    ck_assert_int_eq(nb_model_add(a, dense), NB_OK);
    nb_model_add(b, dense);
    nb_model_free(b);
    nb_model_free(a);
    EXPECT(NB_ERR_ARG, "nb_model_add: layer 'dense' is already in another model: create a new "
                       "layer for every position");
}
END_TEST

/* two layers given the same name */
START_TEST(add_layer_with_a_name_taken)
{
    nb_clear_error();
    nb_model *m = nb_sequential();
    nb_layer *first = nb_dense(1, NB_LINEAR), *second = nb_dense(1, NB_LINEAR);
    snprintf(first->name, sizeof first->name, "head");
    snprintf(second->name, sizeof second->name, "head");
    nb_model_add(m, first);
    nb_model_add(m, second);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_add: a layer named 'head' is already in this model: layer "
                       "names must be unique (they name the weights in saved files)");
}
END_TEST

/* the input shape set after the model is built */
START_TEST(set_input_after_build)
{
    nb_clear_error();
    nb_model *m = compiled();
    nb_model_set_input_shape(m, NB_SHAPE(4));
    nb_model_free(m);
    EXPECT(NB_ERR_STATE, "nb_model_set_input_shape: the model is already built");
}
END_TEST

/* fit with batch_size 0 */
START_TEST(fit_batch_zero)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.batch_size = 0;
    nb_model *m = compiled();
    fit_with(m, 10, 10, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_fit: batch_size is 0: expected at least 1");
}
END_TEST

/* fit with epochs 0 */
START_TEST(fit_epochs_zero)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.epochs = 0;
    nb_model *m = compiled();
    fit_with(m, 10, 10, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_fit: epochs is 0: expected at least 1");
}
END_TEST

/* fit with validation_split 1 */
START_TEST(fit_split_one)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.validation_split = 1.0;
    nb_model *m = compiled();
    fit_with(m, 10, 10, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_fit: validation_split is 1: expected a fraction in [0, 1)");
}
END_TEST

/* fit with validation_split below 0 */
START_TEST(fit_split_negative)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.validation_split = -0.1;
    nb_model *m = compiled();
    fit_with(m, 10, 10, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_fit: validation_split is -0.1: expected a fraction in [0, 1)");
}
END_TEST

/* fit with validation_split NaN */
START_TEST(fit_split_nan)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.validation_split = NAN;
    nb_model *m = compiled();
    fit_with(m, 10, 10, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_fit: validation_split is nan: expected a fraction in [0, 1)");
}
END_TEST

/* fit with a validation_split that leaves no training rows */
START_TEST(fit_split_leaves_nothing)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.validation_split = 0.5;
    nb_model *m = compiled();
    fit_with(m, 1, 1, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG,
           "nb_model_fit: no training samples left: 1 samples with validation_split 0.5");
}
END_TEST

/* fit with verbose 3 */
START_TEST(fit_verbose_three)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.verbose = 3;
    nb_model *m = compiled();
    fit_with(m, 10, 10, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_fit: verbose is 3: expected 0, 1 or 2");
}
END_TEST

/* fit with x and y of different row counts */
START_TEST(fit_rows_differ)
{
    nb_clear_error();
    nb_model *m = compiled();
    fit_with(m, 10, 9, NULL);
    nb_model_free(m);
    EXPECT(NB_ERR_SHAPE,
           "nb_model_fit: x has 10 samples but y has 9: expected the same number on axis 0");
}
END_TEST

/* fit with x not [n] + the input shape */
START_TEST(fit_x_shape)
{
    nb_clear_error();
    nb_model *m = compiled();
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 4));
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 1));
    nb_history_free(nb_model_fit(m, x, y, NULL));
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_model_free(m);
    EXPECT(
        NB_ERR_SHAPE,
        "nb_model_fit: x has shape [10, 4]: expected [n] followed by the model's input shape [3]");
}
END_TEST

/* evaluate with batch_size 0 */
START_TEST(evaluate_batch_zero)
{
    nb_clear_error();
    nb_model *m = compiled();
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 3));
    nb_tensor *y = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 1));
    nb_logs logs;
    nb_model_evaluate(m, x, y, 0, &logs);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_evaluate: batch_size is 0: expected at least 1");
}
END_TEST

/* predict with a negative batch_size */
START_TEST(predict_negative_batch)
{
    nb_clear_error();
    nb_model *m = compiled();
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(10, 3));
    nb_tensor_free(nb_model_predict(m, x, -1));
    nb_tensor_free(x);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_predict: batch_size is -1: expected at least 1");
}
END_TEST

/* save to a path that cannot be written */
START_TEST(save_unwritable_path)
{
    nb_clear_error();
    nb_model *m = compiled();
    nb_model_save(m, "/nonexistent-dir/model.safetensors", true);
    nb_model_free(m);
    EXPECT(NB_ERR_IO, "nb_model_save: cannot write '/nonexistent-dir/model.safetensors': cannot "
                      "create a temporary file there: No such file or directory");
}
END_TEST

/* save to a NULL path */
START_TEST(save_null_path)
{
    nb_clear_error();
    nb_model *m = compiled();
    nb_model_save(m, NULL, true);
    nb_model_free(m);
    EXPECT(NB_ERR_NULL, "nb_model_save: path is NULL");
}
END_TEST

/* load a file that does not exist */
START_TEST(load_missing_file)
{
    nb_clear_error();
    nb_model_free(nb_model_load("/nonexistent-dir/model.safetensors"));
    EXPECT(NB_ERR_IO, "nb_model_load: cannot open '/nonexistent-dir/model.safetensors': No such "
                      "file or directory");
}
END_TEST

/* an IDX file that does not exist */
START_TEST(idx_missing_file)
{
    nb_clear_error();
    nb_tensor_free(nb_idx_load("/nonexistent-dir/x.idx", NB_F32));
    EXPECT(NB_ERR_IO, "nb_idx_load: cannot open '/nonexistent-dir/x.idx' or "
                      "'/nonexistent-dir/x.idx.gz': No such file or directory");
}
END_TEST

/* a CSV file that does not exist */
START_TEST(csv_missing_file)
{
    nb_clear_error();
    nb_csv_free(nb_csv_read("/nonexistent-dir/x.csv"));
    EXPECT(NB_ERR_IO,
           "nb_csv_read: cannot open '/nonexistent-dir/x.csv': No such file or directory");
}
END_TEST

/* history CSV to a path that cannot be written */
START_TEST(history_unwritable_path)
{
    nb_clear_error();
    nb_logs l = {.n = 1, .names = {"loss"}, .values = {0.5}};
    nb_history h = {.epochs = 1, .capacity = 1, .logs = &l};
    nb_history_write_csv(&h, "/nonexistent-dir/h.csv");
    EXPECT(NB_ERR_IO, "nb_history_write_csv: cannot write '/nonexistent-dir/h.csv': cannot create "
                      "a temporary file there: No such file or directory");
}
END_TEST

/* a checkpoint callback with an empty path */
START_TEST(checkpoint_empty_path)
{
    nb_clear_error();
    nb_callback_free(nb_model_checkpoint("", "loss", false, true));
    EXPECT(NB_ERR_ARG, "nb_model_checkpoint: path is empty");
}
END_TEST

/* fit resuming at or past its last epoch */
START_TEST(fit_initial_epoch_past_end)
{
    nb_clear_error();
    nb_fit_options o = quiet();
    o.epochs = 3;
    o.initial_epoch = 3;
    nb_model *m = compiled();
    fit_with(m, 10, 10, &o);
    nb_model_free(m);
    EXPECT(NB_ERR_ARG, "nb_model_fit: initial_epoch is 3 with epochs 3: expected 0 <= "
           "initial_epoch < epochs (epochs counts from the start, as in Keras)");
}
END_TEST

/* a backup callback that would never save */
START_TEST(backup_every_zero)
{
    nb_clear_error();
    nb_callback_free(nb_backup_and_restore("run.backup", 0, false));
    EXPECT(NB_ERR_ARG, "nb_backup_and_restore: every_epochs is 0: expected at least 1");
}
END_TEST

/* restoring a file saved without the optimizer into a compiled model */
START_TEST(restore_without_optimizer_state)
{
    nb_clear_error();
    nb_model *m = compiled();
    char path[] = "/tmp/nb_errors_restore_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(nb_model_save(m, path, false), NB_OK);
    nb_status s = nb_model_restore(m, path);
    char expected[256];
    snprintf(expected, sizeof expected, "nb_model_restore: '%s': the file has no optimizer "
             "state: save it with include_optimizer true (as nb_backup_and_restore does) to "
             "resume training", path);
    remove(path);
    nb_model_free(m);
    ck_assert_int_eq(s, NB_ERR_ARG);
    ck_assert_str_eq(nb_last_error(), expected);
}
END_TEST

/* an MNIST directory that does not exist */
START_TEST(mnist_missing_dir)
{
    nb_clear_error();
    nb_mnist mn;
    if (nb_mnist_load("/nonexistent-dir", &mn) == NB_OK)
        nb_mnist_free(&mn);
    EXPECT(NB_ERR_IO, "nb_mnist_load: cannot open '/nonexistent-dir/train-labels-idx1-ubyte' or "
                      "'/nonexistent-dir/train-labels-idx1-ubyte.gz': No such file or directory");
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("bad_arguments");
    tcase_add_test(tc, tensor_negative_dim);
    tcase_add_test(tc, tensor_zero_dim);
    tcase_add_test(tc, tensor_rank_too_big);
    tcase_add_test(tc, tensor_negative_rank);
    tcase_add_test(tc, tensor_count_overflow);
    tcase_add_test(tc, tensor_bad_dtype);
    tcase_add_test(tc, to_categorical_label_out_of_range);
    tcase_add_test(tc, to_categorical_negative_label);
    tcase_add_test(tc, to_categorical_fractional_label);
    tcase_add_test(tc, slice_rows_out_of_range);
    tcase_add_test(tc, dense_zero_units);
    tcase_add_test(tc, dense_negative_units);
    tcase_add_test(tc, dropout_rate_one);
    tcase_add_test(tc, dropout_rate_negative);
    tcase_add_test(tc, sgd_negative_rate);
    tcase_add_test(tc, sgd_nan_rate);
    tcase_add_test(tc, sgd_momentum_one);
    tcase_add_test(tc, adam_zero_rate);
    tcase_add_test(tc, adam_beta1_one);
    tcase_add_test(tc, adam_negative_epsilon);
    tcase_add_test(tc, set_num_threads_zero);
    tcase_add_test(tc, rmsprop_rho_negative);
    tcase_add_test(tc, input_shape_negative);
    tcase_add_test(tc, input_shape_zero);
    tcase_add_test(tc, compile_no_layers);
    tcase_add_test(tc, compile_unknown_loss);
    tcase_add_test(tc, compile_unknown_metric);
    tcase_add_test(tc, compile_no_optimizer);
    tcase_add_test(tc, predict_before_build);
    tcase_add_test(tc, fit_before_compile);
    tcase_add_test(tc, add_after_build);
    tcase_add_test(tc, add_layer_of_another_model);
    tcase_add_test(tc, add_layer_with_a_name_taken);
    tcase_add_test(tc, set_input_after_build);
    tcase_add_test(tc, fit_batch_zero);
    tcase_add_test(tc, fit_epochs_zero);
    tcase_add_test(tc, fit_split_one);
    tcase_add_test(tc, fit_split_negative);
    tcase_add_test(tc, fit_split_nan);
    tcase_add_test(tc, fit_split_leaves_nothing);
    tcase_add_test(tc, fit_verbose_three);
    tcase_add_test(tc, fit_rows_differ);
    tcase_add_test(tc, fit_x_shape);
    tcase_add_test(tc, evaluate_batch_zero);
    tcase_add_test(tc, predict_negative_batch);
    tcase_add_test(tc, save_unwritable_path);
    tcase_add_test(tc, save_null_path);
    tcase_add_test(tc, load_missing_file);
    tcase_add_test(tc, idx_missing_file);
    tcase_add_test(tc, csv_missing_file);
    tcase_add_test(tc, history_unwritable_path);
    tcase_add_test(tc, checkpoint_empty_path);
    tcase_add_test(tc, mnist_missing_dir);
    tcase_add_test(tc, fit_initial_epoch_past_end);
    tcase_add_test(tc, backup_every_zero);
    tcase_add_test(tc, restore_without_optimizer_state);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(errors_suite)
