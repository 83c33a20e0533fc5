/* Op-table entries (tests/op_table.h) of the ops that pick by index or
 * give one: take (src/ops/take.c), one_hot and argmax (compare.c). Their
 * integer inputs (take's indices, one_hot's labels) get no gradient and are
 * made valid by `prepare`. */
#include <math.h>

#include "op_table_util.h"

/* ---- calls ---------------------------------------------------------------- */

/* in: x, indices; args: i[0] the axis, d[0] see make_integers */
static nb_tensor *call_take(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *args)
{
    (void)n;
    return nb_take(tape, in[0], in[1], nb_opt_int(args->i[0]));
}

/* args: i[0] the number of classes, d[0] see make_integers */
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

/* t's values made integers in [first, first + count); then, when d[0] is
 * not 0, its last element set to d[0] (a reject's bad index or label: 7,
 * 1.5, NaN, ...), so that the message names an exact value and place. */
static void make_integers(nb_tensor *t, double first, double count, const nb_op_args *args)
{
    if (!t)
        return;
    for (int64_t j = 0; j < t->size; j++)
        nb_tensor_set(t, j, integer_in(nb_tensor_get(t, j), first, count));
    if (args->d[0] != 0)
        nb_tensor_set(t, t->size - 1, args->d[0]);
}

/* indices in range for x's axis, negative ones (counted from the end) too */
static void prepare_take(int n, nb_tensor *const in[], const nb_op_args *args)
{
    if (n != 2 || !in[0])
        return;
    const nb_tensor *x = in[0];
    int axis = nb_opt_int(args->i[0]);
    if (axis < 0 && axis >= -x->rank)
        axis += x->rank;
    if (axis < 0 || axis >= x->rank)
        return; /* a reject of the axis: the indices do not matter */
    double size = (double)x->shape[axis];
    make_integers(in[1], -size, 2 * size, args);
}

/* labels 0 to i[0] - 1 */
static void prepare_one_hot(int n, nb_tensor *const in[], const nb_op_args *args)
{
    if (n == 1 && args->i[0] >= 1)
        make_integers(in[0], 0, (double)args->i[0], args);
}

/* ---- the entries ---------------------------------------------------------- */

const nb_op_entry nb_op_table_index[] = {
    {
        .name = "nb_take", .call = call_take, .arity = 2, .flags = NB_OPT_DIFF | NB_OPT_DIFF2,
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
            {.label = "axis 2 of [2, 3]", IN2(R2(2, 3), R1(1)), .args = {.i = {2}},
             .message = "nb_take: axis 2 is out of range for x of shape [2, 3]: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "x a scalar", IN2(R0, R0),
             .message = "nb_take: axis 0 is out of range for x of shape [] (a scalar): expected "
                        "x of rank 1 or more",
             .status = NB_ERR_ARG},
            {.label = "index 7 of 5, in f32 for x in f64", IN2(R2(5, 2), R1(2)),
             .args = {.d = {7}}, .dtype = NB_F64, .mixed_dtype = true,
             .message = "nb_take: index 7 (element 1 of indices) is out of bounds for axis 0 "
                        "with size 5: expected -5 to 4",
             .status = NB_ERR_ARG},
            {.label = "index -3 of 2", IN2(R2(5, 2), R2(2, 2)), .args = {.i = {-1}, .d = {-3}},
             .dtype = NB_F64,
             .message = "nb_take: index -3 (element 3 of indices) is out of bounds for axis 1 "
                        "with size 2: expected -2 to 1",
             .status = NB_ERR_ARG},
            {.label = "index inf", IN2(R2(5, 2), R1(1)), .args = {.d = {INFINITY}},
             .message = "nb_take: index inf (element 0 of indices) is out of bounds",
             .status = NB_ERR_ARG},
            {.label = "index 1.5", IN2(R1(4), R1(3)), .args = {.d = {1.5}}, .mixed_dtype = true,
             .message = "nb_take: index 1.5 (element 2 of indices) is not an integer",
             .status = NB_ERR_ARG},
            {.label = "index NaN", IN2(R1(4), R1(1)), .args = {.d = {NAN}},
             .message = "nb_take: index nan (element 0 of indices) is not an integer",
             .status = NB_ERR_ARG},
            {.label = "rank 5 out", IN2(R3(2, 2, 2), R3(1, 2, 1)), .args = {.i = {1}},
             .message = "nb_take: x of shape [2, 2, 2] (rank 3) with indices of shape [1, 2, 1] "
                        "(rank 3) would give rank 5: expected at most 4 (NB_MAX_RANK)",
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
            {.label = "labels [2, 1]", IN1(R2(2, 1)), .args = {.i = {3}},
             .message = "nb_one_hot: input 0 has shape [2, 1] (rank 2): expected rank 1",
             .status = NB_ERR_SHAPE},
            {.label = "0 classes", IN1(R1(2)),
             .message = "nb_one_hot: classes is 0: expected at least 1", .status = NB_ERR_ARG},
            {.label = "-2 classes", IN1(R1(2)), .args = {.i = {-2}}, .dtype = NB_F64,
             .message = "nb_one_hot: classes is -2: expected at least 1", .status = NB_ERR_ARG},
            {.label = "label 3 of 3 classes", IN1(R1(2)), .args = {.i = {3}, .d = {3}},
             .message = "nb_one_hot: label 3 at index 1 is not a class index: expected an "
                        "integer in [0, 3)",
             .status = NB_ERR_ARG},
            {.label = "label -1", IN1(R1(1)), .args = {.i = {3}, .d = {-1}}, .dtype = NB_F64,
             .message = "nb_one_hot: label -1 at index 0 is not a class index",
             .status = NB_ERR_ARG},
            {.label = "label 1.5", IN1(R1(2)), .args = {.i = {3}, .d = {1.5}},
             .message = "nb_one_hot: label 1.5 at index 1 is not a class index: expected an "
                        "integer in [0, 3)",
             .status = NB_ERR_ARG},
            {.label = "label NaN", IN1(R1(1)), .args = {.i = {3}, .d = {NAN}},
             .message = "at index 0 is not a class index", .status = NB_ERR_ARG},
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
const int nb_op_table_index_count = (int)(sizeof nb_op_table_index / sizeof nb_op_table_index[0]);
