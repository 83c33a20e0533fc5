/* nabla/conv.h: convolution and pooling over images and sequences
 * (src/ops/conv.c, src/ops/pool.c).
 *
 * Layout is Keras's channels_last: an image batch is NHWC
 * [batch, height, width, channels] and a 2-D kernel is
 * [kernel_height, kernel_width, in_channels, filters]; a sequence batch is
 * [batch, steps, channels] with a 1-D kernel [kernel_size, in_channels,
 * filters]. The 1-D ops are the 2-D ones with height 1. Like Keras (and
 * every deep-learning library) "convolution" is cross-correlation: the
 * kernel is not flipped.
 *
 * Padding follows Keras (and TensorFlow): VALID uses only whole windows,
 * out = floor((in - k_eff) / stride) + 1 with k_eff = dilation * (k - 1) + 1;
 * SAME gives out = ceil(in / stride) and pads
 * max((out - 1) * stride + k_eff - in, 0) zeros, half of them (rounded
 * down) before the input and the rest, one more when the total is odd,
 * after it (at the bottom and the right).
 *
 * Results are owned as for every op (nabla/ops.h): by the tape, or by the
 * caller when tape is NULL. Errors name the public function and the shapes.
 *
 * Every op here has second derivatives (nb_grad with create_graph, nb_hvp,
 * nb_jvp, nb_gradgradcheck; nabla/grad.h): their backwards are recorded as
 * ops that differentiate again. Max pooling's second derivative with
 * respect to x is zero, as relu's: which element wins a window does not
 * change when x moves a little (without ties).
 */
#ifndef NABLA_CONV_H
#define NABLA_CONV_H

#include "nabla/tape.h"
#include "nabla/tensor.h"

typedef enum nb_padding { NB_PADDING_VALID, NB_PADDING_SAME } nb_padding;

/* The fuller form of a 2-D convolution's geometry. Zero strides and
 * dilations mean 1. */
typedef struct nb_conv2d_options {
    int strides[2];   /* vertical, horizontal step of the window */
    int dilation[2];  /* spacing of the kernel's taps (1: adjacent) */
    nb_padding padding;
} nb_conv2d_options;

/* 2-D convolution: x [n, h, w, c] with kernel [kh, kw, c, f] gives
 * [n, out_h, out_w, f], the same stride both ways. Gradients flow to x and
 * the kernel. Errors: ranks other than 4, different dtypes, the kernel's
 * in_channels not x's channels, a stride below 1, with VALID a kernel
 * larger than the image. Computed as im2col into the GEMM; the im2col
 * buffer lives on the tape (reused after nb_tape_reset). */
nb_tensor *nb_conv2d(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, int stride,
                     nb_padding padding);
/* nb_conv2d with separate strides and a dilation. Errors as nb_conv2d, and
 * a dilation below 1. */
nb_tensor *nb_conv2d_with(nb_tape *tape, nb_tensor *x, nb_tensor *kernel,
                          nb_conv2d_options options);
/* nb_conv2d_with plus a bias [filters] added to every output pixel, inside
 * the product (the GEMM starts from the bias), as Conv2D uses it: one op
 * instead of a convolution and a broadcasting add. Gradients flow to x,
 * the kernel and the bias. Errors as nb_conv2d_with, and a bias that is
 * not [filters]. */
nb_tensor *nb_conv2d_bias(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, nb_tensor *bias,
                          nb_conv2d_options options);
/* 1-D convolution: x [n, steps, c] with kernel [k, c, f] gives
 * [n, out_steps, f]. Errors as nb_conv2d (ranks 3). */
nb_tensor *nb_conv1d(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, int stride,
                     nb_padding padding);
/* nb_conv1d plus a bias [filters], as nb_conv2d_bias. */
nb_tensor *nb_conv1d_bias(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, nb_tensor *bias,
                          int stride, nb_padding padding);

/* Max pooling: x [n, h, w, c] -> [n, out_h, out_w, c], the largest value of
 * each pool x pool window, per channel. With SAME the padded positions are
 * ignored (as if -inf). The gradient goes to the first largest element of a
 * window (row-major order), as PyTorch and TensorFlow do with ties. Errors:
 * rank other than 4, pool or stride below 1, with VALID a pool larger than
 * the image. */
nb_tensor *nb_max_pool2d(nb_tape *tape, nb_tensor *x, int pool, int stride,
                         nb_padding padding);
/* Average pooling, as nb_max_pool2d; with SAME a window is divided by the
 * number of real (not padded) elements in it, as Keras does. */
nb_tensor *nb_avg_pool2d(nb_tape *tape, nb_tensor *x, int pool, int stride,
                         nb_padding padding);
/* The mean over height and width: [n, h, w, c] -> [n, c]. */
nb_tensor *nb_global_avg_pool2d(nb_tape *tape, nb_tensor *x);

/* 1-D pooling of sequences: x [n, steps, c] -> [n, out_steps, c], as the
 * 2-D ops with height 1. Errors as theirs (rank 3). */
nb_tensor *nb_max_pool1d(nb_tape *tape, nb_tensor *x, int pool, int stride,
                         nb_padding padding);
nb_tensor *nb_avg_pool1d(nb_tape *tape, nb_tensor *x, int pool, int stride,
                         nb_padding padding);
/* The mean over the steps: [n, steps, c] -> [n, c]. */
nb_tensor *nb_global_avg_pool1d(nb_tape *tape, nb_tensor *x);

#endif
