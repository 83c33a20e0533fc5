/* What pool.c (the pooling ops) and pool_grad.c (their backward as ops,
 * for second derivatives) share: one pass over every window, and the ops
 * each file applies of the other's. */
#ifndef NABLA_OPS_POOL_INTERNAL_H
#define NABLA_OPS_POOL_INTERNAL_H

#include "ops/window.h"

/* The attrs a pooling was applied with and the sizes they give: all that
 * the ops of its backward need (their attrs). */
typedef struct nb_pool_geometry {
    nb_window_attrs attrs;
    nb_window g;
} nb_pool_geometry;

/* What a pass over the windows does; `from` and `to` are of x's shape
 * (image) or of the pooled output's (window), as the arrows say. */
typedef enum nb_pool_move {
    POOL_MAX_OF_WINDOWS,      /* image x -> window: to = the maximum */
    POOL_SCATTER_TO_WINNERS,  /* window -> image: to += from at each window's winner */
    POOL_GATHER_FROM_WINNERS, /* image -> window: to += from at each window's winner */
    POOL_AVERAGE_WINDOWS,     /* image -> window: to += the mean */
    POOL_SPREAD_OVER_WINDOWS, /* window -> image: to += from / count over the window */
} nb_pool_move;

/* One pass over every window of geometry g, in like's dtype. The winner of
 * a window is its first element (row-major) of x equal to y, the window's
 * maximum; x and y are read only by the two winner moves. */
void nb__pool_pass(const nb_window *g, nb_pool_move move, const nb_tensor *like, const void *x,
                   const void *y, const void *from, void *to);

/* Average pooling (pool.c) of x with p's attrs. */
nb_tensor *nb__avg_pool(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *x);

/* The backward of each pooling as ops (pool_grad.c), of x's shape:
 * g (the pooled output's shape) spread over the windows, and g scattered to
 * the winners of x's windows. */
nb_tensor *nb__avg_pool_input_grad(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *g);
nb_tensor *nb__max_pool_input_grad(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *x,
                                   nb_tensor *g);

#endif
