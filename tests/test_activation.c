/* Tests for the activations (src/ops/activation.c): relu, sigmoid, tanh,
 * leaky relu, ELU, GELU, softplus and SiLU; and for sine and cosine
 * (src/ops/trig.c), which are unary ops of the same template. */
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

/* f32 tanh is computed without tanhf (activation.c): every float from -20
 * to 20 in steps of about 1e-4, tiny ones down to 1e-30, and the edges of
 * its two forms at |x| = 0.4 must be within 2e-7 relative of tanh in
 * double; NaN stays NaN and the infinities give +-1. */
START_TEST(tanh_f32_is_within_2e_7_of_tanh_everywhere)
{
    enum { N = 400000 + 200 + 4 + 3 };
    static double xs[N];
    int n = 0;
    for (int i = 0; i < 400000; i++)
        xs[n++] = -20.0 + 1e-4 * i + 1e-9 * (i % 7);
    for (int i = 0; i < 200; i++)
        xs[n++] = (i % 2 ? -1 : 1) * pow(10.0, -30.0 + 0.15 * i);
    xs[n++] = nextafterf(0.4f, 0.0f);
    xs[n++] = 0.4f;
    xs[n++] = -nextafterf(0.4f, 0.0f);
    xs[n++] = -0.4f;
    xs[n++] = NAN;
    xs[n++] = INFINITY;
    xs[n++] = -INFINITY;
    nb_tensor *x = nb_tensor_from_doubles(NB_F32, NB_SHAPE(N), xs);
    nb_tensor *y = nb_tanh(NULL, x);
    ck_assert_ptr_nonnull(y);
    for (int i = 0; i < N - 3; i++) {
        double want = tanh((double)(float)xs[i]), got = nb_tensor_get(y, i);
        ck_assert_msg(fabs(got - want) <= 2e-7 * fabs(want), "tanh(%.9g) is %.9g, expected %.9g",
                      (double)(float)xs[i], got, want);
    }
    ck_assert(isnan(nb_tensor_get(y, N - 3)));
    ck_assert_double_eq(nb_tensor_get(y, N - 2), 1.0);
    ck_assert_double_eq(nb_tensor_get(y, N - 1), -1.0);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(tanh_saturates_for_large_inputs)
{
    nb_test_check_unary("tanh", nb_tanh, 2, (double[]){-1000, 1000}, (double[]){-1, 1},
                        (double[]){0, 0});
}
END_TEST

/* Fixed alphas for the ops that take one, so they fit nb_test_unary_fn. */
static nb_tensor *leaky_relu_02(nb_tape *tape, nb_tensor *x) { return nb_leaky_relu(tape, x, 0.2); }
static nb_tensor *elu_15(nb_tape *tape, nb_tensor *x) { return nb_elu(tape, x, 1.5); }
static nb_tensor *elu_1(nb_tape *tape, nb_tensor *x) { return nb_elu(tape, x, 1.0); }

START_TEST(leaky_relu_scales_negatives_by_alpha)
{
    /* the gradient at exactly 0 is taken as alpha */
    nb_test_check_unary("leaky_relu", leaky_relu_02, 5, (double[]){-2, -0.5, 0, 0.5, 3},
                        (double[]){-0.4, -0.1, 0, 0.5, 3}, (double[]){0.2, 0.2, 0.2, 1, 1});
}
END_TEST

START_TEST(elu_grad_is_alpha_e_to_the_x_below_zero)
{
    /* alpha 1.5: y = 1.5 (e^x - 1) and dy/dx = 1.5 e^x for x <= 0 */
    nb_test_check_unary("elu", elu_15, 4, (double[]){-1, -0.5, 0, 2},
                        (double[]){-0.9481808382428365, -0.5902040104310499, 0, 2},
                        (double[]){0.5518191617571635, 0.9097959895689501, 1.5, 1});
}
END_TEST

START_TEST(gelu_grad_is_phi_plus_x_times_density)
{
    /* y = x Phi(x), dy/dx = Phi(x) + x phi(x); Phi(-1) = 0.15865525393145707 */
    nb_test_check_unary("gelu", nb_gelu, 5, (double[]){-1, 0, 0.5, 2, -5},
                        (double[]){-0.15865525393145707, 0, 0.34573123063700656,
                                   1.9544997361036416, -1.4332578593959731e-06},
                        (double[]){-0.08331547058768629, 0.5, 0.8674951246561629,
                                   1.085231801078197, -7.146946001792295e-06});
}
END_TEST

START_TEST(softplus_grad_is_sigmoid)
{
    /* softplus(0) = ln 2; at -30 the result e^-30 keeps its digits */
    nb_test_check_unary("softplus", nb_softplus, 4, (double[]){-1, 0, 2, -30},
                        (double[]){0.31326168751822286, 0.6931471805599453, 2.1269280110429727,
                                   9.357622968839737e-14},
                        (double[]){0.2689414213699951, 0.5, 0.8807970779778823,
                                   9.357622968839299e-14});
}
END_TEST

START_TEST(silu_grad_is_s_times_one_plus_x_times_one_minus_s)
{
    nb_test_check_unary("silu", nb_silu, 3, (double[]){-1, 0, 2},
                        (double[]){-0.2689414213699951, 0, 1.7615941559557646},
                        (double[]){0.07232948812851325, 0.5, 1.0907842487848955});
}
END_TEST

START_TEST(sin_grad_is_cos_and_cos_grad_is_minus_sin)
{
    nb_test_check_unary("sin", nb_sin, 3, (double[]){0, 0.5, -2},
                        (double[]){0, 0.479425538604203, -0.9092974268256817},
                        (double[]){1, 0.8775825618903728, -0.4161468365471424});
    nb_test_check_unary("cos", nb_cos, 3, (double[]){0, 0.5, -2},
                        (double[]){1, 0.8775825618903728, -0.4161468365471424},
                        (double[]){0, -0.479425538604203, 0.9092974268256817});
}
END_TEST

START_TEST(smooth_activations_are_finite_for_plus_minus_1000)
{
    /* e^1000 overflows: each op must be written so it never meets inf - inf
     * or 0 * inf. At -1000 softplus, SiLU and GELU are 0 (to underflow) and
     * ELU is -alpha; at +1000 all are x with slope 1. */
    const double x[] = {-1000, 1000};
    nb_test_check_unary("softplus", nb_softplus, 2, x, (double[]){0, 1000}, (double[]){0, 1});
    nb_test_check_unary("silu", nb_silu, 2, x, (double[]){0, 1000}, (double[]){0, 1});
    nb_test_check_unary("gelu", nb_gelu, 2, x, (double[]){0, 1000}, (double[]){0, 1});
    nb_test_check_unary("elu", elu_1, 2, x, (double[]){-1, 1000}, (double[]){0, 1});
    nb_test_check_unary("leaky_relu", leaky_relu_02, 2, x, (double[]){-200, 1000},
                        (double[]){0.2, 1});
}
END_TEST

/* The activations, for the shape test below. Their gradient checks,
 * tape-against-no-tape, f32-against-f64 and error tests are generated from
 * the op table (tests/op_table_unary.c, test_op_table). */
typedef struct activation_case {
    const char *name;
    nb_test_unary_fn apply;
} activation_case;

static const activation_case cases[] = {
    {"relu", nb_relu},     {"sigmoid", nb_sigmoid},       {"tanh", nb_tanh},
    {"elu", elu_15},       {"leaky_relu", leaky_relu_02}, {"gelu", nb_gelu},
    {"silu", nb_silu},     {"softplus", nb_softplus},     {"sin", nb_sin},
    {"cos", nb_cos},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

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

static Suite *activation_suite(void)
{
    Suite *s = suite_create("activation");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, relu_grad_is_zero_below_zero_and_one_above);
    tcase_add_test(tc, sigmoid_grad_is_y_times_one_minus_y);
    tcase_add_test(tc, tanh_grad_is_one_minus_y_squared);
    tcase_add_test(tc, sigmoid_saturates_without_nan_for_large_inputs);
    tcase_add_test(tc, tanh_saturates_for_large_inputs);
    tcase_add_test(tc, tanh_f32_is_within_2e_7_of_tanh_everywhere);
    tcase_add_test(tc, leaky_relu_scales_negatives_by_alpha);
    tcase_add_test(tc, elu_grad_is_alpha_e_to_the_x_below_zero);
    tcase_add_test(tc, gelu_grad_is_phi_plus_x_times_density);
    tcase_add_test(tc, softplus_grad_is_sigmoid);
    tcase_add_test(tc, silu_grad_is_s_times_one_plus_x_times_one_minus_s);
    tcase_add_test(tc, sin_grad_is_cos_and_cos_grad_is_minus_sin);
    tcase_add_test(tc, smooth_activations_are_finite_for_plus_minus_1000);
    tcase_add_test(tc, activations_keep_shape_and_dtype);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(activation_suite)
