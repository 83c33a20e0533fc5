/* Ops without gradients: argmax, equality, one-hot, thresholds. Their
 * backward is NULL, so nb_op_apply never records them and their results are
 * constants. */
#include <inttypes.h>
#include <math.h>

#include "ops/ops_internal.h"

/* ---- argmax over the last axis ----------------------------------------- */

static nb_status argmax_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    nb_status s = nb__require_rank(node, 0, 1, NB_MAX_RANK);
    if (s != NB_OK)
        return s;
    *dtype = x->dtype;
    *rank = x->rank - 1;
    for (int d = 0; d < x->rank - 1; d++)
        shape[d] = x->shape[d];
    return NB_OK;
}

/* Typed loops: this runs on every training step (the accuracy metric). */
#define ARGMAX_ROWS(T)                                                                       \
    do {                                                                                     \
        const T *xs = x->data;                                                               \
        T *ys = node->output->data;                                                          \
        for (int64_t r = 0; r < rows; r++) {                                                 \
            const T *row = xs + r * n;                                                       \
            int64_t best = 0;                                                                \
            for (int64_t j = 1; j < n; j++)                                                  \
                if (row[j] > row[best])                                                      \
                    best = j;                                                                \
            ys[r] = (T)best;                                                                 \
        }                                                                                    \
    } while (0)

static nb_status argmax_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    int64_t n = x->shape[x->rank - 1], rows = x->size / n;
    if (x->dtype == NB_F32)
        ARGMAX_ROWS(float);
    else
        ARGMAX_ROWS(double);
    return NB_OK;
}

static const nb_op argmax_op = {"argmax", 1, argmax_infer, argmax_forward, NULL, true, NULL};

nb_tensor *nb_argmax(nb_tape *tape, nb_tensor *x)
{
    return nb_op_apply(tape, &argmax_op, 1, (nb_tensor *[]){x}, NULL, 0);
}

/* ---- equal ---------------------------------------------------------------- */

static nb_status equal_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                             int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_same_shape(node);
    return s == NB_OK ? nb_infer_same_as_input(node, dtype, rank, shape) : s;
}

#define EQUAL_LOOP(T)                                                                        \
    do {                                                                                     \
        const T *as = a->data, *bs = b->data;                                                \
        T *ys = node->output->data;                                                          \
        for (int64_t i = 0; i < a->size; i++)                                                \
            ys[i] = as[i] == bs[i] ? (T)1 : (T)0;                                            \
    } while (0)

static nb_status equal_forward(nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    if (a->dtype == NB_F32)
        EQUAL_LOOP(float);
    else
        EQUAL_LOOP(double);
    return NB_OK;
}

static const nb_op equal_op = {"equal", 2, equal_infer, equal_forward, NULL, true, NULL};

nb_tensor *nb_equal(nb_tape *tape, nb_tensor *a, nb_tensor *b)
{
    return nb_op_apply(tape, &equal_op, 2, (nb_tensor *[]){a, b}, NULL, 0);
}

/* ---- one_hot -------------------------------------------------------------- */

static nb_status one_hot_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                               int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *labels = node->inputs[0];
    nb_status s = nb__require_rank(node, 0, 1, 1);
    if (s != NB_OK)
        return s;
    *dtype = labels->dtype;
    *rank = 2;
    shape[0] = labels->shape[0];
    shape[1] = *NB_ATTRS(node, int64_t);
    return NB_OK;
}

static nb_status one_hot_forward(nb_node *node)
{
    const nb_tensor *labels = node->inputs[0];
    int64_t classes = *NB_ATTRS(node, int64_t);
    for (int64_t i = 0; i < labels->size; i++) {
        double label = nb_tensor_get(labels, i);
        if (!(label >= 0 && label < (double)classes) || label != floor(label))
            return nb_error(NB_ERR_ARG, "nb_one_hot: label %g at index %" PRId64
                            " is not a class index: expected an integer in [0, %" PRId64 ")",
                            label, i, classes);
        nb_tensor_set(node->output, i * classes + (int64_t)label, 1.0);
    }
    return NB_OK;
}

/* not overwrites_output: forward sets only the ones, on the zeroed output */
static const nb_op one_hot_op = {"one_hot", 1, one_hot_infer, one_hot_forward, NULL, false, NULL};

nb_tensor *nb_one_hot(nb_tape *tape, nb_tensor *labels, int64_t classes)
{
    if (classes < 1) {
        nb_error(NB_ERR_ARG, "nb_one_hot: classes is %" PRId64 ": expected at least 1", classes);
        return NULL;
    }
    return nb_op_apply(tape, &one_hot_op, 1, (nb_tensor *[]){labels}, &classes, sizeof classes);
}

/* ---- greater_scalar ------------------------------------------------------- */

static nb_status greater_scalar_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    double c = *NB_ATTRS(node, double);
    for (int64_t i = 0; i < x->size; i++)
        nb_tensor_set(node->output, i, nb_tensor_get(x, i) > c ? 1.0 : 0.0);
    return NB_OK;
}

static const nb_op greater_scalar_op = {"greater_scalar", 1, nb_infer_same_as_input,
                                        greater_scalar_forward, NULL, true, NULL};

nb_tensor *nb_greater_scalar(nb_tape *tape, nb_tensor *x, double c)
{
    return nb_op_apply(tape, &greater_scalar_op, 1, (nb_tensor *[]){x}, &c, sizeof c);
}
