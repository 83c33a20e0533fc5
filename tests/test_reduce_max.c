/* Tests for the reductions along one axis beyond sums (src/ops/reduce.c):
 * max, min, logsumexp and var, with negative axes and keepdims. */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

typedef nb_tensor *(*axis_fn)(nb_tape *tape, nb_tensor *x, int axis, bool keepdims);

/* x = [[1, 5, -2], [4, 0, 3]] */
static nb_tensor *small_matrix(nb_dtype dtype)
{
    return NB_TEST_TENSOR(dtype, NB_SHAPE(2, 3), 1, 5, -2, 4, 0, 3);
}

/* y = f(x, axis, keepdims) without a tape, kept; asserted to have the shape
 * (rank, dims) and the values `expected`. */
static void assert_reduces_to(const char *what, axis_fn f, nb_tensor *x, int axis,
                              bool keepdims, int rank, const int64_t *dims,
                              const double *expected)
{
    nb_tensor *y = nb_test_keep(f(NULL, x, axis, keepdims));
    nb_test_assert_shape(what, y, rank, dims);
    nb_test_assert_close(what, y, false, expected, y->size);
}

/* Seed f(x, axis, keepdims) with the gradient `seed` (its shape) and assert
 * x's gradient is `expected`. */
static void assert_grad(const char *what, axis_fn f, nb_tensor *x, int axis, bool keepdims,
                        const double *seed, const double *expected)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_zero_grad(x);
    nb_tensor *y = f(tape, x, axis, keepdims);
    ck_assert_ptr_nonnull(y);
    nb_tensor *g = nb_test_keep(nb_tensor_from_doubles(x->dtype, y->rank, y->shape, seed));
    ck_assert_int_eq(nb_backward_from(y, g), NB_OK);
    nb_test_assert_close(what, x, true, expected, x->size);
    nb_tape_free(tape);
}

/* ---- values ------------------------------------------------------------- */

START_TEST(max_and_min_axis_pick_the_extremes_on_each_axis)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = small_matrix(dtypes[d]);
        assert_reduces_to("max 0", nb_max_axis, x, 0, false, 1, (int64_t[]){3},
                          (double[]){4, 5, 3});
        assert_reduces_to("max -1", nb_max_axis, x, -1, false, 1, (int64_t[]){2},
                          (double[]){5, 4});
        assert_reduces_to("min -2 keepdims", nb_min_axis, x, -2, true, 2, (int64_t[]){1, 3},
                          (double[]){1, 0, -2});
        assert_reduces_to("min 1 keepdims", nb_min_axis, x, 1, true, 2, (int64_t[]){2, 1},
                          (double[]){-2, 0});
    }
}
END_TEST

START_TEST(max_and_min_of_rank_3_reduce_the_right_elements)
{
    /* x[i][j][k] = 12 i + 4 j + k: the max over j is 12 i + 8 + k, the min
     * over k is 12 i + 4 j */
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = nb_test_keep(nb_tensor_zeros(dtypes[d], NB_SHAPE(2, 3, 4)));
        for (int64_t i = 0; i < 24; i++)
            nb_tensor_set(x, i, (double)i);
        assert_reduces_to("max 1", nb_max_axis, x, 1, false, 2, (int64_t[]){2, 4},
                          (double[]){8, 9, 10, 11, 20, 21, 22, 23});
        assert_reduces_to("min 2", nb_min_axis, x, 2, true, 3, (int64_t[]){2, 3, 1},
                          (double[]){0, 4, 8, 12, 16, 20});
    }
}
END_TEST

START_TEST(max_of_a_row_holding_nan_is_nan)
{
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 3), 1, NAN, 3, 1, 2, 3);
    nb_tensor *m = nb_test_keep(nb_max_axis(NULL, x, 1, false));
    nb_tensor *n = nb_test_keep(nb_min_axis(NULL, x, 1, false));
    ck_assert(isnan(nb_tensor_get(m, 0)) && nb_tensor_get(m, 1) == 3);
    ck_assert(isnan(nb_tensor_get(n, 0)) && nb_tensor_get(n, 1) == 1);
}
END_TEST

START_TEST(logsumexp_axis_matches_hand_values)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 1, 2, 3, 0, 0, 0);
        /* 3 + log(1 + e^-1 + e^-2), and log 3 */
        assert_reduces_to("logsumexp -1", nb_logsumexp_axis, x, -1, false, 1, (int64_t[]){2},
                          (double[]){3.4076059644443806, 1.0986122886681098});
        /* log(e^k + 1) for k = 1, 2, 3 */
        assert_reduces_to("logsumexp 0", nb_logsumexp_axis, x, 0, true, 2, (int64_t[]){1, 3},
                          (double[]){1.3132616875182228, 2.1269280110429727, 3.048587351573742});
    }
}
END_TEST

START_TEST(logsumexp_of_plus_minus_1000_stays_finite)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(3, 3), 1000, 1000, -1000, -1000,
                                      -1000, -1000, 1000, -1000, -1000);
        /* 1000 + log 2 (e^-2000 is nothing next to 2), -1000 + log 3, 1000 */
        assert_reduces_to("logsumexp of +-1000", nb_logsumexp_axis, x, 1, false, 1,
                          (int64_t[]){3}, (double[]){1000.6931471805599, -998.9013877113318, 1000});
        /* the gradient is softmax: [1/2, 1/2, 0], thirds, [1, 0, 0] */
        const double third = 1.0 / 3;
        assert_grad("logsumexp of +-1000", nb_logsumexp_axis, x, 1, false, (double[]){1, 1, 1},
                    (double[]){0.5, 0.5, 0, third, third, third, 1, 0, 0});
    }
}
END_TEST

START_TEST(logsumexp_of_a_row_of_minus_inf_is_minus_inf_with_a_finite_gradient)
{
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(2, 2), -INFINITY, -INFINITY, -INFINITY, 0);
    nb_tensor *y = nb_test_keep(nb_logsumexp_axis(NULL, x, 1, false));
    ck_assert(nb_tensor_get(y, 0) == -INFINITY);
    ck_assert_double_eq(nb_tensor_get(y, 1), 0);
    /* the limit of softmax for equal inputs: shared evenly; exp(-inf) = 0 */
    assert_grad("logsumexp of -inf", nb_logsumexp_axis, x, 1, false, (double[]){4, 1},
                (double[]){2, 2, 0, 1});
}
END_TEST

START_TEST(var_axis_is_the_population_variance)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 4), 1, 2, 3, 6, 2, 2, 2, 2);
        /* row 0: mean 3, (4 + 1 + 0 + 9) / 4 = 3.5 (not 14 / 3); row 1 is constant */
        assert_reduces_to("var 1", nb_var_axis, x, 1, false, 1, (int64_t[]){2},
                          (double[]){3.5, 0});
        /* columns (a, b): ((a - b) / 2)^2 */
        assert_reduces_to("var -2 keepdims", nb_var_axis, x, -2, true, 2, (int64_t[]){1, 4},
                          (double[]){0.25, 0, 0.25, 4});
    }
}
END_TEST

START_TEST(var_subtracts_the_mean_before_squaring)
{
    /* mean(x^2) - mean^2 would lose every digit here: x^2 is near 1e16 */
    nb_tensor *x = NB_TEST_TENSOR(NB_F64, NB_SHAPE(4), 1e8 + 1, 1e8 + 2, 1e8 + 3, 1e8 + 4);
    assert_reduces_to("var of 1e8 + [1, 2, 3, 4]", nb_var_axis, x, 0, false, 0, NULL,
                      (double[]){1.25});
}
END_TEST

/* ---- gradients by hand -------------------------------------------------- */

START_TEST(max_grad_goes_to_the_largest_element)
{
    for (int d = 0; d < 2; d++)
        assert_grad("max 0", nb_max_axis, small_matrix(dtypes[d]), 0, false,
                    (double[]){1, 2, 3}, (double[]){0, 2, 0, 1, 0, 3});
}
END_TEST

START_TEST(tied_maxima_share_the_gradient_evenly)
{
    for (int d = 0; d < 2; d++) {
        /* two tied in row 0 get half each; three in row 1 get a third each */
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(2, 3), 3, 1, 3, 2, 2, 2);
        assert_grad("max ties", nb_max_axis, x, 1, true, (double[]){1, 6},
                    (double[]){0.5, 0, 0.5, 2, 2, 2});
        nb_tensor *y = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4), 1, 4, 1, 1);
        assert_grad("min ties", nb_min_axis, y, -1, false, (double[]){3},
                    (double[]){1, 0, 1, 1});
    }
}
END_TEST

START_TEST(logsumexp_grad_is_softmax_times_the_upstream_gradient)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(1, 3), 1, 2, 3);
        /* 2 softmax([1, 2, 3]) */
        assert_grad("logsumexp", nb_logsumexp_axis, x, 1, true, (double[]){2},
                    (double[]){2 * 0.09003057317038046, 2 * 0.24472847105479767,
                               2 * 0.6652409557748219});
    }
}
END_TEST

START_TEST(var_grad_is_two_deviations_over_n)
{
    for (int d = 0; d < 2; d++) {
        /* mean 3: 2 (x - 3) / 4 times g = 2 */
        nb_tensor *x = NB_TEST_TENSOR(dtypes[d], NB_SHAPE(4, 1), 1, 2, 3, 6);
        assert_grad("var", nb_var_axis, x, 0, false, (double[]){2}, (double[]){-2, -1, 0, 3});
    }
}
END_TEST

/* ---- gradient checks ---------------------------------------------------- */

typedef struct axis_case {
    axis_fn f;
    int axis;
    bool keepdims;
    bool twice; /* add sum_axis(x^2): backward must add to x's gradient */
} axis_case;

static nb_tensor *reduce_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const axis_case *c = user;
    nb_tensor *y = c->f(tape, in[0], c->axis, c->keepdims);
    if (!c->twice)
        return y;
    return nb_add(tape, nb_sum_axis(tape, nb_square(tape, in[0]), c->axis, c->keepdims), y);
}

/* The first reduction runs backward after the square has put its part into
 * x's gradient: it must add to it. (Gradient checks over shapes, axes and
 * keepdims, the errors and the tape-free runs are generated from the op
 * table, tests/op_table_reduce.c.) Uniform values are all different, so
 * max and min have no ties. */
START_TEST(grads_add_to_gradients_from_other_uses)
{
    const axis_fn fns[] = {nb_max_axis, nb_min_axis, nb_logsumexp_axis, nb_var_axis};
    nb_tensor *x = nb_test_keep(nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3, 2), -2, 2, 84));
    for (int f = 0; f < 4; f++)
        for (int axis = -3; axis < 3; axis++) {
            axis_case c = {fns[f], axis, axis < 0, true};
            ck_assert_gradcheck(reduce_of, 1, (nb_tensor *[]){x}, &c);
        }
}
END_TEST

static Suite *reduce_max_suite(void)
{
    Suite *s = suite_create("reduce_max");
    TCase *tc = tcase_create("values");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, max_and_min_axis_pick_the_extremes_on_each_axis);
    tcase_add_test(tc, max_and_min_of_rank_3_reduce_the_right_elements);
    tcase_add_test(tc, max_of_a_row_holding_nan_is_nan);
    tcase_add_test(tc, logsumexp_axis_matches_hand_values);
    tcase_add_test(tc, logsumexp_of_plus_minus_1000_stays_finite);
    tcase_add_test(tc, logsumexp_of_a_row_of_minus_inf_is_minus_inf_with_a_finite_gradient);
    tcase_add_test(tc, var_axis_is_the_population_variance);
    tcase_add_test(tc, var_subtracts_the_mean_before_squaring);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_checked_fixture(tc, NULL, nb_test_free_kept);
    tcase_add_test(tc, max_grad_goes_to_the_largest_element);
    tcase_add_test(tc, tied_maxima_share_the_gradient_evenly);
    tcase_add_test(tc, logsumexp_grad_is_softmax_times_the_upstream_gradient);
    tcase_add_test(tc, var_grad_is_two_deviations_over_n);
    tcase_add_test(tc, grads_add_to_gradients_from_other_uses);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(reduce_max_suite)
