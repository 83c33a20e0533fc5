/* mnist_mlp: the classic Keras MNIST MLP, in C with nabla.
 *
 *     model = Sequential([Flatten(input_shape=(28, 28)),
 *                         Dense(128, activation='relu'),
 *                         Dense(64, activation='relu'),
 *                         Dense(10, activation='softmax')])
 *     model.compile(optimizer='adam', loss='categorical_crossentropy',
 *                   metrics=['accuracy'])
 *     model.fit(x_train, y_train, epochs=10, batch_size=32,
 *               validation_split=0.2)
 *
 * Usage: mnist_mlp [--data DIR] [--epochs N] [--batch N] [--seed N]
 *                  [--save FILE] [--load FILE] [--curves FILE.png]
 *                  [--history FILE.csv] [--activations FILE.png]
 *                  [--backup FILE] [--verbose 0|1|2] [--mpi]
 * DIR holds the four MNIST IDX files (plain or .gz); by default $NABLA_DATA,
 * else data/mnist when it exists, else the Fashion-MNIST that Debian's
 * dataset-fashion-mnist package installs. --activations draws, after
 * training, what every layer computes for the first test image: the image,
 * then the 128, 64 and 10 units of the Dense layers as grids of brightness. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/data.h"
#include "nabla/io.h"
#include "nabla/model_io.h"
#include "nabla/nabla.h"
#include "nabla/viz.h"

typedef struct options {
    const char *data_dir;
    long epochs, batch, seed, verbose;
    const char *save, *load, *curves, *history, *activations;
    const char *backup; /* nb_backup_and_restore's file: survive a crash */
    bool mpi;           /* train across the ranks of mpirun (docs/distributed.md) */
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: mnist_mlp [--data DIR] [--epochs N] [--batch N] [--seed N]\n"
                 "                 [--save FILE] [--load FILE] [--curves FILE.png]\n"
                 "                 [--history FILE.csv] [--activations FILE.png]\n"
                 "                 [--backup FILE] [--verbose 0|1|2] [--mpi]\n"
                 "defaults: 10 epochs, batch 32, seed 0, curves training_curves.png\n"
                 "(--curves '' turns the picture off), no activations picture;\n"
                 "--epochs 0 with --load only evaluates; --backup FILE saves the\n"
                 "training state after every epoch and, when FILE exists, resumes from it;\n"
                 "--mpi trains across the processes of mpirun (mpirun -np 2 mnist_mlp --mpi)\n");
}

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

static bool parse_args(int argc, char **argv, options *o)
{
    *o = (options){NULL, 10, 32, 0, 1, NULL, NULL, "training_curves.png", NULL, NULL, NULL, false};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = value != NULL;
        if (strcmp(arg, "--mpi") == 0) { /* the one flag without a value */
            o->mpi = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (ok && strcmp(arg, "--data") == 0)
            o->data_dir = value;
        else if (ok && strcmp(arg, "--epochs") == 0)
            ok = parse_long(value, 0, &o->epochs);
        else if (ok && strcmp(arg, "--batch") == 0)
            ok = parse_long(value, 1, &o->batch);
        else if (ok && strcmp(arg, "--seed") == 0)
            ok = parse_long(value, 0, &o->seed);
        else if (ok && strcmp(arg, "--verbose") == 0)
            ok = parse_long(value, 0, &o->verbose) && o->verbose <= 2;
        else if (ok && strcmp(arg, "--save") == 0)
            o->save = value;
        else if (ok && strcmp(arg, "--load") == 0)
            o->load = value;
        else if (ok && strcmp(arg, "--curves") == 0)
            o->curves = value;
        else if (ok && strcmp(arg, "--history") == 0)
            o->history = value;
        else if (ok && strcmp(arg, "--activations") == 0)
            o->activations = value;
        else if (ok && strcmp(arg, "--backup") == 0)
            o->backup = value;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "mnist_mlp: bad or incomplete option '%s%s%s'\n", arg,
                    value ? " " : "", value ? value : "");
            usage(stderr);
            return false;
        }
        i++;
    }
    if (o->epochs == 0 && !o->load) {
        fprintf(stderr, "mnist_mlp: --epochs 0 needs --load FILE (a model to evaluate)\n");
        return false;
    }
    return true;
}

static nb_model *build_model(uint64_t seed)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, seed);
    nb_model_set_input_shape(model, NB_SHAPE(28, 28));
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dense(128, NB_RELU));
    nb_model_add(model, nb_dense(64, NB_RELU));
    nb_model_add(model, nb_dense(10, NB_SOFTMAX));
    nb_status s = nb_model_compile(model, &(nb_compile_options){
                                              .optimizer = nb_adam_default(),
                                              .loss = "categorical_crossentropy",
                                              .metrics = {"accuracy"},
                                          });
    if (s != NB_OK) {
        nb_model_free(model);
        return NULL;
    }
    return model;
}

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                              "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

/* The predicted and true class of the first n test images. */
static void show_predictions(nb_model *model, const nb_mnist *data, bool fashion, int n)
{
    nb_tensor *first = nb_slice_rows(data->test_images, 0, n);
    nb_tensor *probs = nb_model_predict(model, first, n);
    nb_tensor *predicted = nb_argmax(NULL, probs);
    if (!predicted) {
        fprintf(stderr, "mnist_mlp: predict failed: %s\n", nb_last_error());
    } else {
        printf("\nfirst %d test images:\n", n);
        for (int i = 0; i < n; i++) {
            int p = (int)nb_tensor_get(predicted, i), t = (int)nb_tensor_get(data->test_labels, i);
            printf("  image %d: predicted %d%s%s%s, true %d%s%s%s  %s\n", i, p,
                   fashion ? " (" : "", fashion ? fashion_names[p] : "", fashion ? ")" : "", t,
                   fashion ? " (" : "", fashion ? fashion_names[t] : "", fashion ? ")" : "",
                   p == t ? "ok" : "WRONG");
        }
    }
    nb_tensor_free(first);
    nb_tensor_free(probs);
    nb_tensor_free(predicted);
}

/* A picture of every layer's outputs for the first test image. */
static void draw_activations(nb_model *model, const nb_mnist *data, bool fashion,
                             const char *path)
{
    int label = (int)nb_tensor_get(data->test_labels, 0);
    char title[128];
    snprintf(title, sizeof title, "%s MLP on test image 0 (class %d%s%s): each layer's output",
             fashion ? "Fashion-MNIST" : "MNIST", label, fashion ? ", " : "",
             fashion ? fashion_names[label] : "");
    nb_activation_plot_options options = {.title = title,
                                          .class_names = fashion ? fashion_names : NULL,
                                          .n_class_names = fashion ? 10 : 0};
    nb_tensor *image = nb_slice_rows(data->test_images, 0, 1);
    if (nb_activations_plot_png(model, image, path, &options) == NB_OK)
        printf("activations of test image 0 written to %s\n", path);
    else
        fprintf(stderr, "mnist_mlp: no activations picture: %s\n", nb_last_error());
    nb_tensor_free(image);
}

static int fail(const char *what)
{
    fprintf(stderr, "mnist_mlp: %s: %s\n", what, nb_last_error());
    return 1;
}

static int write_outputs(const options *o, const nb_history *history, nb_model *model,
                         bool fashion)
{
    if (history && o->history && nb_history_write_csv(history, o->history) != NB_OK)
        return fail("writing the history");
    if (history && o->history)
        printf("history written to %s\n", o->history);
    if (history && o->curves && o->curves[0]) {
        if (nb_history_plot_png(history, o->curves,
                                fashion ? "MLP on Fashion-MNIST (nabla)" : "MLP on MNIST (nabla)") == NB_OK)
            printf("training curves written to %s\n", o->curves);
        else
            fprintf(stderr, "mnist_mlp: no picture: %s\n", nb_last_error());
    }
    if (o->save) {
        if (nb_model_save(model, o->save, true) != NB_OK)
            return fail("saving the model");
        printf("model saved to %s\n", o->save);
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    /* with --mpi every rank runs all of main (fit, evaluate and predict are
     * collective); only rank 0 prints and writes files */
    nb_comm *world = NULL;
    if (o.mpi && (nb_mpi_init(&argc, &argv) != NB_OK || !(world = nb_comm_world())))
        return fail("starting MPI");
    bool root = nb_comm_rank(world) == 0;
    if (!root && !freopen("/dev/null", "w", stdout))
        return fail("silencing stdout");
    const char *dir = o.data_dir ? o.data_dir : nb_mnist_default_dir();
    nb_mnist data;
    if (nb_mnist_load(dir, &data) != NB_OK)
        return fail("loading the data");
    printf("data: %s: %lld training and %lld test images\n", dir,
           (long long)data.train_images->shape[0], (long long)data.test_images->shape[0]);
    nb_tensor *y_train = nb_to_categorical(data.train_labels, 10, NB_F32);
    nb_tensor *y_test = nb_to_categorical(data.test_labels, 10, NB_F32);
    nb_model *model = o.load ? nb_model_load(o.load) : build_model((uint64_t)o.seed);
    if (!y_train || !y_test || !model)
        return fail(o.load ? "loading the model" : "building the model");
    if (nb_model_set_comm(model, world) != NB_OK)
        return fail("setting the communicator");
    nb_model_summary(model, stdout);

    nb_history *history = NULL;
    if (o.epochs > 0) {
        nb_fit_options fit = nb_fit_defaults();
        fit.epochs = (int)o.epochs;
        fit.batch_size = o.batch;
        fit.validation_split = 0.2;
        fit.verbose = (int)o.verbose;
        nb_callback *backup = o.backup ? nb_backup_and_restore(o.backup, 1, false) : NULL;
        if (o.backup && !backup)
            return fail("setting up the backup");
        fit.callbacks[0] = backup;
        history = nb_model_fit(model, data.train_images, y_train, &fit);
        nb_callback_free(backup);
        if (!history)
            return fail("training");
        if (history->epochs == 0) { /* the backup had finished: nothing to draw */
            printf("nothing left to train: %s is at epoch %d of %ld (delete it to start "
                   "afresh)\n", o.backup ? o.backup : "the model", nb_model_epoch(model),
                   o.epochs);
            nb_history_free(history);
            history = NULL;
        }
    }
    bool fashion = strstr(dir, "fashion") != NULL;
    int status = root ? write_outputs(&o, history, model, fashion) : 0;
    if (root && o.activations && o.activations[0])
        draw_activations(model, &data, fashion, o.activations);
    show_predictions(model, &data, fashion, 8);
    nb_logs test;
    if (nb_model_evaluate(model, data.test_images, y_test, 128, &test) != NB_OK)
        return fail("evaluating");
    printf("\ntest loss: %.4f\ntest accuracy: %.4f\n", nb_logs_get(&test, "loss"),
           nb_logs_get(&test, "accuracy"));
    nb_history_free(history);
    nb_model_free(model);
    nb_tensor_free(y_train);
    nb_tensor_free(y_test);
    nb_mnist_free(&data);
    nb_comm_free(world);
    nb_mpi_finalize();
    return status;
}
