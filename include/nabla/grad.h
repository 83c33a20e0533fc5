/* nabla/grad.h: gradients as tensors, and gradients of gradients.
 *
 * nb_backward accumulates into each leaf's ->grad buffer, which is a dead
 * end: a buffer has no history. nb_grad returns the gradients as tensors on
 * the tape instead; with create_graph the backward pass is itself recorded
 * as ops (each op's `vjp`, nabla/op.h), so a gradient can go into further
 * ops and be differentiated again, to any order:
 *
 *     nb_tensor *y = nb_sum(tape, nb_mul(tape, x, nb_mul(tape, x, x)));
 *     nb_tensor *dy, *d2y;
 *     nb_grad(tape, y, 1, &x, &dy, true);              // 3 x^2, recorded
 *     nb_grad(tape, nb_sum(tape, dy), 1, &x, &d2y, false); // 6 x
 *
 * Every built-in differentiable op has a vjp; a custom op without one works
 * for first-order gradients only.
 */
#ifndef NABLA_GRAD_H
#define NABLA_GRAD_H

#include <stdbool.h>

#include "nabla/tape.h"
#include "nabla/tensor.h"

/* The gradient of the one-element tensor y with respect to each xs[i], in
 * grads[i]: a tensor of xs[i]'s shape on `tape` (zeros where y does not
 * depend on xs[i]). Each xs[i] requires a gradient: a leaf marked with
 * nb_tensor_set_requires_grad or an op's result on the tape. No ->grad
 * buffer is changed. Without create_graph the fast backward of nb_backward
 * runs and the results carry no history; with it the backward is recorded
 * on `tape` (recording is turned on for it), so grads[i] can be
 * differentiated again. Errors: a NULL or reset argument, y not of one
 * element, y or xs[i] from another tape, xs[i] not requiring a gradient, an
 * op on the way from xs to y without a vjp when create_graph is set
 * ("nb_grad: op 'softplus' has no differentiable backward (vjp) ..."). On
 * error grads[] is left NULL. */
nb_status nb_grad(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[],
                  nb_tensor *grads[], bool create_graph);

/* The Hessian-vector product of the one-element y: out[i] = sum over j of
 * d^2 y / dxs[i] dxs[j] times vs[j], by double backward (the gradient of
 * sum_j sum(grad_j y * vs[j])). vs[j] has xs[j]'s shape. Results on `tape`,
 * without history. Errors as nb_grad's, and vs[j] NULL or of another shape. */
nb_status nb_hvp(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[],
                 nb_tensor *const vs[], nb_tensor *out[]);

/* The forward-mode directional derivative of y (any shape) at xs along vs:
 * *out = sum_j dy/dxs[j] vs[j], of y's shape, on `tape` without history.
 * Computed by the double-vjp trick: the gradient with respect to u of
 * sum_j sum(vjp_j(u) * vs[j]), where vjp_j(u) = (dy/dxs[j])^T u is linear
 * in u. Errors as nb_hvp's. */
nb_status nb_jvp(nb_tape *tape, nb_tensor *y, int n, nb_tensor *const xs[],
                 nb_tensor *const vs[], nb_tensor **out);

#endif
