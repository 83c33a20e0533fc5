/* Transpose and slice, which copy elements with the strided walk
 * (walk.h), and squeeze and expand_dims, which are reshapes. */
#include <string.h>

#include "ops/walk.h"

/* ---- transpose: out[i_0, ..., i_r-1] = x[i at perm^-1] ------------------- */

typedef struct transpose_attrs {
    int perm[NB_MAX_RANK];
    bool reverse; /* perm was NULL */
} transpose_attrs;

/* The node's permutation, resolved (each entry 0 to rank - 1). */
static nb_status transpose_perm(const nb_node *node, int perm[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    const transpose_attrs *a = NB_ATTRS(node, transpose_attrs);
    bool seen[NB_MAX_RANK] = {false};
    bool valid = true;
    for (int d = 0; d < x->rank; d++) {
        int p = a->reverse ? x->rank - 1 - d : a->perm[d];
        if (p < -x->rank || p >= x->rank) {
            valid = false;
            continue;
        }
        perm[d] = p < 0 ? p + x->rank : p;
        valid = valid && !seen[perm[d]];
        seen[perm[d]] = true;
    }
    if (valid)
        return NB_OK;
    char sx[NB_SHAPE_BUF], sp[NB_SHAPE_BUF];
    int64_t given[NB_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        given[d] = a->perm[d];
    return nb_error(NB_ERR_ARG, "nb_transpose: perm %s is not a permutation of the %d axes of x %s: "
                    "expected each of 0 to %d (or -%d to -1) once",
                    nb__dims_str(x->rank, given, sp, sizeof sp), x->rank,
                    nb_shape_str(x, sx, sizeof sx), x->rank - 1, x->rank);
}

static nb_status transpose_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                                 int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    int perm[NB_MAX_RANK];
    nb_status s = transpose_perm(node, perm);
    if (s != NB_OK)
        return s;
    for (int d = 0; d < x->rank; d++)
        shape[d] = x->shape[perm[d]];
    *dtype = x->dtype;
    *rank = x->rank;
    return NB_OK;
}

/* Over the output's index space: the output contiguous, x read through its
 * strides permuted. */
static nb__strided_walk transpose_walk(const nb_node *node)
{
    const nb_tensor *x = node->inputs[0], *y = node->output;
    int perm[NB_MAX_RANK];
    int64_t x_strides[NB_MAX_RANK], y_strides[NB_MAX_RANK], x_permuted[NB_MAX_RANK];
    transpose_perm(node, perm); /* checked by infer */
    nb__row_major_strides(x->rank, x->shape, x_strides);
    nb__row_major_strides(y->rank, y->shape, y_strides);
    for (int d = 0; d < x->rank; d++)
        x_permuted[d] = x_strides[perm[d]];
    return nb__walk_over(y->rank, y->shape, y_strides, x_permuted);
}

static nb_status transpose_forward(nb_node *node)
{
    nb__strided_walk w = transpose_walk(node);
    nb__walk(&w, node->output->dtype, node->output->data, 0, node->inputs[0]->data, 0, false);
    return NB_OK;
}

/* dx = dy transposed back by the inverse permutation: every element of dy
 * added to the element of dx it came from. */
static nb_status transpose_backward(nb_node *node)
{
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return NB_ERR_NOMEM;
    nb__strided_walk w = nb__walk_reversed(transpose_walk(node));
    nb__walk(&w, node->output->dtype, dx, 0, node->output->grad, 0, true);
    return NB_OK;
}

/* dx = g transposed by the inverse permutation */
static nb_status transpose_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                               nb_tensor *grad_in[])
{
    int perm[NB_MAX_RANK], inverse[NB_MAX_RANK];
    transpose_perm(node, perm); /* checked by infer */
    for (int d = 0; d < g->rank; d++)
        inverse[perm[d]] = d;
    NB_VJP_INPUT(0, nb_transpose(tape, g, inverse));
    return NB_OK;
}

static const nb_op transpose_op = {
    .name = "transpose",
    .n_inputs = 1,
    .infer = transpose_infer,
    .forward = transpose_forward,
    .backward = transpose_backward,
    .overwrites_output = true,
    .vjp = transpose_vjp,
};

nb_tensor *nb_transpose(nb_tape *tape, nb_tensor *x, const int *perm)
{
    transpose_attrs attrs = {{0, 0, 0, 0}, perm == NULL};
    for (int d = 0; perm && x && d < x->rank && d < NB_MAX_RANK; d++)
        attrs.perm[d] = perm[d];
    return nb_op_apply(tape, &transpose_op, 1, (nb_tensor *[]){x}, &attrs, sizeof attrs);
}

/* ---- slice: out = x[..., start:stop, ...] on one axis -------------------- */

typedef struct slice_attrs {
    int axis;
    int64_t start, stop; /* as given: may be negative */
} slice_attrs;

/* The node's axis and [start, stop), resolved and checked against x. */
static nb_status slice_bounds(const nb_node *node, int *axis, int64_t *start, int64_t *stop)
{
    const nb_tensor *x = node->inputs[0];
    const slice_attrs *a = NB_ATTRS(node, slice_attrs);
    nb_status s = nb__resolve_axis("nb_slice", "x", x, a->axis, x->rank, axis);
    if (s != NB_OK)
        return s;
    int64_t dim = x->shape[*axis];
    *start = a->start < 0 ? a->start + dim : a->start;
    *stop = a->stop < 0 ? a->stop + dim : a->stop;
    if (0 <= *start && *start < *stop && *stop <= dim)
        return NB_OK;
    char sx[NB_SHAPE_BUF];
    return nb_error(NB_ERR_ARG, "nb_slice: start %lld, stop %lld on axis %d of x %s (size %lld): "
                    "expected a non-empty slice inside 0 to %lld (negative values count from "
                    "the end)", (long long)a->start, (long long)a->stop, a->axis,
                    nb_shape_str(x, sx, sizeof sx), (long long)dim, (long long)dim);
}

static nb_status slice_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                             int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    int axis = 0;
    int64_t start = 0, stop = 0;
    nb_status s = slice_bounds(node, &axis, &start, &stop);
    if (s != NB_OK)
        return s;
    memcpy(shape, x->shape, sizeof x->shape);
    shape[axis] = stop - start;
    *dtype = x->dtype;
    *rank = x->rank;
    return NB_OK;
}

/* Over the output's index space: the output contiguous, x through its own
 * strides from element start of the axis (returned in *x_offset). */
static nb__strided_walk slice_walk(const nb_node *node, int64_t *x_offset)
{
    const nb_tensor *x = node->inputs[0], *y = node->output;
    int axis = 0;
    int64_t start = 0, stop = 0, x_strides[NB_MAX_RANK], y_strides[NB_MAX_RANK];
    slice_bounds(node, &axis, &start, &stop); /* checked by infer */
    nb__row_major_strides(x->rank, x->shape, x_strides);
    nb__row_major_strides(y->rank, y->shape, y_strides);
    *x_offset = start * x_strides[axis];
    return nb__walk_over(y->rank, y->shape, y_strides, x_strides);
}

static nb_status slice_forward(nb_node *node)
{
    int64_t x_offset;
    nb__strided_walk w = slice_walk(node, &x_offset);
    nb__walk(&w, node->output->dtype, node->output->data, 0, node->inputs[0]->data, x_offset,
             false);
    return NB_OK;
}

/* dx[..., start:stop, ...] += dy; the rest of dx gets nothing. */
static nb_status slice_backward(nb_node *node)
{
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return NB_ERR_NOMEM;
    int64_t x_offset;
    nb__strided_walk w = nb__walk_reversed(slice_walk(node, &x_offset));
    nb__walk(&w, node->output->dtype, dx, x_offset, node->output->grad, 0, true);
    return NB_OK;
}

/* dx = g between blocks of zeros (constants) on the axis: x's shape */
static nb_status slice_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    const nb_tensor *x = node->inputs[0];
    int axis = 0, n = 0;
    int64_t start = 0, stop = 0, shape[NB_MAX_RANK];
    slice_bounds(node, &axis, &start, &stop); /* checked by infer */
    nb_tensor *parts[3];
    memcpy(shape, x->shape, sizeof shape);
    if (start > 0) {
        shape[axis] = start;
        parts[n++] = nb_tape_tensor(tape, g->dtype, x->rank, shape);
    }
    parts[n++] = g;
    if (stop < x->shape[axis]) {
        shape[axis] = x->shape[axis] - stop;
        parts[n++] = nb_tape_tensor(tape, g->dtype, x->rank, shape);
    }
    NB_VJP_INPUT(0, nb_concat(tape, n, parts, axis));
    return NB_OK;
}

static const nb_op slice_op = {
    .name = "slice",
    .n_inputs = 1,
    .infer = slice_infer,
    .forward = slice_forward,
    .backward = slice_backward,
    .overwrites_output = true,
    .vjp = slice_vjp,
};

nb_tensor *nb_slice(nb_tape *tape, nb_tensor *x, int axis, int64_t start, int64_t stop)
{
    slice_attrs attrs = {axis, start, stop};
    return nb_op_apply(tape, &slice_op, 1, (nb_tensor *[]){x}, &attrs, sizeof attrs);
}

/* ---- reshapes: expand_dims and squeeze ---------------------------------- */

nb_tensor *nb_expand_dims(nb_tape *tape, nb_tensor *x, int axis)
{
    if (!x)
        return nb__null_input("nb_expand_dims", "x");
    char sx[NB_SHAPE_BUF];
    if (x->rank == NB_MAX_RANK) {
        nb_error(NB_ERR_SHAPE, "nb_expand_dims: x has shape %s (rank %d): a new axis would make "
                 "rank %d, above the maximum %d", nb_shape_str(x, sx, sizeof sx), x->rank,
                 x->rank + 1, NB_MAX_RANK);
        return NULL;
    }
    int at = 0;
    if (nb__resolve_axis("nb_expand_dims", "x", x, axis, x->rank + 1, &at) != NB_OK)
        return NULL;
    int64_t shape[NB_MAX_RANK];
    for (int d = 0, from = 0; d <= x->rank; d++)
        shape[d] = d == at ? 1 : x->shape[from++];
    return nb_reshape(tape, x, x->rank + 1, shape);
}

nb_tensor *nb_squeeze(nb_tape *tape, nb_tensor *x, int axis)
{
    if (!x)
        return nb__null_input("nb_squeeze", "x");
    int at = 0;
    if (nb__resolve_axis("nb_squeeze", "x", x, axis, x->rank, &at) != NB_OK)
        return NULL;
    char sx[NB_SHAPE_BUF];
    if (x->shape[at] != 1) {
        nb_error(NB_ERR_SHAPE, "nb_squeeze: axis %d of x %s has size %lld: expected size 1", axis,
                 nb_shape_str(x, sx, sizeof sx), (long long)x->shape[at]);
        return NULL;
    }
    int64_t shape[NB_MAX_RANK];
    for (int d = 0, to = 0; d < x->rank; d++)
        if (d != at)
            shape[to++] = x->shape[d];
    return nb_reshape(tape, x, x->rank - 1, shape);
}

/* Each input gains a size-1 axis at `axis`; joining them along it stacks. */
