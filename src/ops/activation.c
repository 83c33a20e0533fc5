/* Activations: relu, sigmoid, tanh. Each line: name, forward, backward. */
#include "ops/ops_internal.h"

/* d/dx relu = 1 where x > 0, else 0 */
NB_DEFINE_UNARY_OP(relu, x > 0 ? x : 0, x > 0 ? g : 0);
/* d/dx sigmoid = y (1 - y); for very negative x, exp(-x) = inf gives y = 0 */
NB_DEFINE_UNARY_OP(sigmoid, 1 / (1 + exp(-x)), g * y * (1 - y));
/* d/dx tanh = 1 - y^2 */
NB_DEFINE_UNARY_OP(tanh, tanh(x), g * (1 - y * y));

nb_tensor *nb_relu(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &relu_op, x, 0, 0); }

nb_tensor *nb_sigmoid(nb_tape *tape, nb_tensor *x)
{
    return nb__apply_unary(tape, &sigmoid_op, x, 0, 0);
}

nb_tensor *nb_tanh(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &tanh_op, x, 0, 0); }
