/* Helpers shared by the op families: input checks and loop templates.
 *
 * The templates write an elementwise op once, as expressions, and expand it
 * for f32 and f64. <tgmath.h> makes exp, log, tanh, sqrt and fabs pick the
 * float or double function from the argument, so one expression serves both.
 * In the expressions: x is the input element, y the output element, g the
 * upstream gradient element, c and d the op's scalar attributes. */
#ifndef NABLA_OPS_INTERNAL_H
#define NABLA_OPS_INTERNAL_H

#include <tgmath.h>

#include "internal.h"
#include "kernels/vec.h"
#include "nabla/ops.h"

/* Scalar attributes of elementwise ops (clip bounds, scale factor). */
typedef struct nb_scalar_attrs {
    double c, d;
} nb_scalar_attrs;

/* Errors for op inputs; each names the public function (nb_<op name>). */
nb_status nb__require_same_dtype(const nb_node *node);
nb_status nb__require_same_shape(const nb_node *node);
nb_status nb__require_rank(const nb_node *node, int input, int min_rank, int max_rank);

/* ---- unary elementwise template ---------------------------------------- */

#define NB__UNARY_LOOP(T, EXPR)                                                              \
    do {                                                                                     \
        const T *xs = in->data;                                                              \
        T *ys = out->data;                                                                   \
        const T c = (T)attrs.c, d = (T)attrs.d;                                              \
        (void)c;                                                                             \
        (void)d;                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const T x = xs[i];                                                               \
            ys[i] = (T)(EXPR);                                                               \
        }                                                                                    \
    } while (0)

#define NB__UNARY_GRAD_LOOP(T, EXPR)                                                         \
    do {                                                                                     \
        const T *xs = in->data, *ys = out->data, *gs = out->grad;                            \
        T *dx = grad_in;                                                                     \
        const T c = (T)attrs.c, d = (T)attrs.d;                                              \
        (void)c;                                                                             \
        (void)d;                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const T x = xs[i], y = ys[i], g = gs[i];                                         \
            (void)x;                                                                         \
            (void)y;                                                                         \
            dx[i] += (T)(EXPR);                                                              \
        }                                                                                    \
    } while (0)

#define NB__UNARY_FORWARD_FN(op_name, FWD)                                                   \
    static nb_status op_name##_forward(nb_node *node)                                        \
    {                                                                                        \
        const nb_tensor *in = node->inputs[0];                                               \
        nb_tensor *out = node->output;                                                       \
        nb_scalar_attrs attrs = node->attrs ? *NB_ATTRS(node, nb_scalar_attrs)               \
                                            : (nb_scalar_attrs){0, 0};                       \
        int64_t n = in->size;                                                                \
        if (in->dtype == NB_F32)                                                             \
            NB__UNARY_LOOP(float, FWD);                                                      \
        else                                                                                 \
            NB__UNARY_LOOP(double, FWD);                                                     \
        return NB_OK;                                                                        \
    }

/* The vjp and the nb_op of a unary op whose forward and backward are
 * defined (the tail of NB_DEFINE_UNARY_OP and NB_DEFINE_VEC_UNARY_OP). */
#define NB__UNARY_VJP_AND_OP(op_name, VJP)                                                   \
    static nb_status op_name##_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,         \
                                   nb_tensor *grad_in[])                                     \
    {                                                                                        \
        nb_tensor *x = node->inputs[0], *y = node->output;                                   \
        nb_scalar_attrs attrs = node->attrs ? *NB_ATTRS(node, nb_scalar_attrs)               \
                                            : (nb_scalar_attrs){0, 0};                       \
        const double c = attrs.c, d = attrs.d;                                               \
        (void)tape, (void)x, (void)y, (void)c, (void)d;                                      \
        grad_in[0] = (VJP);                                                                  \
        return grad_in[0] ? NB_OK : nb__vjp_failed();                                        \
    }                                                                                        \
    static const nb_op op_name##_op = {                                                      \
        .name = #op_name,                                                                    \
        .n_inputs = 1,                                                                       \
        .infer = nb_infer_same_as_input,                                                     \
        .forward = op_name##_forward,                                                        \
        .backward = op_name##_backward,                                                      \
        .overwrites_output = true,                                                           \
        .vjp = op_name##_vjp,                                                                \
    }

/* Define <name>_op with forward y = FWD(x), backward dx += BWD(x, y, g) on
 * elements, and vjp dx = VJP(x, y, g) written in ops on tensors (tape, the
 * scalars c and d at hand): the same derivative twice, the second form
 * differentiable again. */
#define NB_DEFINE_UNARY_OP(op_name, FWD, BWD, VJP)                                           \
    NB__UNARY_FORWARD_FN(op_name, FWD)                                                       \
    static nb_status op_name##_backward(nb_node *node)                                       \
    {                                                                                        \
        const nb_tensor *in = node->inputs[0];                                               \
        const nb_tensor *out = node->output;                                                 \
        void *grad_in = nb_node_input_grad(node, 0);                                         \
        if (!grad_in)                                                                        \
            return in->requires_grad ? NB_ERR_NOMEM : NB_OK;                                 \
        nb_scalar_attrs attrs = node->attrs ? *NB_ATTRS(node, nb_scalar_attrs)               \
                                            : (nb_scalar_attrs){0, 0};                       \
        int64_t n = in->size;                                                                \
        if (in->dtype == NB_F32)                                                             \
            NB__UNARY_GRAD_LOOP(float, BWD);                                                 \
        else                                                                                 \
            NB__UNARY_GRAD_LOOP(double, BWD);                                                \
        return NB_OK;                                                                        \
    }                                                                                        \
    NB__UNARY_VJP_AND_OP(op_name, VJP)

/* Define <name>_op as NB_DEFINE_UNARY_OP does, with the element loops
 * vec.h's <name> (y = f(x)) and <name>_grad (dx += f'(x) g), compiled for
 * each CPU level and picked at run time (src/kernels/dispatch.c): for the
 * unary ops a training step spends its time in. */
#define NB_DEFINE_VEC_UNARY_OP(op_name, VJP)                                                 \
    static nb_status op_name##_forward(nb_node *node)                                        \
    {                                                                                        \
        const nb_tensor *in = node->inputs[0];                                               \
        if (in->dtype == NB_F32)                                                             \
            nb__vec()->f32.op_name(in->size, node->output->data, in->data);                  \
        else                                                                                 \
            nb__vec()->f64.op_name(in->size, node->output->data, in->data);                  \
        return NB_OK;                                                                        \
    }                                                                                        \
    static nb_status op_name##_backward(nb_node *node)                                       \
    {                                                                                        \
        const nb_tensor *in = node->inputs[0];                                               \
        void *grad_in = nb_node_input_grad(node, 0);                                         \
        if (!grad_in)                                                                        \
            return in->requires_grad ? NB_ERR_NOMEM : NB_OK;                                 \
        if (in->dtype == NB_F32)                                                             \
            nb__vec()->f32.op_name##_grad(in->size, grad_in, in->data, node->output->grad);  \
        else                                                                                 \
            nb__vec()->f64.op_name##_grad(in->size, grad_in, in->data, node->output->grad);  \
        return NB_OK;                                                                        \
    }                                                                                        \
    NB__UNARY_VJP_AND_OP(op_name, VJP)

/* Define <name>_op, a constant y = FWD(x) with no backward: masks and
 * derivatives a vjp multiplies by, which are not differentiated (their
 * results never require a gradient). */
#define NB_DEFINE_MASK_OP(op_name, FWD)                                                      \
    NB__UNARY_FORWARD_FN(op_name, FWD)                                                       \
    static const nb_op op_name##_op = {                                                      \
        .name = #op_name,                                                                    \
        .n_inputs = 1,                                                                       \
        .infer = nb_infer_same_as_input,                                                     \
        .forward = op_name##_forward,                                                        \
        .overwrites_output = true,                                                           \
    }

/* ---- vjps: backward as ops (nb_op.vjp) ----------------------------------- */

/* The status for a vjp whose op returned NULL: the op's own error. */
nb_status nb__vjp_failed(void);

/* Set grad_in[i] = EXPR when input i requires a gradient (one line per
 * input, as PyTorch's derivatives.yaml); return the error when it fails. */
#define NB_VJP_INPUT(i, EXPR)                                                                \
    do {                                                                                     \
        if (node->inputs[i]->requires_grad && !(grad_in[i] = (EXPR)))                        \
            return nb__vjp_failed();                                                         \
    } while (0)

/* g, of a shape `like` broadcasts to, summed back to like's shape: over the
 * leading axes like lacks and, keeping them, the axes where like has 1. The
 * vjp of every broadcasting op. */
nb_tensor *nb__sum_to(nb_tape *tape, nb_tensor *g, const nb_tensor *like);

/* Apply a unary op with optional scalar attributes. */
nb_tensor *nb__apply_unary(nb_tape *tape, const nb_op *op, nb_tensor *x, double c, double d);

#endif
