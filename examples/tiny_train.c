/* tiny_train: a two-layer network learns the two-moons problem, written
 * with nothing but the core ops of nabla.
 *
 * The data are two interleaved half circles of points in the plane (class 0
 * on top, class 1 below), generated from a seed. The model is
 *
 *     logits = tanh(x W1 + b1) W2 + b2
 *     loss   = -mean over the batch of sum(onehot(y) * log_softmax(logits))
 *
 * and training is plain minibatch SGD: after nb_backward, every parameter's
 * data moves against its ->grad, the grads are zeroed and the tape is reset.
 * The same seed gives the same numbers on every run.
 *
 *     tiny_train [--seed S] [--steps N] [--lr LR] [--hidden H]
 *                [--points N] [--batch B] [--every N]
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

typedef struct options {
    unsigned long long seed;
    long steps;  /* SGD steps */
    double lr;   /* learning rate */
    long hidden; /* units in the hidden layer */
    long points; /* training points (the test set has as many) */
    long batch;  /* points per SGD step */
    long every;  /* print the loss every this many steps */
} options;

/* ---- command line ------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "usage: tiny_train [--seed S] [--steps N] [--lr LR] [--hidden H]\n"
                 "                  [--points N] [--batch B] [--every N]\n"
                 "defaults: --seed 1 --steps 2000 --lr 0.3 --hidden 16 --points 256 "
                 "--batch 32 --every 200\n");
}

/* Parse a whole positive number; false when `text` is not one. */
static bool parse_long(const char *text, long *value)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1)
        return false;
    *value = v;
    return true;
}

static bool parse_options(int argc, char **argv, options *opt)
{
    *opt = (options){.seed = 1, .steps = 2000, .lr = 0.3, .hidden = 16,
                     .points = 256, .batch = 32, .every = 200};
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tiny_train: %s needs a value\n", flag);
            return false;
        }
        const char *value = argv[++i];
        bool ok = true;
        if (strcmp(flag, "--seed") == 0) {
            char *end;
            errno = 0;
            opt->seed = strtoull(value, &end, 10);
            ok = errno == 0 && end != value && *end == '\0';
        } else if (strcmp(flag, "--lr") == 0) {
            char *end;
            opt->lr = strtod(value, &end);
            ok = end != value && *end == '\0' && opt->lr > 0 && isfinite(opt->lr);
        } else if (strcmp(flag, "--steps") == 0) {
            ok = parse_long(value, &opt->steps);
        } else if (strcmp(flag, "--hidden") == 0) {
            ok = parse_long(value, &opt->hidden);
        } else if (strcmp(flag, "--points") == 0) {
            ok = parse_long(value, &opt->points);
        } else if (strcmp(flag, "--batch") == 0) {
            ok = parse_long(value, &opt->batch);
        } else if (strcmp(flag, "--every") == 0) {
            ok = parse_long(value, &opt->every);
        } else {
            fprintf(stderr, "tiny_train: unknown flag %s\n", flag);
            usage(stderr);
            return false;
        }
        if (!ok) {
            fprintf(stderr, "tiny_train: bad value for %s: %s\n", flag, value);
            return false;
        }
    }
    if (opt->batch > opt->points)
        opt->batch = opt->points;
    return true;
}

/* ---- data --------------------------------------------------------------- */

/* n two-moons points: x [n, 2] and labels y [n] (0 or 1), with Gaussian
 * noise of 0.1. Both tensors are caller-owned. */
static bool make_moons(int64_t n, nb_rng *rng, nb_tensor **x, nb_tensor **y)
{
    const double pi = 3.14159265358979323846;
    *x = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 2));
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n));
    if (*x == NULL || *y == NULL)
        return false;
    for (int64_t i = 0; i < n; i++) {
        int label = (int)(i % 2);
        double t = pi * nb_rng_uniform(rng);
        /* class 0: upper arc centred at (0, 0); class 1: lower arc at (1, 0.5) */
        double px = label == 0 ? cos(t) : 1.0 - cos(t);
        double py = label == 0 ? sin(t) : 0.5 - sin(t);
        nb_tensor_set(*x, 2 * i, px + 0.1 * nb_rng_normal(rng));
        nb_tensor_set(*x, 2 * i + 1, py + 0.1 * nb_rng_normal(rng));
        nb_tensor_set(*y, i, label);
    }
    return true;
}

/* Copy the rows order[first .. first + rows) of x and y into bx and by. */
static void gather_batch(const nb_tensor *x, const nb_tensor *y, const int64_t *order,
                         int64_t first, nb_tensor *bx, nb_tensor *by)
{
    const float *xs = x->data, *ys = y->data;
    float *bxs = bx->data, *bys = by->data;
    for (int64_t r = 0; r < by->size; r++) {
        int64_t i = order[first + r];
        bxs[2 * r] = xs[2 * i];
        bxs[2 * r + 1] = xs[2 * i + 1];
        bys[r] = ys[i];
    }
}

/* ---- model -------------------------------------------------------------- */

typedef struct mlp {
    nb_tensor *w1, *b1, *w2, *b2; /* caller-owned parameters */
} mlp;

enum { N_PARAMS = 4 };

static nb_tensor **mlp_params(mlp *m, nb_tensor *params[N_PARAMS])
{
    params[0] = m->w1;
    params[1] = m->b1;
    params[2] = m->w2;
    params[3] = m->b2;
    return params;
}

/* Uniform Glorot initialisation of the weights, zero biases. */
static bool mlp_init(mlp *m, int64_t hidden, nb_rng *rng)
{
    double r1 = sqrt(6.0 / (2 + hidden)), r2 = sqrt(6.0 / (hidden + 2));
    m->w1 = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(2, hidden), -r1, r1, rng);
    m->b1 = nb_tensor_zeros(NB_F32, NB_SHAPE(hidden));
    m->w2 = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(hidden, 2), -r2, r2, rng);
    m->b2 = nb_tensor_zeros(NB_F32, NB_SHAPE(2));
    nb_tensor *params[N_PARAMS];
    mlp_params(m, params);
    for (int p = 0; p < N_PARAMS; p++)
        if (params[p] == NULL || nb_tensor_set_requires_grad(params[p], true) != NB_OK)
            return false;
    return true;
}

static void mlp_free(mlp *m)
{
    nb_tensor *params[N_PARAMS];
    mlp_params(m, params);
    for (int p = 0; p < N_PARAMS; p++)
        nb_tensor_free(params[p]);
}

/* logits [n, 2] = tanh(x W1 + b1) W2 + b2, on the tape. */
static nb_tensor *mlp_forward(nb_tape *tape, mlp *m, nb_tensor *x)
{
    nb_tensor *h = nb_tanh(tape, nb_add_bias(tape, nb_matmul(tape, x, m->w1), m->b1));
    return nb_add_bias(tape, nb_matmul(tape, h, m->w2), m->b2);
}

/* Cross-entropy from ops: -mean_i sum_c onehot(y)_ic * log_softmax(logits)_ic. */
static nb_tensor *cross_entropy(nb_tape *tape, nb_tensor *logits, nb_tensor *labels)
{
    nb_tensor *target = nb_one_hot(tape, labels, 2);
    nb_tensor *picked = nb_mul(tape, target, nb_log_softmax(tape, logits));
    return nb_neg(tape, nb_mean(tape, nb_sum_axis(tape, picked, 1, false)));
}

/* Fraction of points whose largest logit is their label (no gradients). */
static double accuracy(nb_tape *tape, mlp *m, nb_tensor *x, nb_tensor *y)
{
    bool was_enabled = nb_tape_set_grad_enabled(tape, false);
    nb_tensor *hits = nb_equal(tape, nb_argmax(tape, mlp_forward(tape, m, x)), y);
    double acc = hits != NULL ? nb_tensor_item(nb_mean(tape, hits)) : NAN;
    nb_tape_set_grad_enabled(tape, was_enabled);
    nb_tape_reset(tape);
    return acc;
}

/* One SGD update: p -= lr * dL/dp for every parameter, then zero the grads. */
static void sgd_step(mlp *m, double lr)
{
    nb_tensor *params[N_PARAMS];
    mlp_params(m, params);
    for (int p = 0; p < N_PARAMS; p++) {
        float *w = params[p]->data;
        const float *g = params[p]->grad;
        if (g != NULL)
            for (int64_t i = 0; i < params[p]->size; i++)
                w[i] -= (float)(lr * g[i]);
        nb_tensor_zero_grad(params[p]);
    }
}

/* ---- training ----------------------------------------------------------- */

static int train(const options *opt)
{
    int rc = 1;
    nb_rng rng;
    nb_rng_seed(&rng, opt->seed);

    nb_tensor *x = NULL, *y = NULL, *test_x = NULL, *test_y = NULL;
    mlp m = {0};
    nb_tape *tape = nb_tape_new();
    nb_tensor *bx = nb_tensor_zeros(NB_F32, NB_SHAPE(opt->batch, 2));
    nb_tensor *by = nb_tensor_zeros(NB_F32, NB_SHAPE(opt->batch));
    int64_t *order = malloc((size_t)opt->points * sizeof *order);
    if (tape == NULL || bx == NULL || by == NULL || order == NULL
        || !make_moons(opt->points, &rng, &x, &y)
        || !make_moons(opt->points, &rng, &test_x, &test_y)
        || !mlp_init(&m, opt->hidden, &rng)) {
        fprintf(stderr, "tiny_train: setup failed: %s\n", nb_last_error());
        goto done;
    }
    for (int64_t i = 0; i < opt->points; i++)
        order[i] = i;

    printf("tiny_train: two moons, %ld training points, 2-%ld-2 tanh MLP, "
           "SGD lr %g, batch %ld, seed %llu\n",
           opt->points, opt->hidden, opt->lr, opt->batch, opt->seed);

    int64_t next = opt->points; /* next unused position in order[] */
    for (long step = 1; step <= opt->steps; step++) {
        if (next + opt->batch > opt->points) { /* new epoch: reshuffle */
            nb_rng_shuffle(&rng, order, opt->points);
            next = 0;
        }
        gather_batch(x, y, order, next, bx, by);
        next += opt->batch;

        nb_tensor *loss = cross_entropy(tape, mlp_forward(tape, &m, bx), by);
        if (loss == NULL || nb_backward(loss) != NB_OK) {
            fprintf(stderr, "tiny_train: step %ld: %s\n", step, nb_last_error());
            goto done;
        }
        double value = nb_tensor_item(loss);
        if (!isfinite(value)) {
            fprintf(stderr, "tiny_train: step %ld: the loss is %g; try a smaller --lr\n",
                    step, value);
            goto done;
        }
        sgd_step(&m, opt->lr);
        nb_tape_reset(tape);

        if (step % opt->every == 0 || step == 1 || step == opt->steps)
            printf("step %5ld  batch loss %.4f\n", step, value);
    }
    double train_acc = accuracy(tape, &m, x, y);
    double test_acc = accuracy(tape, &m, test_x, test_y);
    printf("accuracy: train %.1f%%, test %.1f%% (%ld fresh points)\n", 100.0 * train_acc,
           100.0 * test_acc, opt->points);
    rc = 0;

done:
    free(order);
    nb_tensor_free(bx);
    nb_tensor_free(by);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(test_x);
    nb_tensor_free(test_y);
    mlp_free(&m);
    nb_tape_free(tape);
    return rc;
}

int main(int argc, char **argv)
{
    options opt;
    if (!parse_options(argc, argv, &opt))
        return 2;
    return train(&opt);
}
