/* The geometry of a sliding window over NHWC images, shared by convolution
 * (conv.c) and pooling (pool.c): sizes, strides, dilations and Keras's
 * padding. A sequence [n, steps, c] is an image of height 1. */
#ifndef NABLA_OPS_WINDOW_H
#define NABLA_OPS_WINDOW_H

#include "ops/ops_internal.h"

/* What an op applying a window is given (its attrs). `fn` is the public
 * function's name for messages; `spatial` is 2 for images, 1 for sequences. */
typedef struct nb_window_attrs {
    const char *fn;
    int spatial;
    int window[2]; /* pooling's window; a convolution's comes from its kernel */
    int strides[2], dilation[2];
    nb_padding padding;
} nb_window_attrs;

/* Everything the loops need, in elements. */
typedef struct nb_window {
    int64_t n, h, w, c;       /* input */
    int64_t kh, kw;           /* window taps */
    int64_t oh, ow;           /* output */
    int64_t sh, sw, dh, dw;   /* strides and dilations */
    int64_t pad_top, pad_left;
} nb_window;

/* Keras's rule for one axis of `in` positions and a (dilated) window of
 * k_eff: SAME keeps ceil(in / stride) outputs and puts half the padding,
 * rounded down, before the input; VALID keeps whole windows. False when
 * with VALID the window is longer than the input (then *out is 0). */
bool nb__window_axis(nb_padding padding, int64_t in, int64_t k_eff, int64_t stride,
                     int64_t *out, int64_t *pad_before);

/* Check the attrs' numbers (strides, dilations, window sizes at least 1). */
nb_status nb__window_check_attrs(const nb_window_attrs *a);

/* The geometry of `a` over x (rank 2 + a->spatial) with a kh x kw window;
 * fails, naming x's shape and `what` (the kernel or the pool), when with
 * VALID the dilated window is larger than the input. */
nb_status nb__window_of(const nb_window_attrs *a, const nb_tensor *x, int64_t kh, int64_t kw,
                        const char *what, nb_window *g);

/* The output shape: [n, oh, ow, channels], or [n, ow, channels] for a
 * sequence. */
void nb__window_out_shape(const nb_window_attrs *a, const nb_window *g, int64_t channels,
                          int *rank, int64_t shape[NB_MAX_RANK]);

#endif
