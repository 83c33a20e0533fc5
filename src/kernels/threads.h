/* nabla's thread policy (threads.c): the count nabla's pool starts with
 * when the program does not set one, and OpenBLAS's own threads. */
#ifndef NABLA_KERNELS_THREADS_H
#define NABLA_KERNELS_THREADS_H

#include <stddef.h>

/* Make the automatic choice unless a choice has been made: called before
 * any work is split (nb__num_threads, nb__parallel_for). Cheap after the
 * first call (one atomic load). */
void nb__threads_decide(void);

/* The count NABLA_NUM_THREADS's value (`name` for the message) asks for:
 * 1 to 64, 0 for unset, empty or "0" (automatic), -1 when the value is
 * not a count (then `why` says so, naming the variable). */
int nb__threads_parse(const char *name, const char *value, char *why, size_t size);

/* CPUs this process may run on: its affinity mask, within the cgroup's
 * CPU quota, at most 64. */
int nb__cpus_available(void);

/* OpenBLAS's own thread count now; 0 when the BLAS is not OpenBLAS. */
int nb__blas_threads(void);

/* Forget the choice, so that the next use makes the automatic one again
 * (the pool keeps its threads until then): for the tests of first use. */
void nb__threads_forget(void);

#endif
