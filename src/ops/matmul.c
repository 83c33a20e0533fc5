/* Matrix product (with NumPy's batch dimensions) and row-broadcast bias, the
 * two ops of a dense layer. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "kernels/gemm.h"
#include "kernels/vec.h"
#include "ops/broadcast.h"
#include "ops/ops_internal.h"

/* ---- matmul: C[..., m, n] = A[..., m, k] B[..., k, n] ------------------ *
 * NumPy's matmul: the last two axes are the matrices; the axes before them
 * (the batch) broadcast. Two matrices take the plain GEMM path (the MNIST hot
 * path); a batch loops over its matrices calling the same kernel. */

/* The batch dims of a and b broadcast; the message names both full shapes. */
static nb_status matmul_batch_shape(const nb_tensor *a, const nb_tensor *b, int *rank,
                                    int64_t shape[NB_MAX_RANK])
{
    char sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF], fn[3 * NB_SHAPE_BUF];
    if (a->rank == 2 && b->rank == 2) {
        *rank = 0;
        return NB_OK;
    }
    snprintf(fn, sizeof fn, "nb_matmul: a is %s, b is %s: their batch dimensions",
             nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb));
    return nb__broadcast_shape(fn, a->rank - 2, a->shape, b->rank - 2, b->shape, rank, shape);
}

static nb_status matmul_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_same_dtype(node);
    if (s == NB_OK)
        s = nb__require_rank(node, 0, 2, NB_MAX_RANK);
    if (s == NB_OK)
        s = nb__require_rank(node, 1, 2, NB_MAX_RANK);
    if (s != NB_OK)
        return s;
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    int64_t m = a->shape[a->rank - 2], k = a->shape[a->rank - 1], n = b->shape[b->rank - 1];
    char sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
    if (k != b->shape[b->rank - 2])
        return nb_error(NB_ERR_SHAPE, "nb_matmul: inner dimensions differ: a is %s, b is %s",
                        nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb));
    /* cblas takes int dimensions */
    if (m > INT_MAX || k > INT_MAX || n > INT_MAX)
        return nb_error(NB_ERR_SHAPE, "nb_matmul: a is %s, b is %s: dimensions above %d are not supported",
                        nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb), INT_MAX);
    int batch_rank;
    s = matmul_batch_shape(a, b, &batch_rank, shape);
    if (s != NB_OK)
        return s;
    *dtype = a->dtype;
    *rank = batch_rank + 2;
    shape[batch_rank] = m;
    shape[batch_rank + 1] = n;
    return NB_OK;
}

/* Where the matrices of a batched product are: C's batch `i` (row-major over
 * C's batch dims) multiplies A's matrix at element offset a_offset(i) by B's
 * at b_offset(i); a stretched batch dim has stride 0, so several of C's
 * matrices read the same one of A or B. */
typedef struct matmul_batch {
    int64_t m, k, n, count;
    int rank; /* of the batch dims, 1 or 2 */
    int64_t shape[NB_MAX_RANK], a_stride[NB_MAX_RANK], b_stride[NB_MAX_RANK];
} matmul_batch;

static matmul_batch matmul_batch_of(const nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1], *c = node->output;
    matmul_batch mb = {.m = a->shape[a->rank - 2], .k = a->shape[a->rank - 1],
                       .n = b->shape[b->rank - 1], .count = 1, .rank = c->rank - 2};
    for (int d = 0; d < mb.rank; d++)
        mb.count *= mb.shape[d] = c->shape[d];
    nb__broadcast_strides(a->rank - 2, a->shape, mb.rank, mb.shape, mb.a_stride);
    nb__broadcast_strides(b->rank - 2, b->shape, mb.rank, mb.shape, mb.b_stride);
    for (int d = 0; d < mb.rank; d++) {
        mb.a_stride[d] *= mb.m * mb.k; /* in matrices -> in elements */
        mb.b_stride[d] *= mb.k * mb.n;
    }
    return mb;
}

static void matmul_batch_offsets(const matmul_batch *mb, int64_t i, int64_t *a_off,
                                 int64_t *b_off)
{
    *a_off = *b_off = 0;
    for (int d = mb->rank - 1; d >= 0; d--) {
        int64_t at = i % mb->shape[d];
        i /= mb->shape[d];
        *a_off += at * mb->a_stride[d];
        *b_off += at * mb->b_stride[d];
    }
}

#define MATMUL_BATCHED_FORWARD(T, gemm)                                                      \
    do {                                                                                     \
        const T *a = node->inputs[0]->data, *b = node->inputs[1]->data;                      \
        T *c = node->output->data;                                                           \
        for (int64_t i = 0; i < mb.count; i++) {                                             \
            int64_t ao, bo;                                                                  \
            matmul_batch_offsets(&mb, i, &ao, &bo);                                          \
            gemm(false, false, mb.m, mb.n, mb.k, 1, a + ao, mb.k, b + bo, mb.n, 0,           \
                 c + i * mb.m * mb.n, mb.n);                                                 \
        }                                                                                    \
    } while (0)

static nb_status matmul_forward(nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    nb_tensor *c = node->output;
    if (c->rank == 2) {
        int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
        if (c->dtype == NB_F32)
            nb__gemm_f32(false, false, m, n, k, 1.0f, a->data, k, b->data, n, 0.0f, c->data, n);
        else
            nb__gemm_f64(false, false, m, n, k, 1.0, a->data, k, b->data, n, 0.0, c->data, n);
        return NB_OK;
    }
    matmul_batch mb = matmul_batch_of(node);
    if (c->dtype == NB_F32)
        MATMUL_BATCHED_FORWARD(float, nb__gemm_f32);
    else
        MATMUL_BATCHED_FORWARD(double, nb__gemm_f64);
    return NB_OK;
}

/* Per batch, dA += dC B^T and dB += A^T dC. beta = 1 accumulates, so where
 * A's (or B's) batch dim was stretched its one matrix sums the gradients of
 * every product that read it: the sum over the broadcast dims. */
#define MATMUL_BATCHED_BACKWARD(T, gemm)                                                     \
    do {                                                                                     \
        const T *a = node->inputs[0]->data, *b = node->inputs[1]->data;                      \
        const T *g = node->output->grad;                                                     \
        T *dA = da, *dB = db;                                                                \
        for (int64_t i = 0; i < mb.count; i++) {                                             \
            int64_t ao, bo;                                                                  \
            const T *gi = g + i * mb.m * mb.n;                                               \
            matmul_batch_offsets(&mb, i, &ao, &bo);                                          \
            if (dA)                                                                          \
                gemm(false, true, mb.m, mb.k, mb.n, 1, gi, mb.n, b + bo, mb.n, 1, dA + ao,   \
                     mb.k);                                                                  \
            if (dB)                                                                          \
                gemm(true, false, mb.k, mb.n, mb.m, 1, a + ao, mb.k, gi, mb.n, 1, dB + bo,   \
                     mb.n);                                                                  \
        }                                                                                    \
    } while (0)

/* dA += dC B^T and dB += A^T dC, with transpose flags instead of copies */
static nb_status matmul_backward(nb_node *node)
{
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1], *c = node->output;
    void *da = nb_node_input_grad(node, 0);
    void *db = nb_node_input_grad(node, 1);
    if ((a->requires_grad && !da) || (b->requires_grad && !db))
        return NB_ERR_NOMEM;
    if (c->rank > 2) {
        matmul_batch mb = matmul_batch_of(node);
        if (c->dtype == NB_F32)
            MATMUL_BATCHED_BACKWARD(float, nb__gemm_f32);
        else
            MATMUL_BATCHED_BACKWARD(double, nb__gemm_f64);
        return NB_OK;
    }
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
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

/* The last two axes of t swapped: a batch of matrices transposed. */
static nb_tensor *transpose_matrices(nb_tape *tape, nb_tensor *t)
{
    int perm[NB_MAX_RANK] = {0, 1, 2, 3};
    perm[t->rank - 2] = t->rank - 1;
    perm[t->rank - 1] = t->rank - 2;
    return nb_transpose(tape, t, perm);
}

/* dA = dC B^T and dB = A^T dC, summed over the batch axes each broadcast */
static nb_status matmul_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    NB_VJP_INPUT(0, nb__sum_to(tape, nb_matmul(tape, g, transpose_matrices(tape, b)), a));
    NB_VJP_INPUT(1, nb__sum_to(tape, nb_matmul(tape, transpose_matrices(tape, a), g), b));
    return NB_OK;
}

static const nb_op matmul_op = {
    .name = "matmul",
    .n_inputs = 2,
    .infer = matmul_infer,
    .forward = matmul_forward,
    .backward = matmul_backward,
    .overwrites_output = true, /* beta = 0: the product never reads C */
    .vjp = matmul_vjp,
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

static nb_status add_bias_forward(nb_node *node)
{
    int64_t rows = node->output->shape[0], cols = node->output->shape[1];
    const void *x = node->inputs[0]->data, *bias = node->inputs[1]->data;
    if (node->output->dtype == NB_F32)
        nb__vec()->f32.add_rows(rows, cols, node->output->data, x, bias);
    else
        nb__vec()->f64.add_rows(rows, cols, node->output->data, x, bias);
    return NB_OK;
}

/* dx += g; dbias[j] += sum over rows of g[i, j] (vec.h's loops: each
 * vectorises along the row). */
#define ADD_BIAS_BACKWARD(T, k)                                                              \
    do {                                                                                     \
        const T *g = node->output->grad;                                                     \
        T *dx = nb_node_input_grad(node, 0), *db = nb_node_input_grad(node, 1);              \
        if (dx)                                                                              \
            k.accumulate(rows * cols, dx, g);                                                \
        if (db)                                                                              \
            k.accumulate_column_sums(rows, cols, db, g);                                     \
    } while (0)

static nb_status add_bias_backward(nb_node *node)
{
    int64_t rows = node->output->shape[0], cols = node->output->shape[1];
    if (node->output->dtype == NB_F32)
        ADD_BIAS_BACKWARD(float, nb__vec()->f32);
    else
        ADD_BIAS_BACKWARD(double, nb__vec()->f64);
    return NB_OK;
}

/* dx = g; dbias = g summed over the rows, in bias's shape */
static nb_status add_bias_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                              nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, g);
    NB_VJP_INPUT(1, nb__sum_to(tape, g, node->inputs[1]));
    return NB_OK;
}

static const nb_op add_bias_op = {
    .name = "add_bias",
    .n_inputs = 2,
    .infer = add_bias_infer,
    .forward = add_bias_forward,
    .backward = add_bias_backward,
    .overwrites_output = true,
    .vjp = add_bias_vjp,
};

nb_tensor *nb_add_bias(nb_tape *tape, nb_tensor *x, nb_tensor *bias)
{
    return nb_op_apply(tape, &add_bias_op, 2, (nb_tensor *[]){x, bias}, NULL, 0);
}
