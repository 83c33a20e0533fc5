/* input_gradient: the gradient of a trained model's loss with respect to its
 * input image (a saliency map), and a training step on a gradient penalty,
 * which differentiates that gradient again.
 *
 * 1. Train a small MLP (Flatten, Dense 128 relu, Dense 10 softmax) on
 *    --samples images of the MNIST-style data set for --epochs epochs.
 * 2. For the first test image x with label t, compute dL/dx of
 *    L = crossentropy(model(x), t) with nb_grad: 784 numbers saying how the
 *    loss moves when each pixel moves. |dL/dx| drawn beside the image is
 *    the saliency map (--png).
 * 3. Input-gradient regularisation (a gradient penalty): on a batch, train
 *    on L + lambda * sum((dL/dx)^2). The penalty is a function of a
 *    gradient, so its own gradient with respect to the weights needs the
 *    backward pass recorded as ops (nb_grad with create_graph) and
 *    differentiated again by nb_backward: a double backward. One SGD step is
 *    taken and the penalty measured before and after on the same batch.
 *
 *     input_gradient                       Fashion-MNIST (or $NABLA_DATA), 1 epoch
 *     input_gradient --data DIR --epochs 2 --samples 20000 --png saliency.png
 *
 * Exit status: 0 when every step ran and the penalty step lowered the
 * penalty, 1 otherwise, 2 on a usage error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

typedef struct options {
    const char *data_dir, *png;
    int epochs;
    int64_t samples, batch;
    double penalty; /* lambda */
    double learning_rate; /* of the penalty step */
    uint64_t seed;
} options;

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--data DIR] [--epochs N] [--samples N] [--png FILE|''] "
            "[--penalty LAMBDA] [--lr RATE] [--seed N]\n", prog);
    return 2;
}

static bool parse(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return false;
        const char *flag = argv[i], *value = argv[++i];
        char *end = NULL;
        double v = strtod(value, &end);
        bool number = *end == '\0' && v >= 0;
        if (!strcmp(flag, "--data")) o->data_dir = value;
        else if (!strcmp(flag, "--png")) o->png = value;
        else if (!number) return false;
        else if (!strcmp(flag, "--epochs")) o->epochs = (int)v;
        else if (!strcmp(flag, "--samples")) o->samples = (int64_t)v;
        else if (!strcmp(flag, "--penalty")) o->penalty = v;
        else if (!strcmp(flag, "--lr")) o->learning_rate = v;
        else if (!strcmp(flag, "--seed")) o->seed = (uint64_t)v;
        else return false;
    }
    return o->epochs >= 1 && o->samples >= o->batch;
}

/* ---- 1. a trained model ------------------------------------------------------ */

static nb_model *trained_model(const options *o, const nb_mnist *data)
{
    int64_t n = data->train_images->shape[0] < o->samples ? data->train_images->shape[0]
                                                          : o->samples;
    nb_tensor *x = nb_slice_rows(data->train_images, 0, n);
    nb_tensor *labels = nb_slice_rows(data->train_labels, 0, n);
    nb_tensor *y = labels ? nb_to_categorical(labels, 10, NB_F32) : NULL;
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, o->seed);
    nb_model_set_input_shape(model, 2, data->train_images->shape + 1);
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dense(128, NB_RELU));
    nb_model_add(model, nb_dense(10, NB_SOFTMAX));
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = o->epochs;
    fit.verbose = 2;
    nb_history *history = NULL;
    if (x && y && nb_model_compile(model, &(nb_compile_options){
                      .optimizer = nb_adam_default(), .loss = "categorical_crossentropy",
                      .metrics = {"accuracy"}}) == NB_OK)
        history = nb_model_fit(model, x, y, &fit);
    nb_history_free(history);
    nb_tensor_free(x);
    nb_tensor_free(labels);
    nb_tensor_free(y);
    if (!history) {
        nb_model_free(model);
        return NULL;
    }
    return model;
}

/* ---- 2. the saliency map ------------------------------------------------------- */

/* The loss of the model on images x [n, 28, 28] with one-hot targets y, on tape. */
static nb_tensor *loss_of(nb_model *model, nb_tape *tape, nb_tensor *x, nb_tensor *y)
{
    nb_tensor *probs = nb_model_forward(model, tape, x, false);
    return nb_loss_categorical_crossentropy(tape, probs, y);
}

/* One-hot rows for the labels [first, first + n) of `labels`, caller-owned. */
static nb_tensor *targets(const nb_tensor *labels, int64_t first, int64_t n)
{
    nb_tensor *rows = nb_slice_rows(labels, first, n);
    nb_tensor *y = rows ? nb_to_categorical(rows, 10, NB_F32) : NULL;
    nb_tensor_free(rows);
    return y;
}

/* dL/dx for the first test image; draws |dL/dx| when o->png is set. */
static nb_status saliency(const options *o, nb_model *model, const nb_mnist *data)
{
    nb_tensor *x = nb_slice_rows(data->test_images, 0, 1);
    nb_tensor *y = targets(data->test_labels, 0, 1);
    nb_tape *tape = nb_tape_new();
    nb_tensor *dx = NULL;
    nb_status s = x && y && tape ? nb_tensor_set_requires_grad(x, true) : nb_last_status();
    nb_tensor *loss = s == NB_OK ? loss_of(model, tape, x, y) : NULL;
    if (s == NB_OK)
        s = loss ? nb_grad(tape, loss, 1, &x, &dx, false) : nb_last_status();
    if (s == NB_OK) {
        nb_tensor *magnitude = nb_abs(tape, dx);
        double largest = 0;
        int64_t where = 0;
        for (int64_t i = 0; magnitude && i < magnitude->size; i++)
            if (nb_tensor_get(magnitude, i) > largest)
                largest = nb_tensor_get(magnitude, i), where = i;
        printf("saliency of test image 0 (label %d): loss %.4f, largest |dL/dx| %.4g at pixel "
               "(%lld, %lld)\n", (int)nb_tensor_get(data->test_labels, 0), nb_tensor_item(loss),
               largest, (long long)(where / 28), (long long)(where % 28));
        if (magnitude && o->png && o->png[0]) {
            /* the image and |dL/dx| / its largest value side by side: [28, 56] */
            nb_tensor *pair[2] = {nb_reshape(tape, x, NB_SHAPE(28, 28)),
                                  nb_reshape(tape, nb_scale(tape, magnitude, 1 / largest),
                                             NB_SHAPE(28, 28))};
            nb_tensor *both = nb_concat(tape, 2, pair, 1);
            s = both ? nb_tensor_plot_grid_png(both, 28, 56, o->png,
                                               "test image 0 and |dL/dx| / max |dL/dx|")
                     : nb_last_status();
            if (s == NB_OK)
                printf("saliency map written to %s\n", o->png);
            else if (nb_last_status() == NB_ERR_STATE) /* built without PLplot */
                s = NB_OK, printf("saliency map not drawn: %s\n", nb_last_error());
        }
    }
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return s;
}

/* ---- 3. a step on the gradient penalty --------------------------------------------- */

/* L + lambda sum((dL/dx)^2) on tape; *penalty gets the second term's value.
 * create_graph records dL/dx as ops, so the result can be differentiated
 * with respect to the weights. */
static nb_tensor *penalised_loss(const options *o, nb_model *model, nb_tape *tape, nb_tensor *x,
                                 nb_tensor *y, double *penalty)
{
    nb_tensor *loss = loss_of(model, tape, x, y), *dx = NULL;
    if (!loss || nb_grad(tape, loss, 1, &x, &dx, true) != NB_OK)
        return NULL;
    nb_tensor *squares = nb_sum(tape, nb_square(tape, dx));
    if (!squares)
        return NULL;
    *penalty = nb_tensor_item(squares);
    return nb_add(tape, loss, nb_scale(tape, squares, o->penalty));
}

/* The penalty on the first batch, one SGD step on L + lambda * penalty
 * through double backward, then the penalty again. */
static nb_status penalty_step(const options *o, nb_model *model, const nb_mnist *data,
                              bool *lowered)
{
    nb_tensor *weights[4]; /* the two Dense layers' kernels and biases */
    int n = nb_model_weight_count(model);
    if (n != 4)
        return nb_error(NB_ERR_STATE, "input_gradient: the model has %d weights: expected 4", n);
    for (int i = 0; i < n; i++)
        weights[i] = nb_model_weight(model, i);
    nb_tensor *x = nb_slice_rows(data->train_images, 0, o->batch);
    nb_tensor *y = targets(data->train_labels, 0, o->batch);
    nb_optimizer *sgd = nb_sgd(o->learning_rate, 0, false);
    nb_tape *tape = nb_tape_new();
    double before = NAN, after = NAN;
    nb_status s = x && y && sgd && tape ? nb_tensor_set_requires_grad(x, true) : nb_last_status();
    nb_tensor *total = s == NB_OK ? penalised_loss(o, model, tape, x, y, &before) : NULL;
    nb_optimizer_zero_grad(n, weights);
    if (s == NB_OK)
        s = total ? nb_backward(total) : nb_last_status();
    if (s == NB_OK)
        s = nb_optimizer_step(sgd, n, weights);
    if (s == NB_OK) {
        nb_tape_reset(tape);
        s = penalised_loss(o, model, tape, x, y, &after) ? NB_OK : nb_last_status();
    }
    if (s == NB_OK) {
        printf("gradient penalty sum((dL/dx)^2) on a batch of %lld: %.6g before, %.6g after one "
               "SGD step (lr %g) on L + %g * penalty\n", (long long)o->batch, before, after,
               o->learning_rate, o->penalty);
        *lowered = after < before;
    }
    nb_tape_free(tape);
    nb_optimizer_free(sgd);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return s;
}

int main(int argc, char **argv)
{
    options o = {.png = "saliency.png", .epochs = 1, .samples = 12000, .batch = 32,
                 .penalty = 1.0, .learning_rate = 0.05, .seed = 42};
    if (!parse(argc, argv, &o))
        return usage(argv[0]);
    nb_mnist data = {0};
    const char *dir = o.data_dir ? o.data_dir : nb_mnist_default_dir();
    if (nb_mnist_load(dir, &data) != NB_OK) {
        fprintf(stderr, "input_gradient: %s\n", nb_last_error());
        return 1;
    }
    nb_model *model = trained_model(&o, &data);
    bool lowered = false;
    nb_status s = model ? saliency(&o, model, &data) : nb_last_status();
    if (s == NB_OK)
        s = penalty_step(&o, model, &data, &lowered);
    if (s != NB_OK)
        fprintf(stderr, "input_gradient: %s\n", nb_last_error());
    nb_model_free(model);
    nb_mnist_free(&data);
    return s == NB_OK && lowered ? 0 : 1;
}
