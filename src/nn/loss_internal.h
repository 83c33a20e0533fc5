/* Checks and plumbing shared by the losses and metrics (src/nn/loss.c). */
#ifndef NABLA_LOSS_INTERNAL_H
#define NABLA_LOSS_INTERNAL_H

#include "nabla/loss.h"

/* NB_OK when a and b are non-NULL, of one dtype and one shape (rank >= 1 when
 * min_rank is 1); otherwise sets a message "fn: <a_name> is [..] but
 * <b_name> is [..]: ..." (none for a NULL input after an earlier error). */
nb_status nb__check_pair(const char *fn, const char *a_name, const nb_tensor *a,
                         const char *b_name, const nb_tensor *b, int min_rank);

/* NB_OK when pred is [n, classes] and labels [n] or [n, 1] of pred's dtype;
 * otherwise sets a message naming fn and pred as pred_name. */
nb_status nb__check_labels(const char *fn, const char *pred_name, const nb_tensor *pred,
                           const nb_tensor *labels);

/* labels as [n] (a reshape on tape when they are [n, 1]). */
nb_tensor *nb__labels_1d(nb_tape *tape, nb_tensor *labels);

/* The composition of a loss or metric, on a tape, from checked inputs. */
typedef nb_tensor *(*nb__compose_fn)(nb_tape *tape, nb_tensor *a, nb_tensor *b);

/* body(tape, a, b); with tape == NULL, body runs on a private tape (ops
 * applied with a NULL tape would hand every intermediate to the caller) and
 * the result is copied out caller-owned. A failure inside (a label out of
 * range found by nb_one_hot, no memory) is reported with fn, the public
 * loss or metric, in front of the op's message. */
nb_tensor *nb__compose(const char *fn, nb_tape *tape, nb__compose_fn body, nb_tensor *a,
                       nb_tensor *b);

#endif
