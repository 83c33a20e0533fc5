/* graph_step: draw one training step of a tiny network as a graph.
 *
 * A two-layer network classifies a small batch of points into two classes:
 *
 *     hidden = tanh(x W1 + b1)
 *     logits = hidden W2 + b2
 *     loss   = -mean over the batch of sum(y * log_softmax(logits))
 *
 * The program runs the forward pass on a tape, computes the loss, runs
 * backward, and writes the tape as a Graphviz file: every op a box, every
 * tensor an ellipse with its shape, first values and gradient. Render it with
 *
 *     dot -Tpng step.dot -o step.png
 *
 * With --html FILE it also writes the step as a web page to step through
 * (the backprop explorer, nb_tape_write_html): open FILE in a browser.
 *
 *     graph_step [--out step.dot] [--html FILE] [--batch N] [--hidden H] [--values K]
 *                [--seed S]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

typedef struct options {
    const char *out, *html; /* html: NULL for no page */
    long batch, hidden, values;
    unsigned long long seed;
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: graph_step [--out FILE] [--html FILE] [--batch N] [--hidden H] "
                 "[--values K] [--seed S]\n"
                 "defaults: --out step.dot --batch 4 --hidden 3 --values 3 --seed 1\n");
}

static bool parse_count(const char *text, long *value)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > 1000000)
        return false;
    *value = v;
    return true;
}

/* 0: parsed; 1: --help shown; -1: error shown. */
static int parse_options(int argc, char **argv, options *opt)
{
    *opt = (options){.out = "step.dot", .batch = 4, .hidden = 3, .values = 3, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "graph_step: %s needs a value\n", flag);
            return -1;
        }
        const char *value = argv[++i];
        bool ok = true;
        if (strcmp(flag, "--out") == 0) {
            opt->out = value;
        } else if (strcmp(flag, "--html") == 0) {
            opt->html = value;
        } else if (strcmp(flag, "--batch") == 0) {
            ok = parse_count(value, &opt->batch);
        } else if (strcmp(flag, "--hidden") == 0) {
            ok = parse_count(value, &opt->hidden);
        } else if (strcmp(flag, "--values") == 0) {
            ok = parse_count(value, &opt->values);
        } else if (strcmp(flag, "--seed") == 0) {
            char *end;
            errno = 0;
            opt->seed = strtoull(value, &end, 10);
            ok = errno == 0 && end != value && *end == '\0';
        } else {
            fprintf(stderr, "graph_step: unknown flag %s\n", flag);
            usage(stderr);
            return -1;
        }
        if (!ok) {
            fprintf(stderr, "graph_step: bad value for %s: %s\n", flag, value);
            return -1;
        }
    }
    return 0;
}

/* The network's parameters (caller-owned, named for the drawing). */
typedef struct network {
    nb_tensor *w1, *b1, *w2, *b2;
} network;

static nb_tensor *param(const char *name, nb_tensor *t)
{
    if (t) {
        nb_tensor_set_name(t, name);
        nb_tensor_set_requires_grad(t, true);
    }
    return t;
}

static bool make_network(network *net, int64_t hidden, nb_rng *rng)
{
    net->w1 = param("W1", nb_tensor_rand_normal(NB_F32, NB_SHAPE(2, hidden), 0, 0.5, rng));
    net->b1 = param("b1", nb_tensor_zeros(NB_F32, NB_SHAPE(hidden)));
    net->w2 = param("W2", nb_tensor_rand_normal(NB_F32, NB_SHAPE(hidden, 2), 0, 0.5, rng));
    net->b2 = param("b2", nb_tensor_zeros(NB_F32, NB_SHAPE(2)));
    return net->w1 && net->b1 && net->w2 && net->b2;
}

static void free_network(network *net)
{
    nb_tensor_free(net->w1);
    nb_tensor_free(net->b1);
    nb_tensor_free(net->w2);
    nb_tensor_free(net->b2);
}

/* A batch of points x [n, 2] and one-hot targets y [n, 2]: class 1 when
 * the point lies above the diagonal. Caller-owned. */
static bool make_batch(int64_t n, nb_rng *rng, nb_tensor **x, nb_tensor **y)
{
    *x = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(n, 2), -1, 1, rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 2));
    if (!*x || !*y)
        return false;
    for (int64_t i = 0; i < n; i++) {
        int label = nb_tensor_get(*x, 2 * i + 1) > nb_tensor_get(*x, 2 * i);
        nb_tensor_set(*y, 2 * i + label, 1.0);
    }
    nb_tensor_set_name(*x, "x");
    nb_tensor_set_name(*y, "y");
    return true;
}

/* Forward and loss on the tape; the loss, or NULL with nb_last_error(). */
static nb_tensor *forward_loss(nb_tape *tape, const network *net, nb_tensor *x, nb_tensor *y)
{
    nb_tensor *hidden = nb_tanh(tape, nb_add_bias(tape, nb_matmul(tape, x, net->w1), net->b1));
    nb_tensor *logits = nb_add_bias(tape, nb_matmul(tape, hidden, net->w2), net->b2);
    nb_tensor *log_p = nb_log_softmax(tape, logits);
    nb_tensor *per_row = nb_sum_axis(tape, nb_mul(tape, y, log_p), 1, false);
    nb_tensor *loss = nb_neg(tape, nb_mean(tape, per_row));
    if (loss) {
        nb_tensor_set_name(hidden, "hidden");
        nb_tensor_set_name(logits, "logits");
        nb_tensor_set_name(loss, "loss");
    }
    return loss;
}

int main(int argc, char **argv)
{
    options opt;
    int parsed = parse_options(argc, argv, &opt);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    nb_rng rng;
    nb_rng_seed(&rng, opt.seed);
    network net = {0};
    nb_tensor *x = NULL, *y = NULL;
    nb_tape *tape = nb_tape_new();
    int status = 1;
    if (tape && make_network(&net, opt.hidden, &rng) && make_batch(opt.batch, &rng, &x, &y)) {
        nb_tensor *loss = forward_loss(tape, &net, x, y);
        nb_dot_options dot = {.show_values = true, .show_grads = true,
                              .max_values = (int)opt.values};
        if (loss && nb_backward(loss) == NB_OK &&
            nb_tape_write_dot_file(tape, opt.out, &dot) == NB_OK) {
            printf("one step: batch %ld, hidden %ld, loss %.4f, %zu ops on the tape\n",
                   opt.batch, opt.hidden, nb_tensor_item(loss), nb_tape_size(tape));
            size_t stem = strlen(opt.out);
            if (stem > 4 && strcmp(opt.out + stem - 4, ".dot") == 0)
                stem -= 4;
            printf("wrote %s; render it with:\n    dot -Tpng %s -o %.*s.png\n", opt.out,
                   opt.out, (int)stem, opt.out);
            status = 0;
        }
        if (status == 0 && opt.html) {
            nb_html_options page = {.title = "graph_step: one training step"};
            if (nb_tape_write_html(tape, opt.html, &page) == NB_OK)
                printf("wrote %s: open it in a browser to step through the pass\n", opt.html);
            else
                status = 1;
        }
    }
    if (status != 0)
        fprintf(stderr, "graph_step: %s\n", nb_last_error());
    nb_tape_free(tape);
    free_network(&net);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return status;
}
