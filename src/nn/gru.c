/* GRU (Keras's, reset_after=True as Keras 2.3+ and cuDNN): gates z, r, h in
 * blocks of `units` columns, with separate input and recurrent biases
 * (bias row 0 and row 1):
 *     xw = x W + b_in,  hu = h U + b_rec,
 *     z = sigmoid(xw_z + hu_z),  r = sigmoid(xw_r + hu_r),
 *     hh = tanh(xw_h + r hu_h),  h' = z h + (1 - z) hh,
 * composed from ops (the unrolling is recurrent.c's). The reset gate
 * applies after the recurrent product, so one product h U serves all three
 * gates. */
#include <cjson/cJSON.h>

#include "nabla/ops.h"
#include "nn/layers_internal.h"
#include "nn/recurrent_internal.h"

enum { GATE_Z = 0, GATE_R = 1, GATE_H = 2 };

static nb_tensor *gru_make_bias(const nb__rnn_state *s, nb_dtype dtype, nb_rng *rng)
{
    return nb__rnn_init_bias(s->options.bias_initializer, dtype, 2, 2, 3 * s->options.units, rng);
}

/* Row `row` of the bias, [1, 3 units]: it broadcasts over the batch. */
static nb_tensor *bias_row(nb_tape *tape, const nb_layer *self, int row)
{
    return nb_slice(tape, self->params[RNN_BIAS], 0, row, row + 1);
}

static nb_tensor *gru_input_bias(nb_tape *tape, const nb_layer *self)
{
    return bias_row(tape, self, 0);
}

static nb_status gru_step(nb_tape *tape, const nb_layer *self, nb_tensor *xw,
                          nb_tensor *states[], bool first)
{
    const nb__rnn_state *s = self->state;
    int64_t units = s->options.units;
    nb_activation act = s->options.activation, gate_act = s->options.recurrent_activation;
    nb_tensor *h = states[0];
    nb_tensor *hu = bias_row(tape, self, 1); /* h U is zero at the first step */
    if (!first)
        hu = nb_add(tape, nb_matmul(tape, h, self->params[RNN_RECURRENT_KERNEL]), hu);
    nb_tensor *z = nb_activate(tape, nb_add(tape, nb__rnn_gate(tape, xw, GATE_Z, units),
                                            nb__rnn_gate(tape, hu, GATE_Z, units)), gate_act);
    nb_tensor *r = nb_activate(tape, nb_add(tape, nb__rnn_gate(tape, xw, GATE_R, units),
                                            nb__rnn_gate(tape, hu, GATE_R, units)), gate_act);
    nb_tensor *hh = nb_activate(tape, nb_add(tape, nb__rnn_gate(tape, xw, GATE_H, units),
                                             nb_mul(tape, r, nb__rnn_gate(tape, hu, GATE_H, units))),
                                act);
    /* z h + (1 - z) hh, written hh + z (h - hh) */
    states[0] = nb_add(tape, hh, nb_mul(tape, z, nb_sub(tape, h, hh)));
    return states[0] ? NB_OK : nb_last_status();
}

static nb_layer *gru_from_config(const cJSON *json)
{
    return nb__rnn_from_config(&nb__gru_cell, json);
}

const nb_layer_class nb__gru_class = {
    .type = "GRU",
    .build = nb__rnn_build,
    .forward = nb__rnn_forward,
    .config = nb__rnn_config,
    .destroy = nb__rnn_destroy,
    .from_config = gru_from_config,
};

const nb__rnn_cell nb__gru_cell = {
    .cls = &nb__gru_class,
    .gates = 3,
    .n_states = 1,
    .make_bias = gru_make_bias,
    .input_bias = gru_input_bias,
    .step = gru_step,
};

nb_layer *nb_gru_with(const nb_recurrent_options *options)
{
    return nb__rnn_new("nb_gru", &nb__gru_cell, options);
}

nb_layer *nb_gru(int64_t units)
{
    return nb_gru_with(&(nb_recurrent_options){.units = units});
}
