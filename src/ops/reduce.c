/* Sums and means, of everything or along one axis. */
#include <string.h>

#include "ops/ops_internal.h"

typedef struct reduce_attrs {
    int axis;      /* -1 after normalising means "every element" */
    bool keepdims;
    bool mean;     /* divide by the number of summed elements */
} reduce_attrs;

/* View the input as [outer, n, inner] around the reduced axis. */
static void reduce_dims(const nb_node *node, int64_t *outer, int64_t *n, int64_t *inner)
{
    const nb_tensor *x = node->inputs[0];
    const reduce_attrs *a = NB_ATTRS(node, reduce_attrs);
    if (a->axis < 0) {
        *outer = 1, *n = x->size, *inner = 1;
        return;
    }
    *outer = 1, *inner = 1;
    for (int d = 0; d < a->axis; d++)
        *outer *= x->shape[d];
    *n = x->shape[a->axis];
    for (int d = a->axis + 1; d < x->rank; d++)
        *inner *= x->shape[d];
}

static nb_status reduce_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    const reduce_attrs *a = NB_ATTRS(node, reduce_attrs);
    *dtype = x->dtype;
    if (a->axis < 0) {
        *rank = 0;
        return NB_OK;
    }
    *rank = 0;
    for (int d = 0; d < x->rank; d++) {
        if (d != a->axis)
            shape[(*rank)++] = x->shape[d];
        else if (a->keepdims)
            shape[(*rank)++] = 1;
    }
    return NB_OK;
}

#define REDUCE_FORWARD(T)                                                                    \
    do {                                                                                     \
        const T *x = node->inputs[0]->data;                                                  \
        T *y = node->output->data;                                                           \
        for (int64_t o = 0; o < outer; o++)                                                  \
            for (int64_t i = 0; i < inner; i++) {                                            \
                T sum = 0;                                                                   \
                for (int64_t k = 0; k < n; k++)                                              \
                    sum += x[(o * n + k) * inner + i];                                       \
                y[o * inner + i] = sum * (T)scale;                                           \
            }                                                                                \
    } while (0)

static nb_status reduce_forward(nb_node *node)
{
    int64_t outer, n, inner;
    reduce_dims(node, &outer, &n, &inner);
    double scale = NB_ATTRS(node, reduce_attrs)->mean ? 1.0 / (double)n : 1.0;
    if (node->output->dtype == NB_F32)
        REDUCE_FORWARD(float);
    else
        REDUCE_FORWARD(double);
    return NB_OK;
}

/* d sum / dx = 1 for every summed element; d mean / dx = 1/n */
#define REDUCE_BACKWARD(T)                                                                   \
    do {                                                                                     \
        const T *g = node->output->grad;                                                     \
        T *dx = grad_in;                                                                     \
        for (int64_t o = 0; o < outer; o++)                                                  \
            for (int64_t k = 0; k < n; k++)                                                  \
                for (int64_t i = 0; i < inner; i++)                                          \
                    dx[(o * n + k) * inner + i] += g[o * inner + i] * (T)scale;              \
    } while (0)

static nb_status reduce_backward(nb_node *node)
{
    void *grad_in = nb_node_input_grad(node, 0);
    if (!grad_in)
        return NB_ERR_NOMEM;
    int64_t outer, n, inner;
    reduce_dims(node, &outer, &n, &inner);
    double scale = NB_ATTRS(node, reduce_attrs)->mean ? 1.0 / (double)n : 1.0;
    if (node->output->dtype == NB_F32)
        REDUCE_BACKWARD(float);
    else
        REDUCE_BACKWARD(double);
    return NB_OK;
}

static const nb_op sum_op = {"sum", 1, reduce_infer, reduce_forward, reduce_backward, true};
static const nb_op mean_op = {"mean", 1, reduce_infer, reduce_forward, reduce_backward, true};

static nb_tensor *reduce(nb_tape *tape, const nb_op *op, nb_tensor *x, bool all, int axis,
                         bool keepdims)
{
    reduce_attrs attrs = {-1, keepdims, op == &mean_op};
    if (!all && x) {
        int a = axis < 0 ? axis + x->rank : axis;
        if (a < 0 || a >= x->rank) {
            char buf[NB_SHAPE_BUF];
            nb_error(NB_ERR_ARG, "nb_%s_axis: axis %d is out of range for x of shape %s: expected %d to %d",
                     op->name, axis, nb_shape_str(x, buf, sizeof buf), -x->rank, x->rank - 1);
            return NULL;
        }
        attrs.axis = a;
    }
    return nb_op_apply(tape, op, 1, (nb_tensor *[]){x}, &attrs, sizeof attrs);
}

nb_tensor *nb_sum(nb_tape *tape, nb_tensor *x) { return reduce(tape, &sum_op, x, true, 0, false); }
nb_tensor *nb_mean(nb_tape *tape, nb_tensor *x) { return reduce(tape, &mean_op, x, true, 0, false); }

nb_tensor *nb_sum_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims)
{
    return reduce(tape, &sum_op, x, false, axis, keepdims);
}

nb_tensor *nb_mean_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims)
{
    return reduce(tape, &mean_op, x, false, axis, keepdims);
}
