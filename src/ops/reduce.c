/* Reductions: sums and means, of everything or along one axis; and along
 * one axis, the maximum, minimum, log-sum-exp and variance. */
#include <inttypes.h>
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

/* ---- vjps: a reduced t (of the output's shape) spread back over x ------ */

/* t with the reduced axes put back as 1s, then repeated to x's shape. */
static nb_tensor *unreduce(nb_tape *tape, const nb_node *node, nb_tensor *t)
{
    const nb_tensor *x = node->inputs[0];
    int axis = NB_ATTRS(node, reduce_attrs)->axis;
    int64_t kept[NB_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        kept[d] = axis < 0 || d == axis ? 1 : x->shape[d];
    return nb_broadcast_to(tape, nb_reshape(tape, t, x->rank, kept), x->rank, x->shape);
}

static double reduced_count(const nb_node *node)
{
    int64_t outer, n, inner;
    reduce_dims(node, &outer, &n, &inner);
    return (double)n;
}

/* dx = g repeated, divided by n for the mean */
static nb_status reduce_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    double scale = NB_ATTRS(node, reduce_attrs)->mean ? 1 / reduced_count(node) : 1;
    NB_VJP_INPUT(0, nb_scale(tape, unreduce(tape, node, g), scale));
    return NB_OK;
}

static const nb_op sum_op = {"sum", 1, reduce_infer, reduce_forward, reduce_backward, true,
                             reduce_vjp};
static const nb_op mean_op = {"mean", 1, reduce_infer, reduce_forward, reduce_backward, true,
                              reduce_vjp};

/* ---- max, min, logsumexp and var along one axis, row by row -------------
 * Each reduced row (n elements, `inner` apart) is copied into doubles and
 * reduced by a function of that row alone; backward asks a function of the
 * row for its gradient and adds it back. Working in double serves both
 * dtypes with one function per formula: f32 values convert exactly, so
 * maxima and ties are the same as in f32. */

/* The result of a reduction of the row x[0..n). */
typedef double (*row_value_fn)(const double *x, int64_t n);
/* dx[k] = d y / d x_k * g for the row x whose result was y. */
typedef void (*row_grad_fn)(const double *x, int64_t n, double y, double g, double *dx);

static void gather_row(nb_dtype dtype, const void *data, int64_t base, int64_t n, int64_t stride,
                       double *row)
{
    if (dtype == NB_F32)
        for (int64_t k = 0; k < n; k++)
            row[k] = ((const float *)data)[base + k * stride];
    else
        for (int64_t k = 0; k < n; k++)
            row[k] = ((const double *)data)[base + k * stride];
}

static void add_row(nb_dtype dtype, void *data, int64_t base, int64_t n, int64_t stride,
                    const double *row)
{
    if (dtype == NB_F32)
        for (int64_t k = 0; k < n; k++)
            ((float *)data)[base + k * stride] += (float)row[k];
    else
        for (int64_t k = 0; k < n; k++)
            ((double *)data)[base + k * stride] += row[k];
}

/* Forward takes room for two rows: one for itself, and both for backward,
 * which then allocates nothing (node->saved). */
static nb_status rows_forward(nb_node *node, row_value_fn value)
{
    const nb_tensor *x = node->inputs[0];
    int64_t outer, n, inner;
    reduce_dims(node, &outer, &n, &inner);
    double *row = nb_node_scratch(node, 2 * (size_t)n * sizeof *row);
    if (!row)
        return nb_error(NB_ERR_NOMEM, "nb_%s_axis: out of memory for rows of %" PRId64
                        " elements", node->op->name, n);
    node->saved = row;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            gather_row(x->dtype, x->data, o * n * inner + i, n, inner, row);
            nb_tensor_set(node->output, o * inner + i, value(row, n));
        }
    return NB_OK;
}

static nb_status rows_backward(nb_node *node, row_grad_fn grad)
{
    const nb_tensor *x = node->inputs[0], *y = node->output;
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return NB_ERR_NOMEM; /* recorded, so the input wants a gradient */
    int64_t outer, n, inner;
    reduce_dims(node, &outer, &n, &inner);
    double *row = node->saved, *drow = row + n;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * n * inner + i, r = o * inner + i;
            gather_row(x->dtype, x->data, base, n, inner, row);
            grad(row, n, nb_tensor_get(y, r), nb_tensor_grad_get(y, r), drow);
            add_row(x->dtype, dx, base, n, inner, drow);
        }
    return NB_OK;
}

/* A NaN wins and stays, as in NumPy's amax and amin. */
static double row_max(const double *x, int64_t n)
{
    double m = x[0];
    for (int64_t k = 1; k < n; k++)
        if (x[k] > m || isnan(x[k]))
            m = x[k];
    return m;
}

static double row_min(const double *x, int64_t n)
{
    double m = x[0];
    for (int64_t k = 1; k < n; k++)
        if (x[k] < m || isnan(x[k]))
            m = x[k];
    return m;
}

static bool tied(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

/* d max / dx_k = 1/t for each of the t elements equal to the result y, 0
 * elsewhere: tied maxima share the gradient evenly, as in PyTorch's amax.
 * The same for min. */
static void extreme_grad(const double *x, int64_t n, double y, double g, double *dx)
{
    int64_t ties = 0;
    for (int64_t k = 0; k < n; k++)
        ties += tied(x[k], y);
    for (int64_t k = 0; k < n; k++)
        dx[k] = tied(x[k], y) ? g / (double)ties : 0;
}

/* m = max x; y = m + log(sum exp(x - m)). Subtracting m keeps every exp in
 * (0, 1] and the sum in [1, n], so inputs of +-1000 stay finite. When m is
 * infinite it is the result: a row of -inf gives -inf (not the NaN of
 * -inf - -inf), a row holding +inf gives +inf. */
static double row_logsumexp(const double *x, int64_t n)
{
    double m = row_max(x, n);
    if (isinf(m))
        return m;
    double sum = 0;
    for (int64_t k = 0; k < n; k++)
        sum += exp(x[k] - m);
    return m + log(sum);
}

/* d logsumexp / dx_k = exp(x_k - y) = softmax(x)_k, and exp(x_k - y) <= 1
 * never overflows. Where y is infinite that is NaN; the limit is taken
 * instead: the elements equal to y share the gradient evenly, as tied
 * maxima do (every element, for a row of -inf). y is computed again in
 * double: the f32 output, rounded near 1000, would be off by 6e-5, and the
 * softmax by as much. */
static void logsumexp_grad(const double *x, int64_t n, double y_out, double g, double *dx)
{
    (void)y_out;
    double y = row_logsumexp(x, n);
    if (isinf(y)) {
        extreme_grad(x, n, y, g, dx);
        return;
    }
    for (int64_t k = 0; k < n; k++)
        dx[k] = exp(x[k] - y) * g;
}

static double row_mean(const double *x, int64_t n)
{
    double sum = 0;
    for (int64_t k = 0; k < n; k++)
        sum += x[k];
    return sum / (double)n;
}

/* Population variance, sum (x - mean)^2 / n, with the mean subtracted
 * first: two passes lose less than mean(x^2) - mean^2. */
static double row_var(const double *x, int64_t n)
{
    double mean = row_mean(x, n), sq = 0;
    for (int64_t k = 0; k < n; k++)
        sq += (x[k] - mean) * (x[k] - mean);
    return sq / (double)n;
}

/* d var / dx_k = 2 (x_k - mean) / n. (The mean depends on x_k too, but that
 * adds -2/n^2 sum_j (x_j - mean), which is 0.) */
static void var_grad(const double *x, int64_t n, double y, double g, double *dx)
{
    (void)y;
    double mean = row_mean(x, n);
    for (int64_t k = 0; k < n; k++)
        dx[k] = 2 * (x[k] - mean) / (double)n * g;
}

static nb_status max_forward(nb_node *node) { return rows_forward(node, row_max); }
static nb_status min_forward(nb_node *node) { return rows_forward(node, row_min); }
static nb_status extreme_backward(nb_node *node) { return rows_backward(node, extreme_grad); }
static nb_status logsumexp_forward(nb_node *node) { return rows_forward(node, row_logsumexp); }
static nb_status logsumexp_backward(nb_node *node) { return rows_backward(node, logsumexp_grad); }
static nb_status var_forward(nb_node *node) { return rows_forward(node, row_var); }
static nb_status var_backward(nb_node *node) { return rows_backward(node, var_grad); }

/* 1/t at the t elements of each row equal to its max (or min), 0
 * elsewhere: a constant, made with recording off. */
static nb_tensor *extreme_share(nb_tape *tape, const nb_node *node)
{
    bool was = nb_tape_set_grad_enabled(tape, false);
    int axis = NB_ATTRS(node, reduce_attrs)->axis;
    nb_tensor *hit = nb_equal(tape, node->inputs[0], unreduce(tape, node, node->output));
    nb_tensor *share = nb_div(tape, hit, nb_sum_axis(tape, hit, axis, true));
    nb_tape_set_grad_enabled(tape, was);
    return share;
}

/* dx = g repeated times each element's share of the extreme */
static nb_status extreme_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, nb_mul(tape, unreduce(tape, node, g), extreme_share(tape, node)));
    return NB_OK;
}

/* dx = g repeated times softmax(x) along the axis */
static nb_status logsumexp_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                               nb_tensor *grad_in[])
{
    int axis = NB_ATTRS(node, reduce_attrs)->axis;
    NB_VJP_INPUT(0, nb_mul(tape, unreduce(tape, node, g),
                           nb_softmax_axis(tape, node->inputs[0], axis)));
    return NB_OK;
}

/* dx = g repeated times 2 (x - mean(x)) / n: as a function of x, mean
 * included, so that it differentiates again */
static nb_status var_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    nb_tensor *x = node->inputs[0];
    int axis = NB_ATTRS(node, reduce_attrs)->axis;
    nb_tensor *centred = nb_sub(tape, x, nb_mean_axis(tape, x, axis, true));
    NB_VJP_INPUT(0, nb_mul(tape, unreduce(tape, node, g),
                           nb_scale(tape, centred, 2 / reduced_count(node))));
    return NB_OK;
}

static const nb_op max_op = {"max", 1, reduce_infer, max_forward, extreme_backward, true,
                             extreme_vjp};
static const nb_op min_op = {"min", 1, reduce_infer, min_forward, extreme_backward, true,
                             extreme_vjp};
static const nb_op logsumexp_op = {"logsumexp", 1, reduce_infer, logsumexp_forward,
                                   logsumexp_backward, true, logsumexp_vjp};
static const nb_op var_op = {"var", 1, reduce_infer, var_forward, var_backward, true, var_vjp};

/* ---- public functions ----------------------------------------------------- */

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

nb_tensor *nb_max_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims)
{
    return reduce(tape, &max_op, x, false, axis, keepdims);
}

nb_tensor *nb_min_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims)
{
    return reduce(tape, &min_op, x, false, axis, keepdims);
}

nb_tensor *nb_logsumexp_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims)
{
    return reduce(tape, &logsumexp_op, x, false, axis, keepdims);
}

nb_tensor *nb_var_axis(nb_tape *tape, nb_tensor *x, int axis, bool keepdims)
{
    return reduce(tape, &var_op, x, false, axis, keepdims);
}
