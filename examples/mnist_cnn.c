/* mnist_cnn: the Keras MNIST convnet example, in C with nabla.
 *
 *     model = Sequential([Input(shape=(28, 28, 1)),
 *                         Conv2D(32, kernel_size=(3, 3), activation="relu"),
 *                         MaxPooling2D(pool_size=(2, 2)),
 *                         Conv2D(64, kernel_size=(3, 3), activation="relu"),
 *                         MaxPooling2D(pool_size=(2, 2)),
 *                         Flatten(),
 *                         Dropout(0.5),
 *                         Dense(10, activation="softmax")])
 *     model.compile(loss="categorical_crossentropy", optimizer="adam",
 *                   metrics=["accuracy"])
 *     model.fit(x_train, y_train, batch_size=128, epochs=15,
 *               validation_split=0.1)
 *
 * Usage: mnist_cnn [--data DIR] [--epochs N] [--batch N] [--seed N]
 *                  [--threads N] [--samples N] [--save FILE] [--load FILE]
 *                  [--curves FILE.png] [--history FILE.csv] [--verbose 0|1|2]
 * The data directory is found as mnist_mlp finds it: $NABLA_DATA, else
 * data/mnist, else Debian's Fashion-MNIST. --samples N trains on the first
 * N training images only (quick runs). */
#include <stdio.h>
#include <string.h>

#include "mnist_common.h"
#include "nabla/nabla.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: mnist_cnn [--data DIR] [--epochs N] [--batch N] [--seed N]\n"
                 "                 [--threads N] [--samples N] [--save FILE] [--load FILE]\n"
                 "                 [--curves FILE.png] [--history FILE.csv] [--verbose 0|1|2]\n"
                 "defaults: 15 epochs, batch 128, seed 0, 1 thread (--threads 0: nabla's\n"
                 "automatic choice), every training image,\n"
                 "curves cnn_training_curves.png (--curves '' turns the picture off);\n"
                 "--epochs 0 with --load only evaluates\n");
}

static nb_model *build_model(uint64_t seed)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, seed);
    nb_model_set_input_shape(model, NB_SHAPE(28, 28, 1));
    nb_model_add(model, nb_conv2d_layer(32, 3, 1, NB_PADDING_VALID, NB_RELU));
    nb_model_add(model, nb_max_pooling2d(2, 0, NB_PADDING_VALID));
    nb_model_add(model, nb_conv2d_layer(64, 3, 1, NB_PADDING_VALID, NB_RELU));
    nb_model_add(model, nb_max_pooling2d(2, 0, NB_PADDING_VALID));
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dropout(0.5));
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

/* [n, 28, 28] -> [n, 28, 28, 1], channels_last with one channel; frees the
 * input. */
static nb_tensor *with_channel_axis(nb_tensor *images)
{
    nb_tensor *nhwc = nb_reshape(NULL, images, NB_SHAPE(images->shape[0], images->shape[1],
                                                        images->shape[2], 1));
    nb_tensor_free(images);
    return nhwc;
}

/* The first n rows of *t (all when n is 0 or more than there are). */
static bool keep_first(nb_tensor **t, long n)
{
    if (n <= 0 || n >= (*t)->shape[0])
        return true;
    nb_tensor *first = nb_slice_rows(*t, 0, n);
    nb_tensor_free(*t);
    *t = first;
    return first != NULL;
}

int main(int argc, char **argv)
{
    mnist_options o = {.program = "mnist_cnn", .epochs = 15, .batch = 128, .verbose = 1,
                       .threads = 1, .curves = "cnn_training_curves.png"};
    if (!mnist_parse_args(argc, argv, &o, MNIST_FLAG_THREADS | MNIST_FLAG_SAMPLES, usage))
        return 2;
    if (mnist_set_threads(&o) != 0)
        return 1;
    const char *dir = o.data_dir ? o.data_dir : nb_mnist_default_dir();
    nb_mnist data;
    if (nb_mnist_load(dir, &data) != NB_OK)
        return mnist_fail(&o, "loading the data");
    printf("data: %s: %lld training and %lld test images\n", dir,
           (long long)data.train_images->shape[0], (long long)data.test_images->shape[0]);
    if (!keep_first(&data.train_images, o.samples) || !keep_first(&data.train_labels, o.samples))
        return mnist_fail(&o, "taking the first samples");
    data.train_images = with_channel_axis(data.train_images);
    data.test_images = with_channel_axis(data.test_images);
    if (!data.train_images || !data.test_images)
        return mnist_fail(&o, "adding the channel axis");
    nb_tensor *y_train = nb_to_categorical(data.train_labels, 10, NB_F32);
    nb_tensor *y_test = nb_to_categorical(data.test_labels, 10, NB_F32);
    nb_model *model = o.load ? nb_model_load(o.load) : build_model((uint64_t)o.seed);
    if (!y_train || !y_test || !model)
        return mnist_fail(&o, o.load ? "loading the model" : "building the model");
    nb_model_summary(model, stdout);

    nb_history *history = NULL;
    if (o.epochs > 0) {
        nb_fit_options fit = nb_fit_defaults();
        fit.epochs = (int)o.epochs;
        fit.batch_size = o.batch;
        fit.validation_split = 0.1;
        fit.verbose = (int)o.verbose;
        history = nb_model_fit(model, data.train_images, y_train, &fit);
        if (!history)
            return mnist_fail(&o, "training");
    }
    bool fashion = strstr(dir, "fashion") != NULL;
    const char *title = fashion ? "convnet on Fashion-MNIST (nabla)" : "convnet on MNIST (nabla)";
    int status = mnist_write_outputs(&o, history, model, title);
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
    return status;
}
