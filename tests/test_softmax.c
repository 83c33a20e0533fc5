/* Tests for softmax and log-softmax over the last axis (src/ops/softmax.c). */
#include <math.h>

#include "nb_test.h"

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* ---- values ------------------------------------------------------------- */

START_TEST(softmax_and_log_softmax_of_a_vector)
{
    const double x[] = {1, 2, 3};
    for (int d = 0; d < 2; d++) {
        nb_tensor *xt = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3), x);
        nb_tensor *y = nb_softmax(NULL, xt);
        nb_tensor *ly = nb_log_softmax(NULL, xt);
        nb_test_assert_close("softmax", y, false,
                             (double[]){0.09003057317038046, 0.24472847105479767,
                                        0.6652409557748219},
                             3);
        nb_test_assert_close("log_softmax", ly, false,
                             (double[]){-2.4076059644443806, -1.4076059644443804,
                                        -0.4076059644443804},
                             3);
        ck_assert_int_eq(y->rank, 1);
        nb_tensor_free(y);
        nb_tensor_free(ly);
        nb_tensor_free(xt);
    }
}
END_TEST

START_TEST(softmax_works_on_each_row_of_the_last_axis)
{
    /* shape [2, 1, 3]: rows [1, 2, 3] and [3, 2, 1] */
    const double p0 = 0.09003057317038046, p1 = 0.24472847105479767, p2 = 0.6652409557748219;
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 1, 3),
                                              (double[]){1, 2, 3, 3, 2, 1});
        nb_tensor *y = nb_softmax(NULL, x);
        nb_test_assert_close("softmax rank 3", y, false, (double[]){p0, p1, p2, p2, p1, p0}, 6);
        ck_assert(nb_same_shape(x, y));
        nb_tensor_free(y);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(softmax_of_one_element_rows_is_one)
{
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(3, 1), (double[]){5, -700, 0});
        nb_tensor *y = nb_softmax(NULL, x);
        nb_tensor *ly = nb_log_softmax(NULL, x);
        nb_test_assert_close("softmax [3, 1]", y, false, (double[]){1, 1, 1}, 3);
        nb_test_assert_close("log_softmax [3, 1]", ly, false, (double[]){0, 0, 0}, 3);
        nb_tensor_free(y);
        nb_tensor_free(ly);
        nb_tensor_free(x);
    }
}
END_TEST

START_TEST(softmax_is_finite_and_exact_for_inputs_of_plus_minus_1000)
{
    const double ln2 = 0.6931471805599453;
    const double x[] = {1000, 0, 0, 1000, -1000, 0, 1000, -1000, 1000, 1000, -1000, -1000};
    const double softmax[] = {1, 0, 0, 1, 0, 1, 1, 0, 0.5, 0.5, 0.5, 0.5};
    const double log_softmax[] = {0, -1000, -1000, 0, -1000, 0, 0, -2000, -ln2, -ln2, -ln2, -ln2};
    for (int d = 0; d < 2; d++) {
        nb_tensor *xt = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(6, 2), x);
        nb_tensor *y = nb_softmax(NULL, xt);
        nb_tensor *ly = nb_log_softmax(NULL, xt);
        nb_test_assert_close("softmax +-1000", y, false, softmax, 12);
        nb_test_assert_close("log_softmax +-1000", ly, false, log_softmax, 12);
        nb_tensor_free(y);
        nb_tensor_free(ly);
        nb_tensor_free(xt);
    }
}
END_TEST

START_TEST(softmax_rows_sum_to_one)
{
    for (int d = 0; d < 2; d++) {
        nb_rng rng;
        nb_rng_seed(&rng, 7);
        nb_tensor *x = nb_tensor_rand_uniform(dtypes[d], NB_SHAPE(5, 3, 7), -50, 50, &rng);
        nb_tensor *y = nb_softmax(NULL, x);
        ck_assert_ptr_nonnull(y);
        for (int64_t r = 0; r < 15; r++) {
            double sum = 0;
            for (int64_t j = 0; j < 7; j++) {
                double v = nb_tensor_get(y, r * 7 + j);
                ck_assert(v >= 0 && v <= 1);
                sum += v;
            }
            ck_assert_msg(fabs(sum - 1) <= (dtypes[d] == NB_F32 ? 1e-6 : 1e-14),
                          "row %d sums to %.17g (%s)", (int)r, sum, nb_dtype_name(dtypes[d]));
        }
        nb_tensor_free(y);
        nb_tensor_free(x);
    }
}
END_TEST

/* ---- gradients by hand -------------------------------------------------- */

/* x = [0, ln 3] gives softmax [1/4, 3/4]. Seeding the output gradient with
 * w = [1, 0] picks the first output:
 *   softmax:     dx_j = y_j (w_j - sum_k w_k y_k) = [3/16, -3/16]
 *   log-softmax: dx_j = w_j - softmax_j sum_k w_k = [3/4, -3/4] */
START_TEST(softmax_grads_match_the_jacobian_formulas)
{
    const double ln3 = 1.0986122886681098;
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(1, 2), (double[]){0, ln3});
        nb_tensor *w = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(1, 2), (double[]){1, 0});
        nb_tensor_set_requires_grad(x, true);
        nb_tensor *y = nb_softmax(tape, x);
        nb_test_assert_close("softmax", y, false, (double[]){0.25, 0.75}, 2);
        ck_assert_int_eq(nb_backward_from(y, w), NB_OK);
        nb_test_assert_close("softmax", x, true, (double[]){0.1875, -0.1875}, 2);

        nb_tensor_zero_grad(x);
        nb_tensor *ly = nb_log_softmax(tape, x);
        nb_test_assert_close("log_softmax", ly, false,
                             (double[]){-1.3862943611198906, -0.2876820724517809}, 2);
        ck_assert_int_eq(nb_backward_from(ly, w), NB_OK);
        nb_test_assert_close("log_softmax", x, true, (double[]){0.75, -0.75}, 2);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_tensor_free(w);
    }
}
END_TEST

START_TEST(grads_are_finite_for_inputs_of_plus_minus_1000)
{
    /* log_softmax([1000, 0]) under sum: dx = 1 - softmax * 2 = [-1, 1];
     * softmax([1000, -1000]) seeded with [1, 0]: y = [1, 0], dx = [0, 0] */
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *x = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2), (double[]){1000, 0});
        nb_tensor *z = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2), (double[]){1000, -1000});
        nb_tensor *w = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2), (double[]){1, 0});
        nb_tensor_set_requires_grad(x, true);
        nb_tensor_set_requires_grad(z, true);
        ck_assert_int_eq(nb_backward(nb_sum(tape, nb_log_softmax(tape, x))), NB_OK);
        nb_test_assert_close("log_softmax [1000, 0]", x, true, (double[]){-1, 1}, 2);
        ck_assert_int_eq(nb_backward_from(nb_softmax(tape, z), w), NB_OK);
        nb_test_assert_close("softmax [1000, -1000]", z, true, (double[]){0, 0}, 2);
        nb_tape_free(tape);
        nb_tensor_free(x);
        nb_tensor_free(z);
        nb_tensor_free(w);
    }
}
END_TEST

/* ---- gradient checks ---------------------------------------------------- */

/* Gradient checks on ordinary inputs, tape-against-no-tape and the errors
 * are generated from the op table (tests/op_table_unary.c, test_op_table);
 * here, inputs of +-1000. */

static nb_tensor *softmax_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_softmax(tape, in[0]);
}

static nb_tensor *log_softmax_of(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_log_softmax(tape, in[0]);
}

START_TEST(grads_match_finite_differences_near_plus_minus_1000)
{
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3),
                                          (double[]){1000, 0, -1000, 3, 1000, 999});
    nb_tensor_set_requires_grad(x, true);
    ck_assert_gradcheck(softmax_of, 1, (nb_tensor *[]){x}, NULL);
    ck_assert_gradcheck(log_softmax_of, 1, (nb_tensor *[]){x}, NULL);
    nb_tensor_free(x);
}
END_TEST

static Suite *softmax_suite(void)
{
    Suite *s = suite_create("softmax");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, softmax_and_log_softmax_of_a_vector);
    tcase_add_test(tc, softmax_works_on_each_row_of_the_last_axis);
    tcase_add_test(tc, softmax_of_one_element_rows_is_one);
    tcase_add_test(tc, softmax_is_finite_and_exact_for_inputs_of_plus_minus_1000);
    tcase_add_test(tc, softmax_rows_sum_to_one);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_add_test(tc, softmax_grads_match_the_jacobian_formulas);
    tcase_add_test(tc, grads_are_finite_for_inputs_of_plus_minus_1000);
    tcase_add_test(tc, grads_match_finite_differences_near_plus_minus_1000);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(softmax_suite)
