/* Tests for nb_grad, nb_hvp and nb_jvp (src/autograd/grad.c) and
 * nb_gradgradcheck (src/autograd/gradcheck2.c): gradients as tensors, to
 * any order, against values worked by hand and finite differences. */
#include <math.h>

#include "nb_test.h"

static void assert_values(const char *what, const nb_tensor *t, const double *expected, int64_t n,
                          double tol)
{
    ck_assert_msg(t, "%s: NULL (%s)", what, nb_last_error());
    ck_assert_int_eq(t->size, n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(nb_tensor_get(t, i) - expected[i]) <= tol * fmax(1, fabs(expected[i])),
                      "%s: element %d is %.17g, expected %.17g", what, (int)i,
                      nb_tensor_get(t, i), expected[i]);
}

/* y = sum(x^3): dy/dx = 3 x^2, d2 = 6 x, d3 = 6 */
START_TEST(grad_of_grad_of_cube_to_third_order)
{
    nb_tensor *x = nb_test_keep(nb_tensor_from_doubles(NB_F64, NB_SHAPE(3), (double[]){1, -2, 0.5}));
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_sum(tape, nb_mul(tape, x, nb_square(tape, x)));
    nb_tensor *d1, *d2, *d3;
    ck_assert_int_eq(nb_grad(tape, y, 1, &x, &d1, true), NB_OK);
    assert_values("3 x^2", d1, (double[]){3, 12, 0.75}, 3, 1e-15);
    ck_assert_int_eq(nb_grad(tape, nb_sum(tape, d1), 1, &x, &d2, true), NB_OK);
    assert_values("6 x", d2, (double[]){6, -12, 3}, 3, 1e-15);
    ck_assert_int_eq(nb_grad(tape, nb_sum(tape, d2), 1, &x, &d3, false), NB_OK);
    assert_values("6", d3, (double[]){6, 6, 6}, 3, 1e-15);
    ck_assert_ptr_null(x->grad);
    nb_tape_free(tape);
    nb_test_free_kept();
}
END_TEST

START_TEST(grad_leaves_grad_buffers_alone_and_gives_zeros_for_unused_inputs)
{
    nb_tensor *x = nb_test_keep(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){1, 2}));
    nb_tensor *w = nb_test_keep(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){3, 4}));
    nb_tensor *unused = nb_test_keep(nb_tensor_zeros(NB_F64, NB_SHAPE(2, 2)));
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(w, true);
    nb_tensor_set_requires_grad(unused, true);
    nb_tensor_fill(unused, 0);
    nb_tape *tape = nb_tape_new();
    nb_tensor *h = nb_mul(tape, x, w);
    nb_tensor *y = nb_sum(tape, h);
    ck_assert_int_eq(nb_backward(y), NB_OK); /* x->grad = w, h->grad = 1 */
    for (int create = 0; create < 2; create++) {
        nb_tensor *g[3];
        ck_assert_int_eq(nb_grad(tape, y, 3, (nb_tensor *[]){x, unused, h}, g, create), NB_OK);
        assert_values("dy/dx", g[0], (double[]){3, 4}, 2, 0);
        assert_values("dy/dunused", g[1], (double[]){0, 0, 0, 0}, 4, 0);
        assert_values("dy/dh", g[2], (double[]){1, 1}, 2, 0);
        ck_assert(g[0]->tape == tape && g[1]->tape == tape);
        ck_assert_double_eq(nb_tensor_grad_get(x, 1), 4);
        ck_assert_double_eq(nb_tensor_grad_get(w, 1), 2);
        ck_assert_double_eq(nb_tensor_grad_get(h, 0), 1);
        ck_assert_ptr_null(unused->grad);
    }
    nb_tape_free(tape);
    nb_test_free_kept();
}
END_TEST

START_TEST(grad_of_a_leaf_itself_is_one)
{
    nb_tensor *x = nb_test_keep(nb_tensor_from_doubles(NB_F64, NB_SHAPE(1), (double[]){5}));
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    for (int create = 0; create < 2; create++) {
        nb_tensor *g;
        ck_assert_int_eq(nb_grad(tape, x, 1, &x, &g, create), NB_OK);
        assert_values("dx/dx", g, (double[]){1}, 1, 0);
    }
    ck_assert_ptr_null(x->grad);
    nb_tape_free(tape);
    nb_test_free_kept();
}
END_TEST

/* ---- errors --------------------------------------------------------------- */

static nb_status softplus_forward(nb_node *node)
{
    for (int64_t i = 0; i < node->output->size; i++)
        nb_tensor_set(node->output, i, log1p(exp(nb_tensor_get(node->inputs[0], i))));
    return NB_OK;
}

static nb_status softplus_backward(nb_node *node)
{
    double *dx = nb_node_input_grad(node, 0);
    for (int64_t i = 0; dx && i < node->output->size; i++)
        dx[i] += ((double *)node->output->grad)[i] / (1 + exp(-nb_tensor_get(node->inputs[0], i)));
    return NB_OK;
}

static const nb_op my_softplus_op = {.name = "softplus", .n_inputs = 1,
                                     .infer = nb_infer_same_as_input,
                                     .forward = softplus_forward, .backward = softplus_backward};

START_TEST(custom_op_without_vjp_works_for_first_order_and_names_itself_for_second)
{
    nb_tensor *x = nb_test_keep(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){0, 1}));
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_sum(tape, nb_op_apply(tape, &my_softplus_op, 1, &x, NULL, 0));
    nb_tensor *g = NULL;
    ck_assert_int_eq(nb_grad(tape, y, 1, &x, &g, false), NB_OK);
    assert_values("sigmoid", g, (double[]){0.5, 1 / (1 + exp(-1.0))}, 2, 1e-15);
    ck_assert_int_eq(nb_grad(tape, y, 1, &x, &g, true), NB_ERR_STATE);
    ck_assert_ptr_null(g);
    ck_assert_error_contains("nb_grad: op 'softplus' has no differentiable backward (vjp)");
    nb_tape_free(tape);
    nb_test_free_kept();
}
END_TEST

START_TEST(grad_errors_name_the_argument)
{
    nb_tensor *x = nb_test_keep(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){0, 1}));
    nb_tensor *c = nb_test_keep(nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){0, 1}));
    nb_tensor_set_requires_grad(x, true);
    nb_tape *tape = nb_tape_new(), *other = nb_tape_new();
    nb_tensor *y = nb_sum(tape, nb_square(tape, x)), *v = nb_square(tape, x), *g[2];
    nb_clear_error();
    ck_assert_int_eq(nb_grad(tape, NULL, 1, &x, g, false), NB_ERR_NULL);
    ck_assert_error_contains("nb_grad: y is NULL");
    ck_assert_int_eq(nb_grad(NULL, y, 1, &x, g, false), NB_ERR_NULL);
    ck_assert_error_contains("nb_grad: tape is NULL");
    ck_assert_int_eq(nb_grad(tape, y, 1, NULL, g, false), NB_ERR_NULL);
    ck_assert_error_contains("nb_grad: xs is NULL");
    ck_assert_int_eq(nb_grad(tape, y, 0, &x, g, false), NB_ERR_ARG);
    ck_assert_error_contains("nb_grad: n is 0");
    ck_assert_int_eq(nb_grad(tape, v, 1, &x, g, false), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_grad: y has shape [2] (2 elements): expected a single element");
    ck_assert_int_eq(nb_grad(other, y, 1, &x, g, false), NB_ERR_STATE);
    ck_assert_error_contains("nb_grad: y belongs to another tape");
    ck_assert_int_eq(nb_grad(tape, y, 2, (nb_tensor *[]){x, NULL}, g, false), NB_ERR_NULL);
    ck_assert_error_contains("nb_grad: xs[1] is NULL");
    ck_assert_int_eq(nb_grad(tape, y, 2, (nb_tensor *[]){x, c}, g, false), NB_ERR_ARG);
    ck_assert_error_contains("nb_grad: xs[1] ('') does not require a gradient");
    nb_tape_reset(tape);
    ck_assert_int_eq(nb_grad(tape, y, 1, &x, g, false), NB_ERR_STATE);
    ck_assert_error_contains("nb_grad: tensor '' was freed by nb_tape_reset");
    nb_tape_free(tape);
    nb_tape_free(other);
    nb_test_free_kept();
}
END_TEST


/* ---- nb_gradgradcheck can fail ------------------------------------------- */

/* square with a correct buffer backward and a vjp that is wrong either at
 * first order (g x) or only at second order (2 g x with x held constant) */
static nb_status square_forward(nb_node *node)
{
    for (int64_t i = 0; i < node->output->size; i++) {
        double x = nb_tensor_get(node->inputs[0], i);
        nb_tensor_set(node->output, i, x * x);
    }
    return NB_OK;
}

static nb_status square_backward(nb_node *node)
{
    double *dx = nb_node_input_grad(node, 0);
    for (int64_t i = 0; dx && i < node->output->size; i++)
        dx[i] += 2 * nb_tensor_get(node->inputs[0], i) * ((double *)node->output->grad)[i];
    return NB_OK;
}

static nb_status half_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g, nb_tensor *grad_in[])
{
    grad_in[0] = nb_mul(tape, g, node->inputs[0]);
    return NB_OK;
}

static nb_status detached_vjp(nb_tape *tape, const nb_node *node, nb_tensor *g,
                              nb_tensor *grad_in[])
{
    grad_in[0] = nb_mul(tape, g, nb_scale(tape, nb_detach(tape, node->inputs[0]), 2));
    return NB_OK;
}

static const nb_op squares[] = {
    {.name = "half", .n_inputs = 1, .infer = nb_infer_same_as_input, .forward = square_forward,
     .backward = square_backward, .vjp = half_vjp},
    {.name = "detached", .n_inputs = 1, .infer = nb_infer_same_as_input,
     .forward = square_forward, .backward = square_backward, .vjp = detached_vjp},
};

static nb_tensor *wrong_square(nb_tape *tape, nb_tensor *const in[], void *user)
{
    return nb_op_apply(tape, user, 1, in, NULL, 0);
}

START_TEST(gradgradcheck_catches_a_wrong_vjp)
{
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3), -1, 1, 5);
    for (int k = 0; k < 2; k++) {
        nb_gradcheck_report report;
        ck_assert_int_eq(nb_gradgradcheck(wrong_square, 1, &x, (void *)&squares[k], NULL, &report),
                         NB_OK);
        ck_assert_msg(!report.passed, "the wrong vjp '%s' passed", squares[k].name);
        ck_assert(report.inputs[0].checked && !report.inputs[0].passed);
    }
    nb_gradcheck_report report;
    ck_assert_int_eq(nb_gradcheck(wrong_square, 1, &x, (void *)&squares[1], NULL, &report), NB_OK);
    ck_assert_msg(report.passed, "the buffer backward is right");
    nb_tensor_free(x);
}
END_TEST

START_TEST(gradgradcheck_errors_name_it)
{
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2), -1, 1, 5);
    nb_gradcheck_report report;
    ck_assert_int_eq(nb_gradgradcheck(NULL, 1, &x, NULL, NULL, &report), NB_ERR_NULL);
    ck_assert_error_contains("nb_gradgradcheck: f is NULL");
    ck_assert_int_eq(nb_gradgradcheck(wrong_square, 0, &x, NULL, NULL, &report), NB_ERR_ARG);
    ck_assert_error_contains("nb_gradgradcheck: n_inputs is 0");
    ck_assert_int_eq(nb_gradgradcheck(wrong_square, 1, &x, (void *)&my_softplus_op, NULL, &report),
                     NB_ERR_STATE);
    ck_assert_error_contains("nb_grad: op 'softplus' has no differentiable backward (vjp)");
    nb_tensor_free(x);
}
END_TEST

/* ---- Hessian- and Jacobian-vector products against finite differences --- */

/* f(x, w) = sum(tanh(x w) * x w) + sum(exp(w) * w) ... a small graph of
 * several ops, y of one element; g(x, w) = softmax(x w) of shape [2, 2]. */
static nb_tensor *scalar_f(nb_tape *tape, nb_tensor *x, nb_tensor *w)
{
    nb_tensor *h = nb_matmul(tape, x, w);
    return nb_add(tape, nb_sum(tape, nb_mul(tape, nb_tanh(tape, h), h)),
                  nb_sum(tape, nb_mul(tape, nb_exp(tape, w), nb_sigmoid(tape, w))));
}

static nb_tensor *vector_f(nb_tape *tape, nb_tensor *x, nb_tensor *w)
{
    return nb_softmax(tape, nb_log(tape, nb_add_scalar(tape, nb_square(tape, nb_matmul(tape, x, w)), 1)));
}

typedef nb_tensor *(*two_input_fn)(nb_tape *, nb_tensor *, nb_tensor *);

/* (f(p + eps v) - f(p - eps v)) / 2 eps, element i of f's output or of
 * its gradient with respect to input `wrt` (wrt < 0: of f itself) */
static double directional_difference(two_input_fn f, nb_tensor *in[2], nb_tensor *v[2], int wrt,
                                     int64_t i)
{
    const double eps = 1e-6;
    double value[2];
    for (int side = 0; side < 2; side++) {
        double step = side ? -eps : eps;
        for (int k = 0; k < 2; k++)
            for (int64_t j = 0; j < in[k]->size; j++)
                nb_tensor_set(in[k], j, nb_tensor_get(in[k], j) + step * nb_tensor_get(v[k], j));
        nb_tape *tape = nb_tape_new();
        nb_tensor *y = f(tape, in[0], in[1]), *g[2];
        if (wrt >= 0)
            ck_assert_int_eq(nb_grad(tape, y, 2, in, g, false), NB_OK);
        value[side] = nb_tensor_get(wrt >= 0 ? g[wrt] : y, i);
        nb_tape_free(tape);
        for (int k = 0; k < 2; k++)
            for (int64_t j = 0; j < in[k]->size; j++)
                nb_tensor_set(in[k], j, nb_tensor_get(in[k], j) - step * nb_tensor_get(v[k], j));
    }
    return (value[0] - value[1]) / (2 * eps);
}

static void assert_close_to_difference(const char *what, double analytic, double numeric)
{
    ck_assert_msg(fabs(analytic - numeric) <= 1e-6 + 1e-5 * fabs(numeric),
                  "%s: analytic %.12g, finite difference %.12g", what, analytic, numeric);
}

START_TEST(hvp_and_jvp_match_finite_differences)
{
    nb_tensor *in[2] = {nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3), -1, 1, 1),
                        nb_test_uniform_param(NB_F64, NB_SHAPE(3, 2), -1, 1, 2)};
    nb_tensor *v[2] = {nb_test_uniform(NB_F64, NB_SHAPE(2, 3), -1, 1, 3),
                       nb_test_uniform(NB_F64, NB_SHAPE(3, 2), -1, 1, 4)};
    nb_tape *tape = nb_tape_new();
    nb_tensor *hv[2], *jv;
    ck_assert_int_eq(nb_hvp(tape, scalar_f(tape, in[0], in[1]), 2, in, v, hv), NB_OK);
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < in[k]->size; i++)
            assert_close_to_difference("hvp", nb_tensor_get(hv[k], i),
                                       directional_difference(scalar_f, in, v, k, i));
    ck_assert_int_eq(nb_jvp(tape, vector_f(tape, in[0], in[1]), 2, in, v, &jv), NB_OK);
    ck_assert_int_eq(jv->size, 4);
    for (int64_t i = 0; i < 4; i++)
        assert_close_to_difference("jvp", nb_tensor_get(jv, i),
                                   directional_difference(vector_f, in, v, -1, i));
    ck_assert_ptr_null(in[0]->grad);
    nb_tape_free(tape);
    for (int k = 0; k < 2; k++) {
        nb_tensor_free(in[k]);
        nb_tensor_free(v[k]);
    }
}
END_TEST

START_TEST(hvp_and_jvp_errors_name_them)
{
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2), -1, 1, 5);
    nb_tensor *v3 = nb_test_uniform(NB_F64, NB_SHAPE(3), -1, 1, 5);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = nb_sum(tape, nb_square(tape, x)), *out[1];
    ck_assert_int_eq(nb_hvp(tape, y, 1, &x, &v3, out), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_hvp: vs[0] has shape [3] but xs[0] has [2]");
    ck_assert_int_eq(nb_hvp(tape, y, 1, &x, NULL, out), NB_ERR_NULL);
    ck_assert_error_contains("nb_hvp: vs is NULL");
    ck_assert_int_eq(nb_jvp(tape, y, 1, &x, (nb_tensor *[]){NULL}, out), NB_ERR_NULL);
    ck_assert_error_contains("nb_jvp: vs[0] is NULL");
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(v3);
}
END_TEST

static Suite *grad_suite(void)
{
    Suite *s = suite_create("grad");
    TCase *tc = tcase_create("grad");
    tcase_add_test(tc, grad_of_grad_of_cube_to_third_order);
    tcase_add_test(tc, grad_leaves_grad_buffers_alone_and_gives_zeros_for_unused_inputs);
    tcase_add_test(tc, grad_of_a_leaf_itself_is_one);
    suite_add_tcase(s, tc);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, custom_op_without_vjp_works_for_first_order_and_names_itself_for_second);
    tcase_add_test(errors, grad_errors_name_the_argument);
    tcase_add_test(errors, gradgradcheck_errors_name_it);
    tcase_add_test(errors, hvp_and_jvp_errors_name_them);
    suite_add_tcase(s, errors);
    TCase *checks = tcase_create("checks");
    tcase_add_test(checks, gradgradcheck_catches_a_wrong_vjp);
    tcase_add_test(checks, hvp_and_jvp_match_finite_differences);
    suite_add_tcase(s, checks);
    return s;
}

NB_TEST_MAIN(grad_suite)
