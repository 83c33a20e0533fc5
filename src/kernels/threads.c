/* nabla's thread policy: how many threads compute, and OpenBLAS's own.
 *
 * OpenBLAS starts its own threads on every product by default, and on the
 * small products of a training step they race with each other and with
 * nabla: a demo MNIST epoch took 1.7 times as long as with OpenBLAS kept
 * to one thread (issue 20). So at first use (the first product, split or
 * nb_num_threads call) nabla decides once for the process, unless the
 * program has already called nb_set_num_threads:
 *
 *   NABLA_NUM_THREADS=n (1 to 64)  n threads; 0, or unset, the rules below
 *   OPENBLAS_NUM_THREADS=n > 1     one thread of nabla's, OpenBLAS keeps n
 *   OMP_NUM_THREADS=n              n threads (as PyTorch reads it)
 *   otherwise                      one per CPU the process may use (its
 *                                  affinity mask and cgroup quota),
 *                                  shared among the MPI ranks on the node
 *
 * and, except in the OPENBLAS_NUM_THREADS case, OpenBLAS is held at one
 * thread: nabla cuts the large products itself (gemm.c) and a training
 * step's batch (fit_threads.c), each part one single-threaded product,
 * and whether a step is cut is decided per step (nb__step_is_small,
 * nb__thread_parts). A bad NABLA_NUM_THREADS is reported on stderr once
 * (there is no caller to return it to) and ignored. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "kernels/threads.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/parallel.h"
#include "nabla/backend.h"
#include "nabla_config.h"

#if NB_HAVE_OPENBLAS_THREADS
#include <cblas.h>
#endif

/* ---- what the environment says -------------------------------------------- */

int nb__threads_parse(const char *name, const char *value, char *why, size_t size)
{
    if (!value || !*value)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno || end == value || *end || n < 0 || n > NB_MAX_THREADS) {
        snprintf(why, size, "%s is \"%s\": expected a whole number from 1 to %d, or 0 for "
                 "the automatic choice", name, value, NB_MAX_THREADS);
        return -1;
    }
    return (int)n;
}

/* Another library's count (OpenBLAS's, OpenMP's, MPI's): its leading
 * whole number, which may be above 64 (OMP_NUM_THREADS may list a count
 * per nesting level, "4,2": the first, the outermost, applies here); 0
 * when unset or not a count (that library reports it, not nabla). */
static int env_count(const char *name)
{
    const char *value = getenv(name);
    if (!value)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno || end == value || (*end && *end != ',') || n < 1 || n > 1000000)
        return 0;
    return (int)n;
}

/* CPUs the cgroup (v2) quota allows, rounded up; 0 when there is none. */
static int cgroup_cpus(void)
{
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (!f)
        return 0;
    long long quota = 0, period = 0;
    int got = fscanf(f, "%lld %lld", &quota, &period); /* "max 100000": no quota */
    fclose(f);
    if (got != 2 || quota <= 0 || period <= 0)
        return 0;
    return (int)((quota + period - 1) / period);
}

int nb__cpus_available(void)
{
    int cpus = 0;
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = CPU_COUNT(&set);
#endif
    if (cpus < 1) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        cpus = online > 0 ? (int)(online < NB_MAX_THREADS ? online : NB_MAX_THREADS) : 1;
    }
    int quota = cgroup_cpus();
    if (quota > 0 && quota < cpus)
        cpus = quota;
    return cpus < NB_MAX_THREADS ? cpus : NB_MAX_THREADS;
}

/* Processes of this MPI job on this machine (Open MPI, then MPICH's
 * Hydra), 1 outside mpirun: each gets its share of the CPUs. */
static int local_ranks(void)
{
    int n = env_count("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (n < 1)
        n = env_count("MPI_LOCALNRANKS");
    return n > 0 ? n : 1;
}

/* ---- the policy ----------------------------------------------------------- */

/* The decision: nabla's count, OpenBLAS's, and why. */
typedef struct choice {
    int threads;
    int blas_threads;   /* what to set OpenBLAS to */
    char source[96];    /* nb_num_threads_source */
} choice;

/* The automatic choice; false (and *why) when NABLA_NUM_THREADS is bad,
 * which is then ignored. */
static bool automatic(choice *c, char *why, size_t size)
{
    int n = nb__threads_parse("NABLA_NUM_THREADS", getenv("NABLA_NUM_THREADS"), why, size);
    int blas = env_count("OPENBLAS_NUM_THREADS"), omp = env_count("OMP_NUM_THREADS");
    c->blas_threads = 1;
    if (n > 0) {
        c->threads = n;
        snprintf(c->source, sizeof c->source, "NABLA_NUM_THREADS");
    } else if (blas > 1) { /* the user gave the cores to OpenBLAS */
        c->threads = 1;
        c->blas_threads = blas;
        snprintf(c->source, sizeof c->source, "OPENBLAS_NUM_THREADS=%d, for OpenBLAS", blas);
    } else if (omp > 0) {
        c->threads = omp < NB_MAX_THREADS ? omp : NB_MAX_THREADS;
        snprintf(c->source, sizeof c->source, "OMP_NUM_THREADS");
    } else {
        int cpus = nb__cpus_available(), ranks = local_ranks();
        c->threads = cpus / ranks > 1 ? cpus / ranks : 1;
        snprintf(c->source, sizeof c->source, "automatic: %d CPU%s", cpus, cpus == 1 ? "" : "s");
        if (ranks > 1)
            snprintf(c->source + strlen(c->source), sizeof c->source - strlen(c->source),
                     " / %d MPI ranks", ranks);
    }
    return n >= 0;
}

static struct {
    pthread_mutex_t mu;    /* held while a choice is applied */
    atomic_bool decided;   /* the pool's size is chosen */
    char source[96];
} policy = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void set_blas_threads(int n)
{
#if NB_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(n);
#else
    (void)n; /* another BLAS: its own variables decide (docs/performance.md) */
#endif
}

int nb__blas_threads(void)
{
#if NB_HAVE_OPENBLAS_THREADS
    return openblas_get_num_threads();
#else
    return 0;
#endif
}

/* Apply *c (policy.mu held); returns the count the pool reached. */
static int apply(const choice *c)
{
    set_blas_threads(c->blas_threads);
    int reached = nb__pool_resize(c->threads);
    snprintf(policy.source, sizeof policy.source, "%s", c->source);
    atomic_store_explicit(&policy.decided, true, memory_order_release);
    return reached;
}

void nb__threads_decide(void)
{
    if (atomic_load_explicit(&policy.decided, memory_order_acquire))
        return;
    pthread_mutex_lock(&policy.mu);
    if (!atomic_load(&policy.decided)) {
        choice c;
        char why[160];
        if (!automatic(&c, why, sizeof why))
            fprintf(stderr, "nabla: %s; using the automatic choice\n", why);
        apply(&c);
    }
    pthread_mutex_unlock(&policy.mu);
}

void nb__threads_forget(void)
{
    pthread_mutex_lock(&policy.mu);
    atomic_store(&policy.decided, false);
    pthread_mutex_unlock(&policy.mu);
}

nb_status nb_set_num_threads(int n)
{
    if (n < 0 || n > NB_MAX_THREADS)
        return nb_error(NB_ERR_ARG, "nb_set_num_threads: n is %d: expected 1 to %d, or 0 for "
                        "the automatic choice", n, NB_MAX_THREADS);
    if (nb__in_parallel_part()) /* resizing would wait for the job it is part of */
        return nb_error(NB_ERR_STATE, "nb_set_num_threads: called from code that runs on "
                        "nabla's threads (a layer's forward in a split training step): change "
                        "the thread count between computations");
    choice c = {.threads = n, .blas_threads = 1, .source = "nb_set_num_threads"};
    char why[160];
    bool env_ok = n > 0 || automatic(&c, why, sizeof why);
    pthread_mutex_lock(&policy.mu);
    int reached = apply(&c);
    pthread_mutex_unlock(&policy.mu);
    if (!env_ok)
        return nb_error(NB_ERR_ARG, "nb_set_num_threads: %s (the automatic choice, %d, is used)",
                        why, reached);
    if (reached < c.threads)
        return nb_error(NB_ERR_STATE, "nb_set_num_threads: could start only %d of %d threads",
                        reached, c.threads);
    return NB_OK;
}

int nb_num_threads(void) { return nb__num_threads(); }

const char *nb_num_threads_source(void)
{
    nb__threads_decide();
    return policy.source;
}
