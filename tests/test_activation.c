/* Tests for the activations (src/ops/activation.c): relu, sigmoid, tanh. */
#include <math.h>

#include "nb_test.h"

/* ---- values and gradients by hand --------------------------------------- */

START_TEST(relu_grad_is_zero_below_zero_and_one_above)
{
    /* the gradient at exactly 0 is taken as 0 */
    nb_test_check_unary("relu", nb_relu, 5, (double[]){-2, -0.5, 0, 0.5, 3},
                        (double[]){0, 0, 0, 0.5, 3}, (double[]){0, 0, 0, 1, 1});
}
END_TEST

START_TEST(sigmoid_grad_is_y_times_one_minus_y)
{
    nb_test_check_unary("sigmoid", nb_sigmoid, 3, (double[]){0, 2, -2},
                        (double[]){0.5, 0.8807970779778823, 0.11920292202211755},
                        (double[]){0.25, 0.10499358540350662, 0.1049935854035065});
}
END_TEST

START_TEST(tanh_grad_is_one_minus_y_squared)
{
    nb_test_check_unary("tanh", nb_tanh, 3, (double[]){0, 1, -0.5},
                        (double[]){0, 0.7615941559557649, -0.46211715726000974},
                        (double[]){1, 0.41997434161402614, 0.7864477329659274});
}
END_TEST

START_TEST(sigmoid_saturates_without_nan_for_large_inputs)
{
    /* exp(-x) overflows to inf for x = -1000: y must be 0, not NaN */
    nb_test_check_unary("sigmoid", nb_sigmoid, 4, (double[]){-1000, 1000, -100, 100},
                        (double[]){0, 1, 0, 1}, (double[]){0, 0, 0, 0});
}
END_TEST

START_TEST(tanh_saturates_for_large_inputs)
{
    nb_test_check_unary("tanh", nb_tanh, 2, (double[]){-1000, 1000}, (double[]){-1, 1},
                        (double[]){0, 0});
}
END_TEST

/* ---- gradient checks ---------------------------------------------------- */

typedef struct activation_case {
    const char *name;
    nb_test_unary_fn apply;
    double low, high;  /* inputs are drawn from [low, high) */
    bool kink_at_zero; /* keep inputs away from 0 */
} activation_case;

static const activation_case cases[] = {
    {"relu", nb_relu, -2, 2, true},
    {"sigmoid", nb_sigmoid, -4, 4, false},
    {"tanh", nb_tanh, -2, 2, false},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static nb_tensor *apply_case(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const activation_case *c = user;
    return c->apply(tape, in[0]);
}

/* Loop test: _i picks the activation from cases. */
START_TEST(grad_matches_finite_differences)
{
    const activation_case *c = &cases[_i];
    for (int s = 0; s < NB_TEST_N_GRAD_SHAPES; s++) {
        const nb_test_shape *shape = &nb_test_grad_shapes[s];
        nb_tensor *x = nb_test_uniform(NB_F64, shape->rank, shape->shape, c->low, c->high,
                                       (uint64_t)(10 * _i + s));
        /* relu: move values in (-0.1, 0.1) out to +-0.1, away from the kink */
        if (c->kink_at_zero)
            nb_test_keep_away(x, 0, 0.1);
        nb_tensor_set_requires_grad(x, true);
        ck_assert_gradcheck(apply_case, 1, (nb_tensor *[]){x}, (void *)c);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(activations_keep_shape_and_dtype)
{
    nb_tensor *x = nb_tensor_full(NB_F32, NB_SHAPE(2, 1, 3), -0.5);
    for (int i = 0; i < N_CASES; i++) {
        nb_tensor *y = cases[i].apply(NULL, x);
        ck_assert_ptr_nonnull(y);
        ck_assert_msg(nb_same_shape(x, y) && y->dtype == NB_F32, "%s changed shape or dtype",
                      cases[i].name);
        nb_tensor_free(y);
    }
    nb_tensor_free(x);
}
END_TEST

START_TEST(activations_given_null_keep_the_earlier_message)
{
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(2));
    ck_assert_ptr_null(nb_clip(NULL, x, 1, 0));
    for (int i = 0; i < N_CASES; i++) {
        ck_assert_ptr_null(cases[i].apply(NULL, NULL));
        ck_assert_error_contains("nb_clip: low 1 is greater than high 0");
    }
    nb_tensor_free(x);
}
END_TEST

static Suite *activation_suite(void)
{
    Suite *s = suite_create("activation");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, relu_grad_is_zero_below_zero_and_one_above);
    tcase_add_test(tc, sigmoid_grad_is_y_times_one_minus_y);
    tcase_add_test(tc, tanh_grad_is_one_minus_y_squared);
    tcase_add_test(tc, sigmoid_saturates_without_nan_for_large_inputs);
    tcase_add_test(tc, tanh_saturates_for_large_inputs);
    tcase_add_test(tc, activations_keep_shape_and_dtype);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradcheck");
    tcase_add_loop_test(tc, grad_matches_finite_differences, 0, N_CASES);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, activations_given_null_keep_the_earlier_message);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(activation_suite)
