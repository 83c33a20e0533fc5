/* conv_ops: the MNIST convnet's two convolutions alone, nabla's ops, CPU
 * milliseconds a step (batch 128, one thread): conv1 [128, 28, 28, 1] by
 * [3, 3, 1, 32] and conv2 [128, 13, 13, 32] by [3, 3, 32, 64], each with
 * its bias, forward, then backward to the kernels, the biases and conv2's
 * input, on a warm tape. bench/torch_conv_ops.py times the same in PyTorch
 * (oneDNN), NCHW and channels_last (docs/performance.md, "The convnet").
 *
 * Usage: conv_ops [--steps N] */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nabla/nabla.h"
#include "options.h"

/* A caller-owned uniform tensor that requires a gradient when asked. */
static nb_tensor *uniform(int rank, const int64_t *shape, double scale, bool grad, nb_rng *rng)
{
    nb_tensor *t = nb_tensor_rand_uniform(NB_F32, rank, shape, -scale, scale, rng);
    if (t && grad)
        nb_tensor_set_requires_grad(t, true);
    return t;
}

int main(int argc, char **argv)
{
    long steps = 20;
    if (argc == 3 && strcmp(argv[1], "--steps") == 0 && bench_parse_long(argv[2], 1, &steps))
        ;
    else if (argc != 1) {
        fprintf(stderr, "usage: conv_ops [--steps N]\n");
        return 2;
    }
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    nb_tensor *x1 = uniform(NB_SHAPE(128, 28, 28, 1), 1, false, &rng);
    nb_tensor *k1 = uniform(NB_SHAPE(3, 3, 1, 32), 0.1, true, &rng);
    nb_tensor *b1 = uniform(NB_SHAPE(32), 0.1, true, &rng);
    nb_tensor *x2 = uniform(NB_SHAPE(128, 13, 13, 32), 1, true, &rng);
    nb_tensor *k2 = uniform(NB_SHAPE(3, 3, 32, 64), 0.1, true, &rng);
    nb_tensor *b2 = uniform(NB_SHAPE(64), 0.1, true, &rng);
    nb_tape *tape = nb_tape_new();
    if (!x1 || !k1 || !b1 || !x2 || !k2 || !b2 || !tape) {
        fprintf(stderr, "conv_ops: %s\n", nb_last_error());
        return 1;
    }
    double forward = 0, total = 0;
    for (long i = -3; i < steps; i++) { /* 3 warm-up steps */
        nb_tape_reset(tape);
        double t0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
        nb_tensor *y1 = nb_conv2d_bias(tape, x1, k1, b1, (nb_conv2d_options){0});
        nb_tensor *y2 = nb_conv2d_bias(tape, x2, k2, b2, (nb_conv2d_options){0});
        double t1 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
        if (nb_backward(nb_add(tape, nb_sum(tape, y1), nb_sum(tape, y2))) != NB_OK) {
            fprintf(stderr, "conv_ops: %s\n", nb_last_error());
            return 1;
        }
        double t2 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
        if (i >= 0) {
            forward += t1 - t0;
            total += t2 - t0;
        }
    }
    printf("nabla conv1+conv2 per step: forward %.1f ms, forward+backward %.1f ms (CPU)\n",
           1e3 * forward / (double)steps, 1e3 * total / (double)steps);
    nb_tape_free(tape);
    nb_tensor *all[] = {x1, k1, b1, x2, k2, b2};
    for (int i = 0; i < 6; i++)
        nb_tensor_free(all[i]);
    return 0;
}
