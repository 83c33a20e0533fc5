/* nabla/indexing.h: picking elements by index (src/ops/take.c).
 *
 * Indices are held in an f32 or f64 tensor of integral values, as
 * nb_one_hot takes its labels; their dtype need not be x's. Indices are
 * never differentiated. Results are owned as for every op (nabla/ops.h): by
 * the tape, or by the caller when tape is NULL.
 */
#ifndef NABLA_INDEXING_H
#define NABLA_INDEXING_H

#include "nabla/tape.h"
#include "nabla/tensor.h"

/* The slices of x at `indices` along `axis`, as NumPy's take: the output's
 * shape is x.shape[:axis] + indices.shape + x.shape[axis+1:], so a rank-0
 * index removes the axis. A negative axis counts from the end; a negative
 * index counts from the end of the axis (-1 is the last), as in NumPy. The
 * gradient of x is scattered back: an index used twice gets both
 * gradients added. Errors: axis out of range; an index that is not an
 * integer or is out of bounds for the axis (the message names the value,
 * its flat position in indices and the axis's size); an output rank above
 * NB_MAX_RANK. */
nb_tensor *nb_take(nb_tape *tape, nb_tensor *x, nb_tensor *indices, int axis);

#endif
