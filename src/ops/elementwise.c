/* Elementwise unary maths. The binary arithmetic, which broadcasts, is in
 * binary.c. */
#include "ops/ops_internal.h"

/* ---- unary: name, forward, backward (x input, y output, g upstream) and
 * the same backward in ops (the vjp: x, y, g tensors) ---- */

/* Constant factors of the vjps, never differentiated themselves. */
NB_DEFINE_MASK_OP(sign, x > 0 ? 1 : x < 0 ? -1 : 0);
NB_DEFINE_MASK_OP(inside, x >= c && x <= d ? 1 : 0); /* 1 within [c, d] */
#define SIGN(t) nb__apply_unary(tape, &sign_op, t, 0, 0)
#define INSIDE(t) nb__apply_unary(tape, &inside_op, t, c, d)

/* d/dx -x = -1 */
NB_DEFINE_UNARY_OP(neg, -x, -g, nb_neg(tape, g));
/* d/dx cx = c */
NB_DEFINE_UNARY_OP(scale, c * x, c * g, nb_scale(tape, g, c));
/* d/dx (x + c) = 1 */
NB_DEFINE_UNARY_OP(add_scalar, x + c, g, g);
/* d/dx e^x = e^x = y */
NB_DEFINE_UNARY_OP(exp, exp(x), g * y, nb_mul(tape, g, y));
/* d/dx ln x = 1/x */
NB_DEFINE_UNARY_OP(log, log(x), g / x, nb_div(tape, g, x));
/* d/dx x^2 = 2x */
NB_DEFINE_UNARY_OP(square, x * x, 2 * x * g, nb_mul(tape, g, nb_scale(tape, x, 2)));
/* d/dx sqrt x = 1 / (2 sqrt x) */
NB_DEFINE_UNARY_OP(sqrt, sqrt(x), g / (2 * y), nb_div(tape, g, nb_scale(tape, y, 2)));
/* d/dx |x| = sign(x), 0 at 0 */
NB_DEFINE_UNARY_OP(abs, fabs(x), x > 0 ? g : x < 0 ? -g : 0, nb_mul(tape, g, SIGN(x)));
/* clip to [c, d]; the gradient passes where the input was inside */
NB_DEFINE_UNARY_OP(clip, x < c ? c : x > d ? d : x, x >= c && x <= d ? g : 0,
                   nb_mul(tape, g, INSIDE(x)));

nb_tensor *nb_neg(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &neg_op, x, 0, 0); }

nb_tensor *nb_scale(nb_tape *tape, nb_tensor *x, double c)
{
    return nb__apply_unary(tape, &scale_op, x, c, 0);
}

nb_tensor *nb_add_scalar(nb_tape *tape, nb_tensor *x, double c)
{
    return nb__apply_unary(tape, &add_scalar_op, x, c, 0);
}

nb_tensor *nb_exp(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &exp_op, x, 0, 0); }

nb_tensor *nb_log(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &log_op, x, 0, 0); }

nb_tensor *nb_square(nb_tape *tape, nb_tensor *x)
{
    return nb__apply_unary(tape, &square_op, x, 0, 0);
}

nb_tensor *nb_sqrt(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &sqrt_op, x, 0, 0); }

nb_tensor *nb_abs(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &abs_op, x, 0, 0); }

nb_tensor *nb_clip(nb_tape *tape, nb_tensor *x, double low, double high)
{
    if (!(low <= high)) {
        nb_error(NB_ERR_ARG, "nb_clip: low %g is greater than high %g", low, high);
        return NULL;
    }
    return nb__apply_unary(tape, &clip_op, x, low, high);
}
