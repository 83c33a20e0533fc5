/* nabla/distributed.h: data-parallel training across processes with MPI.
 *
 *     nb_mpi_init(&argc, &argv);          // once, before anything else MPI
 *     nb_comm *world = nb_comm_world();
 *     nb_model_set_comm(model, world);    // fit, evaluate, predict now shard
 *     nb_history *h = nb_model_fit(model, x, y, &fit);  // on every rank
 *     ...
 *     nb_model_free(model);
 *     nb_comm_free(world);
 *     nb_mpi_finalize();
 *
 * and run the program with `mpirun -np 2 program` (docs/distributed.md).
 * Every rank passes the same data and options; batch_size is the global
 * batch: each step the ranks split its rows between them, average their
 * gradients with one MPI_Allreduce and take the same optimizer step, so the
 * weights stay identical on every rank and equal (up to rounding) to a
 * single-process run with that batch. Logs are the averages over all ranks;
 * only rank 0 prints progress and ModelCheckpoint writes only on rank 0.
 *
 * This header never includes mpi.h. In a build without MPI (meson option
 * -Dmpi=disabled, or Open MPI not installed) the functions that need MPI
 * return an error saying so, and a model without a communicator behaves as
 * it always did.
 */
#ifndef NABLA_DISTRIBUTED_H
#define NABLA_DISTRIBUTED_H

#include <stdbool.h>

#include "nabla/error.h"
#include "nabla/model.h"

/* A communicator: an MPI communicator that nabla duplicated for its own
 * messages, with MPI's errors returned instead of fatal. Opaque. */
typedef struct nb_comm nb_comm;

/* Whether this libnabla was built with MPI. */
bool nb_mpi_available(void);

/* Initialise MPI (MPI_Init) unless the program already did. argc and argv
 * may be NULL. NB_ERR_STATE without MPI or after nb_mpi_finalize (MPI
 * cannot start twice). */
nb_status nb_mpi_init(int *argc, char ***argv);

/* Finalise MPI if it is initialised and not yet finalised. Free every
 * nb_comm first. */
nb_status nb_mpi_finalize(void);

/* A communicator over every process of the run (MPI_COMM_WORLD), owned by
 * the caller (nb_comm_free, before nb_mpi_finalize). Collective: every rank
 * calls it. NULL with NB_ERR_STATE without MPI or before nb_mpi_init. */
nb_comm *nb_comm_world(void);

/* The same for a communicator of your own: mpi_comm points to an MPI_Comm
 * (pass &comm). NULL with NB_ERR_NULL for a NULL pointer and NB_ERR_ARG for
 * MPI_COMM_NULL or an inter-communicator. */
nb_comm *nb_comm_from_mpi(const void *mpi_comm);

/* Free a communicator (collective). NULL is ignored. */
void nb_comm_free(nb_comm *comm);

/* This process's rank in comm, from 0; 0 for a NULL comm (one process). */
int nb_comm_rank(const nb_comm *comm);
/* The number of ranks in comm (1 for NULL). */
int nb_comm_size(const nb_comm *comm);

/* Train, evaluate and predict across the ranks of comm, or in this process
 * alone when comm is NULL (the default). The model does not own comm, which
 * must outlive the model's use of it. Every rank sets the same communicator
 * on its copy of the model:
 *   fit       broadcasts the weights of rank 0 first, then shards each
 *             global batch across the ranks (see above);
 *   evaluate  shards the rows and returns the same logs on every rank;
 *   predict   shards the rows and returns the full result on every rank;
 *             both refuse (NB_ERR_ARG) when the ranks' weights differ.
 * A failure on one rank (an error, a NaN) makes every rank return an error
 * naming it, at the next step, instead of leaving the others waiting. A
 * rank that never reaches the exchange (no communicator set on it, an MPI
 * call that failed there only, a crash) cannot: use mpirun --timeout
 * (docs/distributed.md, "When a rank fails"). */
nb_status nb_model_set_comm(nb_model *model, nb_comm *comm);

/* The model's communicator, or NULL. */
nb_comm *nb_model_comm(const nb_model *model);

#endif
