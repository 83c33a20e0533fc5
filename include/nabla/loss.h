/* nabla/loss.h: losses, each a composition of ops (no hand-written backward).
 *
 * A loss maps predictions and targets of the same batch to a scalar (the mean
 * over the batch) on a tape, so nb_backward(loss) trains through it. Like an
 * op, a loss returns a tensor on `tape` (freed by nb_tape_reset), or a
 * caller-owned one when tape is NULL (then nothing is recorded). Predictions
 * and targets must have the same dtype; on a mismatch of shape or dtype the
 * loss returns NULL with a message naming the loss and both shapes (or
 * dtypes). Given a NULL input it returns NULL and keeps the earlier message.
 *
 * Probabilities are clipped to [1e-7, 1 - 1e-7] before their log, as Keras
 * does, so p = 0 or 1 gives a finite loss and a finite (zero) gradient. */
#ifndef NABLA_LOSS_H
#define NABLA_LOSS_H

#include "nabla/tape.h"
#include "nabla/tensor.h"

/* The clipping bound of the cross-entropies: Keras's backend epsilon. */
#define NB_LOSS_EPSILON 1e-7

/* mean((pred - target)^2) over every element. */
nb_tensor *nb_loss_mse(nb_tape *tape, nb_tensor *pred, nb_tensor *target);
/* mean(|pred - target|). */
nb_tensor *nb_loss_mae(nb_tape *tape, nb_tensor *pred, nb_tensor *target);
/* -mean over rows of sum_j target_j log(clip(p_j, 1e-7, 1 - 1e-7)), for
 * probabilities p [n, classes] (any rank >= 1: the last axis holds the
 * classes) and one-hot (or soft) targets of the same shape. Unlike Keras,
 * p is not rescaled to sum to 1 first: pass softmax outputs. */
nb_tensor *nb_loss_categorical_crossentropy(nb_tape *tape, nb_tensor *probs, nb_tensor *target);
/* -mean over rows of sum_j target_j log_softmax(logits)_j: the same from
 * unnormalised logits, exact and stable (logits of +-1000 are fine). */
nb_tensor *nb_loss_categorical_crossentropy_logits(nb_tape *tape, nb_tensor *logits,
                                                   nb_tensor *target);
/* Categorical cross-entropy with class indices as targets: probs [n, classes]
 * and labels [n] (or [n, 1]) holding integers in [0, classes), one-hot
 * encoded with nb_one_hot. */
nb_tensor *nb_loss_sparse_categorical_crossentropy(nb_tape *tape, nb_tensor *probs,
                                                   nb_tensor *labels);
/* -mean(t log(clip(p)) + (1 - t) log(1 - clip(p))) over every element, p and
 * t of the same shape, clip as above. */
nb_tensor *nb_loss_binary_crossentropy(nb_tape *tape, nb_tensor *probs, nb_tensor *target);

/* A loss a model can be compiled with: built-in or your own. */
typedef nb_tensor *(*nb_loss_fn)(nb_tape *tape, nb_tensor *pred, nb_tensor *target);
typedef struct nb_loss {
    const char *name; /* used in summaries and saved model files */
    nb_loss_fn fn;
} nb_loss;

/* A built-in loss by its Keras name: "mean_squared_error" (or "mse"),
 * "mean_absolute_error" ("mae"), "categorical_crossentropy",
 * "categorical_crossentropy_from_logits", "sparse_categorical_crossentropy",
 * "binary_crossentropy". An alias gives the entry of the full name (its
 * `name` is "mean_squared_error" for "mse"). The result is static: never
 * free it. NULL with an error listing the names otherwise. */
const nb_loss *nb_loss_get(const char *name);

#endif
