/* tutorial_basics: the first program of docs/tutorial.md: a tensor, an op,
 * the tape and backward.
 *
 * It computes f(x) = sum(x * x + 3 x) for x = [1, 2, 3] and its gradient
 * df/dx = 2 x + 3 = [5, 7, 9], first with the tape, then printed step by step
 * with nb_tape_trace_backward.
 *
 *     tutorial_basics        (no flags)
 */
#include <stdio.h>

#include "nabla/nabla.h"

int main(void)
{
    /* 1. A tensor: values, a shape, a dtype. The caller owns it. */
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3), (double[]){1, 2, 3});
    if (!x) {
        fprintf(stderr, "tutorial_basics: %s\n", nb_last_error());
        return 1;
    }
    nb_tensor_set_name(x, "x");
    nb_tensor_set_requires_grad(x, true); /* we want df/dx */
    nb_tensor_print(x, stdout, 10);

    /* 2. Ops on a tape: each op computes its output now and records a node
     * so that backward can run it in reverse later. */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x2 = nb_mul(tape, x, x);      /* x * x */
    nb_tensor *x3 = nb_scale(tape, x, 3.0);  /* 3 x */
    nb_tensor *f = nb_sum(tape, nb_add(tape, x2, x3));
    if (!f) { /* an op given NULL returns NULL: check once at the end */
        fprintf(stderr, "tutorial_basics: %s\n", nb_last_error());
        return 1;
    }
    printf("f(x) = %g, the tape holds %zu ops\n", nb_tensor_item(f), nb_tape_size(tape));
    nb_tape_print(tape, stdout);

    /* 3. Backward: walk the tape in reverse; x->grad receives df/dx. */
    if (nb_backward(f) != NB_OK) {
        fprintf(stderr, "tutorial_basics: %s\n", nb_last_error());
        return 1;
    }
    printf("df/dx = [%g, %g, %g]  (2 x + 3)\n", nb_tensor_grad_get(x, 0),
           nb_tensor_grad_get(x, 1), nb_tensor_grad_get(x, 2));

    /* 4. The same backward, explained: every op, what it receives and what
     * it sends to each input. Gradients accumulate, so zero them first. */
    nb_tensor_zero_grad(x);
    nb_tape_trace_backward(f, stdout, NULL);

    /* 5. Freeing the tape frees every tensor it made (x2, x3, f); x is ours. */
    nb_tape_free(tape);
    nb_tensor_free(x);
    return 0;
}
