/* nabla_bench: time the reference MNIST MLP (784-H-64-10, Adam, categorical
 * cross-entropy, accuracy) through nabla's public API; with --model cnn the
 * Keras MNIST convnet of examples/mnist_cnn.c instead.
 *
 * Usage: nabla_bench [--model mlp|cnn] [--data DIR] [--batch N] [--threads N]
 *                    [--epochs N] [--hidden N] [--samples N] [--seed N] [--mpi]
 *
 * An epoch is the first --samples training images (default 48,000: the 80%
 * that validation_split 0.2 leaves), shuffled, with no validation pass, so
 * the time is training steps only. Per epoch it prints `epoch_seconds: X`;
 * at the end the median epoch time, samples per second, GFLOP/s, peak
 * resident memory and `test accuracy: X` on the 10,000 test images.
 *
 * With --mpi, under `mpirun -np P`, the P processes train together
 * (nabla/distributed.h): --batch is the global batch, an epoch is still
 * --samples images in all, so samples_per_second is the throughput of the
 * whole run; --threads is per process. Only rank 0 prints (bench/mpi.sh).
 *
 * FLOPs per sample (2 per multiply-add), with layer sizes d0 = 784, d1 = H,
 * d2 = 64, d3 = 10:
 *   forward  x W for each layer:             sum_l d(l-1) d(l)
 *   backward dW = x^T dY for each layer:     sum_l d(l-1) d(l)
 *   backward dX = dY W^T for layers 2 and 3: sum_{l>=2} d(l-1) d(l)
 * i.e. 2 (3 sum_l d(l-1) d(l) - d0 d1) = 454,400 for H = 128. Elementwise
 * work (bias, relu, softmax, loss, Adam) is not counted.
 *
 * The convnet (--model cnn; an epoch is by default the 54,000 images that
 * validation_split 0.1 leaves) counts its products the same way, in
 * multiply-adds per sample: conv1 26*26 pixels x 9 taps x 32 filters
 * (forward and kernel gradient; its input needs none), conv2 11*11 x 288 x
 * 64 and the Dense 1600 x 10 (forward, kernel gradient, input gradient):
 * 2 (2 * 194,688 + 3 * 2,230,272 + 3 * 16,000) = 14,256,384 FLOP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nabla/nabla.h"
#include "options.h"

typedef struct options {
    bool cnn; /* --model cnn */
    const char *data_dir;
    long batch, threads, epochs, hidden, samples, seed;
    bool mpi; /* train across the processes of mpirun */
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: nabla_bench [--model mlp|cnn] [--data DIR] [--batch N] [--threads N]\n"
                 "                   [--epochs N] [--hidden N] [--samples N] [--seed N] [--mpi]\n"
                 "defaults: the MLP, batch 32, nabla's automatic thread count (--threads 0),\n"
                 "3 epochs, hidden 128, 48000 samples,\n"
                 "seed 0; --model cnn: the convnet, batch 128, 54000 samples;\n"
                 "--mpi: train across the processes of mpirun, batch being the global batch\n");
}

static bool parse_args(int argc, char **argv, options *o)
{
    *o = (options){false, NULL, 0, 0, 3, 128, 0, 0, false}; /* batch, samples: per model */
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
        } else if (ok && strcmp(arg, "--model") == 0) {
            o->cnn = strcmp(value, "cnn") == 0;
            ok = o->cnn || strcmp(value, "mlp") == 0;
        } else if (ok && strcmp(arg, "--data") == 0)
            o->data_dir = value;
        else if (ok && strcmp(arg, "--batch") == 0)
            ok = bench_parse_long(value, 1, &o->batch);
        else if (ok && strcmp(arg, "--threads") == 0)
            ok = bench_parse_long(value, 0, &o->threads) && o->threads <= 64;
        else if (ok && strcmp(arg, "--epochs") == 0)
            ok = bench_parse_long(value, 1, &o->epochs);
        else if (ok && strcmp(arg, "--hidden") == 0)
            ok = bench_parse_long(value, 1, &o->hidden);
        else if (ok && strcmp(arg, "--samples") == 0)
            ok = bench_parse_long(value, 1, &o->samples);
        else if (ok && strcmp(arg, "--seed") == 0)
            ok = bench_parse_long(value, 0, &o->seed);
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "nabla_bench: bad or incomplete option '%s%s%s'\n", arg,
                    value ? " " : "", value ? value : "");
            usage(stderr);
            return false;
        }
        i++;
    }
    if (o->batch == 0)
        o->batch = o->cnn ? 128 : 32;
    if (o->samples == 0)
        o->samples = o->cnn ? 54000 : 48000;
    return true;
}

/* The convnet of examples/mnist_cnn.c */
static void add_cnn_layers(nb_model *model)
{
    nb_model_set_input_shape(model, NB_SHAPE(28, 28, 1));
    nb_model_add(model, nb_conv2d_layer(32, 3, 1, NB_PADDING_VALID, NB_RELU));
    nb_model_add(model, nb_max_pooling2d(2, 0, NB_PADDING_VALID));
    nb_model_add(model, nb_conv2d_layer(64, 3, 1, NB_PADDING_VALID, NB_RELU));
    nb_model_add(model, nb_max_pooling2d(2, 0, NB_PADDING_VALID));
    nb_model_add(model, nb_flatten_layer());
    nb_model_add(model, nb_dropout(0.5));
    nb_model_add(model, nb_dense(10, NB_SOFTMAX));
}

static nb_model *build_model(const options *o)
{
    nb_model *model = nb_sequential();
    nb_model_set_seed(model, (uint64_t)o->seed);
    if (o->cnn) {
        add_cnn_layers(model);
    } else {
        nb_model_set_input_shape(model, NB_SHAPE(28, 28));
        nb_model_add(model, nb_flatten_layer());
        nb_model_add(model, nb_dense(o->hidden, NB_RELU));
        nb_model_add(model, nb_dense(64, NB_RELU));
        nb_model_add(model, nb_dense(10, NB_SOFTMAX));
    }
    if (nb_model_compile(model, &(nb_compile_options){.optimizer = nb_adam_default(),
                                                      .loss = "categorical_crossentropy",
                                                      .metrics = {"accuracy"}}) != NB_OK) {
        nb_model_free(model);
        return NULL;
    }
    return model;
}

static int fail(const char *what)
{
    fprintf(stderr, "nabla_bench: %s: %s\n", what, nb_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    nb_comm *world = NULL; /* with --mpi: every rank trains, rank 0 reports */
    if (o.mpi && (nb_mpi_init(&argc, &argv) != NB_OK || !(world = nb_comm_world())))
        return fail("starting MPI");
    if (nb_comm_rank(world) != 0 && !freopen("/dev/null", "w", stdout))
        return fail("silencing stdout");
    /* 0: nabla's automatic choice, which needs no call */
    if (o.threads > 0 && nb_set_num_threads((int)o.threads) != NB_OK)
        return fail("setting threads");
    const char *dir = o.data_dir ? o.data_dir : nb_mnist_default_dir();
    nb_mnist data;
    if (nb_mnist_load(dir, &data) != NB_OK)
        return fail("loading the data");
    int64_t n = o.samples < data.train_images->shape[0] ? o.samples : data.train_images->shape[0];
    nb_tensor *labels = nb_to_categorical(data.train_labels, 10, NB_F32);
    nb_tensor *x = nb_slice_rows(data.train_images, 0, n);
    nb_tensor *y = labels ? nb_slice_rows(labels, 0, n) : NULL;
    nb_tensor *y_test = nb_to_categorical(data.test_labels, 10, NB_F32);
    if (o.cnn && x) { /* [n, 28, 28] -> [n, 28, 28, 1] */
        nb_tensor *nhwc = nb_reshape(NULL, x, NB_SHAPE(n, 28, 28, 1));
        nb_tensor *test = nb_reshape(NULL, data.test_images, NB_SHAPE(-1, 28, 28, 1));
        nb_tensor_free(x);
        nb_tensor_free(data.test_images);
        x = nhwc;
        data.test_images = test;
    }
    nb_model *model = build_model(&o);
    if (!x || !y || !y_test || !model || nb_model_set_comm(model, world) != NB_OK)
        return fail("preparing the model and data");

    printf("nabla_bench: %s; model %s, batch %ld, threads %d (%s), hidden %ld, %lld samples "
           "per epoch, %d process%s\n", nb_build_info(), o.cnn ? "cnn" : "mlp", o.batch,
           nb_num_threads(), nb_num_threads_source(), o.hidden, (long long)n, nb_comm_size(world), nb_comm_size(world) > 1 ? "es" : "");
    nb_fit_options fit = nb_fit_defaults();
    fit.epochs = 1;
    fit.batch_size = o.batch;
    fit.verbose = 0;
    /* wall and CPU seconds per epoch: on a busy machine CPU time is the
     * steadier of the two (it sums over threads) */
    double *seconds = calloc((size_t)o.epochs, sizeof *seconds);
    double *cpu = calloc((size_t)o.epochs, sizeof *cpu);
    if (!seconds || !cpu)
        return 1;
    for (long e = 0; e < o.epochs; e++) {
        double start = bench_seconds(CLOCK_MONOTONIC);
        double cpu_start = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
        nb_history *history = nb_model_fit(model, x, y, &fit);
        seconds[e] = bench_seconds(CLOCK_MONOTONIC) - start;
        cpu[e] = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
        if (!history)
            return fail("training");
        nb_history_free(history);
        printf("epoch_seconds: %.4f\n", seconds[e]);
        fflush(stdout);
    }
    qsort(seconds, (size_t)o.epochs, sizeof *seconds, bench_compare_doubles);
    qsort(cpu, (size_t)o.epochs, sizeof *cpu, bench_compare_doubles);
    double median = seconds[o.epochs / 2];
    double h = (double)o.hidden;
    double macs = 784 * h + h * 64 + 64 * 10;
    double flops_per_sample = 2.0 * (3.0 * macs - 784 * h);
    if (o.cnn)
        flops_per_sample = 2.0 * (2 * 194688.0 + 3 * 2230272.0 + 3 * 16000.0);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("median epoch_seconds: %.4f (min %.4f, median cpu_seconds %.4f)\n", median,
           seconds[0], cpu[o.epochs / 2]);
    printf("samples_per_second: %.0f\n", (double)n / median);
    printf("gflops: %.2f (%.0f FLOP per sample)\n", flops_per_sample * (double)n / median / 1e9,
           flops_per_sample);
    printf("peak_rss_mb: %.1f\n", (double)usage.ru_maxrss / 1024.0);

    nb_logs test;
    if (nb_model_evaluate(model, data.test_images, y_test, 128, &test) != NB_OK)
        return fail("evaluating");
    printf("test accuracy: %.4f\n", nb_logs_get(&test, "accuracy"));
    free(seconds);
    free(cpu);
    nb_model_free(model);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(labels);
    nb_tensor_free(y_test);
    nb_mnist_free(&data);
    nb_comm_free(world);
    nb_mpi_finalize();
    return 0;
}
