/* where and broadcast_to: ops that pick or repeat elements under NumPy's
 * broadcasting (broadcast.h), walked row by row (broadcast_iter.h). */
#include <inttypes.h>
#include <string.h>

#include "ops/broadcast.h"
#include "ops/broadcast_iter.h"
#include "ops/ops_internal.h"

/* ---- where(cond, a, b) ------------------------------------------------------ */

enum { WHERE_COND, WHERE_A, WHERE_B };

/* a and b broadcast first (the helper's message names them as a and b), then
 * cond against their common shape. */
static nb_status where_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                             int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_same_dtype(node);
    if (s != NB_OK)
        return s;
    const nb_tensor *cond = node->inputs[WHERE_COND], *a = node->inputs[WHERE_A],
                    *b = node->inputs[WHERE_B];
    int ab_rank;
    int64_t ab[NB_MAX_RANK];
    s = nb__broadcast_shape("nb_where", a->rank, a->shape, b->rank, b->shape, &ab_rank, ab);
    if (s != NB_OK)
        return s;
    s = nb__broadcast_shape("nb_where", cond->rank, cond->shape, ab_rank, ab, rank, shape);
    if (s != NB_OK) {
        char sc[NB_SHAPE_BUF], sab[NB_SHAPE_BUF], sa[NB_SHAPE_BUF], sb[NB_SHAPE_BUF];
        return nb_error(NB_ERR_SHAPE,
                        "nb_where: cond of shape %s cannot be broadcast with %s, the shape a %s "
                        "and b %s broadcast to: expected cond's dimensions, aligned from the "
                        "right, to be equal to those or 1",
                        nb_shape_str(cond, sc, sizeof sc), nb__dims_str(ab_rank, ab, sab, sizeof sab),
                        nb_shape_str(a, sa, sizeof sa), nb_shape_str(b, sb, sizeof sb));
    }
    *dtype = a->dtype;
    return NB_OK;
}

#define WHERE_FORWARD(T)                                                                     \
    do {                                                                                     \
        const T *cs = node->inputs[WHERE_COND]->data, *as = node->inputs[WHERE_A]->data;     \
        const T *bs = node->inputs[WHERE_B]->data;                                           \
        T *out = node->output->data;                                                         \
        const int64_t n = it.row_len, sc = it.step[WHERE_COND], sa = it.step[WHERE_A];       \
        const int64_t sb = it.step[WHERE_B];                                                 \
        for (int64_t r = 0; r < it.rows; r++, nb__bcast_iter_next(&it)) {                    \
            const T *cp = cs + it.offset[WHERE_COND], *ap = as + it.offset[WHERE_A];         \
            const T *bp = bs + it.offset[WHERE_B];                                           \
            T *ys = out + r * n;                                                             \
            for (int64_t j = 0; j < n; j++)                                                  \
                ys[j] = cp[j * sc] != 0 ? ap[j * sa] : bp[j * sb];                           \
        }                                                                                    \
    } while (0)

static nb_status where_forward(nb_node *node)
{
    nb__bcast_iter it;
    nb__bcast_iter_init(&it, node, 3);
    if (node->output->dtype == NB_F32)
        WHERE_FORWARD(float);
    else
        WHERE_FORWARD(double);
    return NB_OK;
}

/* d/da where(c, a, b) = c != 0; d/db = c == 0. Input `which` (WHERE_A or
 * WHERE_B) gets g where the condition picked it, summed where it was
 * stretched. */
#define WHERE_GRAD(T, which)                                                                 \
    do {                                                                                     \
        T *dst = nb_node_input_grad(node, which);                                            \
        if (!dst)                                                                            \
            break;                                                                           \
        nb__bcast_iter it;                                                                   \
        nb__bcast_iter_init(&it, node, 3);                                                   \
        const T *cs = node->inputs[WHERE_COND]->data, *grad = node->output->grad;            \
        const bool picked_when = (which) == WHERE_A;                                         \
        const int64_t n = it.row_len, sc = it.step[WHERE_COND], sd = it.step[which];         \
        for (int64_t r = 0; r < it.rows; r++, nb__bcast_iter_next(&it)) {                    \
            const T *cp = cs + it.offset[WHERE_COND], *gs = grad + r * n;                    \
            T *dp = dst + it.offset[which];                                                  \
            for (int64_t j = 0; j < n; j++)                                                  \
                if ((cp[j * sc] != 0) == picked_when)                                        \
                    dp[j * sd] += gs[j];                                                     \
        }                                                                                    \
    } while (0)

/* cond is never differentiated: it only chooses */
static nb_status where_backward(nb_node *node)
{
    if (node->output->dtype == NB_F32) {
        WHERE_GRAD(float, WHERE_A);
        WHERE_GRAD(float, WHERE_B);
    } else {
        WHERE_GRAD(double, WHERE_A);
        WHERE_GRAD(double, WHERE_B);
    }
    return NB_OK;
}

/* The same in ops: a gets g where cond picked it, b the rest, each summed
 * back to its shape; zero is a constant scalar that broadcasts. */
static nb_status where_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    nb_tensor *cond = node->inputs[WHERE_COND], *zero = nb_tape_tensor(tape, g->dtype, 0, NULL);
    NB_VJP_INPUT(WHERE_A, nb__sum_to(tape, nb_where(tape, cond, g, zero), node->inputs[WHERE_A]));
    NB_VJP_INPUT(WHERE_B, nb__sum_to(tape, nb_where(tape, cond, zero, g), node->inputs[WHERE_B]));
    return NB_OK;
}

static const nb_op where_op = {"where", 3, where_infer, where_forward, where_backward, true,
                               where_vjp};

nb_tensor *nb_where(nb_tape *tape, nb_tensor *cond, nb_tensor *a, nb_tensor *b)
{
    return nb_op_apply(tape, &where_op, 3, (nb_tensor *[]){cond, a, b}, NULL, 0);
}

/* ---- broadcast_to(x, shape) ------------------------------------------------- */

typedef struct broadcast_to_attrs {
    int rank;
    int64_t shape[NB_MAX_RANK];
} broadcast_to_attrs;

/* One way only, as NumPy's broadcast_to: x's dimensions, aligned from the
 * right, must equal the target's or be 1, and x may not have more axes. */
static nb_status broadcast_to_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                                    int64_t shape[NB_MAX_RANK])
{
    const nb_tensor *x = node->inputs[0];
    const broadcast_to_attrs *t = NB_ATTRS(node, broadcast_to_attrs);
    char sx[NB_SHAPE_BUF], st[NB_SHAPE_BUF];
    nb_shape_str(x, sx, sizeof sx);
    nb__dims_str(t->rank, t->shape, st, sizeof st);
    if (x->rank > t->rank)
        return nb_error(NB_ERR_SHAPE, "nb_broadcast_to: x of shape %s has rank %d but the shape "
                        "%s has rank %d: expected x to have at most as many axes",
                        sx, x->rank, st, t->rank);
    for (int k = 1; k <= x->rank; k++) {
        int64_t dx = x->shape[x->rank - k], dt = t->shape[t->rank - k];
        if (dx != dt && dx != 1)
            return nb_error(NB_ERR_SHAPE, "nb_broadcast_to: x of shape %s cannot be broadcast "
                            "to %s: dimension %d is %" PRId64 " in x and %" PRId64
                            " in the shape (aligned from the right): expected equal sizes or 1 "
                            "in x", sx, st, t->rank - k, dx, dt);
    }
    *dtype = x->dtype;
    *rank = t->rank;
    memcpy(shape, t->shape, sizeof t->shape);
    return NB_OK;
}

#define BROADCAST_TO_FORWARD(T)                                                              \
    do {                                                                                     \
        const T *xs = node->inputs[0]->data;                                                 \
        T *out = node->output->data;                                                         \
        const int64_t n = it.row_len, sx = it.step[0];                                       \
        for (int64_t r = 0; r < it.rows; r++, nb__bcast_iter_next(&it)) {                    \
            const T *xp = xs + it.offset[0];                                                 \
            T *ys = out + r * n;                                                             \
            for (int64_t j = 0; j < n; j++)                                                  \
                ys[j] = xp[j * sx];                                                          \
        }                                                                                    \
    } while (0)

static nb_status broadcast_to_forward(nb_node *node)
{
    nb__bcast_iter it;
    nb__bcast_iter_init(&it, node, 1);
    if (node->output->dtype == NB_F32)
        BROADCAST_TO_FORWARD(float);
    else
        BROADCAST_TO_FORWARD(double);
    return NB_OK;
}

/* d/dx of a repeat: every copy's gradient adds into the element copied */
#define BROADCAST_TO_BACKWARD(T)                                                             \
    do {                                                                                     \
        T *dx = grad_in;                                                                     \
        const T *grad = node->output->grad;                                                  \
        const int64_t n = it.row_len, sx = it.step[0];                                       \
        for (int64_t r = 0; r < it.rows; r++, nb__bcast_iter_next(&it)) {                    \
            const T *gs = grad + r * n;                                                      \
            T *dp = dx + it.offset[0];                                                       \
            for (int64_t j = 0; j < n; j++)                                                  \
                dp[j * sx] += gs[j];                                                         \
        }                                                                                    \
    } while (0)

static nb_status broadcast_to_backward(nb_node *node)
{
    void *grad_in = nb_node_input_grad(node, 0);
    if (!grad_in)
        return NB_OK;
    nb__bcast_iter it;
    nb__bcast_iter_init(&it, node, 1);
    if (node->output->dtype == NB_F32)
        BROADCAST_TO_BACKWARD(float);
    else
        BROADCAST_TO_BACKWARD(double);
    return NB_OK;
}

/* dx = g summed over the repeated axes */
static nb_status broadcast_to_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                                  nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, nb__sum_to(tape, g, node->inputs[0]));
    return NB_OK;
}

static const nb_op broadcast_to_op = {"broadcast_to", 1, broadcast_to_infer,
                                      broadcast_to_forward, broadcast_to_backward, true,
                                      broadcast_to_vjp};

nb_tensor *nb_broadcast_to(nb_tape *tape, nb_tensor *x, int rank, const int64_t *shape)
{
    broadcast_to_attrs attrs = {rank, {1, 1, 1, 1}};
    if (x && nb__check_shape("nb_broadcast_to", rank, shape, NULL) != NB_OK)
        return NULL;
    if (x && rank > 0)
        memcpy(attrs.shape, shape, (size_t)rank * sizeof *shape);
    return nb_op_apply(tape, &broadcast_to_op, 1, (nb_tensor *[]){x}, &attrs, sizeof attrs);
}
