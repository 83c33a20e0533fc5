/* Op-table entries (tests/op_table.h) of the unary family: the elementwise
 * maths of src/ops/elementwise.c and trig.c, the activations of
 * activation.c and nb_activate, the softmaxes of softmax.c, and nb_detach
 * and nb_greater_scalar. None of them splits work across threads. */
#include <math.h>

#include "op_table.h"

/* Shape literals: S0 is a scalar, S(2, 3) the shape [2, 3]. */
#define S0 {0, {0}}
#define S(...) {(int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), {__VA_ARGS__}}

/* Shapes every elementwise op is checked on: a scalar, size-1 dims, batch
 * 1, a matrix, rank 3 and rank 4. */
#define ELEMENTWISE_SAMPLES(...)                                                             \
    .n_samples = 6,                                                                          \
    .samples = {                                                                             \
        {"scalar", 1, {S0}, __VA_ARGS__},                                                    \
        {"[1, 1]", 1, {S(1, 1)}, __VA_ARGS__},                                               \
        {"batch 1 [1, 5]", 1, {S(1, 5)}, __VA_ARGS__},                                       \
        {"[3, 4]", 1, {S(3, 4)}, __VA_ARGS__},                                               \
        {"rank 3 [2, 1, 3]", 1, {S(2, 1, 3)}, __VA_ARGS__},                                  \
        {"rank 4 [2, 3, 1, 2]", 1, {S(2, 3, 1, 2)}, __VA_ARGS__},                            \
    }

#define NO_ARGS {{0}, {0}}
#define REAL_ARG(c) {{0}, {(c)}}
#define REAL_ARGS(c, d) {{0}, {(c), (d)}}
#define INT_ARG(k) {{(k)}, {0}}

/* ---- prepare: keep finite differences off the kinks ------------------------- */

/* Move values of t closer than gap to point out to point +- gap: a step of
 * 1e-6 then never straddles the kink, and f32 rounding never moves a value
 * across it. */
static void keep_away(nb_tensor *t, double point, double gap)
{
    if (!t)
        return;
    for (int64_t i = 0; i < t->size; i++) {
        double v = nb_tensor_get(t, i);
        if (fabs(v - point) < gap)
            nb_tensor_set(t, i, v < point ? point - gap : point + gap);
    }
}

/* relu, abs, leaky_relu, elu and the activations: kink at 0 */
static void away_from_zero(int n, nb_tensor *const inputs[], const nb_op_args *args)
{
    (void)args;
    if (n > 0)
        keep_away(inputs[0], 0, 1e-3);
}

/* clip: kinks at low (d[0]) and high (d[1]) */
static void away_from_bounds(int n, nb_tensor *const inputs[], const nb_op_args *args)
{
    if (n > 0) {
        keep_away(inputs[0], args->d[0], 1e-3);
        keep_away(inputs[0], args->d[1], 1e-3);
    }
}

/* greater_scalar: a step at c (d[0]) */
static void away_from_threshold(int n, nb_tensor *const inputs[], const nb_op_args *args)
{
    if (n > 0)
        keep_away(inputs[0], args->d[0], 1e-3);
}

/* ---- calls: inputs[0] is x; the arguments are as named ---------------------- */

#define CALL_UNARY(op)                                                                       \
    static nb_tensor *call_##op(nb_tape *tape, int n, nb_tensor *const in[],                 \
                                const nb_op_args *args)                                      \
    {                                                                                        \
        (void)n, (void)args;                                                                 \
        return nb_##op(tape, in[0]);                                                         \
    }
/* d[0] is the op's real argument (c, alpha) */
#define CALL_REAL(op)                                                                        \
    static nb_tensor *call_##op(nb_tape *tape, int n, nb_tensor *const in[],                 \
                                const nb_op_args *args)                                      \
    {                                                                                        \
        (void)n;                                                                             \
        return nb_##op(tape, in[0], args->d[0]);                                             \
    }
/* i[0] is the axis (anything, as int: the op rejects what is out of range) */
#define CALL_AXIS(op)                                                                        \
    static nb_tensor *call_##op(nb_tape *tape, int n, nb_tensor *const in[],                 \
                                const nb_op_args *args)                                      \
    {                                                                                        \
        (void)n;                                                                             \
        return nb_##op(tape, in[0], (int)args->i[0]);                                        \
    }

CALL_UNARY(abs)
CALL_UNARY(exp)
CALL_UNARY(log)
CALL_UNARY(neg)
CALL_UNARY(sqrt)
CALL_UNARY(square)
CALL_UNARY(tanh)
CALL_UNARY(sigmoid)
CALL_UNARY(relu)
CALL_UNARY(gelu)
CALL_UNARY(softplus)
CALL_UNARY(silu)
CALL_UNARY(sin)
CALL_UNARY(cos)
CALL_UNARY(detach)
CALL_UNARY(softmax)
CALL_UNARY(log_softmax)
CALL_REAL(leaky_relu)
CALL_REAL(elu)
CALL_REAL(scale)
CALL_REAL(add_scalar)
CALL_REAL(greater_scalar)
CALL_AXIS(softmax_axis)
CALL_AXIS(log_softmax_axis)

/* d[0] is low, d[1] high */
static nb_tensor *call_clip(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    return nb_clip(tape, in[0], args->d[0], args->d[1]);
}

/* i[0] is the nb_activation (anything, as int: out of range is rejected) */
static nb_tensor *call_activate(nb_tape *tape, int n, nb_tensor *const in[],
                                const nb_op_args *args)
{
    (void)n;
    return nb_activate(tape, in[0], (nb_activation)(int)args->i[0]);
}

/* ---- the entries ------------------------------------------------------------ */

#define DIFF12 (NB_OPT_DIFF | NB_OPT_DIFF2)

/* An elementwise op of x alone, differentiable twice, on [low, high), with
 * the arguments that follow. ELEMENTWISE_FIELDS leaves the braces to the
 * entry, which may add rejections. */
#define ELEMENTWISE_FIELDS(op, low_, high_, prepare_, ...)                                   \
    .name = "nb_" #op, .call = call_##op, .arity = 1, .flags = DIFF12, .low = (low_),        \
    .high = (high_), .prepare = (prepare_), ELEMENTWISE_SAMPLES(__VA_ARGS__)
#define ELEMENTWISE(...) {ELEMENTWISE_FIELDS(__VA_ARGS__)}

/* The rejections of alpha for leaky_relu and elu. */
#define ALPHA_REJECTS                                                                        \
    .n_rejects = 3,                                                                          \
    .rejects = {                                                                             \
        {"alpha NaN", 1, {S(2, 3)}, REAL_ARG(NAN), NB_F64, false,                            \
         "alpha nan is not finite: expected a finite number", NB_ERR_ARG},                   \
        {"alpha inf", 1, {S(2, 3)}, REAL_ARG(INFINITY), NB_F32, false,                       \
         "alpha inf is not finite", NB_ERR_ARG},                                             \
        {"alpha -inf", 1, {S0}, REAL_ARG(-INFINITY), NB_F64, false,                          \
         "alpha -inf is not finite", NB_ERR_ARG},                                            \
    }

/* Softmax over the last axis: rank 1 to 4, a single class, batch 1. */
#define SOFTMAX(op)                                                                          \
    {.name = "nb_" #op, .call = call_##op, .arity = 1, .flags = DIFF12, .low = -3, .high = 3, \
     .n_samples = 6,                                                                         \
     .samples = {                                                                            \
         {"rank 1 [5]", 1, {S(5)}, NO_ARGS},                                                 \
         {"one class [3, 1]", 1, {S(3, 1)}, NO_ARGS},                                        \
         {"batch 1 [1, 4]", 1, {S(1, 4)}, NO_ARGS},                                          \
         {"[3, 4]", 1, {S(3, 4)}, NO_ARGS},                                                  \
         {"rank 3 [2, 1, 3]", 1, {S(2, 1, 3)}, NO_ARGS},                                     \
         {"rank 4 [2, 3, 1, 4]", 1, {S(2, 3, 1, 4)}, NO_ARGS},                               \
     },                                                                                      \
     .n_rejects = 1,                                                                         \
     .rejects = {                                                                            \
         {"scalar", 1, {S0}, NO_ARGS, NB_F64, false,                                         \
          "input 0 has shape [] (rank 0): expected rank 1 to 4", NB_ERR_SHAPE},              \
     }}

/* Softmax along an axis (i[0]): every position of the axis, negative too. */
#define SOFTMAX_AXIS(op)                                                                     \
    {.name = "nb_" #op, .call = call_##op, .arity = 1, .flags = DIFF12, .low = -3, .high = 3, \
     .n_samples = 8,                                                                         \
     .samples = {                                                                            \
         {"rank 1 [5] axis 0", 1, {S(5)}, INT_ARG(0)},                                       \
         {"[1, 2, 3, 2] axis 2", 1, {S(1, 2, 3, 2)}, INT_ARG(2)},                            \
         {"[3, 4] axis 0", 1, {S(3, 4)}, INT_ARG(0)},                                        \
         {"[3, 4] axis -1", 1, {S(3, 4)}, INT_ARG(-1)},                                      \
         {"[4, 1] axis 1 (one class)", 1, {S(4, 1)}, INT_ARG(1)},                            \
         {"[2, 3, 4] axis 1", 1, {S(2, 3, 4)}, INT_ARG(1)},                                  \
         {"[2, 1, 3, 2] axis -3", 1, {S(2, 1, 3, 2)}, INT_ARG(-3)},                          \
         {"[2, 3, 1, 4] axis 0", 1, {S(2, 3, 1, 4)}, INT_ARG(0)},                            \
     },                                                                                      \
     .n_rejects = 4,                                                                         \
     .rejects = {                                                                            \
         {"axis 2 of rank 2", 1, {S(2, 3)}, INT_ARG(2), NB_F64, false,                       \
          "axis 2 is out of range for x of shape [2, 3] (rank 2): expected -2 to 1",         \
          NB_ERR_ARG},                                                                       \
         {"axis -3 of rank 2", 1, {S(2, 3)}, INT_ARG(-3), NB_F32, false,                     \
          "axis -3 is out of range", NB_ERR_ARG},                                            \
         {"axis 0 of a scalar", 1, {S0}, INT_ARG(0), NB_F64, false,                          \
          "axis 0 is out of range for x of shape [] (rank 0): expected rank 1 to 4",         \
          NB_ERR_ARG},                                                                       \
         {"axis 4 of rank 4", 1, {S(1, 2, 1, 2)}, INT_ARG(4), NB_F64, false,                 \
          "expected -4 to 3", NB_ERR_ARG},                                                   \
     }}

const nb_op_entry nb_op_table_unary[] = {
    ELEMENTWISE(abs, -2, 2, away_from_zero, NO_ARGS),
    ELEMENTWISE(exp, -2, 2, NULL, NO_ARGS),
    /* log and sqrt: positive inputs, where they are smooth */
    ELEMENTWISE(log, 0.1, 3, NULL, NO_ARGS),
    ELEMENTWISE(neg, -2, 2, NULL, NO_ARGS),
    ELEMENTWISE(sqrt, 0.1, 3, NULL, NO_ARGS),
    ELEMENTWISE(square, -2, 2, NULL, NO_ARGS),
    ELEMENTWISE(tanh, -2, 2, NULL, NO_ARGS),
    ELEMENTWISE(sigmoid, -4, 4, NULL, NO_ARGS),
    ELEMENTWISE(relu, -2, 2, away_from_zero, NO_ARGS),
    {ELEMENTWISE_FIELDS(leaky_relu, -2, 2, away_from_zero, REAL_ARG(0.2)), ALPHA_REJECTS},
    {ELEMENTWISE_FIELDS(elu, -2, 2, away_from_zero, REAL_ARG(0.5)), ALPHA_REJECTS},
    ELEMENTWISE(gelu, -3, 3, NULL, NO_ARGS),
    ELEMENTWISE(softplus, -4, 4, NULL, NO_ARGS),
    ELEMENTWISE(silu, -4, 4, NULL, NO_ARGS),
    ELEMENTWISE(sin, -3, 3, NULL, NO_ARGS),
    ELEMENTWISE(cos, -3, 3, NULL, NO_ARGS),
    /* clip to [-0.5, 0.5] of values in [-1, 1): inside, below and above */
    {ELEMENTWISE_FIELDS(clip, -1, 1, away_from_bounds, REAL_ARGS(-0.5, 0.5)),
     .n_rejects = 3,
     .rejects = {
         {"low above high", 1, {S(2, 3)}, REAL_ARGS(1, -1), NB_F64, false,
          "low 1 is greater than high -1", NB_ERR_ARG},
         {"low NaN", 1, {S(2)}, REAL_ARGS(NAN, 1), NB_F32, false, "is greater than high 1",
          NB_ERR_ARG},
         {"high NaN", 1, {S0}, REAL_ARGS(0, NAN), NB_F64, false, "low 0 is greater than high",
          NB_ERR_ARG},
     }},
    ELEMENTWISE(scale, -2, 2, NULL, REAL_ARG(-2.5)),
    ELEMENTWISE(add_scalar, -2, 2, NULL, REAL_ARG(1.5)),
    /* 1 where x > c: no gradient, values only */
    {.name = "nb_greater_scalar", .call = call_greater_scalar, .arity = 1, .flags = 0,
     .low = -1, .high = 1, .prepare = away_from_threshold,
     ELEMENTWISE_SAMPLES(REAL_ARG(0.25))},
    /* a copy that no gradient flows through */
    {.name = "nb_detach", .call = call_detach, .arity = 1, .flags = 0, .low = -2, .high = 2,
     ELEMENTWISE_SAMPLES(NO_ARGS)},
    /* every activation but linear (which returns x itself) and softplus
     * (one sample short; its own entry covers it) */
    {.name = "nb_activate", .call = call_activate, .arity = 1, .flags = DIFF12, .low = -2,
     .high = 2, .prepare = away_from_zero,
     .n_samples = 8,
     .samples = {
         {"relu [3, 4]", 1, {S(3, 4)}, INT_ARG(NB_RELU)},
         {"sigmoid scalar", 1, {S0}, INT_ARG(NB_SIGMOID)},
         {"tanh [1, 1]", 1, {S(1, 1)}, INT_ARG(NB_TANH)},
         {"softmax [2, 1, 3]", 1, {S(2, 1, 3)}, INT_ARG(NB_SOFTMAX)},
         {"elu [2, 3, 1, 2]", 1, {S(2, 3, 1, 2)}, INT_ARG(NB_ELU)},
         {"gelu [5]", 1, {S(5)}, INT_ARG(NB_GELU)},
         {"silu [1, 5]", 1, {S(1, 5)}, INT_ARG(NB_SILU)},
         {"leaky_relu [2, 3]", 1, {S(2, 3)}, INT_ARG(NB_LEAKY_RELU)},
     },
     /* (softmax of a scalar is rejected too, but the message names
      * nb_softmax, the op nb_activate called) */
     .n_rejects = 3,
     .rejects = {
         {"activation count", 1, {S(2, 3)}, INT_ARG(NB_ACTIVATION_COUNT), NB_F64, false,
          "is not an nb_activation", NB_ERR_ARG},
         {"activation -1", 1, {S(2)}, INT_ARG(-1), NB_F32, false,
          "activation -1 is not an nb_activation", NB_ERR_ARG},
         {"activation 1000", 1, {S0}, INT_ARG(1000), NB_F64, false,
          "activation 1000 is not an nb_activation", NB_ERR_ARG},
     }},
    SOFTMAX(softmax),
    SOFTMAX(log_softmax),
    SOFTMAX_AXIS(softmax_axis),
    SOFTMAX_AXIS(log_softmax_axis),
};
const int nb_op_table_unary_count = (int)(sizeof nb_op_table_unary / sizeof nb_op_table_unary[0]);
