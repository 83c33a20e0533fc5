/* Reshape and flatten: the same values, a new shape. */
#include <inttypes.h>
#include <string.h>

#include "ops/ops_internal.h"

typedef struct reshape_attrs {
    int rank;
    int64_t shape[NB_MAX_RANK]; /* may hold one -1, resolved by infer */
} reshape_attrs;

static nb_status reshape_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                               int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    const reshape_attrs *a = NB_ATTRS(node, reshape_attrs);
    char sx[NB_SHAPE_BUF], sn[NB_SHAPE_BUF];
    int64_t known = 1;
    int unknown = -1;
    for (int d = 0; d < a->rank; d++) {
        if (a->shape[d] == -1 && unknown < 0) {
            unknown = d;
            continue;
        }
        if (a->shape[d] <= 0)
            return nb_error(NB_ERR_SHAPE, "nb_reshape: new shape %s has dimension %" PRId64
                            " on axis %d: expected positive sizes and at most one -1",
                            nb__dims_str(a->rank, a->shape, sn, sizeof sn), a->shape[d], d);
        if (known > INT64_MAX / a->shape[d])
            known = INT64_MAX; /* cannot match x->size; reported below */
        else
            known *= a->shape[d];
    }
    memcpy(shape, a->shape, sizeof a->shape);
    if (unknown >= 0 && known > 0 && x->size % known == 0)
        shape[unknown] = x->size / known, known = x->size;
    if (known != x->size)
        return nb_error(NB_ERR_SHAPE, "nb_reshape: x of shape %s has %" PRId64
                        " elements; new shape %s does not hold that many",
                        nb_shape_str(x, sx, sizeof sx), x->size,
                        nb__dims_str(a->rank, a->shape, sn, sizeof sn));
    *dtype = x->dtype;
    *rank = a->rank;
    return NB_OK;
}

static nb_status reshape_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    memcpy(node->output->data, x->data, (size_t)x->size * nb_dtype_size(x->dtype));
    return NB_OK;
}


static nb_status reshape_backward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return NB_ERR_NOMEM;
    if (x->dtype == NB_F32) {
        const float *g = node->output->grad;
        for (int64_t i = 0; i < x->size; i++)
            ((float *)dx)[i] += g[i];
    } else {
        const double *g = node->output->grad;
        for (int64_t i = 0; i < x->size; i++)
            ((double *)dx)[i] += g[i];
    }
    return NB_OK;
}

/* dx = g in x's shape */
static nb_status reshape_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    const nb_tensor *x = node->inputs[0];
    NB_VJP_INPUT(0, nb_reshape(tape, g, x->rank, x->shape));
    return NB_OK;
}

static const nb_op reshape_op = {"reshape", 1, reshape_infer, reshape_forward, reshape_backward,
                                 true, reshape_vjp};

nb_tensor *nb_reshape(nb_tape *tape, nb_tensor *x, int rank, const int64_t *shape)
{
    if (rank < 0 || rank > NB_MAX_RANK || (rank > 0 && !shape)) {
        nb_error(NB_ERR_ARG, "nb_reshape: rank %d%s: expected 0 to %d with a shape", rank,
                 shape ? "" : " with a NULL shape", NB_MAX_RANK);
        return NULL;
    }
    reshape_attrs attrs = {rank, {1, 1, 1, 1}};
    for (int d = 0; d < rank; d++)
        attrs.shape[d] = shape[d];
    return nb_op_apply(tape, &reshape_op, 1, (nb_tensor *[]){x}, &attrs, sizeof attrs);
}

nb_tensor *nb_flatten(nb_tape *tape, nb_tensor *x)
{
    if (!x)
        return nb_reshape(tape, x, 2, (const int64_t[]){1, -1});
    if (x->rank < 1) {
        nb_error(NB_ERR_SHAPE, "nb_flatten: x is a scalar (rank 0): expected rank 1 or more, "
                 "with the batch on axis 0");
        return NULL;
    }
    return nb_reshape(tape, x, 2, (const int64_t[]){x->shape[0], -1});
}
