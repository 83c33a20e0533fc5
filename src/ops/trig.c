/* Trigonometry: sine and cosine of each element, in radians. */
#include "ops/ops_internal.h"

NB_DEFINE_UNARY_OP(sin, sin(x), g * cos(x));  /* d/dx sin x = cos x */
NB_DEFINE_UNARY_OP(cos, cos(x), -g * sin(x)); /* d/dx cos x = -sin x */

nb_tensor *nb_sin(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &sin_op, x, 0, 0); }

nb_tensor *nb_cos(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &cos_op, x, 0, 0); }
