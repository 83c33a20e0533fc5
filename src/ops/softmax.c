/* Softmax and log-softmax over the last axis (the hot path of classifiers:
 * contiguous rows), and over any axis (strided lines), stable for large
 * inputs. */
#include "ops/ops_internal.h"

static nb_status softmax_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                               int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_rank(node, 0, 1, NB_MAX_RANK);
    return s == NB_OK ? nb_infer_same_as_input(node, dtype, rank, shape) : s;
}

/* Each row: m = max(x); y = x - m - log(sum exp(x - m)) for log-softmax, or
 * exp(x - m) / sum exp(x - m) for softmax. Subtracting m keeps every exp in
 * (0, 1], so nothing overflows and the sum is at least 1. */
#define SOFTMAX_ROWS(T, LOG)                                                                 \
    do {                                                                                     \
        const T *x = node->inputs[0]->data;                                                  \
        T *y = node->output->data;                                                           \
        for (int64_t r = 0; r < rows; r++) {                                                 \
            const T *xr = x + r * n;                                                         \
            T *yr = y + r * n;                                                               \
            T m = xr[0];                                                                     \
            for (int64_t j = 1; j < n; j++)                                                  \
                m = xr[j] > m ? xr[j] : m;                                                   \
            T sum = 0;                                                                       \
            for (int64_t j = 0; j < n; j++) {                                                \
                yr[j] = exp(xr[j] - m);                                                      \
                sum += yr[j];                                                                \
            }                                                                                \
            if (LOG) {                                                                       \
                T log_sum = log(sum);                                                        \
                for (int64_t j = 0; j < n; j++)                                              \
                    yr[j] = xr[j] - m - log_sum;                                             \
            } else {                                                                         \
                for (int64_t j = 0; j < n; j++)                                              \
                    yr[j] /= sum;                                                            \
            }                                                                                \
        }                                                                                    \
    } while (0)

static nb_status softmax_rows(nb_node *node, bool log_space)
{
    int64_t n = node->output->shape[node->output->rank - 1];
    int64_t rows = node->output->size / n;
    if (node->output->dtype == NB_F32)
        SOFTMAX_ROWS(float, log_space);
    else
        SOFTMAX_ROWS(double, log_space);
    return NB_OK;
}

static nb_status softmax_forward(nb_node *node) { return softmax_rows(node, false); }
static nb_status log_softmax_forward(nb_node *node) { return softmax_rows(node, true); }

/* softmax: dx_j = y_j (g_j - sum_k g_k y_k)
 * log-softmax: dx_j = g_j - softmax_j sum_k g_k, with softmax_j = exp(y_j) */
#define SOFTMAX_GRAD_ROWS(T, LOG)                                                            \
    do {                                                                                     \
        const T *y = node->output->data, *g = node->output->grad;                            \
        T *dx = grad_in;                                                                     \
        for (int64_t r = 0; r < rows; r++) {                                                 \
            const T *yr = y + r * n, *gr = g + r * n;                                        \
            T *dr = dx + r * n;                                                              \
            T dot = 0;                                                                       \
            for (int64_t j = 0; j < n; j++)                                                  \
                dot += LOG ? gr[j] : gr[j] * yr[j];                                          \
            for (int64_t j = 0; j < n; j++)                                                  \
                dr[j] += LOG ? gr[j] - exp(yr[j]) * dot : yr[j] * (gr[j] - dot);             \
        }                                                                                    \
    } while (0)

static nb_status softmax_grad(nb_node *node, bool log_space)
{
    void *grad_in = nb_node_input_grad(node, 0);
    if (!grad_in)
        return NB_ERR_NOMEM; /* recorded, so the input wants a gradient */
    int64_t n = node->output->shape[node->output->rank - 1];
    int64_t rows = node->output->size / n;
    if (node->output->dtype == NB_F32)
        SOFTMAX_GRAD_ROWS(float, log_space);
    else
        SOFTMAX_GRAD_ROWS(double, log_space);
    return NB_OK;
}

static nb_status softmax_backward(nb_node *node) { return softmax_grad(node, false); }
static nb_status log_softmax_backward(nb_node *node) { return softmax_grad(node, true); }

/* The same derivatives in ops, along `axis`:
 * softmax: dx = y (g - sum(g y)); log-softmax: dx = g - exp(y) sum(g) */
static nb_tensor *softmax_vjp_along(nb_tape *tape, const nb_node *node, nb_tensor *g, int axis)
{
    nb_tensor *y = node->output;
    return nb_mul(tape, y, nb_sub(tape, g, nb_sum_axis(tape, nb_mul(tape, g, y), axis, true)));
}

static nb_tensor *log_softmax_vjp_along(nb_tape *tape, const nb_node *node, nb_tensor *g,
                                        int axis)
{
    nb_tensor *softmax = nb_exp(tape, node->output);
    return nb_sub(tape, g, nb_mul(tape, softmax, nb_sum_axis(tape, g, axis, true)));
}

static nb_status softmax_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, softmax_vjp_along(tape, node, g, -1));
    return NB_OK;
}

static nb_status log_softmax_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                                 nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, log_softmax_vjp_along(tape, node, g, -1));
    return NB_OK;
}

static const nb_op softmax_op = {
    .name = "softmax",
    .n_inputs = 1,
    .infer = softmax_infer,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .overwrites_output = true,
    .vjp = softmax_vjp,
};

static const nb_op log_softmax_op = {
    .name = "log_softmax",
    .n_inputs = 1,
    .infer = softmax_infer,
    .forward = log_softmax_forward,
    .backward = log_softmax_backward,
    .overwrites_output = true,
    .vjp = log_softmax_vjp,
};

nb_tensor *nb_softmax(nb_tape *tape, nb_tensor *x)
{
    return nb_op_apply(tape, &softmax_op, 1, (nb_tensor *[]){x}, NULL, 0);
}

nb_tensor *nb_log_softmax(nb_tape *tape, nb_tensor *x)
{
    return nb_op_apply(tape, &log_softmax_op, 1, (nb_tensor *[]){x}, NULL, 0);
}

/* ---- over any axis ------------------------------------------------------ */

typedef struct softmax_axis_attrs {
    int axis; /* in [0, rank) */
} softmax_axis_attrs;

/* View the tensor as [outer, n, inner] around the axis: the line (o, i)
 * holds the n elements at (o n + k) inner + i, k = 0..n-1. */
static void softmax_axis_dims(const nb_node *node, int64_t *outer, int64_t *n, int64_t *inner)
{
    const nb_tensor *x = node->inputs[0];
    int axis = NB_ATTRS(node, softmax_axis_attrs)->axis;
    *outer = 1, *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= x->shape[d];
    *n = x->shape[axis];
    for (int d = axis + 1; d < x->rank; d++)
        *inner *= x->shape[d];
}

/* SOFTMAX_ROWS on each strided line: the same maximum subtracted first. */
#define SOFTMAX_LINES(T, LOG)                                                                \
    do {                                                                                     \
        const T *x = node->inputs[0]->data;                                                  \
        T *y = node->output->data;                                                           \
        for (int64_t o = 0; o < outer; o++)                                                  \
            for (int64_t i = 0; i < inner; i++) {                                            \
                const T *xl = x + o * n * inner + i;                                         \
                T *yl = y + o * n * inner + i;                                               \
                T m = xl[0];                                                                 \
                for (int64_t k = 1; k < n; k++)                                              \
                    m = xl[k * inner] > m ? xl[k * inner] : m;                               \
                T sum = 0;                                                                   \
                for (int64_t k = 0; k < n; k++) {                                            \
                    yl[k * inner] = exp(xl[k * inner] - m);                                  \
                    sum += yl[k * inner];                                                    \
                }                                                                            \
                T log_sum = LOG ? log(sum) : 0;                                              \
                for (int64_t k = 0; k < n; k++)                                              \
                    yl[k * inner] = LOG ? xl[k * inner] - m - log_sum : yl[k * inner] / sum; \
            }                                                                                \
    } while (0)

static nb_status softmax_lines(nb_node *node, bool log_space)
{
    int64_t outer, n, inner;
    softmax_axis_dims(node, &outer, &n, &inner);
    if (node->output->dtype == NB_F32)
        SOFTMAX_LINES(float, log_space);
    else
        SOFTMAX_LINES(double, log_space);
    return NB_OK;
}

static nb_status softmax_axis_forward(nb_node *node) { return softmax_lines(node, false); }
static nb_status log_softmax_axis_forward(nb_node *node) { return softmax_lines(node, true); }

/* The same derivatives as the last-axis ops, along each strided line:
 * softmax: dx_k = y_k (g_k - sum_j g_j y_j)
 * log-softmax: dx_k = g_k - exp(y_k) sum_j g_j */
#define SOFTMAX_GRAD_LINES(T, LOG)                                                           \
    do {                                                                                     \
        const T *y = node->output->data, *g = node->output->grad;                            \
        T *dx = grad_in;                                                                     \
        for (int64_t o = 0; o < outer; o++)                                                  \
            for (int64_t i = 0; i < inner; i++) {                                            \
                int64_t start = o * n * inner + i;                                           \
                const T *yl = y + start, *gl = g + start;                                    \
                T *dl = dx + start;                                                          \
                T dot = 0;                                                                   \
                for (int64_t k = 0; k < n; k++)                                              \
                    dot += LOG ? gl[k * inner] : gl[k * inner] * yl[k * inner];              \
                for (int64_t k = 0; k < n; k++)                                              \
                    dl[k * inner] += LOG ? gl[k * inner] - exp(yl[k * inner]) * dot          \
                                         : yl[k * inner] * (gl[k * inner] - dot);            \
            }                                                                                \
    } while (0)

static nb_status softmax_lines_grad(nb_node *node, bool log_space)
{
    void *grad_in = nb_node_input_grad(node, 0);
    if (!grad_in)
        return NB_ERR_NOMEM; /* recorded, so the input wants a gradient */
    int64_t outer, n, inner;
    softmax_axis_dims(node, &outer, &n, &inner);
    if (node->output->dtype == NB_F32)
        SOFTMAX_GRAD_LINES(float, log_space);
    else
        SOFTMAX_GRAD_LINES(double, log_space);
    return NB_OK;
}

static nb_status softmax_axis_backward(nb_node *node) { return softmax_lines_grad(node, false); }
static nb_status log_softmax_axis_backward(nb_node *node) { return softmax_lines_grad(node, true); }

static nb_status softmax_axis_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                                  nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, softmax_vjp_along(tape, node, g, NB_ATTRS(node, softmax_axis_attrs)->axis));
    return NB_OK;
}

static nb_status log_softmax_axis_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                                      nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, log_softmax_vjp_along(tape, node, g, NB_ATTRS(node, softmax_axis_attrs)->axis));
    return NB_OK;
}

static const nb_op softmax_axis_op = {
    .name = "softmax_axis",
    .n_inputs = 1,
    .infer = nb_infer_same_as_input, /* the axis is checked by apply_along */
    .forward = softmax_axis_forward,
    .backward = softmax_axis_backward,
    .overwrites_output = true,
    .vjp = softmax_axis_vjp,
};

static const nb_op log_softmax_axis_op = {
    .name = "log_softmax_axis",
    .n_inputs = 1,
    .infer = nb_infer_same_as_input,
    .forward = log_softmax_axis_forward,
    .backward = log_softmax_axis_backward,
    .overwrites_output = true,
    .vjp = log_softmax_axis_vjp,
};

/* Check the axis (negative counts from the end); the last axis takes the
 * contiguous op `last`, any other the strided op `along`. */
static nb_tensor *apply_along(nb_tape *tape, const nb_op *along, const nb_op *last, nb_tensor *x,
                              int axis)
{
    if (!x) /* nb_op_apply keeps the earlier message */
        return nb_op_apply(tape, along, 1, (nb_tensor *[]){x}, NULL, 0);
    int a = axis < 0 ? axis + x->rank : axis;
    if (a < 0 || a >= x->rank) {
        char buf[NB_SHAPE_BUF];
        if (x->rank == 0)
            nb_error(NB_ERR_ARG, "nb_%s: axis %d is out of range for x of shape [] (rank 0): "
                     "expected rank 1 to %d", along->name, axis, NB_MAX_RANK);
        else
            nb_error(NB_ERR_ARG, "nb_%s: axis %d is out of range for x of shape %s (rank %d): "
                     "expected %d to %d", along->name, axis, nb_shape_str(x, buf, sizeof buf),
                     x->rank, -x->rank, x->rank - 1);
        return NULL;
    }
    if (a == x->rank - 1)
        return nb_op_apply(tape, last, 1, (nb_tensor *[]){x}, NULL, 0);
    softmax_axis_attrs attrs = {a};
    return nb_op_apply(tape, along, 1, (nb_tensor *[]){x}, &attrs, sizeof attrs);
}

nb_tensor *nb_softmax_axis(nb_tape *tape, nb_tensor *x, int axis)
{
    return apply_along(tape, &softmax_axis_op, &softmax_op, x, axis);
}

nb_tensor *nb_log_softmax_axis(nb_tape *tape, nb_tensor *x, int axis)
{
    return apply_along(tape, &log_softmax_axis_op, &log_softmax_op, x, axis);
}
