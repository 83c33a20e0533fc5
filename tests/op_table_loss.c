/* Op-table entries (tests/op_table.h) of the losses (src/nn/loss.c) and
 * the metrics (src/nn/metric.c): (pred, target) -> a scalar. Class labels
 * are no gradient inputs, and `prepare` makes them valid: integers in
 * [0, classes), one-hot rows, 0/1 targets. */
#include <math.h>

#include "op_table.h"

#define R0 {0, {0}}
#define R1(a) {1, {a}}
#define R2(a, b) {2, {a, b}}
#define R3(a, b, c) {3, {a, b, c}}
#define R4(a, b, c, d) {4, {a, b, c, d}}

/* the int args of a sample or a reject */
#define A(...) {{__VA_ARGS__}, {0}}

/* ---- calls: every loss and metric is f(tape, pred, target) -------------- */

#define PAIR_CALL(fn)                                                                        \
    static nb_tensor *call_##fn(nb_tape *tape, int n, nb_tensor *const in[],                 \
                                const nb_op_args *a)                                         \
    {                                                                                        \
        (void)n, (void)a;                                                                    \
        return nb_##fn(tape, in[0], in[1]);                                                  \
    }

PAIR_CALL(loss_mse)
PAIR_CALL(loss_mae)
PAIR_CALL(loss_binary_crossentropy)
PAIR_CALL(loss_categorical_crossentropy)
PAIR_CALL(loss_categorical_crossentropy_logits)
PAIR_CALL(loss_sparse_categorical_crossentropy)
PAIR_CALL(metric_mse)
PAIR_CALL(metric_mae)
PAIR_CALL(metric_binary_accuracy)
PAIR_CALL(metric_categorical_accuracy)
PAIR_CALL(metric_sparse_categorical_accuracy)

/* ---- prepare: valid targets, inputs away from kinks ----------------------- */

static bool same_size(int n, nb_tensor *const in[])
{
    return n == 2 && in[0]->size == in[1]->size;
}

/* |pred - target| >= 0.2 everywhere: |x| has a kink at 0. */
static void targets_apart(int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)a;
    if (!same_size(n, in))
        return;
    for (int64_t i = 0; i < in[0]->size; i++) {
        double p = nb_tensor_get(in[0], i), t = nb_tensor_get(in[1], i);
        nb_tensor_set(in[1], i, p + (t >= 0 ? 0.2 + t : -0.2 + t));
    }
}

/* Each row of the target (along the last axis) a distribution: soft
 * targets, as label smoothing makes them. */
static void target_rows_sum_to_1(int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)a;
    if (!same_size(n, in) || in[1]->rank < 1)
        return;
    int64_t classes = in[1]->shape[in[1]->rank - 1];
    for (int64_t r = 0; r < in[1]->size; r += classes) {
        double sum = 0;
        for (int64_t j = 0; j < classes; j++)
            sum += fabs(nb_tensor_get(in[1], r + j));
        for (int64_t j = 0; j < classes; j++)
            nb_tensor_set(in[1], r + j, fabs(nb_tensor_get(in[1], r + j)) / sum);
    }
}

/* A target of 0s and 1s, and predictions at least 0.05 from the 0.5
 * threshold (so that f32 and f64 round to the same side). */
static void binary_targets(int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)a;
    if (!same_size(n, in))
        return;
    for (int64_t i = 0; i < in[0]->size; i++) {
        double p = nb_tensor_get(in[0], i);
        if (fabs(p - 0.5) < 0.05)
            nb_tensor_set(in[0], i, p < 0.5 ? 0.45 : 0.55);
        nb_tensor_set(in[1], i, nb_tensor_get(in[1], i) > 0.5 ? 1.0 : 0.0);
    }
}

/* One-hot target rows (at the row's largest drawn value). */
static void one_hot_targets(int n, nb_tensor *const in[], const nb_op_args *a)
{
    (void)a;
    if (!same_size(n, in) || in[1]->rank < 1)
        return;
    int64_t classes = in[1]->shape[in[1]->rank - 1];
    for (int64_t r = 0; r < in[1]->size; r += classes) {
        int64_t best = 0;
        for (int64_t j = 1; j < classes; j++)
            if (nb_tensor_get(in[1], r + j) > nb_tensor_get(in[1], r + best))
                best = j;
        for (int64_t j = 0; j < classes; j++)
            nb_tensor_set(in[1], r + j, j == best ? 1.0 : 0.0);
    }
}

/* Labels (input 1) class indices in [0, classes) of pred [batch, classes],
 * from the drawn values; i[0] (no argument of the op) is added to each, so
 * that a reject can ask for a label out of range. */
static void class_labels(int n, nb_tensor *const in[], const nb_op_args *a)
{
    if (n != 2 || in[0]->rank != 2)
        return;
    int64_t classes = in[0]->shape[1];
    for (int64_t i = 0; i < in[1]->size; i++) {
        double u = nb_tensor_get(in[1], i); /* the entries' domain is inside [0, 1) */
        double label = floor(u * (double)classes);
        nb_tensor_set(in[1], i, (label < (double)classes ? label : 0) + (double)a->i[0]);
    }
}

/* The sparse entries' labels, and their predictions kept apart in each
 * row (accuracy's argmax must not flip between f32 and f64). */
static void class_labels_distinct_pred(int n, nb_tensor *const in[], const nb_op_args *a)
{
    class_labels(n, in, a);
    if (n != 2)
        return;
    int64_t size = in[0]->size;
    for (int64_t i = 0; i < size; i++)
        nb_tensor_set(in[0], i, (double)((i * 7919) % size) / (double)size);
}

/* ---- samples and rejects ---------------------------------------------------- */

/* Element-wise losses take any rank, scalars included. */
#define ELEMENTWISE_SAMPLES                                                                  \
    .n_samples = 5,                                                                          \
    .samples = {                                                                             \
        {"[4, 3]", 2, {R2(4, 3), R2(4, 3)}, A(0)},                                           \
        {"batch 1 [1, 5]", 2, {R2(1, 5), R2(1, 5)}, A(0)},                                   \
        {"scalar", 2, {R0, R0}, A(0)},                                                       \
        {"vector [6]", 2, {R1(6), R1(6)}, A(0)},                                             \
        {"rank 4 with size-1 dims [2, 1, 3, 1]", 2, {R4(2, 1, 3, 1), R4(2, 1, 3, 1)}, A(0)}, \
    }

/* Classes on the last axis: rank 1 (one row) and up. */
#define CLASS_SAMPLES                                                                        \
    .n_samples = 5,                                                                          \
    .samples = {                                                                             \
        {"[4, 3]", 2, {R2(4, 3), R2(4, 3)}, A(0)},                                           \
        {"batch 1 [1, 5]", 2, {R2(1, 5), R2(1, 5)}, A(0)},                                   \
        {"one row [4]", 2, {R1(4), R1(4)}, A(0)},                                            \
        {"one class [3, 1]", 2, {R2(3, 1), R2(3, 1)}, A(0)},                                 \
        {"rank 3 [2, 3, 4]", 2, {R3(2, 3, 4), R3(2, 3, 4)}, A(0)},                           \
    }

#define SPARSE_SAMPLES                                                                       \
    .n_samples = 4,                                                                          \
    .samples = {                                                                             \
        {"[4, 3] with labels [4]", 2, {R2(4, 3), R1(4)}, A(0)},                              \
        {"batch 1 [1, 5] with labels [1, 1]", 2, {R2(1, 5), R2(1, 1)}, A(0)},                \
        {"one class [3, 1]", 2, {R2(3, 1), R1(3)}, A(0)},                                    \
        {"[5, 4] with labels [5, 1]", 2, {R2(5, 4), R2(5, 1)}, A(0)},                        \
    }

/* P: the name the messages give the first input (pred, probs or logits).
 * Shapes that would broadcast are rejected too: a loss pairs elements. */
#define PAIR_REJECTS(P)                                                                      \
    {"shapes differ", 2, {R2(2, 3), R2(3, 2)}, A(0), NB_F32, false,                          \
     P " is [2, 3] but target is [3, 2]: expected the same shape", NB_ERR_SHAPE},            \
    {"broadcastable shapes are not enough", 2, {R2(2, 3), R2(1, 3)}, A(0), NB_F64, false,    \
     P " is [2, 3] but target is [1, 3]: expected the same shape", NB_ERR_SHAPE},            \
    {"mixed dtypes", 2, {R2(2, 3), R2(2, 3)}, A(0), NB_F32, true,                            \
     P " is f32 but target is f64: expected the same dtype", NB_ERR_DTYPE}

#define CLASS_REJECTS(P)                                                                     \
    PAIR_REJECTS(P),                                                                         \
    {"scalars: no class axis", 2, {R0, R0}, A(0), NB_F64, false,                             \
     P " is [] (rank 0): expected rank 1 or more, the classes on the last axis", NB_ERR_SHAPE}

#define SPARSE_REJECTS(P)                                                                    \
    {"pred of rank 1", 2, {R1(3), R1(3)}, A(0), NB_F32, false,                               \
     P " is [3]: expected [batch, classes]", NB_ERR_SHAPE},                                  \
    {"pred of rank 3", 2, {R3(2, 3, 1), R1(2)}, A(0), NB_F64, false,                         \
     P " is [2, 3, 1]: expected [batch, classes]", NB_ERR_SHAPE},                            \
    {"labels [2, 2]", 2, {R2(2, 3), R2(2, 2)}, A(0), NB_F32, false,                          \
     P " is [2, 3] but labels is [2, 2]: expected labels [2] (or [2, 1]), one class index "  \
     "per row", NB_ERR_SHAPE},                                                               \
    {"labels for another batch", 2, {R2(2, 3), R1(3)}, A(0), NB_F64, false,                  \
     "labels is [3]: expected labels [2] (or [2, 1])", NB_ERR_SHAPE},                        \
    {"mixed dtypes", 2, {R2(2, 3), R1(2)}, A(0), NB_F32, true,                               \
     P " is f32 but labels is f64: expected the same dtype", NB_ERR_DTYPE}

/* ---- the table --------------------------------------------------------------- */

/* Probabilities are drawn in [0.05, 0.95): inside the clip bounds
 * [1e-7, 1 - 1e-7], where clip passes the gradient. */
#define PROB_LOW 0.05
#define PROB_HIGH 0.95

/* The losses are compositions of ops with vjps: all differentiate twice. */
#define LOSS_FLAGS (NB_OPT_DIFF | NB_OPT_DIFF2)

const nb_op_entry nb_op_table_loss[] = {
    {.name = "nb_loss_mse", .call = call_loss_mse, .arity = 2, .flags = LOSS_FLAGS,
     .low = -2, .high = 2, ELEMENTWISE_SAMPLES, .n_rejects = 3,
     .rejects = {PAIR_REJECTS("pred")}},
    {.name = "nb_loss_mae", .call = call_loss_mae, .arity = 2, .flags = LOSS_FLAGS,
     .low = -1, .high = 1, .prepare = targets_apart, ELEMENTWISE_SAMPLES, .n_rejects = 3,
     .rejects = {PAIR_REJECTS("pred")}},
    /* gradients flow to the target too: -(log p - log(1 - p)) */
    {.name = "nb_loss_binary_crossentropy", .call = call_loss_binary_crossentropy, .arity = 2,
     .flags = LOSS_FLAGS, .low = PROB_LOW, .high = PROB_HIGH, ELEMENTWISE_SAMPLES,
     .n_rejects = 3, .rejects = {PAIR_REJECTS("probs")}},
    /* soft targets: -log p is their gradient */
    {.name = "nb_loss_categorical_crossentropy", .call = call_loss_categorical_crossentropy,
     .arity = 2, .flags = LOSS_FLAGS, .low = PROB_LOW, .high = PROB_HIGH,
     .prepare = target_rows_sum_to_1, CLASS_SAMPLES, .n_rejects = 4,
     .rejects = {CLASS_REJECTS("probs")}},
    {.name = "nb_loss_categorical_crossentropy_logits",
     .call = call_loss_categorical_crossentropy_logits, .arity = 2, .flags = LOSS_FLAGS,
     .low = -3, .high = 3, .prepare = target_rows_sum_to_1, CLASS_SAMPLES, .n_rejects = 4,
     .rejects = {CLASS_REJECTS("logits")}},
    /* labels (input 1) are class indices: no gradient */
    {.name = "nb_loss_sparse_categorical_crossentropy",
     .call = call_loss_sparse_categorical_crossentropy, .arity = 2, .flags = LOSS_FLAGS,
     .grad_inputs = 1u << 0, .low = PROB_LOW, .high = PROB_HIGH, .prepare = class_labels,
     SPARSE_SAMPLES, .n_rejects = 7,
     .rejects = {SPARSE_REJECTS("probs"),
                 /* labels of 3 to 5 */
                 {"labels past the last class", 2, {R2(2, 3), R1(2)}, A(3), NB_F32, false,
                  "at index 0 is not a class index: expected an integer in [0, 3)",
                  NB_ERR_ARG},
                 /* labels of -5 to -3: one_hot's message, after the loss's name */
                 {"negative labels", 2, {R2(2, 3), R2(2, 1)}, A(-5), NB_F64, false,
                  "nb_loss_sparse_categorical_crossentropy: nb_one_hot: label -", NB_ERR_ARG}}},
    /* nb_metric_mse and nb_metric_mae are the losses under the metrics'
     * names: as differentiable */
    {.name = "nb_metric_mse", .call = call_metric_mse, .arity = 2, .flags = LOSS_FLAGS,
     .low = -2, .high = 2, ELEMENTWISE_SAMPLES, .n_rejects = 3,
     .rejects = {PAIR_REJECTS("pred")}},
    {.name = "nb_metric_mae", .call = call_metric_mae, .arity = 2, .flags = LOSS_FLAGS,
     .low = -1, .high = 1, .prepare = targets_apart, ELEMENTWISE_SAMPLES, .n_rejects = 3,
     .rejects = {PAIR_REJECTS("pred")}},
    /* the accuracies count (argmax, equal, greater_scalar): no gradient */
    {.name = "nb_metric_binary_accuracy", .call = call_metric_binary_accuracy, .arity = 2,
     .low = 0, .high = 1, .prepare = binary_targets, ELEMENTWISE_SAMPLES, .n_rejects = 3,
     .rejects = {PAIR_REJECTS("pred")}},
    {.name = "nb_metric_categorical_accuracy", .call = call_metric_categorical_accuracy,
     .arity = 2, .low = 0, .high = 1, .prepare = one_hot_targets, CLASS_SAMPLES,
     .n_rejects = 4, .rejects = {CLASS_REJECTS("pred")}},
    {.name = "nb_metric_sparse_categorical_accuracy",
     .call = call_metric_sparse_categorical_accuracy, .arity = 2, .low = 0, .high = 1,
     .prepare = class_labels_distinct_pred, SPARSE_SAMPLES, .n_rejects = 5,
     .rejects = {SPARSE_REJECTS("pred")}},
};

const int nb_op_table_loss_count = (int)(sizeof nb_op_table_loss / sizeof nb_op_table_loss[0]);
