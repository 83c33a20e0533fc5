/* Data-parallel training with MPI: the communicator and the exchanges fit.c
 * makes (distributed_internal.h says what each one promises).
 *
 * Every exchange is one collective call that carries, besides its data, one
 * status slot per rank: rank r writes its status into slot r and zeros
 * elsewhere, so after the sum (or minimum) every rank knows which ranks
 * failed. Then the first failing rank broadcasts its message and every rank
 * returns an error; nobody is left waiting for a rank that gave up. A
 * training step is a single MPI_Allreduce over one buffer that holds every
 * gradient, the batch's loss and metric sums, its sample count and the
 * slots. All buffers are allocated when the communicator is made or when fit
 * starts, so a step allocates nothing.
 *
 * MPI's own errors are returned, not fatal (MPI_ERRORS_RETURN on our
 * duplicate of the communicator); after one the communicator is marked
 * broken and every later call fails at once without communicating. */
#include <inttypes.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "nabla/distributed.h"
#include "nn/distributed_internal.h"

#define MESSAGE_SIZE 512
#define AGREE_MAX 8 /* values nb__dist_agree can compare */

struct nb_comm {
    MPI_Comm mpi;          /* our duplicate: messages apart from the program's */
    int rank, size;
    int64_t *agree;        /* 2 AGREE_MAX + 1 + size: nb__dist_agree */
    double *sums;          /* NB_MAX_METRICS + 2 + size: nb__dist_sum */
    int *counts, *displs;  /* size each: nb__dist_gather_rows */
    void *step;            /* gradients, sums and slots: nb__dist_average_gradients */
    size_t step_bytes;
    nb_status pending;     /* a deferred failure (nb__dist_defer) and its message */
    char pending_message[MESSAGE_SIZE];
    bool broken;           /* an MPI call failed: no more communication */
};

bool nb_mpi_available(void) { return true; }

/* ---- errors -------------------------------------------------------------- */

static nb_status mpi_failed(nb_comm *c, const char *fn, const char *call, int code)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error code %d", code);
    if (c)
        c->broken = true;
    return nb_error(NB_ERR_STATE, "%s%s%s failed: %s", fn ? fn : "", fn ? ": " : "", call, text);
}

static nb_status check_usable(const nb_comm *c, const char *fn)
{
    if (!c->broken)
        return NB_OK;
    return nb_error(NB_ERR_STATE, "%s%san earlier MPI call failed on this communicator: the "
                    "ranks can no longer work together", fn ? fn : "", fn ? ": " : "");
}

/* s, or the failure deferred by nb__dist_defer (its message back in place). */
static nb_status take_pending(nb_comm *c, nb_status s)
{
    if (c->pending != NB_OK && s == NB_OK)
        s = nb_error(c->pending, "%s", c->pending_message);
    c->pending = NB_OK;
    return s;
}

/* The first rank whose slot is not 0, or -1. */
static int first_failed_int64(const nb_comm *c, const int64_t *slots)
{
    for (int r = 0; r < c->size; r++)
        if (slots[r] != 0)
            return r;
    return -1;
}

/* After a collective showed that rank `root` failed with `status`: it
 * broadcasts its message; ranks that did not fail take it as their error,
 * naming the rank (without repeating fn when the message starts with it). */
static nb_status spread_failure(nb_comm *c, const char *fn, int root, nb_status status,
                                nb_status mine)
{
    char message[MESSAGE_SIZE];
    if (c->rank == root)
        snprintf(message, sizeof message, "%s", nb_last_error());
    int rc = MPI_Bcast(message, MESSAGE_SIZE, MPI_CHAR, root, c->mpi);
    if (rc != MPI_SUCCESS)
        return mpi_failed(c, fn, "MPI_Bcast", rc);
    if (mine != NB_OK)
        return mine; /* our own failure, with our own message */
    message[MESSAGE_SIZE - 1] = '\0';
    const char *text = message;
    size_t fn_len = fn ? strlen(fn) : 0;
    if (fn && strncmp(text, fn, fn_len) == 0 && strncmp(text + fn_len, ": ", 2) == 0)
        text += fn_len + 2;
    return nb_error(status, "%s%srank %d of %d failed: %s", fn ? fn : "", fn ? ": " : "", root,
                    c->size, text);
}

/* ---- communicators ------------------------------------------------------- */

nb_status nb_mpi_init(int *argc, char ***argv)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (finalized)
        return nb_error(NB_ERR_STATE, "nb_mpi_init: MPI was already finalised: it cannot start "
                        "again in this process");
    if (!initialized && MPI_Init(argc, argv) != MPI_SUCCESS)
        return nb_error(NB_ERR_STATE, "nb_mpi_init: MPI_Init failed");
    return NB_OK;
}

nb_status nb_mpi_finalize(void)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized && MPI_Finalize() != MPI_SUCCESS)
        return nb_error(NB_ERR_STATE, "nb_mpi_finalize: MPI_Finalize failed");
    return NB_OK;
}

static nb_comm *alloc_comm(int size)
{
    nb_comm *c = nb_alloc_zeroed(sizeof *c);
    if (!c)
        return NULL;
    c->mpi = MPI_COMM_NULL; /* not 0: nb_comm_free tests for it */
    c->size = size;
    size_t n = (size_t)size;
    c->agree = nb_alloc((2 * AGREE_MAX + 1 + n) * sizeof *c->agree);
    c->sums = nb_alloc((NB_MAX_METRICS + 2 + n) * sizeof *c->sums);
    c->counts = nb_alloc(n * sizeof *c->counts);
    c->displs = nb_alloc(n * sizeof *c->displs);
    if (c->agree && c->sums && c->counts && c->displs)
        return c;
    nb_release(c->agree);
    nb_release(c->sums);
    nb_release(c->counts);
    nb_release(c->displs);
    nb_release(c);
    return NULL;
}

/* Our own duplicate of base, with errors returned. Collective over base. */
static nb_comm *wrap(const char *fn, MPI_Comm base)
{
    int initialized = 0, finalized = 0, inter = 0, size = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized) {
        nb_error(NB_ERR_STATE, "%s: MPI is %s: call nb_mpi_init first (and nb_mpi_finalize "
                 "last)", fn, finalized ? "already finalised" : "not initialised");
        return NULL;
    }
    if (base == MPI_COMM_NULL) {
        nb_error(NB_ERR_ARG, "%s: the communicator is MPI_COMM_NULL: expected a communicator "
                 "this process belongs to", fn);
        return NULL;
    }
    MPI_Comm_test_inter(base, &inter);
    if (inter) {
        nb_error(NB_ERR_ARG, "%s: the communicator is an inter-communicator: expected an "
                 "intra-communicator (such as MPI_COMM_WORLD)", fn);
        return NULL;
    }
    MPI_Comm_size(base, &size);
    /* Duplicate first (collective), then allocate, then agree: a rank that
     * ran out of memory must not leave the others waiting in the dup. */
    MPI_Comm dup = MPI_COMM_NULL;
    int rc = MPI_Comm_dup(base, &dup);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
    nb_comm *c = rc == MPI_SUCCESS ? alloc_comm(size) : NULL;
    int ok = c != NULL, all_ok = 0;
    if (rc == MPI_SUCCESS)
        rc = MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, dup);
    if (rc != MPI_SUCCESS || !all_ok) {
        if (rc != MPI_SUCCESS)
            mpi_failed(NULL, fn, "MPI_Comm_dup", rc);
        else
            nb_error(NB_ERR_NOMEM, "%s: out of memory for a communicator of %d ranks%s", fn,
                     size, ok ? " on another rank" : "");
        nb_comm_free(c); /* its mpi is MPI_COMM_NULL */
        if (dup != MPI_COMM_NULL)
            MPI_Comm_free(&dup);
        return NULL;
    }
    c->mpi = dup;
    MPI_Comm_rank(c->mpi, &c->rank);
    return c;
}

nb_comm *nb_comm_world(void) { return wrap("nb_comm_world", MPI_COMM_WORLD); }

nb_comm *nb_comm_from_mpi(const void *mpi_comm)
{
    if (!mpi_comm) {
        nb_error(NB_ERR_NULL, "nb_comm_from_mpi: mpi_comm is NULL: expected the address of an "
                 "MPI_Comm");
        return NULL;
    }
    return wrap("nb_comm_from_mpi", *(const MPI_Comm *)mpi_comm);
}

void nb_comm_free(nb_comm *comm)
{
    if (!comm)
        return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (comm->mpi != MPI_COMM_NULL && !finalized)
        MPI_Comm_free(&comm->mpi);
    nb_release(comm->agree);
    nb_release(comm->sums);
    nb_release(comm->counts);
    nb_release(comm->displs);
    nb_release(comm->step);
    nb_release(comm);
}

int nb_comm_rank(const nb_comm *comm) { return comm ? comm->rank : 0; }
int nb_comm_size(const nb_comm *comm) { return comm ? comm->size : 1; }

nb_status nb_model_set_comm(nb_model *model, nb_comm *comm)
{
    if (!model)
        return nb_error(NB_ERR_NULL, "nb_model_set_comm: model is NULL");
    model->comm = comm;
    return NB_OK;
}

nb_comm *nb_model_comm(const nb_model *model) { return model ? model->comm : NULL; }

/* ---- sharing out rows ---------------------------------------------------- */

static void share_of(int rank, int size, int64_t count, int64_t *first, int64_t *n)
{
    *first = count * rank / size;
    *n = count * (rank + 1) / size - *first;
}

void nb__dist_share(const nb_comm *comm, int64_t count, int64_t *first, int64_t *n)
{
    share_of(nb_comm_rank(comm), nb_comm_size(comm), count, first, n);
}

bool nb__dist_is_root(const nb_comm *comm) { return nb_comm_rank(comm) == 0; }

nb_status nb__dist_defer(nb_model *model, nb_status s)
{
    nb_comm *c = model->comm;
    if (!c || s == NB_OK)
        return s;
    if (c->pending == NB_OK) {
        c->pending = s;
        snprintf(c->pending_message, sizeof c->pending_message, "%s", nb_last_error());
    }
    return NB_OK;
}

/* ---- agreement ----------------------------------------------------------- */

/* Layout of c->agree, reduced with MPI_MIN: values, their negations (so the
 * minimum also gives the maximum), -stop_training, then -status per rank. */
nb_status nb__dist_agree(nb_model *model, const char *fn, nb_status s, int n,
                         const int64_t *values, const char *const *names)
{
    nb_comm *c = model ? model->comm : NULL;
    if (!c)
        return s;
    if (check_usable(c, fn) != NB_OK)
        return NB_ERR_STATE;
    s = take_pending(c, s);
    int64_t *a = c->agree, *slots = a + 2 * AGREE_MAX + 1;
    memset(a, 0, (2 * AGREE_MAX + 1 + (size_t)c->size) * sizeof *a);
    for (int i = 0; i < n && i < AGREE_MAX; i++)
        a[i] = values[i], a[AGREE_MAX + i] = -values[i];
    a[2 * AGREE_MAX] = -(int64_t)model->stop_training;
    slots[c->rank] = -(int64_t)s;
    int rc = MPI_Allreduce(MPI_IN_PLACE, a, 2 * AGREE_MAX + 1 + c->size, MPI_INT64_T, MPI_MIN,
                           c->mpi);
    if (rc != MPI_SUCCESS)
        return mpi_failed(c, fn, "MPI_Allreduce", rc);
    int root = first_failed_int64(c, slots);
    if (root >= 0)
        return spread_failure(c, fn, root, (nb_status)-slots[root], s);
    for (int i = 0; i < n && i < AGREE_MAX; i++)
        if (a[i] != -a[AGREE_MAX + i])
            return nb_error(NB_ERR_ARG, "%s: the ranks disagree on %s: from %" PRId64 " to %"
                            PRId64 " across the %d ranks: every rank must pass the same data "
                            "and options", fn, names[i], a[i], -a[AGREE_MAX + i], c->size);
    model->stop_training = a[2 * AGREE_MAX] != 0;
    return NB_OK;
}

/* ---- weights and the training RNG ----------------------------------------- */

/* The step buffer holds the gradients, the loss, the metrics, the sample
 * count and one slot per rank, in the model's dtype. */
static size_t step_count(const nb_model *model, const nb_comm *c)
{
    size_t n = 0;
    for (int w = 0; w < model->n_weights; w++)
        n += (size_t)model->weights[w]->size;
    return n + 2 + NB_MAX_METRICS + (size_t)c->size;
}

/* Reserve the step buffer and every gradient now, so that no step
 * allocates (a rank with no rows in its first step has no gradients yet). */
static nb_status reserve(nb_model *model, nb_comm *c)
{
    const char *fn = "nb_model_fit";
    for (int w = 0; w < model->n_weights; w++) {
        nb_tensor *t = model->weights[w];
        if (t->dtype != model->dtype)
            return nb_error(NB_ERR_DTYPE, "%s: weight '%s' is %s in a %s model: training across "
                            "ranks needs every weight in the model's dtype", fn, t->name,
                            nb_dtype_name(t->dtype), nb_dtype_name(model->dtype));
        if (!nb__ensure_grad(t))
            return nb_error(NB_ERR_NOMEM, "%s: out of memory for the gradient of '%s'", fn,
                            t->name);
    }
    /* the optimizer's state too: a rank whose first step failed to make it
     * would leave the exchange while the others wait in it */
    if (model->optimizer &&
        nb_optimizer_build(model->optimizer, model->n_weights, model->weights) != NB_OK)
        return nb_last_status();
    size_t count = step_count(model, c);
    if (count > INT_MAX)
        return nb_error(NB_ERR_ARG, "%s: %zu values to exchange per step: MPI takes at most %d",
                        fn, count, INT_MAX);
    size_t bytes = count * nb_dtype_size(model->dtype);
    if (c->step_bytes < bytes) {
        void *bigger = nb_alloc(bytes);
        if (!bigger)
            return nb_error(NB_ERR_NOMEM, "%s: out of memory for the %zu-byte gradient buffer",
                            fn, bytes);
        nb_release(c->step);
        c->step = bigger;
        c->step_bytes = bytes;
    }
    return NB_OK;
}

int64_t nb__dist_weights_hash(const nb_model *model)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int w = 0; w < model->n_weights; w++) {
        const nb_tensor *t = model->weights[w];
        const unsigned char *b = t->data;
        for (size_t i = 0; i < (size_t)t->size * nb_dtype_size(t->dtype); i++)
            h = (h ^ b[i]) * 0x100000001b3ULL;
    }
    return (int64_t)(h >> 1); /* non-negative: the agreement negates values */
}

/* Copy every weight's data into buf (to_buf) or back out of it. */
static void copy_weights(nb_model *model, char *buf, bool to_buf)
{
    size_t at = 0;
    for (int w = 0; w < model->n_weights; w++) {
        nb_tensor *t = model->weights[w];
        size_t bytes = (size_t)t->size * nb_dtype_size(t->dtype);
        if (to_buf)
            memcpy(buf + at, t->data, bytes);
        else
            memcpy(t->data, buf + at, bytes);
        at += bytes;
    }
}

static MPI_Datatype mpi_type(nb_dtype dtype) { return dtype == NB_F32 ? MPI_FLOAT : MPI_DOUBLE; }

nb_status nb__dist_broadcast_weights(nb_model *model)
{
    nb_comm *c = model->comm;
    if (!c)
        return NB_OK;
    const char *fn = "nb_model_fit";
    nb_status s = nb__dist_agree(model, fn, reserve(model, c), 0, NULL, NULL);
    if (s != NB_OK)
        return s;
    if (c->rank == 0)
        copy_weights(model, c->step, true);
    size_t n = step_count(model, c) - 2 - NB_MAX_METRICS - (size_t)c->size;
    int rc = MPI_Bcast(c->step, (int)n, mpi_type(model->dtype), 0, c->mpi);
    if (rc != MPI_SUCCESS)
        return mpi_failed(c, fn, "MPI_Bcast", rc);
    if (c->rank != 0)
        copy_weights(model, c->step, false);
    return NB_OK;
}

nb_status nb__dist_sync_rng(nb_model *model)
{
    nb_comm *c = model->comm;
    if (!c)
        return NB_OK;
    if (check_usable(c, NULL) != NB_OK)
        return NB_ERR_STATE;
    int rc = MPI_Bcast(model->train_rng.s, 4, MPI_UINT64_T, 0, c->mpi);
    return rc == MPI_SUCCESS ? NB_OK : mpi_failed(c, NULL, "MPI_Bcast", rc);
}

void nb__dist_fork_rng(nb_model *model)
{
    nb_comm *c = model->comm;
    if (c && c->rank > 0) /* the golden-ratio constant spreads the ranks apart */
        nb_rng_seed(&model->train_rng,
                    nb_rng_next(&model->train_rng) ^ (0x9E3779B97F4A7C15ULL * (uint64_t)c->rank));
}

/* ---- a training step ------------------------------------------------------ */

/* Fill the step buffer (of element type T): each gradient times scale (0
 * when this rank contributes nothing), the batch sums, this rank's status. */
#define PACK_STEP(T)                                                                         \
    do {                                                                                     \
        T *out = c->step;                                                                    \
        for (int w = 0; w < model->n_weights; w++) {                                         \
            const nb_tensor *t = model->weights[w];                                          \
            const T *g = t->grad;                                                            \
            if (scale == 0) /* not even stale NaNs from an earlier step */                   \
                memset(out, 0, (size_t)t->size * sizeof *out);                               \
            for (int64_t i = 0; scale != 0 && i < t->size; i++)                              \
                out[i] = (T)scale * g[i];                                                    \
            out += t->size;                                                                  \
        }                                                                                    \
        out[0] = (T)batch->loss;                                                             \
        for (int i = 0; i < NB_MAX_METRICS; i++)                                             \
            out[1 + i] = (T)batch->metrics[i];                                               \
        out[1 + NB_MAX_METRICS] = (T)batch->samples;                                         \
        T *slots = out + 2 + NB_MAX_METRICS;                                                 \
        for (int r = 0; r < c->size; r++)                                                    \
            slots[r] = r == c->rank ? (T)s : 0;                                              \
    } while (0)

/* Read the summed buffer back: gradients, sums, and the first failed rank. */
#define UNPACK_STEP(T)                                                                       \
    do {                                                                                     \
        const T *in = c->step;                                                               \
        for (int w = 0; w < model->n_weights; w++) {                                         \
            const nb_tensor *t = model->weights[w];                                          \
            memcpy(t->grad, in, (size_t)t->size * sizeof *in);                               \
            in += t->size;                                                                   \
        }                                                                                    \
        batch->loss = in[0];                                                                 \
        for (int i = 0; i < NB_MAX_METRICS; i++)                                             \
            batch->metrics[i] = in[1 + i];                                                   \
        batch->samples = (int64_t)in[1 + NB_MAX_METRICS];                                    \
        const T *slots = in + 2 + NB_MAX_METRICS;                                            \
        for (int r = c->size - 1; r >= 0; r--)                                               \
            if (slots[r] != 0)                                                               \
                root = r, status = (nb_status)slots[r];                                      \
    } while (0)

nb_status nb__dist_average_gradients(nb_model *model, nb_status s, int64_t n, int64_t count,
                                     nb__batch_sums *batch)
{
    nb_comm *c = model->comm;
    if (!c)
        return s;
    if (check_usable(c, NULL) != NB_OK)
        return NB_ERR_STATE;
    s = take_pending(c, s);
    /* each rank has the gradient of the mean over its n rows: weighted by
     * n / count, their sum is the gradient of the mean over all count rows */
    double scale = s == NB_OK && n > 0 ? (double)n / (double)count : 0.0;
    if (model->dtype == NB_F32)
        PACK_STEP(float);
    else
        PACK_STEP(double);
    int rc = MPI_Allreduce(MPI_IN_PLACE, c->step, (int)step_count(model, c),
                           mpi_type(model->dtype), MPI_SUM, c->mpi);
    if (rc != MPI_SUCCESS)
        return mpi_failed(c, NULL, "MPI_Allreduce", rc);
    int root = -1;
    nb_status status = NB_OK;
    if (model->dtype == NB_F32)
        UNPACK_STEP(float);
    else
        UNPACK_STEP(double);
    return root >= 0 ? spread_failure(c, NULL, root, status, s) : NB_OK;
}

/* ---- evaluation and prediction -------------------------------------------- */

nb_status nb__dist_sum(nb_model *model, const char *fn, nb_status s, nb__batch_sums *sums)
{
    nb_comm *c = model->comm;
    if (!c)
        return s;
    if (check_usable(c, fn) != NB_OK)
        return NB_ERR_STATE;
    s = take_pending(c, s);
    double *d = c->sums, *slots = d + 2 + NB_MAX_METRICS;
    d[0] = sums->loss;
    memcpy(d + 1, sums->metrics, sizeof sums->metrics);
    d[1 + NB_MAX_METRICS] = (double)sums->samples;
    for (int r = 0; r < c->size; r++)
        slots[r] = r == c->rank ? (double)s : 0.0;
    int rc = MPI_Allreduce(MPI_IN_PLACE, d, 2 + NB_MAX_METRICS + c->size, MPI_DOUBLE, MPI_SUM,
                           c->mpi);
    if (rc != MPI_SUCCESS)
        return mpi_failed(c, fn, "MPI_Allreduce", rc);
    for (int r = 0; r < c->size; r++)
        if (slots[r] != 0)
            return spread_failure(c, fn, r, (nb_status)slots[r], s);
    sums->loss = d[0];
    memcpy(sums->metrics, d + 1, sizeof sums->metrics);
    sums->samples = (int64_t)d[1 + NB_MAX_METRICS];
    return NB_OK;
}

nb_status nb__dist_gather_rows(nb_model *model, const char *fn, nb_status s, nb_tensor *result)
{
    nb_comm *c = model->comm;
    if (!c)
        return s;
    s = nb__dist_agree(model, fn, s, 0, NULL, NULL);
    if (s != NB_OK)
        return s;
    int64_t rows = result->shape[0], row_size = result->size / rows;
    if (rows > INT_MAX || row_size > INT_MAX)
        return nb_error(NB_ERR_ARG, "%s: %" PRId64 " rows of %" PRId64 " values: MPI takes "
                        "at most %d of each", fn, rows, row_size, INT_MAX);
    for (int r = 0; r < c->size; r++) {
        int64_t first, n;
        share_of(r, c->size, rows, &first, &n);
        c->displs[r] = (int)first, c->counts[r] = (int)n;
    }
    /* counted in rows, so that a large result stays within int counts */
    MPI_Datatype row;
    int rc = MPI_Type_contiguous((int)row_size, mpi_type(result->dtype), &row);
    if (rc == MPI_SUCCESS)
        rc = MPI_Type_commit(&row);
    if (rc != MPI_SUCCESS)
        return mpi_failed(c, fn, "MPI_Type_contiguous", rc);
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, result->data, c->counts, c->displs,
                        row, c->mpi);
    MPI_Type_free(&row);
    return rc == MPI_SUCCESS ? NB_OK : mpi_failed(c, fn, "MPI_Allgatherv", rc);
}
