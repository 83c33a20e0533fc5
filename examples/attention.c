/* attention: a single-head self-attention layer written in C from ops, in a
 * Sequential model after an Embedding, gradient-checked and trained.
 *
 * The layer, for a batch x [batch, steps, d] (the embedded tokens):
 *
 *     h = x + P                          P [steps, d]: learned positions
 *     q = h Wq,  k = h Wk,  v = h Wv     three [d, d] kernels (batched matmul)
 *     a = softmax(q k^T / sqrt(d))       [batch, steps, steps], each row sums to 1
 *     y = LayerNorm(h + a v)             [batch, steps, d], a transformer block's
 *                                        residual and normalisation
 *
 * Every line is a few ops: nb_add (P broadcasts over the batch), nb_matmul
 * (a [batch, steps, d] by [d, d] product, and q k^T batch by batch),
 * nb_transpose, nb_scale, nb_softmax, and LayerNorm in six ops below. The
 * layer has no backward of its own; the gradient check below passes through
 * the ops' backward passes.
 *
 * The task needs attention: a sequence of tokens whose first token is a
 * position p in 1..steps-1; the answer is the token at position p. Nothing
 * but looking up another position solves it: the first token's query must
 * find the key of position p, and the value there carries the answer.
 *
 *     attention                       train (defaults below) and report
 *     attention --epochs 20 --seed 3 --samples 6000
 *
 * Exit status: 0 when the gradient check passed and the held-out accuracy
 * reached --target (default 0.95), 1 otherwise, 2 on a usage error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"

/* ---- the layer -------------------------------------------------------------- */

enum { POSITIONS, QUERY, KEY, VALUE, GAMMA, BETA };

/* LayerNorm over the last axis: (x - mean) / sqrt(var + 1e-3) * gamma + beta,
 * gamma and beta [d] broadcast over batch and steps. */
static nb_tensor *layer_norm(nb_tape *tape, nb_tensor *x, nb_tensor *gamma, nb_tensor *beta)
{
    nb_tensor *mean = nb_mean_axis(tape, x, -1, true);
    nb_tensor *centered = nb_sub(tape, x, mean);
    nb_tensor *var = nb_mean_axis(tape, nb_square(tape, centered), -1, true);
    nb_tensor *std = nb_sqrt(tape, nb_add_scalar(tape, var, 1e-3));
    return nb_add(tape, nb_mul(tape, nb_div(tape, centered, std), gamma), beta);
}

/* U(-limit, limit) [rows, cols] as parameter `name` (the layer takes it);
 * limit 0 fills it with `value` instead. */
static nb_status add_uniform(nb_layer *self, const char *name, int64_t rows, int64_t cols,
                             double limit, double value, nb_rng *rng)
{
    nb_tensor *t = limit > 0 ? nb_tensor_rand_uniform(self->dtype, NB_SHAPE(rows, cols), -limit,
                                                      limit, rng)
                             : nb_tensor_full(self->dtype, NB_SHAPE(cols), value);
    if (!t || nb_layer_add_param(self, name, t) != NB_OK) {
        nb_tensor_free(t);
        return nb_last_status();
    }
    return NB_OK;
}

/* Samples of [steps, d]: positions [steps, d], three Glorot-uniform
 * kernels [d, d], and LayerNorm's gamma (ones) and beta (zeros) [d]. The
 * output has the input's shape. */
static nb_status attention_build(nb_layer *self, int in_rank, const int64_t *in_shape,
                                 nb_rng *rng)
{
    if (in_rank != 2)
        return nb_error(NB_ERR_SHAPE, "SelfAttention layer '%s': samples have rank %d: expected "
                        "[steps, features]", self->name, in_rank);
    int64_t steps = in_shape[0], d = in_shape[1];
    double glorot = sqrt(6.0 / (double)(2 * d));
    nb_status s = add_uniform(self, "positions", steps, d, 0.05, 0, rng);
    const char *kernels[] = {"query_kernel", "key_kernel", "value_kernel"};
    for (int i = 0; i < 3 && s == NB_OK; i++)
        s = add_uniform(self, kernels[i], d, d, glorot, 0, rng);
    if (s == NB_OK)
        s = add_uniform(self, "gamma", 1, d, 0, 1.0, rng);
    return s == NB_OK ? add_uniform(self, "beta", 1, d, 0, 0.0, rng) : s;
}

static nb_tensor *attention_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                    nb_rng *rng)
{
    (void)training;
    (void)rng;
    nb_tensor *const *p = self->params;
    double d = (double)x->shape[2];
    nb_tensor *h = nb_add(tape, x, p[POSITIONS]);
    nb_tensor *q = nb_matmul(tape, h, p[QUERY]);
    nb_tensor *k = nb_matmul(tape, h, p[KEY]);
    nb_tensor *v = nb_matmul(tape, h, p[VALUE]);
    nb_tensor *k_t = nb_transpose(tape, k, (const int[]){0, 2, 1});
    nb_tensor *scores = nb_scale(tape, nb_matmul(tape, q, k_t), 1.0 / sqrt(d));
    nb_tensor *attended = nb_matmul(tape, nb_softmax(tape, scores), v);
    return layer_norm(tape, nb_add(tape, h, attended), p[GAMMA], p[BETA]);
}

static nb_layer *attention_from_config(const struct cJSON *json);

static const nb_layer_class attention_class = {
    .type = "SelfAttention",
    .build = attention_build,
    .forward = attention_forward,
    .from_config = attention_from_config,
};

static nb_layer *self_attention(void) { return nb_layer_new(&attention_class, NULL, NULL); }

static nb_layer *attention_from_config(const struct cJSON *json)
{
    (void)json;
    return self_attention();
}

/* ---- the task ---------------------------------------------------------------- */

typedef struct options {
    int epochs, steps, vocab, dim;
    int64_t samples, batch;
    uint64_t seed;
    double target;
} options;

/* x [n, steps]: x[i][0] = p in 1..steps-1, the rest random tokens; y [n,
 * vocab]: one-hot of x[i][p]. Caller-owned. */
static nb_status make_data(const options *o, int64_t n, nb_rng *rng, nb_tensor **x,
                           nb_tensor **y)
{
    *x = nb_tensor_zeros(NB_F32, NB_SHAPE(n, o->steps));
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, o->vocab));
    if (!*x || !*y)
        return nb_last_status();
    for (int64_t i = 0; i < n; i++) {
        int64_t p = 1 + (int64_t)(nb_rng_uniform(rng) * (o->steps - 1));
        nb_tensor_set(*x, i * o->steps, (double)p);
        for (int64_t t = 1; t < o->steps; t++)
            nb_tensor_set(*x, i * o->steps + t, (double)(int64_t)(nb_rng_uniform(rng) * o->vocab));
        nb_tensor_set(*y, i * o->vocab + (int64_t)nb_tensor_get(*x, i * o->steps + p), 1.0);
    }
    return NB_OK;
}

static nb_model *make_model(const options *o, nb_dtype dtype)
{
    nb_model *model = nb_sequential();
    nb_model_set_dtype(model, dtype);
    nb_model_set_seed(model, o->seed);
    nb_model_set_input_shape(model, NB_SHAPE(o->steps));
    nb_model_add(model, nb_embedding(o->vocab, o->dim));
    nb_model_add(model, self_attention());
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dense(o->vocab, NB_SOFTMAX));
    return model;
}

/* ---- the gradient check, in f64 ------------------------------------------------- */

static nb_tensor *attention_fn(nb_tape *tape, nb_tensor *const inputs[], void *user)
{
    return nb_layer_forward(user, tape, inputs[0], false, NULL);
}

/* Check the layer's gradient with respect to its input and its six
 * parameters on a small f64 batch. */
static bool gradient_check(void)
{
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    nb_layer *layer = self_attention();
    nb_tensor *x = nb_tensor_rand_uniform(NB_F64, NB_SHAPE(2, 4, 3), -1, 1, &rng);
    if (!layer || !x || nb_layer_build(layer, NB_SHAPE(4, 3), NB_F64, &rng) != NB_OK) {
        fprintf(stderr, "attention: %s\n", nb_last_error());
        return false;
    }
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *inputs[7] = {x};
    for (int i = 0; i < 6; i++)
        inputs[i + 1] = layer->params[i];
    nb_gradcheck_report report;
    bool ok = nb_gradcheck(attention_fn, 7, inputs, layer, NULL, &report) == NB_OK &&
              report.passed;
    printf("gradient check of the layer in f64 (input and 6 parameters): %s\n",
           ok ? "passed" : "FAILED");
    if (!ok)
        nb_gradcheck_print(&report, stdout);
    nb_tensor_free(x);
    nb_layer_free(layer);
    return ok;
}

/* ---- main ----------------------------------------------------------------------------- */

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--epochs N] [--samples N] [--steps N] [--vocab N] [--dim N] "
            "[--batch N] [--seed N] [--target ACCURACY]\n", prog);
    return 2;
}

static bool parse(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return false;
        const char *flag = argv[i], *value = argv[++i];
        char *end;
        double v = strtod(value, &end);
        if (*end || v < 0)
            return false;
        if (!strcmp(flag, "--epochs")) o->epochs = (int)v;
        else if (!strcmp(flag, "--samples")) o->samples = (int64_t)v;
        else if (!strcmp(flag, "--steps")) o->steps = (int)v;
        else if (!strcmp(flag, "--vocab")) o->vocab = (int)v;
        else if (!strcmp(flag, "--dim")) o->dim = (int)v;
        else if (!strcmp(flag, "--batch")) o->batch = (int64_t)v;
        else if (!strcmp(flag, "--seed")) o->seed = (uint64_t)v;
        else if (!strcmp(flag, "--target")) o->target = v;
        else return false;
    }
    return o->epochs >= 1 && o->samples >= 10 && o->steps >= 2 && o->vocab >= o->steps &&
           o->dim >= 1 && o->batch >= 1;
}

int main(int argc, char **argv)
{
    options o = {.epochs = 10, .steps = 8, .vocab = 16, .dim = 32, .samples = 8000, .batch = 32,
                 .seed = 42, .target = 0.95};
    if (!parse(argc, argv, &o))
        return usage(argv[0]);
    bool checked = gradient_check();
    nb_rng rng;
    nb_rng_seed(&rng, o.seed);
    nb_tensor *x = NULL, *y = NULL, *x_test = NULL, *y_test = NULL;
    nb_model *model = make_model(&o, NB_F32);
    nb_status s = make_data(&o, o.samples, &rng, &x, &y);
    if (s == NB_OK)
        s = make_data(&o, o.samples / 5, &rng, &x_test, &y_test);
    if (s == NB_OK)
        s = nb_model_compile(model, &(nb_compile_options){
            .optimizer = nb_adam(0.003, 0.9, 0.999, 1e-7),
            .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
    if (s == NB_OK)
        s = nb_model_summary(model, stdout);
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = o.epochs;
    fit.batch_size = o.batch;
    fit.verbose = 2;
    nb_history *history = s == NB_OK ? nb_model_fit(model, x, y, &fit) : NULL;
    nb_logs logs = {0};
    if (history)
        s = nb_model_evaluate(model, x_test, y_test, o.batch, &logs);
    if (!history || s != NB_OK) {
        fprintf(stderr, "attention: %s\n", nb_last_error());
        return 1;
    }
    double accuracy = nb_logs_get(&logs, "accuracy");
    printf("held-out accuracy: %.4f (the target is %.2f; chance is %.4f)\n", accuracy, o.target,
           1.0 / o.vocab);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(x_test);
    nb_tensor_free(y_test);
    return checked && accuracy >= o.target ? 0 : 1;
}
