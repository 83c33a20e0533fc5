/* The replaceable allocator. */
#include "nabla/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *default_alloc(size_t bytes, void *user)
{
    (void)user;
    return malloc(bytes ? bytes : 1);
}

static void default_release(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

static nb_allocator current = {default_alloc, default_release, NULL};

void nb_set_allocator(const nb_allocator *allocator)
{
    if (allocator)
        current = *allocator;
    else
        current = (nb_allocator){default_alloc, default_release, NULL};
}

void *nb_alloc(size_t bytes) { return current.alloc(bytes, current.user); }

void *nb_alloc_zeroed(size_t bytes)
{
    void *p = nb_alloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void nb_release(void *ptr)
{
    if (ptr)
        current.release(ptr, current.user);
}
