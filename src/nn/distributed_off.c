/* nabla/distributed.h in a build without MPI: there is no way to make a
 * communicator, so every model trains alone. The functions that need MPI
 * say so; fit.c's exchanges (distributed_internal.h) do only their local
 * part, as they do in an MPI build for a model without a communicator. */
#include "nabla/distributed.h"
#include "nn/distributed_internal.h"

#define WITHOUT_MPI "nabla was built without MPI: install libopenmpi-dev and reconfigure " \
                    "with -Dmpi=enabled (docs/distributed.md)"

bool nb_mpi_available(void) { return false; }

nb_status nb_mpi_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return nb_error(NB_ERR_STATE, "nb_mpi_init: " WITHOUT_MPI);
}

nb_status nb_mpi_finalize(void) { return NB_OK; }

nb_comm *nb_comm_world(void)
{
    nb_error(NB_ERR_STATE, "nb_comm_world: " WITHOUT_MPI);
    return NULL;
}

nb_comm *nb_comm_from_mpi(const void *mpi_comm)
{
    (void)mpi_comm;
    nb_error(NB_ERR_STATE, "nb_comm_from_mpi: " WITHOUT_MPI);
    return NULL;
}

void nb_comm_free(nb_comm *comm)
{
    (void)comm;
}

int nb_comm_rank(const nb_comm *comm)
{
    (void)comm;
    return 0;
}

int nb_comm_size(const nb_comm *comm)
{
    (void)comm;
    return 1;
}

nb_status nb_model_set_comm(nb_model *model, nb_comm *comm)
{
    if (!model)
        return nb_error(NB_ERR_NULL, "nb_model_set_comm: model is NULL");
    if (comm) /* cannot be one of ours: nb_comm_world never returns one here */
        return nb_error(NB_ERR_STATE, "nb_model_set_comm: " WITHOUT_MPI);
    model->comm = NULL;
    return NB_OK;
}

nb_comm *nb_model_comm(const nb_model *model)
{
    (void)model;
    return NULL;
}

/* ---- fit.c's exchanges: this process alone ---------------------------------- */

void nb__dist_share(const nb_comm *comm, int64_t count, int64_t *first, int64_t *n)
{
    (void)comm;
    *first = 0;
    *n = count;
}

bool nb__dist_is_root(const nb_comm *comm)
{
    (void)comm;
    return true;
}

nb_status nb__dist_agree(nb_model *model, const char *fn, nb_status s, int n,
                         const int64_t *values, const char *const *names)
{
    (void)model, (void)fn, (void)n, (void)values, (void)names;
    return s;
}

int64_t nb__dist_weights_hash(const nb_model *model)
{
    (void)model;
    return 0;
}

nb_status nb__dist_broadcast_weights(nb_model *model)
{
    (void)model;
    return NB_OK;
}

nb_status nb__dist_sync_rng(nb_model *model)
{
    (void)model;
    return NB_OK;
}

void nb__dist_fork_rng(nb_model *model)
{
    (void)model;
}

nb_status nb__dist_average_gradients(nb_model *model, nb_status s, int64_t n, int64_t count,
                                     nb__batch_sums *batch)
{
    (void)model, (void)n, (void)count, (void)batch;
    return s;
}

nb_status nb__dist_sum(nb_model *model, const char *fn, nb_status s, nb__batch_sums *sums)
{
    (void)model, (void)fn, (void)sums;
    return s;
}

nb_status nb__dist_gather_rows(nb_model *model, const char *fn, nb_status s, nb_tensor *result)
{
    (void)model, (void)fn, (void)result;
    return s;
}

nb_status nb__dist_defer(nb_model *model, nb_status s)
{
    (void)model;
    return s;
}
