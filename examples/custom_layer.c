/* custom_layer: write your own layer, train it in a Sequential model next to
 * Dense, and check its gradients.
 *
 * The layer is a gated tanh unit (the gate of WaveNet and of gated PixelCNN):
 *
 *     y = sigmoid(x Wg + bg) * tanh(x Wv + bv)        (* elementwise)
 *
 * The tanh half proposes a value in (-1, 1) for every unit; the sigmoid half,
 * a gate in (0, 1), decides how much of it passes. It has four parameters,
 * two kernels [in, units] and two biases [units], and its output is a
 * product of two nonlinear paths, so it is not a Dense in disguise.
 *
 * A layer in nabla is a struct of functions, nb_layer_class, the same one
 * Dense uses (see nabla/layer.h):
 *   build        creates the parameters for an input shape,
 *   forward      computes the output from the input by composing ops,
 *   config       writes the layer's settings to JSON (for model files),
 *   from_config  makes a layer from those settings (for loading),
 *   destroy      frees the layer's own state.
 * There is no backward: forward composes ops (nb_matmul, nb_sigmoid, nb_mul,
 * ...) on the tape, and nb_backward differentiates through them. That is why
 * this file can end with a gradient check that passes without any
 * derivative written by hand.
 *
 *     custom_layer                  train on three spirals, then check
 *     custom_layer --epochs 60 --units 16 --seed 3
 *     custom_layer --save gated.safetensors   also save, reload and compare
 *
 * Exit status: 0 when the model learned the spirals (training accuracy of at
 * least 0.9) and the gradient check passed, 1 otherwise, 2 on a usage error.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/model_io.h"
#include "nabla/nabla.h"

/* ---- 1. the layer's own state ------------------------------------------ */

/* What the layer needs to know besides its parameters: its settings. The
 * layer owns this struct (nb_layer_new takes it; destroy frees it). */
typedef struct gated_state {
    int64_t units;
    double gate_bias; /* initial value of bg: 1 starts the gates mostly open */
} gated_state;

/* The order in which build adds the parameters; forward reads them back from
 * self->params[] by these indices. */
enum { GATE_KERNEL, GATE_BIAS, VALUE_KERNEL, VALUE_BIAS };

/* ---- 2. build: create the parameters ------------------------------------- */

/* Add one parameter of `rank`/`shape` filled with U(-limit, limit) (or the
 * constant `value` when limit is 0). nb_layer_add_param takes ownership; on
 * failure the tensor is still ours to free. */
static nb_status add_param(nb_layer *self, const char *name, int rank, const int64_t *shape,
                           double limit, double value, nb_rng *rng)
{
    nb_tensor *p = limit > 0 ? nb_tensor_rand_uniform(self->dtype, rank, shape, -limit, limit, rng)
                             : nb_tensor_full(self->dtype, rank, shape, value);
    if (!p || nb_layer_add_param(self, name, p) != NB_OK) {
        nb_tensor_free(p);
        return nb_last_status();
    }
    return NB_OK;
}

/* Called once, when the model is built, with the shape of one sample (no
 * batch axis). Parameters must have the model's dtype, self->dtype, and draw
 * their random values from `rng` so that the model's seed decides them.
 * Finally build sets the shape of one output sample. */
static nb_status gated_build(nb_layer *self, int in_rank, const int64_t *in_shape, nb_rng *rng)
{
    const gated_state *s = self->state;
    if (in_rank != 1)
        return nb_error(NB_ERR_SHAPE, "GatedTanh layer '%s': input has rank %d per sample: "
                        "expected flat samples; add a Flatten layer before it", self->name,
                        in_rank);
    int64_t in = in_shape[0];
    /* Glorot's uniform limit keeps the variance of x W near that of x */
    double limit = sqrt(6.0 / (double)(in + s->units));
    nb_status st = add_param(self, "gate_kernel", 2, (int64_t[]){in, s->units}, limit, 0, rng);
    if (st == NB_OK)
        st = add_param(self, "gate_bias", 1, &s->units, 0, s->gate_bias, rng);
    if (st == NB_OK)
        st = add_param(self, "value_kernel", 2, (int64_t[]){in, s->units}, limit, 0, rng);
    if (st == NB_OK)
        st = add_param(self, "value_bias", 1, &s->units, 0, 0.0, rng);
    if (st != NB_OK)
        return st;
    self->out_rank = 1;
    self->out_shape[0] = s->units;
    return NB_OK;
}

/* ---- 3. forward: compose ops, no backward ---------------------------------- */

/* x is a batch [n, in]. Every op records itself on `tape`, so nb_backward
 * later reaches all four parameters through nb_mul, nb_sigmoid, nb_tanh,
 * nb_add_bias and nb_matmul. An op given NULL returns NULL and keeps the
 * first error, so the chain needs one check, by the caller. */
static nb_tensor *gated_forward(nb_layer *self, nb_tape *tape, nb_tensor *x, bool training,
                                nb_rng *rng)
{
    (void)training; /* no behaviour that differs in training (as Dropout has) */
    (void)rng;
    nb_tensor *const *p = self->params;
    nb_tensor *gate = nb_sigmoid(tape, nb_add_bias(tape, nb_matmul(tape, x, p[GATE_KERNEL]),
                                                   p[GATE_BIAS]));
    nb_tensor *value = nb_tanh(tape, nb_add_bias(tape, nb_matmul(tape, x, p[VALUE_KERNEL]),
                                                 p[VALUE_BIAS]));
    return nb_mul(tape, gate, value);
}

/* ---- 4. configuration, for model files ------------------------------------- */

/* {"units": 32, "gate_bias": 1} */
static nb_status gated_config(const nb_layer *self, cJSON *json)
{
    const gated_state *s = self->state;
    if (!cJSON_AddNumberToObject(json, "units", (double)s->units) ||
        !cJSON_AddNumberToObject(json, "gate_bias", s->gate_bias))
        return nb_error(NB_ERR_NOMEM, "GatedTanh layer '%s': out of memory", self->name);
    return NB_OK;
}

static nb_layer *gated_tanh(int64_t units, double gate_bias);

/* The inverse of gated_config. Model files may come from anywhere: check
 * every field before trusting it. */
static nb_layer *gated_from_config(const cJSON *json)
{
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(json, "units");
    const cJSON *gate_bias = cJSON_GetObjectItemCaseSensitive(json, "gate_bias");
    if (!cJSON_IsNumber(units) || units->valuedouble < 1 || units->valuedouble > 1e6 ||
        units->valuedouble != floor(units->valuedouble) ||
        (gate_bias && (!cJSON_IsNumber(gate_bias) || !isfinite(gate_bias->valuedouble)))) {
        nb_error(NB_ERR_FORMAT, "GatedTanh config: \"units\" must be a whole number from 1 to "
                 "1e6 and \"gate_bias\" a finite number");
        return NULL;
    }
    return gated_tanh((int64_t)units->valuedouble, gate_bias ? gate_bias->valuedouble : 1.0);
}

/* ---- 5. the class and its constructor -------------------------------------- */

static void gated_destroy(nb_layer *self) { free(self->state); }

/* One class for every GatedTanh layer. It must outlive every layer of it:
 * a static const is simplest. */
static const nb_layer_class gated_tanh_class = {
    .type = "GatedTanh", /* shown by the summary; names layers gated_tanh, gated_tanh_1 */
    .build = gated_build,
    .forward = gated_forward,
    .config = gated_config,
    .destroy = gated_destroy,
    .from_config = gated_from_config,
};

/* The function users call, like nb_dense(). NULL with an error on bad
 * arguments, so that nb_model_add(model, gated_tanh(...)) passes the message
 * on. */
static nb_layer *gated_tanh(int64_t units, double gate_bias)
{
    if (units < 1) {
        nb_error(NB_ERR_ARG, "gated_tanh: units is %lld: expected at least 1", (long long)units);
        return NULL;
    }
    gated_state *s = malloc(sizeof *s);
    if (!s) {
        nb_error(NB_ERR_NOMEM, "gated_tanh: out of memory");
        return NULL;
    }
    *s = (gated_state){units, gate_bias};
    nb_layer *layer = nb_layer_new(&gated_tanh_class, NULL, s); /* the model names it */
    if (!layer)
        free(s);
    return layer;
}

/* ---- 6. data: three interleaved spirals ------------------------------------ */

/* Point i of n belongs to class i % 3, at a random radius r in [0, 1) and
 * angle 4 (class + r) plus noise; so the last rows, which fit's
 * validation_split holds out, are like the others. x [n, 2], one-hot
 * y [n, 3]. */
static void spirals(int64_t n, uint64_t seed, nb_tensor **x, nb_tensor **y)
{
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    *x = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 2));
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, 3));
    for (int64_t i = 0; *x && *y && i < n; i++) {
        int cls = (int)(i % 3);
        double r = nb_rng_uniform(&rng);
        double t = 4.0 * (cls + r) + 0.2 * nb_rng_normal(&rng);
        nb_tensor_set(*x, 2 * i, r * sin(t));
        nb_tensor_set(*x, 2 * i + 1, r * cos(t));
        nb_tensor_set(*y, 3 * i + cls, 1.0);
    }
}

/* ---- 7. the gradient check --------------------------------------------------- */

/* The function nb_gradcheck differentiates: the layer's output for the batch
 * in inputs[0]. nb_gradcheck moves every element of every input (x and the
 * four parameters, which the layer reads in place) and compares the change
 * of the output with what nb_backward computed. */
static nb_tensor *layer_output(nb_tape *tape, nb_tensor *const inputs[], void *layer)
{
    return nb_layer_forward(layer, tape, inputs[0], true, NULL);
}

/* A fresh layer in f64 (finite differences need the precision) for 3 inputs
 * and 4 units, on a random batch of 5. */
static bool check_gradients(uint64_t seed)
{
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    nb_layer *layer = gated_tanh(4, 1.0);
    nb_tensor *x = nb_tensor_rand_normal(NB_F64, NB_SHAPE(5, 3), 0, 1, &rng);
    if (!layer || !x || nb_layer_build(layer, NB_SHAPE(3), NB_F64, &rng) != NB_OK) {
        fprintf(stderr, "custom_layer: %s\n", nb_last_error());
        nb_layer_free(layer);
        nb_tensor_free(x);
        return false;
    }
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *inputs[5] = {x};
    for (int i = 0; i < layer->n_params; i++)
        inputs[1 + i] = layer->params[i];
    nb_gradcheck_report report;
    nb_status s = nb_gradcheck(layer_output, 1 + layer->n_params, inputs, layer, NULL, &report);
    bool passed = s == NB_OK && report.passed;
    if (s != NB_OK)
        fprintf(stderr, "custom_layer: gradient check could not run: %s\n", nb_last_error());
    else {
        printf("\ngradient check of GatedTanh in f64 (input 0: x; 1-4: %s, %s, %s, %s):\n",
               layer->param_names[0], layer->param_names[1], layer->param_names[2],
               layer->param_names[3]);
        nb_gradcheck_print(&report, stdout);
    }
    nb_tensor_free(x);
    nb_layer_free(layer);
    return passed;
}

/* ---- 8. saving and loading (with --save) --------------------------------------- */

/* nb_model_load makes each layer with its class's from_config; it finds our
 * class by its type name because main registered it. The reloaded model
 * predicts exactly what the trained one does. */
static bool save_and_reload(nb_model *model, const char *path, const nb_tensor *x)
{
    nb_model *again = NULL;
    nb_tensor *before = NULL, *after = NULL;
    bool same = nb_model_save(model, path, false) == NB_OK && (again = nb_model_load(path)) &&
                (before = nb_model_predict(model, x, 0)) &&
                (after = nb_model_predict(again, x, 0)) &&
                memcmp(before->data, after->data, (size_t)before->size * sizeof(float)) == 0;
    if (!same)
        fprintf(stderr, "custom_layer: save and reload failed: %s\n", nb_last_error());
    else
        printf("\nsaved to %s and loaded back: identical predictions\n", path);
    nb_tensor_free(before);
    nb_tensor_free(after);
    nb_model_free(again);
    return same;
}

/* ---- 9. the program ------------------------------------------------------------- */

typedef struct options {
    long epochs, units;
    unsigned long long seed;
    const char *save;
} options;

static bool parse_options(int argc, char **argv, options *o)
{
    *o = (options){.epochs = 40, .units = 24, .seed = 1, .save = NULL};
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        errno = 0;
        bool ok = value != NULL;
        if (ok && strcmp(flag, "--epochs") == 0)
            ok = (o->epochs = strtol(value, &end, 10)) >= 1 && !*end;
        else if (ok && strcmp(flag, "--units") == 0)
            ok = (o->units = strtol(value, &end, 10)) >= 1 && !*end;
        else if (ok && strcmp(flag, "--seed") == 0) {
            o->seed = strtoull(value, &end, 10);
            ok = value[0] != '-' && end != value && !*end;
        }
        else if (ok && strcmp(flag, "--save") == 0)
            o->save = value;
        else
            ok = false;
        if (!ok || errno) {
            fprintf(stderr, "custom_layer: bad or incomplete option '%s'\n"
                            "usage: custom_layer [--epochs N] [--units N] [--seed N] "
                            "[--save FILE]\n"
                            "defaults: --epochs 40 --units 24 --seed 1\n", flag);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_options(argc, argv, &o))
        return 2;

    /* Only needed to load model files holding GatedTanh layers; training
     * works without it. */
    if (nb_layer_register_class(&gated_tanh_class) != NB_OK) {
        fprintf(stderr, "custom_layer: %s\n", nb_last_error());
        return 1;
    }

    /* 2 -> GatedTanh(units) -> GatedTanh(units) -> Dense(3, softmax): the
     * custom layers sit in the model like any built-in one. */
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, o.seed);
    nb_model_set_input_shape(model, NB_SHAPE(2));
    nb_model_add(model, gated_tanh(o.units, 1.0));
    nb_model_add(model, gated_tanh(o.units, 1.0));
    nb_model_add(model, nb_dense(3, NB_SOFTMAX));
    nb_status s = nb_model_compile(model, &(nb_compile_options){
                                              .optimizer = nb_adam(0.01, 0.9, 0.999, 1e-7),
                                              .loss = "categorical_crossentropy",
                                              .metrics = {"accuracy"}});
    nb_tensor *x = NULL, *y = NULL;
    if (s == NB_OK)
        spirals(900, o.seed, &x, &y);
    if (s != NB_OK || !x || !y) {
        fprintf(stderr, "custom_layer: %s\n", nb_last_error());
        nb_model_free(model);
        nb_tensor_free(x);
        nb_tensor_free(y);
        return 1;
    }
    nb_model_summary(model, stdout);

    /* Keras's model.fit(x, y, epochs, batch_size=32, validation_split=0.2,
     * verbose=2): one line per epoch */
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = (int)o.epochs;
    fit.validation_split = 0.2;
    fit.verbose = 2;
    nb_history *history = nb_model_fit(model, x, y, &fit);
    nb_logs logs = {0};
    if (!history || nb_model_evaluate(model, x, y, 256, &logs) != NB_OK) {
        fprintf(stderr, "custom_layer: %s\n", nb_last_error());
        nb_history_free(history);
        nb_model_free(model);
        nb_tensor_free(x);
        nb_tensor_free(y);
        return 1;
    }
    double accuracy = nb_logs_get(&logs, "accuracy");
    printf("\naccuracy on all 900 points: %.3f (validation, last epoch: %.3f)\n", accuracy,
           nb_logs_get(&history->logs[history->epochs - 1], "val_accuracy"));

    bool saved = !o.save || save_and_reload(model, o.save, x);
    bool passed = check_gradients(o.seed);
    bool learned = accuracy >= 0.9;
    printf("\n%s\n", learned && passed && saved ? "custom_layer: OK"
                     : !learned                 ? "custom_layer: FAILED: accuracy below 0.9"
                     : !passed                  ? "custom_layer: FAILED: gradient check"
                                                : "custom_layer: FAILED: save and reload");

    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return learned && passed && saved ? 0 : 1;
}
