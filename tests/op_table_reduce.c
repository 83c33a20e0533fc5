/* Op-table entries (tests/op_table.h) of the reductions (src/ops/reduce.c):
 * nb_sum and nb_mean of everything; sum, mean, max, min, logsumexp and
 * variance along one axis. */
#include <limits.h>

#include "op_table.h"

#define R0 {0, {0}}
#define R1(a) {1, {a}}
#define R2(a, b) {2, {a, b}}
#define R3(a, b, c) {3, {a, b, c}}
#define R4(a, b, c, d) {4, {a, b, c, d}}

/* An int argument from an args slot (any int64 from the fuzzer),
 * saturated so that a value past int's range stays out of range. */
static int to_int(int64_t v) { return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v; }

/* ---- calls ----------------------------------------------------------------- */

static nb_tensor *call_sum(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)n, (void)a;
    return nb_sum(tape, in[0]);
}

static nb_tensor *call_mean(nb_tape *tape, int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)n, (void)a;
    return nb_mean(tape, in[0]);
}

/* The axis reductions: i[0] the axis, i[1] keepdims (nonzero: true). */
#define AXIS_CALL(op)                                                                        \
    static nb_tensor *call_##op(nb_tape *tape, int n, nb_tensor *const in[],                 \
                                const nb_op_args *a)                                         \
    {                                                                                        \
        (void)n;                                                                             \
        return nb_##op(tape, in[0], to_int(a->i[0]), a->i[1] != 0);                          \
    }

AXIS_CALL(sum_axis)
AXIS_CALL(mean_axis)
AXIS_CALL(max_axis)
AXIS_CALL(min_axis)
AXIS_CALL(logsumexp_axis)
AXIS_CALL(var_axis)

/* ---- entries --------------------------------------------------------------- */

#define WHOLE_SAMPLES                                                                        \
    .n_samples = 5,                                                                          \
    .samples = {                                                                             \
        {"matrix [3, 4]", 1, {R2(3, 4)}, {{0}, {0}}},                                        \
        {"scalar", 1, {R0}, {{0}, {0}}},                                                     \
        {"vector [1]", 1, {R1(1)}, {{0}, {0}}},                                              \
        {"size-1 dims [2, 1, 3]", 1, {R3(2, 1, 3)}, {{0}, {0}}},                             \
        {"rank 4 [2, 3, 1, 2]", 1, {R4(2, 3, 1, 2)}, {{0}, {0}}},                            \
    }

/* axis, keepdims over ranks 1 to 4, negative axes and size-1 axes */
#define AXIS_SAMPLES                                                                         \
    .n_samples = 8,                                                                          \
    .samples = {                                                                             \
        {"[3, 4] axis 1", 1, {R2(3, 4)}, {{1, 0}, {0}}},                                     \
        {"[3, 4] axis -1 keepdims", 1, {R2(3, 4)}, {{-1, 1}, {0}}},                          \
        {"[3, 4] axis 0 keepdims", 1, {R2(3, 4)}, {{0, 1}, {0}}},                            \
        {"vector [5] axis 0 (to a scalar)", 1, {R1(5)}, {{0, 0}, {0}}},                      \
        {"batch 1 [1, 4] axis -2", 1, {R2(1, 4)}, {{-2, 0}, {0}}},                           \
        {"[2, 3, 4] middle axis -2 keepdims", 1, {R3(2, 3, 4)}, {{-2, 1}, {0}}},             \
        {"size-1 axis [2, 1, 3] axis 1", 1, {R3(2, 1, 3)}, {{1, 0}, {0}}},                   \
        {"rank 4 [2, 3, 2, 2] axis -3", 1, {R4(2, 3, 2, 2)}, {{-3, 0}, {0}}},                \
    }

/* the axis beyond either end, and a scalar, which has no axis */
#define AXIS_REJECTS                                                                         \
    .n_rejects = 4,                                                                          \
    .rejects = {                                                                             \
        {"axis 2 of a matrix", 1, {R2(3, 4)}, {{2, 0}, {0}}, NB_F32, false,                  \
         "axis 2 is out of range for x of shape [3, 4]: expected -2 to 1", NB_ERR_ARG},      \
        {"axis -3 of a matrix", 1, {R2(3, 4)}, {{-3, 1}, {0}}, NB_F64, false,                \
         "axis -3 is out of range for x of shape [3, 4]: expected -2 to 1", NB_ERR_ARG},     \
        {"axis 0 of a scalar", 1, {R0}, {{0, 0}, {0}}, NB_F32, false,                        \
         "axis 0 is out of range for x of shape []", NB_ERR_ARG},                            \
        {"axis past int's range", 1, {R1(3)}, {{INT64_MAX, 0}, {0}}, NB_F64, false,          \
         "is out of range for x of shape [3]", NB_ERR_ARG},                                  \
    }

/* Every reduction has a vjp (reduce.c), so all differentiate twice. */
#define REDUCE_FLAGS (NB_OPT_DIFF | NB_OPT_DIFF2)

const nb_op_entry nb_op_table_reduce[] = {
    {.name = "nb_sum", .call = call_sum, .arity = 1, .flags = REDUCE_FLAGS, .low = -1,
     .high = 1, WHOLE_SAMPLES},
    {.name = "nb_mean", .call = call_mean, .arity = 1, .flags = REDUCE_FLAGS, .low = -1,
     .high = 1, WHOLE_SAMPLES},
    {.name = "nb_sum_axis", .call = call_sum_axis, .arity = 1, .flags = REDUCE_FLAGS,
     .low = -1, .high = 1, AXIS_SAMPLES, AXIS_REJECTS},
    {.name = "nb_mean_axis", .call = call_mean_axis, .arity = 1, .flags = REDUCE_FLAGS,
     .low = -1, .high = 1, AXIS_SAMPLES, AXIS_REJECTS},
    /* values kept apart: at a tie the max is not differentiable */
    {.name = "nb_max_axis", .call = call_max_axis, .arity = 1, .flags = REDUCE_FLAGS,
     .low = -1, .high = 1, .prepare = nb_opt_distinct_values, AXIS_SAMPLES, AXIS_REJECTS},
    {.name = "nb_min_axis", .call = call_min_axis, .arity = 1, .flags = REDUCE_FLAGS,
     .low = -1, .high = 1, .prepare = nb_opt_distinct_values, AXIS_SAMPLES, AXIS_REJECTS},
    /* values up to 3 apart, so the softmax of the gradient is far from uniform */
    {.name = "nb_logsumexp_axis", .call = call_logsumexp_axis, .arity = 1,
     .flags = REDUCE_FLAGS, .low = -3, .high = 3, AXIS_SAMPLES, AXIS_REJECTS},
    {.name = "nb_var_axis", .call = call_var_axis, .arity = 1, .flags = REDUCE_FLAGS,
     .low = -2, .high = 2, AXIS_SAMPLES, AXIS_REJECTS},
};

const int nb_op_table_reduce_count =
    (int)(sizeof nb_op_table_reduce / sizeof nb_op_table_reduce[0]);
