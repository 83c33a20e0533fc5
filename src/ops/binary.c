/* Binary elementwise arithmetic with NumPy broadcasting: add, sub, mul, div,
 * maximum, minimum, pow.
 *
 * The output is walked row by row (broadcast_iter.h). Equal shapes are one
 * row of every element, so they run the same flat loop as before
 * broadcasting existed (the training hot path); a broadcast input is read at
 * step 0 along the row. Backward adds each output element's share into the
 * input element it was read from, which sums the gradient over the
 * stretched axes: d/da is reduced back to a's own shape. */
#include <stdio.h>

#include "ops/broadcast.h"
#include "ops/broadcast_iter.h"
#include "ops/ops_internal.h"

static nb_status binary_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_same_dtype(node);
    if (s != NB_OK)
        return s;
    const nb_tensor *a = node->inputs[0], *b = node->inputs[1];
    *dtype = a->dtype;
    if (nb_same_shape(a, b)) /* the common case, without formatting a name */
        return nb_infer_same_as_input(node, dtype, rank, shape);
    char fn[32];
    snprintf(fn, sizeof fn, "nb_%s", node->op->name);
    return nb__broadcast_shape(fn, a->rank, a->shape, b->rank, b->shape, rank, shape);
}

/* ys[j] = FWD along one row of n, a and b read at steps sa and sb (1 or 0).
 * Each case is written out so that it is a plain loop that vectorises. */
#define ROW_FORWARD(T, FWD)                                                                  \
    do {                                                                                     \
        if (sa && sb) {                                                                      \
            for (int64_t j = 0; j < n; j++) {                                                \
                const T a = ap[j], b = bp[j];                                                \
                ys[j] = (T)(FWD);                                                            \
            }                                                                                \
        } else if (sa) {                                                                     \
            const T b = *bp;                                                                 \
            for (int64_t j = 0; j < n; j++) {                                                \
                const T a = ap[j];                                                           \
                ys[j] = (T)(FWD);                                                            \
            }                                                                                \
        } else if (sb) {                                                                     \
            const T a = *ap;                                                                 \
            for (int64_t j = 0; j < n; j++) {                                                \
                const T b = bp[j];                                                           \
                ys[j] = (T)(FWD);                                                            \
            }                                                                                \
        } else {                                                                             \
            const T a = *ap, b = *bp, y = (T)(FWD);                                          \
            for (int64_t j = 0; j < n; j++)                                                  \
                ys[j] = y;                                                                   \
        }                                                                                    \
    } while (0)

#define BINARY_FORWARD(T, FWD)                                                               \
    do {                                                                                     \
        const T *as = node->inputs[0]->data, *bs = node->inputs[1]->data;                    \
        T *out = node->output->data;                                                         \
        const int64_t n = it.row_len, sa = it.step[0], sb = it.step[1];                      \
        for (int64_t r = 0; r < it.rows; r++, nb__bcast_iter_next(&it)) {                    \
            const T *ap = as + it.offset[0], *bp = bs + it.offset[1];                        \
            T *ys = out + r * n;                                                             \
            ROW_FORWARD(T, FWD);                                                             \
        }                                                                                    \
    } while (0)

/* The element j of a row: a, b, the output y and its gradient g. */
#define ROW_ELEMENT(T, ja, jb)                                                               \
    const T a = ap[ja], b = bp[jb], y = ys[j], g = gs[j];                                    \
    (void)a;                                                                                 \
    (void)b;                                                                                 \
    (void)y

/* dst += EXPR for input `which`, at the element each output element was read
 * from: along the row where the input steps, summed into one element where
 * it was stretched (step 0). */
#define BINARY_GRAD(T, which, EXPR)                                                          \
    do {                                                                                     \
        T *dst = nb_node_input_grad(node, which);                                            \
        if (!dst)                                                                            \
            break;                                                                           \
        nb__bcast_iter it;                                                                   \
        nb__bcast_iter_init(&it, node, 2);                                                   \
        const T *as = node->inputs[0]->data, *bs = node->inputs[1]->data;                    \
        const T *out = node->output->data, *grad = node->output->grad;                       \
        const int64_t n = it.row_len, sa = it.step[0], sb = it.step[1];                      \
        for (int64_t r = 0; r < it.rows; r++, nb__bcast_iter_next(&it)) {                    \
            const T *ap = as + it.offset[0], *bp = bs + it.offset[1];                        \
            const T *ys = out + r * n, *gs = grad + r * n;                                   \
            T *dp = dst + it.offset[which];                                                  \
            if (sa && sb) {                                                                  \
                for (int64_t j = 0; j < n; j++) {                                            \
                    ROW_ELEMENT(T, j, j);                                                    \
                    dp[j] += (T)(EXPR);                                                      \
                }                                                                            \
            } else if (it.step[which]) {                                                     \
                for (int64_t j = 0; j < n; j++) {                                            \
                    ROW_ELEMENT(T, j * sa, j * sb);                                          \
                    dp[j] += (T)(EXPR);                                                      \
                }                                                                            \
            } else {                                                                         \
                T sum = 0;                                                                   \
                for (int64_t j = 0; j < n; j++) {                                            \
                    ROW_ELEMENT(T, j * sa, j * sb);                                          \
                    sum += (T)(EXPR);                                                        \
                }                                                                            \
                *dp += sum;                                                                  \
            }                                                                                \
        }                                                                                    \
    } while (0)

#define DEFINE_BINARY_FORWARD(op_name, FWD)                                                  \
    static nb_status op_name##_forward(nb_node *node)                                        \
    {                                                                                        \
        nb__bcast_iter it;                                                                   \
        nb__bcast_iter_init(&it, node, 2);                                                   \
        if (node->output->dtype == NB_F32)                                                   \
            BINARY_FORWARD(float, FWD);                                                      \
        else                                                                                 \
            BINARY_FORWARD(double, FWD);                                                     \
        return NB_OK;                                                                        \
    }

/* Define <name>_op: y = FWD(a, b); da += DA(a, b, y, g); db += DB(a, b, y, g)
 * on elements; and the vjp, the same derivatives in ops on the tensors a, b,
 * y and g: da = VA, db = VB, each summed back to its input's shape. */
#define DEFINE_BINARY_OP(op_name, FWD, DA, DB, VA, VB)                                       \
    DEFINE_BINARY_FORWARD(op_name, FWD)                                                      \
    static nb_status op_name##_backward(nb_node *node)                                       \
    {                                                                                        \
        if (node->output->dtype == NB_F32) {                                                 \
            BINARY_GRAD(float, 0, DA);                                                       \
            BINARY_GRAD(float, 1, DB);                                                       \
        } else {                                                                             \
            BINARY_GRAD(double, 0, DA);                                                      \
            BINARY_GRAD(double, 1, DB);                                                      \
        }                                                                                    \
        return NB_OK;                                                                        \
    }                                                                                        \
    static nb_status op_name##_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,         \
                                   nb_tensor *grad_in[])                                     \
    {                                                                                        \
        nb_tensor *a = node->inputs[0], *b = node->inputs[1], *y = node->output;             \
        (void)y;                                                                             \
        NB_VJP_INPUT(0, nb__sum_to(tape, (VA), a));                                          \
        NB_VJP_INPUT(1, nb__sum_to(tape, (VB), b));                                          \
        return NB_OK;                                                                        \
    }                                                                                        \
    static const nb_op op_name##_op = {                                                      \
        .name = #op_name,                                                                    \
        .n_inputs = 2,                                                                       \
        .infer = binary_infer,                                                               \
        .forward = op_name##_forward,                                                        \
        .backward = op_name##_backward,                                                      \
        .overwrites_output = true,                                                           \
        .vjp = op_name##_vjp,                                                                \
    }

/* Define <name>_op, a constant y = FWD(a, b) with no backward: the share
 * of the gradient maximum and minimum give a, which their vjps multiply by
 * and which is not differentiated. */
#define DEFINE_BINARY_MASK_OP(op_name, FWD)                                                  \
    DEFINE_BINARY_FORWARD(op_name, FWD)                                                      \
    static const nb_op op_name##_op = {                                                      \
        .name = #op_name,                                                                    \
        .n_inputs = 2,                                                                       \
        .infer = binary_infer,                                                               \
        .forward = op_name##_forward,                                                        \
        .overwrites_output = true,                                                           \
    }

DEFINE_BINARY_MASK_OP(max_share, a > b ? 1 : a == b ? 0.5 : 0);
DEFINE_BINARY_MASK_OP(min_share, a < b ? 1 : a == b ? 0.5 : 0);
NB_DEFINE_MASK_OP(nonzero, x != 0 ? 1 : 0);
#define NONZERO(t) nb__apply_unary(tape, &nonzero_op, t, 0, 0)
#define SHARE(op, p, q) nb_op_apply(tape, &op##_op, 2, (nb_tensor *[]){p, q}, NULL, 0)
#define ZERO nb_tape_tensor(tape, g->dtype, 0, NULL)

DEFINE_BINARY_OP(add, a + b, g, g, g, g);
DEFINE_BINARY_OP(sub, a - b, g, -g, g, nb_neg(tape, g));
/* product rule */
DEFINE_BINARY_OP(mul, a * b, g * b, g * a, nb_mul(tape, g, b), nb_mul(tape, g, a));
/* quotient rule */
DEFINE_BINARY_OP(div, a / b, g / b, -g * a / (b * b), nb_div(tape, g, b),
                 nb_neg(tape, nb_div(tape, nb_mul(tape, g, a), nb_square(tape, b))));
/* d max(a, b) = 1 for the larger input, 1/2 each at a tie (as PyTorch); a
 * NaN in either input gives NaN */
DEFINE_BINARY_OP(maximum, a > b || a != a ? a : b, a > b ? g : a == b ? g / 2 : 0,
                 b > a ? g : a == b ? g / 2 : 0, nb_mul(tape, g, SHARE(max_share, a, b)),
                 nb_mul(tape, g, SHARE(max_share, b, a)));
DEFINE_BINARY_OP(minimum, a < b || a != a ? a : b, a < b ? g : a == b ? g / 2 : 0,
                 b < a ? g : a == b ? g / 2 : 0, nb_mul(tape, g, SHARE(min_share, a, b)),
                 nb_mul(tape, g, SHARE(min_share, b, a)));
/* g b a^(b-1), for pow's vjp */
static nb_tensor *pow_grad_a(nb_tape *tape, nb_tensor *g, nb_tensor *a, nb_tensor *b)
{
    return nb_mul(tape, g, nb_mul(tape, b, nb_pow(tape, a, nb_add_scalar(tape, b, -1))));
}

/* d/da a^b = b a^(b-1) (0 where b == 0); d/db a^b = a^b ln a = y ln a (0
 * where a == 0) */
DEFINE_BINARY_OP(pow, pow(a, b), b == 0 ? 0 : g * b * pow(a, b - 1),
                 a == 0 ? 0 : g * y * log(a),
                 nb_where(tape, NONZERO(b), pow_grad_a(tape, g, a, b), ZERO),
                 nb_where(tape, NONZERO(a), nb_mul(tape, g, nb_mul(tape, y, nb_log(tape, a))),
                          ZERO));

static nb_tensor *apply_binary(nb_tape *tape, const nb_op *op, nb_tensor *a, nb_tensor *b)
{
    return nb_op_apply(tape, op, 2, (nb_tensor *[]){a, b}, NULL, 0);
}

nb_tensor *nb_add(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &add_op, a, b); }
nb_tensor *nb_sub(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &sub_op, a, b); }
nb_tensor *nb_mul(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &mul_op, a, b); }
nb_tensor *nb_div(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &div_op, a, b); }

nb_tensor *nb_maximum(nb_tape *tape, nb_tensor *a, nb_tensor *b)
{
    return apply_binary(tape, &maximum_op, a, b);
}

nb_tensor *nb_minimum(nb_tape *tape, nb_tensor *a, nb_tensor *b)
{
    return apply_binary(tape, &minimum_op, a, b);
}

nb_tensor *nb_pow(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &pow_op, a, b); }
