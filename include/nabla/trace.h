/* nabla/trace.h: print what a tape computed, number by number, for teaching.
 *
 *  - nb_tape_print_values prints the forward pass: every recorded op in tape
 *    order with the values of its inputs and of its output.
 *  - nb_tape_trace_backward runs backward from a loss, like nb_backward, and
 *    prints every step of the reverse sweep: the gradient arriving at the op's
 *    output (the upstream gradient), the local derivative of the output with
 *    respect to each input, and the gradient the op sends to that input.
 *
 *     nb_tensor *loss = nb_mean(tape, nb_square(tape, nb_sub(tape, y, t)));
 *     nb_tape_print_values(tape, stdout, NULL);     // the forward pass
 *     nb_tape_trace_backward(loss, stdout, NULL);   // backward, explained
 *
 * nb_tape_write_html (viz.h) shows the same steps, in the same words and
 * numbers, as a web page to step through.
 *
 * Tensors are called by their name (nb_tensor_set_name), else "t<i>" for the
 * output of node i and "leaf<k>" for the k-th unnamed leaf. See
 * examples/backprop_trace.c and docs/backprop.md, which redoes the numbers by
 * hand.
 */
#ifndef NABLA_TRACE_H
#define NABLA_TRACE_H

#include <stdio.h>

#include "nabla/error.h"
#include "nabla/tape.h"
#include "nabla/tensor.h"

typedef struct nb_trace_options {
    int max_values; /* values printed per tensor, then "..."; 0 means 8 */
    int precision;  /* significant digits of each value; 0 means 6 */
} nb_trace_options;

/* Print every node recorded on `tape`, in execution order: its index and op,
 * then each input and the output with its name, shape and first values.
 * options may be NULL. Errors: NB_ERR_NULL, NB_ERR_ARG (negative options),
 * NB_ERR_IO when writing to `out` fails. */
nb_status nb_tape_print_values(const nb_tape *tape, FILE *out, const nb_trace_options *options);

/* Backward from `loss` (one element, on a tape), computing the same
 * gradients as nb_backward(loss) and printing, for every node that leads to
 * the loss, in reverse tape order: the upstream gradient d loss/d output,
 * and for each input the local derivative (the rule of a built-in op, and
 * its numbers: for elementwise ops sent / upstream, element by element; for
 * matmul C = A B the other factor transposed, as in dA = dC B^T; for a bias,
 * 1 per row) and the gradient sent to it. The gradients land in the
 * tensors' ->grad exactly as with nb_backward (leaves accumulate).
 * options may be NULL. Errors: those of nb_backward, NB_ERR_ARG for a loss
 * that was not computed on a tape, NB_ERR_NOMEM, NB_ERR_IO. */
nb_status nb_tape_trace_backward(nb_tensor *loss, FILE *out, const nb_trace_options *options);

#endif
