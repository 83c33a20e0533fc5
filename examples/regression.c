/* regression: learn target = x + 2y + 3z with a one-unit Dense layer.
 *
 * The from-scratch Keras program this reproduces:
 *     data: numbers.csv, 10,000 rows of integers 0..100 in columns x, y, z
 *           and target = x + 2y + 3z; the first 9000 rows train, the last
 *           1000 test
 *     model = Sequential([Dense(1, input_shape=(3,))])
 *     model.compile(optimizer=SGD(...), loss='mean_squared_error')
 *     model.fit(x, y, ...)   # the loss printed every 100 epochs
 *     print(weights, bias, R-squared on the test rows)
 *
 * Usage: regression [--csv FILE] [--epochs N] [--batch N] [--lr X]
 *                   [--seed N] [--save FILE]
 * Without --csv it writes numbers.csv (from the seed) and reads it back. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/data.h"
#include "nabla/model_io.h"
#include "nabla/nabla.h"

typedef struct options {
    const char *csv, *save;
    long epochs, batch, seed;
    double lr;
} options;

static bool parse_args(int argc, char **argv, options *o)
{
    *o = (options){NULL, NULL, 1000, 9000, 0, 1e-5};
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        errno = 0;
        bool ok = value != NULL;
        if (ok && strcmp(arg, "--csv") == 0)
            o->csv = value;
        else if (ok && strcmp(arg, "--save") == 0)
            o->save = value;
        else if (ok && strcmp(arg, "--epochs") == 0)
            ok = (o->epochs = strtol(value, &end, 10)) >= 1 && !*end;
        else if (ok && strcmp(arg, "--batch") == 0)
            ok = (o->batch = strtol(value, &end, 10)) >= 1 && !*end;
        else if (ok && strcmp(arg, "--seed") == 0)
            ok = (o->seed = strtol(value, &end, 10)) >= 0 && !*end;
        else if (ok && strcmp(arg, "--lr") == 0)
            ok = (o->lr = strtod(value, &end)) > 0 && !*end;
        else
            ok = false;
        if (!ok || errno) {
            fprintf(stderr, "regression: bad or incomplete option '%s'\n"
                            "usage: regression [--csv FILE] [--epochs N] [--batch N] [--lr X] "
                            "[--seed N] [--save FILE]\n", arg);
            return false;
        }
    }
    return true;
}

/* numbers.csv: x, y, z uniform integers in [0, 100], target x + 2y + 3z.
 * Written to a temporary name and renamed, so a crash leaves no half file. */
static bool write_numbers(const char *path, uint64_t seed)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "regression: cannot write %s: %s\n", tmp, strerror(errno));
        return false;
    }
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    fprintf(f, "x,y,z,target\n");
    for (int i = 0; i < 10000; i++) {
        int x = (int)nb_rng_below(&rng, 101), y = (int)nb_rng_below(&rng, 101);
        int z = (int)nb_rng_below(&rng, 101);
        fprintf(f, "%d,%d,%d,%d\n", x, y, z, x + 2 * y + 3 * z);
    }
    bool ok = fclose(f) == 0 && rename(tmp, path) == 0;
    if (!ok)
        fprintf(stderr, "regression: cannot write %s: %s\n", path, strerror(errno));
    return ok;
}

/* Prints the loss every 100 epochs, as the original program did. */
static nb_status print_every_100(nb_callback *self, nb_model *model, int epoch,
                                 const nb_logs *logs)
{
    (void)self;
    (void)model;
    if ((epoch + 1) % 100 == 0 || epoch == 0)
        printf("epoch %4d: loss %.6f\n", epoch + 1, nb_logs_get(logs, "loss"));
    return NB_OK;
}

/* R-squared = 1 - SS_res / SS_tot over the rows where keep[i] (or all). */
static double r_squared(const nb_tensor *pred, const nb_tensor *target, double min_target)
{
    double mean = 0, n = 0, ss_res = 0, ss_tot = 0;
    for (int64_t i = 0; i < target->size; i++)
        if (nb_tensor_get(target, i) >= min_target)
            mean += nb_tensor_get(target, i), n++;
    mean /= n;
    for (int64_t i = 0; i < target->size; i++) {
        double t = nb_tensor_get(target, i);
        if (t < min_target)
            continue;
        double p = nb_tensor_get(pred, i);
        ss_res += (t - p) * (t - p);
        ss_tot += (t - mean) * (t - mean);
    }
    return 1.0 - ss_res / ss_tot;
}

static int fail(const char *what)
{
    fprintf(stderr, "regression: %s: %s\n", what, nb_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    const char *path = o.csv ? o.csv : "numbers.csv";
    if (!o.csv && !write_numbers(path, (uint64_t)o.seed))
        return 1;
    nb_csv *csv = nb_csv_read(path);
    if (!csv)
        return fail("reading the CSV");
    nb_tensor *features = nb_csv_columns(csv, NB_F32, 3, (const char *[]){"x", "y", "z"});
    nb_tensor *target = nb_csv_columns(csv, NB_F32, 1, (const char *[]){"target"});
    nb_csv_free(csv);
    if (!features || !target)
        return fail("choosing columns");
    if (features->shape[0] != 10000)
        fprintf(stderr, "regression: note: %s has %lld rows, not 10000\n", path,
                (long long)features->shape[0]);
    int64_t n_train = features->shape[0] * 9 / 10;
    nb_tensor *x_train, *x_test, *y_train, *y_test;
    if (nb_split_rows(features, n_train, &x_train, &x_test) != NB_OK ||
        nb_split_rows(target, n_train, &y_train, &y_test) != NB_OK)
        return fail("splitting");
    printf("data: %s: %lld rows to train, %lld to test\n", path, (long long)n_train,
           (long long)(features->shape[0] - n_train));

    nb_model *model = nb_sequential();
    nb_model_set_seed(model, (uint64_t)o.seed);
    nb_model_set_input_shape(model, NB_SHAPE(3));
    nb_model_add(model, nb_dense(1, NB_LINEAR));
    if (nb_model_compile(model, &(nb_compile_options){.optimizer = nb_sgd(o.lr, 0.0, false),
                                                      .loss = "mean_squared_error"}) != NB_OK)
        return fail("compiling");
    nb_model_summary(model, stdout);

    nb_callback printer = {.name = "print_every_100", .on_epoch_end = print_every_100};
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = (int)o.epochs;
    fit.batch_size = o.batch;
    fit.verbose = 0;
    fit.callbacks[0] = &printer;
    nb_history *history = nb_model_fit(model, x_train, y_train, &fit);
    if (!history)
        return fail("training");

    const nb_tensor *kernel = nb_model_weight(model, 0), *bias = nb_model_weight(model, 1);
    printf("weights: %.4f %.4f %.4f\n", nb_tensor_get(kernel, 0), nb_tensor_get(kernel, 1),
           nb_tensor_get(kernel, 2));
    printf("bias: %.4f\n", nb_tensor_get(bias, 0));
    nb_tensor *pred = nb_model_predict(model, x_test, 1000);
    if (!pred)
        return fail("predicting");
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < y_test->size; i++) {
        lo = fmin(lo, nb_tensor_get(y_test, i));
        hi = fmax(hi, nb_tensor_get(y_test, i));
    }
    double r2 = r_squared(pred, y_test, -INFINITY);
    printf("r2: %.6f\n", r2);
    printf("r2 (test rows with target >= %.1f, the upper half of its range): %.6f\n",
           (lo + hi) / 2, r_squared(pred, y_test, (lo + hi) / 2));
    /* the targets the reference program is held to */
    bool learned = fabs(nb_tensor_get(kernel, 0) - 1) < 0.01 &&
                   fabs(nb_tensor_get(kernel, 1) - 2) < 0.01 &&
                   fabs(nb_tensor_get(kernel, 2) - 3) < 0.01 && r2 >= 0.9999;
    if (!learned)
        fprintf(stderr, "regression: the weights are not within 0.01 of 1, 2, 3 or r2 < 0.9999\n");
    if (o.save) {
        if (nb_model_save(model, o.save, true) != NB_OK)
            return fail("saving the model");
        printf("model saved to %s\n", o.save);
    }
    nb_tensor_free(pred);
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(features);
    nb_tensor_free(target);
    nb_tensor_free(x_train);
    nb_tensor_free(x_test);
    nb_tensor_free(y_train);
    nb_tensor_free(y_test);
    return learned ? 0 : 1;
}
