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

/* ---- elementwise, with NumPy broadcasting (src/ops/binary.c, select.c) ---
 * The binary ops broadcast as NumPy does: shapes are aligned from the right,
 * a missing leading dimension counts as 1, and a dimension of 1 stretches to
 * the other's size ([2, 3] + [3] and [2, 1] * [1, 3] work; [2, 3] + [4, 3]
 * is NB_ERR_SHAPE, the message naming both shapes and the dimension that
 * disagrees). The result has the broadcast shape; the gradient of an input
 * is summed back to that input's own shape. Inputs of different dtypes are
 * NB_ERR_DTYPE. */

nb_tensor *nb_add(nb_tape *tape, nb_tensor *a, nb_tensor *b);
nb_tensor *nb_sub(nb_tape *tape, nb_tensor *a, nb_tensor *b);
nb_tensor *nb_mul(nb_tape *tape, nb_tensor *a, nb_tensor *b);
nb_tensor *nb_div(nb_tape *tape, nb_tensor *a, nb_tensor *b);
/* The larger of a and b, elementwise; a NaN in either gives NaN. At a tie
 * the gradient is split evenly, half to each input (as PyTorch does). */
nb_tensor *nb_maximum(nb_tape *tape, nb_tensor *a, nb_tensor *b);
/* The smaller of a and b, elementwise; NaN and ties as nb_maximum. */
nb_tensor *nb_minimum(nb_tape *tape, nb_tensor *a, nb_tensor *b);
/* a^b, elementwise, as C's pow: a < 0 with a non-integer b gives NaN. The
 * gradient for a is b a^(b-1) (0 where b == 0); for b it is a^b ln a, taken
 * as 0 where a == 0 (PyTorch's convention). */
nb_tensor *nb_pow(nb_tape *tape, nb_tensor *a, nb_tensor *b);
/* a where cond is nonzero, else b: cond, a and b broadcast together (cond
 * of 0/1 values, the same dtype as a and b). cond gets no gradient, even
 * when it requires one; a's gradient is g where cond is nonzero and b's g
 * elsewhere, each summed back to its own shape. NB_ERR_SHAPE when the three
 * shapes do not broadcast, NB_ERR_DTYPE when the dtypes differ. */
nb_tensor *nb_where(nb_tape *tape, nb_tensor *cond, nb_tensor *a, nb_tensor *b);
/* x repeated to shape (rank, shape), as NumPy's broadcast_to: x's
 * dimensions, aligned from the right, must equal shape's or be 1, and x may
 * not have more axes; otherwise NB_ERR_SHAPE naming both shapes. The
 * gradient is summed back to x's shape. */
nb_tensor *nb_broadcast_to(nb_tape *tape, nb_tensor *x, int rank, const int64_t *shape);

/* ---- elementwise unary (src/ops/elementwise.c) ---------------------------- */

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
/* Sine of each element, in radians (src/ops/trig.c). */
nb_tensor *nb_sin(nb_tape *tape, nb_tensor *x);
/* Cosine of each element, in radians (src/ops/trig.c). */
nb_tensor *nb_cos(nb_tape *tape, nb_tensor *x);

/* ---- activations (src/ops/activation.c) --------------------------------- */

nb_tensor *nb_relu(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_sigmoid(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_tanh(nb_tape *tape, nb_tensor *x);
/* The leaky ReLU, x > 0 ? x : alpha x. No default: alpha is the caller's
 * (Keras uses 0.3 in its LeakyReLU layer, 0.2 in its function). A NaN or
 * infinite alpha is an error. */
nb_tensor *nb_leaky_relu(nb_tape *tape, nb_tensor *x, double alpha);
/* The ELU, x > 0 ? x : alpha (e^x - 1); Keras's default alpha is 1. A NaN
 * or infinite alpha is an error. */
nb_tensor *nb_elu(nb_tape *tape, nb_tensor *x, double alpha);
/* The exact GELU, x Phi(x) = x/2 (1 + erf(x / sqrt 2)) with Phi the
 * standard normal distribution function (Keras's default, approximate=False,
 * not the tanh approximation). */
nb_tensor *nb_gelu(nb_tape *tape, nb_tensor *x);
/* The softplus log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so that
 * it stays finite and accurate for large |x|. Its derivative is sigmoid(x). */
nb_tensor *nb_softplus(nb_tape *tape, nb_tensor *x);
/* The SiLU (or swish), x sigmoid(x); finite for large |x|. */
nb_tensor *nb_silu(nb_tape *tape, nb_tensor *x);

/* ---- softmax (src/ops/softmax.c) ---------------------------------------- */

/* Softmax and log-softmax over the last axis, computed with the maximum
 * subtracted so inputs of +-1000 stay finite. */
nb_tensor *nb_softmax(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_log_softmax(nb_tape *tape, nb_tensor *x);
/* Softmax over one axis (negative counts from the end), as stable as
 * nb_softmax, which serves the last axis. An axis outside [-rank, rank) is
 * an error naming the axis and the rank. */
nb_tensor *nb_softmax_axis(nb_tape *tape, nb_tensor *x, int axis);
/* Log-softmax over one axis, with the axis rules of nb_softmax_axis. */
nb_tensor *nb_log_softmax_axis(nb_tape *tape, nb_tensor *x, int axis);

/* ---- reductions (src/ops/reduce.c) -------------------------------------- */

/* Sum or mean of every element: a rank-0 tensor. */
nb_tensor *nb_sum(nb_tape *tape, nb_tensor *x);
nb_tensor *nb_mean(nb_tape *tape, nb_tensor *x);
/* Sum or mean along one axis (negative counts from the end); the axis is
 * removed from the shape unless keepdims. */
nb_tensor *nb_sum_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);
nb_tensor *nb_mean_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);
/* Largest or smallest element along one axis (axis and keepdims as in
 * nb_sum_axis). A NaN in a row gives NaN, as NumPy's amax. The gradient goes
 * to the elements equal to the result, shared evenly among ties (each of k
 * tied elements gets g/k, as PyTorch's amax). */
nb_tensor *nb_max_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);
nb_tensor *nb_min_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);
/* log(sum(exp(x))) along one axis, with the maximum subtracted first so
 * inputs of +-1000 stay finite; a row of -inf gives -inf. The gradient is
 * softmax(x) times the upstream gradient. */
nb_tensor *nb_logsumexp_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);
/* Population variance along one axis (divisor n, not n - 1, as Keras's
 * LayerNormalization and BatchNormalization use): mean((x - mean(x))^2),
 * with the mean subtracted before squaring. */
nb_tensor *nb_var_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);

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

#include "nabla/indexing.h"
#include "nabla/movement.h"
#include "nabla/conv.h"

#endif
