/* Elementwise arithmetic: binary ops on equal shapes, and unary maths. */
#include "ops/ops_internal.h"

/* ---- unary: name, forward, backward (x input, y output, g upstream) ---- */

NB_DEFINE_UNARY_OP(neg, -x, -g);                  /* d/dx -x = -1 */
NB_DEFINE_UNARY_OP(scale, c * x, c * g);          /* d/dx cx = c */
NB_DEFINE_UNARY_OP(add_scalar, x + c, g);         /* d/dx (x + c) = 1 */
NB_DEFINE_UNARY_OP(exp, exp(x), g * y);           /* d/dx e^x = e^x = y */
NB_DEFINE_UNARY_OP(log, log(x), g / x);           /* d/dx ln x = 1/x */
NB_DEFINE_UNARY_OP(square, x * x, 2 * x * g);     /* d/dx x^2 = 2x */
NB_DEFINE_UNARY_OP(sqrt, sqrt(x), g / (2 * y));   /* d/dx sqrt x = 1 / (2 sqrt x) */
NB_DEFINE_UNARY_OP(abs, fabs(x), x > 0 ? g : x < 0 ? -g : 0); /* sign(x), 0 at 0 */
/* clip to [c, d]; the gradient passes where the input was inside */
NB_DEFINE_UNARY_OP(clip, x < c ? c : x > d ? d : x, x >= c && x <= d ? g : 0);

nb_tensor *nb_neg(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &neg_op, x, 0, 0); }

nb_tensor *nb_scale(nb_tape *tape, nb_tensor *x, double c)
{
    return nb__apply_unary(tape, &scale_op, x, c, 0);
}

nb_tensor *nb_add_scalar(nb_tape *tape, nb_tensor *x, double c)
{
    return nb__apply_unary(tape, &add_scalar_op, x, c, 0);
}

nb_tensor *nb_exp(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &exp_op, x, 0, 0); }

nb_tensor *nb_log(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &log_op, x, 0, 0); }

nb_tensor *nb_square(nb_tape *tape, nb_tensor *x)
{
    return nb__apply_unary(tape, &square_op, x, 0, 0);
}

nb_tensor *nb_sqrt(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &sqrt_op, x, 0, 0); }

nb_tensor *nb_abs(nb_tape *tape, nb_tensor *x) { return nb__apply_unary(tape, &abs_op, x, 0, 0); }

nb_tensor *nb_clip(nb_tape *tape, nb_tensor *x, double low, double high)
{
    if (!(low <= high)) {
        nb_error(NB_ERR_ARG, "nb_clip: low %g is greater than high %g", low, high);
        return NULL;
    }
    return nb__apply_unary(tape, &clip_op, x, low, high);
}

/* ---- binary on equal shapes -------------------------------------------- */

static nb_status binary_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    nb_status s = nb__require_same_shape(node);
    return s == NB_OK ? nb_infer_same_as_input(node, dtype, rank, shape) : s;
}

#define BINARY_LOOP(T, EXPR)                                                                 \
    do {                                                                                     \
        const T *as = node->inputs[0]->data, *bs = node->inputs[1]->data;                    \
        T *ys = node->output->data;                                                          \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const T a = as[i], b = bs[i];                                                    \
            ys[i] = EXPR;                                                                    \
        }                                                                                    \
    } while (0)

/* dst[i] += EXPR for one input's gradient, when that input wants one */
#define BINARY_GRAD_LOOP(T, which, EXPR)                                                     \
    do {                                                                                     \
        T *dst = nb_node_input_grad(node, which);                                            \
        if (!dst)                                                                            \
            break;                                                                           \
        const T *as = node->inputs[0]->data, *bs = node->inputs[1]->data;                    \
        const T *gs = node->output->grad;                                                    \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const T a = as[i], b = bs[i], g = gs[i];                                         \
            (void)a;                                                                         \
            (void)b;                                                                         \
            dst[i] += EXPR;                                                                  \
        }                                                                                    \
    } while (0)

/* Define <name>_op: y = FWD(a, b); da += DA(a, b, g); db += DB(a, b, g). */
#define DEFINE_BINARY_OP(op_name, FWD, DA, DB)                                                  \
    static nb_status op_name##_forward(nb_node *node)                                           \
    {                                                                                        \
        int64_t n = node->output->size;                                                      \
        if (node->output->dtype == NB_F32)                                                   \
            BINARY_LOOP(float, FWD);                                                         \
        else                                                                                 \
            BINARY_LOOP(double, FWD);                                                        \
        return NB_OK;                                                                        \
    }                                                                                        \
    static nb_status op_name##_backward(nb_node *node)                                          \
    {                                                                                        \
        int64_t n = node->output->size;                                                      \
        if (node->output->dtype == NB_F32) {                                                 \
            BINARY_GRAD_LOOP(float, 0, DA);                                                  \
            BINARY_GRAD_LOOP(float, 1, DB);                                                  \
        } else {                                                                             \
            BINARY_GRAD_LOOP(double, 0, DA);                                                 \
            BINARY_GRAD_LOOP(double, 1, DB);                                                 \
        }                                                                                    \
        return NB_OK;                                                                        \
    }                                                                                        \
    static const nb_op op_name##_op = {                                                         \
        .name = #op_name,                                                                       \
        .n_inputs = 2,                                                                       \
        .infer = binary_infer,                                                               \
        .forward = op_name##_forward,                                                           \
        .backward = op_name##_backward,                                                         \
        .overwrites_output = true,                                                           \
    }

DEFINE_BINARY_OP(add, a + b, g, g);
DEFINE_BINARY_OP(sub, a - b, g, -g);
DEFINE_BINARY_OP(mul, a * b, g * b, g * a);            /* product rule */
DEFINE_BINARY_OP(div, a / b, g / b, -g * a / (b * b)); /* quotient rule */

static nb_tensor *apply_binary(nb_tape *tape, const nb_op *op, nb_tensor *a, nb_tensor *b)
{
    return nb_op_apply(tape, op, 2, (nb_tensor *[]){a, b}, NULL, 0);
}

nb_tensor *nb_add(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &add_op, a, b); }
nb_tensor *nb_sub(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &sub_op, a, b); }
nb_tensor *nb_mul(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &mul_op, a, b); }
nb_tensor *nb_div(nb_tape *tape, nb_tensor *a, nb_tensor *b) { return apply_binary(tape, &div_op, a, b); }
