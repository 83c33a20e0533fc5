/* NumPy's broadcasting rules, shared by every op that broadcasts (the
 * elementwise arithmetic, where, broadcast_to, matmul's batch dimensions).
 *
 * Shapes are aligned from the right; a missing leading dimension counts as 1;
 * two dimensions agree when they are equal or one of them is 1, and the
 * result takes the larger. */
#ifndef NABLA_OPS_BROADCAST_H
#define NABLA_OPS_BROADCAST_H

#include "internal.h"

/* The broadcast shape of a (rank_a, shape_a) and b (rank_b, shape_b) in
 * (*rank, shape). On a mismatch, NB_ERR_SHAPE with a message in NumPy's
 * words that starts with `fn` (the public function, as "nb_add") and names
 * both shapes and the dimension that disagrees. */
nb_status nb__broadcast_shape(const char *fn, int rank_a, const int64_t *shape_a, int rank_b,
                              const int64_t *shape_b, int *rank, int64_t shape[NB_MAX_RANK]);

/* Element strides of a row-major tensor (rank, shape) read as if it had the
 * broadcast shape (out_rank, out_shape): strides[d] for each output axis d,
 * 0 where the axis is missing from the tensor or stretched from size 1. The
 * caller has checked that the shapes broadcast. */
void nb__broadcast_strides(int rank, const int64_t *shape, int out_rank, const int64_t *out_shape,
                           int64_t strides[NB_MAX_RANK]);

#endif
