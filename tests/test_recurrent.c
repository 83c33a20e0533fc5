/* Tests for src/nn/recurrent.c: the recurrent layers' shared unrolling
 * (shapes and Keras's parameter counts, return_sequences, f32 against f64,
 * second derivatives through time, no allocation in a warm step), SimpleRNN's
 * cell by hand and gradient-checked, RepeatVector, configs through model
 * files, and the errors. LSTM's and GRU's cells are tested in
 * test_lstm_gru.c, the LSTM against PyTorch's nn.LSTM in test_torch_lstm.c,
 * Bidirectional in test_bidirectional.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nb_test.h"

static nb_tensor *forward(nb_layer *layer, nb_tensor *x)
{
    nb_tensor *y = nb_layer_forward(layer, NULL, x, false, NULL);
    ck_assert_msg(y != NULL, "%s", nb_last_error());
    return y;
}

typedef nb_layer *(*make_fn)(const nb_recurrent_options *options);

/* ---- shapes and parameter counts ----------------------------------------- */

START_TEST(parameter_counts_are_keras_counts)
{
    /* Keras: LSTM(128) on 12 features has 4 (128 (12 + 128) + 128) */
    nb_layer *lstm = nb_test_built(nb_lstm(128), 7, 12, 0);
    ck_assert_int_eq(nb_layer_param_count(lstm), 72192);
    /* GRU(4) on 3: 3 (4 (3 + 4)) + 2 * 3 * 4; SimpleRNN(4) on 3: 4 (3 + 4) + 4 */
    nb_layer *gru = nb_test_built(nb_gru(4), 5, 3, 0), *simple = nb_test_built(nb_simple_rnn(4), 5, 3, 0);
    ck_assert_int_eq(nb_layer_param_count(gru), 108);
    ck_assert_int_eq(nb_layer_param_count(simple), 32);
    const char *names[] = {"kernel", "recurrent_kernel", "bias"};
    nb_test_assert_shape("gru bias", gru->params[2], NB_SHAPE(2, 12));
    nb_test_assert_shape("lstm kernel", lstm->params[0], NB_SHAPE(12, 512));
    nb_test_assert_shape("lstm recurrent_kernel", lstm->params[1], NB_SHAPE(128, 512));
    for (int k = 0; k < 3; k++) {
        ck_assert_str_eq(lstm->param_names[k], names[k]);
        ck_assert_str_eq(gru->param_names[k], names[k]);
        ck_assert_str_eq(simple->param_names[k], names[k]);
    }
    nb_layer_free(lstm);
    nb_layer_free(gru);
    nb_layer_free(simple);
}
END_TEST

START_TEST(return_sequences_gives_every_step_else_the_last)
{
    make_fn makers[] = {nb_simple_rnn_with, nb_lstm_with, nb_gru_with};
    for (int m = 0; m < 3; m++) {
        nb_layer *last = nb_test_built(makers[m](&(nb_recurrent_options){.units = 3}), 4, 2, 1);
        nb_layer *all = nb_test_built(makers[m](&(nb_recurrent_options){.units = 3,
                                                                 .return_sequences = true}),
                              4, 2, 1);
        ck_assert_int_eq(last->out_rank, 1);
        ck_assert_int_eq(all->out_rank, 2);
        ck_assert_int_eq(all->out_shape[0], 4);
        nb_tensor *x = nb_test_uniform(NB_F64, NB_SHAPE(2, 4, 2), -1, 1, 3);
        nb_tensor *y_last = forward(last, x), *y_all = forward(all, x);
        nb_test_assert_shape("last", y_last, NB_SHAPE(2, 3));
        nb_test_assert_shape("all", y_all, NB_SHAPE(2, 4, 3));
        /* the same seed gives the same weights: the last step is the output */
        for (int64_t b = 0; b < 2; b++)
            for (int64_t j = 0; j < 3; j++)
                ck_assert_double_eq_tol(nb_tensor_get(y_all, b * 12 + 3 * 3 + j),
                                        nb_tensor_get(y_last, b * 3 + j), 1e-15);
        nb_tensor_free(x);
        nb_tensor_free(y_last);
        nb_tensor_free(y_all);
        nb_layer_free(last);
        nb_layer_free(all);
    }
}
END_TEST

/* ---- values ---------------------------------------------------------------- */

START_TEST(simple_rnn_steps_by_hand)
{
    nb_layer *layer = nb_test_built(nb_simple_rnn_with(&(nb_recurrent_options){
                                .units = 1, .return_sequences = true}),
                            2, 1, 0);
    nb_tensor_set(layer->params[0], 0, 0.5);  /* w */
    nb_tensor_set(layer->params[1], 0, -0.7); /* u */
    nb_tensor_set(layer->params[2], 0, 0.1);  /* b */
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2, 1), (double[]){1.0, -2.0});
    nb_tensor *y = forward(layer, x);
    double h1 = tanh(0.5 * 1.0 + 0.1), h2 = tanh(0.5 * -2.0 - 0.7 * h1 + 0.1);
    nb_test_assert_close("simple rnn", y, false, (double[]){h1, h2}, 2);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST
START_TEST(f32_matches_f64_and_the_tape_changes_nothing)
{
    make_fn makers[] = {nb_simple_rnn_with, nb_lstm_with, nb_gru_with};
    for (int m = 0; m < 3; m++) {
        nb_recurrent_options o = {.units = 3, .return_sequences = true};
        nb_layer *l64 = nb_test_built(makers[m](&o), 3, 2, 4), *l32 = makers[m](&o);
        nb_rng rng;
        nb_rng_seed(&rng, 4);
        ck_assert_int_eq(nb_layer_build(l32, NB_SHAPE(3, 2), NB_F32, &rng), NB_OK);
        nb_test_randomize_weights(l64, 40);
        for (int k = 0; k < l64->n_params; k++)
            nb_tensor_copy_data(l32->params[k], l64->params[k]);
        nb_tensor *x64 = nb_test_uniform(NB_F64, NB_SHAPE(2, 3, 2), -1, 1, 5);
        nb_tensor *x32 = nb_tensor_copy(x64, NB_F32);
        nb_tensor *y64 = forward(l64, x64), *y32 = forward(l32, x32);
        nb_tape *tape = nb_tape_new();
        nb_tensor *y_taped = nb_layer_forward(l64, tape, x64, false, NULL);
        ck_assert_ptr_nonnull(y_taped);
        for (int64_t i = 0; i < y64->size; i++) {
            ck_assert_double_eq(nb_tensor_get(y_taped, i), nb_tensor_get(y64, i));
            ck_assert_double_eq_tol(nb_tensor_get(y32, i), nb_tensor_get(y64, i), 1e-6);
        }
        nb_tape_free(tape);
        nb_tensor_free(x64);
        nb_tensor_free(x32);
        nb_tensor_free(y64);
        nb_tensor_free(y32);
        nb_layer_free(l64);
        nb_layer_free(l32);
    }
}
END_TEST

/* ---- gradient checks: backpropagation through time ------------------------- */

START_TEST(simple_rnn_gradients_check_over_four_steps)
{
    nb_test_gradcheck_cell(nb_simple_rnn_with, true, 2, 4, 1);
    nb_test_gradcheck_cell(nb_simple_rnn_with, false, 1, 3, 2);
}
END_TEST

/* Every op a cell records has a vjp, so the unrolled steps differentiate
 * twice too (nb_gradgradcheck: Hessian-vector products through time). */
START_TEST(cells_second_derivatives_check)
{
    make_fn makers[] = {nb_simple_rnn_with, nb_lstm_with, nb_gru_with};
    for (int m = 0; m < 3; m++) {
        nb_layer *layer = nb_test_built(makers[m](&(nb_recurrent_options){.units = 2,
                                                                  .return_sequences = true}),
                                3, 2, 20 + (uint64_t)m);
        nb_test_randomize_weights(layer, 30 + (uint64_t)m);
        nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(1, 3, 2), -1, 1, 40);
        nb_tensor *inputs[NB_LAYER_MAX_PARAMS + 1] = {x};
        for (int k = 0; k < layer->n_params; k++)
            inputs[k + 1] = layer->params[k];
        nb_gradcheck_report report;
        ck_assert_msg(nb_gradgradcheck(nb_test_layer_fn, layer->n_params + 1, inputs, layer, NULL,
                                       &report) == NB_OK,
                      "%s", nb_last_error());
        if (!report.passed)
            nb_gradcheck_print(&report, stderr);
        ck_assert_msg(report.passed, "%s: second derivatives wrong", layer->cls->type);
        nb_tensor_free(x);
        nb_layer_free(layer);
    }
}
END_TEST

/* ---- RepeatVector ------------------------------------------------------------ */

START_TEST(repeat_vector_repeats_and_sums_the_gradients)
{
    nb_layer *layer = nb_repeat_vector(3);
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(2), NB_F64, &rng), NB_OK);
    ck_assert_int_eq(layer->out_rank, 2);
    ck_assert_int_eq(layer->out_shape[0], 3);
    ck_assert_int_eq(layer->out_shape[1], 2);
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2), (double[]){1, 2, 3, 4});
    nb_tensor *y = forward(layer, x);
    nb_test_assert_close("repeat", y, false, (double[]){1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}, 12);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *inputs[1] = {x};
    ck_assert_gradcheck(nb_test_layer_fn, 1, inputs, layer);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_layer_free(layer);
}
END_TEST

/* ---- models: summary, save and load ---------------------------------------- */

/* the addition model, small: LSTM encoder, RepeatVector, LSTM decoder,
 * Dense softmax per step; a GRU and a SimpleRNN on the way */
static nb_model *seq2seq_model(void)
{
    nb_model *model = nb_sequential();
    nb_model_set_dtype(model, NB_F64);
    nb_model_set_seed(model, 3);
    nb_model_set_input_shape(model, NB_SHAPE(5, 4));
    nb_model_add(model, nb_lstm(6));
    nb_model_add(model, nb_repeat_vector(3));
    nb_model_add(model, nb_gru_with(&(nb_recurrent_options){.units = 5,
                                                           .return_sequences = true}));
    nb_model_add(model, nb_simple_rnn_with(&(nb_recurrent_options){
                            .units = 4, .return_sequences = true, .return_state = true,
                            .activation = NB_RELU}));
    nb_model_add(model, nb_bidirectional(nb_lstm_with(&(nb_recurrent_options){
                            .units = 2, .return_sequences = true})));
    nb_model_add(model, nb_dense(4, NB_SOFTMAX));
    ck_assert_msg(nb_model_build(model) == NB_OK, "%s", nb_last_error());
    return model;
}

START_TEST(summary_shows_keras_shapes_and_counts)
{
    nb_model *model = seq2seq_model();
    char *text = nb_test_summary(model);
    /* 4 (6 (4 + 6) + 6) = 264; 3 (5 (6 + 5)) + 30 = 195; 4 (5 + 4) + 4 = 40 */
    ck_assert_msg(strstr(text, " lstm (LSTM)                 (None, 6)                 264 ") != NULL, "%s", text);
    ck_assert_msg(strstr(text, " repeat_vector (RepeatVector (None, 3, 6)              0 ") != NULL, "%s", text);
    ck_assert_msg(strstr(text, " gru (GRU)                   (None, 3, 5)              195 ") != NULL, "%s", text);
    ck_assert_msg(strstr(text, " simple_rnn (SimpleRNN)      (None, 3, 4)              40 ") != NULL, "%s", text);
    /* 2 x 4 (2 (4 + 2) + 2) */
    ck_assert_msg(strstr(text, " bidirectional (Bidirectiona (None, 3, 4)              112 ") != NULL, "%s", text);
    free(text);
    nb_model_free(model);
}
END_TEST

START_TEST(recurrent_layers_save_and_load_with_their_config)
{
    nb_model *model = seq2seq_model();
    for (int k = 0; k < nb_model_layer_count(model); k++)
        nb_test_randomize_weights(nb_model_layer(model, k), 50 + 5 * (uint64_t)k);
    char dir[] = "/tmp/nabla-recurrent-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ck_assert_msg(nb_model_save(model, path, false) == NB_OK, "%s", nb_last_error());
    nb_model *loaded = nb_model_load(path);
    ck_assert_msg(loaded != NULL, "%s", nb_last_error());
    ck_assert_str_eq(nb_model_weight(loaded, 1)->name, "lstm/recurrent_kernel");
    ck_assert_int_eq(nb_model_weight_count(loaded), 17);
    nb_tensor *x = nb_test_uniform(NB_F64, NB_SHAPE(2, 5, 4), -1, 1, 9);
    nb_tensor *a = nb_model_predict(model, x, 2), *b = nb_model_predict(loaded, x, 2);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    for (int64_t i = 0; i < a->size; i++)
        ck_assert_double_eq(nb_tensor_get(a, i), nb_tensor_get(b, i));
    /* the SimpleRNN's relu and return_state came back with it */
    nb_layer *simple = nb_model_layer(loaded, 3);
    const nb_tensor *h = nb_recurrent_state(simple, 0);
    ck_assert_msg(h != NULL, "%s", nb_last_error());
    nb_test_assert_shape("state", h, NB_SHAPE(2, 4));
    for (int64_t i = 0; i < h->size; i++)
        ck_assert(nb_tensor_get(h, i) >= 0.0);
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(x);
    nb_model_free(loaded);
    nb_model_free(model);
    unlink(path);
    rmdir(dir);
}
END_TEST
/* Keras's losses and accuracy on [batch, time, classes]: the mean over
 * batch and time of each step's value. */
START_TEST(crossentropy_and_accuracy_average_over_the_steps)
{
    nb_tensor *p = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2, 2), (double[]){0.8, 0.2, 0.4, 0.6});
    nb_tensor *t = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2, 2), (double[]){1, 0, 1, 0});
    nb_tensor *loss = nb_loss_categorical_crossentropy(NULL, p, t);
    nb_tensor *acc = nb_metric_categorical_accuracy(NULL, p, t);
    nb_test_assert_close("loss", loss, false, (double[]){-(log(0.8) + log(0.4)) / 2}, 1);
    nb_test_assert_close("accuracy", acc, false, (double[]){0.5}, 1);
    nb_tensor_free(loss);
    nb_tensor_free(acc);
    nb_tensor_free(p);
    nb_tensor_free(t);
}
END_TEST

/* Once the tape has grown to a batch, a forward and backward through the
 * unrolled steps allocates nothing: every step's tensors come from the
 * tape's arena (return_sequences' nb_stack excepted: it makes its array of
 * inputs once per forward, not per step). */
START_TEST(a_warm_training_step_allocates_nothing)
{
    make_fn makers[] = {nb_simple_rnn_with, nb_lstm_with, nb_gru_with};
    for (int m = 0; m < 3; m++) {
        nb_layer *layer = nb_test_built(makers[m](&(nb_recurrent_options){.units = 8,
                                                                  .return_state = true}),
                                6, 3, 1);
        nb_tensor *x = nb_test_uniform(NB_F64, NB_SHAPE(4, 6, 3), -1, 1, 2);
        nb_tape *tape = nb_tape_new();
        for (int round = 0; round < 3; round++) {
            if (round == 2)
                nb_test_count_allocations();
            nb_tensor *loss = nb_sum(tape, nb_layer_forward(layer, tape, x, true, NULL));
            ck_assert_msg(loss != NULL, "%s", nb_last_error());
            ck_assert_int_eq(nb_backward(loss), NB_OK);
            nb_tape_reset(tape);
        }
        nb_set_allocator(NULL);
        ck_assert_msg(nb_test_allocations == 0, "%s: %ld allocations in a warm step",
                      layer->cls->type, nb_test_allocations);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_layer_free(layer);
    }
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

START_TEST(bad_arguments_are_errors_naming_them)
{
    ck_assert_ptr_null(nb_lstm(0));
    ck_assert_error_contains("nb_lstm: units is 0: expected at least 1");
    ck_assert_ptr_null(nb_gru_with(NULL));
    ck_assert_error_contains("nb_gru: options is NULL");
    ck_assert_ptr_null(nb_simple_rnn_with(&(nb_recurrent_options){.units = 2,
                                                                  .activation = 99}));
    ck_assert_error_contains("nb_simple_rnn: activation 99 is not an nb_activation");
    ck_assert_ptr_null(nb_lstm_with(&(nb_recurrent_options){.units = 2,
                                                            .recurrent_initializer = 42}));
    ck_assert_error_contains("nb_lstm: an initializer (0, 42, 0) is not an nb_initializer");
    ck_assert_ptr_null(nb_repeat_vector(0));
    ck_assert_error_contains("nb_repeat_vector: n is 0: expected at least 1");
    nb_layer *lstm = nb_lstm(2);
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_int_eq(nb_layer_build(lstm, NB_SHAPE(5), NB_F64, &rng), NB_ERR_SHAPE);
    ck_assert_error_contains("LSTM layer '': samples of shape [5]: expected [time, features]");
    nb_layer *repeat = nb_repeat_vector(2);
    ck_assert_int_eq(nb_layer_build(repeat, NB_SHAPE(5, 3), NB_F64, &rng), NB_ERR_SHAPE);
    ck_assert_error_contains("RepeatVector layer '': samples of shape [5, 3]: expected [features]");
    nb_layer *dense = nb_dense(2, NB_LINEAR), *plain = nb_test_built(nb_gru(2), 2, 2, 0);
    ck_assert_ptr_null(nb_recurrent_state(dense, 0));
    ck_assert_error_contains("nb_recurrent_state: layer '' is a Dense: expected SimpleRNN, LSTM or GRU");
    ck_assert_ptr_null(nb_recurrent_state(plain, 0));
    ck_assert_error_contains("GRU layer '' was made without return_state");
    nb_layer_free(lstm);
    nb_layer_free(repeat);
    nb_layer_free(dense);
    nb_layer_free(plain);
}
END_TEST

static Suite *recurrent_suite(void)
{
    Suite *s = suite_create("recurrent");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, parameter_counts_are_keras_counts);
    tcase_add_test(tc, return_sequences_gives_every_step_else_the_last);
    tcase_add_test(tc, simple_rnn_steps_by_hand);
    tcase_add_test(tc, f32_matches_f64_and_the_tape_changes_nothing);
    tcase_add_test(tc, simple_rnn_gradients_check_over_four_steps);
    tcase_add_test(tc, cells_second_derivatives_check);
    tcase_add_test(tc, repeat_vector_repeats_and_sums_the_gradients);
    tcase_add_test(tc, summary_shows_keras_shapes_and_counts);
    tcase_add_test(tc, recurrent_layers_save_and_load_with_their_config);
    tcase_add_test(tc, crossentropy_and_accuracy_average_over_the_steps);
    tcase_add_test(tc, a_warm_training_step_allocates_nothing);
    tcase_add_test(tc, bad_arguments_are_errors_naming_them);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(recurrent_suite)
