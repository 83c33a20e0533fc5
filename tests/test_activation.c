/* Tests for the activations (src/ops/activation.c): relu, sigmoid, tanh. */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* Allowed error of a value computed by hand: f32 keeps about 7 digits. */
static double tolerance(nb_dtype dtype, double expected)
{
    return (dtype == NB_F32 ? 2e-6 : 1e-12) * fmax(1.0, fabs(expected));
}

/* Assert the values (or, with grad, the gradient) of t element by element. */
static void assert_close(const char *what, const nb_tensor *t, bool grad, const double *expected,
                         int64_t n)
{
    ck_assert_msg(t != NULL, "%s: no tensor: %s", what, nb_last_error());
    ck_assert_int_eq(t->size, n);
    for (int64_t i = 0; i < n; i++) {
        double v = grad ? nb_tensor_grad_get(t, i) : nb_tensor_get(t, i);
        ck_assert_msg(fabs(v - expected[i]) <= tolerance(t->dtype, expected[i]),
                      "%s %s (%s): element %d is %.17g, expected %.17g", what,
                      grad ? "gradient" : "value", nb_dtype_name(t->dtype), (int)i, v, expected[i]);
    }
}

typedef nb_tensor *(*unary_fn)(nb_tape *tape, nb_tensor *x);

/* y = f(x) and dy/dx (from the backward of sum(y)) against values computed by
 * hand, in f32 and f64. */
static void check_by_hand(const char *what, unary_fn f, int64_t n, const double *x,
                          const double *y, const double *dydx)
{
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *xt = nb_tensor_from_doubles(dtypes[d], 1, (const int64_t[]){n}, x);
        nb_tensor_set_requires_grad(xt, true);
        nb_tensor *yt = f(tape, xt);
        assert_close(what, yt, false, y, n);
        ck_assert_int_eq(nb_backward(nb_sum(tape, yt)), NB_OK);
        assert_close(what, xt, true, dydx, n);
        nb_tape_free(tape);
        nb_tensor_free(xt);
    }
}

/* ---- values and gradients by hand --------------------------------------- */

START_TEST(relu_grad_is_zero_below_zero_and_one_above)
{
    /* the gradient at exactly 0 is taken as 0 */
    check_by_hand("relu", nb_relu, 5, (double[]){-2, -0.5, 0, 0.5, 3}, (double[]){0, 0, 0, 0.5, 3},
                  (double[]){0, 0, 0, 1, 1});
}
END_TEST

START_TEST(sigmoid_grad_is_y_times_one_minus_y)
{
    check_by_hand("sigmoid", nb_sigmoid, 3, (double[]){0, 2, -2},
                  (double[]){0.5, 0.8807970779778823, 0.11920292202211755},
                  (double[]){0.25, 0.10499358540350662, 0.1049935854035065});
}
END_TEST

START_TEST(tanh_grad_is_one_minus_y_squared)
{
    check_by_hand("tanh", nb_tanh, 3, (double[]){0, 1, -0.5},
                  (double[]){0, 0.7615941559557649, -0.46211715726000974},
                  (double[]){1, 0.41997434161402614, 0.7864477329659274});
}
END_TEST

START_TEST(sigmoid_saturates_without_nan_for_large_inputs)
{
    /* exp(-x) overflows to inf for x = -1000: y must be 0, not NaN */
    check_by_hand("sigmoid", nb_sigmoid, 4, (double[]){-1000, 1000, -100, 100},
                  (double[]){0, 1, 0, 1}, (double[]){0, 0, 0, 0});
}
END_TEST

START_TEST(tanh_saturates_for_large_inputs)
{
    check_by_hand("tanh", nb_tanh, 2, (double[]){-1000, 1000}, (double[]){-1, 1},
                  (double[]){0, 0});
}
END_TEST

/* ---- gradient checks ---------------------------------------------------- */

static const struct {
    int rank;
    int64_t shape[NB_MAX_RANK];
} grad_shapes[] = {
    {2, {1, 1}}, {2, {1, 5}}, {2, {3, 4}}, {3, {2, 3, 2}}, {0, {1}}, {4, {2, 1, 2, 3}},
};
#define N_GRAD_SHAPES (int)(sizeof grad_shapes / sizeof grad_shapes[0])

typedef struct activation_case {
    const char *name;
    unary_fn apply;
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
    for (int s = 0; s < N_GRAD_SHAPES; s++) {
        nb_rng rng;
        nb_rng_seed(&rng, (uint64_t)(10 * _i + s));
        nb_tensor *x = nb_tensor_rand_uniform(NB_F64, grad_shapes[s].rank, grad_shapes[s].shape,
                                              c->low, c->high, &rng);
        ck_assert_ptr_nonnull(x);
        /* relu: move values in (-0.1, 0.1) out to +-0.1, away from the kink */
        for (int64_t i = 0; c->kink_at_zero && i < x->size; i++) {
            double v = nb_tensor_get(x, i);
            if (fabs(v) < 0.1)
                nb_tensor_set(x, i, v >= 0 ? 0.1 : -0.1);
        }
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
