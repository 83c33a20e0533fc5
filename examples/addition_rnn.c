/* addition_rnn: the Keras example "sequence to sequence learning for
 * performing number addition", in C with nabla.
 *
 *     model = Sequential([LSTM(128, input_shape=(MAXLEN, 12)),
 *                         RepeatVector(DIGITS + 1),
 *                         LSTM(128, return_sequences=True),
 *                         Dense(12, activation="softmax")])
 *     model.compile(loss="categorical_crossentropy", optimizer="adam",
 *                   metrics=["accuracy"])
 *
 * A question such as "535+61" is padded with spaces to MAXLEN = 2 DIGITS + 1
 * characters and reversed (Keras's REVERSE, which helps the LSTM), then
 * one-hot encoded over the 12 characters "0123456789+ "; the answer "596" is
 * padded to DIGITS + 1. 50,000 distinct questions (a + b and b + a count
 * once), the last tenth held out for validation; Adam, batch 32. After each
 * epoch, ten validation questions with the model's guess, marked right or
 * wrong as the Keras example does. Training with Adam at this rate has
 * spikes: an epoch can drop from 0.999 to 0.96 and recover in the next, so
 * the run keeps the weights of its best epoch (by val_accuracy, as Keras's
 * ModelCheckpoint(save_best_only=True) would) and ends with them: the last
 * line is their per-character validation accuracy (Keras's "accuracy").
 *
 * Usage: addition_rnn [--digits N] [--train-size N] [--epochs N] [--seed N]
 *                     [--threads N] [--save FILE] [--verbose 0|1|2] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nabla/alloc.h"
#include "nabla/backend.h"
#include "nabla/model_io.h"
#include "nabla/nabla.h"

static const char chars[] = "0123456789+ ";
#define N_CHARS 12

typedef struct options {
    long digits, train_size, epochs, seed, threads, verbose;
    const char *save;
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: addition_rnn [--digits N] [--train-size N] [--epochs N] [--seed N]\n"
                 "                    [--threads N] [--save FILE] [--verbose 0|1|2]\n"
                 "defaults: 3 digits, 50000 questions (the last tenth for validation),\n"
                 "30 epochs, seed 0, nabla's automatic thread count (--threads 0),\n"
                 "verbose 1 (a progress bar)\n");
}

static bool parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_args(int argc, char **argv, options *o)
{
    *o = (options){3, 50000, 30, 0, 0, 1, NULL};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        bool ok = value != NULL;
        if (ok && strcmp(arg, "--digits") == 0)
            ok = parse_long(value, 1, 6, &o->digits);
        else if (ok && strcmp(arg, "--train-size") == 0)
            ok = parse_long(value, 20, 10000000, &o->train_size);
        else if (ok && strcmp(arg, "--epochs") == 0)
            ok = parse_long(value, 1, 100000, &o->epochs);
        else if (ok && strcmp(arg, "--seed") == 0)
            ok = parse_long(value, 0, __LONG_MAX__, &o->seed);
        else if (ok && strcmp(arg, "--threads") == 0)
            ok = parse_long(value, 0, 64, &o->threads);
        else if (ok && strcmp(arg, "--verbose") == 0)
            ok = parse_long(value, 0, 2, &o->verbose);
        else if (ok && strcmp(arg, "--save") == 0)
            o->save = value;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "addition_rnn: bad or incomplete option '%s%s%s'\n", arg,
                    value ? " " : "", value ? value : "");
            usage(stderr);
            return false;
        }
        i++;
    }
    /* a + b and b + a are one question: there are n (n + 1) / 2 of them */
    double n = 1;
    for (long d = 0; d < o->digits; d++)
        n *= 10;
    if ((double)o->train_size > n * (n + 1) / 2) {
        fprintf(stderr, "addition_rnn: --train-size %ld: there are only %.0f distinct "
                "questions of up to %ld digits\n", o->train_size, n * (n + 1) / 2, o->digits);
        return false;
    }
    return true;
}

/* ---- the data: Keras's generator, with nabla's random numbers ---------- */

/* A number of 1 to `digits` digits, each drawn uniformly, as Keras's f(). */
static long random_number(nb_rng *rng, long digits)
{
    long length = 1 + (long)nb_rng_below(rng, (uint64_t)digits), v = 0;
    for (long i = 0; i < length; i++)
        v = 10 * v + (long)nb_rng_below(rng, 10);
    return v;
}

/* An open-addressing set of the questions seen, keyed by the sorted pair. */
typedef struct seen_set {
    uint64_t *keys; /* 0: empty; key + 1 otherwise */
    uint64_t mask;
} seen_set;

static bool seen_insert(seen_set *s, uint64_t key)
{
    uint64_t h = (key + 1) * 0x9E3779B97F4A7C15ull;
    for (uint64_t i = h >> 20;; i++) {
        uint64_t *slot = &s->keys[i & s->mask];
        if (*slot == key + 1)
            return false;
        if (*slot == 0) {
            *slot = key + 1;
            return true;
        }
    }
}

/* One-hot rows of `text` (len characters) into out[len * N_CHARS]. */
static void encode(const char *text, size_t len, float *out)
{
    memset(out, 0, len * N_CHARS * sizeof *out);
    for (size_t i = 0; i < len; i++)
        out[i * N_CHARS + (size_t)(strchr(chars, text[i]) - chars)] = 1.0f;
}

/* x [n, 2 digits + 1, 12] questions (reversed), y [n, digits + 1, 12] answers. */
static bool make_data(long digits, long n, uint64_t seed, nb_tensor **x, nb_tensor **y)
{
    int64_t maxlen = 2 * digits + 1, anslen = digits + 1;
    *x = nb_tensor_zeros(NB_F32, NB_SHAPE(n, maxlen, N_CHARS));
    *y = nb_tensor_zeros(NB_F32, NB_SHAPE(n, anslen, N_CHARS));
    uint64_t capacity = 1;
    while (capacity < 2 * (uint64_t)n)
        capacity *= 2;
    seen_set seen = {nb_alloc_zeroed(capacity * sizeof *seen.keys), capacity - 1};
    if (!*x || !*y || !seen.keys)
        return false;
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    char query[32], answer[32];
    for (long made = 0; made < n;) {
        long a = random_number(&rng, digits), b = random_number(&rng, digits);
        long lo = a < b ? a : b, hi = a < b ? b : a;
        if (!seen_insert(&seen, (uint64_t)lo * 10000000ull + (uint64_t)hi))
            continue;
        snprintf(query, sizeof query, "%-*s", (int)maxlen, "");
        int qlen = snprintf(answer, sizeof answer, "%ld+%ld", a, b);
        for (int i = 0; i < qlen; i++) /* reversed: "12+3   " becomes "   3+21" */
            query[maxlen - 1 - i] = answer[i];
        snprintf(answer, sizeof answer, "%-*ld", (int)anslen, a + b);
        encode(query, (size_t)maxlen, (float *)(*x)->data + made * maxlen * N_CHARS);
        encode(answer, (size_t)anslen, (float *)(*y)->data + made * anslen * N_CHARS);
        made++;
    }
    nb_release(seen.keys);
    return true;
}

/* The characters of one-hot (or probability) rows: the largest of each. */
static void decode(const nb_tensor *t, int64_t row, char *out)
{
    int64_t len = t->shape[1];
    for (int64_t i = 0; i < len; i++) {
        int best = 0;
        for (int c = 1; c < N_CHARS; c++)
            if (nb_tensor_get(t, (row * len + i) * N_CHARS + c) >
                nb_tensor_get(t, (row * len + i) * N_CHARS + best))
                best = c;
        out[i] = chars[best];
    }
    out[len] = '\0';
}

/* ---- the model ------------------------------------------------------------ */

static nb_model *build_model(long digits, uint64_t seed)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, seed);
    nb_model_set_input_shape(model, NB_SHAPE(2 * digits + 1, N_CHARS));
    nb_model_add(model, nb_lstm(128));
    nb_model_add(model, nb_repeat_vector(digits + 1));
    nb_model_add(model, nb_lstm_with(&(nb_recurrent_options){.units = 128,
                                                             .return_sequences = true}));
    nb_model_add(model, nb_dense(N_CHARS, NB_SOFTMAX));
    if (nb_model_compile(model, &(nb_compile_options){.optimizer = nb_adam_default(),
                                                      .loss = "categorical_crossentropy",
                                                      .metrics = {"accuracy"}}) != NB_OK) {
        nb_model_free(model);
        return NULL;
    }
    return model;
}

/* Ten validation questions with the model's answers, as the Keras example
 * prints them: Q the question as written, T the true answer, a check mark
 * and the guess. */
static bool show_questions(nb_model *model, const nb_tensor *x_val, const nb_tensor *y_val,
                           nb_rng *rng)
{
    for (int k = 0; k < 10; k++) {
        int64_t row = (int64_t)nb_rng_below(rng, (uint64_t)x_val->shape[0]);
        nb_tensor *x = nb_slice_rows(x_val, row, 1);
        nb_tensor *probs = x ? nb_model_predict(model, x, 1) : NULL;
        if (!probs) {
            nb_tensor_free(x);
            return false;
        }
        char q[32], reversed[32], t[32], guess[32];
        decode(x_val, row, reversed);
        size_t len = strlen(reversed);
        for (size_t i = 0; i < len; i++)
            q[i] = reversed[len - 1 - i];
        q[len] = '\0';
        decode(y_val, row, t);
        decode(probs, 0, guess);
        printf("Q %s T %s %s %s\n", q, t, strcmp(t, guess) == 0 ? "\u2611" : "\u2612", guess);
        nb_tensor_free(x);
        nb_tensor_free(probs);
    }
    return true;
}

/* Copies of the model's weights (caller-owned, nb_model_weight_count of
 * them), or the copies updated to the model's current values. */
static nb_tensor **copy_weights(const nb_model *model, nb_tensor **copies)
{
    int n = nb_model_weight_count(model);
    if (!copies && !(copies = nb_alloc_zeroed((size_t)n * sizeof *copies)))
        return NULL;
    for (int i = 0; i < n; i++) {
        const nb_tensor *w = nb_model_weight(model, i);
        if (!copies[i])
            copies[i] = nb_tensor_copy(w, w->dtype);
        if (!copies[i] || nb_tensor_copy_data(copies[i], w) != NB_OK)
            return NULL;
    }
    return copies;
}

static void free_weights(nb_tensor **copies, int n)
{
    for (int i = 0; copies && i < n; i++)
        nb_tensor_free(copies[i]);
    nb_release(copies);
}

static int fail(const char *what)
{
    fprintf(stderr, "addition_rnn: %s: %s\n", what, nb_last_error());
    return 1;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    /* 0: nabla's automatic choice, which needs no call */
    if (o.threads > 0 && nb_set_num_threads((int)o.threads) != NB_OK)
        return fail("starting the threads");
    nb_tensor *x = NULL, *y = NULL;
    if (!make_data(o.digits, o.train_size, (uint64_t)o.seed, &x, &y))
        return fail("making the questions");
    int64_t n_val = o.train_size / 10, n_train = o.train_size - n_val;
    nb_tensor *x_train = nb_slice_rows(x, 0, n_train), *y_train = nb_slice_rows(y, 0, n_train);
    nb_tensor *x_val = nb_slice_rows(x, n_train, n_val);
    nb_tensor *y_val = nb_slice_rows(y, n_train, n_val);
    nb_model *model = build_model(o.digits, (uint64_t)o.seed);
    if (!x_train || !y_train || !x_val || !y_val || !model)
        return fail("building the model");
    printf("%lld training and %lld validation questions of up to %ld digits\n",
           (long long)n_train, (long long)n_val, o.digits);
    nb_model_summary(model, stdout);
    nb_rng rng;
    nb_rng_seed(&rng, (uint64_t)o.seed + 1);
    nb_fit_options fit = nb_fit_defaults();
    fit.batch_size = 32;
    fit.validation_x = x_val;
    fit.validation_y = y_val;
    fit.verbose = (int)o.verbose;
    double train_seconds = 0, best_accuracy = -1;
    int best_epoch = 0;
    nb_tensor **best = NULL;
    for (int epoch = 1; epoch <= o.epochs; epoch++) {
        printf("\nIteration %d\n", epoch);
        fit.initial_epoch = epoch - 1;
        fit.epochs = epoch;
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        nb_history *history = nb_model_fit(model, x_train, y_train, &fit);
        train_seconds += seconds_since(&start);
        if (!history)
            return fail("training");
        double accuracy = nb_logs_get(&history->logs[history->epochs - 1], "val_accuracy");
        nb_history_free(history);
        if (accuracy > best_accuracy) {
            best_accuracy = accuracy;
            best_epoch = epoch;
            if (!(best = copy_weights(model, best)))
                return fail("keeping the best weights");
        }
        if (!show_questions(model, x_val, y_val, &rng))
            return fail("predicting");
        fflush(stdout);
    }
    if (nb_model_set_weights(model, nb_model_weight_count(model),
                             (const nb_tensor *const *)best) != NB_OK)
        return fail("restoring the best weights");
    printf("\nthe weights of epoch %d, the best (val_accuracy %.4f), are kept\n", best_epoch,
           best_accuracy);
    free_weights(best, nb_model_weight_count(model));
    nb_logs logs;
    if (nb_model_evaluate(model, x_val, y_val, 32, &logs) != NB_OK)
        return fail("evaluating");
    int threads = nb_num_threads();
    printf("%.1f s per epoch (training and validation, %d thread%s)\n",
           train_seconds / (double)o.epochs, threads, threads == 1 ? "" : "s");
    if (o.save) {
        if (nb_model_save(model, o.save, true) != NB_OK)
            return fail("saving the model");
        printf("model saved to %s\n", o.save);
    }
    printf("validation accuracy: %.4f\n", nb_logs_get(&logs, "accuracy"));
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(x_train);
    nb_tensor_free(y_train);
    nb_tensor_free(x_val);
    nb_tensor_free(y_val);
    return 0;
}
