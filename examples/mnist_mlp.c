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
 * Usage: mnist_mlp [--data DIR] [--epochs N] [--batch N] [--seed N] [--threads N]
 *                  [--save FILE] [--load FILE] [--curves FILE.png]
 *                  [--history FILE.csv] [--activations FILE.png]
 *                  [--backup FILE] [--verbose 0|1|2] [--mpi]
 * DIR holds the four MNIST IDX files (plain or .gz); by default $NABLA_DATA,
 * else data/mnist when it exists, else the Fashion-MNIST that Debian's
 * dataset-fashion-mnist package installs. --threads N sets the threads
 * nabla computes with; by default nabla chooses (nabla/backend.h,
 * nb_set_num_threads), and the choice is printed. --activations draws, after
 * training, what every layer computes for the first test image: the image,
 * then the 128, 64 and 10 units of the Dense layers as grids of brightness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnist_common.h"
#include "nabla/data.h"
#include "nabla/io.h"
#include "nabla/model_io.h"
#include "nabla/nabla.h"
#include "nabla/viz.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: mnist_mlp [--data DIR] [--epochs N] [--batch N] [--seed N] [--threads N]\n"
                 "                 [--save FILE] [--load FILE] [--curves FILE.png]\n"
                 "                 [--history FILE.csv] [--activations FILE.png]\n"
                 "                 [--backup FILE] [--verbose 0|1|2] [--mpi]\n"
                 "defaults: 10 epochs, batch 32, seed 0, nabla's automatic thread count\n"
                 "(--threads 0), curves training_curves.png\n"
                 "(--curves '' turns the picture off), no activations picture;\n"
                 "--epochs 0 with --load only evaluates; --backup FILE saves the\n"
                 "training state after every epoch and, when FILE exists, resumes from it;\n"
                 "--mpi trains across the processes of mpirun (mpirun -np 2 mnist_mlp --mpi)\n");
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

/* A picture of every layer's outputs for the first test image. */
static void draw_activations(nb_model *model, const nb_mnist *data, bool fashion,
                             const char *path)
{
    int label = (int)nb_tensor_get(data->test_labels, 0);
    char title[128];
    snprintf(title, sizeof title, "%s MLP on test image 0 (class %d%s%s): each layer's output",
             fashion ? "Fashion-MNIST" : "MNIST", label, fashion ? ", " : "",
             fashion ? mnist_fashion_names[label] : "");
    nb_activation_plot_options options = {.title = title,
                                          .class_names = fashion ? mnist_fashion_names : NULL,
                                          .n_class_names = fashion ? 10 : 0};
    nb_tensor *image = nb_slice_rows(data->test_images, 0, 1);
    if (nb_activations_plot_png(model, image, path, &options) == NB_OK)
        printf("activations of test image 0 written to %s\n", path);
    else
        fprintf(stderr, "mnist_mlp: no activations picture: %s\n", nb_last_error());
    nb_tensor_free(image);
}

int main(int argc, char **argv)
{
    mnist_options o = {.program = "mnist_mlp", .epochs = 10, .batch = 32, .verbose = 1,
                       .curves = "training_curves.png"};
    if (!mnist_parse_args(argc, argv, &o,
                          MNIST_FLAG_ACTIVATIONS | MNIST_FLAG_BACKUP | MNIST_FLAG_MPI |
                              MNIST_FLAG_THREADS,
                          usage))
        return 2;
    /* with --mpi every rank runs all of main (fit, evaluate and predict are
     * collective); only rank 0 prints and writes files */
    nb_comm *world = NULL;
    if (o.mpi && (nb_mpi_init(&argc, &argv) != NB_OK || !(world = nb_comm_world())))
        return mnist_fail(&o, "starting MPI");
    bool root = nb_comm_rank(world) == 0;
    if (!root && !freopen("/dev/null", "w", stdout))
        return mnist_fail(&o, "silencing stdout");
    const char *dir = o.data_dir ? o.data_dir : nb_mnist_default_dir();
    nb_mnist data;
    if (nb_mnist_load(dir, &data) != NB_OK)
        return mnist_fail(&o, "loading the data");
    printf("data: %s: %lld training and %lld test images\n", dir,
           (long long)data.train_images->shape[0], (long long)data.test_images->shape[0]);
    if (mnist_set_threads(&o) != 0)
        return 1;
    nb_tensor *y_train = nb_to_categorical(data.train_labels, 10, NB_F32);
    nb_tensor *y_test = nb_to_categorical(data.test_labels, 10, NB_F32);
    nb_model *model = o.load ? nb_model_load(o.load) : build_model((uint64_t)o.seed);
    if (!y_train || !y_test || !model)
        return mnist_fail(&o, o.load ? "loading the model" : "building the model");
    if (nb_model_set_comm(model, world) != NB_OK)
        return mnist_fail(&o, "setting the communicator");
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
            return mnist_fail(&o, "setting up the backup");
        fit.callbacks[0] = backup;
        history = nb_model_fit(model, data.train_images, y_train, &fit);
        nb_callback_free(backup);
        if (!history)
            return mnist_fail(&o, "training");
        if (history->epochs == 0) { /* the backup had finished: nothing to draw */
            printf("nothing left to train: %s is at epoch %d of %ld (delete it to start "
                   "afresh)\n", o.backup ? o.backup : "the model", nb_model_epoch(model),
                   o.epochs);
            nb_history_free(history);
            history = NULL;
        }
    }
    bool fashion = strstr(dir, "fashion") != NULL;
    const char *title = fashion ? "MLP on Fashion-MNIST (nabla)" : "MLP on MNIST (nabla)";
    int status = root ? mnist_write_outputs(&o, history, model, title) : 0;
    if (root && o.activations && o.activations[0])
        draw_activations(model, &data, fashion, o.activations);
    mnist_show_predictions(&o, model, data.test_images, data.test_labels, fashion, 8);
    nb_logs test;
    if (nb_model_evaluate(model, data.test_images, y_test, 128, &test) != NB_OK)
        return mnist_fail(&o, "evaluating");
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
