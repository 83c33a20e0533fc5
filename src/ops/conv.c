/* Convolution as im2col into the GEMM.
 *
 * im2col copies, for every output pixel, the window of input it sees into a
 * row of a matrix col [n * out_h * out_w, kh * kw * c] (zeros where the
 * window hangs over the padding). The kernel [kh, kw, c, f] read as a matrix
 * [kh * kw * c, f] has its rows in the same order, so the convolution is one
 * product, y = col K, and the NHWC output [n, out_h, out_w, f] is that
 * product's [n * out_h * out_w, f] as it stands. The GEMM is the same
 * (cblas, split across nabla's threads) as nb_matmul's. oneDNN's NHWC
 * convolutions measured faster than this on their own (bench/conv_ops.c;
 * docs/performance.md, "The convnet"): the next step, not taken yet. A
 * direct loop nest was not tried.
 *
 * col lives on the tape as the node's scratch (forward keeps it for the
 * kernel's gradient), so a training step reuses the same memory each time
 * the tape is reset and allocates nothing once warm. A 1x1 kernel with
 * stride 1 needs no im2col: x itself is col. */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "ops/conv_internal.h"

static const char *const x_layout[] = {"", "[batch, steps, channels]",
                                       "[batch, height, width, channels]"};
static const char *const kernel_layout[] = {"", "[kernel_size, in_channels, filters]",
                                            "[kernel_height, kernel_width, in_channels, filters]"};

static nb_status require_conv_rank(const nb_window_attrs *a, const nb_tensor *t,
                                   const char *name, const char *layout)
{
    if (t->rank == a->spatial + 2)
        return NB_OK;
    char buf[NB_SHAPE_BUF];
    return nb_error(NB_ERR_SHAPE, "%s: %s has shape %s (rank %d): expected rank %d, %s", a->fn,
                    name, nb_shape_str(t, buf, sizeof buf), t->rank, a->spatial + 2, layout);
}

/* The kernel's taps, in_channels and filters, read for either rank. */
static void kernel_dims(const nb_window_attrs *a, const nb_tensor *k, int64_t *kh, int64_t *kw,
                        int64_t *in_c, int64_t *filters)
{
    *kh = a->spatial == 2 ? k->shape[0] : 1;
    *kw = k->shape[a->spatial - 1];
    *in_c = k->shape[a->spatial];
    *filters = k->shape[a->spatial + 1];
}

static nb_status conv_window(const nb_node *node, nb_window *g, int64_t *filters)
{
    const nb_window_attrs *a = NB_ATTRS(node, nb_window_attrs);
    const nb_tensor *x = node->inputs[0], *k = node->inputs[1];
    int64_t kh, kw, in_c;
    kernel_dims(a, k, &kh, &kw, &in_c, filters);
    char sx[NB_SHAPE_BUF], sk[NB_SHAPE_BUF], what[3 * NB_SHAPE_BUF];
    snprintf(what, sizeof what, "x is %s, kernel is %s", nb_shape_str(x, sx, sizeof sx),
             nb_shape_str(k, sk, sizeof sk));
    if (in_c != x->shape[x->rank - 1])
        return nb_error(NB_ERR_SHAPE, "%s: %s: the kernel's in_channels (%" PRId64 ") differ "
                        "from x's channels (%" PRId64 ")",
                        a->fn, what, in_c, x->shape[x->rank - 1]);
    return nb__window_of(a, x, kh, kw, what, g);
}

static nb_status require_bias(const nb_window_attrs *a, const nb_tensor *bias,
                              const nb_tensor *kernel, int64_t filters)
{
    if (bias->rank == 1 && bias->shape[0] == filters)
        return NB_OK;
    char sb[NB_SHAPE_BUF], sk[NB_SHAPE_BUF];
    return nb_error(NB_ERR_SHAPE, "%s: bias is %s, kernel is %s: expected bias [%" PRId64 "]",
                    a->fn, nb_shape_str(bias, sb, sizeof sb), nb_shape_str(kernel, sk, sizeof sk),
                    filters);
}

/* nb__require_same_dtype would name the op (conv2d), not the public
 * function (nb_conv2d_with); this names the function and the inputs. */
static nb_status require_same_dtype(const nb_window_attrs *a, const nb_node *node)
{
    static const char *const names[] = {"x", "kernel", "bias"};
    const nb_tensor *x = node->inputs[0];
    for (int i = 1; i < node->n_inputs; i++)
        if (node->inputs[i]->dtype != x->dtype)
            return nb_error(NB_ERR_DTYPE, "%s: %s is %s but x is %s: expected the same dtype",
                            a->fn, names[i], nb_dtype_name(node->inputs[i]->dtype),
                            nb_dtype_name(x->dtype));
    return NB_OK;
}

static nb_status conv_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                            int64_t shape[NB_MAX_RANK])
{
    const nb_window_attrs *a = NB_ATTRS(node, nb_window_attrs);
    nb_status s = nb__window_check_attrs(a);
    if (s == NB_OK)
        s = require_conv_rank(a, node->inputs[0], "x", x_layout[a->spatial]);
    if (s == NB_OK)
        s = require_conv_rank(a, node->inputs[1], "kernel", kernel_layout[a->spatial]);
    if (s == NB_OK)
        s = require_same_dtype(a, node);
    nb_window g;
    int64_t filters;
    if (s == NB_OK)
        s = conv_window(node, &g, &filters);
    if (s == NB_OK && node->n_inputs == 3)
        s = require_bias(a, node->inputs[2], node->inputs[1], filters);
    if (s != NB_OK)
        return s;
    /* cblas takes int dimensions */
    if (g.n * g.oh * g.ow > INT_MAX || g.kh * g.kw * g.c > INT_MAX)
        return nb_error(NB_ERR_SHAPE, "%s: the product of %" PRId64 " output pixels by %" PRId64
                        " taps is above cblas's %d", a->fn, g.n * g.oh * g.ow,
                        g.kh * g.kw * g.c, INT_MAX);
    *dtype = node->inputs[0]->dtype;
    nb__window_out_shape(a, &g, filters, rank, shape);
    return NB_OK;
}

/* ---- im2col and its adjoint -------------------------------------------- */

typedef struct conv_job {
    const nb_window *g;
    bool f64;
    const void *x;     /* im2col: the image batch */
    void *col;         /* im2col: written; col2im: read */
    void *dx;          /* col2im: accumulated into */
} conv_job;

/* col's rows for images [i0, i1): for each output pixel and kernel row,
 * the kw taps of c channels, adjacent in x when the dilation is 1 (then one
 * plain loop over kw * c elements; memcpy's call costs more than copying
 * conv1's 3 floats), else tap by tap; zeros where the window is over the
 * padding. */
#define IM2COL(T)                                                                            \
    do {                                                                                     \
        const int64_t tap_row = g->kw * g->c;                                                \
        T *restrict dst = (T *)j->col + i0 * g->oh * g->ow * g->kh * tap_row;                \
        for (int64_t i = i0; i < i1; i++)                                                    \
            for (int64_t oy = 0; oy < g->oh; oy++)                                           \
                for (int64_t ox = 0; ox < g->ow; ox++)                                       \
                    for (int64_t ky = 0; ky < g->kh; ky++, dst += tap_row) {                 \
                        int64_t iy = oy * g->sh - g->pad_top + ky * g->dh;                   \
                        int64_t ix0 = ox * g->sw - g->pad_left;                              \
                        if (iy < 0 || iy >= g->h) {                                          \
                            for (int64_t e = 0; e < tap_row; e++)                            \
                                dst[e] = 0;                                                  \
                            continue;                                                        \
                        }                                                                    \
                        const T *restrict row = (const T *)j->x + (i * g->h + iy) * g->w * g->c; \
                        if (g->dw == 1 && ix0 >= 0 && ix0 + g->kw <= g->w) {          \
                            const T *restrict src = row + ix0 * g->c;                        \
                            for (int64_t e = 0; e < tap_row; e++)                            \
                                dst[e] = src[e];                                             \
                        } else {                                                             \
                            for (int64_t kx = 0; kx < g->kw; kx++) {                         \
                                int64_t ix = ix0 + kx * g->dw;                               \
                                bool inside = ix >= 0 && ix < g->w;                          \
                                for (int64_t ch = 0; ch < g->c; ch++)                        \
                                    dst[kx * g->c + ch] = inside ? row[ix * g->c + ch] : 0;  \
                            }                                                                \
                        }                                                                    \
                    }                                                                        \
    } while (0)

static void im2col_images(void *ctx, int64_t i0, int64_t i1)
{
    const conv_job *j = ctx;
    const nb_window *g = j->g;
    if (j->f64)
        IM2COL(double);
    else
        IM2COL(float);
}

/* dx += col2im(dcol): each tap's gradient goes back to the input pixel it
 * was copied from; taps over the padding are dropped. */
#define COL2IM(T)                                                                            \
    do {                                                                                     \
        const T *dcol = (const T *)j->col + i0 * g->oh * g->ow * g->kh * g->kw * g->c;       \
        for (int64_t i = i0; i < i1; i++) {                                                  \
            T *dxi = (T *)j->dx + i * g->h * g->w * g->c;                                    \
            for (int64_t oy = 0; oy < g->oh; oy++)                                           \
                for (int64_t ox = 0; ox < g->ow; ox++)                                       \
                    for (int64_t ky = 0; ky < g->kh; ky++) {                                 \
                        int64_t iy = oy * g->sh - g->pad_top + ky * g->dh;                   \
                        for (int64_t kx = 0; kx < g->kw; kx++, dcol += g->c) {               \
                            int64_t ix = ox * g->sw - g->pad_left + kx * g->dw;              \
                            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)                \
                                continue;                                                    \
                            T *d = dxi + (iy * g->w + ix) * g->c;                            \
                            for (int64_t ch = 0; ch < g->c; ch++)                            \
                                d[ch] += dcol[ch];                                           \
                        }                                                                    \
                    }                                                                        \
        }                                                                                    \
    } while (0)

static void col2im_images(void *ctx, int64_t i0, int64_t i1)
{
    const conv_job *j = ctx;
    const nb_window *g = j->g;
    if (j->f64)
        COL2IM(double);
    else
        COL2IM(float);
}

/* ---- the three products, shared with conv_grad.c ------------------------- */

/* x is already col when each output pixel sees exactly one input pixel */
static bool x_is_col(const nb_window *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1;
}

static int64_t rows_of(const nb_window *g) { return g->n * g->oh * g->ow; }
static int64_t taps_of(const nb_window *g) { return g->kh * g->kw * g->c; }

static void gemm(bool f64, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a,
                 int64_t lda, const void *b, int64_t ldb, double beta, void *c, int64_t ldc)
{
    if (f64)
        nb__gemm_f64(ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
    else
        nb__gemm_f32(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, (float)beta, c, ldc);
}

const void *nb__im2col(nb_node *node, const nb_conv_geometry *c, bool f64, const void *x)
{
    const nb_window *g = &c->g;
    if (x_is_col(g))
        return x;
    void *col = nb_node_scratch(node, (size_t)(rows_of(g) * taps_of(g)) * (f64 ? 8 : 4));
    if (!col)
        return NULL;
    conv_job job = {.g = g, .f64 = f64, .x = x, .col = col};
    nb__parallel_for(g->n, 1, 1, im2col_images, &job);
    return col;
}

void nb__conv_gemm(const nb_conv_geometry *c, bool f64, const void *col, const void *k,
                   double beta, void *y)
{
    int64_t rows = rows_of(&c->g), taps = taps_of(&c->g), f = c->filters;
    gemm(f64, false, false, rows, f, taps, col, taps, k, f, beta, y, f);
}

void nb__conv_add_kernel_grad(const nb_conv_geometry *c, bool f64, const void *col,
                              const void *dy, void *dk)
{
    int64_t rows = rows_of(&c->g), taps = taps_of(&c->g), f = c->filters;
    gemm(f64, true, false, taps, f, rows, col, taps, dy, f, 1.0, dk, f);
}

/* dcol = dy K^T, then each tap's gradient goes back where im2col copied it
 * from: col2im, the adjoint of the copy. */
nb_status nb__conv_add_input_grad(nb_node *node, const nb_conv_geometry *c, bool f64,
                                  const void *dy, const void *k, void *dx)
{
    const nb_window *g = &c->g;
    int64_t rows = rows_of(g), taps = taps_of(g), f = c->filters;
    if (x_is_col(g)) {
        gemm(f64, false, true, rows, taps, f, dy, f, k, f, 1.0, dx, taps);
        return NB_OK;
    }
    void *dcol = nb_node_scratch(node, (size_t)(rows * taps) * (f64 ? 8 : 4));
    if (!dcol)
        return NB_ERR_NOMEM;
    gemm(f64, false, true, rows, taps, f, dy, f, k, f, 0.0, dcol, taps);
    conv_job job = {.g = g, .f64 = f64, .col = dcol, .dx = dx};
    nb__parallel_for(g->n, 1, 1, col2im_images, &job);
    return NB_OK;
}

/* ---- forward and backward ------------------------------------------------ */

static nb_conv_geometry conv_geometry(const nb_node *node)
{
    nb_conv_geometry c = {.attrs = *NB_ATTRS(node, nb_window_attrs)};
    nb_status s = conv_window(node, &c.g, &c.filters);
    (void)s;
    assert(s == NB_OK); /* infer accepted these inputs */
    return c;
}

/* Every row of y [rows, f] starts as the bias, so the product adds to it. */
#define FILL_ROWS(T)                                                                         \
    do {                                                                                     \
        const T *b = node->inputs[2]->data;                                                  \
        T *y = node->output->data;                                                           \
        for (int64_t r = 0; r < rows; r++)                                                   \
            for (int64_t k = 0; k < f; k++)                                                  \
                y[r * f + k] = b[k];                                                         \
    } while (0)

/* d/dbias: the sum of dy over the rows (every pixel of every image) */
#define SUM_ROWS(T)                                                                          \
    do {                                                                                     \
        const T *gy = y->grad;                                                               \
        T *d = db;                                                                           \
        for (int64_t r = 0; r < rows; r++)                                                   \
            for (int64_t k = 0; k < f; k++)                                                  \
                d[k] += gy[r * f + k];                                                       \
    } while (0)

/* y = col K (+ bias: the product starts from the bias rows, beta = 1) */
static nb_status conv_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    nb_conv_geometry c = conv_geometry(node);
    int64_t rows = rows_of(&c.g), f = c.filters;
    bool f64 = x->dtype == NB_F64;
    const void *col = nb__im2col(node, &c, f64, x->data);
    if (!col)
        return nb_error(NB_ERR_NOMEM, "%s: out of memory for im2col (%" PRId64 " x %" PRId64
                        ")", c.attrs.fn, rows, taps_of(&c.g));
    node->saved = (void *)col; /* read only: backward's col */
    bool bias = node->n_inputs == 3;
    if (bias && f64)
        FILL_ROWS(double);
    else if (bias)
        FILL_ROWS(float);
    nb__conv_gemm(&c, f64, col, node->inputs[1]->data, bias ? 1.0 : 0.0, node->output->data);
    return NB_OK;
}

/* With y = col K (+ bias): dK += col^T dy, dbias += the sum of dy's rows,
 * and dx += col2im(dy K^T). */
static nb_status conv_backward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0], *k = node->inputs[1], *y = node->output;
    void *dx = nb_node_input_grad(node, 0), *dk = nb_node_input_grad(node, 1);
    if ((x->requires_grad && !dx) || (k->requires_grad && !dk))
        return NB_ERR_NOMEM;
    nb_conv_geometry c = conv_geometry(node);
    int64_t rows = rows_of(&c.g), f = c.filters;
    bool f64 = x->dtype == NB_F64;
    if (dk)
        nb__conv_add_kernel_grad(&c, f64, node->saved, y->grad, dk);
    void *db = node->n_inputs == 3 ? nb_node_input_grad(node, 2) : NULL;
    if (node->n_inputs == 3 && node->inputs[2]->requires_grad && !db)
        return NB_ERR_NOMEM;
    if (db && f64)
        SUM_ROWS(double);
    else if (db)
        SUM_ROWS(float);
    return dx ? nb__conv_add_input_grad(node, &c, f64, y->grad, k->data, dx) : NB_OK;
}

/* dbias = g summed over every axis but the last (the filters) */
static nb_tensor *sum_to_filters(nb_tape *tape, nb_tensor *g)
{
    int64_t f = g->shape[g->rank - 1];
    return nb_sum_axis(tape, nb_reshape(tape, g, NB_SHAPE(g->size / f, f)), 0, false);
}

/* The same three rules as ops: convolution is bilinear, so each gradient is
 * the other input's product with g, and differentiates again (conv_grad.c). */
static nb_status conv_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    nb_conv_geometry c = conv_geometry(node);
    nb_tensor *x = node->inputs[0], *k = node->inputs[1];
    NB_VJP_INPUT(0, nb__conv_input_grad(tape, &c, g, k));
    NB_VJP_INPUT(1, nb__conv_kernel_grad(tape, &c, x, g));
    if (node->n_inputs == 3)
        NB_VJP_INPUT(2, sum_to_filters(tape, g));
    return NB_OK;
}

#define CONV_OP(op_name, inputs)                                                             \
    static const nb_op op_name##_op = {                                                      \
        .name = #op_name,                                                                    \
        .n_inputs = inputs,                                                                  \
        .infer = conv_infer,                                                                 \
        .forward = conv_forward,                                                             \
        .backward = conv_backward,                                                           \
        .overwrites_output = true, /* beta = 0, or every row filled with the bias first */   \
        .vjp = conv_vjp,                                                                     \
    }

CONV_OP(conv2d, 2);
CONV_OP(conv1d, 2);
CONV_OP(conv2d_bias, 3);
CONV_OP(conv1d_bias, 3);

nb_tensor *nb__conv(nb_tape *tape, const nb_conv_geometry *c, nb_tensor *x, nb_tensor *k)
{
    const nb_op *op = c->attrs.spatial == 2 ? &conv2d_op : &conv1d_op;
    return nb_op_apply(tape, op, 2, (nb_tensor *[]){x, k}, &c->attrs, sizeof c->attrs);
}

static int or_one(int v) { return v == 0 ? 1 : v; }

/* fn: the public function, named in messages */
static nb_window_attrs conv2d_attrs(const char *fn, nb_conv2d_options options)
{
    return (nb_window_attrs){
        .fn = fn, .spatial = 2, .window = {1, 1},
        .strides = {or_one(options.strides[0]), or_one(options.strides[1])},
        .dilation = {or_one(options.dilation[0]), or_one(options.dilation[1])},
        .padding = options.padding};
}

nb_tensor *nb_conv2d_with(nb_tape *tape, nb_tensor *x, nb_tensor *kernel,
                          nb_conv2d_options options)
{
    nb_window_attrs a = conv2d_attrs("nb_conv2d_with", options);
    return nb_op_apply(tape, &conv2d_op, 2, (nb_tensor *[]){x, kernel}, &a, sizeof a);
}

nb_tensor *nb_conv2d_bias(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, nb_tensor *bias,
                          nb_conv2d_options options)
{
    nb_window_attrs a = conv2d_attrs("nb_conv2d_bias", options);
    return nb_op_apply(tape, &conv2d_bias_op, 3, (nb_tensor *[]){x, kernel, bias}, &a, sizeof a);
}

nb_tensor *nb_conv2d(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, int stride,
                     nb_padding padding)
{
    nb_window_attrs a = {.fn = "nb_conv2d", .spatial = 2, .window = {1, 1},
                         .strides = {stride, stride}, .dilation = {1, 1}, .padding = padding};
    return nb_op_apply(tape, &conv2d_op, 2, (nb_tensor *[]){x, kernel}, &a, sizeof a);
}

nb_tensor *nb_conv1d(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, int stride,
                     nb_padding padding)
{
    nb_window_attrs a = {.fn = "nb_conv1d", .spatial = 1, .window = {1, 1},
                         .strides = {1, stride}, .dilation = {1, 1}, .padding = padding};
    return nb_op_apply(tape, &conv1d_op, 2, (nb_tensor *[]){x, kernel}, &a, sizeof a);
}

nb_tensor *nb_conv1d_bias(nb_tape *tape, nb_tensor *x, nb_tensor *kernel, nb_tensor *bias,
                          int stride, nb_padding padding)
{
    nb_window_attrs a = {.fn = "nb_conv1d_bias", .spatial = 1, .window = {1, 1},
                         .strides = {1, stride}, .dilation = {1, 1}, .padding = padding};
    return nb_op_apply(tape, &conv1d_bias_op, 3, (nb_tensor *[]){x, kernel, bias}, &a, sizeof a);
}
