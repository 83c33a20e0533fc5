/* What the MNIST programs (mnist_mlp.c, mnist_cnn.c) share: their flags,
 * error messages, predictions and output files. */
#ifndef MNIST_COMMON_H
#define MNIST_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "nabla/nabla.h"

/* Flags only some programs take, for mnist_parse_args's `extras`. */
enum {
    MNIST_FLAG_ACTIVATIONS = 1 << 0, /* --activations FILE.png */
    MNIST_FLAG_BACKUP = 1 << 1,      /* --backup FILE */
    MNIST_FLAG_MPI = 1 << 2,         /* --mpi */
    MNIST_FLAG_THREADS = 1 << 3,     /* --threads N, 0 for nabla's automatic choice */
    MNIST_FLAG_SAMPLES = 1 << 4,     /* --samples N: train on the first N images */
};

typedef struct mnist_options {
    const char *program; /* "mnist_mlp": starts every message */
    const char *data_dir;
    long epochs, batch, seed, verbose, threads, samples; /* samples 0: all */
    const char *save, *load, *curves, *history, *activations;
    const char *backup; /* nb_backup_and_restore's file: survive a crash */
    bool mpi;           /* train across the ranks of mpirun (docs/distributed.md) */
} mnist_options;

/* Parse argv into *o, whose values on entry are the defaults; usage prints
 * the program's help. --help exits; false (after a message) on a bad flag. */
bool mnist_parse_args(int argc, char **argv, mnist_options *o, unsigned extras,
                      void (*usage)(FILE *out));

/* Apply --threads (0: leave nabla's automatic choice, which needs no
 * call) and print the thread count in use; 0, or 1 after a message. */
int mnist_set_threads(const mnist_options *o);

/* Print "<program>: <what>: <nabla's last error>"; returns 1. */
int mnist_fail(const mnist_options *o, const char *what);

extern const char *const mnist_fashion_names[10];

/* Print the predicted and true class of the first n test images. */
void mnist_show_predictions(const mnist_options *o, nb_model *model,
                            const nb_tensor *test_images, const nb_tensor *test_labels,
                            bool fashion, int n);

/* Write the history (--history), the curves (--curves, titled `title`) and
 * the model (--save); 0, or 1 after a message. */
int mnist_write_outputs(const mnist_options *o, const nb_history *history, nb_model *model,
                        const char *title);

#endif
