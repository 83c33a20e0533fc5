/* Concat and stack: tensors joined along an existing axis or a new one. */
#include <stdio.h>
#include <string.h>

#include "ops/walk.h"

/* ---- concat: out = [x_0 | x_1 | ...] along one axis ---------------------- *
 * Input i is the slice of the output that starts where inputs 0..i-1 end on
 * the axis, so each input is copied (and its gradient read back) with the
 * slice's walk. nb_concat has checked the inputs before any op is applied,
 * so that its messages can name an input's place in the caller's array. */

typedef struct concat_attrs {
    int axis; /* resolved */
} concat_attrs;

static nb_status concat_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x0 = node->inputs[0];
    int axis = NB_ATTRS(node, concat_attrs)->axis;
    memcpy(shape, x0->shape, sizeof x0->shape);
    for (int i = 1; i < node->n_inputs; i++)
        shape[axis] += node->inputs[i]->shape[axis];
    *dtype = x0->dtype;
    *rank = x0->rank;
    return NB_OK;
}

/* Over input i's index space: input i contiguous, the output through its
 * strides from where input i starts (returned in *out_offset). */
static nb__strided_walk concat_walk(const nb_node *node, int i, int64_t *out_offset)
{
    const nb_tensor *x = node->inputs[i], *y = node->output;
    int axis = NB_ATTRS(node, concat_attrs)->axis;
    int64_t x_strides[NB_MAX_RANK], y_strides[NB_MAX_RANK], start = 0;
    for (int j = 0; j < i; j++)
        start += node->inputs[j]->shape[axis];
    nb__row_major_strides(x->rank, x->shape, x_strides);
    nb__row_major_strides(y->rank, y->shape, y_strides);
    *out_offset = start * y_strides[axis];
    return nb__walk_over(x->rank, x->shape, y_strides, x_strides);
}

static nb_status concat_forward(nb_node *node)
{
    for (int i = 0; i < node->n_inputs; i++) {
        int64_t out_offset;
        nb__strided_walk w = concat_walk(node, i, &out_offset);
        nb__walk(&w, node->output->dtype, node->output->data, out_offset, node->inputs[i]->data, 0,
             false);
    }
    return NB_OK;
}

/* dx_i += the slice of dy that x_i was copied into. */
static nb_status concat_backward(nb_node *node)
{
    for (int i = 0; i < node->n_inputs; i++) {
        void *dx = nb_node_input_grad(node, i);
        if (!dx) {
            if (node->inputs[i]->requires_grad)
                return NB_ERR_NOMEM;
            continue;
        }
        int64_t out_offset;
        nb__strided_walk w = nb__walk_reversed(concat_walk(node, i, &out_offset));
        nb__walk(&w, node->output->dtype, dx, 0, node->output->grad, out_offset, true);
    }
    return NB_OK;
}

/* dx_i = the slice of g that x_i was copied into */
static nb_status concat_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    int axis = NB_ATTRS(node, concat_attrs)->axis;
    int64_t start = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        int64_t size = node->inputs[i]->shape[axis];
        NB_VJP_INPUT(i, nb_slice(tape, g, axis, start, start + size));
        start += size;
    }
    return NB_OK;
}

/* One op per input count: nb_op_apply checks n_inputs against the op's. */
#define CONCAT_OP(n) {"concat", n, concat_infer, concat_forward, concat_backward, true, concat_vjp}
static const nb_op concat_ops[NB_MAX_INPUTS] = {CONCAT_OP(1), CONCAT_OP(2), CONCAT_OP(3),
                                                CONCAT_OP(4)};

/* Check that xs[0..n-1] can be joined along axis (an existing axis, or for
 * stack a new one: then the shapes must be equal). *resolved gets the axis
 * counted from the front. */
static nb_status check_join(const char *fn, int n, nb_tensor *const xs[], int axis, bool new_axis,
                            int *resolved)
{
    if (n < 1 || !xs)
        return nb_error(NB_ERR_ARG, "%s: n is %d and xs is %s: expected an array of 1 or more tensors",
                        fn, n, xs ? "an array" : "NULL");
    for (int i = 0; i < n; i++)
        if (!xs[i]) {
            char what[32];
            snprintf(what, sizeof what, "xs[%d]", i);
            nb__null_input(fn, what);
            return NB_ERR_NULL;
        }
    const nb_tensor *x0 = xs[0];
    char s0[NB_SHAPE_BUF], si[NB_SHAPE_BUF];
    if (new_axis && x0->rank == NB_MAX_RANK)
        return nb_error(NB_ERR_SHAPE, "%s: xs[0] has shape %s (rank %d): the new axis would make rank %d, "
                        "above the maximum %d", fn, nb_shape_str(x0, s0, sizeof s0), x0->rank,
                        x0->rank + 1, NB_MAX_RANK);
    nb_status s = nb__resolve_axis(fn, "xs[0]", x0, axis, x0->rank + new_axis, resolved);
    if (s != NB_OK)
        return s;
    for (int i = 1; i < n; i++) {
        const nb_tensor *x = xs[i];
        if (x->dtype != x0->dtype)
            return nb_error(NB_ERR_DTYPE, "%s: xs[%d] is %s but xs[0] is %s: expected the same dtype",
                            fn, i, nb_dtype_name(x->dtype), nb_dtype_name(x0->dtype));
        bool fits = x->rank == x0->rank;
        for (int d = 0; fits && d < x->rank; d++)
            fits = x->shape[d] == x0->shape[d] || (!new_axis && d == *resolved);
        if (!fits && new_axis)
            return nb_error(NB_ERR_SHAPE, "%s: xs[%d] has shape %s but xs[0] has %s: expected the same shape",
                            fn, i, nb_shape_str(x, si, sizeof si), nb_shape_str(x0, s0, sizeof s0));
        if (!fits)
            return nb_error(NB_ERR_SHAPE, "%s: xs[%d] has shape %s but xs[0] has %s: expected the same rank "
                            "and the same sizes off axis %d", fn, i, nb_shape_str(x, si, sizeof si),
                            nb_shape_str(x0, s0, sizeof s0), *resolved);
    }
    return NB_OK;
}

/* Join checked inputs. An op takes at most NB_MAX_INPUTS inputs, so more
 * are joined in groups of up to that many, and the groups' results joined in
 * turn (in groups again while there are more than NB_MAX_INPUTS of them).
 * Without a tape the groups' results are freed here. */
static nb_tensor *concat_checked(nb_tape *tape, int n, nb_tensor *const xs[], int axis)
{
    concat_attrs attrs = {axis};
    if (n <= NB_MAX_INPUTS)
        return nb_op_apply(tape, &concat_ops[n - 1], n, xs, &attrs, sizeof attrs);
    int groups = (n + NB_MAX_INPUTS - 1) / NB_MAX_INPUTS, made = 0;
    nb_tensor **parts = nb_alloc((size_t)groups * sizeof *parts);
    if (!parts) {
        nb_error(NB_ERR_NOMEM, "nb_concat: out of memory for %d groups of inputs", groups);
        return NULL;
    }
    for (; made < groups; made++) {
        int first = made * NB_MAX_INPUTS, left = n - first;
        parts[made] = concat_checked(tape, left < NB_MAX_INPUTS ? left : NB_MAX_INPUTS,
                                     xs + first, axis);
        if (!parts[made])
            break;
    }
    nb_tensor *out = made == groups ? concat_checked(tape, groups, parts, axis) : NULL;
    for (int i = 0; !tape && i < made; i++)
        nb_tensor_free(parts[i]);
    nb_release(parts);
    return out;
}

nb_tensor *nb_concat(nb_tape *tape, int n, nb_tensor *const xs[], int axis)
{
    int resolved = 0;
    if (check_join("nb_concat", n, xs, axis, false, &resolved) != NB_OK)
        return NULL;
    return concat_checked(tape, n, xs, resolved);
}

/* ---- stack: expand_dims, then concat ----------------------------------- */

nb_tensor *nb_stack(nb_tape *tape, int n, nb_tensor *const xs[], int axis)
{
    int at = 0;
    if (check_join("nb_stack", n, xs, axis, true, &at) != NB_OK)
        return NULL;
    nb_tensor **expanded = nb_alloc((size_t)n * sizeof *expanded);
    if (!expanded) {
        nb_error(NB_ERR_NOMEM, "nb_stack: out of memory for %d tensors", n);
        return NULL;
    }
    int made = 0;
    for (; made < n; made++)
        if (!(expanded[made] = nb_expand_dims(tape, xs[made], at)))
            break;
    nb_tensor *out = made == n ? concat_checked(tape, n, expanded, at) : NULL;
    for (int i = 0; !tape && i < made; i++)
        nb_tensor_free(expanded[i]);
    nb_release(expanded);
    return out;
}
