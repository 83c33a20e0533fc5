/* The loop the movement ops share, and their axis checks.
 *
 * Transpose, slice and concat all copy a box of elements from one tensor
 * into another: an index space of up to four axes, read through one set of
 * strides and written through another. Each backward is its forward's walk
 * run the other way round, adding the output's gradient into the input's. */
#ifndef NABLA_OPS_WALK_H
#define NABLA_OPS_WALK_H

#include "ops/ops_internal.h"

/* dst[sum i_d dst_stride[d]] (=, or +=) src[sum i_d src_stride[d]] for every
 * index i of shape. A shorter rank is padded on the left with size-1 axes. */
typedef struct nb__strided_walk {
    int64_t shape[NB_MAX_RANK];
    int64_t dst_stride[NB_MAX_RANK];
    int64_t src_stride[NB_MAX_RANK];
} nb__strided_walk;

/* The walk over (rank, shape) with the given strides (in elements). */
nb__strided_walk nb__walk_over(int rank, const int64_t *shape, const int64_t *dst_stride,
                               const int64_t *src_stride);
/* The same walk with source and destination swapped: a backward's walk. */
nb__strided_walk nb__walk_reversed(nb__strided_walk w);
/* Run the walk w; offsets are in elements. accumulate: += instead of =. */
void nb__walk(const nb__strided_walk *w, nb_dtype dtype, void *dst, int64_t dst_offset,
              const void *src, int64_t src_offset, bool accumulate);
/* The element strides of a contiguous row-major tensor of that shape. */
void nb__row_major_strides(int rank, const int64_t *shape, int64_t strides[NB_MAX_RANK]);

/* axis resolved against `rank` axes (negative counts from the end) into
 * *resolved; otherwise NB_ERR_ARG with a message that starts with fn and
 * names the tensor t as `what`. */
nb_status nb__resolve_axis(const char *fn, const char *what, const nb_tensor *t, int axis,
                           int rank, int *resolved);
/* A public function given a NULL tensor returns NULL, keeping the message of
 * the call that produced it (or saying "<fn>: <what> is NULL" when there was
 * none). */
nb_tensor *nb__null_input(const char *fn, const char *what);

#endif
