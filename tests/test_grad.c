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
    suite_add_tcase(s, errors);
    return s;
}

NB_TEST_MAIN(grad_suite)
