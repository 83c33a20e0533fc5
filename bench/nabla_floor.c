/* nabla_floor: how fast this machine can possibly run an epoch of the
 * reference MNIST MLP (784-H-64-10, Adam) on one thread, measured, not
 * estimated: the same work as a training step with nothing around it.
 *
 * Usage: nabla_floor [--batch N] [--hidden N] [--samples N] [--epochs N]
 *
 * An epoch of --samples rows is run as steps of --batch rows made of only
 * these three parts, in a training step's order, and the time of each part
 * is summed over the epoch (the epoch of median total among --epochs, after
 * one untimed):
 *   gemm    the eight matrix products of a step, called straight through
 *           cblas (OpenBLAS, one thread): forward x W for the three layers,
 *           dW = x^T dY for the three, dX = dY W^T for layers 3 and 2 (the
 *           input needs no gradient), with the transpose flags and beta
 *           nabla's matmul uses;
 *   adam    nabla's Adam step (nb_optimizer_step) over the model's
 *           parameters, with gradients that never reach subnormal values;
 *   gather  copying the batch's rows, in shuffled order, out of a
 *           --samples x 784 array (what fit does before each step).
 * floor_seconds is their sum: a training epoch does this and more (bias,
 * relu, softmax, the loss, the metric, the bookkeeping), so it is what an
 * epoch would take if all the rest were free. It is a floor to compare
 * with, not a proof: a part's time depends on what the caches hold when it
 * starts, and that differs a little between this loop and training (Adam
 * was seen both faster and slower here than inside fit, on different
 * machines). bench/compare.sh prints nabla's epoch time against it.
 *
 * Last, how far the products are from the machine's limit: peak_gflops is
 * the rate of this core's vector multiply-adds with nothing to load or
 * store (the best of five short runs), and gemm_at_peak_seconds the time
 * the epoch's products would take at that rate, which no GEMM reaches. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nabla/nabla.h"
#include "options.h"

#define N_LAYERS 3

typedef struct options {
    long batch, hidden, samples, epochs;
} options;

static void usage(FILE *out)
{
    fprintf(out, "usage: nabla_floor [--batch N] [--hidden N] [--samples N] [--epochs N]\n"
                 "defaults: batch 32, hidden 128, 48000 samples, 3 epochs\n");
}

static bool parse_args(int argc, char **argv, options *o)
{
    *o = (options){32, 128, 48000, 3};
    for (int i = 1; i < argc; i += 2) { /* every option but --help takes a value */
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        long *field = strcmp(arg, "--batch") == 0     ? &o->batch
                      : strcmp(arg, "--hidden") == 0  ? &o->hidden
                      : strcmp(arg, "--samples") == 0 ? &o->samples
                      : strcmp(arg, "--epochs") == 0  ? &o->epochs
                                                      : NULL;
        if (!field || !value || !bench_parse_long(value, 1, field)) {
            fprintf(stderr, "nabla_floor: bad or incomplete option '%s%s%s'\n", arg,
                    value ? " " : "", value ? value : "");
            usage(stderr);
            return false;
        }
    }
    return true;
}

/* n floats in [-0.05, 0.05), never zero, so no value decays to subnormal */
static float *random_floats(nb_rng *rng, long n)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (long i = 0; p && i < n; i++)
        p[i] = (float)(0.1 * nb_rng_uniform(rng) - 0.05) + 1e-4f;
    return p;
}

/* The activations, their gradients and the weights of the three layers. */
typedef struct mlp {
    int d[N_LAYERS + 1]; /* widths: 784, hidden, 64, 10 */
    float *act[N_LAYERS + 1], *dact[N_LAYERS + 1];
    nb_tensor *kernel[N_LAYERS], *bias[N_LAYERS];
} mlp;

static bool mlp_make(mlp *m, long batch, long hidden, nb_rng *rng)
{
    int d[N_LAYERS + 1] = {784, (int)hidden, 64, 10};
    memcpy(m->d, d, sizeof d);
    bool ok = true;
    for (int l = 0; l <= N_LAYERS; l++) {
        m->act[l] = random_floats(rng, batch * d[l]);
        m->dact[l] = random_floats(rng, batch * d[l]);
        ok = ok && m->act[l] && m->dact[l];
    }
    for (int l = 0; l < N_LAYERS; l++) {
        m->kernel[l] = nb_tensor_zeros(NB_F32, NB_SHAPE(d[l], d[l + 1]));
        m->bias[l] = nb_tensor_zeros(NB_F32, NB_SHAPE(d[l + 1]));
        nb_tensor *both[2] = {m->kernel[l], m->bias[l]};
        for (int k = 0; k < 2; k++) {
            nb_tensor *t = both[k];
            ok = ok && t && nb_tensor_set_requires_grad(t, true) == NB_OK &&
                 nb_tensor_zero_grad(t) == NB_OK;
            float *values = ok ? random_floats(rng, t->size) : NULL;
            ok = ok && values;
            if (ok) { /* the same numbers as weights and as gradients */
                memcpy(t->data, values, (size_t)t->size * sizeof *values);
                memcpy(t->grad, values, (size_t)t->size * sizeof *values);
            }
            free(values);
        }
    }
    return ok;
}

static void mlp_free(mlp *m)
{
    for (int l = 0; l <= N_LAYERS; l++) {
        free(m->act[l]);
        free(m->dact[l]);
    }
    for (int l = 0; l < N_LAYERS; l++) {
        nb_tensor_free(m->kernel[l]);
        nb_tensor_free(m->bias[l]);
    }
}

/* One step's products, as nabla's matmul forward and backward make them. */
static void gemm_step(mlp *m, int batch)
{
    const int *d = m->d;
    for (int l = 0; l < N_LAYERS; l++) /* act[l+1] = act[l] W */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, d[l + 1], d[l], 1.0f,
                    m->act[l], d[l], m->kernel[l]->data, d[l + 1], 0.0f, m->act[l + 1], d[l + 1]);
    for (int l = N_LAYERS - 1; l >= 0; l--) {
        /* dW += act[l]^T dact[l+1] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d[l], d[l + 1], batch, 1.0f,
                    m->act[l], d[l], m->dact[l + 1], d[l + 1], 1.0f, m->kernel[l]->grad, d[l + 1]);
        if (l > 0) /* dact[l] += dact[l+1] W^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, d[l], d[l + 1], 1.0f,
                        m->dact[l + 1], d[l + 1], m->kernel[l]->data, d[l + 1], 1.0f, m->dact[l],
                        d[l]);
    }
}

typedef struct floor_run {
    options o;
    mlp net;
    nb_optimizer *adam;
    nb_tensor *params[2 * N_LAYERS];
    float *images;  /* samples x 784 */
    int64_t *order; /* a shuffled permutation of the samples */
} floor_run;

/* ---- the core's multiply-add rate ------------------------------------------ */

/* Vectors as wide as this CPU's registers (meson.build compiles this file
 * with -march=native), so that every chain below stays in one register:
 * 12 of them (and b and c) fit the 16 registers of SSE2 and AVX2 and the
 * 32 of AVX-512, where 12 vectors twice or four times a register's width
 * would not and would be spilled on every step.
 * meson.build compiles this file with -ffp-contract=fast so that a * b + c
 * is one fused multiply-add where the build has them (a plain x86-64 build
 * has none: its peak is that of separate multiplies and adds). */
#if defined(__AVX512F__)
#define PEAK_LANES 16
#elif defined(__AVX__)
#define PEAK_LANES 8
#else
#define PEAK_LANES 4
#endif
typedef float peak_vec __attribute__((vector_size(PEAK_LANES * sizeof(float))));
/* Independent chains: enough to cover the latency of a multiply-add on
 * every unit that can start one each cycle (4 to 5 cycles x 2 units on
 * x86 cores today). */
#define PEAK_CHAINS 12
#define PEAK_BLOCK 100000L /* steps between looks at the clock */
#define PEAK_RUN_SECONDS 0.1

/* GFLOP/s (2 per multiply-add) of one run of about PEAK_RUN_SECONDS. */
static double peak_gflops_once(void)
{
    peak_vec acc[PEAK_CHAINS], b, c;
    for (int k = 0; k < PEAK_LANES; k++) {
        b[k] = 1.0f - 1e-7f; /* acc stays near c / (1 - b): no overflow, no subnormals */
        c[k] = 1e-3f;
    }
    for (int i = 0; i < PEAK_CHAINS; i++)
        acc[i] = c * (float)i;
    double start = bench_seconds(CLOCK_MONOTONIC), seconds;
    long steps = 0;
    do {
        for (long it = 0; it < PEAK_BLOCK; it++) {
#pragma GCC unroll 12
            for (int i = 0; i < PEAK_CHAINS; i++)
                acc[i] = acc[i] * b + c;
        }
        steps += PEAK_BLOCK;
        seconds = bench_seconds(CLOCK_MONOTONIC) - start;
    } while (seconds < PEAK_RUN_SECONDS);
    volatile float sink = 0; /* the result is used, so the loop stays */
    for (int i = 0; i < PEAK_CHAINS; i++)
        sink += acc[i][0];
    (void)sink;
    return 2.0 * PEAK_LANES * PEAK_CHAINS * (double)steps / seconds / 1e9;
}

/* The best of five runs. */
static double peak_gflops(void)
{
    double best = 0;
    for (int run = 0; run < 5; run++) {
        double g = peak_gflops_once();
        best = g > best ? g : best;
    }
    return best;
}

/* The FLOPs of an epoch's products (nabla_bench's count). */
static double epoch_gemm_flop(const floor_run *r)
{
    double d0 = 784, d1 = (double)r->o.hidden, d2 = 64, d3 = 10;
    double macs = 3 * (d0 * d1 + d1 * d2 + d2 * d3) - d0 * d1;
    long steps = r->o.samples / r->o.batch;
    return 2 * macs * (double)(steps * r->o.batch);
}

/* ---- the floor ------------------------------------------------------------ */

typedef enum part { PART_GEMM, PART_ADAM, PART_GATHER, N_PARTS } part;
static const char *const part_names[N_PARTS] = {"gemm", "adam", "gather"};

/* One step's part `which`; false when nabla reports an error. */
static bool run_part(floor_run *r, part which, long step)
{
    int batch = (int)r->o.batch;
    if (which == PART_GEMM)
        gemm_step(&r->net, batch);
    else if (which == PART_ADAM)
        return nb_optimizer_step(r->adam, 2 * N_LAYERS, r->params) == NB_OK;
    else
        for (int i = 0; i < batch; i++)
            memcpy(r->net.act[0] + (size_t)i * 784,
                   r->images + (size_t)r->order[step * batch + i] * 784, 784 * sizeof(float));
    return true;
}

/* One epoch of steps made of the three parts in a training step's order
 * (batch, products, update), so that they share the caches as they do in
 * training; seconds[p] gets the time spent in part p. */
static bool time_epoch(floor_run *r, double seconds[N_PARTS])
{
    static const part order[N_PARTS] = {PART_GATHER, PART_GEMM, PART_ADAM};
    long steps = r->o.samples / r->o.batch;
    memset(seconds, 0, N_PARTS * sizeof *seconds);
    for (long s = 0; s < steps; s++)
        for (int k = 0; k < N_PARTS; k++) {
            double start = bench_seconds(CLOCK_MONOTONIC);
            if (!run_part(r, order[k], s))
                return false;
            seconds[order[k]] += bench_seconds(CLOCK_MONOTONIC) - start;
        }
    return true;
}

/* The epoch of median total time among --epochs (after one untimed: Adam's
 * state is made and pages are first touched). */
static bool median_epoch(floor_run *r, double seconds[N_PARTS])
{
    double (*epochs)[N_PARTS + 1] = malloc((size_t)r->o.epochs * sizeof *epochs);
    if (!epochs || !time_epoch(r, seconds)) {
        free(epochs);
        return false;
    }
    for (long e = 0; e < r->o.epochs; e++) {
        if (!time_epoch(r, epochs[e] + 1)) {
            free(epochs);
            return false;
        }
        epochs[e][0] = 0;
        for (int p = 0; p < N_PARTS; p++)
            epochs[e][0] += epochs[e][p + 1];
    }
    /* sorted by the total, which comes first in each row */
    qsort(epochs, (size_t)r->o.epochs, sizeof *epochs, bench_compare_doubles);
    memcpy(seconds, epochs[r->o.epochs / 2] + 1, N_PARTS * sizeof *seconds);
    free(epochs);
    return true;
}

static bool prepare(floor_run *r)
{
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    if (!mlp_make(&r->net, r->o.batch, r->o.hidden, &rng))
        return false;
    for (int l = 0; l < N_LAYERS; l++) {
        r->params[2 * l] = r->net.kernel[l];
        r->params[2 * l + 1] = r->net.bias[l];
    }
    r->adam = nb_adam_default();
    r->images = random_floats(&rng, r->o.samples * 784);
    r->order = malloc((size_t)r->o.samples * sizeof *r->order);
    if (!r->adam || !r->images || !r->order)
        return false;
    for (long i = 0; i < r->o.samples; i++)
        r->order[i] = i;
    nb_rng_shuffle(&rng, r->order, r->o.samples);
    return true;
}

int main(int argc, char **argv)
{
    floor_run r = {0};
    if (!parse_args(argc, argv, &r.o))
        return 2;
    if (r.o.batch > r.o.samples) {
        fprintf(stderr, "nabla_floor: --batch %ld is more than --samples %ld\n", r.o.batch,
                r.o.samples);
        return 2;
    }
    /* one thread for OpenBLAS too (nabla keeps it at one from here on) */
    if (nb_set_num_threads(1) != NB_OK || !prepare(&r)) {
        fprintf(stderr, "nabla_floor: preparing: %s\n", nb_last_error());
        return 1;
    }
    printf("nabla_floor: %s; batch %ld, hidden %ld, %ld samples per epoch, one thread\n",
           nb_build_info(), r.o.batch, r.o.hidden, r.o.samples);
    double seconds[N_PARTS], total = 0;
    if (!median_epoch(&r, seconds)) {
        fprintf(stderr, "nabla_floor: %s\n", nb_last_error());
        return 1;
    }
    for (part p = 0; p < N_PARTS; p++) {
        printf("%s_seconds: %.4f\n", part_names[p], seconds[p]);
        total += seconds[p];
    }
    printf("floor_seconds: %.4f\n", total);
    double peak = peak_gflops();
    printf("peak_gflops: %.1f\n", peak);
    printf("gemm_at_peak_seconds: %.4f\n", epoch_gemm_flop(&r) / (peak * 1e9));
    mlp_free(&r.net);
    nb_optimizer_free(r.adam);
    free(r.images);
    free(r.order);
    return 0;
}
