/* backprop_trace: one training step of a tiny network, every number printed.
 *
 * The network has 2 inputs, 2 hidden units (relu) and 1 output, with weights
 * chosen by hand so that every number is short and docs/backprop.md can redo
 * the whole step with pencil and paper:
 *
 *     z1   = x W1 + b1          x [1, 2], W1 [2, 2], b1 [2]; xW1 is x W1
 *     h    = relu(z1)
 *     y    = h W2 + b2          W2 [2, 1], b2 [1]; hW2 is h W2
 *     diff = y - target
 *     loss = mean(diff^2)
 *
 * The program prints the forward pass (every op with its input and output
 * values), then the backward pass node by node (the gradient arriving at each
 * op, its local derivative and the gradient it sends to each input), then
 * takes one SGD step and prints the new weights and the new loss. It also
 * writes the same network as a Graphviz graph, each edge labelled with the
 * tensor flowing along it, its values and its gradient, and, when the `dot`
 * program is installed, renders it as a PNG (docs/images/backprop_graph.png).
 *
 * With --html FILE it writes the step as a web page too (the backprop
 * explorer, nb_tape_write_html): the graph, and buttons (or the arrow keys)
 * to step through the forward pass and the backward sweep with the same
 * numbers as printed here. Open FILE in a browser.
 *
 *     backprop_trace [--dot FILE.dot] [--png FILE.png] [--html FILE.html] [--lr RATE]
 *     defaults: --dot backprop_graph.dot --png backprop_graph.png --lr 0.1, no page
 *     (--png '' skips the picture)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

typedef struct net {
    nb_tensor *x, *target;      /* data: no gradient */
    nb_tensor *w1, *b1, *w2, *b2; /* parameters */
} net;

static nb_tensor *named(nb_tensor *t, const char *name, bool parameter)
{
    nb_tensor_set_name(t, name);
    if (t && parameter)
        nb_tensor_set_requires_grad(t, true);
    return t;
}

/* Hand-chosen values: z1 = [1.1, -0.3], so relu lets the first hidden unit
 * through and blocks the second, and y = 0.6 misses the target 1 by 0.4. */
static bool net_init(net *n)
{
    n->x = named(nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2), (double[]){1, 2}), "x", false);
    n->target = named(nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 1), (double[]){1}), "target",
                      false);
    n->w1 = named(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2), (double[]){0.5, -1, 0.25, 0.25}),
                  "W1", true);
    n->b1 = named(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){0.1, 0.2}), "b1", true);
    n->w2 = named(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 1), (double[]){0.5, -0.5}), "W2",
                  true);
    n->b2 = named(nb_tensor_from_doubles(NB_F64, NB_SHAPE(1), (double[]){0.05}), "b2", true);
    return n->x && n->target && n->w1 && n->b1 && n->w2 && n->b2;
}

static void net_free(net *n)
{
    nb_tensor *all[] = {n->x, n->target, n->w1, n->b1, n->w2, n->b2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* The forward pass on the tape; every intermediate gets a name for the
 * trace and the graph. Returns the loss, or NULL on error. */
static nb_tensor *forward(nb_tape *tape, const net *n)
{
    nb_tensor *xw1 = named(nb_matmul(tape, n->x, n->w1), "xW1", false);
    nb_tensor *z1 = named(nb_add_bias(tape, xw1, n->b1), "z1", false);
    nb_tensor *h = named(nb_relu(tape, z1), "h", false);
    nb_tensor *hw2 = named(nb_matmul(tape, h, n->w2), "hW2", false);
    nb_tensor *y = named(nb_add_bias(tape, hw2, n->b2), "y", false);
    nb_tensor *diff = named(nb_sub(tape, y, n->target), "diff", false);
    nb_tensor *sq = named(nb_square(tape, diff), "sq", false);
    return named(nb_mean(tape, sq), "loss", false);
}

/* Plain SGD: p -= lr * dL/dp, printing each parameter's new values. */
static void sgd_step(const net *n, double lr)
{
    nb_tensor *params[] = {n->w1, n->b1, n->w2, n->b2};
    printf("\nSGD step with learning rate %g: p <- p - %g * dL/dp\n", lr, lr);
    for (size_t k = 0; k < sizeof params / sizeof params[0]; k++) {
        nb_tensor *p = params[k];
        printf("    %-3s = [", p->name);
        for (int64_t i = 0; i < p->size; i++) {
            nb_tensor_set(p, i, nb_tensor_get(p, i) - lr * nb_tensor_grad_get(p, i));
            printf("%s%.6g", i ? ", " : "", nb_tensor_get(p, i));
        }
        printf("]\n");
    }
}

static int render(const char *dot, const char *png)
{
    if (!png || !png[0])
        return 0;
    if (system("command -v dot >/dev/null 2>&1") != 0) {
        printf("graph written to %s (install graphviz to render it)\n", dot);
        return 0;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "dot -Tpng '%s' -o '%s'", dot, png);
    if (system(cmd) != 0) {
        fprintf(stderr, "backprop_trace: %s failed\n", cmd);
        return 1;
    }
    printf("graph written to %s and drawn in %s\n", dot, png);
    return 0;
}

static int run(const char *dot, const char *png, const char *html, double lr)
{
    net n = {0};
    nb_tape *tape = nb_tape_new();
    if (!tape || !net_init(&n))
        goto fail;
    nb_tensor *loss = forward(tape, &n);
    if (!loss || nb_tape_print_values(tape, stdout, NULL) != NB_OK)
        goto fail;
    printf("\n");
    if (nb_tape_trace_backward(loss, stdout, NULL) != NB_OK)
        goto fail;
    nb_dot_options dot_options = {
        .show_values = true, .show_grads = true, .max_values = 4, .on_edges = true};
    if (nb_tape_write_dot_file(tape, dot, &dot_options) != NB_OK)
        goto fail;
    /* before the SGD step changes the weights the page shows */
    nb_html_options page = {.title = "backprop_trace: one step of a 2-2-1 network"};
    if (html && nb_tape_write_html(tape, html, &page) != NB_OK)
        goto fail;
    sgd_step(&n, lr);
    nb_tape_reset(tape);
    loss = forward(tape, &n);
    if (!loss)
        goto fail;
    printf("loss after the step: %.6g\n\n", nb_tensor_item(loss));
    int status = render(dot, png);
    if (html)
        printf("explorer page written to %s: open it in a browser\n", html);
    nb_tape_free(tape);
    net_free(&n);
    return status;
fail:
    fprintf(stderr, "backprop_trace: %s\n", nb_last_error());
    nb_tape_free(tape);
    net_free(&n);
    return 1;
}

int main(int argc, char **argv)
{
    const char *dot = "backprop_graph.dot", *png = "backprop_graph.png", *html = NULL;
    double lr = 0.1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dot") == 0 && i + 1 < argc) {
            dot = argv[++i];
        } else if (strcmp(argv[i], "--png") == 0 && i + 1 < argc) {
            png = argv[++i];
        } else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc) {
            html = argv[++i];
        } else if (strcmp(argv[i], "--lr") == 0 && i + 1 < argc) {
            lr = strtod(argv[++i], NULL);
        } else {
            fprintf(stderr, "usage: backprop_trace [--dot FILE.dot] [--png FILE.png] "
                            "[--html FILE.html] [--lr RATE]\n");
            return 2;
        }
    }
    return run(dot, png, html, lr);
}
