/* Tests for softmax and log-softmax over any axis (src/ops/softmax.c):
 * nb_softmax_axis and nb_log_softmax_axis. */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* ---- values ------------------------------------------------------------- */

START_TEST(softmax_axis_0_of_a_matrix_normalises_each_column)
{
    /* columns (1, 3), (2, 2), (3, 1): softmax(1, 3) = (1, e^2) / (1 + e^2) */
    const double lo = 0.11920292202211755, hi = 0.8807970779778823;
    const double log_lo = -2.1269280110429722, log_hi = -0.12692801104297263;
    const double ln_half = -0.6931471805599453;
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 3),
                                              (double[]){1, 2, 3, 3, 2, 1});
        for (int axis = -2; axis <= 0; axis += 2) {
            nb_tensor *y = nb_softmax_axis(NULL, x, axis);
            nb_tensor *ly = nb_log_softmax_axis(NULL, x, axis);
            nb_test_assert_close("softmax_axis 0", y, false, (double[]){lo, 0.5, hi, hi, 0.5, lo},
                                 6);
            nb_test_assert_close("log_softmax_axis 0", ly, false,
                                 (double[]){log_lo, ln_half, log_hi, log_hi, ln_half, log_lo}, 6);
            ck_assert(nb_same_shape(x, y) && nb_same_shape(x, ly));
            nb_tensor_free(y);
            nb_tensor_free(ly);
        }
        nb_tensor_free(x);
    }
}
END_TEST

/* x of shape [2, 3, 2] whose lines along axis 1 (element (o, k, i) at
 * (3 o + k) 2 + i) are (o, i) = (0, 0): 1, 2, 3; (0, 1): 3, 2, 1;
 * (1, 0): 0, 0, 0; (1, 1): 1000, -1000, 0. */
static const double rank3_x[] = {1, 3, 2, 2, 3, 1, 0, 1000, 0, -1000, 0, 0};

START_TEST(softmax_axis_1_of_rank_3_is_exact_and_finite_for_plus_minus_1000)
{
    const double p0 = 0.09003057317038046, p1 = 0.24472847105479767, p2 = 0.6652409557748219;
    const double q0 = -2.4076059644443806, q1 = -1.4076059644443804, q2 = -0.4076059644443804;
    const double third = 1.0 / 3, ln_third = -1.0986122886681098;
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 3, 2), rank3_x);
        nb_tensor *y = nb_softmax_axis(NULL, x, 1);
        nb_tensor *ly = nb_log_softmax_axis(NULL, x, -2);
        nb_test_assert_close("softmax_axis 1", y, false,
                             (double[]){p0, p2, p1, p1, p2, p0, third, 1, third, 0, third, 0}, 12);
        nb_test_assert_close("log_softmax_axis 1", ly, false,
                             (double[]){q0, q2, q1, q1, q2, q0, ln_third, 0, ln_third, -2000,
                                        ln_third, -1000},
                             12);
        nb_tensor_free(y);
        nb_tensor_free(ly);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(softmax_axis_lines_sum_to_one_along_every_axis)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = nb_test_uniform(dtypes[d], NB_SHAPE(5, 3, 7), -50, 50, 8);
        for (int axis = 0; axis < 3; axis++) {
            nb_tensor *y = nb_softmax_axis(NULL, x, axis);
            nb_tensor *sums = nb_sum_axis(NULL, y, axis, false);
            ck_assert_ptr_nonnull(sums);
            for (int64_t k = 0; k < sums->size; k++)
                ck_assert_msg(fabs(nb_tensor_get(sums, k) - 1) <= (d == 0 ? 1e-6 : 1e-14),
                              "axis %d, line %d sums to %.17g (%s)", axis, (int)k,
                              nb_tensor_get(sums, k), nb_dtype_name(dtypes[d]));
            nb_tensor_free(sums);
            nb_tensor_free(y);
        }
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(softmax_axis_last_is_the_last_axis_softmax)
{
    nb_tensor *x = nb_test_uniform(NB_F32, NB_SHAPE(4, 2, 5), -5, 5, 9);
    nb_tensor *want = nb_softmax(NULL, x), *log_want = nb_log_softmax(NULL, x);
    for (int axis = -1; axis <= 2; axis += 3) {
        nb_tensor *y = nb_softmax_axis(NULL, x, axis);
        nb_tensor *ly = nb_log_softmax_axis(NULL, x, axis);
        ck_assert_ptr_nonnull(y);
        ck_assert_ptr_nonnull(ly);
        ck_assert_mem_eq(y->data, want->data, (size_t)x->size * sizeof(float));
        ck_assert_mem_eq(ly->data, log_want->data, (size_t)x->size * sizeof(float));
        nb_tensor_free(y);
        nb_tensor_free(ly);
    }
    nb_tensor_free(want);
    nb_tensor_free(log_want);
    nb_tensor_free(x);
}
END_TEST

/* ---- gradients ----------------------------------------------------------
 * Gradient checks on ordinary inputs over every kind of axis,
 * tape-against-no-tape and the errors are generated from the op table
 * (tests/op_table_unary.c, test_op_table); here, the Jacobian by hand and
 * inputs of +-1000. */

/* x = [0, ln 3] down axis 0 of a [2, 1] column, seeded with w = [1, 0]:
 *   softmax:     dx_j = y_j (w_j - sum_k w_k y_k) = [3/16, -3/16]
 *   log-softmax: dx_j = w_j - softmax_j sum_k w_k = [3/4, -3/4] */
START_TEST(softmax_axis_grads_match_the_jacobian_formulas)
{
    const double ln3 = 1.0986122886681098;
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 1), (double[]){0, ln3});
        nb_tensor *w = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 1), (double[]){1, 0});
        nb_tensor_set_requires_grad(x, true);
        ck_assert_int_eq(nb_backward_from(nb_softmax_axis(tape, x, 0), w), NB_OK);
        nb_test_assert_close("softmax_axis", x, true, (double[]){0.1875, -0.1875}, 2);
        nb_tensor_zero_grad(x);
        ck_assert_int_eq(nb_backward_from(nb_log_softmax_axis(tape, x, 0), w), NB_OK);
        nb_test_assert_close("log_softmax_axis", x, true, (double[]){0.75, -0.75}, 2);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_tensor_free(w);
    }
}
END_TEST

typedef struct axis_case {
    bool log_space;
    int axis;
} axis_case;

static nb_tensor *softmax_axis_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const axis_case *c = user;
    return c->log_space ? nb_log_softmax_axis(tape, in[0], c->axis)
                        : nb_softmax_axis(tape, in[0], c->axis);
}

/* Every axis, counted from either end, of every shape of grad_shapes (a
 * rank-3 tensor among them), for both ops. */
START_TEST(softmax_axis_grads_match_finite_differences_near_plus_minus_1000)
{
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3, 2), rank3_x);
    nb_tensor_set_requires_grad(x, true);
    for (int axis = 0; axis < 3; axis++)
        for (int log_space = 0; log_space < 2; log_space++) {
            axis_case c = {log_space, axis};
            ck_assert_gradcheck(softmax_axis_of, 1, (nb_tensor *[]){x}, &c);
        }
    nb_tensor_free(x);
}
END_TEST

static Suite *softmax_axis_suite(void)
{
    Suite *s = suite_create("softmax_axis");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, softmax_axis_0_of_a_matrix_normalises_each_column);
    tcase_add_test(tc, softmax_axis_1_of_rank_3_is_exact_and_finite_for_plus_minus_1000);
    tcase_add_test(tc, softmax_axis_lines_sum_to_one_along_every_axis);
    tcase_add_test(tc, softmax_axis_last_is_the_last_axis_softmax);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, softmax_axis_grads_match_the_jacobian_formulas);
    tcase_add_test(tc, softmax_axis_grads_match_finite_differences_near_plus_minus_1000);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(softmax_axis_suite)
