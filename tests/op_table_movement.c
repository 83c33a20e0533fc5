/* Op-table entries (tests/op_table.h) of the ops that move values without
 * computing new ones: reshape and flatten (src/ops/shape.c), transpose,
 * slice, squeeze and expand_dims (movement.c), concat and stack (join.c).
 * take, one_hot and argmax are in op_table_index.c. */

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
        .n_rejects = 8,
        .rejects = {
            {.label = "[2, 3] to [4]", IN1(R2(2, 3)), .args = {.i = {1, 4}},
             .message = "nb_reshape: x of shape [2, 3] has 6 elements; new shape [4] does not "
                        "hold that many",
             .status = NB_ERR_SHAPE},
            /* no whole number fills the -1 */
            {.label = "[2, 3] to [4, -1]", IN1(R2(2, 3)), .args = {.i = {2, 4, -1}},
             .dtype = NB_F64,
             .message = "nb_reshape: x of shape [2, 3] has 6 elements; new shape [4, -1]",
             .status = NB_ERR_SHAPE},
            {.label = "[2, 3] to rank 0", IN1(R2(2, 3)), .args = {.i = {0}},
             .message = "new shape [] does not hold that many", .status = NB_ERR_SHAPE},
            {.label = "dimensions whose product overflows", IN1(R1(2)),
             .args = {.i = {2, INT64_C(1) << 40, INT64_C(1) << 40}},
             .message = "does not hold that many", .status = NB_ERR_SHAPE},
            {.label = "two -1", IN1(R2(2, 3)), .args = {.i = {2, -1, -1}},
             .message = "nb_reshape: new shape [-1, -1] has dimension -1 on axis 1: expected "
                        "positive sizes and at most one -1",
             .status = NB_ERR_SHAPE},
            {.label = "a dimension 0", IN1(R2(2, 3)), .args = {.i = {2, 0, 6}}, .dtype = NB_F64,
             .message = "nb_reshape: new shape [0, 6] has dimension 0 on axis 0",
             .status = NB_ERR_SHAPE},
            {.label = "rank 5", IN1(R2(2, 3)), .args = {.i = {5, 1, 1, 2, 3, 1}},
             .message = "nb_reshape: rank 5: expected 0 to 4 with a shape",
             .status = NB_ERR_ARG},
            {.label = "rank -1", IN1(R2(2, 3)), .args = {.i = {-1, 6}},
             .message = "nb_reshape: rank -1: expected 0 to 4", .status = NB_ERR_ARG},
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
             .message = "nb_flatten: x is a scalar (rank 0): expected rank 1 or more, with the "
                        "batch on axis 0",
             .status = NB_ERR_SHAPE},
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
             .message = "nb_transpose: perm [0, 0] is not a permutation of the 2 axes of x "
                        "[2, 3]: expected each of 0 to 1 (or -2 to -1) once",
             .status = NB_ERR_ARG},
            {.label = "perm [0, 2]", IN1(R2(2, 3)), .args = {.i = {1, 0, 2}},
             .message = "nb_transpose: perm [0, 2] is not a permutation", .status = NB_ERR_ARG},
            {.label = "perm [-3, 0]", IN1(R2(2, 3)), .args = {.i = {1, -3, 0}}, .dtype = NB_F64,
             .message = "nb_transpose: perm [-3, 0] is not a permutation", .status = NB_ERR_ARG},
            {.label = "perm [1, -1], axis 1 twice", IN1(R2(2, 3)), .args = {.i = {1, 1, -1}},
             .message = "nb_transpose: perm [1, -1] is not a permutation", .status = NB_ERR_ARG},
            {.label = "perm [1, 2, 3, 5]", IN1(R4(1, 2, 3, 2)), .args = {.i = {1, 1, 2, 3, 5}},
             .message = "expected each of 0 to 3 (or -4 to -1) once", .status = NB_ERR_ARG},
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
        .n_rejects = 8,
        .rejects = {
            {.label = "xs[2] [2, 4] with [2, 3] on axis 0", IN3(R2(2, 3), R2(2, 3), R2(2, 4)),
             .message = "nb_concat: xs[2] has shape [2, 4] but xs[0] has [2, 3]: expected the "
                        "same rank and the same sizes off axis 0",
             .status = NB_ERR_SHAPE},
            {.label = "[2, 3] and [6] on axis -1", IN2(R2(2, 3), R1(6)), .args = {.i = {-1}},
             .message = "nb_concat: xs[1] has shape [6] but xs[0] has [2, 3]: expected the same "
                        "rank and the same sizes off axis 1",
             .status = NB_ERR_SHAPE},
            /* past the first group of NB_MAX_INPUTS: the index is the caller's */
            {.label = "xs[5] of six", .n_inputs = 6,
             .shapes = {R2(2, 3), R2(2, 3), R2(2, 3), R2(2, 3), R2(2, 3), R2(3, 4)},
             .dtype = NB_F64, .message = "nb_concat: xs[5] has shape [3, 4] but xs[0] has [2, 3]",
             .status = NB_ERR_SHAPE},
            {.label = "[2, 3] and [3, 3] on axis 1", IN2(R2(2, 3), R2(3, 3)), .args = {.i = {1}},
             .message = "expected the same rank and the same sizes off axis 1",
             .status = NB_ERR_SHAPE},
            {.label = "f32 with f64", IN2(R2(2, 3), R2(2, 3)), .mixed_dtype = true,
             .message = "nb_concat: xs[1] is f64 but xs[0] is f32: expected the same dtype",
             .status = NB_ERR_DTYPE},
            {.label = "axis 2 of [2, 3]", IN2(R2(2, 3), R2(2, 3)), .args = {.i = {2}},
             .message = "nb_concat: axis 2 is out of range for xs[0] of shape [2, 3]: expected "
                        "-2 to 1",
             .status = NB_ERR_ARG},
            {.label = "axis -3 of [2, 3]", IN3(R2(2, 3), R2(2, 3), R2(2, 3)), .args = {.i = {-3}},
             .dtype = NB_F64, .message = "nb_concat: axis -3 is out of range",
             .status = NB_ERR_ARG},
            {.label = "scalars", IN2(R0, R0),
             .message = "nb_concat: xs[0] is a scalar (rank 0): it has no axis 0",
             .status = NB_ERR_ARG},
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
        .n_rejects = 8,
        .rejects = {
            {.label = "empty, 2 to 2", IN1(R2(2, 4)), .args = {.i = {1, 2, 2}},
             .message = "nb_slice: start 2, stop 2 on axis 1 of x [2, 4] (size 4): expected a "
                        "non-empty slice inside 0 to 4 (negative values count from the end)",
             .status = NB_ERR_ARG},
            {.label = "start after stop", IN1(R2(2, 4)), .args = {.i = {1, 3, 1}},
             .message = "nb_slice: start 3, stop 1 on axis 1 of x [2, 4] (size 4)",
             .status = NB_ERR_ARG},
            {.label = "stop past the end", IN1(R2(2, 4)), .args = {.i = {1, 0, 5}},
             .dtype = NB_F64, .message = "nb_slice: start 0, stop 5 on axis 1 of x [2, 4] (size 4)",
             .status = NB_ERR_ARG},
            {.label = "start before the start", IN1(R2(2, 4)), .args = {.i = {-1, -5, 2}},
             .message = "nb_slice: start -5, stop 2 on axis -1 of x [2, 4] (size 4)",
             .status = NB_ERR_ARG},
            /* Python's x[-1:0] is empty */
            {.label = "-1 to 0", IN1(R2(2, 4)), .args = {.i = {0, -1, 0}},
             .message = "nb_slice: start -1, stop 0 on axis 0 of x [2, 4] (size 2)",
             .status = NB_ERR_ARG},
            {.label = "axis 2 of [2, 4]", IN1(R2(2, 4)), .args = {.i = {2, 0, 1}},
             .message = "nb_slice: axis 2 is out of range for x of shape [2, 4]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "a scalar", IN1(R0), .args = {.i = {0, 0, 1}},
             .message = "nb_slice: x is a scalar (rank 0): it has no axis 0", .status = NB_ERR_ARG},
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
        .n_rejects = 6,
        .rejects = {
            {.label = "[2, 3] and [3, 2]", IN2(R2(2, 3), R2(3, 2)), .dtype = NB_F64,
             .message = "nb_stack: xs[1] has shape [3, 2] but xs[0] has [2, 3]: expected the "
                        "same shape",
             .status = NB_ERR_SHAPE},
            {.label = "rank 4 inputs", IN2(R4(1, 2, 1, 2), R4(1, 2, 1, 2)),
             .message = "nb_stack: xs[0] has shape [1, 2, 1, 2] (rank 4): the new axis would "
                        "make rank 5, above the maximum 4",
             .status = NB_ERR_SHAPE},
            {.label = "axis 3 for [2, 3]", IN2(R2(2, 3), R2(2, 3)), .args = {.i = {3}},
             .dtype = NB_F64,
             .message = "nb_stack: axis 3 is out of range for xs[0] of shape [2, 3]: expected -3 "
                        "to 2",
             .status = NB_ERR_ARG},
            {.label = "axis 2 for [3]", IN2(R1(3), R1(3)), .args = {.i = {2}},
             .message = "nb_stack: axis 2 is out of range for xs[0] of shape [3]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "axis -4 for [2, 3]", IN1(R2(2, 3)), .args = {.i = {-4}},
             .message = "nb_stack: axis -4 is out of range", .status = NB_ERR_ARG},
            {.label = "f64 with f32", IN2(R2(2, 3), R2(2, 3)), .dtype = NB_F64,
             .mixed_dtype = true,
             .message = "nb_stack: xs[1] is f32 but xs[0] is f64: expected the same dtype",
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
        .n_rejects = 5,
        .rejects = {
            {.label = "axis 1 of [2, 3]", IN1(R2(2, 3)), .args = {.i = {1}},
             .message = "nb_squeeze: axis 1 of x [2, 3] has size 3: expected size 1",
             .status = NB_ERR_SHAPE},
            {.label = "axis 0 of [2, 1]", IN1(R2(2, 1)), .dtype = NB_F64,
             .message = "nb_squeeze: axis 0 of x [2, 1] has size 2: expected size 1",
             .status = NB_ERR_SHAPE},
            {.label = "axis -3 of [2, 3]", IN1(R2(2, 3)), .args = {.i = {-3}},
             .message = "nb_squeeze: axis -3 is out of range for x of shape [2, 3]: expected -2 "
                        "to 1",
             .status = NB_ERR_ARG},
            {.label = "axis 2 of [2, 1]", IN1(R2(2, 1)), .args = {.i = {2}},
             .message = "axis 2 is out of range", .status = NB_ERR_ARG},
            {.label = "a scalar", IN1(R0),
             .message = "nb_squeeze: x is a scalar (rank 0): it has no axis 0",
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
            {.label = "rank 4 x", IN1(R4(1, 2, 3, 1)),
             .message = "nb_expand_dims: x has shape [1, 2, 3, 1] (rank 4): a new axis would "
                        "make rank 5, above the maximum 4",
             .status = NB_ERR_SHAPE},
            {.label = "axis 3 of [2, 3]", IN1(R2(2, 3)), .args = {.i = {3}},
             .message = "nb_expand_dims: axis 3 is out of range for x of shape [2, 3]: expected "
                        "-3 to 2",
             .status = NB_ERR_ARG},
            {.label = "axis -4 of [2, 3]", IN1(R2(2, 3)), .args = {.i = {-4}}, .dtype = NB_F64,
             .message = "nb_expand_dims: axis -4 is out of range", .status = NB_ERR_ARG},
        },
    },
};
const int nb_op_table_movement_count =
    (int)(sizeof nb_op_table_movement / sizeof nb_op_table_movement[0]);
