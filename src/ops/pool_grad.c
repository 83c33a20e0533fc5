/* The backward of each pooling as ops, so that a gradient through a pooling
 * can be differentiated again (nabla/op.h's vjp). Their forwards are the
 * backward loops of pool.c (nb__pool_pass):
 *
 *   avg_pool_input_grad(g)    = g spread over the windows, of x's shape
 *                               (average pooling's dx);
 *   max_pool_input_grad(x, g) = g scattered to each window's winner in x,
 *                               of x's shape (max pooling's dx);
 *   max_pool_gather(x, u)     = u at each window's winner, of the pooled
 *                               output's shape.
 *
 * All three are linear in their last input, and each one's derivative is
 * its transpose: average pooling for the first, and the gather and the
 * scatter for each other. Internal: only the vjps apply them, with the
 * geometry of a pooling infer has checked. */
#include <stdio.h>

#include "ops/pool_internal.h"

/* infer of the backward ops: x's shape (the output shape's rule given the
 * input's sizes), or the pooled output's */
static nb_status image_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                             int64_t shape[NB_MAX_RANK])
{
    const nb_pool_geometry *p = NB_ATTRS(node, nb_pool_geometry);
    *dtype = node->inputs[0]->dtype;
    nb__window_out_shape(&p->attrs, &(nb_window){.n = p->g.n, .oh = p->g.h, .ow = p->g.w},
                         p->g.c, rank, shape);
    return NB_OK;
}

static nb_status window_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                              int64_t shape[NB_MAX_RANK])
{
    const nb_pool_geometry *p = NB_ATTRS(node, nb_pool_geometry);
    *dtype = node->inputs[0]->dtype;
    nb__window_out_shape(&p->attrs, &p->g, p->g.c, rank, shape);
    return NB_OK;
}

/* ---- max_pool_input_grad(x, g) and max_pool_gather(x, u) ----------------- */

/* The backward ops of max pooling, of inputs (x, t): which element of x
 * wins a window does not change when x moves a little (without ties), so
 * both are linear in t and constant in x. x gets no gradient from them
 * (zero, NULL in the vjps): the second derivative of max pooling with
 * respect to x is zero, as it is for relu, where it exists. Their forward
 * finds the winners again from x and the maxima, computed into the node's
 * scratch by the same loop as max_pool's forward. */

static const void *window_maxima(nb_node *node)
{
    const nb_pool_geometry *p = NB_ATTRS(node, nb_pool_geometry);
    const nb_tensor *x = node->inputs[0];
    size_t bytes = (size_t)(p->g.n * p->g.oh * p->g.ow * p->g.c) * nb_dtype_size(x->dtype);
    void *y = nb_node_scratch(node, bytes);
    if (!y) {
        nb_error(NB_ERR_NOMEM, "%s: out of memory for %zu bytes of window maxima",
                 p->attrs.fn, bytes);
        return NULL;
    }
    nb__pool_pass(&p->g, POOL_MAX_OF_WINDOWS, x, NULL, NULL, x->data, y);
    node->saved = y;
    return y;
}

/* Through the winners from t to the output: POOL_SCATTER_TO_WINNERS for
 * max_pool_input_grad, POOL_GATHER_FROM_WINNERS for max_pool_gather */
static nb_status winners_forward(nb_node *node, nb_pool_move move)
{
    const nb_tensor *x = node->inputs[0];
    const void *y = window_maxima(node);
    if (!y)
        return nb_last_status();
    nb__pool_pass(&NB_ATTRS(node, nb_pool_geometry)->g, move, x, x->data, y,
                  node->inputs[1]->data, node->output->data);
    return NB_OK;
}

/* dt += the output's gradient moved back the other way */
static nb_status winners_backward(nb_node *node, nb_pool_move back)
{
    void *dt = nb_node_input_grad(node, 1);
    if (!dt)
        return node->inputs[1]->requires_grad ? NB_ERR_NOMEM : NB_OK;
    const nb_tensor *x = node->inputs[0];
    nb__pool_pass(&NB_ATTRS(node, nb_pool_geometry)->g, back, x, x->data, node->saved,
                  node->output->grad, dt);
    return NB_OK;
}

/* max_pool_input_grad(x, g): g (the pooled output's shape) scattered to
 * the winners, of x's shape; max_pool's dx. */
static nb_status input_grad_forward(nb_node *node)
{
    return winners_forward(node, POOL_SCATTER_TO_WINNERS);
}

static nb_status input_grad_backward(nb_node *node)
{
    return winners_backward(node, POOL_GATHER_FROM_WINNERS);
}

/* max_pool_gather(x, u): u (x's shape) at the winners, of the pooled
 * output's shape. */
static nb_status gather_forward(nb_node *node)
{
    return winners_forward(node, POOL_GATHER_FROM_WINNERS);
}

static nb_status gather_backward(nb_node *node)
{
    return winners_backward(node, POOL_SCATTER_TO_WINNERS);
}

static nb_tensor *max_pool_gather(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *x,
                                  nb_tensor *u);

/* scatter and gather are each other's transpose */
static nb_status input_grad_vjp(nb_tape *tape, const nb_node *node, nb_tensor *u,
                                nb_tensor *grad_in[])
{
    const nb_pool_geometry *p = NB_ATTRS(node, nb_pool_geometry);
    NB_VJP_INPUT(1, max_pool_gather(tape, p, node->inputs[0], u));
    return NB_OK;
}

static nb_status gather_vjp(nb_tape *tape, const nb_node *node, nb_tensor *w,
                            nb_tensor *grad_in[])
{
    const nb_pool_geometry *p = NB_ATTRS(node, nb_pool_geometry);
    NB_VJP_INPUT(1, nb__max_pool_input_grad(tape, p, node->inputs[0], w));
    return NB_OK;
}

/* forwards add into the output, which nabla zeroes first */
static const nb_op max_pool_input_grad_op = {"max_pool_input_grad", 2, image_infer,
                                             input_grad_forward, input_grad_backward, false,
                                             input_grad_vjp};
static const nb_op max_pool_gather_op = {"max_pool_gather", 2, window_infer, gather_forward,
                                         gather_backward, false, gather_vjp};

nb_tensor *nb__max_pool_input_grad(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *x,
                                   nb_tensor *g)
{
    return nb_op_apply(tape, &max_pool_input_grad_op, 2, (nb_tensor *[]){x, g}, p, sizeof *p);
}

static nb_tensor *max_pool_gather(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *x,
                                  nb_tensor *u)
{
    return nb_op_apply(tape, &max_pool_gather_op, 2, (nb_tensor *[]){x, u}, p, sizeof *p);
}

/* ---- avg_pool_input_grad(g) ---------------------------------------------- */

/* Average pooling is linear and this is its transpose (its backward), so
 * the transpose of this is average pooling again. */
static nb_status avg_input_grad_forward(nb_node *node)
{
    const nb_tensor *g = node->inputs[0];
    nb__pool_pass(&NB_ATTRS(node, nb_pool_geometry)->g, POOL_SPREAD_OVER_WINDOWS, g, NULL, NULL,
                  g->data, node->output->data);
    return NB_OK;
}

static nb_status avg_input_grad_backward(nb_node *node)
{
    const nb_tensor *g = node->inputs[0];
    void *dg = nb_node_input_grad(node, 0);
    if (!dg)
        return g->requires_grad ? NB_ERR_NOMEM : NB_OK;
    nb__pool_pass(&NB_ATTRS(node, nb_pool_geometry)->g, POOL_AVERAGE_WINDOWS, g, NULL, NULL,
                  node->output->grad, dg);
    return NB_OK;
}

/* d/dg: average pooling of the upstream u */
static nb_status avg_input_grad_vjp(nb_tape *tape, const nb_node *node, nb_tensor *u,
                                    nb_tensor *grad_in[])
{
    NB_VJP_INPUT(0, nb__avg_pool(tape, NB_ATTRS(node, nb_pool_geometry), u));
    return NB_OK;
}

/* forward adds into the output, which nabla zeroes first */
static const nb_op avg_pool_input_grad_op = {"avg_pool_input_grad", 1, image_infer,
                                             avg_input_grad_forward, avg_input_grad_backward,
                                             false, avg_input_grad_vjp};

nb_tensor *nb__avg_pool_input_grad(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *g)
{
    return nb_op_apply(tape, &avg_pool_input_grad_op, 1, &g, p, sizeof *p);
}
