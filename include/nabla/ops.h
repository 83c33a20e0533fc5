/* nabla/ops.h: the built-in differentiable ops.
 *
 * Every op takes the tape to record on first. With tape == NULL nothing is
 * recorded and the result is caller-owned (free it with nb_tensor_free);
 * otherwise the result lives on the tape until nb_tape_reset. Inputs must
 * have the same dtype (f32 or f64). On error an op returns NULL and sets a
 * message naming itself and the shapes involved; given a NULL input it
 * returns NULL and keeps the earlier message, so chains can be checked once.
 * Each op's backward is gradient-checked in f64 by the test suite.
 */
#ifndef NABLA_OPS_H
#define NABLA_OPS_H

#include "nabla/tape.h"
#include "nabla/tensor.h"

/* ---- linear algebra (src/ops/matmul.c) ---------------------------------- */

/* Matrix product [..., m, k] x [..., k, n] -> [..., m, n] with NumPy's
 * matmul rules: the last two axes are the matrices, and for rank 3 or 4 the
 * axes before them are a batch that broadcasts (a [2, 1, m, k] times
 * b [3, k, n] gives [2, 3, m, n]; a rank-2 operand is shared by every matrix
 * of the other).
 * Errors: rank below 2 or above 4 ("expected rank 2 to 4"), inner dimensions
 * that differ or batch dimensions that do not broadcast (naming both shapes),
 * mixed dtypes. */
nb_tensor *nb_matmul(nb_tape *tape, nb_tensor *a, nb_tensor *b);
/* x [m, n] plus bias [n] (or [1, n]) added to every row. */
nb_tensor *nb_add_bias(nb_tape *tape, nb_tensor *x, nb_tensor *bias);

/* ---- elementwise, same shapes (src/ops/elementwise.c) ------------------- */

nb_tensor *nb_add(nb_tape *tape, nb_tensor *a, nb_tensor *b);
nb_tensor *nb_sub(nb_tape *tape, nb_tensor *a, nb_tensor *b);
nb_tensor *nb_mul(nb_tape *tape, nb_tensor *a, nb_tensor *b);
nb_tensor *nb_div(nb_tape *tape, nb_tensor *a, nb_tensor *b);
/* x + c, x * c, -x for a constant c. */
nb_tensor *nb_add_scalar(nb_tape *tape, nb_tensor *x, double c);
nb_tensor *nb_scale(nb_tape *tape, nb_tensor *x, double c);
nb_tensor *nb_neg(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_exp(nb_tape *tape, nb_tensor *x);
/* Natural log. Inputs <= 0 give -inf/NaN as in C; clip first when needed. */
nb_tensor *nb_log(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_square(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_sqrt(nb_tape *tape, nb_tensor *x);
/* |x|; its gradient at 0 is taken as 0. */
nb_tensor *nb_abs(nb_tape *tape, nb_tensor *x);
/* min(max(x, low), high); the gradient passes only where low <= x <= high. */
nb_tensor *nb_clip(nb_tape *tape, nb_tensor *x, double low, double high);

/* ---- activations (src/ops/activation.c) --------------------------------- */

nb_tensor *nb_relu(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_sigmoid(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_tanh(nb_tape *tape, nb_tensor *x);

/* ---- softmax (src/ops/softmax.c) ---------------------------------------- */

/* Softmax and log-softmax over the last axis, computed with the maximum
 * subtracted so inputs of +-1000 stay finite. */
nb_tensor *nb_softmax(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_log_softmax(nb_tape *tape, nb_tensor *x);

/* ---- reductions (src/ops/reduce.c) -------------------------------------- */

/* Sum or mean of every element: a rank-0 tensor. */
nb_tensor *nb_sum(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_mean(nb_tape *tape, nb_tensor *x);
/* Sum or mean along one axis (negative counts from the end); the axis is
 * removed from the shape unless keepdims. */
nb_tensor *nb_sum_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);
nb_tensor *nb_mean_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);

/* ---- shape (src/ops/shape.c) -------------------------------------------- */

/* The same values in a new shape with the same element count; one dimension
 * may be -1 and is then inferred. */
nb_tensor *nb_reshape(nb_tape *tape, nb_tensor *x, int rank, const int64_t *shape);
/* [n, d1, d2, ...] -> [n, d1 * d2 * ...]. */
nb_tensor *nb_flatten(nb_tape *tape, nb_tensor *x);

/* ---- not differentiable: indices and comparisons (src/ops/compare.c) ----
 * Their results never require gradients: use them for metrics and targets. */

/* Index of the largest value along the last axis, as a float: [..., n] ->
 * [...]. */
nb_tensor *nb_argmax(nb_tape *tape, nb_tensor *x);
/* 1 where a == b, else 0. */
nb_tensor *nb_equal(nb_tape *tape, nb_tensor *a, nb_tensor *b);
/* Class indices [n] (integral values in [0, classes)) -> one-hot [n, classes]. */
nb_tensor *nb_one_hot(nb_tape *tape, nb_tensor *labels, int64_t classes);
/* 1 where x > c, else 0 (NaN gives 0): thresholds for binary accuracy. */
nb_tensor *nb_greater_scalar(nb_tape *tape, nb_tensor *x, double c);

#include "nabla/movement.h"

#endif
