/* nabla's LSTM and GRU layers against PyTorch's nn.LSTM and nn.GRU over 5
 * steps, in f64: outputs, the loss and the gradients of the input and of
 * every weight (tests/torch_lstm.py wrote torch_lstm_expected.h; its header
 * comment, and docs/recurrent.md, give the gate mapping: LSTM's blocks are
 * in the same order in both, i f c o = i f g o, with PyTorch's matrices the
 * transposes of Keras's and its two biases summing to Keras's one; GRU's
 * Keras z r h are PyTorch's r z n reordered). Weights and input come from
 * one formula on both sides; every number must match to 1e-10 relative. */
#include <math.h>

#include "nb_test.h"
#include "torch_lstm_expected.h"

#define REL_TOL 1e-10
enum { BATCH = 2, TIME = 5, FEATURES = 3, UNITS = 4 };

/* element i of input k: sin(0.7 i + 1.3 k + 0.1) * scale, as torch_lstm.py */
static void fill(nb_tensor *t, int k, double scale)
{
    for (int64_t i = 0; i < t->size; i++)
        nb_tensor_set(t, i, sin(0.7 * (double)i + 1.3 * k + 0.1) * scale);
}

static void assert_matches(const char *what, const nb_tensor *t, bool grad, const double *expected)
{
    for (int64_t i = 0; i < t->size; i++) {
        double got = grad ? nb_tensor_grad_get(t, i) : nb_tensor_get(t, i), want = expected[i];
        ck_assert_msg(fabs(got - want) <= REL_TOL * fmax(1.0, fabs(want)),
                      "%s: element %lld is %.17g, PyTorch's %.17g", what, (long long)i, got, want);
    }
}

typedef struct expected {
    double loss;
    const double *out, *grads[4]; /* x, kernel, recurrent_kernel, bias */
} expected;

static void check_against_torch(nb_layer *layer, const expected *want)
{
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_int_eq(nb_layer_build(layer, NB_SHAPE(TIME, FEATURES), NB_F64, &rng), NB_OK);
    fill(layer->params[0], 0, 0.5);
    fill(layer->params[1], 1, 0.5);
    fill(layer->params[2], 2, 0.3);
    nb_tensor *x = nb_tensor_zeros(NB_F64, NB_SHAPE(BATCH, TIME, FEATURES));
    fill(x, 3, 1.0);
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *out = nb_layer_forward(layer, tape, x, false, NULL);
    ck_assert_msg(out != NULL, "%s", nb_last_error());
    assert_matches("output", out, false, want->out);
    nb_tensor *w = nb_tape_tensor(tape, NB_F64, out->rank, out->shape);
    for (int64_t i = 0; i < w->size; i++)
        nb_tensor_set(w, i, cos(0.3 * (double)i + 0.5));
    nb_tensor *loss = nb_sum(tape, nb_mul(tape, out, w));
    ck_assert_double_eq_tol(nb_tensor_item(loss), want->loss, REL_TOL * fmax(1, fabs(want->loss)));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    assert_matches("d loss / d x", x, true, want->grads[0]);
    assert_matches("d loss / d kernel", layer->params[0], true, want->grads[1]);
    assert_matches("d loss / d recurrent_kernel", layer->params[1], true, want->grads[2]);
    assert_matches("d loss / d bias", layer->params[2], true, want->grads[3]);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_layer_free(layer);
}

START_TEST(lstm_matches_torch_over_five_steps)
{
    check_against_torch(nb_lstm_with(&(nb_recurrent_options){.units = UNITS,
                                                             .return_sequences = true}),
                        &(expected){torch_lstm_loss, torch_lstm_out,
                                    {torch_lstm_grad_x, torch_lstm_grad_kernel,
                                     torch_lstm_grad_recurrent_kernel, torch_lstm_grad_bias}});
}
END_TEST

START_TEST(gru_matches_torch_over_five_steps)
{
    check_against_torch(nb_gru_with(&(nb_recurrent_options){.units = UNITS,
                                                            .return_sequences = true}),
                        &(expected){torch_gru_loss, torch_gru_out,
                                    {torch_gru_grad_x, torch_gru_grad_kernel,
                                     torch_gru_grad_recurrent_kernel, torch_gru_grad_bias}});
}
END_TEST

static Suite *torch_lstm_suite(void)
{
    Suite *s = suite_create("torch_lstm");
    TCase *tc = tcase_create("against PyTorch");
    tcase_add_test(tc, lstm_matches_torch_over_five_steps);
    tcase_add_test(tc, gru_matches_torch_over_five_steps);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(torch_lstm_suite)
