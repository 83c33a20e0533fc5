/* What conv.c (the convolutions) and conv_grad.c (their backward as ops,
 * for second derivatives) share: the convolution's three products on raw
 * buffers, and the ops each file applies of the other's.
 *
 * With col = im2col(x) [rows, taps] and the kernel K read as [taps, f], a
 * convolution is y = col K, its kernel gradient dK = col^T dy and its input
 * gradient dx = col2im(dy K^T) (rows = n * out_h * out_w, taps = kh * kw * c,
 * f = filters). */
#ifndef NABLA_OPS_CONV_INTERNAL_H
#define NABLA_OPS_CONV_INTERNAL_H

#include "ops/window.h"

/* The whole geometry of one convolution: the attrs it was applied with (to
 * apply it again) and the sizes they give. The attrs of conv_grad.c's ops. */
typedef struct nb_conv_geometry {
    nb_window_attrs attrs;
    nb_window g;
    int64_t filters;
} nb_conv_geometry;

/* col = im2col(x) in `node`'s scratch (it lives as long as the node), or x
 * itself when every output pixel sees one input pixel (a 1x1 kernel with
 * stride 1). NULL when out of memory (no message set). */
const void *nb__im2col(nb_node *node, const nb_conv_geometry *c, bool f64, const void *x);

/* y = col K + beta y */
void nb__conv_gemm(const nb_conv_geometry *c, bool f64, const void *col, const void *k,
                   double beta, void *y);

/* dK += col^T dy */
void nb__conv_add_kernel_grad(const nb_conv_geometry *c, bool f64, const void *col,
                              const void *dy, void *dk);

/* dx += col2im(dy K^T), the product's rows in `node`'s scratch (unless x is
 * col); NB_ERR_NOMEM (no message set) without memory for them. */
nb_status nb__conv_add_input_grad(nb_node *node, const nb_conv_geometry *c, bool f64,
                                  const void *dy, const void *k, void *dx);

/* The convolution (conv.c) of x and k with the geometry's attrs. */
nb_tensor *nb__conv(nb_tape *tape, const nb_conv_geometry *c, nb_tensor *x, nb_tensor *k);

/* The convolution's backward as differentiable ops (conv_grad.c):
 * conv_input_grad(dy, k) = col2im(dy K^T), of x's shape, and
 * conv_kernel_grad(x, dy) = im2col(x)^T dy, of the kernel's shape. */
nb_tensor *nb__conv_input_grad(nb_tape *tape, const nb_conv_geometry *c, nb_tensor *dy,
                               nb_tensor *k);
nb_tensor *nb__conv_kernel_grad(nb_tape *tape, const nb_conv_geometry *c, nb_tensor *x,
                                nb_tensor *dy);

#endif
