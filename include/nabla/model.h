/* nabla/model.h: Sequential models, Keras-style.
 *
 *     nb_model *model = nb_sequential();
 *     nb_model_set_input_shape(model, NB_SHAPE(28, 28));
 *     nb_model_add(model, nb_flatten_layer());
 *     nb_model_add(model, nb_dense(128, NB_RELU));
 *     nb_model_add(model, nb_dense(10, NB_SOFTMAX));
 *     nb_model_compile(model, &(nb_compile_options){
 *         .optimizer = nb_adam_default(),
 *         .loss = "categorical_crossentropy",
 *         .metrics = {"accuracy"}});
 *     nb_fit_options fit = nb_fit_defaults();
 *     fit.epochs = 10;
 *     fit.validation_split = 0.2;
 *     nb_history *history = nb_model_fit(model, x_train, y_train, &fit);
 *
 * The model owns its layers, its optimizer and its tape; fit, evaluate and
 * predict take caller-owned data tensors with the samples on axis 0.
 */
#ifndef NABLA_MODEL_H
#define NABLA_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nabla/layer.h"
#include "nabla/loss.h"
#include "nabla/metric.h"
#include "nabla/optim.h"
#include "nabla/tensor.h"

#define NB_MAX_METRICS 4
#define NB_MAX_CALLBACKS 8

typedef struct nb_model nb_model;

/* ---- logs and history ---------------------------------------------------- */

/* Named values at the end of an epoch or batch: "loss", "accuracy",
 * "val_loss", "val_accuracy"... */
#define NB_LOGS_MAX 12
typedef struct nb_logs {
    int n;
    char names[NB_LOGS_MAX][32];
    double values[NB_LOGS_MAX];
} nb_logs;

/* The value of a named log entry, or NaN when absent. */
double nb_logs_get(const nb_logs *logs, const char *name);

/* Per-epoch logs of a fit; owned by the caller (nb_history_free). */
typedef struct nb_history {
    int epochs;      /* epochs run (early stopping may end before the last) */
    int capacity;
    nb_logs *logs;   /* logs[epoch] */
} nb_history;

/* The series of one name over the epochs, written into out[0..epochs);
 * returns the number written, or -1 when the name is absent. */
int nb_history_series(const nb_history *history, const char *name, double *out, int max);
void nb_history_free(nb_history *history);

/* ---- callbacks ----------------------------------------------------------- */

typedef struct nb_callback nb_callback;
struct nb_callback {
    const char *name;
    void *state;
    /* Each hook may be NULL. Returning an error stops fit with that error.
     * The weights' grads are not the batch's gradients in a hook: fit may
     * update each weight inside its backward sweep and zero its gradient
     * there (nabla/optim.h). */
    nb_status (*on_train_begin)(nb_callback *self, nb_model *model);
    nb_status (*on_epoch_end)(nb_callback *self, nb_model *model, int epoch, const nb_logs *logs);
    nb_status (*on_batch_end)(nb_callback *self, nb_model *model, int64_t batch,
                              const nb_logs *logs);
    nb_status (*on_train_end)(nb_callback *self, nb_model *model);
    void (*destroy)(nb_callback *self); /* frees state and self; may be NULL */
};

/* Stop when `monitor` ("val_loss" by default when NULL) has not improved by
 * more than min_delta for `patience` epochs; optionally put back the weights
 * of the best epoch. Metrics named like accuracy improve upwards, others
 * downwards. Free with nb_callback_free (fit does not take ownership). */
nb_callback *nb_early_stopping(const char *monitor, int patience, double min_delta,
                               bool restore_best_weights);
/* An epoch whose logs lack `monitor` is an error naming the monitor and the
 * names the logs have. The hooks may be called by hand (a custom training
 * loop); without restore_best_weights the model may then be NULL.
 * After a fit (or such calls): the epoch (from 0) at which early stopping
 * stopped training, or -1 when it did not; the best monitored value, or NaN
 * before any epoch. Both give -1 / NaN for other callbacks. */
int nb_early_stopping_stopped_epoch(const nb_callback *callback);
double nb_early_stopping_best(const nb_callback *callback);
void nb_callback_free(nb_callback *callback);

/* Ask fit to stop after the current epoch (for callbacks). */
void nb_model_stop_training(nb_model *model);

/* The number of the last epoch fit completed, counted from 1 as fit counts
 * them (so initial_epoch included); 0 before any. Saved in model files and
 * restored with them: after nb_model_load, set initial_epoch to it to go on
 * where the saved run stopped. */
int nb_model_epoch(const nb_model *model);

/* ---- building ------------------------------------------------------------ */

/* A new empty Sequential model (f32, seed 0). Free with nb_model_free. */
nb_model *nb_sequential(void);
void nb_model_free(nb_model *model);

/* The shape of one sample (no batch axis), as Keras's Input(shape=...). */
nb_status nb_model_set_input_shape(nb_model *model, int rank, const int64_t *shape);
/* Seed for weight initialisation, dropout and shuffling (default 0). */
nb_status nb_model_set_seed(nb_model *model, uint64_t seed);
/* Parameter dtype: NB_F32 (default) for training, NB_F64 for checking. */
nb_status nb_model_set_dtype(nb_model *model, nb_dtype dtype);

/* Append a layer. The model owns the layer from this call on, even when the
 * call fails (then the layer is freed), so calls can be chained. */
nb_status nb_model_add(nb_model *model, nb_layer *layer);

/* Build every layer for the input shape (done by compile when the input
 * shape is known). */
nb_status nb_model_build(nb_model *model);

typedef struct nb_compile_options {
    nb_optimizer *optimizer;    /* the model takes ownership */
    const char *loss;           /* a built-in loss by name (nb_loss_get) */
    const nb_loss *custom_loss; /* or a loss of your own (then loss is NULL) */
    const char *metrics[NB_MAX_METRICS]; /* built-in metric names; NULL ends */
} nb_compile_options;

/* Set optimizer, loss and metrics, and build. The optimizer is owned by the
 * model from this call on, even when it fails. */
nb_status nb_model_compile(nb_model *model, const nb_compile_options *options);

/* ---- training and inference ---------------------------------------------- */

typedef struct nb_fit_options {
    int epochs;              /* >= 1: the epoch to stop after, counted from 1 */
    int initial_epoch;       /* epochs already done (resuming): 0 <= it < epochs */
    int64_t batch_size;      /* >= 1 */
    double validation_split; /* in [0, 1): the last fraction of x, y */
    const nb_tensor *validation_x, *validation_y; /* or explicit data */
    bool shuffle;            /* shuffle training rows every epoch */
    int verbose;             /* 0 silent, 1 progress bar, 2 a line per epoch */
    nb_callback *callbacks[NB_MAX_CALLBACKS]; /* NULL ends; not owned */
    FILE *out;               /* where progress goes; NULL means stdout */
} nb_fit_options;

/* epochs 1, batch_size 32, no validation, shuffle, verbose 1. */
nb_fit_options nb_fit_defaults(void);

/* Train on x [n, ...input shape] and y [n, ...]. Returns the history
 * (caller-owned) or NULL with an error. On one thread each weight's update
 * runs inside the backward sweep, as soon as its gradient is final, with
 * the results of a separate nb_optimizer_step; a step that fails part way
 * says in its message how many weights had taken it (nabla/optim.h). */
nb_history *nb_model_fit(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                         const nb_fit_options *options);

/* Loss and metrics over x, y in batches; logs gets "loss" and each metric. */
nb_status nb_model_evaluate(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                            int64_t batch_size, nb_logs *logs);

/* Outputs for x in batches (batch_size 0 means 32); caller-owned. */
nb_tensor *nb_model_predict(nb_model *model, const nb_tensor *x, int64_t batch_size);

/* Forward one batch on a tape (for custom training loops and checks). With
 * tape == NULL nothing is recorded and the result is caller-owned. */
nb_tensor *nb_model_forward(nb_model *model, nb_tape *tape, nb_tensor *x, bool training);

/* ---- inspection ------------------------------------------------------------ */

/* A Keras-like table of layers, output shapes and parameter counts. */
nb_status nb_model_summary(const nb_model *model, FILE *out);
int64_t nb_model_param_count(const nb_model *model);

int nb_model_layer_count(const nb_model *model);
nb_layer *nb_model_layer(const nb_model *model, int i);

/* Every parameter of every layer in order (kernel, bias, ...), owned by the
 * model: nb_model_weight_count() of them. */
int nb_model_weight_count(const nb_model *model);
nb_tensor *nb_model_weight(const nb_model *model, int i);
/* Copy values into the model's weights (same count, shapes in order). */
nb_status nb_model_set_weights(nb_model *model, int n, const nb_tensor *const weights[]);

const nb_optimizer *nb_model_optimizer(const nb_model *model);
const nb_loss *nb_model_loss(const nb_model *model);
int nb_model_metric_count(const nb_model *model);
const nb_metric *nb_model_metric(const nb_model *model, int i);
nb_dtype nb_model_dtype(const nb_model *model);
/* Input shape (no batch axis); rank -1 when not set. */
int nb_model_input_shape(const nb_model *model, int64_t shape[NB_MAX_RANK]);

#endif
