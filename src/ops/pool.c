/* Max and average pooling over NHWC images (and sequences, height 1), with
 * Keras's padding (window.h). Both loop over the windows directly: a window
 * reads pool x pool pixels of c channels, each once, so there is nothing
 * for a GEMM to do. Images are independent and are split across nabla's
 * threads. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "kernels/parallel.h"
#include "ops/window.h"

static nb_status pool_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                            int64_t shape[NB_MAX_RANK])
{
    const nb_window_attrs *a = NB_ATTRS(node, nb_window_attrs);
    const nb_tensor *x = node->inputs[0];
    nb_status s = nb__window_check_attrs(a);
    if (s != NB_OK)
        return s;
    char sx[NB_SHAPE_BUF], what[NB_SHAPE_BUF + 8];
    nb_shape_str(x, sx, sizeof sx);
    if (x->rank != a->spatial + 2)
        return nb_error(NB_ERR_SHAPE, "%s: x has shape %s (rank %d): expected rank %d, %s", a->fn,
                        sx, x->rank, a->spatial + 2,
                        a->spatial == 2 ? "[batch, height, width, channels]"
                                        : "[batch, steps, channels]");
    snprintf(what, sizeof what, "x is %s", sx);
    nb_window g;
    s = nb__window_of(a, x, a->window[0], a->window[1], what, &g);
    if (s != NB_OK)
        return s;
    *dtype = x->dtype;
    nb__window_out_shape(a, &g, g.c, rank, shape);
    return NB_OK;
}

static nb_window pool_geometry(const nb_node *node)
{
    const nb_window_attrs *a = NB_ATTRS(node, nb_window_attrs);
    nb_window g;
    nb__window_of(a, node->inputs[0], a->window[0], a->window[1], "", &g);
    return g;
}

/* The part of window (oy, ox) inside the image: rows [*y0, *y1), columns
 * [*x0, *x1). Padding only ever adds positions outside the image. */
static void window_span(const nb_window *g, int64_t oy, int64_t ox, int64_t *y0, int64_t *y1,
                        int64_t *x0, int64_t *x1)
{
    int64_t top = oy * g->sh - g->pad_top, left = ox * g->sw - g->pad_left;
    *y0 = top < 0 ? 0 : top;
    *y1 = top + g->kh < g->h ? top + g->kh : g->h;
    *x0 = left < 0 ? 0 : left;
    *x1 = left + g->kw < g->w ? left + g->kw : g->w;
}

/* Loop over the output windows of images [i0, i1): BODY sees y0..x1, the
 * window's span, `o`, the flat index of the window's first channel in the
 * output, and `base`, that of the image's first element in x. */
#define FOR_EACH_WINDOW(BODY)                                                                \
    for (int64_t i = i0; i < i1; i++)                                                        \
        for (int64_t oy = 0; oy < g->oh; oy++)                                               \
            for (int64_t ox = 0; ox < g->ow; ox++) {                                         \
                int64_t y0, y1, x0, x1;                                                      \
                window_span(g, oy, ox, &y0, &y1, &x0, &x1);                                  \
                int64_t o = ((i * g->oh + oy) * g->ow + ox) * g->c;                          \
                int64_t base = i * g->h * g->w * g->c;                                       \
                BODY                                                                         \
            }

typedef struct pool_job {
    const nb_node *node;
    const nb_window *g;
    void *dx; /* backward: accumulated into; NULL in forward */
} pool_job;

/* ---- max ------------------------------------------------------------------ */

/* A branch-free running maximum over the window's pixels, channels in the
 * inner loop (contiguous in NHWC), so it vectorises; which element won is
 * found again in backward rather than stored. */
#define MAX_POOL_FORWARD(T)                                                                  \
    do {                                                                                     \
        const T *restrict x = j->node->inputs[0]->data;                                      \
        T *restrict y = j->node->output->data;                                               \
        FOR_EACH_WINDOW({                                                                    \
            T *restrict yo = y + o;                                                          \
            for (int64_t ch = 0; ch < g->c; ch++)                                            \
                yo[ch] = (T)-INFINITY;                                                       \
            for (int64_t iy = y0; iy < y1; iy++)                                             \
                for (int64_t ix = x0; ix < x1; ix++) {                                       \
                    const T *restrict xa = x + base + (iy * g->w + ix) * g->c;               \
                    for (int64_t ch = 0; ch < g->c; ch++)                                    \
                        yo[ch] = xa[ch] > yo[ch] ? xa[ch] : yo[ch];                          \
                }                                                                            \
        })                                                                                   \
    } while (0)

/* d/dx max = 1 at the element chosen, 0 elsewhere: the first element of the
 * window (row-major) equal to the maximum, so ties go to the first, as in
 * PyTorch and TensorFlow. Branch-free too (so it vectorises): `left` holds
 * each channel's gradient until its first match takes it, by multiplying
 * with the comparison's 1 or 0. Channels go in chunks of
 * POOL_CHUNK to keep `left` on the stack. */
#define POOL_CHUNK 64
#define MAX_POOL_BACKWARD(T)                                                                 \
    do {                                                                                     \
        const T *restrict x = j->node->inputs[0]->data, *restrict y = j->node->output->data; \
        const T *restrict gy = j->node->output->grad;                                        \
        T *restrict dx = j->dx;                                                              \
        FOR_EACH_WINDOW({                                                                    \
            for (int64_t c0 = 0; c0 < g->c; c0 += POOL_CHUNK) {                              \
                int64_t n = g->c - c0 < POOL_CHUNK ? g->c - c0 : POOL_CHUNK;                 \
                T left[POOL_CHUNK];                                                          \
                for (int64_t k = 0; k < n; k++)                                              \
                    left[k] = gy[o + c0 + k];                                                \
                for (int64_t iy = y0; iy < y1; iy++)                                         \
                    for (int64_t ix = x0; ix < x1; ix++) {                                   \
                        int64_t at = base + (iy * g->w + ix) * g->c + c0;                    \
                        for (int64_t k = 0; k < n; k++) {                                    \
                            T given = (T)(x[at + k] == y[o + c0 + k]) * left[k];             \
                            dx[at + k] += given;                                             \
                            left[k] -= given;                                                \
                        }                                                                    \
                    }                                                                        \
            }                                                                                \
        })                                                                                   \
    } while (0)

static void max_pool_images(void *ctx, int64_t i0, int64_t i1)
{
    const pool_job *j = ctx;
    const nb_window *g = j->g;
    bool f64 = j->node->output->dtype == NB_F64;
    if (j->dx && f64)
        MAX_POOL_BACKWARD(double);
    else if (j->dx)
        MAX_POOL_BACKWARD(float);
    else if (f64)
        MAX_POOL_FORWARD(double);
    else
        MAX_POOL_FORWARD(float);
}

static nb_status max_pool_forward(nb_node *node)
{
    nb_window g = pool_geometry(node);
    pool_job job = {.node = node, .g = &g};
    nb__parallel_for(g.n, 1, 1, max_pool_images, &job);
    return NB_OK;
}

/* Images are independent, so the split across threads never adds into the
 * same dx (windows that overlap, stride < pool, are of one image). */
static nb_status max_pool_backward(nb_node *node)
{
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return node->inputs[0]->requires_grad ? NB_ERR_NOMEM : NB_OK;
    nb_window g = pool_geometry(node);
    pool_job job = {.node = node, .g = &g, .dx = dx};
    nb__parallel_for(g.n, 1, 1, max_pool_images, &job);
    return NB_OK;
}

/* ---- average ---------------------------------------------------------------- */

/* Each window is divided by the count of its real elements (Keras's SAME). */
#define AVG_POOL(T)                                                                          \
    do {                                                                                     \
        const T *x = j->node->inputs[0]->data, *gy = j->node->output->grad;                  \
        T *y = j->node->output->data, *dx = j->dx;                                           \
        FOR_EACH_WINDOW({                                                                    \
            T inv = (T)1 / (T)((y1 - y0) * (x1 - x0));                                       \
            if (!dx)                                                                         \
                for (int64_t ch = 0; ch < g->c; ch++)                                        \
                    y[o + ch] = 0;                                                           \
            for (int64_t iy = y0; iy < y1; iy++)                                             \
                for (int64_t ix = x0; ix < x1; ix++) {                                       \
                    int64_t at = base + (iy * g->w + ix) * g->c;                             \
                    for (int64_t ch = 0; ch < g->c; ch++) {                                  \
                        if (dx)                                                              \
                            dx[at + ch] += gy[o + ch] * inv;                                 \
                        else                                                                 \
                            y[o + ch] += x[at + ch] * inv;                                   \
                    }                                                                        \
                }                                                                            \
        })                                                                                   \
    } while (0)

static void avg_pool_images(void *ctx, int64_t i0, int64_t i1)
{
    const pool_job *j = ctx;
    const nb_window *g = j->g;
    if (j->node->output->dtype == NB_F64)
        AVG_POOL(double);
    else
        AVG_POOL(float);
}

static nb_status avg_pool_forward(nb_node *node)
{
    nb_window g = pool_geometry(node);
    pool_job job = {.node = node, .g = &g};
    nb__parallel_for(g.n, 1, 1, avg_pool_images, &job);
    return NB_OK;
}

/* d/dx mean = 1 / count for each real element of the window. Images are
 * independent, so the split across threads never adds into the same dx. */
static nb_status avg_pool_backward(nb_node *node)
{
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return node->inputs[0]->requires_grad ? NB_ERR_NOMEM : NB_OK;
    nb_window g = pool_geometry(node);
    pool_job job = {.node = node, .g = &g, .dx = dx};
    nb__parallel_for(g.n, 1, 1, avg_pool_images, &job);
    return NB_OK;
}

/* ---- the public functions -------------------------------------------------- */

#define POOL_OP(op_name, kind)                                                               \
    static const nb_op op_name##_op = {.name = #op_name,                                     \
                                       .n_inputs = 1,                                        \
                                       .infer = pool_infer,                                  \
                                       .forward = kind##_pool_forward,                       \
                                       .backward = kind##_pool_backward,                     \
                                       .overwrites_output = true}

POOL_OP(max_pool2d, max);
POOL_OP(max_pool1d, max);
POOL_OP(avg_pool2d, avg);
POOL_OP(avg_pool1d, avg);

static nb_tensor *pool(nb_tape *tape, const nb_op *op, int spatial, nb_tensor *x, int size,
                       int stride, nb_padding padding)
{
    nb_window_attrs a = {.fn = op == &max_pool2d_op   ? "nb_max_pool2d"
                               : op == &max_pool1d_op ? "nb_max_pool1d"
                               : op == &avg_pool2d_op ? "nb_avg_pool2d"
                                                      : "nb_avg_pool1d",
                         .spatial = spatial,
                         .window = {spatial == 2 ? size : 1, size},
                         .strides = {spatial == 2 ? stride : 1, stride},
                         .dilation = {1, 1},
                         .padding = padding};
    return nb_op_apply(tape, op, 1, (nb_tensor *[]){x}, &a, sizeof a);
}

nb_tensor *nb_max_pool2d(nb_tape *tape, nb_tensor *x, int pool_size, int stride,
                         nb_padding padding)
{
    return pool(tape, &max_pool2d_op, 2, x, pool_size, stride, padding);
}

nb_tensor *nb_avg_pool2d(nb_tape *tape, nb_tensor *x, int pool_size, int stride,
                         nb_padding padding)
{
    return pool(tape, &avg_pool2d_op, 2, x, pool_size, stride, padding);
}

nb_tensor *nb_max_pool1d(nb_tape *tape, nb_tensor *x, int pool_size, int stride,
                         nb_padding padding)
{
    return pool(tape, &max_pool1d_op, 1, x, pool_size, stride, padding);
}

nb_tensor *nb_avg_pool1d(nb_tape *tape, nb_tensor *x, int pool_size, int stride,
                         nb_padding padding)
{
    return pool(tape, &avg_pool1d_op, 1, x, pool_size, stride, padding);
}

/* ---- global average: a mean over the spatial axes ----------------------- */

static nb_tensor *global_avg(nb_tape *tape, nb_tensor *x, int spatial, const char *fn)
{
    if (!x) {
        if (nb_last_status() == NB_OK)
            nb_error(NB_ERR_NULL, "%s: x is NULL", fn);
        return NULL;
    }
    if (x->rank != spatial + 2) {
        char sx[NB_SHAPE_BUF];
        nb_error(NB_ERR_SHAPE, "%s: x has shape %s (rank %d): expected rank %d, %s", fn,
                 nb_shape_str(x, sx, sizeof sx), x->rank, spatial + 2,
                 spatial == 2 ? "[batch, height, width, channels]" : "[batch, steps, channels]");
        return NULL;
    }
    if (spatial == 1)
        return nb_mean_axis(tape, x, 1, false);
    nb_tensor *pixels = nb_reshape(tape, x, NB_SHAPE(x->shape[0], x->shape[1] * x->shape[2],
                                                     x->shape[3]));
    nb_tensor *mean = nb_mean_axis(tape, pixels, 1, false);
    if (!tape)
        nb_tensor_free(pixels);
    return mean;
}

nb_tensor *nb_global_avg_pool2d(nb_tape *tape, nb_tensor *x)
{
    return global_avg(tape, x, 2, "nb_global_avg_pool2d");
}

nb_tensor *nb_global_avg_pool1d(nb_tape *tape, nb_tensor *x)
{
    return global_avg(tape, x, 1, "nb_global_avg_pool1d");
}
