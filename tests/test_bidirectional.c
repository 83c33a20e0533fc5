/* Tests for Bidirectional (src/nn/bidirectional.c): the output is the
 * wrapped layer's on the sequence next to its copy's on the sequence
 * reversed, gradients check in f64 through the reversal, and the errors.
 * Its place in a saved and loaded model is tested in test_recurrent.c. */
#include <cjson/cJSON.h>

#include "nb_test.h"

static nb_tensor *forward(nb_layer *layer, nb_tensor *x)
{
    nb_tensor *y = nb_layer_forward(layer, NULL, x, false, NULL);
    ck_assert_msg(y != NULL, "%s", nb_last_error());
    return y;
}

/* The output is [the layer on x | the layer on x reversed, put back in
 * order], each direction with its own weights. */
START_TEST(bidirectional_joins_forward_and_reversed_backward_outputs)
{
    nb_recurrent_options o = {.units = 3, .return_sequences = true};
    nb_layer *bi = nb_test_built(nb_bidirectional(nb_lstm_with(&o)), 4, 2, 1);
    ck_assert_int_eq(bi->n_params, 6);
    ck_assert_str_eq(bi->param_names[1], "forward/recurrent_kernel");
    ck_assert_str_eq(bi->param_names[5], "backward/bias");
    ck_assert_int_eq(nb_layer_param_count(bi), 2 * 4 * (3 * (2 + 3) + 3));
    nb_test_randomize_weights(bi, 7);
    nb_layer *ahead = nb_test_built(nb_lstm_with(&o), 4, 2, 1), *back = nb_test_built(nb_lstm_with(&o), 4, 2, 1);
    for (int k = 0; k < 3; k++) {
        nb_tensor_copy_data(ahead->params[k], bi->params[k]);
        nb_tensor_copy_data(back->params[k], bi->params[3 + k]);
    }
    nb_tensor *x = nb_test_uniform(NB_F64, NB_SHAPE(2, 4, 2), -1, 1, 8);
    nb_tensor *x_rev = nb_tensor_zeros(NB_F64, NB_SHAPE(2, 4, 2));
    for (int64_t b = 0; b < 2; b++)
        for (int64_t t = 0; t < 4; t++)
            for (int64_t f = 0; f < 2; f++)
                nb_tensor_set(x_rev, (b * 4 + t) * 2 + f, nb_tensor_get(x, (b * 4 + 3 - t) * 2 + f));
    nb_tensor *y = forward(bi, x), *y_ahead = forward(ahead, x), *y_back = forward(back, x_rev);
    nb_test_assert_shape("bidirectional", y, NB_SHAPE(2, 4, 6));
    for (int64_t b = 0; b < 2; b++)
        for (int64_t t = 0; t < 4; t++)
            for (int64_t j = 0; j < 3; j++) {
                ck_assert_double_eq(nb_tensor_get(y, (b * 4 + t) * 6 + j),
                                    nb_tensor_get(y_ahead, (b * 4 + t) * 3 + j));
                ck_assert_double_eq(nb_tensor_get(y, (b * 4 + t) * 6 + 3 + j),
                                    nb_tensor_get(y_back, (b * 4 + 3 - t) * 3 + j));
            }
    nb_tensor_free(y);
    nb_tensor_free(y_ahead);
    nb_tensor_free(y_back);
    nb_tensor_free(x);
    nb_tensor_free(x_rev);
    nb_layer_free(bi);
    nb_layer_free(ahead);
    nb_layer_free(back);
}
END_TEST

START_TEST(bidirectional_gradients_check)
{
    nb_layer *bi = nb_test_built(nb_bidirectional(nb_gru_with(&(nb_recurrent_options){
                             .units = 2, .return_sequences = true})),
                         3, 2, 2);
    nb_test_randomize_weights(bi, 9);
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3, 2), -1, 1, 10);
    nb_test_gradcheck_layer(bi, x);
    nb_layer *last = nb_test_built(nb_bidirectional(nb_simple_rnn(2)), 3, 2, 3);
    nb_test_randomize_weights(last, 11);
    nb_test_assert_shape("last", x, NB_SHAPE(2, 3, 2));
    nb_test_gradcheck_layer(last, x);
    nb_tensor_free(x);
    nb_layer_free(bi);
    nb_layer_free(last);
}
END_TEST

START_TEST(bidirectional_rejects_what_it_cannot_wrap)
{
    ck_assert_ptr_null(nb_bidirectional(NULL));
    ck_assert_error_contains("nb_bidirectional: layer is NULL");
    ck_assert_ptr_null(nb_bidirectional(nb_dense(2, NB_LINEAR)));
    ck_assert_error_contains("nb_bidirectional: layer '' is a Dense: expected a new SimpleRNN, "
                             "LSTM or GRU");
    ck_assert_ptr_null(nb_bidirectional(nb_test_built(nb_lstm(2), 3, 2, 0)));
    ck_assert_error_contains("layer '' is a built LSTM");
    const nb_layer_class *cls = nb_layer_find_class("Bidirectional");
    ck_assert_ptr_nonnull(cls);
    cJSON *json = cJSON_Parse("{\"layer\": {\"class_name\": \"LSTM\", \"config\": "
                              "{\"units\": 2}}, \"merge_mode\": \"sum\"}");
    ck_assert_ptr_null(cls->from_config(json));
    ck_assert_error_contains("Bidirectional config: merge_mode 'sum': only \"concat\"");
    cJSON_Delete(json);
}
END_TEST

static Suite *bidirectional_suite(void)
{
    Suite *s = suite_create("bidirectional");
    TCase *tc = tcase_create("bidirectional");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bidirectional_joins_forward_and_reversed_backward_outputs);
    tcase_add_test(tc, bidirectional_gradients_check);
    tcase_add_test(tc, bidirectional_rejects_what_it_cannot_wrap);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(bidirectional_suite)
