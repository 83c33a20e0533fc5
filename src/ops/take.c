/* take: the slices of x at given indices along one axis, as NumPy's take.
 *
 * x is viewed as [outer, n, inner] around the axis and the indices as a flat
 * list of m; the output is [outer, m, inner], which has the shape
 * x.shape[:axis] + indices.shape + x.shape[axis+1:]. Each output block of
 * `inner` elements is a copy of one block of x. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

typedef struct take_attrs {
    int axis; /* normalised: 0 to x's rank - 1 */
} take_attrs;

/* x as [outer, n, inner] around the axis; m indices. */
typedef struct take_dims {
    int64_t outer, n, inner, m;
} take_dims;

static take_dims dims_of(const nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    int axis = NB_ATTRS(node, take_attrs)->axis;
    take_dims d = {1, x->shape[axis], 1, node->inputs[1]->size};
    for (int a = 0; a < axis; a++)
        d.outer *= x->shape[a];
    for (int a = axis + 1; a < x->rank; a++)
        d.inner *= x->shape[a];
    return d;
}

static nb_status take_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                            int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0], *indices = node->inputs[1];
    int axis = NB_ATTRS(node, take_attrs)->axis;
    int out_rank = x->rank - 1 + indices->rank;
    if (out_rank > NB_MAX_RANK) {
        char sx[NB_SHAPE_BUF], si[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "nb_take: x of shape %s (rank %d) with indices of shape %s "
                        "(rank %d) would give rank %d: expected at most %d (NB_MAX_RANK)",
                        nb_shape_str(x, sx, sizeof sx), x->rank,
                        nb_shape_str(indices, si, sizeof si), indices->rank, out_rank,
                        NB_MAX_RANK);
    }
    *dtype = x->dtype;
    *rank = 0;
    for (int a = 0; a < axis; a++)
        shape[(*rank)++] = x->shape[a];
    for (int a = 0; a < indices->rank; a++)
        shape[(*rank)++] = indices->shape[a];
    for (int a = axis + 1; a < x->rank; a++)
        shape[(*rank)++] = x->shape[a];
    return NB_OK;
}

/* Check every index and write it, counted from the front, into `at`. */
static nb_status read_indices(const nb_node *node, int64_t n, int64_t *at)
{
    const nb_tensor *indices = node->inputs[1];
    int axis = NB_ATTRS(node, take_attrs)->axis;
    for (int64_t j = 0; j < indices->size; j++) {
        double v = nb_tensor_get(indices, j);
        if (v != floor(v))
            return nb_error(NB_ERR_ARG, "nb_take: index %g (element %" PRId64 " of indices) is "
                            "not an integer", v, j);
        if (v < -(double)n || v >= (double)n)
            return nb_error(NB_ERR_ARG, "nb_take: index %.17g (element %" PRId64 " of indices) is "
                            "out of bounds for axis %d with size %" PRId64 ": expected %" PRId64
                            " to %" PRId64, v, j, axis, n, -n, n - 1);
        at[j] = v < 0 ? (int64_t)v + n : (int64_t)v;
    }
    return NB_OK;
}

static nb_status take_forward(nb_node *node)
{
    take_dims d = dims_of(node);
    int64_t *at = nb_node_scratch(node, (size_t)d.m * sizeof *at);
    if (!at)
        return nb_error(NB_ERR_NOMEM, "nb_take: out of memory for %" PRId64 " indices", d.m);
    nb_status s = read_indices(node, d.n, at);
    if (s != NB_OK)
        return s;
    node->saved = at; /* backward scatters through the same indices */
    size_t elem = nb_dtype_size(node->output->dtype), block = (size_t)d.inner * elem;
    const char *x = node->inputs[0]->data;
    char *y = node->output->data;
    for (int64_t o = 0; o < d.outer; o++)
        for (int64_t j = 0; j < d.m; j++)
            memcpy(y + (size_t)(o * d.m + j) * block, x + (size_t)(o * d.n + at[j]) * block,
                   block);
    return NB_OK;
}

/* dst[o, at[j], i] += src[o, j, i] ([outer, m, inner] into [outer, n,
 * inner]): a scatter that adds, so an index taken twice gets both. With
 * gather, the other way: dst[o, j, i] += src[o, at[j], i]. */
#define MOVE_ADD(T, gather)                                                                  \
    do {                                                                                     \
        T *to = dst;                                                                         \
        const T *from = src;                                                                 \
        for (int64_t o = 0; o < d.outer; o++)                                                \
            for (int64_t j = 0; j < d.m; j++) {                                              \
                int64_t taken = (o * d.m + j) * d.inner, picked = (o * d.n + at[j]) * d.inner; \
                T *db = to + (gather ? taken : picked);                                      \
                const T *sb = from + (gather ? picked : taken);                              \
                for (int64_t i = 0; i < d.inner; i++)                                        \
                    db[i] += sb[i];                                                          \
            }                                                                                \
    } while (0)

static void scatter_add(nb_dtype dtype, void *dst, const void *src, const int64_t *at,
                        take_dims d)
{
    if (dtype == NB_F32)
        MOVE_ADD(float, false);
    else
        MOVE_ADD(double, false);
}

static void gather_add(nb_dtype dtype, void *dst, const void *src, const int64_t *at, take_dims d)
{
    if (dtype == NB_F32)
        MOVE_ADD(float, true);
    else
        MOVE_ADD(double, true);
}

/* y[o, j, i] = x[o, at[j], i], so dx[o, at[j], i] += g[o, j, i] */
static nb_status take_backward(nb_node *node)
{
    if (!node->inputs[0]->requires_grad)
        return NB_OK; /* recorded for the indices, which get no gradient */
    void *grad_x = nb_node_input_grad(node, 0);
    if (!grad_x)
        return NB_ERR_NOMEM;
    scatter_add(node->output->dtype, grad_x, node->output->grad, node->saved, dims_of(node));
    return NB_OK;
}

/* ---- scatter_add: take's backward as an op, so that it differentiates ----
 * y = zeros of x's shape with y[o, at[j], i] += g[o, j, i]. Its own
 * derivative is take again: dg[o, j, i] = dy[o, at[j], i]. Internal: only
 * take's vjp applies it, with indices take has checked. */

typedef struct scatter_attrs {
    take_attrs take; /* first, so that read_indices reads the axis */
    int64_t n;       /* the size of x's axis */
} scatter_attrs;

/* g (the first input) as [outer, m, inner]; the output as [outer, n, inner]. */
static take_dims scatter_dims(const nb_node *node)
{
    const nb_tensor *g = node->inputs[0], *indices = node->inputs[1];
    const scatter_attrs *a = NB_ATTRS(node, scatter_attrs);
    take_dims d = {1, a->n, 1, indices->size};
    for (int k = 0; k < a->take.axis; k++)
        d.outer *= g->shape[k];
    for (int k = a->take.axis + indices->rank; k < g->rank; k++)
        d.inner *= g->shape[k];
    return d;
}

static nb_status scatter_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                               int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *g = node->inputs[0], *indices = node->inputs[1];
    const scatter_attrs *a = NB_ATTRS(node, scatter_attrs);
    *dtype = g->dtype;
    *rank = 0;
    for (int k = 0; k < a->take.axis; k++)
        shape[(*rank)++] = g->shape[k];
    shape[(*rank)++] = a->n;
    for (int k = a->take.axis + indices->rank; k < g->rank; k++)
        shape[(*rank)++] = g->shape[k];
    return NB_OK;
}

static nb_status scatter_forward(nb_node *node)
{
    take_dims d = scatter_dims(node);
    int64_t *at = nb_node_scratch(node, (size_t)d.m * sizeof *at);
    if (!at)
        return nb_error(NB_ERR_NOMEM, "nb_take: out of memory for %" PRId64 " indices", d.m);
    nb_status s = read_indices(node, d.n, at);
    if (s != NB_OK)
        return s;
    node->saved = at;
    scatter_add(node->output->dtype, node->output->data, node->inputs[0]->data, at, d);
    return NB_OK;
}

/* dg[o, j, i] += dy[o, at[j], i]: a gather */
static nb_status scatter_backward(nb_node *node)
{
    void *dg = nb_node_input_grad(node, 0);
    if (!dg)
        return node->inputs[0]->requires_grad ? NB_ERR_NOMEM : NB_OK;
    gather_add(node->output->dtype, dg, node->output->grad, node->saved, scatter_dims(node));
    return NB_OK;
}

static nb_status scatter_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    int axis = NB_ATTRS(node, scatter_attrs)->take.axis;
    NB_VJP_INPUT(0, nb_take(tape, g, node->inputs[1], axis));
    return NB_OK;
}

static const nb_op scatter_add_op = {"scatter_add", 2, scatter_infer, scatter_forward,
                                     scatter_backward, false, scatter_vjp};

/* dx = g scattered back into zeros of x's shape, adding at repeated indices */
static nb_status take_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    const take_attrs *a = NB_ATTRS(node, take_attrs);
    scatter_attrs attrs = {*a, node->inputs[0]->shape[a->axis]};
    NB_VJP_INPUT(0, nb_op_apply(tape, &scatter_add_op, 2, (nb_tensor *[]){g, node->inputs[1]},
                                &attrs, sizeof attrs));
    return NB_OK;
}

static const nb_op take_op = {"take", 2, take_infer, take_forward, take_backward, true, take_vjp};

nb_tensor *nb_take(nb_tape *tape, nb_tensor *x, nb_tensor *indices, int axis)
{
    take_attrs attrs = {0};
    if (x) {
        int a = axis < 0 ? axis + x->rank : axis;
        if (a < 0 || a >= x->rank) {
            char buf[NB_SHAPE_BUF];
            if (x->rank == 0)
                nb_error(NB_ERR_ARG, "nb_take: axis %d is out of range for x of shape [] "
                         "(a scalar): expected x of rank 1 or more", axis);
            else
                nb_error(NB_ERR_ARG, "nb_take: axis %d is out of range for x of shape %s: "
                         "expected %d to %d", axis, nb_shape_str(x, buf, sizeof buf), -x->rank,
                         x->rank - 1);
            return NULL;
        }
        attrs.axis = a;
    }
    return nb_op_apply(tape, &take_op, 2, (nb_tensor *[]){x, indices}, &attrs, sizeof attrs);
}
