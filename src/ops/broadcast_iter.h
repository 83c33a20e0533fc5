/* Walking the output of a broadcasting op row by row, with each input's
 * offset at the start of the row and its step (1 or 0) along the row.
 *
 * Axes that every input treats alike are merged first (size-1 axes dropped,
 * neighbours merged where each input's strides run on contiguously), so equal
 * shapes become a single row of every element and [n, m] + [m] becomes n
 * rows of m: the inner loop over a row is a plain loop the compiler can
 * vectorise, and the per-row bookkeeping is paid once per row. */
#ifndef NABLA_OPS_BROADCAST_ITER_H
#define NABLA_OPS_BROADCAST_ITER_H

#include "internal.h"

typedef struct nb__bcast_iter {
    int n_inputs;
    int rank;                                   /* merged axes, >= 1 */
    int64_t shape[NB_MAX_RANK];                 /* merged output shape */
    int64_t strides[NB_MAX_INPUTS][NB_MAX_RANK]; /* per input, 0 where stretched */
    int64_t index[NB_MAX_RANK];                 /* position in the outer axes */
    int64_t rows;                               /* product of the outer axes */
    int64_t row_len;                            /* the last merged axis */
    int64_t step[NB_MAX_INPUTS];                /* stride along the row: 1 or 0 */
    int64_t offset[NB_MAX_INPUTS];              /* of the current row's start */
} nb__bcast_iter;

/* Start at row 0 of node's output, for its first n_inputs inputs (each of
 * which broadcasts to the output's shape: infer has checked). */
void nb__bcast_iter_init(nb__bcast_iter *it, const nb_node *node, int n_inputs);

/* Move the offsets to the next row (row r + 1 starts at r * row_len + row_len
 * in the output). */
void nb__bcast_iter_next(nb__bcast_iter *it);

#endif
