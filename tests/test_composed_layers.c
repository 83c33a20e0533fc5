/* Tests for the layers composed from the general ops: Dense on the last
 * axis (src/nn/dense.c), Reshape and Permute (src/nn/shape_layers.c),
 * Embedding (src/nn/embedding.c) and LayerNormalization
 * (src/nn/normalization.c). None has backward code: their gradients are
 * checked here in f64 through the ops they record. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nb_test.h"

/* layer built for one sample shape in f64 (asserted) */
static nb_layer *built(nb_layer *layer, int rank, const int64_t *shape, uint64_t seed)
{
    ck_assert_ptr_nonnull(layer);
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    ck_assert_msg(nb_layer_build(layer, rank, shape, NB_F64, &rng) == NB_OK, "%s",
                  nb_last_error());
    return layer;
}

/* the output of a layer on x, caller-owned */
static nb_tensor *forward(nb_layer *layer, nb_tensor *x)
{
    nb_tensor *y = nb_layer_forward(layer, NULL, x, false, NULL);
    ck_assert_msg(y != NULL, "%s", nb_last_error());
    return y;
}

/* ---- Dense on the last axis ---------------------------------------------- */

START_TEST(dense_on_a_sequence_acts_on_each_step)
{
    nb_layer *layer = built(nb_dense(2, NB_TANH), NB_SHAPE(3, 4), 1);
    ck_assert_int_eq(layer->out_rank, 2);
    ck_assert_int_eq(layer->out_shape[1], 2);
    ck_assert_int_eq(nb_layer_param_count(layer), 4 * 2 + 2);
    nb_tensor_fill(layer->params[1], 0.25); /* a bias that shows */
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3, 4), -1, 1, 7);
    nb_tensor *y = forward(layer, x);
    nb_test_assert_shape("y", y, 3, (int64_t[]){2, 3, 2});
    /* every step is tanh(x[b, t, :] W + bias) with the same W */
    for (int64_t bt = 0; bt < 6; bt++)
        for (int64_t u = 0; u < 2; u++) {
            double sum = 0.25;
            for (int64_t k = 0; k < 4; k++)
                sum += nb_tensor_get(x, bt * 4 + k) * nb_tensor_get(layer->params[0], k * 2 + u);
            ck_assert_double_eq_tol(nb_tensor_get(y, bt * 2 + u), tanh(sum), 1e-14);
        }
    nb_test_gradcheck_layer(layer, x);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_softmax_on_a_sequence_normalises_each_step)
{
    nb_layer *layer = built(nb_dense(5, NB_SOFTMAX), NB_SHAPE(4, 3), 2);
    nb_tensor *x = nb_test_uniform(NB_F64, NB_SHAPE(2, 4, 3), -2, 2, 3);
    nb_tensor *y = forward(layer, x);
    for (int64_t step = 0; step < 8; step++) {
        double sum = 0;
        for (int64_t u = 0; u < 5; u++)
            sum += nb_tensor_get(y, step * 5 + u);
        ck_assert_double_eq_tol(sum, 1.0, 1e-14);
    }
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

/* ---- Reshape and Permute ----------------------------------------------------- */

START_TEST(reshape_layer_infers_its_minus_one_and_keeps_the_values)
{
    nb_layer *layer = built(nb_reshape_layer(NB_SHAPE(3, -1)), NB_SHAPE(2, 6), 0);
    ck_assert_int_eq(layer->out_rank, 2);
    ck_assert_int_eq(layer->out_shape[0], 3);
    ck_assert_int_eq(layer->out_shape[1], 4);
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 2, 6), -1, 1, 4);
    nb_tensor *y = forward(layer, x);
    nb_test_assert_shape("y", y, 3, (int64_t[]){2, 3, 4});
    for (int64_t i = 0; i < x->size; i++)
        ck_assert_double_eq(nb_tensor_get(y, i), nb_tensor_get(x, i));
    nb_test_gradcheck_layer(layer, x);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(reshape_layer_rejects_shapes_that_do_not_fit)
{
    ck_assert_ptr_null(nb_reshape_layer(NB_SHAPE(-1, -1)));
    ck_assert_error_contains("nb_reshape_layer: target shape [-1, -1]: expected positive sizes "
                             "and at most one -1");
    ck_assert_ptr_null(nb_reshape_layer(NB_SHAPE(0, 3)));
    ck_assert_error_contains("target shape [0, 3]");
    ck_assert_ptr_null(nb_reshape_layer(NB_SHAPE(1, 2, 3, 4)));
    ck_assert_error_contains("nb_reshape_layer: rank 4 per sample: expected 1 to 3");
    nb_layer *layer = nb_reshape_layer(NB_SHAPE(5, -1));
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(2, 6), NB_F32, &rng), NB_ERR_SHAPE);
    ck_assert_error_contains("Reshape layer '': a sample of shape [2, 6] (12 values) cannot take "
                             "the shape [5, -1]");
    nb_layer_free(layer);
}
END_TEST

START_TEST(permute_layer_swaps_the_axes_after_the_batch)
{
    nb_layer *layer = built(nb_permute_layer(2, (const int[]){2, 1}), NB_SHAPE(2, 3), 0);
    ck_assert_int_eq(layer->out_shape[0], 3);
    ck_assert_int_eq(layer->out_shape[1], 2);
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 2, 3), -1, 1, 5);
    nb_tensor *y = forward(layer, x);
    nb_test_assert_shape("y", y, 3, (int64_t[]){2, 3, 2});
    for (int64_t b = 0; b < 2; b++)
        for (int64_t i = 0; i < 2; i++)
            for (int64_t j = 0; j < 3; j++)
                ck_assert_double_eq(nb_tensor_at(y, (int64_t[]){b, j, i}),
                                    nb_tensor_at(x, (int64_t[]){b, i, j}));
    nb_test_gradcheck_layer(layer, x);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(permute_layer_rejects_what_is_not_a_permutation)
{
    ck_assert_ptr_null(nb_permute_layer(2, (const int[]){1, 1}));
    ck_assert_error_contains("nb_permute_layer: dims [1, 1]: expected each of 1 to 2 once");
    ck_assert_ptr_null(nb_permute_layer(2, (const int[]){0, 1}));
    ck_assert_error_contains("dims [0, 1]");
    ck_assert_ptr_null(nb_permute_layer(2, NULL));
    ck_assert_error_contains("nb_permute_layer: the shape is NULL");
    nb_layer *layer = nb_permute_layer(2, (const int[]){2, 1});
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(2, 3, 4), NB_F32, &rng), NB_ERR_SHAPE);
    ck_assert_error_contains("Permute layer '': dims has 2 entries but a sample has shape "
                             "[2, 3, 4] (rank 3)");
    nb_layer_free(layer);
}
END_TEST

/* ---- Embedding ----------------------------------------------------------------- */

START_TEST(embedding_picks_rows_and_repeated_indices_add_gradients)
{
    nb_layer *layer = built(nb_embedding(4, 3), NB_SHAPE(3), 9);
    ck_assert_int_eq(nb_layer_param_count(layer), 12);
    ck_assert_str_eq(layer->param_names[0], "embeddings");
    const nb_tensor *table = layer->params[0];
    for (int64_t i = 0; i < table->size; i++)
        ck_assert(fabs(nb_tensor_get(table, i)) <= 0.05);
    /* indices as floats, one sample [2, 0, 2] and one [3, 3, 1] */
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3), (double[]){2, 0, 2, 3, 3, 1});
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, true, NULL);
    nb_test_assert_shape("y", y, 3, (int64_t[]){2, 3, 3});
    for (int64_t p = 0; p < 6; p++)
        for (int64_t k = 0; k < 3; k++)
            ck_assert_double_eq(nb_tensor_get(y, p * 3 + k),
                                nb_tensor_get(table, (int64_t)nb_tensor_get(x, p) * 3 + k));
    ck_assert_int_eq(nb_backward(nb_sum(tape, y)), NB_OK);
    double rows_used[4] = {1, 1, 2, 2}; /* index 2 and 3 twice each */
    for (int64_t r = 0; r < 4; r++)
        ck_assert_double_eq(nb_tensor_grad_get(table, r * 3), rows_used[r]);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(embedding_rejects_bad_sizes_and_indices_out_of_range)
{
    ck_assert_ptr_null(nb_embedding(0, 3));
    ck_assert_error_contains("nb_embedding: input_dim is 0 and output_dim 3: expected both at "
                             "least 1");
    nb_layer *layer = built(nb_embedding(4, 2), NB_SHAPE(2), 0);
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2), (double[]){1, 4});
    ck_assert_ptr_null(nb_layer_forward(layer, NULL, x, false, NULL));
    ck_assert_error_contains("nb_take");
    ck_assert_error_contains("4");
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

/* ---- LayerNormalization --------------------------------------------------------- */

START_TEST(layer_norm_normalises_the_last_axis_with_keras_epsilon)
{
    nb_layer *layer = built(nb_layer_normalization(NB_LAYER_NORM_EPSILON), NB_SHAPE(4), 0);
    ck_assert_int_eq(nb_layer_param_count(layer), 8);
    ck_assert_str_eq(layer->param_names[0], "gamma");
    ck_assert_str_eq(layer->param_names[1], "beta");
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 4), (double[]){1, 2, 3, 6});
    nb_tensor *y = forward(layer, x);
    /* mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5 */
    double sd = sqrt(3.5 + 1e-3);
    nb_test_assert_close("layer norm", y, false,
                         (double[]){-2 / sd, -1 / sd, 0, 3 / sd}, 4);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(layer_norm_gradient_checks_on_a_sequence)
{
    nb_layer *layer = built(nb_layer_normalization(1e-3), NB_SHAPE(3, 5), 0);
    nb_tensor *gamma = layer->params[0], *beta = layer->params[1];
    for (int64_t i = 0; i < 5; i++) {
        nb_tensor_set(gamma, i, 0.5 + 0.25 * (double)i);
        nb_tensor_set(beta, i, 0.1 * (double)i - 0.2);
    }
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3, 5), -2, 2, 11);
    nb_test_gradcheck_layer(layer, x);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(layer_norm_rejects_a_bad_epsilon)
{
    ck_assert_ptr_null(nb_layer_normalization(0));
    ck_assert_error_contains("nb_layer_normalization: epsilon is 0: expected a positive number");
    ck_assert_ptr_null(nb_layer_normalization(NAN));
    ck_assert_error_contains("epsilon is nan");
}
END_TEST


/* ---- BatchNormalization --------------------------------------------------------- */

static nb_tensor *training_fn(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    return nb_layer_forward(user, tape, inputs[0], true, NULL);
}

START_TEST(batch_norm_trains_on_batch_statistics_and_moves_its_averages)
{
    nb_layer *layer = built(nb_batch_normalization(0.99, 1e-3), NB_SHAPE(2), 0);
    ck_assert_int_eq(layer->n_params, 4);
    ck_assert_str_eq(layer->param_names[2], "moving_mean");
    ck_assert_str_eq(layer->param_names[3], "moving_variance");
    ck_assert(layer->param_is_state[2] && layer->param_is_state[3]);
    ck_assert(!layer->params[2]->requires_grad && layer->params[0]->requires_grad);
    /* columns [1, 3] and [2, 6]: means 2 and 4, population variances 1 and 4 */
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2), (double[]){1, 2, 3, 6});
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, true, NULL);
    double s0 = sqrt(1 + 1e-3), s1 = sqrt(4 + 1e-3);
    nb_test_assert_close("training output", y, false, (double[]){-1 / s0, -2 / s1, 1 / s0, 2 / s1},
                         4);
    nb_test_assert_close("moving mean", layer->params[2], false, (double[]){0.02, 0.04}, 2);
    nb_test_assert_close("moving variance", layer->params[3], false,
                         (double[]){0.99 + 0.01, 0.99 + 0.04}, 2);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(batch_norm_predicts_with_its_moving_statistics)
{
    nb_layer *layer = built(nb_batch_normalization(0.99, 1e-3), NB_SHAPE(2), 0);
    nb_tensor_fill(layer->params[2], 1.0);  /* moving mean */
    nb_tensor_fill(layer->params[3], 3.0);  /* moving variance */
    nb_tensor_fill(layer->params[0], 2.0);  /* gamma */
    nb_tensor_fill(layer->params[1], 0.5);  /* beta */
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2), (double[]){4, -2});
    nb_tensor *y = forward(layer, x);
    double sd = sqrt(3 + 1e-3);
    nb_test_assert_close("inference output", y, false,
                         (double[]){3 / sd * 2 + 0.5, -3 / sd * 2 + 0.5}, 2);
    /* inference leaves the moving statistics alone */
    ck_assert_double_eq(nb_tensor_get(layer->params[2], 0), 1.0);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(batch_norm_gradient_checks_in_training_on_a_sequence)
{
    nb_layer *layer = built(nb_batch_normalization(0.9, 1e-3), NB_SHAPE(3, 4), 0);
    for (int64_t i = 0; i < 4; i++) {
        nb_tensor_set(layer->params[0], i, 0.5 + 0.3 * (double)i);
        nb_tensor_set(layer->params[1], i, 0.2 * (double)i);
    }
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3, 4), -2, 2, 13);
    nb_tensor *inputs[] = {x, layer->params[0], layer->params[1]};
    ck_assert_gradcheck(training_fn, 3, inputs, layer);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(batch_norm_rejects_bad_settings)
{
    ck_assert_ptr_null(nb_batch_normalization(1.5, 1e-3));
    ck_assert_error_contains("nb_batch_normalization: momentum is 1.5 and epsilon 0.001: "
                             "expected 0 <= momentum <= 1 and a positive epsilon");
    ck_assert_ptr_null(nb_batch_normalization(0.99, -1));
    ck_assert_error_contains("epsilon -1");
}
END_TEST

/* ---- all of them in a model: summary, training step, save and load ---------------- */

static nb_model *sequence_model(void)
{
    nb_model *model = nb_sequential();
    nb_model_set_dtype(model, NB_F64);
    nb_model_set_input_shape(model, NB_SHAPE(6));
    nb_model_add(model, nb_embedding(10, 4));            /* [6, 4] */
    nb_model_add(model, nb_layer_normalization(1e-3));   /* [6, 4] */
    nb_model_add(model, nb_permute_layer(2, (const int[]){2, 1})); /* [4, 6] */
    nb_model_add(model, nb_dense(3, NB_RELU));           /* [4, 3] */
    nb_model_add(model, nb_batch_normalization(0.99, 1e-3)); /* [4, 3] */
    nb_model_add(model, nb_reshape_layer(NB_SHAPE(-1))); /* [12] */
    nb_model_add(model, nb_dense(2, NB_SOFTMAX));
    ck_assert_msg(nb_model_build(model) == NB_OK, "%s", nb_last_error());
    return model;
}

START_TEST(composed_layers_summarise_save_and_load_in_a_model)
{
    nb_model *model = sequence_model();
    char *text = nb_test_summary(model);
    ck_assert_msg(strstr(text, " embedding (Embedding)       (None, 6, 4)              40 ") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, " permute (Permute)           (None, 4, 6)              0 ") != NULL, "%s", text);
    ck_assert_msg(strstr(text, " dense (Dense)               (None, 4, 3)              21 ") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, " layer_normalization (LayerN (None, 6, 4)              8 ") !=
                      NULL, "%s", text);
    ck_assert_msg(strstr(text, "Trainable params: 101\nNon-trainable params: 6\n") != NULL, "%s",
                  text);
    free(text);
    /* a training step moves the moving statistics, which the file keeps */
    nb_tensor *moving = nb_model_layer(model, 4)->params[2];
    nb_tensor *x_train = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 6),
                                                (double[]){1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1});
    nb_tensor *y_train = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2), (double[]){1, 0, 0, 1});
    ck_assert_int_eq(nb_model_compile(model, &(nb_compile_options){
                         .optimizer = nb_sgd(0.1, 0, false), .loss = "categorical_crossentropy"}),
                     NB_OK);
    nb_fit_options fit = nb_test_quiet_fit(1, 2);
    nb_history *history = nb_model_fit(model, x_train, y_train, &fit);
    ck_assert_msg(history != NULL, "%s", nb_last_error());
    nb_history_free(history);
    ck_assert(nb_tensor_get(moving, 0) != 0.0);
    nb_tensor_free(x_train);
    nb_tensor_free(y_train);
    char dir[] = "/tmp/nabla-composed-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ck_assert_msg(nb_model_save(model, path, false) == NB_OK, "%s", nb_last_error());
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 6),
                                          (double[]){0, 1, 2, 3, 4, 9, 9, 8, 7, 7, 1, 0});
    nb_tensor *a = nb_model_predict(model, x, 2), *b = nb_model_predict(loaded, x, 2);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    for (int64_t i = 0; i < a->size; i++)
        ck_assert_double_eq(nb_tensor_get(a, i), nb_tensor_get(b, i));
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(x);
    nb_model_free(loaded);
    nb_model_free(model);
    unlink(path);
    rmdir(dir);
}
END_TEST

static Suite *composed_layers_suite(void)
{
    Suite *s = suite_create("composed_layers");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, dense_on_a_sequence_acts_on_each_step);
    tcase_add_test(tc, dense_softmax_on_a_sequence_normalises_each_step);
    tcase_add_test(tc, reshape_layer_infers_its_minus_one_and_keeps_the_values);
    tcase_add_test(tc, reshape_layer_rejects_shapes_that_do_not_fit);
    tcase_add_test(tc, permute_layer_swaps_the_axes_after_the_batch);
    tcase_add_test(tc, permute_layer_rejects_what_is_not_a_permutation);
    tcase_add_test(tc, embedding_picks_rows_and_repeated_indices_add_gradients);
    tcase_add_test(tc, embedding_rejects_bad_sizes_and_indices_out_of_range);
    tcase_add_test(tc, layer_norm_normalises_the_last_axis_with_keras_epsilon);
    tcase_add_test(tc, layer_norm_gradient_checks_on_a_sequence);
    tcase_add_test(tc, layer_norm_rejects_a_bad_epsilon);
    tcase_add_test(tc, batch_norm_trains_on_batch_statistics_and_moves_its_averages);
    tcase_add_test(tc, batch_norm_predicts_with_its_moving_statistics);
    tcase_add_test(tc, batch_norm_gradient_checks_in_training_on_a_sequence);
    tcase_add_test(tc, batch_norm_rejects_bad_settings);
    tcase_add_test(tc, composed_layers_summarise_save_and_load_in_a_model);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(composed_layers_suite)
