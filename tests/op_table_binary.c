/* Op-table entries (tests/op_table.h) of the ops of two or three inputs:
 * the broadcasting arithmetic of src/ops/binary.c, where and broadcast_to
 * (select.c), equal (compare.c), and matmul and add_bias (matmul.c). */
#include <math.h>

#include "op_table_util.h"

/* ---- calls ---------------------------------------------------------------- */

#define BINARY_CALL(op)                                                                      \
    static nb_tensor *call_##op(nb_tape *tape, int n, nb_tensor *const in[],                 \
                                const nb_op_args *args)                                      \
    {                                                                                        \
        (void)n;                                                                             \
        (void)args;                                                                          \
        return nb_##op(tape, in[0], in[1]);                                                  \
    }

BINARY_CALL(add)
BINARY_CALL(sub)
BINARY_CALL(mul)
BINARY_CALL(div)
BINARY_CALL(maximum)
BINARY_CALL(minimum)
BINARY_CALL(pow)
BINARY_CALL(equal)
BINARY_CALL(add_bias)
BINARY_CALL(matmul)

/* in: cond, a, b */
static nb_tensor *call_where(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    (void)args;
    return nb_where(tape, in[0], in[1], in[2]);
}

/* args: i[0] the rank, i[1] to i[4] the shape */
static nb_tensor *call_broadcast_to(nb_tape *tape, int n, nb_tensor *const in[],
                                    const nb_op_args *args)
{
    (void)n;
    return nb_broadcast_to(tape, in[0], nb_opt_int(args->i[0]), &args->i[1]);
}

/* ---- preparing the samples ------------------------------------------------ */

/* t's values through f (a fuzzer may hand prepare a NULL input: skipped) */
static void map_values(nb_tensor *t, double (*f)(double))
{
    for (int64_t j = 0; t && j < t->size; j++)
        nb_tensor_set(t, j, f(nb_tensor_get(t, j)));
}

/* [-1, 1) -> +-[0.25, 1]: div's divisor away from its pole at 0 */
static double away_from_zero(double v) { return copysign(0.25 + 0.75 * fabs(v), v); }

static void prepare_div(int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)args;
    if (n == 2)
        map_values(in[1], away_from_zero);
}

/* a in [k/4, k/4 + 0.01), b in [k/4 + 1/8, k/4 + 1/8 + 0.01): every a and b
 * at least 0.1 apart, whatever broadcasts onto what, so maximum and minimum
 * are gradient-checked away from their kink at a == b. */
static double on_quarters(double v) { return floor(4 * v) / 4 + 0.01 * (4 * v - floor(4 * v)); }
static double between_quarters(double v) { return on_quarters(v) + 0.125; }

static void prepare_apart(int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)args;
    if (n != 2)
        return;
    map_values(in[0], on_quarters);
    map_values(in[1], between_quarters);
}

/* The base stays in the domain [0.5, 2), away from 0 (where d/db a^b =
 * a^b ln a is singular) and from negative bases (NaN); the exponent is
 * spread to [-1, 2). */
static double spread_exponent(double v) { return 2 * v - 2; }

static void prepare_pow(int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)args;
    if (n == 2)
        map_values(in[1], spread_exponent);
}

/* cond of 0 and 1, about half each */
static double zero_or_one(double v) { return v > 0 ? 1 : 0; }

static void prepare_where(int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)args;
    if (n == 3)
        map_values(in[0], zero_or_one);
}

/* values in halves, -1 to 0.5: many elements of a and b are equal */
static double to_halves(double v) { return floor(2 * v) / 2; }

static void prepare_equal(int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)args;
    for (int k = 0; k < n; k++)
        map_values(in[k], to_halves);
}

/* ---- the broadcasting binary ops ------------------------------------------ */

/* Their shapes, size-1 dims, rank 0 and 4, batch 1, and what they reject. */
#define BROADCAST_SAMPLES                                                                    \
    .n_samples = 8,                                                                          \
    .samples = {                                                                             \
        {.label = "same shape [2, 3]", IN2(R2(2, 3), R2(2, 3))},                             \
        {.label = "broadcast [3, 1] with [1, 4]", IN2(R2(3, 1), R2(1, 4))},                  \
        {.label = "rank 0 with [2, 3]", IN2(R0, R2(2, 3))},                                  \
        {.label = "[4] with rank 0", IN2(R1(4), R0)},                                        \
        {.label = "both rank 0", IN2(R0, R0)},                                               \
        {.label = "rank 4 [2, 1, 3, 1] with [2, 1, 4]", IN2(R4(2, 1, 3, 1), R3(2, 1, 4))},   \
        {.label = "batch 1: [1, 5] with [5]", IN2(R2(1, 5), R1(5))},                         \
        {.label = "size 1: [1, 1] with [1]", IN2(R2(1, 1), R1(1))},                          \
    },                                                                                       \
    .n_rejects = 7,                                                                          \
    .rejects = {                                                                             \
        {.label = "[2, 3] with [4, 3]", IN2(R2(2, 3), R2(4, 3)),                             \
         .message = "shapes [2, 3] and [4, 3] cannot be broadcast together: dimension 0 "    \
                    "(counted in the 2-dimensional result) is 2 in a and 4 in b: expected "  \
                    "equal sizes or 1",                                                      \
         .status = NB_ERR_SHAPE},                                                            \
        {.label = "[2, 3] with [3, 2]", IN2(R2(2, 3), R2(3, 2)), .dtype = NB_F64,            \
         .message = "shapes [2, 3] and [3, 2] cannot be broadcast together: dimension 1 "    \
                    "(counted in the 2-dimensional result) is 3 in a and 2 in b: expected "  \
                    "equal sizes or 1",                                                      \
         .status = NB_ERR_SHAPE},                                                            \
        {.label = "[4] with [2, 3], counted from the right", IN2(R1(4), R2(2, 3)),           \
         .message = "shapes [4] and [2, 3] cannot be broadcast together: dimension 1 "       \
                    "(counted in the 2-dimensional result) is 4 in a and 3 in b",            \
         .status = NB_ERR_SHAPE},                                                            \
        /* the same element count in another rank is still another shape */                  \
        {.label = "[6] with [2, 3]", IN2(R1(6), R2(2, 3)),                                   \
         .message = "shapes [6] and [2, 3] cannot be broadcast together",                    \
         .status = NB_ERR_SHAPE},                                                            \
        {.label = "[2, 1, 3, 4] with [5, 4]", IN2(R4(2, 1, 3, 4), R2(5, 4)),                 \
         .dtype = NB_F64, .message = "dimension 2 (counted in the 4-dimensional result)",    \
         .status = NB_ERR_SHAPE},                                                            \
        {.label = "f32 with f64", IN2(R2(2, 3), R2(2, 3)), .mixed_dtype = true,              \
         .message = "input 1 is f64 but input 0 is f32: expected the same dtype",            \
         .status = NB_ERR_DTYPE},                                                            \
        {.label = "f64 with f32, broadcasting", IN2(R1(3), R2(2, 3)), .dtype = NB_F64,       \
         .mixed_dtype = true, .message = "expected the same dtype", .status = NB_ERR_DTYPE}, \
    }

#define BINARY_ENTRY(op, lo, hi, prep)                                                       \
    {                                                                                        \
        .name = "nb_" #op, .call = call_##op, .arity = 2,                                    \
        .flags = NB_OPT_DIFF | NB_OPT_DIFF2,                                                 \
        .low = lo, .high = hi, .prepare = prep, BROADCAST_SAMPLES,                           \
    }

const nb_op_entry nb_op_table_binary[] = {
    BINARY_ENTRY(add, -1, 1, NULL),
    BINARY_ENTRY(sub, -1, 1, NULL),
    BINARY_ENTRY(mul, -1, 1, NULL),
    BINARY_ENTRY(div, -1, 1, prepare_div),
    BINARY_ENTRY(maximum, -1, 1, prepare_apart),
    BINARY_ENTRY(minimum, -1, 1, prepare_apart),
    BINARY_ENTRY(pow, 0.5, 2, prepare_pow),

    /* ---- where ---------------------------------------------------------------- */
    {
        .name = "nb_where", .call = call_where, .arity = 3,
        .flags = NB_OPT_DIFF | NB_OPT_DIFF2, .grad_inputs = 1u << 1 | 1u << 2, /* not cond */
        .low = -1, .high = 1, .prepare = prepare_where, .n_samples = 7,
        .samples = {
            {.label = "all [2, 3]", IN3(R2(2, 3), R2(2, 3), R2(2, 3))},
            {.label = "cond [3, 1], a [1, 4], b [3, 4]", IN3(R2(3, 1), R2(1, 4), R2(3, 4))},
            {.label = "cond rank 0, a [2, 3], b [3]", IN3(R0, R2(2, 3), R1(3))},
            {.label = "cond [2, 3], a and b rank 0", IN3(R2(2, 3), R0, R0)},
            {.label = "rank 4: cond [2, 1, 3, 1], a [1, 2, 1, 4], b [4]",
             IN3(R4(2, 1, 3, 1), R4(1, 2, 1, 4), R1(4))},
            {.label = "batch 1: cond [1, 5], a [1, 5], b [1, 1]",
             IN3(R2(1, 5), R2(1, 5), R2(1, 1))},
            {.label = "all rank 0", IN3(R0, R0, R0)},
        },
        .n_rejects = 5,
        .rejects = {
            {.label = "a [2] with b [3]", IN3(R1(3), R1(2), R1(3)),
             .message = "nb_where: shapes [2] and [3] cannot be broadcast together: dimension 0 "
                        "(counted in the 1-dimensional result) is 2 in a and 3 in b: expected "
                        "equal sizes or 1",
             .status = NB_ERR_SHAPE},
            {.label = "a [2, 3] with b [4, 3]", IN3(R2(2, 3), R2(2, 3), R2(4, 3)),
             .dtype = NB_F64, .message = "shapes [2, 3] and [4, 3] cannot be broadcast together",
             .status = NB_ERR_SHAPE},
            {.label = "cond [3] with a [2, 2], b [2]", IN3(R1(3), R2(2, 2), R1(2)),
             .message = "nb_where: cond of shape [3] cannot be broadcast with [2, 2], the shape "
                        "a [2, 2] and b [2] broadcast to: expected cond's dimensions, aligned "
                        "from the right, to be equal to those or 1",
             .status = NB_ERR_SHAPE},
            {.label = "cond [2, 3, 2] with a [3, 1], b [3]", IN3(R3(2, 3, 2), R2(3, 1), R1(3)),
             .dtype = NB_F64, .message = "cond of shape [2, 3, 2] cannot be broadcast with [3, 3]",
             .status = NB_ERR_SHAPE},
            {.label = "b in the other dtype", IN3(R2(2, 3), R2(2, 3), R2(2, 3)),
             .mixed_dtype = true,
             .message = "nb_where: input 2 is f64 but input 0 is f32: expected the same dtype",
             .status = NB_ERR_DTYPE},
        },
    },

    /* ---- broadcast_to --------------------------------------------------------- */
    {
        .name = "nb_broadcast_to", .call = call_broadcast_to, .arity = 1,
        .flags = NB_OPT_DIFF | NB_OPT_DIFF2, .low = -1, .high = 1, .n_samples = 7,
        .samples = {
            {.label = "[3, 1] to [2, 3, 4]", IN1(R2(3, 1)), .args = {.i = {3, 2, 3, 4}}},
            {.label = "rank 0 to [2, 3]", IN1(R0), .args = {.i = {2, 2, 3}}},
            {.label = "[4] to [3, 4]", IN1(R1(4)), .args = {.i = {2, 3, 4}}},
            {.label = "rank 4: [1, 3, 1, 2] to [2, 3, 4, 2]", IN1(R4(1, 3, 1, 2)),
             .args = {.i = {4, 2, 3, 4, 2}}},
            {.label = "batch 1: [1, 4] to [1, 4], a copy", IN1(R2(1, 4)),
             .args = {.i = {2, 1, 4}}},
            {.label = "rank 0 to rank 0", IN1(R0), .args = {.i = {0}}},
            {.label = "[1, 1] to [1, 5, 1]", IN1(R2(1, 1)), .args = {.i = {3, 1, 5, 1}}},
        },
        .n_rejects = 8,
        .rejects = {
            {.label = "[2, 3] to [3]", IN1(R2(2, 3)), .args = {.i = {1, 3}},
             .message = "nb_broadcast_to: x of shape [2, 3] has rank 2 but the shape [3] has "
                        "rank 1: expected x to have at most as many axes",
             .status = NB_ERR_SHAPE},
            {.label = "[2, 3] to rank 0", IN1(R2(2, 3)), .args = {.i = {0}},
             .message = "x of shape [2, 3] has rank 2 but the shape [] has rank 0",
             .status = NB_ERR_SHAPE},
            {.label = "[2, 3] to [4, 3]", IN1(R2(2, 3)), .args = {.i = {2, 4, 3}},
             .message = "nb_broadcast_to: x of shape [2, 3] cannot be broadcast to [4, 3]: "
                        "dimension 0 is 2 in x and 4 in the shape (aligned from the right): "
                        "expected equal sizes or 1 in x",
             .status = NB_ERR_SHAPE},
            /* one way only: x's 3 does not shrink to 1, as it would in nb_add */
            {.label = "[2, 3] to [5, 2, 1]", IN1(R2(2, 3)), .args = {.i = {3, 5, 2, 1}},
             .dtype = NB_F64,
             .message = "nb_broadcast_to: x of shape [2, 3] cannot be broadcast to [5, 2, 1]: "
                        "dimension 2 is 3 in x and 1 in the shape (aligned from the right): "
                        "expected equal sizes or 1 in x",
             .status = NB_ERR_SHAPE},
            {.label = "rank 5", IN1(R1(3)), .args = {.i = {5, 1, 1, 1, 1, 3}},
             .message = "nb_broadcast_to: rank 5 is out of range: expected 0 to 4",
             .status = NB_ERR_SHAPE},
            {.label = "rank -1", IN1(R1(1)), .args = {.i = {-1}},
             .message = "rank -1 is out of range", .status = NB_ERR_SHAPE},
            {.label = "a dimension 0", IN1(R1(3)), .args = {.i = {2, 0, 3}},
             .message = "nb_broadcast_to: dimension 0 of shape [0, 3] is 0: expected a "
                        "positive size",
             .status = NB_ERR_SHAPE},
            {.label = "a dimension -2", IN1(R1(3)), .args = {.i = {2, -2, 3}}, .dtype = NB_F64,
             .message = "is -2: expected a positive size", .status = NB_ERR_SHAPE},
        },
    },

    /* ---- equal: not differentiable, no broadcasting ------------------------------ */
    {
        .name = "nb_equal", .call = call_equal, .arity = 2, .low = -1, .high = 1,
        .prepare = prepare_equal, .n_samples = 6,
        .samples = {
            {.label = "[2, 3]", IN2(R2(2, 3), R2(2, 3))},
            {.label = "rank 0", IN2(R0, R0)},
            {.label = "rank 4 [2, 1, 3, 2]", IN2(R4(2, 1, 3, 2), R4(2, 1, 3, 2))},
            {.label = "size 1: [1, 1]", IN2(R2(1, 1), R2(1, 1))},
            {.label = "batch 1: [1, 5]", IN2(R2(1, 5), R2(1, 5))},
            {.label = "[7]", IN2(R1(7), R1(7))},
        },
        .n_rejects = 3,
        .rejects = {
            {.label = "[2, 3] with [3]", IN2(R2(2, 3), R1(3)),
             .message = "shapes differ: a is [2, 3], b is [3]: expected the same shape",
             .status = NB_ERR_SHAPE},
            {.label = "[2, 1] with [2, 3]", IN2(R2(2, 1), R2(2, 3)), .dtype = NB_F64,
             .message = "shapes differ", .status = NB_ERR_SHAPE},
            {.label = "f32 with f64", IN2(R1(3), R1(3)), .mixed_dtype = true,
             .message = "expected the same dtype", .status = NB_ERR_DTYPE},
        },
    },

    /* ---- add_bias ------------------------------------------------------------- */
    {
        .name = "nb_add_bias", .call = call_add_bias, .arity = 2,
        .flags = NB_OPT_DIFF | NB_OPT_DIFF2, .low = -1, .high = 1, .n_samples = 6,
        .samples = {
            {.label = "x [2, 3], bias [3]", IN2(R2(2, 3), R1(3))},
            {.label = "x [2, 3], bias [1, 3]", IN2(R2(2, 3), R2(1, 3))},
            {.label = "size 1: x [1, 1], bias [1]", IN2(R2(1, 1), R1(1))},
            {.label = "batch 1: x [1, 4], bias [4]", IN2(R2(1, 4), R1(4))},
            {.label = "x [5, 1], bias [1, 1]", IN2(R2(5, 1), R2(1, 1))},
            {.label = "x [3, 6], bias [6]", IN2(R2(3, 6), R1(6))},
        },
        .n_rejects = 7,
        .rejects = {
            {.label = "x [3]", IN2(R1(3), R1(3)),
             .message = "nb_add_bias: input 0 has shape [3] (rank 1): expected rank 2",
             .status = NB_ERR_SHAPE},
            {.label = "x [2, 2, 3]", IN2(R3(2, 2, 3), R1(3)),
             .message = "input 0 has shape [2, 2, 3] (rank 3): expected rank 2",
             .status = NB_ERR_SHAPE},
            {.label = "bias [1, 1, 3]", IN2(R2(2, 3), R3(1, 1, 3)),
             .message = "nb_add_bias: input 1 has shape [1, 1, 3] (rank 3): expected rank 1 to 2",
             .status = NB_ERR_SHAPE},
            {.label = "bias [4] for x [2, 3]", IN2(R2(2, 3), R1(4)),
             .message = "nb_add_bias: x is [2, 3], bias is [4]: expected bias [3] or [1, 3]",
             .status = NB_ERR_SHAPE},
            {.label = "bias [2, 3]", IN2(R2(2, 3), R2(2, 3)), .dtype = NB_F64,
             .message = "nb_add_bias: x is [2, 3], bias is [2, 3]: expected bias [3] or [1, 3]",
             .status = NB_ERR_SHAPE},
            {.label = "bias [3, 1]", IN2(R2(2, 3), R2(3, 1)),
             .message = "nb_add_bias: x is [2, 3], bias is [3, 1]: expected bias [3] or [1, 3]",
             .status = NB_ERR_SHAPE},
            {.label = "f32 with f64", IN2(R2(2, 3), R1(3)), .mixed_dtype = true,
             .message = "nb_add_bias: input 1 is f64 but input 0 is f32: expected the same "
                        "dtype",
             .status = NB_ERR_DTYPE},
        },
    },

    /* ---- matmul --------------------------------------------------------------- */
    {
        .name = "nb_matmul", .call = call_matmul, .arity = 2,
        .flags = NB_OPT_DIFF | NB_OPT_DIFF2, .low = -1, .high = 1, .n_samples = 8,
        .samples = {
            {.label = "[2, 3] x [3, 4]", IN2(R2(2, 3), R2(3, 4))},
            {.label = "size 1: [1, 1] x [1, 1]", IN2(R2(1, 1), R2(1, 1))},
            {.label = "batch 1: [1, 3] x [3, 2]", IN2(R2(1, 3), R2(3, 2))},
            {.label = "rank 3: [2, 2, 3] x [2, 3, 4]", IN2(R3(2, 2, 3), R3(2, 3, 4))},
            {.label = "rank 3, batch [1] with [3]: [1, 2, 3] x [3, 3, 2]",
             IN2(R3(1, 2, 3), R3(3, 3, 2))},
            {.label = "rank 2 shared by a batch: [2, 3] x [2, 3, 2]",
             IN2(R2(2, 3), R3(2, 3, 2))},
            {.label = "rank 4 with rank 3: [2, 1, 2, 3] x [3, 3, 2]",
             IN2(R4(2, 1, 2, 3), R3(3, 3, 2))},
            {.label = "rank 4, batch [1, 2] with [2, 1]: [1, 2, 2, 3] x [2, 1, 3, 2]",
             IN2(R4(1, 2, 2, 3), R4(2, 1, 3, 2))},
        },
        .n_rejects = 8,
        .rejects = {
            {.label = "a [3]", IN2(R1(3), R2(3, 2)), .dtype = NB_F64,
             .message = "nb_matmul: input 0 has shape [3] (rank 1): expected rank 2 to 4",
             .status = NB_ERR_SHAPE},
            {.label = "b [3]", IN2(R2(3, 2), R1(3)), .dtype = NB_F64,
             .message = "nb_matmul: input 1 has shape [3] (rank 1): expected rank 2 to 4",
             .status = NB_ERR_SHAPE},
            {.label = "inner [2, 3] x [4, 5]", IN2(R2(2, 3), R2(4, 5)),
             .message = "nb_matmul: inner dimensions differ: a is [2, 3], b is [4, 5]",
             .status = NB_ERR_SHAPE},
            {.label = "inner in a batch", IN2(R3(2, 2, 3), R3(2, 4, 5)),
             .message = "nb_matmul: inner dimensions differ: a is [2, 2, 3], b is [2, 4, 5]",
             .status = NB_ERR_SHAPE},
            {.label = "inner, a shared by a batch", IN2(R2(2, 3), R3(2, 2, 3)),
             .message = "nb_matmul: inner dimensions differ: a is [2, 3], b is [2, 2, 3]",
             .status = NB_ERR_SHAPE},
            {.label = "batch [2] with [3]", IN2(R3(2, 2, 3), R3(3, 3, 4)), .dtype = NB_F64,
             .message = "nb_matmul: a is [2, 2, 3], b is [3, 3, 4]: their batch dimensions: "
                        "shapes [2] and [3] cannot be broadcast together",
             .status = NB_ERR_SHAPE},
            {.label = "batch [4, 2] with [3]", IN2(R4(4, 2, 2, 3), R3(3, 3, 4)), .dtype = NB_F64,
             .message = "nb_matmul: a is [4, 2, 2, 3], b is [3, 3, 4]: their batch dimensions: "
                        "shapes [4, 2] and [3] cannot be broadcast together: dimension 1",
             .status = NB_ERR_SHAPE},
            {.label = "f32 with f64", IN2(R2(2, 3), R2(3, 2)), .mixed_dtype = true,
             .message = "nb_matmul: input 1 is f64 but input 0 is f32: expected the same dtype",
             .status = NB_ERR_DTYPE},
        },
        /* 2^18 multiply-adds: the smallest product gemm.c splits across threads */
        .threads_sample = {.label = "[64, 64] x [64, 64]", IN2(R2(64, 64), R2(64, 64))},
        /* OpenBLAS's sgemm rounds a split product's parts differently in the
         * last bits (op_table.h); the sums here have 64 terms */
        .threads_ulps = 64,
    },
};
const int nb_op_table_binary_count =
    (int)(sizeof nb_op_table_binary / sizeof nb_op_table_binary[0]);
