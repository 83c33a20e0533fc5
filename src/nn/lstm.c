/* LSTM (Keras's): gates i, f, c, o in blocks of `units` columns of one
 * product per step,
 *     z = x W + b + h U,  i = sigmoid(z_i), f = sigmoid(z_f),
 *     c' = f c + i tanh(z_c),  h' = sigmoid(z_o) tanh(c'),
 * composed from ops (the unrolling is recurrent.c's). PyTorch's nn.LSTM
 * orders the same blocks i, f, g, o (g is Keras's c) and stores W and U
 * transposed, with two biases whose sum is Keras's b (docs/recurrent.md). */
#include <cjson/cJSON.h>

#include "nabla/ops.h"
#include "nn/layers_internal.h"
#include "nn/recurrent_internal.h"

enum { GATE_I = 0, GATE_F = 1, GATE_C = 2, GATE_O = 3 };

/* [4 units] from the bias initializer; with unit_forget_bias (Keras's
 * default) the forget gate's block is ones, so the cell starts by keeping
 * its memory. */
static nb_tensor *lstm_make_bias(const nb__rnn_state *s, nb_dtype dtype, nb_rng *rng)
{
    int64_t units = s->options.units;
    nb_tensor *bias = nb__rnn_init_bias(s->options.bias_initializer, dtype, 1, 1, 4 * units, rng);
    for (int64_t j = 0; bias && !s->options.no_unit_forget_bias && j < units; j++)
        nb_tensor_set(bias, GATE_F * units + j, 1.0);
    return bias;
}

static nb_tensor *lstm_input_bias(nb_tape *tape, const nb_layer *self)
{
    (void)tape;
    return self->params[RNN_BIAS];
}

/* states[0] is h, states[1] c. */
static nb_status lstm_step(nb_tape *tape, const nb_layer *self, nb_tensor *xw,
                           nb_tensor *states[], bool first)
{
    const nb__rnn_state *s = self->state;
    int64_t units = s->options.units;
    nb_activation act = s->options.activation, gate_act = s->options.recurrent_activation;
    nb_tensor *z = first ? xw
                         : nb_add(tape, xw, nb_matmul(tape, states[0],
                                                      self->params[RNN_RECURRENT_KERNEL]));
    nb_tensor *i = nb_activate(tape, nb__rnn_gate(tape, z, GATE_I, units), gate_act);
    nb_tensor *f = nb_activate(tape, nb__rnn_gate(tape, z, GATE_F, units), gate_act);
    nb_tensor *g = nb_activate(tape, nb__rnn_gate(tape, z, GATE_C, units), act);
    nb_tensor *o = nb_activate(tape, nb__rnn_gate(tape, z, GATE_O, units), gate_act);
    nb_tensor *c = nb_mul(tape, i, g);
    if (!first) /* the initial c is zero: f c adds nothing */
        c = nb_add(tape, nb_mul(tape, f, states[1]), c);
    nb_tensor *h = nb_mul(tape, o, nb_activate(tape, c, act));
    if (!h)
        return nb_last_status();
    states[0] = h;
    states[1] = c;
    return NB_OK;
}

static nb_layer *lstm_from_config(const cJSON *json)
{
    return nb__rnn_from_config(&nb__lstm_cell, json);
}

const nb_layer_class nb__lstm_class = {
    .type = "LSTM",
    .build = nb__rnn_build,
    .forward = nb__rnn_forward,
    .config = nb__rnn_config,
    .destroy = nb__rnn_destroy,
    .from_config = lstm_from_config,
};

const nb__rnn_cell nb__lstm_cell = {
    .cls = &nb__lstm_class,
    .gates = 4,
    .n_states = 2,
    .make_bias = lstm_make_bias,
    .input_bias = lstm_input_bias,
    .step = lstm_step,
};

nb_layer *nb_lstm_with(const nb_recurrent_options *options)
{
    return nb__rnn_new("nb_lstm", &nb__lstm_cell, options);
}

nb_layer *nb_lstm(int64_t units)
{
    return nb_lstm_with(&(nb_recurrent_options){.units = units});
}
