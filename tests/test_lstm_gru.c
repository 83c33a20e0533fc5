/* Tests for the LSTM and GRU cells (src/nn/lstm.c, src/nn/gru.c): every
 * gate of a step by hand in Keras's order, the LSTM's initial forget bias
 * and orthogonal recurrent kernel, f64 gradient checks of each cell unrolled
 * over a few steps, and the LSTM's final h and c through return_state. The
 * unrolling they share is tested in test_recurrent.c. */
#include <math.h>

#include "nb_test.h"

static nb_tensor *forward(nb_layer *layer, nb_tensor *x)
{
    nb_tensor *y = nb_layer_forward(layer, NULL, x, false, NULL);
    ck_assert_msg(y != NULL, "%s", nb_last_error());
    return y;
}

/* ---- values ---------------------------------------------------------------- */

static double sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }

/* One unit, one feature, two steps: every gate by hand, Keras's order. */
START_TEST(lstm_and_gru_step_by_hand)
{
    double w[4] = {0.3, -0.2, 0.5, 0.7}, u[4] = {-0.4, 0.6, 0.2, -0.1},
           b[4] = {0.05, 1.0, -0.1, 0.2}, xs[2] = {0.8, -1.5};
    nb_layer *lstm = nb_test_built(nb_lstm_with(&(nb_recurrent_options){.units = 1,
                                                                .return_sequences = true}),
                           2, 1, 0);
    nb_layer *gru = nb_test_built(nb_gru_with(&(nb_recurrent_options){.units = 1,
                                                              .return_sequences = true}),
                          2, 1, 0);
    for (int g = 0; g < 4; g++) {
        nb_tensor_set(lstm->params[0], g, w[g]);
        nb_tensor_set(lstm->params[1], g, u[g]);
        nb_tensor_set(lstm->params[2], g, b[g]);
    }
    for (int g = 0; g < 3; g++) {
        nb_tensor_set(gru->params[0], g, w[g]);
        nb_tensor_set(gru->params[1], g, u[g]);
        nb_tensor_set(gru->params[2], g, b[g]);         /* input bias */
        nb_tensor_set(gru->params[2], 3 + g, b[g + 1]); /* recurrent bias */
    }
    double h = 0, c = 0, lstm_h[2], gh = 0, gru_h[2];
    for (int t = 0; t < 2; t++) {
        double z[4];
        for (int g = 0; g < 4; g++)
            z[g] = xs[t] * w[g] + h * u[g] + b[g];
        c = sigmoid(z[1]) * c + sigmoid(z[0]) * tanh(z[2]);
        h = lstm_h[t] = sigmoid(z[3]) * tanh(c);
        double zz = sigmoid(xs[t] * w[0] + b[0] + gh * u[0] + b[1]);
        double r = sigmoid(xs[t] * w[1] + b[1] + gh * u[1] + b[2]);
        double hh = tanh(xs[t] * w[2] + b[2] + r * (gh * u[2] + b[3]));
        gh = gru_h[t] = zz * gh + (1 - zz) * hh;
    }
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2, 1), xs);
    nb_tensor *y_lstm = forward(lstm, x), *y_gru = forward(gru, x);
    nb_test_assert_close("lstm", y_lstm, false, lstm_h, 2);
    nb_test_assert_close("gru", y_gru, false, gru_h, 2);
    nb_tensor_free(y_lstm);
    nb_tensor_free(y_gru);
    nb_tensor_free(x);
    nb_layer_free(lstm);
    nb_layer_free(gru);
}
END_TEST

/* ---- initial weights ------------------------------------------------------- */

START_TEST(lstm_starts_with_a_forget_bias_of_one_and_an_orthogonal_recurrent_kernel)
{
    nb_layer *lstm = nb_test_built(nb_lstm(3), 2, 2, 7);
    nb_layer *plain = nb_test_built(nb_lstm_with(&(nb_recurrent_options){.units = 3,
                                                                 .no_unit_forget_bias = true}),
                            2, 2, 7);
    for (int64_t j = 0; j < 12; j++) {
        ck_assert_double_eq(nb_tensor_get(lstm->params[2], j), j >= 3 && j < 6 ? 1.0 : 0.0);
        ck_assert_double_eq(nb_tensor_get(plain->params[2], j), 0.0);
    }
    /* [3, 12]: orthonormal rows, U U^T = I */
    const nb_tensor *u = lstm->params[1];
    for (int64_t a = 0; a < 3; a++)
        for (int64_t b = 0; b < 3; b++) {
            double dot = 0;
            for (int64_t k = 0; k < 12; k++)
                dot += nb_tensor_get(u, a * 12 + k) * nb_tensor_get(u, b * 12 + k);
            ck_assert_double_eq_tol(dot, a == b ? 1.0 : 0.0, 1e-12);
        }
    nb_layer_free(lstm);
    nb_layer_free(plain);
}
END_TEST

/* ---- gradient checks: backpropagation through time ------------------------- */

START_TEST(lstm_gradients_check_over_four_steps)
{
    nb_test_gradcheck_cell(nb_lstm_with, true, 2, 4, 3);
    nb_test_gradcheck_cell(nb_lstm_with, false, 1, 3, 4);
    nb_test_gradcheck_cell(nb_lstm_with, true, 2, 1, 5); /* one step: no recurrent product */
}
END_TEST

START_TEST(gru_gradients_check_over_four_steps)
{
    nb_test_gradcheck_cell(nb_gru_with, true, 2, 4, 6);
    nb_test_gradcheck_cell(nb_gru_with, false, 1, 3, 7);
}
END_TEST

/* ---- return_state -------------------------------------------------------------- */

START_TEST(return_state_keeps_the_final_h_and_c)
{
    nb_layer *layer = nb_test_built(nb_lstm_with(&(nb_recurrent_options){
                                .units = 3, .return_sequences = true, .return_state = true}),
                            4, 2, 2);
    nb_test_randomize_weights(layer, 3);
    ck_assert_ptr_null(nb_recurrent_state(layer, 0));
    ck_assert_error_contains("nb_recurrent_state: LSTM layer '' has not run forward yet");
    nb_tensor *x = nb_test_uniform(NB_F64, NB_SHAPE(2, 4, 2), -1, 1, 1);
    nb_tensor *y = forward(layer, x);
    const nb_tensor *h = nb_recurrent_state(layer, 0), *c = nb_recurrent_state(layer, 1);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(c);
    for (int64_t b = 0; b < 2; b++)
        for (int64_t j = 0; j < 3; j++) {
            double hv = nb_tensor_get(h, b * 3 + j);
            ck_assert_double_eq(hv, nb_tensor_get(y, b * 12 + 9 + j));
            /* h = o tanh(c) with 0 < o < 1 */
            ck_assert(fabs(hv) < fabs(tanh(nb_tensor_get(c, b * 3 + j))) + 1e-15);
        }
    ck_assert_ptr_null(nb_recurrent_state(layer, 2));
    ck_assert_error_contains("nb_recurrent_state: state 2 of LSTM layer '': expected 0 (h) or 1 (c)");
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

static Suite *lstm_gru_suite(void)
{
    Suite *s = suite_create("lstm_gru");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, lstm_and_gru_step_by_hand);
    tcase_add_test(tc, lstm_starts_with_a_forget_bias_of_one_and_an_orthogonal_recurrent_kernel);
    tcase_add_test(tc, lstm_gradients_check_over_four_steps);
    tcase_add_test(tc, gru_gradients_check_over_four_steps);
    tcase_add_test(tc, return_state_keeps_the_final_h_and_c);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(lstm_gru_suite)
