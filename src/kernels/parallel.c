/* The thread pool behind nb__parallel_for.
 *
 * Workers are started at first use, or by nb_set_num_threads (threads.c
 * chooses how many), and live until the count is lowered again. A job is
 * a fixed list of parts. Posting it publishes one atomic word, `state`
 * (generation, number of parts, next unclaimed part); the caller and the
 * workers claim parts from it, so the caller goes on to
 * the next part itself when a worker is slow to wake (or not scheduled at
 * all, on a busy machine) instead of waiting for it. Which thread runs a
 * part never changes what the part computes: a worker takes the caller's
 * floating-point control (rounding, flushing of subnormals) for the part.
 *
 * Waiting threads poll for a few tens of microseconds before sleeping on a
 * condition variable: a training step posts several jobs a millisecond and
 * waking a sleeping thread costs about as much as a job, but on a shared
 * machine a thread must not spin for long. */
#include "kernels/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "kernels/fpenv.h"
#include "kernels/threads.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* How long a thread polls before it sleeps. */
#define SPIN_NS 30000

/* state = generation << 16 | parts << 8 | next part to claim */
#define STATE(gen, parts, next) ((uint64_t)(gen) << 16 | (uint64_t)(parts) << 8 | (uint64_t)(next))
#define STATE_GEN(s) ((s) >> 16)
#define STATE_PARTS(s) ((int)(((s) >> 8) & 0xff))
#define STATE_NEXT(s) ((int)((s) & 0xff))

typedef struct job {
    nb__range_fn fn;
    void *ctx;
    int parts;
    unsigned fp_control; /* the caller's (nb__fp_control) */
    int64_t bounds[NB_MAX_THREADS + 1]; /* part i is [bounds[i], bounds[i + 1]) */
} job;

static struct {
    pthread_mutex_t dispatch; /* held while a job runs: one job at a time */
    pthread_mutex_t mu;       /* guards the sleeps below */
    pthread_cond_t wake;      /* workers: a new job or stop */
    pthread_cond_t done;      /* caller: every part finished */
    _Atomic uint64_t state;   /* see STATE */
    atomic_int finished;      /* parts of the current job finished */
    atomic_bool stop;
    job job; /* written only while no part of the previous job is running */
    atomic_int n_threads; /* the caller plus n_threads - 1 workers */
    uint64_t start_gen;   /* the job generation when the workers were started */
    pthread_t workers[NB_MAX_THREADS];
} pool = {
    .dispatch = PTHREAD_MUTEX_INITIALIZER,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .n_threads = 1,
};

int nb__num_threads(void)
{
    nb__threads_decide();
    return atomic_load(&pool.n_threads);
}

/* Set while this thread runs work of nb__parallel_for's (run_range). */
static _Thread_local bool in_part;

bool nb__in_parallel_part(void) { return in_part; }

/* Set by nb__set_serial: this thread runs its jobs' parts itself. */
static _Thread_local bool serial_here;

bool nb__set_serial(bool serial)
{
    bool was = serial_here;
    serial_here = serial;
    return was;
}

static void run_range(nb__range_fn fn, void *ctx, int64_t begin, int64_t end)
{
    bool outer = in_part; /* true in a nested call, made inside a part */
    in_part = true;
    fn(ctx, begin, end);
    in_part = outer;
}

static void run_part(const job *j, int part)
{
    if (j->bounds[part] < j->bounds[part + 1]) {
        nb__fp_set_control(j->fp_control);
        run_range(j->fn, j->ctx, j->bounds[part], j->bounds[part + 1]);
    }
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Poll `done(arg)` for up to SPIN_NS; true when it became true. */
static bool spin_until(bool (*done)(const void *), const void *arg)
{
    int64_t deadline = now_ns() + SPIN_NS;
    for (;;) {
        for (int i = 0; i < 32; i++) {
            if (done(arg))
                return true;
            CPU_RELAX();
        }
        if (now_ns() > deadline)
            return done(arg);
    }
}

static bool new_job_or_stop(const void *seen)
{
    return STATE_GEN(atomic_load_explicit(&pool.state, memory_order_acquire)) !=
               *(const uint64_t *)seen ||
           atomic_load(&pool.stop);
}

static bool all_finished(const void *parts)
{
    return atomic_load_explicit(&pool.finished, memory_order_acquire) == *(const int *)parts;
}

/* Claim the next part of job generation `gen`; -1 when none is left. */
static int claim(uint64_t gen)
{
    uint64_t s = atomic_load_explicit(&pool.state, memory_order_acquire);
    while (STATE_GEN(s) == gen && STATE_NEXT(s) < STATE_PARTS(s))
        if (atomic_compare_exchange_weak(&pool.state, &s, s + 1))
            return STATE_NEXT(s);
    return -1;
}

/* Claim and run parts of job `gen` until none is left. */
static void run_parts(uint64_t gen)
{
    int part;
    while ((part = claim(gen)) >= 0) {
        const job *j = &pool.job;
        int parts = j->parts; /* the caller may post the next job once this part counts */
        run_part(j, part);
        if (atomic_fetch_add_explicit(&pool.finished, 1, memory_order_acq_rel) + 1 == parts) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
}

static void *worker_main(void *arg)
{
    (void)arg;
    /* not the generation now: a job posted before this thread got here
     * would be taken for one already seen, and its parts left to others */
    uint64_t seen = pool.start_gen;
    for (;;) {
        if (!spin_until(new_job_or_stop, &seen)) {
            pthread_mutex_lock(&pool.mu);
            while (!new_job_or_stop(&seen))
                pthread_cond_wait(&pool.wake, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        if (atomic_load(&pool.stop))
            return NULL;
        seen = STATE_GEN(atomic_load_explicit(&pool.state, memory_order_acquire));
        run_parts(seen);
    }
}

static void wait_until_finished(int parts)
{
    if (spin_until(all_finished, &parts))
        return;
    pthread_mutex_lock(&pool.mu);
    while (!all_finished(&parts))
        pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
}

static void stop_workers(void)
{
    pthread_mutex_lock(&pool.mu);
    atomic_store(&pool.stop, true);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 1; i < atomic_load(&pool.n_threads); i++)
        pthread_join(pool.workers[i], NULL);
    atomic_store(&pool.stop, false);
    atomic_store(&pool.n_threads, 1);
}

int nb__pool_resize(int n)
{
    if (n < 1)
        n = 1;
    if (n > NB_MAX_THREADS)
        n = NB_MAX_THREADS;
    pthread_mutex_lock(&pool.dispatch);
    if (n != atomic_load(&pool.n_threads)) {
        stop_workers();
        pool.start_gen = STATE_GEN(atomic_load(&pool.state));
        int started = 1;
        while (started < n &&
               pthread_create(&pool.workers[started], NULL, worker_main, NULL) == 0)
            started++;
        atomic_store(&pool.n_threads, started);
    }
    int reached = atomic_load(&pool.n_threads);
    pthread_mutex_unlock(&pool.dispatch);
    return reached;
}

/* Part boundaries: as even as `align` allows. */
static int split(int64_t n, int64_t grain, int64_t align, int threads, int64_t *bounds)
{
    int64_t most = grain > 0 ? n / grain : n;
    int parts = most < threads ? (int)(most > 1 ? most : 1) : threads;
    bounds[0] = 0;
    for (int i = 1; i < parts; i++) {
        int64_t b = n * i / parts;
        bounds[i] = align > 1 ? b - b % align : b;
        if (bounds[i] < bounds[i - 1])
            bounds[i] = bounds[i - 1];
    }
    bounds[parts] = n;
    return parts;
}

static void run_serially(const job *j)
{
    for (int i = 0; i < j->parts; i++)
        run_part(j, i);
}

/* Jobs handed to the workers so far; only ever changed by the thread that
 * holds pool.dispatch, but read without it (atomic: another user thread may
 * be posting). */
static _Atomic uint64_t jobs_posted;

uint64_t nb__pool_jobs_posted(void)
{
    return atomic_load_explicit(&jobs_posted, memory_order_relaxed);
}

/* Publish job j as the next generation and wake as many sleeping workers
 * as it has parts besides the caller's: on a machine with many cores the
 * others sleep on (workers already polling take parts too, and the caller
 * claims whatever is left, so no part waits for a thread that was not
 * woken). */
static uint64_t post(const job *j)
{
    atomic_fetch_add_explicit(&jobs_posted, 1, memory_order_relaxed);
    pool.job = *j;
    atomic_store_explicit(&pool.finished, 0, memory_order_relaxed);
    uint64_t gen = STATE_GEN(atomic_load(&pool.state)) + 1;
    pthread_mutex_lock(&pool.mu);
    atomic_store_explicit(&pool.state, STATE(gen, j->parts, 0), memory_order_release);
    for (int i = 1; i < j->parts; i++)
        pthread_cond_signal(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    return gen;
}

void nb__parallel_for(int64_t n, int64_t grain, int64_t align, nb__range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    int threads = nb__num_threads();
    if (threads == 1 || n < 2 * grain) {
        run_range(fn, ctx, 0, n);
        return;
    }
    job j = {.fn = fn, .ctx = ctx, .fp_control = nb__fp_control()};
    j.parts = split(n, grain, align, threads, j.bounds);
    /* asked to, or busy (nested call, or another user thread): same parts,
     * this thread */
    if (j.parts == 1 || serial_here || pthread_mutex_trylock(&pool.dispatch) != 0) {
        run_serially(&j);
        return;
    }
    uint64_t gen = post(&j);
    run_parts(gen);
    wait_until_finished(j.parts);
    pthread_mutex_unlock(&pool.dispatch);
}
