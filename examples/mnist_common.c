/* What the MNIST programs share (mnist_common.h). */
#include "mnist_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool parse_long(const char *text, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min)
        return false;
    *out = v;
    return true;
}

/* One flag with a value; false when it is unknown (or not taken by this
 * program) or its value is bad. */
static bool parse_flag(const char *arg, const char *value, mnist_options *o, unsigned extras)
{
    if (strcmp(arg, "--data") == 0)
        o->data_dir = value;
    else if (strcmp(arg, "--epochs") == 0)
        return parse_long(value, 0, &o->epochs);
    else if (strcmp(arg, "--batch") == 0)
        return parse_long(value, 1, &o->batch);
    else if (strcmp(arg, "--seed") == 0)
        return parse_long(value, 0, &o->seed);
    else if (strcmp(arg, "--verbose") == 0)
        return parse_long(value, 0, &o->verbose) && o->verbose <= 2;
    else if (strcmp(arg, "--save") == 0)
        o->save = value;
    else if (strcmp(arg, "--load") == 0)
        o->load = value;
    else if (strcmp(arg, "--curves") == 0)
        o->curves = value;
    else if (strcmp(arg, "--history") == 0)
        o->history = value;
    else if ((extras & MNIST_FLAG_ACTIVATIONS) && strcmp(arg, "--activations") == 0)
        o->activations = value;
    else if ((extras & MNIST_FLAG_BACKUP) && strcmp(arg, "--backup") == 0)
        o->backup = value;
    else if ((extras & MNIST_FLAG_THREADS) && strcmp(arg, "--threads") == 0)
        return parse_long(value, 0, &o->threads) && o->threads <= 64;
    else if ((extras & MNIST_FLAG_SAMPLES) && strcmp(arg, "--samples") == 0)
        return parse_long(value, 1, &o->samples);
    else
        return false;
    return true;
}

int mnist_set_threads(const mnist_options *o)
{
    if (o->threads > 0 && nb_set_num_threads((int)o->threads) != NB_OK)
        return mnist_fail(o, "setting the threads");
    printf("threads: %d (%s)\n", nb_num_threads(), nb_num_threads_source());
    return 0;
}

bool mnist_parse_args(int argc, char **argv, mnist_options *o, unsigned extras,
                      void (*usage)(FILE *out))
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if ((extras & MNIST_FLAG_MPI) && strcmp(arg, "--mpi") == 0) { /* no value */
            o->mpi = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (!value || !parse_flag(arg, value, o, extras)) {
            fprintf(stderr, "%s: bad or incomplete option '%s%s%s'\n", o->program, arg,
                    value ? " " : "", value ? value : "");
            usage(stderr);
            return false;
        }
        i++;
    }
    if (o->epochs == 0 && !o->load) {
        fprintf(stderr, "%s: --epochs 0 needs --load FILE (a model to evaluate)\n", o->program);
        return false;
    }
    return true;
}

int mnist_fail(const mnist_options *o, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", o->program, what, nb_last_error());
    return 1;
}

const char *const mnist_fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                             "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                             "Bag",         "Ankle boot"};

void mnist_show_predictions(const mnist_options *o, nb_model *model,
                            const nb_tensor *test_images, const nb_tensor *test_labels,
                            bool fashion, int n)
{
    const char *const *names = mnist_fashion_names;
    nb_tensor *first = nb_slice_rows(test_images, 0, n);
    nb_tensor *probs = nb_model_predict(model, first, n);
    nb_tensor *predicted = nb_argmax(NULL, probs);
    if (!predicted) {
        fprintf(stderr, "%s: predict failed: %s\n", o->program, nb_last_error());
    } else {
        printf("\nfirst %d test images:\n", n);
        for (int i = 0; i < n; i++) {
            int p = (int)nb_tensor_get(predicted, i), t = (int)nb_tensor_get(test_labels, i);
            printf("  image %d: predicted %d%s%s%s, true %d%s%s%s  %s\n", i, p,
                   fashion ? " (" : "", fashion ? names[p] : "", fashion ? ")" : "", t,
                   fashion ? " (" : "", fashion ? names[t] : "", fashion ? ")" : "",
                   p == t ? "ok" : "WRONG");
        }
    }
    nb_tensor_free(first);
    nb_tensor_free(probs);
    nb_tensor_free(predicted);
}

int mnist_write_outputs(const mnist_options *o, const nb_history *history, nb_model *model,
                        const char *title)
{
    if (history && o->history && nb_history_write_csv(history, o->history) != NB_OK)
        return mnist_fail(o, "writing the history");
    if (history && o->history)
        printf("history written to %s\n", o->history);
    if (history && o->curves && o->curves[0]) {
        if (nb_history_plot_png(history, o->curves, title) == NB_OK)
            printf("training curves written to %s\n", o->curves);
        else
            fprintf(stderr, "%s: no picture: %s\n", o->program, nb_last_error());
    }
    if (o->save) {
        if (nb_model_save(model, o->save, true) != NB_OK)
            return mnist_fail(o, "saving the model");
        printf("model saved to %s\n", o->save);
    }
    return 0;
}
