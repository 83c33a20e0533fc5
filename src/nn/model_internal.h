/* The Sequential model's fields, shared by sequential.c and fit.c. */
#ifndef NABLA_MODEL_INTERNAL_H
#define NABLA_MODEL_INTERNAL_H

#include "internal.h"
#include "nabla/model.h"

struct nb_model {
    nb_layer **layers; /* owned */
    int n_layers, cap_layers;
    int in_rank;       /* -1 until nb_model_set_input_shape */
    int64_t in_shape[NB_MAX_RANK];
    nb_dtype dtype;
    uint64_t seed;
    nb_rng train_rng;  /* shuffling and dropout; continues across fits */
    bool built, compiled, stop_training;
    nb_optimizer *optimizer; /* owned */
    nb_loss loss;
    const nb_metric *metrics[NB_MAX_METRICS];
    int n_metrics;
    nb_tensor **weights; /* every layer's params in order (owned by the layers) */
    int n_weights;
    nb_tape *tape;       /* reused by every step of fit, evaluate and predict */
};

/* logs.c */
void nb__logs_put(nb_logs *logs, const char *prefix, const char *name, double value);
nb_status nb__history_append(nb_history *history, const nb_logs *logs);

/* Forward a batch through every layer. */
nb_tensor *nb__model_forward(nb_model *model, nb_tape *tape, nb_tensor *x, bool training);

#endif
