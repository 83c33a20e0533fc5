/* The recurrent layers' shared unrolling (recurrent.c) and their cells
 * (SimpleRNN in recurrent.c, LSTM in lstm.c, GRU in gru.c). */
#ifndef NABLA_NN_RECURRENT_INTERNAL_H
#define NABLA_NN_RECURRENT_INTERNAL_H

#include "nabla/layer.h"

enum { RNN_KERNEL = 0, RNN_RECURRENT_KERNEL = 1, RNN_BIAS = 2 };
#define RNN_MAX_STATES 2

typedef struct nb__rnn_state nb__rnn_state;

/* What differs between SimpleRNN, LSTM and GRU. */
typedef struct nb__rnn_cell {
    const nb_layer_class *cls;
    int gates;    /* blocks of `units` columns in the kernels: 1, 4, 3 */
    int n_states; /* h, and an LSTM's c */
    /* The bias, initialised: [gates * units], or GRU's [2, gates * units]. */
    nb_tensor *(*make_bias)(const nb__rnn_state *s, nb_dtype dtype, nb_rng *rng);
    /* The input bias as added to x W: the bias itself, or GRU's row 0. */
    nb_tensor *(*input_bias)(nb_tape *tape, const nb_layer *self);
    /* One step: xw is the step's x W + input bias [batch, gates * units];
     * states[] (h first) are replaced by the new ones. first: the states are
     * the zero initial ones, so h U is skipped. */
    nb_status (*step)(nb_tape *tape, const nb_layer *self, nb_tensor *xw,
                      nb_tensor *states[], bool first);
} nb__rnn_cell;

struct nb__rnn_state {
    const nb__rnn_cell *cell;
    nb_recurrent_options options; /* defaults resolved */
    /* with return_state: copies of the last forward's final states */
    nb_tensor *final_states[RNN_MAX_STATES];
    /* the step outputs of a forward with return_sequences, kept between
     * forwards so that a warm forward allocates only on its tape */
    nb_tensor **steps;
    int64_t steps_capacity;
};

extern const nb__rnn_cell nb__simple_rnn_cell, nb__lstm_cell, nb__gru_cell;

/* The shared class functions, for the cells' class tables. */
nb_status nb__rnn_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng);
nb_tensor *nb__rnn_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                           nb_rng *rng);
nb_status nb__rnn_config(const nb_layer *self, struct cJSON *json);
void nb__rnn_destroy(nb_layer *self);
/* A layer of `cell` from options (fn names the public function). */
nb_layer *nb__rnn_new(const char *fn, const nb__rnn_cell *cell,
                      const nb_recurrent_options *options);
nb_layer *nb__rnn_from_config(const nb__rnn_cell *cell, const struct cJSON *json);

/* Columns [gate * units, (gate + 1) * units) of z [batch, gates * units]. */
nb_tensor *nb__rnn_gate(nb_tape *tape, nb_tensor *z, int gate, int64_t units);
/* A [units] or [n, units] bias from an initializer. */
nb_tensor *nb__rnn_init_bias(nb_initializer init, nb_dtype dtype, int rank, int64_t rows,
                             int64_t units, nb_rng *rng);

#endif
