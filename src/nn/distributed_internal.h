/* What fit.c asks of the communicator (src/nn/distributed.c with MPI,
 * src/nn/distributed_off.c without).
 *
 * Every function here is collective when the model has a communicator:
 * every rank calls the same ones in the same order, whether or not it has
 * failed, and passes its own status in. A function returns NB_OK only when
 * every rank passed NB_OK; otherwise it returns, on every rank, the status
 * of the first failing rank, and the ranks that did not fail get an error
 * message naming that rank and carrying its message. So a rank's failure
 * stops all of them at the same point instead of leaving the others waiting
 * in a collective that the failed rank never enters.
 *
 * Without a communicator (model->comm == NULL) each function does only the
 * local part (or nothing) and returns the status it was given. */
#ifndef NABLA_DISTRIBUTED_INTERNAL_H
#define NABLA_DISTRIBUTED_INTERNAL_H

#include "nabla/distributed.h"
#include "nn/model_internal.h"

/* This rank's part [*first, *first + *n) of `count` rows: contiguous, in
 * rank order, sizes differing by at most one (so possibly empty when count
 * is below the number of ranks). Without a communicator: all of them. */
void nb__dist_share(const nb_comm *comm, int64_t count, int64_t *first, int64_t *n);

/* Whether this rank prints and writes files: rank 0, or no communicator. */
bool nb__dist_is_root(const nb_comm *comm);

/* Agree on s; values[0..n) (named by names) must also be equal on every
 * rank, else NB_ERR_ARG naming the first that differs and its range. fn
 * starts the messages. Also ORs model->stop_training across the ranks. */
nb_status nb__dist_agree(nb_model *model, const char *fn, nb_status s, int n,
                         const int64_t *values, const char *const *names);

/* A hash of every weight's bytes (FNV-1a), for evaluate and predict to
 * check that the ranks hold the same model; 0 without MPI. */
int64_t nb__dist_weights_hash(const nb_model *model);

/* Copy rank 0's weights to every rank (at the start of fit). */
nb_status nb__dist_broadcast_weights(nb_model *model);

/* Give every rank rank 0's training RNG, so that all shuffle alike. */
nb_status nb__dist_sync_rng(nb_model *model);
/* Then move each rank > 0 to a stream of its own, so that dropout masks
 * differ between ranks. */
void nb__dist_fork_rng(nb_model *model);

/* One training step's exchange: this rank computed the gradients of the
 * mean loss over its n of the step's count rows (or nothing when n is 0 or
 * s is not NB_OK). Replaces every weight's gradient by the gradient of the
 * mean over all count rows, and batch by its sum over the ranks, with one
 * MPI_Allreduce that also carries the ranks' statuses. */
nb_status nb__dist_average_gradients(nb_model *model, nb_status s, int64_t n, int64_t count,
                                     nb__batch_sums *batch);

/* Sum sums over the ranks (evaluation), agreeing on s in the same call. */
nb_status nb__dist_sum(nb_model *model, const char *fn, nb_status s, nb__batch_sums *sums);

/* Each rank filled its share (nb__dist_share) of result's rows; give every
 * rank all of them. */
nb_status nb__dist_gather_rows(nb_model *model, const char *fn, nb_status s, nb_tensor *result);

/* A failure that must not stop this rank alone (a batch callback's): kept
 * and reported by the next collective call. Returns NB_OK then; without a
 * communicator returns s. */
nb_status nb__dist_defer(nb_model *model, nb_status s);

#endif
