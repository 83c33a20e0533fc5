/* Activations: relu, sigmoid, tanh, leaky relu, ELU, GELU, softplus and SiLU.
 * Each line: name, forward, backward (x input, y output, g upstream, c the
 * op's alpha). */
#include "ops/ops_internal.h"

/* The logistic function; for very negative v, exp(-v) = inf gives 0. */
#define SIGMOID(v) (1 / (1 + exp(-(v))))
/* 1 / sqrt 2 and 1 / sqrt(2 pi), for the normal distribution in GELU */
#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

/* tanh in f32 without tanhf, whose expm1f made tanh a fifth of an LSTM's
 * training time (docs/recurrent.md): 1 - 2 / (e^2|x| + 1) with expf, and
 * below |x| = 0.4, where that difference would cancel, tanh's Taylor series
 * to x^13 (the next term is under 2e-9 there). Within 2e-7 relative of
 * tanh over every float (tests/test_activation.c); NaN stays NaN, +-inf
 * gives +-1. f64 keeps the C library's tanh. */
static inline float tanh_f32(float x)
{
    float a = fabsf(x);
    if (a < 0.4f) {
        float s = x * x;
        return x * (1.0f + s * (-1.0f / 3 + s * (2.0f / 15 + s * (-17.0f / 315 + s * (62.0f / 2835 +
                    s * (-1382.0f / 155925 + s * (21844.0f / 6081075)))))));
    }
    return copysignf(1.0f - 2.0f / (expf(2.0f * a) + 1.0f), x);
}
#define TANH(v) _Generic((v), float: tanh_f32(v), default: tanh(v))

/* Pieces of the vjps: constant masks (never differentiated), 1 - t, and
 * the standard normal's density and distribution function as ops. */
NB_DEFINE_MASK_OP(positive, x > 0 ? 1 : 0);
NB_DEFINE_MASK_OP(leaky_slope, x > 0 ? 1 : c); /* c is alpha */
#define POSITIVE(t) nb__apply_unary(tape, &positive_op, t, 0, 0)

static nb_tensor *one_minus(nb_tape *tape, nb_tensor *t)
{
    return nb_add_scalar(tape, nb_neg(tape, t), 1);
}

/* phi(x) = e^(-x^2 / 2) / sqrt(2 pi) */
static nb_tensor *normal_pdf(nb_tape *tape, nb_tensor *x)
{
    return nb_scale(tape, nb_exp(tape, nb_scale(tape, nb_square(tape, x), -0.5)), INV_SQRT_2PI);
}

/* Phi(x) = erfc(-x / sqrt 2) / 2, an op of its own only for gelu's vjp;
 * d/dx Phi = phi(x) */
NB_DEFINE_UNARY_OP(normal_cdf, erfc(-x * INV_SQRT2) / 2, g * exp(-x * x / 2) * INV_SQRT_2PI,
                   nb_mul(tape, g, normal_pdf(tape, x)));

/* d/dx silu = s (1 + x (1 - s)) with s = sigmoid(x) */
static nb_tensor *silu_slope(nb_tape *tape, nb_tensor *x)
{
    nb_tensor *s = nb_sigmoid(tape, x);
    return nb_mul(tape, s, nb_add_scalar(tape, nb_mul(tape, x, one_minus(tape, s)), 1));
}

/* d/dx relu = 1 where x > 0, else 0. The loops, y = x > 0 ? x : 0 and
 * dx += x > 0 ? g : 0, are vec.h's relu and relu_grad: dense layers run
 * them every step, so they are compiled for each CPU level. */
NB_DEFINE_VEC_UNARY_OP(relu, nb_mul(tape, g, POSITIVE(x)));
/* d/dx sigmoid = y (1 - y); for very negative x, exp(-x) = inf gives y = 0 */
NB_DEFINE_UNARY_OP(sigmoid, SIGMOID(x), g * y * (1 - y),
                   nb_mul(tape, g, nb_mul(tape, y, one_minus(tape, y))));
/* d/dx tanh = 1 - y^2 */
NB_DEFINE_UNARY_OP(tanh, TANH(x), g * (1 - y * y),
                   nb_mul(tape, g, one_minus(tape, nb_square(tape, y))));
/* d/dx leaky_relu = 1 where x > 0, else alpha */
NB_DEFINE_UNARY_OP(leaky_relu, x > 0 ? x : c * x, x > 0 ? g : c * g,
                   nb_mul(tape, g, nb__apply_unary(tape, &leaky_slope_op, x, c, 0)));
/* d/dx elu = 1 where x > 0, else alpha e^x = y + alpha; expm1 keeps e^x - 1
 * exact near 0 */
NB_DEFINE_UNARY_OP(elu, x > 0 ? x : c * expm1(x), x > 0 ? g : g * c * exp(x),
                   nb_where(tape, POSITIVE(x), g, nb_mul(tape, g, nb_add_scalar(tape, y, c))));
/* gelu = x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2 (erfc, not 1 + erf,
 * keeps the tail exact for negative x); d/dx gelu = Phi(x) + x phi(x) */
NB_DEFINE_UNARY_OP(gelu, x * erfc(-x * INV_SQRT2) / 2,
                   g * (erfc(-x * INV_SQRT2) / 2 + x * exp(-x * x / 2) * INV_SQRT_2PI),
                   nb_mul(tape, g,
                          nb_add(tape, nb__apply_unary(tape, &normal_cdf_op, x, 0, 0),
                                 nb_mul(tape, x, normal_pdf(tape, x)))));
/* softplus = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), whose exp never
 * overflows; d/dx softplus = sigmoid(x) */
NB_DEFINE_UNARY_OP(softplus, (x > 0 ? x : 0) + log1p(exp(-fabs(x))), g * SIGMOID(x),
                   nb_mul(tape, g, nb_sigmoid(tape, x)));
/* silu = x sigmoid(x); d/dx silu = s (1 + x (1 - s)) with s = sigmoid(x) */
NB_DEFINE_UNARY_OP(silu, x * SIGMOID(x), g * SIGMOID(x) * (1 + x * (1 - SIGMOID(x))),
                   nb_mul(tape, g, silu_slope(tape, x)));

nb_tensor *nb_relu(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &relu_op, x, 0, 0); }

nb_tensor *nb_sigmoid(nb_tape *tape, nb_tensor *x)
{
    return nb__apply_unary(tape, &sigmoid_op, x, 0, 0);
}

nb_tensor *nb_tanh(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &tanh_op, x, 0, 0); }

/* An alpha that is NaN or infinite would turn every output below 0 (or at
 * 0) into NaN: refuse it here, where the caller can be told. */
static bool alpha_is_finite(const nb_op *op, double alpha)
{
    if (isfinite(alpha))
        return true;
    nb_error(NB_ERR_ARG, "nb_%s: alpha %g is not finite: expected a finite number", op->name,
             alpha);
    return false;
}

nb_tensor *nb_leaky_relu(nb_tape *tape, nb_tensor *x, double alpha)
{
    if (!alpha_is_finite(&leaky_relu_op, alpha))
        return NULL;
    return nb__apply_unary(tape, &leaky_relu_op, x, alpha, 0);
}

nb_tensor *nb_elu(nb_tape *tape, nb_tensor *x, double alpha)
{
    if (!alpha_is_finite(&elu_op, alpha))
        return NULL;
    return nb__apply_unary(tape, &elu_op, x, alpha, 0);
}

nb_tensor *nb_gelu(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &gelu_op, x, 0, 0); }

nb_tensor *nb_softplus(nb_tape *tape, nb_tensor *x)
{
    return nb__apply_unary(tape, &softplus_op, x, 0, 0);
}

nb_tensor *nb_silu(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &silu_op, x, 0, 0); }
