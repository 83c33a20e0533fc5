/* nabla/metric.h: metrics, compositions of (non-differentiable) ops.
 *
 * A metric maps a batch of predictions and targets to a scalar; fit and
 * evaluate average it over an epoch, weighting each batch by its size. The
 * result lives on `tape` (caller-owned when tape is NULL) and, for the
 * accuracies, never requires a gradient. Shapes and dtypes are checked as for
 * the losses, with messages naming the metric. */
#ifndef NABLA_METRIC_H
#define NABLA_METRIC_H

#include "nabla/loss.h"
#include "nabla/tape.h"
#include "nabla/tensor.h"

/* Fraction of rows whose argmax matches the one-hot target's argmax (ties go
 * to the lowest index); pred and target of the same shape, rank >= 1. */
nb_tensor *nb_metric_categorical_accuracy(nb_tape *tape, nb_tensor *pred, nb_tensor *target);
/* Fraction of rows whose argmax equals the class index in labels [n] (or
 * [n, 1]); pred is [n, classes]. */
nb_tensor *nb_metric_sparse_categorical_accuracy(nb_tape *tape, nb_tensor *pred,
                                                 nb_tensor *labels);
/* Fraction of elements where (pred > 0.5) equals the 0/1 target. */
nb_tensor *nb_metric_binary_accuracy(nb_tape *tape, nb_tensor *pred, nb_tensor *target);
/* The mean absolute and mean squared errors, as the losses compute them. */
nb_tensor *nb_metric_mae(nb_tape *tape, nb_tensor *pred, nb_tensor *target);
nb_tensor *nb_metric_mse(nb_tape *tape, nb_tensor *pred, nb_tensor *target);

typedef struct nb_metric {
    const char *name; /* the name in logs and history: "accuracy", "mae" */
    nb_loss_fn fn;    /* same signature as a loss */
} nb_metric;

/* A built-in metric by name: "accuracy" (chosen from the loss as Keras does:
 * sparse with sparse_categorical_crossentropy, binary with
 * binary_crossentropy, categorical otherwise; `loss` may be NULL),
 * "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
 * "mae" ("mean_absolute_error"), "mse" ("mean_squared_error"). The result's
 * name is the name asked for, as Keras logs it. The result is static: never
 * free it. NULL with an error listing the names otherwise. */
const nb_metric *nb_metric_get(const char *name, const nb_loss *loss);

#endif
