/* nabla/op.h: the op interface, the same for built-in and custom ops.
 *
 * An op is a struct of functions: `infer` checks the inputs and gives the
 * output's dtype and shape, `forward` computes the output, and `backward`
 * accumulates the gradient of each input from the output's gradient. Apply it
 * with nb_op_apply(), which allocates the output, records a node on the tape
 * when gradients are needed and checks for misuse (NULL inputs, tensors from
 * a reset tape or another tape). A custom op looks like this:
 *
 *     static nb_status softplus_forward(nb_node *node) { ... }
 *     static nb_status softplus_backward(nb_node *node) { ... }
 *     static const nb_op softplus_op = {
 *         .name = "softplus", .n_inputs = 1,
 *         .infer = nb_infer_same_as_input,
 *         .forward = softplus_forward, .backward = softplus_backward,
 *     };
 *     nb_tensor *y = nb_op_apply(tape, &softplus_op, 1, (nb_tensor *[]){x},
 *                                NULL, 0);
 *
 * See examples/custom_op.c for the whole program, gradient-checked.
 *
 * For gradients of gradients (nb_grad with create_graph, nb_hvp, nb_jvp,
 * nb_gradgradcheck) an op also needs `vjp`: its backward written as a
 * composition of ops, so that the backward pass can itself be recorded and
 * differentiated. For the softplus above, d/dx = sigmoid(x):
 *
 *     static nb_status softplus_vjp(nb_tape *tape, const nb_node *node,
 *                                   nb_tensor *g, nb_tensor *grad_in[])
 *     {
 *         grad_in[0] = nb_mul(tape, g, nb_sigmoid(tape, node->inputs[0]));
 *         return grad_in[0] ? NB_OK : nb_last_status();
 *     }
 *
 * An op without a vjp still works with nb_backward and nb_grad; a second
 * order through it is an error naming the op.
 */
#ifndef NABLA_OP_H
#define NABLA_OP_H

#include <stddef.h>

#include "nabla/tape.h"
#include "nabla/tensor.h"

#define NB_MAX_INPUTS 4

typedef struct nb_node nb_node;

typedef struct nb_op {
    const char *name;
    int n_inputs; /* 1 to NB_MAX_INPUTS */
    /* Check node->inputs and node->attrs; set the output's dtype and shape.
     * Report problems with nb_error (message starting with the public
     * function's name) and return its status. */
    nb_status (*infer)(const nb_node *node, nb_dtype *dtype, int *rank,
                       int64_t shape[NB_MAX_RANK]);
    /* Compute node->output->data from the inputs. */
    nb_status (*forward)(nb_node *node);
    /* Add d(loss)/d(input i) to nb_node_input_grad(node, i) for every input
     * that wants one, given node->output->grad. NULL: not differentiable
     * (backward through it is an error). */
    nb_status (*backward)(nb_node *node);
    /* true when forward writes every element of the output: nabla then
     * skips zeroing the output first. Leave it false (the default) when
     * forward only writes some elements or accumulates into the output. */
    bool overwrites_output;
    /* Optional: the gradient of each input as ops on `tape` (the
     * vector-Jacobian product), given the output's gradient `grad_out` (a
     * tensor of the output's shape). Set grad_in[i] to a tensor of input
     * i's shape for every input with requires_grad; leave the others NULL.
     * It may use node->inputs, node->output and node->attrs, and must use
     * only ops that have a vjp themselves, so that the result can be
     * differentiated again. Return NB_OK or the error of a failed op. NULL:
     * first-order gradients only (nb_backward, nb_grad without
     * create_graph). The fast `backward` stays the one nb_backward uses. */
    nb_status (*vjp)(nb_tape *tape, const nb_node *node, nb_tensor *grad_out,
                     nb_tensor *grad_in[]);
} nb_op;

struct nb_node {
    const nb_op *op;
    int n_inputs;
    nb_tensor *inputs[NB_MAX_INPUTS];
    nb_tensor *output;
    const void *attrs;  /* a copy of the attrs given to nb_op_apply */
    size_t attrs_size;
    void *saved;        /* memory from nb_node_scratch, for backward */
    size_t index;       /* position on the tape */
    struct nb_tape *tape; /* NULL when applied with tape == NULL */
    void *heap_scratch; /* internal: scratch of an unrecorded node */
};

/* Apply `op` to inputs. `attrs` (attrs_size bytes, may be NULL) is copied
 * and available to the op's functions as node->attrs. The result lives on
 * `tape`, or is caller-owned when tape is NULL. Returns NULL on error. */
nb_tensor *nb_op_apply(nb_tape *tape, const nb_op *op, int n_inputs,
                       nb_tensor *const inputs[], const void *attrs,
                       size_t attrs_size);

/* Memory that lives as long as the node (until the tape is reset); use it in
 * forward to save what backward needs. NULL when out of memory. */
void *nb_node_scratch(nb_node *node, size_t bytes);

/* The gradient buffer of input i to accumulate into (allocated and zeroed on
 * first use), or NULL when that input needs no gradient. */
void *nb_node_input_grad(nb_node *node, int i);

/* The attrs of a node as a typed pointer. */
#define NB_ATTRS(node, type) ((const type *)(node)->attrs)

/* infer helper: the output is like input 0 (same dtype and shape). */
nb_status nb_infer_same_as_input(const nb_node *node, nb_dtype *dtype,
                                 int *rank, int64_t shape[NB_MAX_RANK]);

#endif
