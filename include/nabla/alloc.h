/* nabla/alloc.h: the allocator every nabla allocation goes through.
 *
 * By default nabla uses malloc/calloc/free. A program (or a test) can install
 * its own functions, for example to count allocations in a training step or to
 * make the n-th allocation fail. Install it before creating any nabla object,
 * and keep it until every object is freed. With nb_set_num_threads(n > 1)
 * nabla's threads may call it at the same time, so it must be thread-safe
 * (the default one is). */
#ifndef NABLA_ALLOC_H
#define NABLA_ALLOC_H

#include <stddef.h>

typedef struct nb_allocator {
    void *(*alloc)(size_t bytes, void *user); /* may return NULL */
    void (*release)(void *ptr, void *user);   /* ptr may be NULL */
    void *user;
} nb_allocator;

/* Install `allocator`, or the default one when it is NULL. */
void nb_set_allocator(const nb_allocator *allocator);

/* Allocate through the installed allocator; NULL on failure (no message). */
void *nb_alloc(size_t bytes);

/* Like nb_alloc, then zero the bytes. */
void *nb_alloc_zeroed(size_t bytes);

/* Release memory from nb_alloc or nb_alloc_zeroed. NULL is ignored. */
void nb_release(void *ptr);

#endif
