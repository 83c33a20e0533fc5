/* gradcheck: check the gradients of a small two-layer classifier.
 *
 * The network and its loss are built from nabla's ops only:
 *     hidden = tanh(x W1 + b1)
 *     probs  = softmax(hidden W2 + b2)
 *     loss   = -mean over the batch of sum_j targets_j * log(probs_j)
 * nb_gradcheck compares the gradient that backward gives for every parameter
 * with central finite differences, in f64, and this program prints the
 * result for each parameter. Use it as a template when you write a new op or
 * a new loss: if its backward is wrong, the check says which element.
 *
 *     gradcheck                             defaults: batch 4, hidden 5
 *     gradcheck --batch 8 --hidden 16 --seed 3
 *
 * Exit status: 0 when every parameter passed, 1 when one failed or the check
 * could not run, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

enum { INPUTS = 3, CLASSES = 3 };

/* The tensors of the check: the data (x, targets) and the parameters. */
enum { X, W1, B1, W2, B2, N_TENSORS };
static const char *const names[N_TENSORS] = {"x", "W1", "b1", "W2", "b2"};

/* The checked function: the loss from inputs[] in the order above.
 * `user` carries the one-hot targets, which are data, not an input. */
static nb_tensor *loss_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    nb_tensor *targets = user;
    nb_tensor *hidden = nb_tanh(tape, nb_add_bias(tape, nb_matmul(tape, in[X], in[W1]), in[B1]));
    nb_tensor *probs = nb_softmax(tape, nb_add_bias(tape, nb_matmul(tape, hidden, in[W2]), in[B2]));
    nb_tensor *picked = nb_sum_axis(tape, nb_mul(tape, targets, nb_log(tape, probs)), 1, false);
    return nb_neg(tape, nb_mean(tape, picked));
}

static int parse_int(const char *flag, const char *text, long min, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*end || v < min) {
        fprintf(stderr, "gradcheck: %s %s: expected an integer >= %ld\n", flag, text, min);
        return 2;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    long batch = 4, hidden = 5, seed = 1;
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        if (i + 1 < argc && strcmp(argv[i], "--batch") == 0)
            bad = parse_int(argv[i], argv[i + 1], 1, &batch), i++;
        else if (i + 1 < argc && strcmp(argv[i], "--hidden") == 0)
            bad = parse_int(argv[i], argv[i + 1], 1, &hidden), i++;
        else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
            bad = parse_int(argv[i], argv[i + 1], 0, &seed), i++;
        else
            bad = 2;
        if (bad) {
            fprintf(stderr, "usage: %s [--batch N] [--hidden N] [--seed N]\n", argv[0]);
            return 2;
        }
    }

    /* f64 throughout: in f32 the finite differences are too coarse. */
    nb_rng rng;
    nb_rng_seed(&rng, (uint64_t)seed);
    nb_tensor *t[N_TENSORS] = {
        nb_tensor_rand_normal(NB_F64, NB_SHAPE(batch, INPUTS), 0, 1, &rng),
        nb_tensor_rand_normal(NB_F64, NB_SHAPE(INPUTS, hidden), 0, 0.5, &rng),
        nb_tensor_rand_normal(NB_F64, NB_SHAPE(hidden), 0, 0.1, &rng),
        nb_tensor_rand_normal(NB_F64, NB_SHAPE(hidden, CLASSES), 0, 0.5, &rng),
        nb_tensor_rand_normal(NB_F64, NB_SHAPE(CLASSES), 0, 0.1, &rng),
    };
    /* random class labels, one-hot encoded */
    nb_tensor *labels = nb_tensor_zeros(NB_F64, NB_SHAPE(batch));
    for (long i = 0; labels && i < batch; i++)
        nb_tensor_set(labels, i, (double)nb_rng_below(&rng, CLASSES));
    nb_tensor *targets = nb_one_hot(NULL, labels, CLASSES);
    int status = 1;
    if (!targets || !t[X] || !t[W1] || !t[B1] || !t[W2] || !t[B2]) {
        fprintf(stderr, "gradcheck: %s\n", nb_last_error());
        goto done;
    }
    /* the parameters want gradients; the data x does not, so it is skipped */
    for (int i = W1; i < N_TENSORS; i++)
        nb_tensor_set_requires_grad(t[i], true);

    /* the loss once, on a tape that owns every intermediate */
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = tape ? loss_of(tape, t, targets) : NULL;
    if (!loss) {
        fprintf(stderr, "gradcheck: %s\n", nb_last_error());
        nb_tape_free(tape);
        goto done;
    }
    printf("two-layer classifier: batch %ld, %d inputs, %ld hidden (tanh), %d classes; "
           "loss %.6f\n",
           batch, INPUTS, hidden, CLASSES, nb_tensor_item(loss));
    nb_tape_free(tape);

    nb_gradcheck_report report;
    if (nb_gradcheck(loss_of, N_TENSORS, t, targets, NULL, &report) != NB_OK) {
        fprintf(stderr, "gradcheck: the check could not run: %s\n", nb_last_error());
        goto done;
    }
    printf("\n%-4s %-12s %-8s %-14s %-14s %s\n", "", "shape", "verdict", "max abs err",
           "max rel err", "worst element");
    for (int i = 0; i < N_TENSORS; i++) {
        const nb_gradcheck_result *r = &report.inputs[i];
        char shape[64];
        nb_shape_str(t[i], shape, sizeof shape);
        if (!r->checked) {
            printf("%-4s %-12s %-8s (data: requires no gradient)\n", names[i], shape, "-");
            continue;
        }
        printf("%-4s %-12s %-8s %-14.3g %-14.3g #%lld: analytic %.9g, numeric %.9g\n", names[i],
               shape, r->passed ? "ok" : "FAILED", r->max_abs_error, r->max_rel_error,
               (long long)r->worst_index, r->worst_analytic, r->worst_numeric);
    }
    printf("\n");
    nb_gradcheck_print(&report, stdout);
    status = report.passed ? 0 : 1;
done:
    for (int i = 0; i < N_TENSORS; i++)
        nb_tensor_free(t[i]);
    nb_tensor_free(labels);
    nb_tensor_free(targets);
    return status;
}
