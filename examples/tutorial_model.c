/* tutorial_model: the second program of docs/tutorial.md: a Dense layer
 * built from ops and trained with a hand-written SGD loop, then the same
 * model as a Keras-style Sequential model trained with nb_model_fit.
 *
 * The data: 256 points x in [-1, 1]^2 with target y = 2 x0 - x1 + 1. A
 * Dense layer with one unit can fit it exactly: W = [2, -1], b = 1.
 *
 *     tutorial_model        (no flags; exits 1 unless both fits learn W, b)
 */
#include <math.h>
#include <stdio.h>

#include "nabla/nabla.h"

enum { N = 256, STEPS = 300 };

/* The data set, caller-owned: x [N, 2] and y [N, 1]. */
static void make_data(nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    *x = nb_tensor_rand_uniform(NB_F32, NB_SHAPE(N, 2), -1, 1, &rng);
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(N, 1));
    for (int64_t i = 0; *x && *y && i < N; i++)
        nb_tensor_set(*y, i, 2 * nb_tensor_get(*x, 2 * i) - nb_tensor_get(*x, 2 * i + 1) + 1);
}

/* A Dense layer is two ops (and an activation op, when it has one):
 * y = x W + b, with x [batch, in], W [in, units], b [units]. */
static nb_tensor *dense(nb_tape *tape, nb_tensor *x, nb_tensor *w, nb_tensor *b)
{
    return nb_add_bias(tape, nb_matmul(tape, x, w), b);
}

/* Mean squared error, from ops too. */
static nb_tensor *mse(nb_tape *tape, nb_tensor *pred, nb_tensor *target)
{
    return nb_mean(tape, nb_square(tape, nb_sub(tape, pred, target)));
}

/* p -= lr * dL/dp, then zero the gradient for the next step. */
static void sgd_update(nb_tensor *p, double lr)
{
    for (int64_t i = 0; i < p->size; i++)
        nb_tensor_set(p, i, nb_tensor_get(p, i) - lr * nb_tensor_grad_get(p, i));
    nb_tensor_zero_grad(p);
}

/* Whether W = [2, -1] and b = 1, to two decimals. */
static bool learned_the_line(const nb_tensor *w, const nb_tensor *b)
{
    return fabs(nb_tensor_get(w, 0) - 2) < 1e-2 && fabs(nb_tensor_get(w, 1) + 1) < 1e-2 &&
           fabs(nb_tensor_get(b, 0) - 1) < 1e-2;
}

static int train_by_hand(nb_tensor *x, nb_tensor *y)
{
    nb_tensor *w = nb_tensor_zeros(NB_F32, NB_SHAPE(2, 1));
    nb_tensor *b = nb_tensor_zeros(NB_F32, NB_SHAPE(1));
    nb_tensor_set_requires_grad(w, true);
    nb_tensor_set_requires_grad(b, true);
    nb_tape *tape = nb_tape_new();
    double loss_value = NAN;
    for (int step = 0; step < STEPS; step++) {
        nb_tensor *loss = mse(tape, dense(tape, x, w, b), y); /* forward */
        if (!loss || nb_backward(loss) != NB_OK)              /* backward */
            break;
        loss_value = nb_tensor_item(loss);
        sgd_update(w, 0.1); /* update */
        sgd_update(b, 0.1);
        nb_tape_reset(tape); /* free this step's tensors; the memory is reused */
    }
    printf("by hand:    loss %.6f  W = [%.4f, %.4f]  b = %.4f\n", loss_value,
           nb_tensor_get(w, 0), nb_tensor_get(w, 1), nb_tensor_get(b, 0));
    bool learned = learned_the_line(w, b);
    nb_tape_free(tape);
    nb_tensor_free(w);
    nb_tensor_free(b);
    return learned ? 0 : 1;
}

static int train_sequential(nb_tensor *x, nb_tensor *y)
{
    nb_model *model = nb_sequential();
    nb_model_set_input_shape(model, NB_SHAPE(2));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    nb_status s = nb_model_compile(model, &(nb_compile_options){
                                              .optimizer = nb_sgd(0.1, 0.0, false),
                                              .loss = "mse",
                                          });
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 40;
    fit.batch_size = 32;
    fit.verbose = 0;
    nb_history *history = s == NB_OK ? nb_model_fit(model, x, y, &fit) : NULL;
    if (!history) {
        fprintf(stderr, "tutorial_model: %s\n", nb_last_error());
        nb_model_free(model);
        return 1;
    }
    nb_tensor *w = nb_model_weight(model, 0), *b = nb_model_weight(model, 1);
    printf("Sequential: loss %.6f  W = [%.4f, %.4f]  b = %.4f\n",
           nb_logs_get(&history->logs[history->epochs - 1], "loss"), nb_tensor_get(w, 0),
           nb_tensor_get(w, 1), nb_tensor_get(b, 0));
    bool learned = learned_the_line(w, b);
    nb_history_free(history);
    nb_model_free(model);
    return learned ? 0 : 1;
}

int main(void)
{
    nb_tensor *x, *y;
    make_data(&x, &y);
    if (!x || !y) {
        fprintf(stderr, "tutorial_model: %s\n", nb_last_error());
        return 1;
    }
    int status = train_by_hand(x, y) | train_sequential(x, y);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return status;
}
