/* Tests for the Dense layer (src/nn/dense.c): values for hand-chosen weights,
 * activation and bias options, initializers, gradients by gradcheck in f64,
 * configuration and errors. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "nb_test.h"

/* Build a Dense for inputs of `in` features with parameters of `dtype`. */
static nb_layer *built(nb_layer *layer, int64_t in, nb_dtype dtype, uint64_t seed)
{
    ck_assert_msg(layer != NULL, "layer construction failed: %s", nb_last_error());
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    ck_assert_msg(nb_layer_build(layer, NB_SHAPE(in), dtype, &rng) == NB_OK, "build failed: %s",
                  nb_last_error());
    return layer;
}

static void set_values(nb_tensor *t, const double *values)
{
    for (int64_t i = 0; i < t->size; i++)
        nb_tensor_set(t, i, values[i]);
}

/* x [2, 3], W [3, 2], b [2] and y = x W + b, worked by hand:
 *   row 0: [1, 2, 3] W = [1*1 + 2*3 + 3*5, 1*2 + 2*4 + 3*6] = [22, 28] + b
 *   row 1: [-1, 0, 2] W = [-1 + 0 + 10, -2 + 0 + 12]        = [9, 10] + b */
static const double X[] = {1, 2, 3, -1, 0, 2};
static const double W[] = {1, 2, 3, 4, 5, 6};
static const double B[] = {0.5, -30};
static const double XW[] = {22, 28, 9, 10};

static nb_tensor *forward_values(nb_layer *layer, nb_tape *tape)
{
    nb_tensor *x = nb_tape_tensor(tape, layer->dtype, NB_SHAPE(2, 3));
    set_values(x, X);
    nb_tensor *y = nb_layer_forward(layer, tape, x, false, NULL);
    ck_assert_msg(y != NULL, "forward failed: %s", nb_last_error());
    return y;
}

/* ---- forward ------------------------------------------------------------------ */

START_TEST(dense_computes_x_w_plus_b)
{
    nb_dtype dtype = _i == 0 ? NB_F32 : NB_F64;
    nb_layer *layer = built(nb_dense(2, NB_LINEAR), 3, dtype, 0);
    set_values(layer->params[0], W);
    set_values(layer->params[1], B);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = forward_values(layer, tape);
    ck_assert_int_eq(y->rank, 2);
    ck_assert_int_eq(y->shape[0], 2);
    ck_assert_int_eq(y->shape[1], 2);
    ck_assert_int_eq(y->dtype, dtype);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq(nb_tensor_get(y, i), XW[i] + B[i % 2]);
    nb_tape_free(tape);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_applies_its_activation_after_the_bias)
{
    nb_layer *relu = built(nb_dense(2, NB_RELU), 3, NB_F64, 0);
    nb_layer *tanh_layer = built(nb_dense(2, NB_TANH), 3, NB_F64, 0);
    nb_layer *softmax = built(nb_dense(2, NB_SOFTMAX), 3, NB_F64, 0);
    nb_layer *sigmoid = built(nb_dense(2, NB_SIGMOID), 3, NB_F64, 0);
    nb_layer *layers[] = {relu, tanh_layer, softmax, sigmoid};
    nb_tape *tape = nb_tape_new();
    for (int k = 0; k < 4; k++) {
        set_values(layers[k]->params[0], W);
        set_values(layers[k]->params[1], B);
    }
    nb_tensor *r = forward_values(relu, tape);
    ck_assert_double_eq(nb_tensor_get(r, 0), 22.5);
    ck_assert_double_eq(nb_tensor_get(r, 1), 0.0); /* 28 - 30 < 0 */
    ck_assert_double_eq(nb_tensor_get(r, 3), 0.0); /* 10 - 30 < 0 */
    nb_tensor *t = forward_values(tanh_layer, tape);
    ck_assert_double_eq_tol(nb_tensor_get(t, 1), tanh(-2.0), 1e-15);
    nb_tensor *s = forward_values(softmax, tape);
    double z = exp(9.5) + exp(-20.0);
    ck_assert_double_eq_tol(nb_tensor_get(s, 2), exp(9.5) / z, 1e-15);
    ck_assert_double_eq_tol(nb_tensor_get(s, 2) + nb_tensor_get(s, 3), 1.0, 1e-15);
    nb_tensor *g = forward_values(sigmoid, tape);
    ck_assert_double_eq_tol(nb_tensor_get(g, 1), 1.0 / (1.0 + exp(2.0)), 1e-15);
    nb_tape_free(tape);
    for (int k = 0; k < 4; k++)
        nb_layer_free(layers[k]);
}
END_TEST

START_TEST(dense_without_bias_has_only_a_kernel)
{
    nb_layer *layer = built(nb_dense_with(&(nb_dense_options){.units = 2, .no_bias = true}), 3,
                            NB_F64, 0);
    ck_assert_int_eq(layer->n_params, 1);
    ck_assert_str_eq(layer->param_names[0], "kernel");
    ck_assert_int_eq(nb_layer_param_count(layer), 6);
    set_values(layer->params[0], W);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = forward_values(layer, tape);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq(nb_tensor_get(y, i), XW[i]);
    nb_tape_free(tape);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_kernel_is_in_by_units_and_bias_starts_at_zero)
{
    nb_layer *layer = built(nb_dense(7, NB_RELU), 5, NB_F32, 3);
    ck_assert_int_eq(layer->n_params, 2);
    ck_assert_str_eq(layer->param_names[0], "kernel");
    ck_assert_str_eq(layer->param_names[1], "bias");
    nb_tensor *kernel = layer->params[0], *bias = layer->params[1];
    ck_assert_int_eq(kernel->rank, 2);
    ck_assert_int_eq(kernel->shape[0], 5);
    ck_assert_int_eq(kernel->shape[1], 7);
    ck_assert_int_eq(bias->rank, 1);
    ck_assert_int_eq(bias->shape[0], 7);
    ck_assert(kernel->requires_grad && bias->requires_grad);
    ck_assert_int_eq(nb_layer_param_count(layer), 5 * 7 + 7);
    ck_assert_int_eq(layer->out_rank, 1);
    ck_assert_int_eq(layer->out_shape[0], 7);
    double limit = sqrt(6.0 / (5 + 7)), biggest = 0;
    for (int64_t i = 0; i < kernel->size; i++)
        biggest = fmax(biggest, fabs(nb_tensor_get(kernel, i)));
    ck_assert_msg(biggest > 0 && biggest <= limit, "kernel |w| up to %g: expected glorot_uniform "
                  "values within %g", biggest, limit);
    for (int64_t i = 0; i < bias->size; i++)
        ck_assert_double_eq(nb_tensor_get(bias, i), 0.0);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_uses_the_chosen_initializers)
{
    nb_layer *layer = built(nb_dense_with(&(nb_dense_options){
                                .units = 3,
                                .kernel_initializer = NB_ONES,
                                .bias_initializer = NB_ONES}),
                            4, NB_F64, 0);
    for (int64_t i = 0; i < 12; i++)
        ck_assert_double_eq(nb_tensor_get(layer->params[0], i), 1.0);
    for (int64_t i = 0; i < 3; i++)
        ck_assert_double_eq(nb_tensor_get(layer->params[1], i), 1.0);
    nb_layer_free(layer);
    /* he_uniform: |w| <= sqrt(6 / fan_in), well beyond glorot's limit here */
    layer = built(nb_dense_with(&(nb_dense_options){.units = 200,
                                                    .kernel_initializer = NB_HE_UNIFORM}),
                  2, NB_F64, 0);
    double biggest = 0;
    for (int64_t i = 0; i < layer->params[0]->size; i++)
        biggest = fmax(biggest, fabs(nb_tensor_get(layer->params[0], i)));
    ck_assert_double_le(biggest, sqrt(6.0 / 2));
    ck_assert_double_gt(biggest, sqrt(6.0 / 202));
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_weights_depend_only_on_the_seed)
{
    nb_layer *a = built(nb_dense(4, NB_LINEAR), 3, NB_F32, 11);
    nb_layer *b = built(nb_dense(4, NB_LINEAR), 3, NB_F32, 11);
    nb_layer *c = built(nb_dense(4, NB_LINEAR), 3, NB_F32, 12);
    ck_assert_int_eq(memcmp(a->params[0]->data, b->params[0]->data, 12 * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(a->params[0]->data, c->params[0]->data, 12 * sizeof(float)), 0);
    nb_layer_free(a);
    nb_layer_free(b);
    nb_layer_free(c);
}
END_TEST

START_TEST(dense_forward_without_tape_frees_its_intermediates)
{
    /* matmul, add_bias and the activation each make a tensor; only the last
     * goes to the caller (ASan and valgrind report any other) */
    nb_layer *layer = built(nb_dense(2, NB_SIGMOID), 3, NB_F64, 0);
    set_values(layer->params[0], W);
    set_values(layer->params[1], B);
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3), X);
    nb_tensor *y = nb_layer_forward(layer, NULL, x, false, NULL);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_null(y->tape);
    ck_assert_double_eq_tol(nb_tensor_get(y, 0), 1.0 / (1.0 + exp(-22.5)), 1e-15);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

/* ---- gradients ------------------------------------------------------------------ */

typedef struct dense_case {
    nb_layer *layer;
    nb_tensor *x, *target;
} dense_case;

/* mse(dense(x), target): a Dense trained by a loss */
static nb_tensor *dense_loss(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    (void)inputs; /* the inputs are the layer's own tensors, changed in place */
    dense_case *c = user;
    return nb_loss_mse(tape, nb_layer_forward(c->layer, tape, c->x, true, NULL), c->target);
}

/* Dense(units, activation) in f64 on random inputs: check the gradient of a
 * loss with respect to kernel, bias and the input. */
static void check_dense_gradients(nb_activation activation, bool no_bias)
{
    nb_rng rng;
    nb_rng_seed(&rng, 7);
    dense_case c;
    c.layer = built(nb_dense_with(&(nb_dense_options){.units = 4,
                                                      .activation = activation,
                                                      .no_bias = no_bias,
                                                      .bias_initializer = NB_RANDOM_NORMAL}),
                    3, NB_F64, 3);
    c.x = nb_tensor_rand_normal(NB_F64, NB_SHAPE(5, 3), 0, 1, &rng);
    c.target = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(5, 4), 0, 1, &rng);
    nb_tensor_set_requires_grad(c.x, true);
    nb_tensor *inputs[] = {c.layer->params[0], c.x, no_bias ? NULL : c.layer->params[1]};
    nb_gradcheck_report report;
    ck_assert_int_eq(nb_gradcheck(dense_loss, no_bias ? 2 : 3, inputs, &c, NULL, &report), NB_OK);
    if (!report.passed)
        nb_gradcheck_print(&report, stderr);
    ck_assert_msg(report.passed, "%s Dense: gradient check failed (report on stderr)",
                  nb_activation_name(activation));
    for (int i = 0; i < (no_bias ? 2 : 3); i++)
        ck_assert(report.inputs[i].checked);
    nb_tensor_free(c.x);
    nb_tensor_free(c.target);
    nb_layer_free(c.layer);
}

START_TEST(dense_gradients_match_finite_differences_for_every_activation)
{
    check_dense_gradients((nb_activation)_i, false);
}
END_TEST

START_TEST(dense_without_bias_gradients_match_finite_differences)
{
    check_dense_gradients(NB_TANH, true);
}
END_TEST

START_TEST(dense_gradient_of_a_sum_is_x_transposed_times_ones)
{
    /* d sum(x W + b) / dW[i][j] = sum over rows of x[r][i]; / db[j] = rows */
    nb_layer *layer = built(nb_dense(2, NB_LINEAR), 3, NB_F64, 0);
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = nb_sum(tape, forward_values(layer, tape));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    double column_sums[] = {0, 2, 5}; /* 1 - 1, 2 + 0, 3 + 2 */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            ck_assert_double_eq(nb_tensor_grad_get(layer->params[0], 2 * i + j), column_sums[i]);
    ck_assert_double_eq(nb_tensor_grad_get(layer->params[1], 0), 2.0);
    ck_assert_double_eq(nb_tensor_grad_get(layer->params[1], 1), 2.0);
    nb_tape_free(tape);
    nb_layer_free(layer);
}
END_TEST

typedef struct model_case {
    nb_model *model;
    nb_tensor *x, *target;
} model_case;

static nb_tensor *model_loss(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    (void)inputs;
    model_case *c = user;
    return nb_loss_categorical_crossentropy(
        tape, nb_model_forward(c->model, tape, c->x, true), c->target);
}

START_TEST(dense_in_a_model_gradients_match_finite_differences)
{
    /* Dense(5, tanh) -> Dense(3, softmax) in f64, under categorical
     * cross-entropy: every kernel and bias */
    nb_rng rng;
    nb_rng_seed(&rng, 9);
    model_case c = {nb_sequential(), NULL, NULL};
    nb_model_set_dtype(c.model, NB_F64);
    nb_model_set_seed(c.model, 4);
    nb_model_set_input_shape(c.model, NB_SHAPE(4));
    nb_model_add(c.model, nb_dense_with(&(nb_dense_options){
                              .units = 5, .activation = NB_TANH,
                              .bias_initializer = NB_RANDOM_NORMAL}));
    nb_model_add(c.model, nb_dense(3, NB_SOFTMAX));
    ck_assert_int_eq(nb_model_build(c.model), NB_OK);
    ck_assert_int_eq(nb_model_weight_count(c.model), 4);
    c.x = nb_tensor_rand_normal(NB_F64, NB_SHAPE(6, 4), 0, 1, &rng);
    c.target = nb_tensor_zeros(NB_F64, NB_SHAPE(6, 3));
    for (int r = 0; r < 6; r++)
        nb_tensor_set(c.target, 3 * r + r % 3, 1.0);
    nb_tensor *weights[4];
    for (int i = 0; i < 4; i++) {
        weights[i] = nb_model_weight(c.model, i);
        ck_assert_int_eq(weights[i]->dtype, NB_F64);
    }
    ck_assert_gradcheck(model_loss, 4, weights, &c);
    nb_tensor_free(c.x);
    nb_tensor_free(c.target);
    nb_model_free(c.model);
}
END_TEST

/* ---- configuration ---------------------------------------------------------------- */

static cJSON *config_of(const nb_layer *layer)
{
    cJSON *json = cJSON_CreateObject();
    ck_assert_int_eq(layer->cls->config(layer, json), NB_OK);
    return json;
}

START_TEST(dense_config_has_units_activation_bias_and_initializers)
{
    nb_layer *layer = nb_dense_with(&(nb_dense_options){.units = 128,
                                                        .activation = NB_RELU,
                                                        .kernel_initializer = NB_HE_NORMAL,
                                                        .bias_initializer = NB_ONES,
                                                        .no_bias = false});
    cJSON *json = config_of(layer);
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(json, "units")), 128);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json, "activation")), "relu");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(json, "use_bias")));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json, "kernel_initializer")),
                     "he_normal");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json, "bias_initializer")), "ones");
    ck_assert_int_eq(cJSON_GetArraySize(json), 5);
    cJSON_Delete(json);
    nb_layer_free(layer);
    layer = nb_dense_with(&(nb_dense_options){.units = 3, .no_bias = true});
    json = config_of(layer);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(json, "use_bias")));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json, "activation")), "linear");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json, "kernel_initializer")),
                     "glorot_uniform");
    cJSON_Delete(json);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_from_config_round_trips)
{
    nb_layer *layer = nb_dense_with(&(nb_dense_options){.units = 9,
                                                        .activation = NB_SIGMOID,
                                                        .kernel_initializer = NB_LECUN_UNIFORM,
                                                        .bias_initializer = NB_ZEROS,
                                                        .no_bias = true});
    cJSON *json = config_of(layer);
    const nb_layer_class *cls = nb_layer_find_class("Dense");
    nb_layer *copy = cls->from_config(json);
    ck_assert_msg(copy != NULL, "from_config failed: %s", nb_last_error());
    ck_assert_ptr_eq(copy->cls, layer->cls);
    ck_assert(!copy->built);
    cJSON *again = config_of(copy);
    char *a = cJSON_PrintUnformatted(json), *b = cJSON_PrintUnformatted(again);
    ck_assert_str_eq(a, b);
    /* and the copy builds like the original */
    built(layer, 4, NB_F32, 1);
    built(copy, 4, NB_F32, 1);
    ck_assert_int_eq(copy->n_params, 1);
    ck_assert_int_eq(memcmp(layer->params[0]->data, copy->params[0]->data, 36 * sizeof(float)), 0);
    free(a);
    free(b);
    cJSON_Delete(json);
    cJSON_Delete(again);
    nb_layer_free(layer);
    nb_layer_free(copy);
}
END_TEST

START_TEST(dense_from_config_fills_in_defaults)
{
    cJSON *json = cJSON_Parse("{\"units\": 6}");
    nb_layer *layer = nb_layer_find_class("Dense")->from_config(json);
    ck_assert_ptr_nonnull(layer);
    cJSON *config = config_of(layer);
    char *text = cJSON_PrintUnformatted(config);
    ck_assert_str_eq(text, "{\"units\":6,\"activation\":\"linear\",\"use_bias\":true,"
                           "\"kernel_initializer\":\"glorot_uniform\",\"bias_initializer\":\"zeros\"}");
    free(text);
    cJSON_Delete(config);
    cJSON_Delete(json);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_from_config_rejects_bad_fields)
{
    const char *bad[] = {"{}", "{\"units\": 0}", "{\"units\": 2.5}", "{\"units\": \"8\"}",
                         "{\"units\": -3}"};
    const nb_layer_class *cls = nb_layer_find_class("Dense");
    for (int i = 0; i < 5; i++) {
        cJSON *json = cJSON_Parse(bad[i]);
        ck_assert_msg(cls->from_config(json) == NULL, "%s was accepted", bad[i]);
        ck_assert_int_eq(nb_last_status(), NB_ERR_FORMAT);
        ck_assert_error_contains("Dense config: \"units\" is missing or not a positive integer");
        cJSON_Delete(json);
    }
    cJSON *json = cJSON_Parse("{\"units\": 2, \"activation\": \"selu\"}");
    ck_assert_ptr_null(cls->from_config(json));
    ck_assert_error_contains("unknown activation 'selu'");
    cJSON_Delete(json);
    json = cJSON_Parse("{\"units\": 2, \"kernel_initializer\": \"identity\"}");
    ck_assert_ptr_null(cls->from_config(json));
    ck_assert_error_contains("unknown initializer 'identity'");
    cJSON_Delete(json);
}
END_TEST

/* ---- errors ----------------------------------------------------------------------- */

START_TEST(dense_needs_at_least_one_unit)
{
    ck_assert_ptr_null(nb_dense(0, NB_RELU));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_dense: units is 0: expected at least 1");
    ck_assert_ptr_null(nb_dense(-5, NB_RELU));
    ck_assert_error_contains("units is -5");
}
END_TEST

START_TEST(dense_rejects_an_unknown_activation)
{
    ck_assert_ptr_null(nb_dense(3, (nb_activation)17));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_dense: activation 17 is not an nb_activation");
    ck_assert_ptr_null(nb_dense_with(NULL));
    ck_assert_error_contains("nb_dense_with: options is NULL");
}
END_TEST

START_TEST(dense_on_images_acts_on_the_last_axis)
{
    /* Keras 3's Dense on [28, 28] samples: [28, units], one kernel for every row */
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(28, 28));
    nb_model_add(model, nb_dense(10, NB_SOFTMAX));
    ck_assert_int_eq(nb_model_build(model), NB_OK);
    const nb_layer *layer = nb_model_layer(model, 0);
    ck_assert_int_eq(layer->out_rank, 2);
    ck_assert_int_eq(layer->out_shape[0], 28);
    ck_assert_int_eq(layer->out_shape[1], 10);
    ck_assert_int_eq(nb_layer_param_count(layer), 28 * 10 + 10);
    nb_model_free(model);
}
END_TEST

START_TEST(dense_rejects_inputs_of_the_wrong_width)
{
    nb_layer *layer = built(nb_dense(2, NB_LINEAR), 3, NB_F32, 0);
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(4, 5));
    nb_tape *tape = nb_tape_new();
    ck_assert_ptr_null(nb_layer_forward(layer, tape, x, false, NULL));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
    ck_assert_error_contains("Dense layer '': input has shape [4, 5]: expected [-1, 3]");
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dense_with_an_unknown_initializer_is_refused)
{
    nb_layer *layer = nb_dense_with(&(nb_dense_options){.units = 2,
                                                        .kernel_initializer = (nb_initializer)40});
    ck_assert_ptr_null(layer);
    ck_assert_error_contains("nb_dense: initializer 40 is not an nb_initializer");
}
END_TEST

START_TEST(zeroed_dense_options_mean_glorot_kernel_and_zero_bias)
{
    nb_layer *layer = nb_dense_with(&(nb_dense_options){.units = 4});
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(3), NB_F32, &rng), NB_OK);
    const nb_tensor *kernel = layer->params[0], *bias = layer->params[1];
    double limit = sqrt(6.0 / (3 + 4));
    bool any_nonzero = false;
    for (int64_t i = 0; i < kernel->size; i++) {
        ck_assert(fabs(nb_tensor_get(kernel, i)) <= limit);
        any_nonzero = any_nonzero || nb_tensor_get(kernel, i) != 0;
    }
    ck_assert(any_nonzero);
    for (int64_t i = 0; i < bias->size; i++)
        ck_assert_double_eq(nb_tensor_get(bias, i), 0.0);
    nb_layer_free(layer);
}
END_TEST

static Suite *dense_suite(void)
{
    Suite *s = suite_create("dense");
    TCase *tc = tcase_create("forward");
    tcase_add_loop_test(tc, dense_computes_x_w_plus_b, 0, 2);
    tcase_add_test(tc, dense_applies_its_activation_after_the_bias);
    tcase_add_test(tc, dense_without_bias_has_only_a_kernel);
    tcase_add_test(tc, dense_kernel_is_in_by_units_and_bias_starts_at_zero);
    tcase_add_test(tc, dense_uses_the_chosen_initializers);
    tcase_add_test(tc, dense_weights_depend_only_on_the_seed);
    tcase_add_test(tc, dense_forward_without_tape_frees_its_intermediates);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradient");
    tcase_add_loop_test(tc, dense_gradients_match_finite_differences_for_every_activation,
                        NB_LINEAR, NB_ACTIVATION_COUNT);
    tcase_add_test(tc, dense_without_bias_gradients_match_finite_differences);
    tcase_add_test(tc, dense_gradient_of_a_sum_is_x_transposed_times_ones);
    tcase_add_test(tc, dense_in_a_model_gradients_match_finite_differences);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    tcase_add_test(tc, dense_config_has_units_activation_bias_and_initializers);
    tcase_add_test(tc, dense_from_config_round_trips);
    tcase_add_test(tc, dense_from_config_fills_in_defaults);
    tcase_add_test(tc, dense_from_config_rejects_bad_fields);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, dense_needs_at_least_one_unit);
    tcase_add_test(tc, dense_rejects_an_unknown_activation);
    tcase_add_test(tc, dense_on_images_acts_on_the_last_axis);
    tcase_add_test(tc, dense_rejects_inputs_of_the_wrong_width);
    tcase_add_test(tc, dense_with_an_unknown_initializer_is_refused);
    tcase_add_test(tc, zeroed_dense_options_mean_glorot_kernel_and_zero_bias);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(dense_suite)
