/* Tests for the layers without parameters (src/nn/core_layers.c):
 * Activation, Flatten and Dropout. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "nb_test.h"

static nb_layer *built(nb_layer *layer, int rank, const int64_t *shape)
{
    ck_assert_msg(layer != NULL, "layer construction failed: %s", nb_last_error());
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_msg(nb_layer_build(layer, rank, shape, NB_F64, &rng) == NB_OK, "build failed: %s",
                  nb_last_error());
    return layer;
}

static cJSON *config_of(const nb_layer *layer)
{
    cJSON *json = cJSON_CreateObject();
    ck_assert_int_eq(layer->cls->config(layer, json), NB_OK);
    return json;
}

/* ---- Activation --------------------------------------------------------------- */

START_TEST(activation_layer_applies_its_function_elementwise)
{
    nb_layer *layer = built(nb_activation_layer(NB_TANH), NB_SHAPE(2, 2));
    ck_assert_int_eq(nb_layer_param_count(layer), 0);
    ck_assert_int_eq(layer->out_rank, 2);
    ck_assert_int_eq(layer->out_shape[1], 2);
    ck_assert_str_eq(layer->cls->type, "Activation");
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2, 2), (double[]){-2, -0.5, 0, 3});
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, false, NULL);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(y->rank, 3);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(nb_tensor_get(y, i), tanh(nb_tensor_get(x, i)), 1e-15);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(linear_activation_layer_is_the_identity)
{
    nb_layer *layer = built(nb_activation_layer(NB_LINEAR), NB_SHAPE(3));
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 3), (double[]){-1, 0, 1});
    nb_tape *tape = nb_tape_new();
    ck_assert_ptr_eq(nb_layer_forward(layer, tape, x, true, NULL), x);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

static nb_tensor *layer_output(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    return nb_layer_forward(user, tape, inputs[0], true, NULL);
}

START_TEST(activation_layer_gradient_matches_finite_differences)
{
    nb_layer *layer = built(nb_activation_layer(NB_SOFTMAX), NB_SHAPE(4));
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    nb_tensor *x = nb_tensor_rand_normal(NB_F64, NB_SHAPE(3, 4), 0, 1, &rng);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *inputs[] = {x};
    ck_assert_gradcheck(layer_output, 1, inputs, layer);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(activation_layer_config_round_trips)
{
    nb_layer *layer = nb_activation_layer(NB_SIGMOID);
    cJSON *json = config_of(layer);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(json, "activation")), "sigmoid");
    nb_layer *copy = nb_layer_find_class("Activation")->from_config(json);
    ck_assert_ptr_nonnull(copy);
    cJSON *again = config_of(copy);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(again, "activation")), "sigmoid");
    cJSON_Delete(json);
    cJSON_Delete(again);
    nb_layer_free(copy);
    nb_layer_free(layer);
}
END_TEST

START_TEST(activation_layer_rejects_unknown_activations)
{
    ck_assert_ptr_null(nb_activation_layer((nb_activation)18));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    ck_assert_error_contains("nb_activation_layer: activation 18 is not an nb_activation");
    cJSON *json = cJSON_Parse("{\"activation\": \"selu\"}");
    ck_assert_ptr_null(nb_layer_find_class("Activation")->from_config(json));
    ck_assert_error_contains("unknown activation 'selu'");
    cJSON_Delete(json);
    json = cJSON_Parse("{}");
    ck_assert_ptr_null(nb_layer_find_class("Activation")->from_config(json));
    ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
    cJSON_Delete(json);
}
END_TEST

/* ---- Flatten ------------------------------------------------------------------- */

START_TEST(flatten_output_shape_is_the_product_of_the_sample_shape)
{
    nb_layer *layer = built(nb_flatten_layer(), NB_SHAPE(2, 3, 4));
    ck_assert_int_eq(layer->out_rank, 1);
    ck_assert_int_eq(layer->out_shape[0], 24);
    ck_assert_int_eq(nb_layer_param_count(layer), 0);
    ck_assert_str_eq(layer->cls->type, "Flatten");
    nb_layer_free(layer);
    layer = built(nb_flatten_layer(), NB_SHAPE(5));
    ck_assert_int_eq(layer->out_rank, 1);
    ck_assert_int_eq(layer->out_shape[0], 5);
    nb_layer_free(layer);
}
END_TEST

START_TEST(flatten_keeps_row_major_order_per_sample)
{
    nb_layer *layer = built(nb_flatten_layer(), NB_SHAPE(2, 3));
    double values[12];
    for (int i = 0; i < 12; i++)
        values[i] = i;
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2, 3), values);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, false, NULL);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(y->rank, 2);
    ck_assert_int_eq(y->shape[0], 2);
    ck_assert_int_eq(y->shape[1], 6);
    int64_t at[2] = {1, 4}; /* sample 1, element (1, 1) */
    ck_assert_double_eq(nb_tensor_at(y, at), 10.0);
    for (int i = 0; i < 12; i++)
        ck_assert_double_eq(nb_tensor_get(y, i), (double)i);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(flatten_passes_gradients_back_in_the_input_shape)
{
    nb_layer *layer = built(nb_flatten_layer(), NB_SHAPE(2, 2));
    nb_tensor *x = nb_tensor_ones(NB_F64, NB_SHAPE(3, 2, 2));
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *weights = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3, 4),
                                                (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, true, NULL);
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_mul(tape, y, weights))), NB_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_double_eq(nb_tensor_grad_get(x, i), (double)(i + 1));
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(weights);
    nb_layer_free(layer);
}
END_TEST

START_TEST(flatten_config_is_empty_and_from_config_works)
{
    nb_layer *layer = nb_flatten_layer();
    ck_assert(layer->cls->config == NULL);
    nb_layer *copy = nb_layer_find_class("Flatten")->from_config(NULL);
    ck_assert_ptr_nonnull(copy);
    ck_assert_ptr_eq(copy->cls, layer->cls);
    nb_layer_free(copy);
    nb_layer_free(layer);
}
END_TEST

/* ---- Dropout ----------------------------------------------------------------------- */

static double dropout_rate_of(const nb_layer *layer)
{
    cJSON *json = config_of(layer);
    double rate = cJSON_GetNumberValue(cJSON_GetObjectItem(json, "rate"));
    cJSON_Delete(json);
    return rate;
}

START_TEST(dropout_is_the_identity_when_not_training)
{
    nb_layer *layer = built(nb_dropout(0.5), NB_SHAPE(4));
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 4), (double[]){1, 2, 3, 4, 5, 6, 7, 8});
    nb_tape *tape = nb_tape_new();
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    ck_assert_ptr_eq(nb_layer_forward(layer, tape, x, false, &rng), x);
    ck_assert_int_eq(nb_tape_size(tape), 0);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dropout_rate_zero_is_the_identity_in_training)
{
    nb_layer *layer = built(nb_dropout(0.0), NB_SHAPE(4));
    nb_tensor *x = nb_tensor_ones(NB_F64, NB_SHAPE(2, 4));
    nb_tape *tape = nb_tape_new();
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    ck_assert_ptr_eq(nb_layer_forward(layer, tape, x, true, &rng), x);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

enum { DROP_N = 100000 };

START_TEST(dropout_zeroes_about_rate_and_scales_survivors)
{
    /* with 100,000 draws the fraction of zeros has a standard deviation of
     * about 0.0015; 0.01 is more than six of them */
    const double rates[] = {0.1, 0.3, 0.5, 0.8};
    double rate = rates[_i];
    nb_layer *layer = built(nb_dropout(rate), NB_SHAPE(1000));
    nb_rng values_rng, rng;
    nb_rng_seed(&values_rng, 2);
    nb_rng_seed(&rng, 3);
    nb_tensor *x = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(100, 1000), 1, 2, &values_rng);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, true, &rng);
    ck_assert_ptr_nonnull(y);
    int64_t zeros = 0, misscaled = 0;
    for (int64_t i = 0; i < DROP_N; i++) {
        double v = nb_tensor_get(y, i);
        if (v == 0.0)
            zeros++;
        else if (fabs(v - nb_tensor_get(x, i) / (1.0 - rate)) > 1e-5 * fabs(v))
            misscaled++;
    }
    ck_assert_msg(misscaled == 0, "rate %g: %lld survivors are not x / (1 - rate)", rate,
                  (long long)misscaled);
    double fraction = (double)zeros / DROP_N;
    ck_assert_msg(fabs(fraction - rate) < 0.01, "rate %g: %.4f of the outputs are zero", rate,
                  fraction);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dropout_keeps_the_mean_in_expectation)
{
    nb_layer *layer = built(nb_dropout(0.4), NB_SHAPE(1000));
    nb_rng rng;
    nb_rng_seed(&rng, 8);
    nb_tensor *x = nb_tensor_ones(NB_F64, NB_SHAPE(100, 1000));
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, true, &rng);
    /* mean of 1/(1-p) Bernoulli(1-p): 1, standard deviation of the mean
     * sqrt(p / (1-p) / n) = 0.0026 */
    ck_assert_double_eq_tol(nb_tensor_item(nb_mean(tape, y)), 1.0, 0.015);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dropout_masks_follow_the_rng)
{
    nb_layer *layer = built(nb_dropout(0.5), NB_SHAPE(64));
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(4, 64));
    nb_tape *tape = nb_tape_new();
    nb_rng a, b;
    nb_rng_seed(&a, 77);
    nb_rng_seed(&b, 77);
    nb_tensor *ya = nb_layer_forward(layer, tape, x, true, &a);
    nb_tensor *yb = nb_layer_forward(layer, tape, x, true, &b);
    ck_assert_int_eq(memcmp(ya->data, yb->data, 256 * sizeof(float)), 0);
    /* the rng has moved on: the next mask differs */
    nb_tensor *yc = nb_layer_forward(layer, tape, x, true, &a);
    ck_assert_int_ne(memcmp(ya->data, yc->data, 256 * sizeof(float)), 0);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dropout_gradient_passes_only_through_kept_units)
{
    double rate = 0.25;
    nb_layer *layer = built(nb_dropout(rate), NB_SHAPE(50));
    nb_rng rng;
    nb_rng_seed(&rng, 5);
    nb_tensor *x = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(20, 50), 1, 2, &rng);
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_layer_forward(layer, tape, x, true, &rng);
    ck_assert_int_eq(nb_backward(nb_sum(tape, y)), NB_OK);
    int kept = 0, dropped = 0;
    for (int64_t i = 0; i < x->size; i++) {
        double g = nb_tensor_grad_get(x, i);
        if (nb_tensor_get(y, i) == 0.0) {
            ck_assert_double_eq(g, 0.0);
            dropped++;
        } else {
            ck_assert_double_eq_tol(g, 1.0 / (1.0 - rate), 1e-15);
            kept++;
        }
    }
    ck_assert_int_gt(kept, 0);
    ck_assert_int_gt(dropped, 0);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dropout_rate_must_be_in_zero_to_one)
{
    const double bad[] = {-0.1, 1.0, 1.5, NAN};
    for (int i = 0; i < 4; i++) {
        ck_assert_ptr_null(nb_dropout(bad[i]));
        ck_assert_int_eq(nb_last_status(), NB_ERR_ARG);
        ck_assert_error_contains("expected 0 <= rate < 1");
    }
    ck_assert_error_contains("nb_dropout: rate is nan");
    nb_layer *edge = nb_dropout(0.999);
    ck_assert_ptr_nonnull(edge);
    nb_layer_free(edge);
}
END_TEST

START_TEST(dropout_in_training_needs_an_rng)
{
    nb_layer *layer = built(nb_dropout(0.5), NB_SHAPE(2));
    layer->name[0] = 'd';
    layer->name[1] = '\0';
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(1, 2));
    nb_tape *tape = nb_tape_new();
    ck_assert_ptr_null(nb_layer_forward(layer, tape, x, true, NULL));
    ck_assert_error_contains("Dropout layer 'd': rng is NULL in training");
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dropout_without_tape_frees_its_mask)
{
    nb_layer *layer = built(nb_dropout(0.5), NB_SHAPE(8));
    nb_tensor *x = nb_tensor_ones(NB_F64, NB_SHAPE(2, 8));
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    nb_tensor *y = nb_layer_forward(layer, NULL, x, true, &rng);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_null(y->tape);
    for (int i = 0; i < 16; i++)
        ck_assert(nb_tensor_get(y, i) == 0.0 || nb_tensor_get(y, i) == 2.0);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

START_TEST(dropout_config_round_trips)
{
    nb_layer *layer = nb_dropout(0.35);
    ck_assert_double_eq(dropout_rate_of(layer), 0.35);
    cJSON *json = config_of(layer);
    nb_layer *copy = nb_layer_find_class("Dropout")->from_config(json);
    ck_assert_ptr_nonnull(copy);
    ck_assert_double_eq(dropout_rate_of(copy), 0.35);
    cJSON_Delete(json);
    const char *bad[] = {"{}", "{\"rate\": \"0.5\"}"};
    for (int i = 0; i < 2; i++) {
        json = cJSON_Parse(bad[i]);
        ck_assert_ptr_null(nb_layer_find_class("Dropout")->from_config(json));
        ck_assert_error_contains("Dropout config: \"rate\" is missing or not a number");
        cJSON_Delete(json);
    }
    json = cJSON_Parse("{\"rate\": 1.0}");
    ck_assert_ptr_null(nb_layer_find_class("Dropout")->from_config(json));
    ck_assert_error_contains("nb_dropout: rate is 1");
    cJSON_Delete(json);
    nb_layer_free(copy);
    nb_layer_free(layer);
}
END_TEST

static Suite *core_layers_suite(void)
{
    Suite *s = suite_create("core_layers");
    TCase *tc = tcase_create("activation");
    tcase_add_test(tc, activation_layer_applies_its_function_elementwise);
    tcase_add_test(tc, linear_activation_layer_is_the_identity);
    tcase_add_test(tc, activation_layer_gradient_matches_finite_differences);
    tcase_add_test(tc, activation_layer_config_round_trips);
    tcase_add_test(tc, activation_layer_rejects_unknown_activations);
    suite_add_tcase(s, tc);
    tc = tcase_create("flatten");
    tcase_add_test(tc, flatten_output_shape_is_the_product_of_the_sample_shape);
    tcase_add_test(tc, flatten_keeps_row_major_order_per_sample);
    tcase_add_test(tc, flatten_passes_gradients_back_in_the_input_shape);
    tcase_add_test(tc, flatten_config_is_empty_and_from_config_works);
    suite_add_tcase(s, tc);
    tc = tcase_create("dropout");
    tcase_add_test(tc, dropout_is_the_identity_when_not_training);
    tcase_add_test(tc, dropout_rate_zero_is_the_identity_in_training);
    tcase_add_loop_test(tc, dropout_zeroes_about_rate_and_scales_survivors, 0, 4);
    tcase_add_test(tc, dropout_keeps_the_mean_in_expectation);
    tcase_add_test(tc, dropout_masks_follow_the_rng);
    tcase_add_test(tc, dropout_gradient_passes_only_through_kept_units);
    tcase_add_test(tc, dropout_rate_must_be_in_zero_to_one);
    tcase_add_test(tc, dropout_in_training_needs_an_rng);
    tcase_add_test(tc, dropout_without_tape_frees_its_mask);
    tcase_add_test(tc, dropout_config_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(core_layers_suite)
