/* Max and average pooling over NHWC images (and sequences, height 1), with
 * Keras's padding (window.h). Both loop over the windows directly: a window
 * reads pool x pool pixels of c channels, each once, so there is nothing
 * for a GEMM to do. Images are independent and are split across nabla's
 * threads.
 *
 * For second derivatives each backward is an op too (the vjps, nabla/op.h;
 * pool_grad.c), with the backward loop here as its forward. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "kernels/parallel.h"
#include "ops/pool_internal.h"

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

static nb_pool_geometry geometry_of(const nb_node *node)
{
    nb_pool_geometry p = {.attrs = *NB_ATTRS(node, nb_window_attrs)};
    nb__window_of(&p.attrs, node->inputs[0], p.attrs.window[0], p.attrs.window[1], "", &p.g);
    return p;
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
    const nb_window *g;
    nb_pool_move move;
    bool f64;
    const void *x; /* the pooled input: where the winners are */
    const void *y; /* each window's maximum: which elements won */
    const void *from;
    void *to;
} pool_job;

/* ---- the loops -------------------------------------------------------------- */

/* A branch-free running maximum over the window's pixels, channels in the
 * inner loop (contiguous in NHWC), so it vectorises; which element won is
 * found again from x and y rather than stored. */
#define MAX_OF(T)                                                                            \
    do {                                                                                     \
        const T *restrict x = j->from;                                                       \
        T *restrict y = j->to;                                                               \
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

/* The winner of a window is its first element (row-major) equal to the
 * maximum, so ties go to the first, as in PyTorch and TensorFlow. Branch-
 * free too (so it vectorises): `left` is each channel's 1 until its first
 * match takes it (`won` is 1 there, 0 elsewhere), and MOVE does the
 * scatter or the gather with `won`. Channels go in chunks of POOL_CHUNK to
 * keep `left` on the stack. */
#define POOL_CHUNK 64
#define THROUGH_WINNERS(T, MOVE)                                                             \
    do {                                                                                     \
        const T *restrict x = j->x, *restrict y = j->y, *restrict from = j->from;            \
        T *restrict to = j->to;                                                              \
        FOR_EACH_WINDOW({                                                                    \
            for (int64_t c0 = 0; c0 < g->c; c0 += POOL_CHUNK) {                              \
                int64_t n = g->c - c0 < POOL_CHUNK ? g->c - c0 : POOL_CHUNK;                 \
                T left[POOL_CHUNK];                                                          \
                for (int64_t k = 0; k < n; k++)                                              \
                    left[k] = 1;                                                             \
                for (int64_t iy = y0; iy < y1; iy++)                                         \
                    for (int64_t ix = x0; ix < x1; ix++) {                                   \
                        int64_t at = base + (iy * g->w + ix) * g->c + c0;                    \
                        for (int64_t k = 0; k < n; k++) {                                    \
                            T won = (T)(x[at + k] == y[o + c0 + k]) * left[k];               \
                            MOVE;                                                            \
                            left[k] -= won;                                                  \
                        }                                                                    \
                    }                                                                        \
            }                                                                                \
        })                                                                                   \
    } while (0)
#define SCATTER(T) THROUGH_WINNERS(T, to[at + k] += won * from[o + c0 + k])
#define GATHER(T) THROUGH_WINNERS(T, to[o + c0 + k] += won * from[at + k])

/* Each window is divided by the count of its real elements (Keras's SAME).
 * MOVE adds into `to` with `inv`, 1 / count, at `at + ch` (image) and
 * `o + ch` (window). */
#define OVER_WINDOWS(T, MOVE)                                                                \
    do {                                                                                     \
        const T *restrict from = j->from;                                                    \
        T *restrict to = j->to;                                                              \
        FOR_EACH_WINDOW({                                                                    \
            T inv = (T)1 / (T)((y1 - y0) * (x1 - x0));                                       \
            for (int64_t iy = y0; iy < y1; iy++)                                             \
                for (int64_t ix = x0; ix < x1; ix++) {                                       \
                    int64_t at = base + (iy * g->w + ix) * g->c;                             \
                    for (int64_t ch = 0; ch < g->c; ch++)                                    \
                        MOVE;                                                                \
                }                                                                            \
        })                                                                                   \
    } while (0)
#define AVERAGE(T) OVER_WINDOWS(T, to[o + ch] += from[at + ch] * inv)
#define SPREAD(T) OVER_WINDOWS(T, to[at + ch] += from[o + ch] * inv)

static void pool_images(void *ctx, int64_t i0, int64_t i1)
{
    const pool_job *j = ctx;
    const nb_window *g = j->g;
    switch (j->move) {
    case POOL_MAX_OF_WINDOWS:
        if (j->f64)
            MAX_OF(double);
        else
            MAX_OF(float);
        break;
    case POOL_SCATTER_TO_WINNERS:
        if (j->f64)
            SCATTER(double);
        else
            SCATTER(float);
        break;
    case POOL_GATHER_FROM_WINNERS:
        if (j->f64)
            GATHER(double);
        else
            GATHER(float);
        break;
    case POOL_AVERAGE_WINDOWS:
        if (j->f64)
            AVERAGE(double);
        else
            AVERAGE(float);
        break;
    case POOL_SPREAD_OVER_WINDOWS:
        if (j->f64)
            SPREAD(double);
        else
            SPREAD(float);
        break;
    }
}

/* One pass over every window. Images are independent, so the split across
 * threads never adds into the same element (windows that overlap, stride <
 * pool, are of one image). */
void nb__pool_pass(const nb_window *g, nb_pool_move move, const nb_tensor *like, const void *x,
                   const void *y, const void *from, void *to)
{
    pool_job job = {.g = g, .move = move, .f64 = like->dtype == NB_F64, .x = x, .y = y,
                    .from = from, .to = to};
    nb__parallel_for(g->n, 1, 1, pool_images, &job);
}

/* ---- max ------------------------------------------------------------------ */

static nb_status max_pool_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    nb_pool_geometry p = geometry_of(node);
    nb__pool_pass(&p.g, POOL_MAX_OF_WINDOWS, x, NULL, NULL, x->data, node->output->data);
    return NB_OK;
}

/* d/dx max = 1 at the window's winner, 0 elsewhere: dx += g scattered to
 * the winners. */
static nb_status max_pool_backward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return x->requires_grad ? NB_ERR_NOMEM : NB_OK;
    nb_pool_geometry p = geometry_of(node);
    nb__pool_pass(&p.g, POOL_SCATTER_TO_WINNERS, x, x->data, node->output->data,
                  node->output->grad, dx);
    return NB_OK;
}

/* the same scatter as an op, differentiable again in g (pool_grad.c) */
static nb_status max_pool_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                              nb_tensor *grad_in[])
{
    nb_pool_geometry p = geometry_of(node);
    NB_VJP_INPUT(0, nb__max_pool_input_grad(tape, &p, node->inputs[0], g));
    return NB_OK;
}

/* ---- average ---------------------------------------------------------------- */

static nb_status avg_pool_forward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    nb_pool_geometry p = geometry_of(node);
    nb__pool_pass(&p.g, POOL_AVERAGE_WINDOWS, x, NULL, NULL, x->data, node->output->data);
    return NB_OK;
}

/* d/dx mean = 1 / count for each real element of the window */
static nb_status avg_pool_backward(nb_node *node)
{
    const nb_tensor *x = node->inputs[0];
    void *dx = nb_node_input_grad(node, 0);
    if (!dx)
        return x->requires_grad ? NB_ERR_NOMEM : NB_OK;
    nb_pool_geometry p = geometry_of(node);
    nb__pool_pass(&p.g, POOL_SPREAD_OVER_WINDOWS, x, NULL, NULL, node->output->grad, dx);
    return NB_OK;
}

/* the same spread as an op, whose own derivative is average pooling */
static nb_status avg_pool_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                              nb_tensor *grad_in[])
{
    nb_pool_geometry p = geometry_of(node);
    NB_VJP_INPUT(0, nb__avg_pool_input_grad(tape, &p, g));
    return NB_OK;
}

/* ---- the public functions -------------------------------------------------- */

/* max pooling writes every output element; average pooling adds into zeros */
#define POOL_OP(op_name, kind, overwrites)                                                   \
    static const nb_op op_name##_op = {.name = #op_name,                                     \
                                       .n_inputs = 1,                                        \
                                       .infer = pool_infer,                                  \
                                       .forward = kind##_pool_forward,                       \
                                       .backward = kind##_pool_backward,                     \
                                       .overwrites_output = overwrites,                      \
                                       .vjp = kind##_pool_vjp}

POOL_OP(max_pool2d, max, true);
POOL_OP(max_pool1d, max, true);
POOL_OP(avg_pool2d, avg, false);
POOL_OP(avg_pool1d, avg, false);

nb_tensor *nb__avg_pool(nb_tape *tape, const nb_pool_geometry *p, nb_tensor *x)
{
    const nb_op *op = p->attrs.spatial == 2 ? &avg_pool2d_op : &avg_pool1d_op;
    return nb_op_apply(tape, op, 1, &x, &p->attrs, sizeof p->attrs);
}

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
