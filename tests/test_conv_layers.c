/* Tests for the convolution and pooling layers (src/nn/conv_layers.c,
 * src/nn/pool_layers.c): shapes and parameter counts as Keras's summary
 * shows them, values against the ops, config round trips and the model
 * file. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nb_test.h"

/* The Keras MNIST convnet (examples/mnist_cnn.c) */
static nb_model *mnist_convnet(void)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(28, 28, 1));
    nb_model_add(model, nb_conv2d_layer(32, 3, 1, NB_PADDING_VALID, NB_RELU));
    nb_model_add(model, nb_max_pooling2d(2, 0, NB_PADDING_VALID));
    nb_model_add(model, nb_conv2d_layer(64, 3, 1, NB_PADDING_VALID, NB_RELU));
    nb_model_add(model, nb_max_pooling2d(2, 0, NB_PADDING_VALID));
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dropout(0.5));
    nb_model_add(model, nb_dense(10, NB_SOFTMAX));
    ck_assert_msg(nb_model_build(model) == NB_OK, "%s", nb_last_error());
    return model;
}

#define ck_assert_has(text, line)                                                            \
    ck_assert_msg(strstr((text), (line)) != NULL, "no \"%s\" in\n%s", (line), (text))

START_TEST(the_mnist_convnet_summary_shows_keras_shapes_and_counts)
{
    nb_model *model = mnist_convnet();
    char *text = nb_test_summary(model);
    ck_assert_has(text, " conv2d (Conv2D)             (None, 26, 26, 32)        320 ");
    ck_assert_has(text, " max_pooling2d (MaxPooling2D (None, 13, 13, 32)        0 ");
    ck_assert_has(text, " conv2d_1 (Conv2D)           (None, 11, 11, 64)        18,496 ");
    ck_assert_has(text, " max_pooling2d_1 (MaxPooling (None, 5, 5, 64)          0 ");
    ck_assert_has(text, " flatten (Flatten)           (None, 1600)              0 ");
    ck_assert_has(text, " dense (Dense)               (None, 10)                16,010 ");
    ck_assert_has(text, "Total params: 34,826\n");
    free(text);
    ck_assert_int_eq(nb_model_param_count(model), 34826);
    nb_layer *conv = nb_model_layer(model, 0);
    ck_assert_str_eq(conv->param_names[0], "kernel");
    ck_assert_str_eq(conv->param_names[1], "bias");
    nb_test_assert_shape("kernel", conv->params[0], 4, (int64_t[]){3, 3, 1, 32});
    nb_model_free(model);
}
END_TEST

START_TEST(conv2d_kernel_starts_glorot_uniform_with_keras_fans)
{
    /* fan_in 3*3*4 = 36, fan_out 3*3*8 = 72: limit sqrt(6 / 108) */
    nb_layer *conv = nb_conv2d_layer(8, 3, 1, NB_PADDING_SAME, NB_LINEAR);
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    ck_assert_int_eq(nb_layer_build(conv, NB_SHAPE(5, 5, 4), NB_F64, &rng), NB_OK);
    double limit = sqrt(6.0 / 108.0), largest = 0;
    for (int64_t i = 0; i < conv->params[0]->size; i++)
        largest = fmax(largest, fabs(nb_tensor_get(conv->params[0], i)));
    ck_assert_double_le(largest, limit);
    ck_assert_double_gt(largest, 0.9 * limit);
    for (int64_t i = 0; i < 8; i++)
        ck_assert_double_eq(nb_tensor_get(conv->params[1], i), 0);
    nb_layer_free(conv);
}
END_TEST

START_TEST(conv_layers_compute_the_op_plus_bias_then_the_activation)
{
    nb_layer *conv = nb_conv2d_layer_with(&(nb_conv_options){
        .filters = 2, .kernel_size = {2, 3}, .strides = {1, 2}, .padding = NB_PADDING_SAME,
        .activation = NB_RELU});
    nb_rng rng;
    nb_rng_seed(&rng, 2);
    ck_assert_int_eq(nb_layer_build(conv, NB_SHAPE(4, 5, 3), NB_F64, &rng), NB_OK);
    ck_assert_int_eq(conv->out_rank, 3);
    ck_assert(conv->out_shape[0] == 4 && conv->out_shape[1] == 3 && conv->out_shape[2] == 2);
    nb_tensor_fill(conv->params[1], 0.25);
    nb_tensor *x = nb_test_keep(nb_test_uniform(NB_F64, NB_SHAPE(2, 4, 5, 3), -1, 1, 3));
    nb_tensor *y = nb_test_keep(nb_layer_forward(conv, NULL, x, false, &rng));
    nb_conv2d_options geometry = {{1, 2}, {1, 1}, NB_PADDING_SAME};
    nb_tensor *z = nb_test_keep(nb_conv2d_with(NULL, x, conv->params[0], geometry));
    nb_test_assert_shape("y", y, 4, (int64_t[]){2, 4, 3, 2});
    for (int64_t i = 0; i < y->size; i++)
        ck_assert_double_eq_tol(nb_tensor_get(y, i), fmax(nb_tensor_get(z, i) + 0.25, 0), 1e-12);
    nb_layer_free(conv);

    nb_layer *c1 = nb_conv1d_layer(4, 3, 2, NB_PADDING_VALID, NB_LINEAR);
    ck_assert_int_eq(nb_layer_build(c1, NB_SHAPE(9, 2), NB_F32, &rng), NB_OK);
    nb_test_assert_shape("conv1d kernel", c1->params[0], 3, (int64_t[]){3, 2, 4});
    ck_assert(c1->out_rank == 2 && c1->out_shape[0] == 4 && c1->out_shape[1] == 4);
    nb_layer_free(c1);
}
END_TEST

START_TEST(pooling_layers_default_their_strides_to_the_pool)
{
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    struct {
        nb_layer *layer;
        int rank;
        int64_t in[3];
        int out_rank;
        int64_t out[3];
    } cases[] = {
        {nb_max_pooling2d(2, 0, NB_PADDING_VALID), 3, {5, 7, 3}, 3, {2, 3, 3}},
        {nb_average_pooling2d(3, 1, NB_PADDING_SAME), 3, {5, 7, 3}, 3, {5, 7, 3}},
        {nb_average_pooling2d(2, 0, NB_PADDING_SAME), 3, {5, 7, 3}, 3, {3, 4, 3}},
        {nb_global_average_pooling2d(), 3, {5, 7, 3}, 1, {3}},
        {nb_max_pooling1d(2, 0, NB_PADDING_SAME), 2, {7, 3}, 2, {4, 3}},
        {nb_average_pooling1d(3, 2, NB_PADDING_VALID), 2, {7, 3}, 2, {3, 3}},
        {nb_global_average_pooling1d(), 2, {7, 3}, 1, {3}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nb_layer *l = cases[i].layer;
        ck_assert_msg(nb_layer_build(l, cases[i].rank, cases[i].in, NB_F32, &rng) == NB_OK,
                      "%s", nb_last_error());
        ck_assert_int_eq(l->out_rank, cases[i].out_rank);
        for (int d = 0; d < l->out_rank; d++)
            ck_assert_int_eq(l->out_shape[d], cases[i].out[d]);
        ck_assert_int_eq(nb_layer_param_count(l), 0);
        nb_layer_free(l);
    }
}
END_TEST

START_TEST(layers_of_bad_arguments_or_shapes_are_errors)
{
    ck_assert_ptr_null(nb_conv2d_layer(0, 3, 1, NB_PADDING_VALID, NB_RELU));
    ck_assert_error_contains("nb_conv2d_layer: filters is 0: expected at least 1");
    ck_assert_ptr_null(nb_conv2d_layer(4, 0, 1, NB_PADDING_VALID, NB_RELU));
    ck_assert_error_contains("nb_conv2d_layer: kernel_size is 0: expected at least 1");
    ck_assert_ptr_null(nb_conv1d_layer(4, 3, -1, NB_PADDING_VALID, NB_RELU));
    ck_assert_error_contains("nb_conv1d_layer: strides is -1: expected at least 1");
    ck_assert_ptr_null(nb_max_pooling2d(0, 0, NB_PADDING_VALID));
    ck_assert_error_contains("nb_max_pooling2d: pool_size is 0: expected at least 1");
    ck_assert_ptr_null(nb_average_pooling1d(2, 2, (nb_padding)3));
    ck_assert_error_contains("nb_average_pooling1d: padding 3 is not NB_PADDING_VALID");

    nb_rng rng;
    nb_rng_seed(&rng, 4);
    nb_layer *conv = nb_conv2d_layer(4, 3, 1, NB_PADDING_VALID, NB_RELU);
    ck_assert_int_ne(nb_layer_build(conv, NB_SHAPE(28, 28), NB_F32, &rng), NB_OK);
    ck_assert_error_contains("Conv2D layer '': input [28, 28] per sample: expected "
                             "[height, width, channels]");
    ck_assert_int_ne(nb_layer_build(conv, NB_SHAPE(2, 8, 1), NB_F32, &rng), NB_OK);
    ck_assert_error_contains("Conv2D layer '': input [2, 8, 1] per sample is smaller than the "
                             "window (3 after dilation) with padding valid");
    nb_layer_free(conv);
    nb_layer *pool = nb_max_pooling1d(4, 0, NB_PADDING_VALID);
    ck_assert_int_ne(nb_layer_build(pool, NB_SHAPE(3, 2), NB_F32, &rng), NB_OK);
    ck_assert_error_contains("MaxPooling1D layer '': input [3, 2] per sample is smaller than "
                             "the pool (4) with padding valid");
    nb_layer_free(pool);
}
END_TEST

/* ---- configs and the model file ------------------------------------------ */

/* A model of every class in this file, in f64, on [9, 8, 2] images. */
static nb_model *every_conv_layer(void)
{
    nb_model *model = nb_sequential();
    nb_model_set_dtype(model, NB_F64);
    nb_model_set_input_shape(model, NB_SHAPE(9, 8, 2));
    nb_model_add(model, nb_conv2d_layer_with(&(nb_conv_options){
                            .filters = 3, .kernel_size = {3, 2}, .strides = {2, 1},
                            .dilation_rate = {1, 2}, .padding = NB_PADDING_SAME,
                            .activation = NB_TANH, .kernel_initializer = NB_HE_NORMAL}));
    nb_model_add(model, nb_average_pooling2d(2, 1, NB_PADDING_SAME)); /* [5, 8, 3] */
    nb_model_add(model, nb_max_pooling2d(2, 0, NB_PADDING_SAME));     /* [3, 4, 3] */
    nb_model_add(model, nb_reshape_layer(NB_SHAPE(12, 3)));
    nb_model_add(model, nb_conv1d_layer_with(&(nb_conv_options){
                            .filters = 4, .kernel_size = {3}, .no_bias = true}));
    nb_model_add(model, nb_max_pooling1d(2, 1, NB_PADDING_VALID));    /* [9, 4] */
    nb_model_add(model, nb_average_pooling1d(3, 0, NB_PADDING_VALID)); /* [3, 4] */
    nb_model_add(model, nb_reshape_layer(NB_SHAPE(3, 1, 4)));
    nb_model_add(model, nb_global_average_pooling2d());              /* [4] */
    ck_assert_msg(nb_model_build(model) == NB_OK, "%s", nb_last_error());
    return model;
}

START_TEST(conv_layers_save_and_load_with_the_model)
{
    nb_model *model = every_conv_layer();
    char *dir = nb_test_make_dir("conv_layers");
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ck_assert_msg(nb_model_save(model, path, false) == NB_OK, "%s", nb_last_error());
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    ck_assert(nb_test_same_weights(model, loaded));
    char *a_text = nb_test_summary(model), *b_text = nb_test_summary(loaded);
    ck_assert_str_eq(a_text, b_text);
    free(a_text);
    free(b_text);
    nb_tensor *x = nb_test_keep(nb_test_uniform(NB_F64, NB_SHAPE(2, 9, 8, 2), -1, 1, 5));
    nb_tensor *a = nb_test_keep(nb_model_predict(model, x, 2));
    nb_tensor *b = nb_test_keep(nb_model_predict(loaded, x, 2));
    nb_test_assert_shape("prediction", a, 2, (int64_t[]){2, 4});
    for (int64_t i = 0; i < a->size; i++)
        ck_assert_double_eq(nb_tensor_get(a, i), nb_tensor_get(b, i));
    nb_model_free(loaded);
    nb_model_free(model);
    nb_test_remove_dir(dir);
}
END_TEST

START_TEST(conv_configs_round_trip)
{
    nb_model *model = every_conv_layer();
    for (int i = 0; i < nb_model_layer_count(model); i++) {
        nb_layer *layer = nb_model_layer(model, i);
        cJSON *json = cJSON_CreateObject();
        if (layer->cls->config)
            ck_assert_int_eq(layer->cls->config(layer, json), NB_OK);
        nb_layer *copy = layer->cls->from_config(json);
        ck_assert_msg(copy != NULL, "%s: %s", layer->cls->type, nb_last_error());
        cJSON *again = cJSON_CreateObject();
        if (copy->cls->config)
            ck_assert_int_eq(copy->cls->config(copy, again), NB_OK);
        char *a = cJSON_PrintUnformatted(json), *b = cJSON_PrintUnformatted(again);
        ck_assert_str_eq(a, b);
        if (i == 0)
            ck_assert_str_eq(a, "{\"filters\":3,\"kernel_size\":[3,2],\"strides\":[2,1],"
                                "\"padding\":\"same\",\"dilation_rate\":[1,2],"
                                "\"activation\":\"tanh\",\"use_bias\":true,"
                                "\"kernel_initializer\":\"he_normal\","
                                "\"bias_initializer\":\"zeros\"}");
        if (i == 2)
            ck_assert_str_eq(a, "{\"pool_size\":[2,2],\"strides\":[2,2],\"padding\":\"same\"}");
        free(a);
        free(b);
        cJSON_Delete(json);
        cJSON_Delete(again);
        nb_layer_free(copy);
    }
    nb_model_free(model);
}
END_TEST

static Suite *conv_layers_suite(void)
{
    Suite *s = suite_create("conv_layers");
    TCase *tc = tcase_create("layers");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, the_mnist_convnet_summary_shows_keras_shapes_and_counts);
    tcase_add_test(tc, conv2d_kernel_starts_glorot_uniform_with_keras_fans);
    tcase_add_test(tc, conv_layers_compute_the_op_plus_bias_then_the_activation);
    tcase_add_test(tc, pooling_layers_default_their_strides_to_the_pool);
    tcase_add_test(tc, layers_of_bad_arguments_or_shapes_are_errors);
    tcase_add_test(tc, conv_layers_save_and_load_with_the_model);
    tcase_add_test(tc, conv_configs_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(conv_layers_suite)
