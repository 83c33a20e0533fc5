/* The convolution's backward as ops, so that a gradient through a
 * convolution can be differentiated again (nabla/op.h's vjp):
 *
 *   conv_input_grad(dy, k)  = col2im(dy K^T), of x's shape    (dx of y = conv(x, k))
 *   conv_kernel_grad(x, dy) = im2col(x)^T dy, of k's shape    (dk)
 *
 * Their forwards are conv.c's backward products (conv_internal.h). Both are
 * linear in each input, as the convolution is, so their own derivatives are
 * the convolution and each other again, and the algebra closes:
 *
 *   d conv_input_grad(dy, k) with upstream u:  ddy = conv(u, k),
 *                                              dk  = conv_kernel_grad(u, dy)
 *   d conv_kernel_grad(x, dy) with upstream v: dx  = conv_input_grad(dy, v),
 *                                              ddy = conv(x, v)
 *
 * (<u, col2im(dy K^T)> = <im2col(u) K, dy> = tr(im2col(u)^T dy K^T), and
 * <v, im2col(x)^T dy> = <im2col(x) v, dy> = <im2col(x), dy v^T>.) Internal:
 * only the vjps apply them, with the geometry of a convolution infer has
 * checked. */
#include <inttypes.h>

#include "ops/conv_internal.h"

/* x's shape: the output shape's rule (nb__window_out_shape) given the
 * input's sizes */
static nb_status input_grad_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                                  int64_t shape[NB_MAX_RANK])
{
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    *dtype = node->inputs[0]->dtype;
    nb__window_out_shape(&c->attrs, &(nb_window){.n = c->g.n, .oh = c->g.h, .ow = c->g.w},
                         c->g.c, rank, shape);
    return NB_OK;
}

/* [kh, kw, c, f], or [kw, c, f] for a sequence */
static nb_status kernel_grad_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                                   int64_t shape[NB_MAX_RANK])
{
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    *dtype = node->inputs[0]->dtype;
    *rank = 0;
    if (c->attrs.spatial == 2)
        shape[(*rank)++] = c->g.kh;
    shape[(*rank)++] = c->g.kw;
    shape[(*rank)++] = c->g.c;
    shape[(*rank)++] = c->filters;
    return NB_OK;
}

static nb_status out_of_memory(const nb_node *node)
{
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    return nb_error(NB_ERR_NOMEM, "%s: out of memory for the %s of %" PRId64 " x %" PRId64
                    " taps", c->attrs.fn, node->op->name, c->g.n * c->g.oh * c->g.ow,
                    c->g.kh * c->g.kw * c->g.c);
}

/* ---- conv_input_grad(dy, k) = col2im(dy K^T) ------------------------------ */

static nb_status input_grad_forward(nb_node *node)
{
    const nb_tensor *dy = node->inputs[0], *k = node->inputs[1];
    nb_status s = nb__conv_add_input_grad(node, NB_ATTRS(node, nb_conv_geometry),
                                          dy->dtype == NB_F64, dy->data, k->data,
                                          node->output->data);
    return s == NB_OK ? NB_OK : out_of_memory(node);
}

/* With u the output's gradient: ddy += im2col(u) K, dK += im2col(u)^T dy */
static nb_status input_grad_backward(nb_node *node)
{
    const nb_tensor *dy = node->inputs[0], *k = node->inputs[1];
    void *ddy = nb_node_input_grad(node, 0), *dk = nb_node_input_grad(node, 1);
    if ((dy->requires_grad && !ddy) || (k->requires_grad && !dk))
        return NB_ERR_NOMEM;
    if (!ddy && !dk)
        return NB_OK;
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    bool f64 = dy->dtype == NB_F64;
    const void *col = nb__im2col(node, c, f64, node->output->grad);
    if (!col)
        return out_of_memory(node);
    if (ddy)
        nb__conv_gemm(c, f64, col, k->data, 1.0, ddy);
    if (dk)
        nb__conv_add_kernel_grad(c, f64, col, dy->data, dk);
    return NB_OK;
}

static nb_status input_grad_vjp(nb_tape *tape, const nb_node *node, nb_tensor *u,
                                nb_tensor *grad_in[])
{
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    nb_tensor *dy = node->inputs[0], *k = node->inputs[1];
    NB_VJP_INPUT(0, nb__conv(tape, c, u, k));
    NB_VJP_INPUT(1, nb__conv_kernel_grad(tape, c, u, dy));
    return NB_OK;
}

/* forward adds into the output, which nabla zeroes first */
static const nb_op conv_input_grad_op = {"conv_input_grad", 2, input_grad_infer,
                                         input_grad_forward, input_grad_backward, false,
                                         input_grad_vjp};

nb_tensor *nb__conv_input_grad(nb_tape *tape, const nb_conv_geometry *c, nb_tensor *dy,
                               nb_tensor *k)
{
    return nb_op_apply(tape, &conv_input_grad_op, 2, (nb_tensor *[]){dy, k}, c, sizeof *c);
}

/* ---- conv_kernel_grad(x, dy) = im2col(x)^T dy ----------------------------- */

static nb_status kernel_grad_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0], *dy = node->inputs[1];
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    bool f64 = x->dtype == NB_F64;
    const void *col = nb__im2col(node, c, f64, x->data);
    if (!col)
        return out_of_memory(node);
    node->saved = (void *)col; /* read only: backward's col */
    nb__conv_add_kernel_grad(c, f64, col, dy->data, node->output->data);
    return NB_OK;
}

/* With v the output's gradient: dx += col2im(dy v^T), ddy += im2col(x) v */
static nb_status kernel_grad_backward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0], *dy = node->inputs[1];
    void *dx = nb_node_input_grad(node, 0), *ddy = nb_node_input_grad(node, 1);
    if ((x->requires_grad && !dx) || (dy->requires_grad && !ddy))
        return NB_ERR_NOMEM;
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    bool f64 = x->dtype == NB_F64;
    const void *v = node->output->grad;
    if (ddy)
        nb__conv_gemm(c, f64, node->saved, v, 1.0, ddy);
    if (dx && nb__conv_add_input_grad(node, c, f64, dy->data, v, dx) != NB_OK)
        return out_of_memory(node);
    return NB_OK;
}

static nb_status kernel_grad_vjp(nb_tape *tape, const nb_node *node, nb_tensor *v,
                                 nb_tensor *grad_in[])
{
    const nb_conv_geometry *c = NB_ATTRS(node, nb_conv_geometry);
    nb_tensor *x = node->inputs[0], *dy = node->inputs[1];
    NB_VJP_INPUT(0, nb__conv_input_grad(tape, c, dy, v));
    NB_VJP_INPUT(1, nb__conv(tape, c, x, v));
    return NB_OK;
}

/* forward adds into the output, which nabla zeroes first */
static const nb_op conv_kernel_grad_op = {"conv_kernel_grad", 2, kernel_grad_infer,
                                          kernel_grad_forward, kernel_grad_backward, false,
                                          kernel_grad_vjp};

nb_tensor *nb__conv_kernel_grad(nb_tape *tape, const nb_conv_geometry *c, nb_tensor *x,
                                nb_tensor *dy)
{
    return nb_op_apply(tape, &conv_kernel_grad_op, 2, (nb_tensor *[]){x, dy}, c, sizeof *c);
}
