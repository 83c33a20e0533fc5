/* Trigonometry: sine and cosine of each element, in radians. */
#include "ops/ops_internal.h"

/* d/dx sin x = cos x */
NB_DEFINE_UNARY_OP(sin, sin(x), g * cos(x), nb_mul(tape, g, nb_cos(tape, x)));
/* d/dx cos x = -sin x */
NB_DEFINE_UNARY_OP(cos, cos(x), -g * sin(x), nb_neg(tape, nb_mul(tape, g, nb_sin(tape, x))));

nb_tensor *nb_sin(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &sin_op, x, 0, 0); }

nb_tensor *nb_cos(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &cos_op, x, 0, 0); }
