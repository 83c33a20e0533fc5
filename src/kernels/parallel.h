/* nabla's thread pool: splits a range of work into one contiguous part per
 * thread (nb_set_num_threads). The parts depend only on the range, the grain
 * and the thread count, never on timing, so results are the same run after
 * run for a given thread count; with one thread the function is called once
 * on the whole range, exactly as a plain loop would be. */
#ifndef NABLA_KERNELS_PARALLEL_H
#define NABLA_KERNELS_PARALLEL_H

#include <stdbool.h>
#include <stdint.h>

#define NB_MAX_THREADS 64

/* Work on [begin, end) of a range; ctx is the caller's. */
typedef void (*nb__range_fn)(void *ctx, int64_t begin, int64_t end);

/* Threads the pool splits work across; the first call makes the automatic
 * choice (threads.c) unless nb_set_num_threads made one. */
int nb__num_threads(void);

/* Start or stop workers so that the pool has n threads (the caller counts as
 * one); returns the count it reached (fewer if a thread could not start). */
int nb__pool_resize(int n);

/* True on a thread while it runs a part of nb__parallel_for's work (the
 * pool cannot be resized from there: the job holds it). */
bool nb__in_parallel_part(void);

/* While set on a thread, nb__parallel_for runs every part on that thread
 * (the same parts, so the same results); returns the previous setting. For
 * work too small to be worth moving between CPUs (fit's small steps). */
bool nb__set_serial(bool serial);

/* How many jobs have been handed to the workers (the tests count them). */
uint64_t nb__pool_jobs_posted(void);

/* Call fn on parts of [0, n): as many parts as threads, but no part smaller
 * than `grain` items, and part boundaries at multiples of `align`. The
 * caller runs the first part and returns when all are done. When the pool
 * is busy (a call from inside a part, or from a second user thread) the
 * caller runs the same parts itself, one after the other. */
void nb__parallel_for(int64_t n, int64_t grain, int64_t align, nb__range_fn fn, void *ctx);

#endif
