/* Op-table entries (tests/op_table.h) of the ops that move values without
 * computing new ones: reshape and flatten (src/ops/shape.c), transpose,
 * slice, squeeze and expand_dims (movement.c), concat and stack (join.c),
 * take (take.c), and the index ops one_hot and argmax (compare.c). */
#include <math.h>

#include "op_table_util.h"

/* ---- calls ---------------------------------------------------------------- */

/* args: i[0] the rank, i[1] to i[4] the new shape */
static nb_tensor *call_reshape(nb_tape *tape, int n, nb_tensor *const in[],
                               const nb_op_args *args)
{
    (void)n;
    return nb_reshape(tape, in[0], nb_opt_int(args->i[0]), &args->i[1]);
}

static nb_tensor *call_flatten(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    (void)args;
    return nb_flatten(tape, in[0]);
}

/* args: i[0] nonzero to pass a perm (else NULL: the axes reversed), i[1]
 * to i[4] the perm */
static nb_tensor *call_transpose(nb_tape *tape, int n, nb_tensor *const in[],
                                 const nb_op_args *args)
{
    (void)n;
    int perm[NB_MAX_RANK];
    for (int d = 0; d < NB_MAX_RANK; d++)
        perm[d] = nb_opt_int(args->i[1 + d]);
    return nb_transpose(tape, in[0], args->i[0] ? perm : NULL);
}

/* args: i[0] the axis; n inputs */
static nb_tensor *call_concat(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    return nb_concat(tape, n, in, nb_opt_int(args->i[0]));
}

/* args: i[0] the axis; n inputs */
static nb_tensor *call_stack(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    return nb_stack(tape, n, in, nb_opt_int(args->i[0]));
}

/* args: i[0] the axis, i[1] start, i[2] stop */
static nb_tensor *call_slice(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    return nb_slice(tape, in[0], nb_opt_int(args->i[0]), args->i[1], args->i[2]);
}

/* args: i[0] the axis */
static nb_tensor *call_squeeze(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    return nb_squeeze(tape, in[0], nb_opt_int(args->i[0]));
}

/* args: i[0] the axis */
static nb_tensor *call_expand_dims(nb_tape *tape, int n, nb_tensor *const in[],
                                   const nb_op_args *args)
{
    (void)n;
    return nb_expand_dims(tape, in[0], nb_opt_int(args->i[0]));
}

/* in: x, indices; args: i[0] the axis, d[0] see prepare_take */
static nb_tensor *call_take(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    return nb_take(tape, in[0], in[1], nb_opt_int(args->i[0]));
}

/* args: i[0] the number of classes, d[0] see prepare_one_hot */
static nb_tensor *call_one_hot(nb_tape *tape, int n, nb_tensor *const in[],
                               const nb_op_args *args)
{
    (void)n;
    return nb_one_hot(tape, in[0], args->i[0]);
}

static nb_tensor *call_argmax(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    (void)args;
    return nb_argmax(tape, in[0]);
}

/* ---- preparing the samples ------------------------------------------------ */

/* v drawn in [-1, 1) to an integer in [first, first + count), uniformly */
static double integer_in(double v, double first, double count)
{
    double k = floor((v + 1) / 2 * count);
    return first + (k < count ? k : count - 1);
}

/* The indices made integers in range for x's axis, negative ones (counted
 * from the end) included, then moved by d[0]: 0 for a sample; a reject
 * moves them off the integers (0.5) or out of range (+-100). */
static void prepare_take(int n, nb_tensor *const in[], const nb_op_args *args)
{
    if (n != 2)
        return;
    const nb_tensor *x = in[0];
    int axis = nb_opt_int(args->i[0]);
    if (axis < 0 && axis >= -x->rank)
        axis += x->rank;
    if (axis < 0 || axis >= x->rank)
        return; /* a reject of the axis: the indices do not matter */
    double size = (double)x->shape[axis];
    for (int64_t j = 0; j < in[1]->size; j++)
        nb_tensor_set(in[1], j, integer_in(nb_tensor_get(in[1], j), -size, 2 * size) + args->d[0]);
}

/* The labels made classes, 0 to i[0] - 1, then moved by d[0] as the
 * indices of prepare_take. */
static void prepare_one_hot(int n, nb_tensor *const in[], const nb_op_args *args)
{
    if (n != 1 || args->i[0] < 1)
        return;
    for (int64_t j = 0; j < in[0]->size; j++)
        nb_tensor_set(in[0], j,
                      integer_in(nb_tensor_get(in[0], j), 0, (double)args->i[0]) + args->d[0]);
}

/* ---- the entries ---------------------------------------------------------- */

#define DIFF2 (NB_OPT_DIFF | NB_OPT_DIFF2)

const nb_op_entry nb_op_table_movement[] = {
    {
        .name = "nb_reshape", .call = call_reshape, .arity = 1, .flags = DIFF2,
        .low = -1, .high = 1, .n_samples = 7,
        .samples = {
            {.label = "[2, 3] to [3, 2]", IN1(R2(2, 3)), .args = {.i = {2, 3, 2}}},
            {.label = "[6] to [2, -1]", IN1(R1(6)), .args = {.i = {2, 2, -1}}},
            {.label = "rank 0 to [1, 1]", IN1(R0), .args = {.i = {2, 1, 1}}},
            {.label = "[1] to rank 0", IN1(R1(1)), .args = {.i = {0}}},
            {.label = "rank 4 [2, 3, 2, 2] to [4, -1]", IN1(R4(2, 3, 2, 2)),
             .args = {.i = {2, 4, -1}}},
            {.label = "[2, 6] to rank 4 [1, 2, 3, 2]", IN1(R2(2, 6)),
             .args = {.i = {4, 1, 2, 3, 2}}},
            {.label = "batch 1: [1, 4] to [4]", IN1(R2(1, 4)), .args = {.i = {1, 4}}},
        },
        .n_rejects = 7,
        .rejects = {
            {.label = "[2, 3] to [4]", IN1(R2(2, 3)), .args = {.i = {1, 4}},
             .message = "x of shape [2, 3] has 6 elements; new shape [4] does not hold that many",
             .status = NB_ERR_SHAPE},
            {.label = "[2, 3] to [4, -1]", IN1(R2(2, 3)), .args = {.i = {2, 4, -1}},
             .message = "new shape [4, -1] does not hold that many", .status = NB_ERR_SHAPE},
            {.label = "two -1", IN1(R2(2, 3)), .args = {.i = {2, -1, -1}},
             .message = "has dimension -1 on axis 1: expected positive sizes and at most one -1",
             .status = NB_ERR_SHAPE},
            {.label = "a dimension 0", IN1(R2(2, 3)), .args = {.i = {3, 2, 0, 3}},
             .dtype = NB_F64, .message = "has dimension 0 on axis 1", .status = NB_ERR_SHAPE},
            {.label = "rank 5", IN1(R1(1)), .args = {.i = {5, 1, 1, 1, 1, 1}},
             .message = "rank 5: expected 0 to 4", .status = NB_ERR_ARG},
            {.label = "rank -1", IN1(R1(1)), .args = {.i = {-1}},
             .message = "rank -1: expected 0 to 4", .status = NB_ERR_ARG},
            {.label = "dimensions whose product overflows", IN1(R1(2)),
             .args = {.i = {2, INT64_C(1) << 40, INT64_C(1) << 40}},
             .message = "does not hold that many", .status = NB_ERR_SHAPE},
        },
    },
    {
        .name = "nb_flatten", .call = call_flatten, .arity = 1, .flags = DIFF2,
        .low = -1, .high = 1, .n_samples = 5,
        .samples = {
            {.label = "[2, 3, 4]", IN1(R3(2, 3, 4))},
            {.label = "batch 1: [1, 5]", IN1(R2(1, 5))},
            {.label = "[3] to [3, 1]", IN1(R1(3))},
            {.label = "rank 4 [2, 1, 3, 2]", IN1(R4(2, 1, 3, 2))},
            {.label = "size 1: [1, 1, 1, 1]", IN1(R4(1, 1, 1, 1))},
        },
        .n_rejects = 1,
        .rejects = {
            {.label = "rank 0", IN1(R0),
             .message = "x is a scalar (rank 0): expected rank 1 or more", .status = NB_ERR_SHAPE},
        },
    },
    {
        .name = "nb_transpose", .call = call_transpose, .arity = 1, .flags = DIFF2,
        .low = -1, .high = 1, .n_samples = 8,
        .samples = {
            {.label = "[2, 3], perm NULL", IN1(R2(2, 3))},
            {.label = "[2, 3, 4] perm [2, 0, 1]", IN1(R3(2, 3, 4)), .args = {.i = {1, 2, 0, 1}}},
            {.label = "rank 4 [2, 3, 1, 2] perm [3, 1, 0, 2]", IN1(R4(2, 3, 1, 2)),
             .args = {.i = {1, 3, 1, 0, 2}}},
            {.label = "[3, 2] perm [-1, 0]", IN1(R2(3, 2)), .args = {.i = {1, -1, 0}}},
            {.label = "batch 1: [1, 4], perm NULL", IN1(R2(1, 4))},
            {.label = "rank 0, perm NULL", IN1(R0)},
            {.label = "[5] perm [0]", IN1(R1(5)), .args = {.i = {1, 0}}},
            {.label = "rank 4 [1, 2, 3, 2], perm NULL", IN1(R4(1, 2, 3, 2))},
        },
        .n_rejects = 5,
        .rejects = {
            {.label = "perm [0, 0]", IN1(R2(2, 3)), .args = {.i = {1, 0, 0}},
             .message = "perm [0, 0] is not a permutation of the 2 axes of x [2, 3]",
             .status = NB_ERR_ARG},
            {.label = "perm [0, 2]", IN1(R2(2, 3)), .args = {.i = {1, 0, 2}},
             .message = "is not a permutation", .status = NB_ERR_ARG},
            {.label = "perm [-3, 0]", IN1(R2(2, 3)), .args = {.i = {1, -3, 0}},
             .dtype = NB_F64, .message = "perm [-3, 0] is not a permutation", .status = NB_ERR_ARG},
            {.label = "perm [1, 2, 3, 5]", IN1(R4(1, 2, 3, 2)), .args = {.i = {1, 1, 2, 3, 5}},
             .message = "expected each of 0 to 3 (or -4 to -1) once", .status = NB_ERR_ARG},
            {.label = "perm [1, -1], axis 1 twice", IN1(R2(2, 3)),
             .args = {.i = {1, 1, -1}}, .message = "perm [1, -1] is not a permutation",
             .status = NB_ERR_ARG},
        },
    },
    {
        .name = "nb_concat", .call = call_concat, .arity = 1,
        .flags = DIFF2 | NB_OPT_VARIADIC, .low = -1, .high = 1, .n_samples = 8,
        .samples = {
            {.label = "[2, 3] and [2, 1] on axis 1", IN2(R2(2, 3), R2(2, 1)),
             .args = {.i = {1}}},
            {.label = "[1, 3], [2, 3], [1, 3] on axis 0", IN3(R2(1, 3), R2(2, 3), R2(1, 3))},
            {.label = "[2, 2] and [2, 3] on axis -1", IN2(R2(2, 2), R2(2, 3)),
             .args = {.i = {-1}}},
            {.label = "rank 4 on axis 2", IN2(R4(1, 2, 1, 2), R4(1, 2, 3, 2)),
             .args = {.i = {2}}},
            {.label = "one input: a copy", IN1(R2(2, 2))},
            {.label = "six [1, 2], joined in groups", .n_inputs = 6,
             .shapes = {R2(1, 2), R2(1, 2), R2(1, 2), R2(1, 2), R2(1, 2), R2(1, 2)}},
            {.label = "[2] and [3]", IN2(R1(2), R1(3))},
            {.label = "batch 1: [1, 2] and [1, 3] on axis 1", IN2(R2(1, 2), R2(1, 3)),
             .args = {.i = {1}}},
        },
        .n_rejects = 6,
        .rejects = {
            {.label = "scalars", IN2(R0, R0), .message = "xs[0] is a scalar (rank 0)",
             .status = NB_ERR_ARG},
            {.label = "[2, 3] and [3, 3] on axis 1", IN2(R2(2, 3), R2(3, 3)), .args = {.i = {1}},
             .message = "xs[1] has shape [3, 3] but xs[0] has [2, 3]: expected the same rank "
                        "and the same sizes off axis 1", .status = NB_ERR_SHAPE},
            {.label = "[2, 3] and [2, 3, 1]", IN2(R2(2, 3), R3(2, 3, 1)),
             .message = "expected the same rank", .status = NB_ERR_SHAPE},
            {.label = "axis 2 of [2, 3]", IN2(R2(2, 3), R2(2, 3)), .args = {.i = {2}},
             .message = "axis 2 is out of range for xs[0] of shape [2, 3]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "axis -3 of [2, 3]", IN3(R2(2, 3), R2(2, 3), R2(2, 3)), .args = {.i = {-3}},
             .dtype = NB_F64, .message = "axis -3 is out of range", .status = NB_ERR_ARG},
            {.label = "f32 with f64", IN3(R1(2), R1(2), R1(3)), .mixed_dtype = true,
             .message = "xs[2] is f64 but xs[0] is f32: expected the same dtype",
             .status = NB_ERR_DTYPE},
        },
    },
    {
        .name = "nb_slice", .call = call_slice, .arity = 1, .flags = DIFF2,
        .low = -1, .high = 1, .n_samples = 7,
        .samples = {
            {.label = "[4, 3], rows 1 to 3", IN1(R2(4, 3)), .args = {.i = {0, 1, 3}}},
            {.label = "[2, 5] on axis -1, -3 to -1", IN1(R2(2, 5)), .args = {.i = {-1, -3, -1}}},
            {.label = "rank 4, the whole axis 2", IN1(R4(2, 3, 4, 2)), .args = {.i = {2, 0, 4}}},
            {.label = "size 1: [1, 1]", IN1(R2(1, 1)), .args = {.i = {0, 0, 1}}},
            {.label = "[5], the last element", IN1(R1(5)), .args = {.i = {0, 4, 5}}},
            {.label = "batch 1: [1, 6] on axis 1, 2 to 5", IN1(R2(1, 6)),
             .args = {.i = {1, 2, 5}}},
            {.label = "[2, 3, 4] on axis 1, 0 to 1", IN1(R3(2, 3, 4)), .args = {.i = {1, 0, 1}}},
        },
        .n_rejects = 7,
        .rejects = {
            {.label = "a scalar", IN1(R0), .args = {.i = {0, 0, 1}},
             .message = "x is a scalar (rank 0): it has no axis 0", .status = NB_ERR_ARG},
            {.label = "axis 2 of [2, 3]", IN1(R2(2, 3)), .args = {.i = {2, 0, 1}},
             .message = "axis 2 is out of range for x of shape [2, 3]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "empty, 1 to 1", IN1(R2(2, 3)), .args = {.i = {1, 1, 1}},
             .message = "start 1, stop 1 on axis 1 of x [2, 3] (size 3): expected a non-empty "
                        "slice inside 0 to 3", .status = NB_ERR_ARG},
            {.label = "stop past the end", IN1(R2(2, 3)), .args = {.i = {1, 0, 4}},
             .message = "start 0, stop 4 on axis 1", .status = NB_ERR_ARG},
            {.label = "start before the start", IN1(R2(2, 3)), .args = {.i = {1, -5, 2}},
             .dtype = NB_F64, .message = "start -5, stop 2 on axis 1", .status = NB_ERR_ARG},
            {.label = "start after stop", IN1(R1(4)), .args = {.i = {0, 3, 1}},
             .message = "expected a non-empty slice", .status = NB_ERR_ARG},
            {.label = "the most negative start", IN1(R1(4)), .args = {.i = {0, INT64_MIN, 2}},
             .message = "expected a non-empty slice", .status = NB_ERR_ARG},
        },
    },
    {
        .name = "nb_stack", .call = call_stack, .arity = 1,
        .flags = DIFF2 | NB_OPT_VARIADIC, .low = -1, .high = 1, .n_samples = 7,
        .samples = {
            {.label = "two [2, 3] on axis 0", IN2(R2(2, 3), R2(2, 3))},
            {.label = "three [2] on axis -1", IN3(R1(2), R1(2), R1(2)), .args = {.i = {-1}}},
            {.label = "three scalars", IN3(R0, R0, R0)},
            {.label = "two [1, 2, 3] on axis 3: rank 4", IN2(R3(1, 2, 3), R3(1, 2, 3)),
             .args = {.i = {3}}},
            {.label = "five [1, 2] on axis 1, joined in groups", .n_inputs = 5,
             .shapes = {R2(1, 2), R2(1, 2), R2(1, 2), R2(1, 2), R2(1, 2)}, .args = {.i = {1}}},
            {.label = "one [2, 2] on axis 2", IN1(R2(2, 2)), .args = {.i = {2}}},
            {.label = "batch 1: two [1, 4] on axis 1", IN2(R2(1, 4), R2(1, 4)),
             .args = {.i = {1}}},
        },
        .n_rejects = 5,
        .rejects = {
            {.label = "[2, 3] and [3, 2]", IN2(R2(2, 3), R2(3, 2)),
             .message = "xs[1] has shape [3, 2] but xs[0] has [2, 3]: expected the same shape",
             .status = NB_ERR_SHAPE},
            {.label = "rank 4 inputs", IN2(R4(1, 2, 1, 2), R4(1, 2, 1, 2)),
             .message = "xs[0] has shape [1, 2, 1, 2] (rank 4): the new axis would make rank 5",
             .status = NB_ERR_SHAPE},
            {.label = "axis 2 for [3]", IN2(R1(3), R1(3)), .args = {.i = {2}},
             .message = "axis 2 is out of range for xs[0] of shape [3]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "axis -4 for [2, 3]", IN1(R2(2, 3)), .args = {.i = {-4}},
             .dtype = NB_F64, .message = "axis -4 is out of range", .status = NB_ERR_ARG},
            {.label = "f32 with f64", IN2(R1(3), R1(3)), .mixed_dtype = true,
             .message = "xs[1] is f64 but xs[0] is f32: expected the same dtype",
             .status = NB_ERR_DTYPE},
        },
    },
    {
        .name = "nb_squeeze", .call = call_squeeze, .arity = 1, .flags = DIFF2,
        .low = -1, .high = 1, .n_samples = 5,
        .samples = {
            {.label = "[2, 1, 3] on axis 1", IN1(R3(2, 1, 3)), .args = {.i = {1}}},
            {.label = "[1] to rank 0", IN1(R1(1))},
            {.label = "rank 4 [1, 1, 1, 1] on axis -1", IN1(R4(1, 1, 1, 1)), .args = {.i = {-1}}},
            {.label = "batch 1: [1, 4] on axis 0", IN1(R2(1, 4))},
            {.label = "[3, 1] on axis -1", IN1(R2(3, 1)), .args = {.i = {-1}}},
        },
        .n_rejects = 4,
        .rejects = {
            {.label = "axis 0 of [2, 1]", IN1(R2(2, 1)),
             .message = "axis 0 of x [2, 1] has size 2: expected size 1", .status = NB_ERR_SHAPE},
            {.label = "axis 2 of [2, 1]", IN1(R2(2, 1)), .args = {.i = {2}},
             .message = "axis 2 is out of range for x of shape [2, 1]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "axis -3 of [2, 1]", IN1(R2(2, 1)), .args = {.i = {-3}}, .dtype = NB_F64,
             .message = "axis -3 is out of range", .status = NB_ERR_ARG},
            {.label = "a scalar", IN1(R0), .message = "x is a scalar (rank 0): it has no axis 0",
             .status = NB_ERR_ARG},
        },
    },
    {
        .name = "nb_expand_dims", .call = call_expand_dims, .arity = 1, .flags = DIFF2,
        .low = -1, .high = 1, .n_samples = 6,
        .samples = {
            {.label = "rank 0 to [1]", IN1(R0)},
            {.label = "[2, 3] on axis 0", IN1(R2(2, 3))},
            {.label = "[2, 3] on axis -1", IN1(R2(2, 3)), .args = {.i = {-1}}},
            {.label = "[2, 3, 4] on axis 1: rank 4", IN1(R3(2, 3, 4)), .args = {.i = {1}}},
            {.label = "size 1: [1] on axis 1", IN1(R1(1)), .args = {.i = {1}}},
            {.label = "batch 1: [1, 4] on axis -3", IN1(R2(1, 4)), .args = {.i = {-3}}},
        },
        .n_rejects = 3,
        .rejects = {
            {.label = "rank 4 x", IN1(R4(1, 2, 1, 2)),
             .message = "x has shape [1, 2, 1, 2] (rank 4): a new axis would make rank 5",
             .status = NB_ERR_SHAPE},
            {.label = "axis 3 of [2, 3]", IN1(R2(2, 3)), .args = {.i = {3}},
             .message = "axis 3 is out of range for x of shape [2, 3]: expected -3 to 2",
             .status = NB_ERR_ARG},
            {.label = "axis -4 of [2, 3]", IN1(R2(2, 3)), .args = {.i = {-4}}, .dtype = NB_F64,
             .message = "axis -4 is out of range", .status = NB_ERR_ARG},
        },
    },
    {
        .name = "nb_take", .call = call_take, .arity = 2, .flags = DIFF2,
        .grad_inputs = 1u << 0, /* x; the indices are integers */
        .low = -1, .high = 1, .prepare = prepare_take, .n_samples = 8,
        .samples = {
            {.label = "x [5, 3], indices [4] on axis 0", IN2(R2(5, 3), R1(4))},
            {.label = "x [2, 4], indices [2, 3] on axis 1", IN2(R2(2, 4), R2(2, 3)),
             .args = {.i = {1}}},
            {.label = "x [4], a rank-0 index", IN2(R1(4), R0)},
            {.label = "x [2, 3, 4], indices [2] on axis -1", IN2(R3(2, 3, 4), R1(2)),
             .args = {.i = {-1}}},
            {.label = "rank 4 x [2, 1, 3, 2], indices [2] on axis 2", IN2(R4(2, 1, 3, 2), R1(2)),
             .args = {.i = {2}}},
            {.label = "batch 1: x [1, 3], indices [1] on axis 0", IN2(R2(1, 3), R1(1))},
            {.label = "x [2, 2], indices [3, 2]: repeats", IN2(R2(2, 2), R2(3, 2))},
            {.label = "rank 4 out: x [3, 2], indices [2, 1, 2] on axis 1",
             IN2(R2(3, 2), R3(2, 1, 2)), .args = {.i = {1}}},
        },
        .n_rejects = 8,
        .rejects = {
            {.label = "axis 2 of [2, 3]", IN2(R2(2, 3), R1(2)), .args = {.i = {2}},
             .message = "axis 2 is out of range for x of shape [2, 3]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "axis -3 of [2, 3]", IN2(R2(2, 3), R1(2)), .args = {.i = {-3}},
             .message = "axis -3 is out of range", .status = NB_ERR_ARG},
            {.label = "x a scalar", IN2(R0, R1(2)),
             .message = "axis 0 is out of range for x of shape [] (a scalar)",
             .status = NB_ERR_ARG},
            {.label = "an index not an integer", IN2(R2(3, 2), R1(2)), .args = {.d = {0.5}},
             .message = "(element 0 of indices) is not an integer", .status = NB_ERR_ARG},
            {.label = "an index past the end", IN2(R2(3, 2), R1(2)), .args = {.d = {100}},
             .dtype = NB_F64,
             .message = "is out of bounds for axis 0 with size 3: expected -3 to 2",
             .status = NB_ERR_ARG},
            {.label = "an index before the start", IN2(R2(2, 3), R2(1, 2)),
             .args = {.i = {1}, .d = {-100}}, .message = "is out of bounds for axis 1 with size 3",
             .status = NB_ERR_ARG},
            {.label = "indices in the other dtype, out of bounds", IN2(R1(3), R1(2)),
             .args = {.d = {10}}, .mixed_dtype = true, .message = "out of bounds",
             .status = NB_ERR_ARG},
            {.label = "rank 5 out", IN2(R4(2, 2, 1, 2), R2(2, 1)),
             .message = "would give rank 5: expected at most 4 (NB_MAX_RANK)",
             .status = NB_ERR_SHAPE},
        },
    },
    {
        .name = "nb_one_hot", .call = call_one_hot, .arity = 1, .low = -1, .high = 1,
        .prepare = prepare_one_hot, .n_samples = 4,
        .samples = {
            {.label = "[4], 3 classes", IN1(R1(4)), .args = {.i = {3}}},
            {.label = "size 1: [1], 1 class", IN1(R1(1)), .args = {.i = {1}}},
            {.label = "[6], 10 classes", IN1(R1(6)), .args = {.i = {10}}},
            {.label = "[3], 2 classes", IN1(R1(3)), .args = {.i = {2}}},
        },
        .n_rejects = 8,
        .rejects = {
            {.label = "labels [2, 3]", IN1(R2(2, 3)), .args = {.i = {3}},
             .message = "input 0 has shape [2, 3] (rank 2): expected rank 1",
             .status = NB_ERR_SHAPE},
            {.label = "labels rank 0", IN1(R0), .args = {.i = {3}},
             .message = "input 0 has shape [] (rank 0): expected rank 1", .status = NB_ERR_SHAPE},
            {.label = "0 classes", IN1(R1(3)), .message = "classes is 0: expected at least 1",
             .status = NB_ERR_ARG},
            {.label = "-5 classes", IN1(R1(3)), .args = {.i = {-5}}, .dtype = NB_F64,
             .message = "classes is -5: expected at least 1", .status = NB_ERR_ARG},
            {.label = "a label not an integer", IN1(R1(3)), .args = {.i = {3}, .d = {0.5}},
             .message = "at index 0 is not a class index: expected an integer in [0, 3)",
             .status = NB_ERR_ARG},
            {.label = "a label too large", IN1(R1(3)), .args = {.i = {3}, .d = {3}},
             .message = "is not a class index", .status = NB_ERR_ARG},
            {.label = "a label below 0", IN1(R1(3)), .args = {.i = {3}, .d = {-3}},
             .dtype = NB_F64, .message = "is not a class index", .status = NB_ERR_ARG},
            {.label = "more classes than elements can hold", IN1(R1(2)),
             .args = {.i = {INT64_MAX}}, .message = "has too many elements (overflow)",
             .status = NB_ERR_SHAPE},
        },
    },
    {
        .name = "nb_argmax", .call = call_argmax, .arity = 1, .low = -1, .high = 1,
        .n_samples = 6,
        .samples = {
            {.label = "[2, 3]", IN1(R2(2, 3))},
            {.label = "[5] to rank 0", IN1(R1(5))},
            {.label = "size 1: [1]", IN1(R1(1))},
            {.label = "rank 4 [2, 1, 3, 4]", IN1(R4(2, 1, 3, 4))},
            {.label = "[3, 1]", IN1(R2(3, 1))},
            {.label = "batch 1: [1, 6]", IN1(R2(1, 6))},
        },
        .n_rejects = 1,
        .rejects = {
            {.label = "rank 0", IN1(R0),
             .message = "input 0 has shape [] (rank 0): expected rank 1 to 4",
             .status = NB_ERR_SHAPE},
        },
    },
};
const int nb_op_table_movement_count =
    (int)(sizeof nb_op_table_movement / sizeof nb_op_table_movement[0]);
