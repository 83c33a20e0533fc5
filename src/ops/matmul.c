/* Matrix product and row-broadcast bias, the two ops of a dense layer. */
#include <inttypes.h>
#include <limits.h>

#include "kernels/gemm.h"
#include "ops/ops_internal.h"

/* ---- matmul: C[m, n] = A[m, k] B[k, n] ---------------------------------- */

static nb_status matmul_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_same_dtype(node);
    if (s == NB_OK)
        s = nb__require_rank(node, 0, 2, 2);
    if (s == NB_OK)
        s = nb__require_rank(node, 1, 2, 2);
    if (s != NB_OK)
        return s;
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    char sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
    if (a->shape[1] != b->shape[0])
        return nb_error(NB_ERR_SHAPE, "nb_matmul: inner dimensions differ: a is %s, b is %s",
                        nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb));
    /* cblas takes int dimensions */
    if (a->shape[0] > INT_MAX || a->shape[1] > INT_MAX || b->shape[1] > INT_MAX)
        return nb_error(NB_ERR_SHAPE, "nb_matmul: a is %s, b is %s: dimensions above %d are not supported",
                        nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb), INT_MAX);
    *dtype = a->dtype;
    *rank = 2;
    shape[0] = a->shape[0];
    shape[1] = b->shape[1];
    return NB_OK;
}

static nb_status matmul_forward(nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    nb_tensor *c = node->output;
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    if (c->dtype == NB_F32)
        nb__gemm_f32(false, false, m, n, k, 1.0f, a->data, k, b->data, n, 0.0f, c->data, n);
    else
        nb__gemm_f64(false, false, m, n, k, 1.0, a->data, k, b->data, n, 0.0, c->data, n);
    return NB_OK;
}

/* dA += dC B^T and dB += A^T dC, with transpose flags instead of copies */
static nb_status matmul_backward(nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1], *c = node->output;
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    void *da = nb_node_input_grad(node, 0);
    void *db = nb_node_input_grad(node, 1);
    if ((a->requires_grad && !da) || (b->requires_grad && !db))
        return NB_ERR_NOMEM;
    if (c->dtype == NB_F32) {
        if (da)
            nb__gemm_f32(false, true, m, k, n, 1.0f, c->grad, n, b->data, n, 1.0f, da, k);
        if (db)
            nb__gemm_f32(true, false, k, n, m, 1.0f, a->data, k, c->grad, n, 1.0f, db, n);
    } else {
        if (da)
            nb__gemm_f64(false, true, m, k, n, 1.0, c->grad, n, b->data, n, 1.0, da, k);
        if (db)
            nb__gemm_f64(true, false, k, n, m, 1.0, a->data, k, c->grad, n, 1.0, db, n);
    }
    return NB_OK;
}

static const nb_op matmul_op = {
    .name = "matmul",
    .n_inputs = 2,
    .infer = matmul_infer,
    .forward = matmul_forward,
    .backward = matmul_backward,
    .overwrites_output = true, /* beta = 0: the product never reads C */
};

nb_tensor *nb_matmul(nb_tape *tape, nb_tensor *a, nb_tensor *b)
{
    return nb_op_apply(tape, &matmul_op, 2, (nb_tensor *[]){a, b}, NULL, 0);
}

/* ---- add_bias: y[i, j] = x[i, j] + bias[j] ------------------------------ */

static nb_status add_bias_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                                int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_same_dtype(node);
    if (s == NB_OK)
        s = nb__require_rank(node, 0, 2, 2);
    if (s == NB_OK)
        s = nb__require_rank(node, 1, 1, 2);
    if (s != NB_OK)
        return s;
    const nb_tensor *x = node->inputs[0], *bias = node->inputs[1];
    bool row = bias->rank == 1 || bias->shape[0] == 1;
    if (!row || bias->size != x->shape[1]) {
        char sx[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE, "nb_add_bias: x is %s, bias is %s: expected bias [%" PRId64
                        "] or [1, %" PRId64 "]",
                        nb_shape_str(x, sx, sizeof sx), nb_shape_str(bias, sb, sizeof sb),
                        x->shape[1], x->shape[1]);
    }
    return nb_infer_same_as_input(node, dtype, rank, shape);
}

#define ADD_BIAS_FORWARD(T)                                                                  \
    do {                                                                                     \
        const T *x = node->inputs[0]->data, *bias = node->inputs[1]->data;                   \
        T *y = node->output->data;                                                           \
        for (int64_t i = 0; i < rows; i++)                                                   \
            for (int64_t j = 0; j < cols; j++)                                               \
                y[i * cols + j] = x[i * cols + j] + bias[j];                                 \
    } while (0)

static nb_status add_bias_forward(nb_node *node)
{
    int64_t rows = node->output->shape[0], cols = node->output->shape[1];
    if (node->output->dtype == NB_F32)
        ADD_BIAS_FORWARD(float);
    else
        ADD_BIAS_FORWARD(double);
    return NB_OK;
}

/* dx += g; dbias[j] += sum over rows of g[i, j]. Two branch-free loops, so
 * each vectorises along the row. */
#define ADD_BIAS_BACKWARD(T)                                                                 \
    do {                                                                                     \
        const T *g = node->output->grad;                                                     \
        T *dx = nb_node_input_grad(node, 0), *db = nb_node_input_grad(node, 1);              \
        for (int64_t i = 0; dx && i < rows * cols; i++)                                      \
            dx[i] += g[i];                                                                   \
        for (int64_t i = 0; db && i < rows; i++)                                             \
            for (int64_t j = 0; j < cols; j++)                                               \
                db[j] += g[i * cols + j];                                                    \
    } while (0)

static nb_status add_bias_backward(nb_node *node)
{
    int64_t rows = node->output->shape[0], cols = node->output->shape[1];
    if (node->output->dtype == NB_F32)
        ADD_BIAS_BACKWARD(float);
    else
        ADD_BIAS_BACKWARD(double);
    return NB_OK;
}

static const nb_op add_bias_op = {
    .name = "add_bias",
    .n_inputs = 2,
    .infer = add_bias_infer,
    .forward = add_bias_forward,
    .backward = add_bias_backward,
    .overwrites_output = true,
};

nb_tensor *nb_add_bias(nb_tape *tape, nb_tensor *x, nb_tensor *bias)
{
    return nb_op_apply(tape, &add_bias_op, 2, (nb_tensor *[]){x, bias}, NULL, 0);
}
