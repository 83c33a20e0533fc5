/* nabla/movement.h: ops that move values without computing new ones.
 *
 * Transpose, concatenate, slice, stack, squeeze and expand_dims, with
 * NumPy's meaning. Like every op (nabla/ops.h) each takes the tape first;
 * with tape == NULL the result is caller-owned (free it with
 * nb_tensor_free), otherwise it lives on the tape until nb_tape_reset. The
 * result is always a new contiguous tensor, never a view of the input. An
 * axis may be negative and then counts from the end (-1 is the last). f32
 * and f64. On error an op returns NULL and sets a message naming itself and
 * the shapes or values involved; given a NULL input it returns NULL and keeps
 * the earlier message. Each backward is gradient-checked in f64.
 */
#ifndef NABLA_MOVEMENT_H
#define NABLA_MOVEMENT_H

#include "nabla/tape.h"
#include "nabla/tensor.h"

/* The axes of x in the order perm gives: out.shape[i] = x.shape[perm[i]].
 * perm has x->rank entries (negative ones count from the end) that name
 * every axis once; NULL reverses the axes (a matrix's transpose). Error
 * (NB_ERR_ARG) when perm is not a permutation, naming it. */
nb_tensor *nb_transpose(nb_tape *tape, nb_tensor *x, const int *perm);

/* xs[0], ..., xs[n-1] joined along an existing axis, as NumPy's
 * concatenate: the shapes must agree except on that axis, whose sizes add
 * up. n may be 1 (a copy). Errors: n < 1 or xs NULL (NB_ERR_ARG), a scalar,
 * a rank or shape that differs off the axis (NB_ERR_SHAPE, naming the
 * tensor's index and both shapes), mixed dtypes (NB_ERR_DTYPE), an axis out
 * of range (NB_ERR_ARG). */
nb_tensor *nb_concat(nb_tape *tape, int n, nb_tensor *const xs[], int axis);

/* Elements start to stop - 1 of x along `axis`, the other axes whole: x's
 * shape with that axis stop - start long. Negative start or stop count from
 * the end, as in Python (-1 is the last element). A slice that would be
 * empty or reach outside the axis is an error (NB_ERR_ARG) naming start,
 * stop and the axis's size: nothing is clamped. */
nb_tensor *nb_slice(nb_tape *tape, nb_tensor *x, int axis, int64_t start, int64_t stop);

/* xs[0], ..., xs[n-1], all of one shape, joined along a new axis, as
 * NumPy's stack: n tensors of shape [a, b] stacked on axis 1 give [a, n, b].
 * axis runs from -(rank + 1) to rank. Errors as nb_concat's, and when the
 * result would pass rank 4. */
nb_tensor *nb_stack(nb_tape *tape, int n, nb_tensor *const xs[], int axis);

/* x without its size-1 axis `axis`: [2, 1, 3] squeezed on axis 1 is [2, 3].
 * Errors: the axis out of range, or its size is not 1 (NB_ERR_SHAPE). */
nb_tensor *nb_squeeze(nb_tape *tape, nb_tensor *x, int axis);

/* x with a new axis of size 1 at position `axis` of the result, as NumPy's
 * expand_dims: [2, 3] on axis 0 is [1, 2, 3], on axis -1 [2, 3, 1]. axis
 * runs from -(rank + 1) to rank. Error when the rank would pass 4. */
nb_tensor *nb_expand_dims(nb_tape *tape, nb_tensor *x, int axis);

#endif
