/* Tests of src/io/model_save.c and src/io/model_load.c together: a model
 * saved as a safetensors file and loaded again predicts, and trains on, bit
 * for bit as the original; optimizer state, custom losses and custom layers
 * come back. The files themselves are tested by test_model_save.c and
 * test_model_load.c, ModelCheckpoint by test_checkpoint.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nabla/model_io.h"
#include "nb_test.h"
#include "nn/model_internal.h"

/* ---- helpers: files and directories -------------------------------------- */

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/nabla-model-io-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
}

/* Remove the directory and the files in it. */
static void remove_dir(void) { nb_test_remove_dir(dir); }

/* ---- helpers: models ------------------------------------------------------ */

static char *summary_of(const nb_model *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_int_eq(nb_model_summary(m, out), NB_OK);
    fclose(out);
    return text;
}

/* ---- round trips -------------------------------------------------------------- */

/* _i: 0 for f32, 1 for f64 */
START_TEST(round_trip_predicts_bit_identically_and_trains_on_identically)
{
    nb_dtype dtype = _i ? NB_F64 : NB_F32;
    make_dir();
    nb_tensor *x, *y;
    nb_test_mlp_data(64, &x, &y);
    nb_model *model = nb_test_mlp(dtype, nb_adam_default());
    nb_test_fit_quietly(model, x, y, 2);
    ck_assert_msg(nb_model_save(model, path, true) == NB_OK, "%s", nb_last_error());
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "load: %s", nb_last_error());

    ck_assert_int_eq(nb_model_dtype(loaded), dtype);
    ck_assert_uint_eq(loaded->seed, model->seed);
    ck_assert(memcmp(&loaded->train_rng, &model->train_rng, sizeof model->train_rng) == 0);
    nb_tensor *p1 = nb_model_predict(model, x, 0), *p2 = nb_model_predict(loaded, x, 0);
    ck_assert(p1 && p2 && nb_test_same_tensor(p1, p2));
    char *s1 = summary_of(model), *s2 = summary_of(loaded);
    ck_assert_str_eq(s1, s2);
    ck_assert_str_eq(nb_model_loss(loaded)->name, "categorical_crossentropy");
    ck_assert_int_eq(nb_model_metric_count(loaded), 1);
    ck_assert_str_eq(nb_model_metric(loaded, 0)->name, "accuracy");
    ck_assert_int_eq(nb_optimizer_iterations(nb_model_optimizer(loaded)), 8);
    nb_test_assert_same_optimizer(model, loaded);

    /* one more epoch each (shuffling, dropout and Adam all continue) */
    nb_test_fit_quietly(model, x, y, 1);
    nb_test_fit_quietly(loaded, x, y, 1);
    nb_test_assert_same_weights(model, loaded);
    nb_test_assert_same_optimizer(model, loaded);

    free(s1);
    free(s2);
    nb_tensor_free(p1);
    nb_tensor_free(p2);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(without_optimizer_state_the_optimizer_starts_afresh)
{
    make_dir();
    nb_tensor *x, *y;
    nb_test_mlp_data(32, &x, &y);
    nb_model *model = nb_test_mlp(NB_F32, nb_rmsprop(0.01, 0.8, 0.5, 1e-6));
    nb_test_fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, false), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    const nb_optimizer *opt = nb_model_optimizer(loaded);
    ck_assert_str_eq(nb_optimizer_name(opt), "RMSprop");
    ck_assert_double_eq(nb_optimizer_learning_rate(opt), 0.01);
    ck_assert_int_eq(nb_optimizer_iterations(opt), 0);
    ck_assert_int_eq(nb_optimizer_state_count(opt), 0);
    nb_test_assert_same_weights(model, loaded);
    int n;
    const char *names[NB_OPTIMIZER_CONFIG_MAX];
    double a[NB_OPTIMIZER_CONFIG_MAX], b[NB_OPTIMIZER_CONFIG_MAX];
    nb_optimizer_config(nb_model_optimizer(model), &n, names, a);
    nb_optimizer_config(opt, &n, names, b);
    ck_assert(memcmp(a, b, (size_t)n * sizeof *a) == 0);
    nb_test_fit_quietly(loaded, x, y, 1); /* trains: the optimizer works */
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

/* SGD without momentum keeps no state: the step count still comes back. */
START_TEST(stateless_optimizer_restores_its_iterations)
{
    make_dir();
    nb_tensor *x, *y;
    nb_test_mlp_data(32, &x, &y);
    nb_model *model = nb_test_mlp(NB_F32, nb_sgd(0.05, 0.0, false));
    nb_test_fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    nb_test_assert_same_optimizer(model, loaded);
    ck_assert_int_eq(nb_optimizer_iterations(nb_model_optimizer(loaded)), 2);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

START_TEST(built_but_uncompiled_model_loads_built)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(2, 3));
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dense_with(&(nb_dense_options){.units = 5, .no_bias = true,
                                                          .activation = NB_TANH}));
    nb_model_add(model, nb_activation_layer(NB_SIGMOID));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    ck_assert_ptr_null(nb_model_loss(loaded));
    ck_assert_ptr_null(nb_model_optimizer(loaded));
    ck_assert_int_eq(nb_model_weight_count(loaded), 1);
    nb_test_assert_same_weights(model, loaded);
    nb_model_free(model);
    nb_model_free(loaded);
    remove_dir();
}
END_TEST

static nb_tensor *my_loss(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_loss_mse(tape, pred, target);
}

START_TEST(custom_loss_loads_uncompiled_with_its_weights)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    static const nb_loss custom = {"my_loss", my_loss};
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                         .optimizer = nb_sgd(0.1, 0.9, false), .custom_loss = &custom}),
                     NB_OK);
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(4, 3)), *y = nb_tensor_zeros(NB_F32, NB_SHAPE(4, 2));
    nb_test_fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    nb_clear_error();
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    ck_assert_ptr_null(nb_model_loss(loaded));
    ck_assert_str_eq(nb_last_error(), ""); /* the failed loss lookup left no message */
    nb_test_assert_same_weights(model, loaded);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST


/* A custom layer: y = x + shift, shift a parameter shaped as one sample. */
static nb_status shift_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    (void)rng;
    nb_tensor *shift = nb_tensor_full(self->dtype, in_rank, in_shape, 0.5);
    if (!shift || nb_layer_add_param(self, "shift", shift) != NB_OK) {
        nb_tensor_free(shift);
        return nb_last_status();
    }
    return NB_OK;
}

static nb_tensor *shift_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                nb_rng *rng)
{
    (void)training;
    (void)rng;
    return nb_add_bias(tape, x, self->params[0]);
}

static nb_layer *shift_from_config(const cJSON *json);

static const nb_layer_class shift_class = {
    .type = "TestShift",
    .build = shift_build,
    .forward = shift_forward,
    .from_config = shift_from_config,
};

static nb_layer *shift_from_config(const cJSON *json)
{
    (void)json;
    return nb_layer_new(&shift_class, NULL, NULL);
}

START_TEST(custom_layer_loads_once_its_class_is_registered)
{
    make_dir();
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_layer_new(&shift_class, NULL, NULL));
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                         .optimizer = nb_adam_default(), .loss = "mse"}), NB_OK);
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(4, 3)), *y = nb_tensor_zeros(NB_F32, NB_SHAPE(4, 2));
    nb_test_fit_quietly(model, x, y, 1);
    ck_assert_int_eq(nb_model_save(model, path, true), NB_OK);
    if (!nb_layer_find_class("TestShift")) { /* first run in this process */
        ck_assert_ptr_null(nb_model_load(path));
        ck_assert_error_contains("layer 0 ('test_shift'): nb_layer_find_class: unknown layer "
                                 "type 'TestShift'");
    }
    ck_assert_int_eq(nb_layer_register_class(&shift_class), NB_OK);
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    nb_test_assert_same_weights(model, loaded);
    nb_test_assert_same_optimizer(model, loaded);
    nb_tensor *p1 = nb_model_predict(model, x, 0), *p2 = nb_model_predict(loaded, x, 0);
    ck_assert(p1 && p2 && nb_test_same_tensor(p1, p2));
    nb_tensor_free(p1);
    nb_tensor_free(p2);
    nb_model_free(model);
    nb_model_free(loaded);
    nb_tensor_free(x);
    nb_tensor_free(y);
    remove_dir();
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("model_io");
    TCase *tc = tcase_create("round_trip");
    tcase_add_loop_test(tc, round_trip_predicts_bit_identically_and_trains_on_identically, 0, 2);
    tcase_add_test(tc, without_optimizer_state_the_optimizer_starts_afresh);
    tcase_add_test(tc, stateless_optimizer_restores_its_iterations);
    tcase_add_test(tc, built_but_uncompiled_model_loads_built);
    tcase_add_test(tc, custom_loss_loads_uncompiled_with_its_weights);
    tcase_add_test(tc, custom_layer_loads_once_its_class_is_registered);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(make_suite)
