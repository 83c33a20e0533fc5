/* Tests for sums and means (src/ops/reduce.c): of every element and along
 * one axis, with negative axes and keepdims. */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* x = [[1, 2, 3], [4, 5, 6]] */
static nb_tensor *matrix_1_to_6(nb_dtype dtype)
{
    return nb_tensor_from_doubles(dtype, NB_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6});
}

/* x[i][j][k] = 12 i + 4 j + k, shape [2, 3, 4] */
static nb_tensor *cube_0_to_23(nb_dtype dtype)
{
    nb_tensor *t = nb_tensor_zeros(dtype, NB_SHAPE(2, 3, 4));
    for (int64_t i = 0; i < 24; i++)
        nb_tensor_set(t, i, (double)i);
    return t;
}

/* ---- values ------------------------------------------------------------- */

START_TEST(sum_and_mean_of_everything_are_scalars)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = matrix_1_to_6(dtypes[d]);
        nb_tensor *s = nb_sum(NULL, x), *m = nb_mean(NULL, x);
        nb_test_assert_shape("sum", s, 0, NULL);
        nb_test_assert_shape("mean", m, 0, NULL);
        nb_test_assert_close("sum", s, false, (double[]){21}, 1);
        nb_test_assert_close("mean", m, false, (double[]){3.5}, 1);
        nb_tensor_free(s);
        nb_tensor_free(m);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(sum_axis_removes_the_axis_for_positive_and_negative_axes)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = matrix_1_to_6(dtypes[d]);
        const int axes[] = {0, -2, 1, -1};
        for (int a = 0; a < 4; a++) {
            nb_tensor *y = nb_sum_axis(NULL, x, axes[a], false);
            if (axes[a] == 0 || axes[a] == -2) {
                nb_test_assert_shape("sum_axis 0", y, 1, (int64_t[]){3});
                nb_test_assert_close("sum_axis 0", y, false, (double[]){5, 7, 9}, 3);
            } else {
                nb_test_assert_shape("sum_axis 1", y, 1, (int64_t[]){2});
                nb_test_assert_close("sum_axis 1", y, false, (double[]){6, 15}, 2);
            }
            nb_tensor_free(y);
        }
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(mean_axis_divides_by_the_axis_length)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = matrix_1_to_6(dtypes[d]);
        nb_tensor *m0 = nb_mean_axis(NULL, x, -2, false), *m1 = nb_mean_axis(NULL, x, 1, false);
        nb_test_assert_close("mean_axis 0", m0, false, (double[]){2.5, 3.5, 4.5}, 3);
        nb_test_assert_close("mean_axis 1", m1, false, (double[]){2, 5}, 2);
        nb_tensor_free(m0);
        nb_tensor_free(m1);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(keepdims_leaves_a_dimension_of_one)
{
    nb_tensor *x = matrix_1_to_6(NB_F64);
    nb_tensor *s0 = nb_sum_axis(NULL, x, 0, true), *s1 = nb_sum_axis(NULL, x, -1, true);
    nb_tensor *m1 = nb_mean_axis(NULL, x, 1, true);
    nb_test_assert_shape("sum_axis 0 keepdims", s0, 2, (int64_t[]){1, 3});
    nb_test_assert_shape("sum_axis -1 keepdims", s1, 2, (int64_t[]){2, 1});
    nb_test_assert_shape("mean_axis 1 keepdims", m1, 2, (int64_t[]){2, 1});
    nb_test_assert_close("sum_axis 0 keepdims", s0, false, (double[]){5, 7, 9}, 3);
    nb_test_assert_close("mean_axis 1 keepdims", m1, false, (double[]){2, 5}, 2);
    nb_tensor_free(s0);
    nb_tensor_free(s1);
    nb_tensor_free(m1);
    nb_tensor_free(x);
}
END_TEST

START_TEST(reductions_of_rank_3_sum_the_right_elements)
{
    /* with x[i][j][k] = 12 i + 4 j + k:
     *   axis 0: x[0][j][k] + x[1][j][k] = 2 (4 j + k) + 12
     *   axis 1: sum over j = 36 i + 3 k + 12
     *   axis 2: sum over k = 48 i + 16 j + 6, and the mean is a quarter */
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = cube_0_to_23(dtypes[d]);
        nb_tensor *a0 = nb_sum_axis(NULL, x, 0, false);
        nb_tensor *a1 = nb_sum_axis(NULL, x, -2, false);
        nb_tensor *a2 = nb_mean_axis(NULL, x, 2, true);
        nb_test_assert_shape("axis 0", a0, 2, (int64_t[]){3, 4});
        nb_test_assert_close("axis 0", a0, false,
                             (double[]){12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}, 12);
        nb_test_assert_shape("axis 1", a1, 2, (int64_t[]){2, 4});
        nb_test_assert_close("axis 1", a1, false, (double[]){12, 15, 18, 21, 48, 51, 54, 57}, 8);
        nb_test_assert_shape("mean axis 2", a2, 3, (int64_t[]){2, 3, 1});
        nb_test_assert_close("mean axis 2", a2, false,
                             (double[]){1.5, 5.5, 9.5, 13.5, 17.5, 21.5}, 6);
        nb_tensor_free(a0);
        nb_tensor_free(a1);
        nb_tensor_free(a2);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(sum_axis_of_a_vector_is_a_scalar)
{
    nb_tensor *x = nb_tensor_from_doubles(NB_F32, NB_SHAPE(4), (double[]){1, 2, 3, 4.5});
    nb_tensor *s = nb_sum_axis(NULL, x, 0, false), *k = nb_sum_axis(NULL, x, -1, true);
    nb_test_assert_shape("sum_axis of [4]", s, 0, NULL);
    nb_test_assert_close("sum_axis of [4]", s, false, (double[]){10.5}, 1);
    nb_test_assert_shape("sum_axis of [4] keepdims", k, 1, (int64_t[]){1});
    nb_tensor_free(s);
    nb_tensor_free(k);
    nb_tensor_free(x);
}
END_TEST

/* ---- gradients by hand -------------------------------------------------- */

START_TEST(whole_reductions_of_a_scalar_are_the_scalar)
{
    nb_tensor *x = nb_tensor_full(NB_F64, 0, NULL, 2.0);
    nb_tensor *s = nb_sum(NULL, x), *m = nb_mean(NULL, x);
    nb_test_assert_close("sum of a scalar", s, false, (double[]){2}, 1);
    nb_test_assert_close("mean of a scalar", m, false, (double[]){2}, 1);
    nb_tensor_free(s);
    nb_tensor_free(m);
    nb_tensor_free(x);
}
END_TEST

START_TEST(sum_grad_is_one_and_mean_grad_is_one_over_n)
{
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = matrix_1_to_6(dtypes[d]);
        nb_tensor_set_requires_grad(x, true);
        ck_assert_int_eq(nb_backward(nb_sum(tape, x)), NB_OK);
        nb_test_assert_close("sum", x, true, (double[]){1, 1, 1, 1, 1, 1}, 6);
        nb_tensor_zero_grad(x);
        ck_assert_int_eq(nb_backward(nb_mean(tape, x)), NB_OK);
        const double sixth = 1.0 / 6;
        nb_test_assert_close("mean", x, true,
                             (double[]){sixth, sixth, sixth, sixth, sixth, sixth}, 6);
        nb_tape_free(tape);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(axis_grads_broadcast_the_upstream_gradient)
{
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = matrix_1_to_6(dtypes[d]);
        nb_tensor_set_requires_grad(x, true);
        /* sum over rows, seeded [1, 2, 3]: each row of dx is the seed */
        nb_tensor *g0 = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3), (double[]){1, 2, 3});
        ck_assert_int_eq(nb_backward_from(nb_sum_axis(tape, x, 0, false), g0), NB_OK);
        nb_test_assert_close("sum_axis 0", x, true, (double[]){1, 2, 3, 1, 2, 3}, 6);
        /* mean over columns with keepdims, seeded [[1], [2]]: row i gets g_i / 3 */
        nb_tensor_zero_grad(x);
        nb_tensor *g1 = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 1), (double[]){1, 2});
        ck_assert_int_eq(nb_backward_from(nb_mean_axis(tape, x, -1, true), g1), NB_OK);
        const double third = 1.0 / 3, two_thirds = 2.0 / 3;
        nb_test_assert_close("mean_axis 1", x, true,
                             (double[]){third, third, third, two_thirds, two_thirds, two_thirds},
                             6);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_tensor_free(g0);
        nb_tensor_free(g1);
    }
}
END_TEST

START_TEST(middle_axis_grad_reaches_every_summed_element)
{
    /* y[i][k] = sum_j x[i][j][k], seeded g[i][k] = 10 i + k: dx[i][j][k] = g[i][k] */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = cube_0_to_23(NB_F64);
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *g = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 4),
                                          (double[]){0, 1, 2, 3, 10, 11, 12, 13});
    ck_assert_int_eq(nb_backward_from(nb_sum_axis(tape, x, 1, false), g), NB_OK);
    for (int64_t i = 0; i < 2; i++)
        for (int64_t j = 0; j < 3; j++)
            for (int64_t k = 0; k < 4; k++)
                ck_assert_double_eq(nb_tensor_grad_get(x, (i * 3 + j) * 4 + k),
                                    (double)(10 * i + k));
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(g);
}
END_TEST

/* ---- accumulation ----------------------------------------------------------
 * Gradient checks over shapes, axes and keepdims, and the error and NULL
 * paths, are generated from the op table (tests/op_table_reduce.c). */

typedef struct reduce_case {
    bool mean;
    int axis;
} reduce_case;

static nb_tensor *axis_reduce(nb_tape *tape, const reduce_case *c, nb_tensor *x)
{
    return c->mean ? nb_mean_axis(tape, x, c->axis, false) : nb_sum_axis(tape, x, c->axis, false);
}

/* sum_axis(x) + sum_axis(x^2) along `axis`: the first reduction is recorded
 * first, so it runs backward last, after the square has put its part into
 * x's gradient; it must add to it, not overwrite it. */
static nb_tensor *two_uses_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const reduce_case *c = user;
    nb_tensor *first = axis_reduce(tape, c, in[0]);
    return nb_add(tape, first, axis_reduce(tape, c, nb_square(tape, in[0])));
}

START_TEST(axis_grads_add_to_gradients_from_other_uses)
{
    nb_tensor *x = nb_test_uniform_param(NB_F64, NB_SHAPE(2, 3, 2), -2, 2, 64);
    for (int mean = 0; mean < 2; mean++)
        for (int axis = 0; axis < 3; axis++) {
            reduce_case c = {mean, axis};
            ck_assert_gradcheck(two_uses_of, 1, (nb_tensor *[]){x}, &c);
        }
    nb_tensor_free(x);
}
END_TEST

static Suite *reduce_suite(void)
{
    Suite *s = suite_create("reduce");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, sum_and_mean_of_everything_are_scalars);
    tcase_add_test(tc, sum_axis_removes_the_axis_for_positive_and_negative_axes);
    tcase_add_test(tc, mean_axis_divides_by_the_axis_length);
    tcase_add_test(tc, keepdims_leaves_a_dimension_of_one);
    tcase_add_test(tc, reductions_of_rank_3_sum_the_right_elements);
    tcase_add_test(tc, sum_axis_of_a_vector_is_a_scalar);
    tcase_add_test(tc, whole_reductions_of_a_scalar_are_the_scalar);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, sum_grad_is_one_and_mean_grad_is_one_over_n);
    tcase_add_test(tc, axis_grads_broadcast_the_upstream_gradient);
    tcase_add_test(tc, middle_axis_grad_reaches_every_summed_element);
    tcase_add_test(tc, axis_grads_add_to_gradients_from_other_uses);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(reduce_suite)
