/* second_derivative: f(x) = x e^x differentiated twice with nb_grad, the
 * tape of the double backward printed and written as a Graphviz graph
 * (docs/higher-order.md works the same numbers by hand).
 *
 *     second_derivative [--x X] [--dot PATH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

int main(int argc, char **argv)
{
    double x0 = 0.5;
    const char *dot = "second_derivative.dot";
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--x") == 0)
            x0 = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--dot") == 0)
            dot = argv[++i];
    }
    nb_tensor *x = nb_tensor_full(NB_F64, 0, NULL, x0);
    nb_tensor_set_name(x, "x");
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *f = nb_mul(tape, nb_exp(tape, x), x); /* nodes #0 and #1 */
    nb_tensor *df, *d2f;
    /* the backward of #1 and #0, recorded as nodes #2 to #5 */
    if (nb_grad(tape, f, 1, &x, &df, true) != NB_OK ||
        nb_grad(tape, df, 1, &x, &d2f, false) != NB_OK) {
        fprintf(stderr, "second_derivative: %s\n", nb_last_error());
        return 1;
    }
    printf("x       = %.10f\n", x0);
    printf("f(x)    = %.10f\n", nb_tensor_item(f));
    printf("f'(x)   = %.10f\n", nb_tensor_item(df));
    printf("f''(x)  = %.10f\n", nb_tensor_item(d2f));
    nb_tape_print(tape, stdout);
    nb_dot_options options = {.show_values = true};
    if (dot[0] && nb_tape_write_dot_file(tape, dot, &options) == NB_OK)
        printf("graph written to %s\n", dot);
    nb_tape_free(tape);
    nb_tensor_free(x);
    return 0;
}
