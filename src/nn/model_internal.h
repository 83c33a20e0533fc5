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
    int epoch;         /* epochs completed, as fit counts them (nb_model_epoch) */
    int resume_epoch;  /* set by a restore in on_train_begin: fit starts there; -1 */
    bool built, compiled, stop_training;
    nb_optimizer *optimizer; /* owned */
    nb_loss loss;
    const nb_metric *metrics[NB_MAX_METRICS];
    int n_metrics;
    nb_tensor **weights; /* every layer's params in order (owned by the layers) */
    int n_weights;
    nb_tape *tape;       /* reused by every step of fit, evaluate and predict */
    struct nb_comm *comm; /* ranks to train across (distributed.h); NULL: alone */
    struct nb__replicas *replicas; /* fit's copies for its threads (fit_threads.c); owned */
};

/* Sums over the batches of an epoch (fit.c), each batch's values weighted
 * by its number of samples; distributed.c adds them up across ranks. */
typedef struct nb__batch_sums {
    double loss;
    double metrics[NB_MAX_METRICS];
    int64_t samples;
} nb__batch_sums;

/* logs.c */
void nb__logs_put(nb_logs *logs, const char *prefix, const char *name, double value);
nb_status nb__history_append(nb_history *history, const nb_logs *logs);

/* Forward a batch through every layer. */
nb_tensor *nb__model_forward(nb_model *model, nb_tape *tape, nb_tensor *x, bool training);

/* fit_step.c: rows of src onto the tape in `dtype` (rows[0..n) when rows is
 * given, else first .. first + n); and the loss and metrics of one batch,
 * added to acc (training also runs backward into the weights' gradients). */
nb_tensor *nb__gather_rows(nb_tape *tape, const nb_tensor *src, const int64_t *rows,
                           int64_t first, int64_t n, nb_dtype dtype);
nb_status nb__run_batch(nb_model *model, nb_tensor *xb, nb_tensor *yb, bool training,
                        nb__batch_sums *acc);
/* What fit knows from one training step to the next (fit_step.c). */
typedef struct nb__step_state {
    bool may_fuse;   /* the optimizer may run inside the sweep: not a fit's first step */
    bool grads_zero; /* every weight's gradient is zero or absent: the last step ran
                      * fused and zeroed them, and fit has run no callback since */
} nb__step_state;
/* One training step on the batch rows[0..count) of x, y: forward and
 * backward on this rank's share of the rows (all of them without a
 * communicator), the gradients checked and averaged over the ranks, one
 * optimizer step; the loss and metric sums added to acc. Every rank takes
 * part in the exchange, also one with no rows or one that failed. Reads and
 * updates *state. */
nb_status nb__train_step(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                         const int64_t *rows, int64_t count, nb__step_state *state,
                         nb__batch_sums *acc);

/* fit_threads.c: how many parts to split a training step of n rows into
 * across nabla's threads; 1 (do not split) with one thread, few rows, an
 * f64 model or a layer that cannot be copied. May (re)build the replicas. */
int nb__thread_parts(nb_model *model, int64_t n);
/* True when a training step of n rows is too little work to share between
 * threads: fit then runs all of it on the calling thread (nb__set_serial). */
bool nb__step_is_small(const nb_model *model, int64_t n);
/* One training step's forward and backward on rows[0..n) in `parts`
 * contiguous parts, one per thread, each on its own copy of the model:
 * leaves the gradient of the mean loss over the n rows in the model's
 * weights and adds the loss and metric sums to batch, as nb__run_batch
 * does for the whole batch. *finite is set when every gradient is known
 * to be finite (checked while summing the parts); false says nothing. */
nb_status nb__run_batch_split(nb_model *model, const nb_tensor *x, const nb_tensor *y,
                              const int64_t *rows, int64_t n, int parts, nb__batch_sums *batch,
                              bool *finite);
/* Free the replicas (nb_model_free). NULL is ignored. */
void nb__replicas_free(struct nb__replicas *replicas);

/* callback.c: a copy of a callback's file path (the caller releases it), or
 * NULL with an error naming fn: "path is NULL" / "path is empty", or out of
 * memory. ModelCheckpoint and BackupAndRestore check their paths so. */
char *nb__callback_path(const char *fn, const char *path);

#endif
