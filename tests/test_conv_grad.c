/* The vjps of the convolution and pooling ops (src/ops/conv_grad.c,
 * pool_grad.c): the first-order gradient they give equals the fast buffer
 * backward's, so does the second order differentiated once more by vjps,
 * and the second derivatives of their squares pass nb_gradgradcheck, in
 * f64, over strides 1 and 2, VALID and SAME, dilation 2, batch 1 and 2,
 * channels 1 and 3 (the ops' own are the op table's).
 * Then a small Conv2D -> MaxPooling2D -> Dense model's Hessian-vector
 * product against finite differences of its gradient. */
#include <math.h>

#include "nb_test.h"

typedef struct conv_case {
    const char *name;
    nb_gradcheck_fn f;
    int n_inputs;
    nb_test_shape shapes[3];
    nb_conv2d_options options; /* strides[1] is the stride of every op but nb_conv2d_with */
    int pool;
} conv_case;

#define FN(name, expr)                                                                       \
    static nb_tensor *f_##name(nb_tape *tape, nb_tensor *const in[], void *user)             \
    {                                                                                        \
        const conv_case *c = user;                                                           \
        int stride = c->options.strides[1];                                                  \
        nb_padding padding = c->options.padding;                                             \
        (void)stride, (void)padding;                                                         \
        return (expr);                                                                       \
    }

FN(conv2d, nb_conv2d(tape, in[0], in[1], stride, padding))
FN(conv2d_with, nb_conv2d_with(tape, in[0], in[1], c->options))
FN(conv2d_bias, nb_conv2d_bias(tape, in[0], in[1], in[2], c->options))
FN(conv1d, nb_conv1d(tape, in[0], in[1], stride, padding))
FN(conv1d_bias, nb_conv1d_bias(tape, in[0], in[1], in[2], stride, padding))
FN(max_pool2d, nb_max_pool2d(tape, in[0], c->pool, stride, padding))
FN(avg_pool2d, nb_avg_pool2d(tape, in[0], c->pool, stride, padding))
FN(max_pool1d, nb_max_pool1d(tape, in[0], c->pool, stride, padding))
FN(avg_pool1d, nb_avg_pool1d(tape, in[0], c->pool, stride, padding))
FN(global_avg_pool2d, nb_global_avg_pool2d(tape, in[0]))
FN(global_avg_pool1d, nb_global_avg_pool1d(tape, in[0]))

#define VALID NB_PADDING_VALID
#define SAME NB_PADDING_SAME
#define OPT(stride, pad) {.strides = {stride, stride}, .padding = pad}
#define SHAPE4(a, b, c, d) {4, {a, b, c, d}}
#define SHAPE3(a, b, c) {3, {a, b, c}}
#define POOL2D(op, x, size, stride, pad)                                                     \
    {#op " " #size "/" #stride " " #pad " x" #x, f_##op, 1, {SHAPE4 x}, OPT(stride, pad), size}
#define POOL1D(op, x, size, stride, pad)                                                     \
    {#op " " #size "/" #stride " " #pad " x" #x, f_##op, 1, {SHAPE3 x}, OPT(stride, pad), size}

/* Random inputs have no ties, so max pooling's winners are unique and stay
 * put under the finite differences' steps of 1e-6. */
static const conv_case cases[] = {
    {"conv2d VALID stride 1, batch 1, 1 channel", f_conv2d, 2,
     {SHAPE4(1, 5, 5, 1), SHAPE4(3, 3, 1, 2)}, OPT(1, VALID), 0},
    {"conv2d SAME stride 2, batch 2, 3 channels", f_conv2d, 2,
     {SHAPE4(2, 5, 4, 3), SHAPE4(3, 2, 3, 2)}, OPT(2, SAME), 0},
    {"conv2d 1x1 stride 1 (x is im2col)", f_conv2d, 2, {SHAPE4(2, 3, 3, 3), SHAPE4(1, 1, 3, 2)},
     OPT(1, VALID), 0},
    {"conv2d_with dilation 2, strides (1, 2), SAME", f_conv2d_with, 2,
     {SHAPE4(1, 6, 5, 2), SHAPE4(2, 2, 2, 3)},
     {.strides = {1, 2}, .dilation = {2, 2}, .padding = SAME}, 0},
    {"conv2d_with dilation 2, VALID, batch 2", f_conv2d_with, 2,
     {SHAPE4(2, 6, 6, 3), SHAPE4(2, 2, 3, 1)}, {.dilation = {2, 2}, .padding = VALID}, 0},
    {"conv2d_bias SAME stride 1", f_conv2d_bias, 3,
     {SHAPE4(2, 4, 4, 3), SHAPE4(3, 3, 3, 2), {1, {2}}}, OPT(1, SAME), 0},
    {"conv2d_bias VALID stride 2", f_conv2d_bias, 3,
     {SHAPE4(1, 5, 5, 1), SHAPE4(2, 2, 1, 3), {1, {3}}}, OPT(2, VALID), 0},
    {"conv1d VALID stride 2", f_conv1d, 2, {SHAPE3(2, 7, 3), SHAPE3(3, 3, 2)}, OPT(2, VALID), 0},
    {"conv1d SAME stride 1", f_conv1d, 2, {SHAPE3(1, 5, 1), SHAPE3(2, 1, 3)}, OPT(1, SAME), 0},
    {"conv1d_bias SAME stride 2", f_conv1d_bias, 3,
     {SHAPE3(2, 6, 3), SHAPE3(3, 3, 2), {1, {2}}}, OPT(2, SAME), 0},
    POOL2D(max_pool2d, (1, 4, 4, 1), 2, 2, VALID),
    POOL2D(max_pool2d, (2, 5, 5, 3), 3, 2, SAME),
    POOL2D(max_pool2d, (2, 4, 3, 3), 2, 1, VALID),
    POOL2D(avg_pool2d, (1, 4, 4, 1), 2, 2, VALID),
    POOL2D(avg_pool2d, (2, 5, 5, 3), 3, 2, SAME),
    POOL2D(avg_pool2d, (2, 4, 3, 3), 2, 1, VALID),
    POOL1D(max_pool1d, (2, 7, 3), 3, 2, SAME),
    POOL1D(max_pool1d, (1, 4, 1), 2, 2, VALID),
    POOL1D(avg_pool1d, (2, 7, 3), 3, 2, SAME),
    POOL1D(avg_pool1d, (1, 4, 1), 2, 1, VALID),
    {"global_avg_pool2d", f_global_avg_pool2d, 1, {SHAPE4(2, 3, 4, 3)}, {.padding = VALID}, 0},
    {"global_avg_pool2d batch 1", f_global_avg_pool2d, 1, {SHAPE4(1, 2, 2, 1)}, {.padding = VALID}, 0},
    {"global_avg_pool1d", f_global_avg_pool1d, 1, {SHAPE3(2, 5, 3)}, {.padding = VALID}, 0},
    {"global_avg_pool1d batch 1", f_global_avg_pool1d, 1, {SHAPE3(1, 3, 1)}, {.padding = VALID}, 0},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void make_inputs(const conv_case *c, nb_dtype dtype, nb_tensor *in[])
{
    for (int i = 0; i < c->n_inputs; i++)
        in[i] = nb_test_uniform_param(dtype, c->shapes[i].rank, c->shapes[i].shape, -1, 1,
                                      11 + 3 * i);
}

static void free_inputs(const conv_case *c, nb_tensor *in[])
{
    for (int i = 0; i < c->n_inputs; i++)
        nb_tensor_free(in[i]);
}

/* The gradients of y with respect to every input, by the buffer backward
 * and by the vjps, element by element equal (to round-off). */
static void assert_both_ways_equal(const conv_case *c, const char *order, nb_tape *tape,
                                   nb_tensor *y, nb_tensor *in[])
{
    nb_tensor *by_buffers[3], *by_vjps[3];
    ck_assert_msg(nb_grad(tape, y, c->n_inputs, in, by_buffers, false) == NB_OK, "%s: %s",
                  c->name, nb_last_error());
    ck_assert_msg(nb_grad(tape, y, c->n_inputs, in, by_vjps, true) == NB_OK, "%s: %s", c->name,
                  nb_last_error());
    for (int i = 0; i < c->n_inputs; i++) {
        ck_assert_msg(nb_same_shape(by_vjps[i], in[i]), "%s: input %d shape", c->name, i);
        for (int64_t j = 0; j < in[i]->size; j++) {
            double a = nb_tensor_get(by_buffers[i], j), b = nb_tensor_get(by_vjps[i], j);
            ck_assert_msg(fabs(a - b) <= 1e-12 * fmax(1, fabs(a)),
                          "%s, %s order: input %d element %d: buffer backward %.17g, vjp %.17g",
                          c->name, order, i, (int)j, a, b);
        }
    }
}

/* sum(t * R) for a fixed random R of t's shape, on the tape */
static nb_tensor *projected(nb_tape *tape, nb_tensor *t, uint64_t seed)
{
    nb_tensor *r = nb_test_uniform(t->dtype, t->rank, t->shape, 0.5, 1.5, seed);
    nb_tensor *kept = nb_tape_tensor(tape, t->dtype, t->rank, t->shape);
    ck_assert_ptr_nonnull(kept);
    for (int64_t j = 0; j < r->size; j++)
        nb_tensor_set(kept, j, nb_tensor_get(r, j));
    nb_tensor_free(r);
    return nb_sum(tape, nb_mul(tape, t, kept));
}

START_TEST(vjp_first_order_equals_buffer_backward)
{
    const conv_case *c = &cases[_i];
    nb_tensor *in[3];
    make_inputs(c, NB_F64, in);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = c->f(tape, in, (void *)c);
    ck_assert_msg(y, "%s: %s", c->name, nb_last_error());
    assert_both_ways_equal(c, "first", tape, projected(tape, y, 3), in);
    for (int i = 0; i < c->n_inputs; i++)
        ck_assert_msg(in[i]->grad == NULL, "%s: nb_grad wrote ->grad", c->name);
    nb_tape_free(tape);
    free_inputs(c, in);
}
END_TEST

/* sum_i sum(grad_i L * v_i) with L = sum(y^2 R): its gradient goes
 * through the recorded backward (the internal ops conv_input_grad,
 * max_pool_gather...). */
static nb_tensor *second_order_target(const conv_case *c, nb_tape *tape, nb_tensor *in[])
{
    nb_tensor *g[3];
    nb_tensor *loss = projected(tape, nb_square(tape, c->f(tape, in, (void *)c)), 3);
    ck_assert_msg(nb_grad(tape, loss, c->n_inputs, in, g, true) == NB_OK, "%s: %s", c->name,
                  nb_last_error());
    nb_tensor *s = projected(tape, g[0], 5);
    for (int i = 1; i < c->n_inputs; i++)
        s = nb_add(tape, s, projected(tape, g[i], 5 + (uint64_t)i));
    return s;
}

/* the internal ops' own buffer backwards and vjps agree too */
START_TEST(vjp_second_order_equals_buffer_backward)
{
    const conv_case *c = &cases[_i];
    nb_tensor *in[3];
    make_inputs(c, NB_F64, in);
    nb_tape *tape = nb_tape_new();
    assert_both_ways_equal(c, "second", tape, second_order_target(c, tape, in), in);
    nb_tape_free(tape);
    free_inputs(c, in);
}
END_TEST

/* The internal ops in f32: the second-order gradient as in f64, to f32's
 * round-off (the sums are of tens of products). */
START_TEST(second_order_in_f32_matches_f64)
{
    const conv_case *c = &cases[_i];
    const nb_dtype dtypes[2] = {NB_F64, NB_F32};
    nb_tensor *in[2][3], *grads[2][3];
    nb_tape *tapes[2];
    for (int d = 0; d < 2; d++) {
        make_inputs(c, dtypes[d], in[d]);
        tapes[d] = nb_tape_new();
        nb_tensor *s = second_order_target(c, tapes[d], in[d]);
        ck_assert_msg(nb_grad(tapes[d], s, c->n_inputs, in[d], grads[d], false) == NB_OK,
                      "%s: %s", c->name, nb_last_error());
    }
    for (int i = 0; i < c->n_inputs; i++) {
        ck_assert_int_eq(grads[1][i]->dtype, NB_F32);
        for (int64_t j = 0; j < in[0][i]->size; j++) {
            double a = nb_tensor_get(grads[0][i], j), b = nb_tensor_get(grads[1][i], j);
            ck_assert_msg(fabs(a - b) <= 1e-4 * fmax(1, fabs(a)),
                          "%s: input %d element %d: f64 %.17g, f32 %.9g", c->name, i, (int)j,
                          a, b);
        }
    }
    for (int d = 0; d < 2; d++) {
        nb_tape_free(tapes[d]);
        free_inputs(c, in[d]);
    }
}
END_TEST

/* Squared, so that the linear ops' second derivatives are not all zero: the
 * op itself is gradgradchecked by the op table (tests/op_table_conv.c). */
static nb_tensor *squared_case(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const conv_case *c = user;
    return nb_square(tape, c->f(tape, in, user));
}

START_TEST(squared_outputs_pass_gradgradcheck)
{
    const conv_case *c = &cases[_i];
    nb_tensor *in[3];
    make_inputs(c, NB_F64, in);
    nb_gradcheck_report report;
    nb_status s = nb_gradgradcheck(squared_case, c->n_inputs, in, (void *)c, NULL, &report);
    ck_assert_msg(s == NB_OK, "%s: %s", c->name, nb_last_error());
    if (!report.passed) {
        fprintf(stderr, "%s squared:\n", c->name);
        nb_gradcheck_print(&report, stderr);
    }
    ck_assert_msg(report.passed, "%s squared: second derivatives wrong (report on stderr)",
                  c->name);
    free_inputs(c, in);
}
END_TEST

/* ---- a small convnet's Hessian-vector product ---------------------------- */

/* Conv2D (2 filters 3x3, tanh) -> MaxPooling2D 2 -> Flatten -> Dense 3, and
 * cross-entropy on logits, for a batch of two 6x6 images; the variables
 * are the four weights and the images (as an input-gradient penalty would
 * differentiate them). */
#define NET_LAYERS 4
#define NET_VARS 5

typedef struct convnet {
    nb_layer *layers[NET_LAYERS];
    nb_tensor *vars[NET_VARS]; /* conv kernel, conv bias, dense kernel, dense bias, images */
    nb_tensor *target;
    nb_rng rng;
} convnet;

static void convnet_build(convnet *net)
{
    nb_rng_seed(&net->rng, 5);
    net->layers[0] = nb_conv2d_layer(2, 3, 1, NB_PADDING_VALID, NB_TANH);
    net->layers[1] = nb_max_pooling2d(2, 0, NB_PADDING_VALID);
    net->layers[2] = nb_flatten_layer();
    net->layers[3] = nb_dense(3, NB_LINEAR);
    int rank = 3;
    const int64_t *shape = (const int64_t[]){6, 6, 1};
    int n = 0;
    for (int i = 0; i < NET_LAYERS; i++) {
        nb_layer *layer = net->layers[i];
        ck_assert_int_eq(nb_layer_build(layer, rank, shape, NB_F64, &net->rng), NB_OK);
        for (int k = 0; k < layer->n_params; k++)
            net->vars[n++] = layer->params[k];
        rank = layer->out_rank;
        shape = layer->out_shape;
    }
    ck_assert_int_eq(n, NET_VARS - 1);
    /* Glorot's kernels are small; larger ones make tanh and the softmax bend */
    for (int64_t j = 0; j < net->vars[0]->size; j++)
        nb_tensor_set(net->vars[0], j, 3 * nb_tensor_get(net->vars[0], j));
    net->vars[NET_VARS - 1] = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 6, 6, 1), -1, 1, 21);
    net->target = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3), (double[]){1, 0, 0, 0, 0, 1});
}

static void convnet_free(convnet *net)
{
    for (int i = 0; i < NET_LAYERS; i++)
        nb_layer_free(net->layers[i]);
    nb_tensor_free(net->vars[NET_VARS - 1]);
    nb_tensor_free(net->target);
}

static nb_tensor *convnet_loss(nb_tape *tape, convnet *net)
{
    nb_tensor *h = net->vars[NET_VARS - 1];
    for (int i = 0; i < NET_LAYERS; i++)
        h = nb_layer_forward(net->layers[i], tape, h, false, &net->rng);
    return nb_loss_categorical_crossentropy_logits(tape, h, net->target);
}

/* Move every variable by step * v. */
static void convnet_step(convnet *net, nb_tensor *const v[], double step)
{
    for (int k = 0; k < NET_VARS; k++)
        for (int64_t j = 0; j < net->vars[k]->size; j++)
            nb_tensor_set(net->vars[k], j,
                          nb_tensor_get(net->vars[k], j) + step * nb_tensor_get(v[k], j));
}

/* The gradient at vars + step * v, into caller-owned copies grads[k] */
static void convnet_gradient_at(convnet *net, nb_tensor *const v[], double step,
                                nb_tensor *grads[])
{
    convnet_step(net, v, step);
    nb_tape *tape = nb_tape_new();
    nb_tensor *g[NET_VARS];
    ck_assert_msg(nb_grad(tape, convnet_loss(tape, net), NET_VARS, net->vars, g, false) == NB_OK,
                  "%s", nb_last_error());
    for (int k = 0; k < NET_VARS; k++)
        grads[k] = nb_tensor_copy(g[k], NB_F64);
    nb_tape_free(tape);
    convnet_step(net, v, -step);
}

START_TEST(convnet_hvp_matches_finite_differences_of_its_gradient)
{
    convnet net;
    convnet_build(&net);
    nb_tensor *v[NET_VARS], *hv[NET_VARS], *plus[NET_VARS], *minus[NET_VARS];
    for (int k = 0; k < NET_VARS; k++)
        v[k] = nb_test_uniform(NB_F64, net.vars[k]->rank, net.vars[k]->shape, -1, 1, 31 + k);
    nb_tape *tape = nb_tape_new();
    ck_assert_msg(nb_hvp(tape, convnet_loss(tape, &net), NET_VARS, net.vars, v, hv) == NB_OK,
                  "%s", nb_last_error());
    const double eps = 1e-6;
    convnet_gradient_at(&net, v, eps, plus);
    convnet_gradient_at(&net, v, -eps, minus);
    double largest = 0;
    for (int k = 0; k < NET_VARS; k++) {
        for (int64_t j = 0; j < net.vars[k]->size; j++) {
            double analytic = nb_tensor_get(hv[k], j);
            double numeric = (nb_tensor_get(plus[k], j) - nb_tensor_get(minus[k], j)) / (2 * eps);
            ck_assert_msg(fabs(analytic - numeric) <= 1e-6 + 1e-5 * fabs(numeric),
                          "variable %d element %d: hvp %.12g, finite difference %.12g", k,
                          (int)j, analytic, numeric);
            largest = fmax(largest, fabs(analytic));
        }
        nb_tensor_free(plus[k]);
        nb_tensor_free(minus[k]);
        nb_tensor_free(v[k]);
    }
    ck_assert_msg(largest > 1e-2, "the Hessian-vector product is about zero (%g): a weak test",
                  largest);
    nb_tape_free(tape);
    convnet_free(&net);
}
END_TEST

static Suite *conv_grad_suite(void)
{
    Suite *s = suite_create("conv_grad");
    TCase *ops = tcase_create("every_conv_and_pool_op");
    tcase_add_loop_test(ops, vjp_first_order_equals_buffer_backward, 0, N_CASES);
    tcase_add_loop_test(ops, vjp_second_order_equals_buffer_backward, 0, N_CASES);
    tcase_add_loop_test(ops, second_order_in_f32_matches_f64, 0, N_CASES);
    tcase_add_loop_test(ops, squared_outputs_pass_gradgradcheck, 0, N_CASES);
    suite_add_tcase(s, ops);
    TCase *model = tcase_create("model");
    tcase_add_test(model, convnet_hvp_matches_finite_differences_of_its_gradient);
    suite_add_tcase(s, model);
    return s;
}

NB_TEST_MAIN(conv_grad_suite)
