/* Tests for Sequential models (src/nn/sequential.c): adding, building,
 * compiling, naming, the summary, weights, seeds, and the errors of each. */
#include <math.h>
#include <stdlib.h>

#include "nb_test.h"

/* The reference MNIST MLP: 28x28 -> Flatten -> Dense 128 relu -> Dense 64
 * relu -> Dense 10 softmax, compiled with Adam and cross-entropy. */
static nb_model *mnist_mlp(void)
{
    nb_model *model = nb_sequential();
    ck_assert_ptr_nonnull(model);
    ck_assert_int_eq(nb_model_set_input_shape(model, NB_SHAPE(28, 28)), NB_OK);
    ck_assert_int_eq(nb_model_add(model, nb_flatten_layer()), NB_OK);
    ck_assert_int_eq(nb_model_add(model, nb_dense(128, NB_RELU)), NB_OK);
    ck_assert_int_eq(nb_model_add(model, nb_dense(64, NB_RELU)), NB_OK);
    ck_assert_int_eq(nb_model_add(model, nb_dense(10, NB_SOFTMAX)), NB_OK);
    return nb_test_compiled(model, nb_adam_default(), "categorical_crossentropy", "accuracy");
}

static char *summary_text(const nb_model *model)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_int_eq(nb_model_summary(model, out), NB_OK);
    fclose(out);
    return text;
}

/* A small model (4 -> 8 tanh -> 3 softmax) with a seed. */
static nb_model *small_model(uint64_t seed, bool with_dropout)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, seed);
    nb_model_set_input_shape(model, NB_SHAPE(4));
    nb_model_add(model, nb_dense(8, NB_TANH));
    if (with_dropout)
        nb_model_add(model, nb_dropout(0.25));
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    return nb_test_compiled(model, nb_adam(0.01, 0.9, 0.999, 1e-7), "categorical_crossentropy",
                            "accuracy");
}

/* 64 samples of 4 features, 3 one-hot classes from the sign pattern. */
static void small_data(nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 99);
    *x = nb_tensor_rand_normal(NB_F32, NB_SHAPE(64, 4), 0, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(64, 3));
    for (int r = 0; r < 64; r++) {
        int cls = nb_tensor_get(*x, 4 * r) > 0 ? 0 : nb_tensor_get(*x, 4 * r + 1) > 0 ? 1 : 2;
        nb_tensor_set(*y, 3 * r + cls, 1.0);
    }
}

/* ---- the reference MLP ------------------------------------------------------------ */

START_TEST(reference_mnist_mlp_has_109386_params)
{
    nb_model *model = mnist_mlp();
    ck_assert_int_eq(nb_model_param_count(model), 109386);
    ck_assert_int_eq(nb_model_layer_count(model), 4);
    ck_assert_int_eq(nb_layer_param_count(nb_model_layer(model, 0)), 0);
    ck_assert_int_eq(nb_layer_param_count(nb_model_layer(model, 1)), 784 * 128 + 128);
    ck_assert_int_eq(nb_layer_param_count(nb_model_layer(model, 2)), 128 * 64 + 64);
    ck_assert_int_eq(nb_layer_param_count(nb_model_layer(model, 3)), 64 * 10 + 10);
    nb_model_free(model);
}
END_TEST

START_TEST(summary_lists_names_output_shapes_and_counts)
{
    nb_model *model = mnist_mlp();
    char *text = summary_text(model);
    const char *expected[] = {
        "Model: \"sequential\"\n",
        " Layer (type)                Output Shape              Param #   \n",
        " flatten (Flatten)           (None, 784)               0         \n",
        " dense (Dense)               (None, 128)               100,480   \n",
        " dense_1 (Dense)             (None, 64)                8,256     \n",
        " dense_2 (Dense)             (None, 10)                650       \n",
        "Total params: 109,386\n",
        "Trainable params: 109,386\n",
        "Non-trainable params: 0\n",
    };
    const char *at = text;
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        const char *found = strstr(at, expected[i]);
        ck_assert_msg(found != NULL, "summary lacks (in order) \"%s\":\n%s", expected[i], text);
        at = found + strlen(expected[i]);
    }
    free(text);
    nb_model_free(model);
}
END_TEST

START_TEST(layers_are_named_after_their_type_and_numbered)
{
    nb_model *model = mnist_mlp();
    const char *names[] = {"flatten", "dense", "dense_1", "dense_2"};
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(nb_model_layer(model, i)->name, names[i]);
    ck_assert_ptr_null(nb_model_layer(model, 4));
    ck_assert_ptr_null(nb_model_layer(model, -1));
    nb_model_free(model);
}
END_TEST

START_TEST(weights_are_every_layers_params_in_order)
{
    nb_model *model = mnist_mlp();
    ck_assert_int_eq(nb_model_weight_count(model), 6);
    const char *names[] = {"dense/kernel",   "dense/bias",     "dense_1/kernel",
                           "dense_1/bias",   "dense_2/kernel", "dense_2/bias"};
    const int64_t rows[] = {784, 128, 128, 64, 64, 10};
    for (int i = 0; i < 6; i++) {
        nb_tensor *w = nb_model_weight(model, i);
        ck_assert_str_eq(w->name, names[i]);
        ck_assert_int_eq(w->shape[0], rows[i]);
        ck_assert_int_eq(w->dtype, NB_F32);
        ck_assert(w->requires_grad);
        ck_assert_ptr_eq(w, nb_model_layer(model, 1 + i / 2)->params[i % 2]);
    }
    ck_assert_ptr_null(nb_model_weight(model, 6));
    nb_model_free(model);
}
END_TEST

START_TEST(compile_sets_loss_metrics_and_optimizer)
{
    nb_model *model = mnist_mlp();
    ck_assert_str_eq(nb_model_loss(model)->name, "categorical_crossentropy");
    ck_assert_int_eq(nb_model_metric_count(model), 1);
    ck_assert_str_eq(nb_model_metric(model, 0)->name, "accuracy");
    ck_assert_str_eq(nb_optimizer_name(nb_model_optimizer(model)), "Adam");
    int64_t shape[NB_MAX_RANK];
    ck_assert_int_eq(nb_model_input_shape(model, shape), 2);
    ck_assert_int_eq(shape[0], 28);
    ck_assert_int_eq(nb_model_dtype(model), NB_F32);
    /* compiling again replaces the optimizer (the old one is freed) */
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){.optimizer = nb_sgd_default(),
                                                                   .loss = "mse"}),
                     NB_OK);
    ck_assert_str_eq(nb_optimizer_name(nb_model_optimizer(model)), "SGD");
    ck_assert_str_eq(nb_model_loss(model)->name, "mean_squared_error");
    ck_assert_int_eq(nb_model_metric_count(model), 0);
    nb_model_free(model);
}
END_TEST

/* ---- building -------------------------------------------------------------------- */

static nb_tensor *pass_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                               nb_rng *rng)
{
    (void)self;
    (void)training;
    (void)rng;
    return nb_scale(tape, x, 2.0);
}

static const nb_layer_class gated_unit_class = {.type = "GatedUnit", .forward = pass_forward};

START_TEST(custom_and_explicit_names_follow_keras)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_layer_new(&gated_unit_class, NULL, NULL));
    nb_model_add(model, nb_layer_new(&gated_unit_class, NULL, NULL));
    nb_model_add(model, nb_layer_new(&gated_unit_class, "mine", NULL));
    nb_model_add(model, nb_activation_layer(NB_RELU));
    nb_model_add(model, nb_dropout(0.1));
    ck_assert_str_eq(nb_model_layer(model, 0)->name, "gated_unit");
    ck_assert_str_eq(nb_model_layer(model, 1)->name, "gated_unit_1");
    ck_assert_str_eq(nb_model_layer(model, 2)->name, "mine");
    ck_assert_str_eq(nb_model_layer(model, 3)->name, "activation");
    ck_assert_str_eq(nb_model_layer(model, 4)->name, "dropout");
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_int_eq(nb_model_weight_count(model), 0);
    nb_model_free(model);
}
END_TEST

START_TEST(f64_model_builds_f64_weights)
{
    nb_model *model = nb_sequential();
    ck_assert_int_eq(nb_model_set_dtype(model, NB_F64), NB_OK);
    nb_model_set_input_shape(model, NB_SHAPE(2));
    nb_model_add(model, nb_dense(3, NB_RELU));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_int_eq(nb_model_dtype(model), NB_F64);
    ck_assert_int_eq(nb_model_weight(model, 0)->dtype, NB_F64);
    ck_assert_int_eq(nb_model_weight(model, 1)->dtype, NB_F64);
    /* building again is harmless */
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_int_eq(nb_model_weight_count(model), 2);
    nb_model_free(model);
}
END_TEST

START_TEST(input_shape_may_come_after_compile)
{
    nb_tensor *x, *y;
    small_data(&x, &y);
    nb_model *model = nb_sequential();
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                                                 .optimizer = nb_sgd_default(),
                                                 .loss = "categorical_crossentropy"}),
                     NB_OK);
    ck_assert_int_eq(nb_model_weight_count(model), 0);
    ck_assert_int_eq(nb_model_set_input_shape(model, NB_SHAPE(4)), NB_OK);
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    nb_fit_options fit = nb_test_quiet_fit(1, 32);
    nb_history *history = nb_model_fit(model, x, y, &fit);
    ck_assert_msg(history != NULL, "fit failed: %s", nb_last_error());
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------- */

START_TEST(add_after_build_is_refused_and_frees_the_layer)
{
    nb_model *model = mnist_mlp();
    ck_assert_int_eq(nb_model_add(model, nb_dense(5, NB_RELU)), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_add: the model is already built: add every layer before "
                             "compiling");
    ck_assert_int_eq(nb_model_layer_count(model), 4);
    nb_model_free(model); /* ASan and valgrind: the refused Dense did not leak */
}
END_TEST

START_TEST(add_to_a_null_model_frees_the_layer)
{
    ck_assert_int_eq(nb_model_add(NULL, nb_dense(5, NB_RELU)), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_add: model is NULL");
}
END_TEST

START_TEST(add_of_a_failed_constructor_keeps_its_message)
{
    nb_model *model = nb_sequential();
    ck_assert_int_eq(nb_model_add(model, nb_dense(0, NB_RELU)), NB_ERR_ARG);
    ck_assert_error_contains("nb_dense: units is 0: expected at least 1");
    ck_assert_int_eq(nb_model_add(model, nb_dropout(2.0)), NB_ERR_ARG);
    ck_assert_error_contains("nb_dropout: rate is 2");
    nb_clear_error();
    ck_assert_int_eq(nb_model_add(model, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_add: layer is NULL");
    ck_assert_int_eq(nb_model_layer_count(model), 0);
    nb_model_free(model);
}
END_TEST

START_TEST(add_of_a_layer_already_in_the_model_is_refused)
{
    nb_model *model = nb_sequential();
    nb_layer *dense = nb_dense(4, NB_RELU);
    ck_assert_int_eq(nb_model_add(model, dense), NB_OK);
    ck_assert_int_eq(nb_model_add(model, dense), NB_ERR_ARG);
    ck_assert_error_contains("nb_model_add: layer 'dense' is already in this model");
    ck_assert_int_eq(nb_model_layer_count(model), 1);
    ck_assert_ptr_eq(nb_model_layer(model, 0), dense); /* still there, freed once below */
    nb_model_free(model);
}
END_TEST

START_TEST(add_of_a_layer_in_another_model_is_refused_and_freed_once)
{
    nb_model *a = nb_sequential(), *b = nb_sequential();
    nb_layer *dense = nb_dense(4, NB_RELU);
    ck_assert_int_eq(nb_model_add(a, dense), NB_OK);
    ck_assert_int_eq(nb_model_add(b, dense), NB_ERR_ARG);
    ck_assert_error_contains("nb_model_add: layer 'dense' is already in another model");
    ck_assert_int_eq(nb_model_layer_count(b), 0);
    ck_assert_int_eq(nb_model_add(NULL, dense), NB_ERR_ARG); /* not freed either */
    ck_assert_int_eq(nb_model_layer_count(a), 1);
    nb_model_free(b);
    nb_model_free(a); /* frees the layer, once (the sanitizers would say) */
}
END_TEST

/* Auto-names skip names given by hand: a Dense named "dense_1" by hand,
 * then three Dense, are dense_1, dense, dense_2, dense_3 (counting the
 * Dense layers would name the second one dense_1 too). */
START_TEST(auto_names_skip_names_given_by_hand)
{
    nb_model *model = nb_sequential();
    nb_layer *named = nb_dense(2, NB_RELU);
    snprintf(named->name, sizeof named->name, "dense_1");
    ck_assert_int_eq(nb_model_add(model, named), NB_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(nb_model_add(model, nb_dense(2, NB_RELU)), NB_OK);
    const char *expected[] = {"dense_1", "dense", "dense_2", "dense_3"};
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(nb_model_layer(model, i)->name, expected[i]);
    nb_model_free(model);
}
END_TEST

START_TEST(add_of_a_layer_built_elsewhere_is_refused)
{
    nb_model *model = nb_sequential();
    nb_layer *dense = nb_dense(4, NB_RELU);
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    nb_layer_build(dense, NB_SHAPE(3), NB_F32, &rng);
    ck_assert_int_eq(nb_model_add(model, dense), NB_ERR_STATE);
    ck_assert_error_contains("is already built");
    ck_assert_int_eq(nb_model_layer_count(model), 0);
    nb_model_free(model); /* the model took the layer and freed it */
}
END_TEST

START_TEST(fit_without_input_shape_says_the_model_is_not_built)
{
    nb_tensor *x, *y;
    small_data(&x, &y);
    nb_model *model = nb_sequential();
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                                                 .optimizer = nb_adam_default(),
                                                 .loss = "categorical_crossentropy"}),
                     NB_OK);
    nb_fit_options fit = nb_test_quiet_fit(1, 8);
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_fit: the model is not built: set its input shape and "
                             "compile it first");
    ck_assert_int_eq(nb_model_build(model), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_build: the input shape is not set: call "
                             "nb_model_set_input_shape first");
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(fit_before_compile_is_an_error)
{
    nb_tensor *x, *y;
    small_data(&x, &y);
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(4));
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    nb_fit_options fit = nb_test_quiet_fit(1, 8);
    ck_assert_ptr_null(nb_model_fit(model, x, y, &fit));
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_fit: the model is not compiled: call nb_model_compile first");
    nb_logs logs;
    ck_assert_int_eq(nb_model_evaluate(model, x, y, 8, &logs), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_evaluate: the model is not compiled");
    /* predict needs no compile */
    nb_tensor *p = nb_model_predict(model, x, 0);
    ck_assert_ptr_nonnull(p);
    nb_tensor_free(p);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(unknown_loss_or_metric_name_is_an_error)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(4));
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    ck_assert_int_ne(nb_model_compile(model, &(nb_compile_options){.optimizer = nb_adam_default(),
                                                                   .loss = "hinge"}),
                     NB_OK);
    ck_assert_error_contains("hinge");
    ck_assert_ptr_null(nb_model_loss(model));
    ck_assert_int_ne(nb_model_compile(model, &(nb_compile_options){
                                                 .optimizer = nb_adam_default(),
                                                 .loss = "categorical_crossentropy",
                                                 .metrics = {"accuracy", "f1_score"}}),
                     NB_OK);
    ck_assert_error_contains("f1_score");
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){.optimizer = nb_adam_default()}),
                     NB_ERR_ARG);
    ck_assert_error_contains("nb_model_compile: no loss: set loss (a name) or custom_loss");
    nb_model_free(model); /* the optimizers of the failed compiles did not leak */
}
END_TEST

START_TEST(compile_frees_the_optimizer_on_every_error)
{
    ck_assert_int_eq(nb_model_compile(NULL, &(nb_compile_options){.optimizer = nb_adam_default(),
                                                                  .loss = "mse"}),
                     NB_ERR_NULL);
    ck_assert_error_contains("nb_model_compile: model is NULL");
    nb_model *model = nb_sequential();
    ck_assert_int_eq(nb_model_compile(model, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_compile: options is NULL");
    /* a failed optimizer constructor: its message is kept */
    ck_assert_int_ne(nb_model_compile(model, &(nb_compile_options){.optimizer = nb_adam(-1, 0.9,
                                                                                        0.999, 1e-7),
                                                                   .loss = "mse"}),
                     NB_OK);
    ck_assert_error_contains("learning");
    nb_clear_error();
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){.loss = "mse"}), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_compile: optimizer is NULL");
    nb_model_free(model);
}
END_TEST

START_TEST(set_weights_checks_count_and_shapes)
{
    nb_model *model = small_model(1, false);
    nb_tensor *w[4];
    for (int i = 0; i < 4; i++)
        w[i] = nb_tensor_copy(nb_model_weight(model, i), NB_F32);
    const nb_tensor *const *weights = (const nb_tensor *const *)w;
    ck_assert_int_eq(nb_model_set_weights(model, 3, weights), NB_ERR_ARG);
    ck_assert_error_contains("nb_model_set_weights: got 3 tensors: the model has 4 weights");
    const nb_tensor *swapped[] = {w[0], w[1], w[3], w[2]};
    ck_assert_int_eq(nb_model_set_weights(model, 4, swapped), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_model_set_weights: weight 2 (dense_1/kernel) is [3]: expected [8, 3]");
    const nb_tensor *with_null[] = {w[0], NULL, w[2], w[3]};
    ck_assert_int_eq(nb_model_set_weights(model, 4, with_null), NB_ERR_NULL);
    ck_assert_error_contains("weight 1 is NULL");
    ck_assert_int_eq(nb_model_set_weights(model, 4, NULL), NB_ERR_NULL);
    ck_assert_int_eq(nb_model_set_weights(NULL, 4, weights), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_set_weights: model is NULL");
    nb_model *unbuilt = nb_sequential();
    ck_assert_int_eq(nb_model_set_weights(unbuilt, 4, weights), NB_ERR_STATE);
    ck_assert_error_contains("the model is not built");
    /* nothing was written by the refused calls: a failed check happens
     * before any copy */
    nb_tensor_fill(w[0], 9.0);
    ck_assert_int_eq(nb_model_set_weights(model, 4, swapped), NB_ERR_SHAPE);
    ck_assert_double_ne(nb_tensor_get(nb_model_weight(model, 0), 0), 9.0);
    nb_model_free(unbuilt);
    for (int i = 0; i < 4; i++)
        nb_tensor_free(w[i]);
    nb_model_free(model);
}
END_TEST

START_TEST(null_model_is_an_error_everywhere)
{
    int64_t shape[NB_MAX_RANK];
    ck_assert_int_eq(nb_model_set_input_shape(NULL, NB_SHAPE(2)), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_set_input_shape: model is NULL");
    ck_assert_int_eq(nb_model_set_seed(NULL, 1), NB_ERR_NULL);
    ck_assert_int_eq(nb_model_set_dtype(NULL, NB_F64), NB_ERR_NULL);
    ck_assert_int_eq(nb_model_build(NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_build: model is NULL");
    ck_assert_int_eq(nb_model_summary(NULL, stdout), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_summary: model is NULL");
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 2));
    ck_assert_ptr_null(nb_model_fit(NULL, x, x, NULL));
    ck_assert_error_contains("nb_model_fit: model is NULL");
    nb_logs logs;
    ck_assert_int_eq(nb_model_evaluate(NULL, x, x, 1, &logs), NB_ERR_NULL);
    ck_assert_error_contains("nb_model_evaluate: model is NULL");
    ck_assert_ptr_null(nb_model_predict(NULL, x, 1));
    ck_assert_error_contains("nb_model_predict: model is NULL");
    ck_assert_ptr_null(nb_model_forward(NULL, NULL, x, false));
    ck_assert_error_contains("nb_model_forward: model is NULL");
    ck_assert_int_eq(nb_model_param_count(NULL), 0);
    ck_assert_int_eq(nb_model_layer_count(NULL), 0);
    ck_assert_int_eq(nb_model_weight_count(NULL), 0);
    ck_assert_ptr_null(nb_model_weight(NULL, 0));
    ck_assert_ptr_null(nb_model_loss(NULL));
    ck_assert_int_eq(nb_model_input_shape(NULL, shape), -1);
    nb_model_stop_training(NULL);
    nb_model_free(NULL);
    nb_tensor_free(x);
}
END_TEST

START_TEST(input_shape_and_dtype_are_checked_and_fixed_by_build)
{
    nb_model *model = nb_sequential();
    int64_t shape[NB_MAX_RANK];
    ck_assert_int_eq(nb_model_input_shape(model, shape), -1);
    ck_assert_int_eq(nb_model_set_input_shape(model, 0, NULL), NB_ERR_SHAPE);
    ck_assert_error_contains("rank 0: expected 1 to 3 (the batch axis takes one more)");
    ck_assert_int_eq(nb_model_set_input_shape(model, NB_SHAPE(1, 2, 3, 4)), NB_ERR_SHAPE);
    ck_assert_int_eq(nb_model_set_input_shape(model, NB_SHAPE(3, 0)), NB_ERR_SHAPE);
    ck_assert_error_contains("dimension 1");
    ck_assert_int_eq(nb_model_set_dtype(model, (nb_dtype)3), NB_ERR_DTYPE);
    ck_assert_int_eq(nb_model_build(model), NB_ERR_STATE);
    ck_assert_int_eq(nb_model_set_input_shape(model, NB_SHAPE(3)), NB_OK);
    ck_assert_int_eq(nb_model_build(model), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_build: the model has no layers");
    ck_assert_int_eq(nb_model_summary(model, stdout), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_summary: the model is not built");
    nb_model_add(model, nb_dense(2, NB_LINEAR));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    ck_assert_int_eq(nb_model_set_input_shape(model, NB_SHAPE(5)), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_set_input_shape: the model is already built");
    ck_assert_int_eq(nb_model_set_dtype(model, NB_F64), NB_ERR_STATE);
    ck_assert_error_contains("nb_model_set_dtype: the model is already built with f32 parameters");
    ck_assert_int_eq(nb_model_summary(model, NULL), NB_ERR_NULL);
    nb_model_free(model);
}
END_TEST

/* ---- weights and seeds --------------------------------------------------------------- */

START_TEST(get_and_set_weights_round_trip)
{
    nb_tensor *x, *y;
    small_data(&x, &y);
    nb_model *model = small_model(3, false);
    int n = nb_model_weight_count(model);
    nb_tensor *saved[4];
    for (int i = 0; i < n; i++)
        saved[i] = nb_tensor_copy(nb_model_weight(model, i), NB_F32);
    nb_tensor *before = nb_model_predict(model, x, 0);
    nb_fit_options fit = nb_test_quiet_fit(2, 16);
    nb_history_free(nb_model_fit(model, x, y, &fit));
    ck_assert_int_ne(memcmp(nb_model_weight(model, 0)->data, saved[0]->data, 32 * sizeof(float)), 0);
    ck_assert_int_eq(nb_model_set_weights(model, n, (const nb_tensor *const *)saved), NB_OK);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(memcmp(nb_model_weight(model, i)->data, saved[i]->data,
                                (size_t)saved[i]->size * sizeof(float)),
                         0);
    nb_tensor *after = nb_model_predict(model, x, 0);
    ck_assert_int_eq(memcmp(before->data, after->data, (size_t)before->size * sizeof(float)), 0);
    /* f64 tensors are converted into the f32 weights */
    nb_tensor *w64[4];
    for (int i = 0; i < n; i++) {
        w64[i] = nb_tensor_copy(saved[i], NB_F64);
        nb_tensor_fill(w64[i], 0.25);
    }
    ck_assert_int_eq(nb_model_set_weights(model, n, (const nb_tensor *const *)w64), NB_OK);
    ck_assert_double_eq(nb_tensor_get(nb_model_weight(model, 3), 2), 0.25);
    for (int i = 0; i < n; i++) {
        nb_tensor_free(saved[i]);
        nb_tensor_free(w64[i]);
    }
    nb_tensor_free(before);
    nb_tensor_free(after);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(same_seed_gives_identical_weights_and_history)
{
    nb_tensor *x, *y;
    small_data(&x, &y);
    nb_model *a = small_model(1234, true), *b = small_model(1234, true);
    ck_assert(nb_test_same_weights(a, b));
    nb_fit_options fit = nb_test_quiet_fit(3, 10);
    fit.validation_split = 0.25;
    nb_history *ha = nb_model_fit(a, x, y, &fit);
    nb_history *hb = nb_model_fit(b, x, y, &fit);
    ck_assert_ptr_nonnull(ha);
    ck_assert_ptr_nonnull(hb);
    ck_assert_int_eq(ha->epochs, 3);
    ck_assert_int_eq(hb->epochs, 3);
    for (int e = 0; e < 3; e++) {
        ck_assert_int_eq(ha->logs[e].n, 4);
        ck_assert_int_eq(hb->logs[e].n, 4);
        for (int k = 0; k < ha->logs[e].n; k++) {
            ck_assert_str_eq(ha->logs[e].names[k], hb->logs[e].names[k]);
            ck_assert_msg(ha->logs[e].values[k] == hb->logs[e].values[k],
                          "epoch %d %s: %.17g vs %.17g", e + 1, ha->logs[e].names[k],
                          ha->logs[e].values[k], hb->logs[e].values[k]);
        }
    }
    ck_assert(nb_test_same_weights(a, b));
    nb_history_free(ha);
    nb_history_free(hb);
    nb_model_free(a);
    nb_model_free(b);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(different_seeds_give_different_weights)
{
    nb_model *a = small_model(1, false), *b = small_model(2, false);
    for (int i = 0; i < nb_model_weight_count(a); i += 2) /* the kernels; biases are zeros */
        ck_assert_int_ne(memcmp(nb_model_weight(a, i)->data, nb_model_weight(b, i)->data,
                                (size_t)nb_model_weight(a, i)->size * sizeof(float)),
                         0);
    nb_model_free(a);
    nb_model_free(b);
}
END_TEST

START_TEST(adding_dropout_keeps_the_initial_weights)
{
    nb_model *plain = small_model(5, false), *dropped = small_model(5, true);
    ck_assert(nb_test_same_weights(plain, dropped));
    nb_model_free(plain);
    nb_model_free(dropped);
}
END_TEST

static Suite *sequential_suite(void)
{
    Suite *s = suite_create("sequential");
    TCase *tc = tcase_create("mnist_mlp");
    tcase_add_test(tc, reference_mnist_mlp_has_109386_params);
    tcase_add_test(tc, summary_lists_names_output_shapes_and_counts);
    tcase_add_test(tc, layers_are_named_after_their_type_and_numbered);
    tcase_add_test(tc, weights_are_every_layers_params_in_order);
    tcase_add_test(tc, compile_sets_loss_metrics_and_optimizer);
    suite_add_tcase(s, tc);
    tc = tcase_create("building");
    tcase_add_test(tc, custom_and_explicit_names_follow_keras);
    tcase_add_test(tc, f64_model_builds_f64_weights);
    tcase_add_test(tc, input_shape_may_come_after_compile);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, add_after_build_is_refused_and_frees_the_layer);
    tcase_add_test(tc, add_to_a_null_model_frees_the_layer);
    tcase_add_test(tc, add_of_a_failed_constructor_keeps_its_message);
    tcase_add_test(tc, add_of_a_layer_already_in_the_model_is_refused);
    tcase_add_test(tc, add_of_a_layer_built_elsewhere_is_refused);
    tcase_add_test(tc, add_of_a_layer_in_another_model_is_refused_and_freed_once);
    tcase_add_test(tc, auto_names_skip_names_given_by_hand);
    tcase_add_test(tc, fit_without_input_shape_says_the_model_is_not_built);
    tcase_add_test(tc, fit_before_compile_is_an_error);
    tcase_add_test(tc, unknown_loss_or_metric_name_is_an_error);
    tcase_add_test(tc, compile_frees_the_optimizer_on_every_error);
    tcase_add_test(tc, set_weights_checks_count_and_shapes);
    tcase_add_test(tc, null_model_is_an_error_everywhere);
    tcase_add_test(tc, input_shape_and_dtype_are_checked_and_fixed_by_build);
    suite_add_tcase(s, tc);
    tc = tcase_create("weights");
    tcase_add_test(tc, get_and_set_weights_round_trip);
    tcase_add_test(tc, same_seed_gives_identical_weights_and_history);
    tcase_add_test(tc, different_seeds_give_different_weights);
    tcase_add_test(tc, adding_dropout_keeps_the_initial_weights);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(sequential_suite)
