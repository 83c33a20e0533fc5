/* Anomaly detection (nb_set_detect_anomaly): the first NaN or infinity of a
 * forward or a backward is reported with the op, its node and its inputs. */
#include <math.h>

#include "nb_test.h"

static void setup(void) { nb_clear_error(); }
static void teardown(void) { nb_set_detect_anomaly(false); }

START_TEST(off_by_default)
{
    ck_assert(!nb_detect_anomaly_enabled());
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_zeros(NB_F64, NB_SHAPE(2, 3));
    nb_tensor *y = nb_log(tape, x);
    ck_assert_msg(y != NULL, "log(0) is -inf, not an error, when detection is off");
    ck_assert(isinf(nb_tensor_get(y, 0)) && nb_tensor_get(y, 0) < 0);
    ck_assert_int_eq(nb_last_status(), NB_OK);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(set_returns_previous)
{
    ck_assert(!nb_set_detect_anomaly(true));
    ck_assert(nb_detect_anomaly_enabled());
    ck_assert(nb_set_detect_anomaly(false));
    ck_assert(!nb_detect_anomaly_enabled());
}
END_TEST

START_TEST(forward_log_of_zero_names_op_node_and_inputs)
{
    nb_set_detect_anomaly(true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3), (const double[]){1, 2, 3, 0, 5, 6});
    nb_tensor_set_requires_grad(x, true);
    /* five recorded nodes first, so log is node #5 */
    nb_tensor *h = x;
    for (int i = 0; i < 5; i++)
        h = nb_scale(tape, h, 1.0);
    ck_assert_uint_eq(nb_tape_size(tape), 5);
    nb_tensor *y = nb_log(tape, h);
    ck_assert_ptr_null(y);
    ck_assert_int_eq(nb_last_status(), NB_ERR_NUMERIC);
    ck_assert_str_eq(nb_last_error(), "nb_log: forward produced -inf at element 3 (node #5 on the "
                                      "tape; input [2, 3])");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(forward_without_recording_says_so)
{
    nb_set_detect_anomaly(true);
    nb_tensor *a = nb_tensor_from_doubles(NB_F32, NB_SHAPE(3), (const double[]){1, 1, 1});
    nb_tensor *b = nb_tensor_from_doubles(NB_F32, NB_SHAPE(3), (const double[]){1, 0, 1});
    nb_tensor *y = nb_div(NULL, a, b);
    ck_assert_ptr_null(y);
    ck_assert_str_eq(nb_last_error(), "nb_div: forward produced inf at element 1 (not recorded on "
                                      "a tape; inputs [3] and [3])");
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

START_TEST(backward_sqrt_at_zero)
{
    nb_set_detect_anomaly(true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3), (const double[]){4, 0, 1});
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *loss = nb_sum(tape, nb_sqrt(tape, x));
    ck_assert_ptr_nonnull(loss);
    ck_assert_int_eq(nb_backward(loss), NB_ERR_NUMERIC);
    ck_assert_str_eq(nb_last_error(), "nb_sqrt: backward produced inf in the gradient of input 0 "
                                      "at element 1 (node #0 on the tape; input [3])");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(backward_div_by_zero)
{
    nb_set_detect_anomaly(true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *a = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (const double[]){1, 1});
    nb_tensor *b = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (const double[]){0.5, 1});
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    /* a / b = 1e300 is finite, but d(a/b)/db = -a/b^2 overflows to -inf */
    nb_tensor_set(b, 0, 1e-300);
    nb_tensor *loss = nb_sum(tape, nb_div(tape, a, b));
    ck_assert_ptr_nonnull(loss);
    ck_assert_int_eq(nb_backward(loss), NB_ERR_NUMERIC);
    ck_assert_str_eq(nb_last_error(), "nb_div: backward produced -inf in the gradient of input 1 "
                                      "at element 0 (node #0 on the tape; inputs [2] and [2])");
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

START_TEST(backward_without_anomaly_gives_inf_gradient)
{
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3), (const double[]){4, 0, 1});
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *loss = nb_sum(tape, nb_sqrt(tape, x));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    ck_assert(isinf(nb_tensor_grad_get(x, 1)));
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(finite_computation_is_unaffected)
{
    nb_set_detect_anomaly(true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3), (const double[]){1, 2, 3});
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *loss = nb_sum(tape, nb_mul(tape, x, x));
    ck_assert_int_eq(nb_backward(loss), NB_OK);
    ck_assert_double_eq(nb_tensor_grad_get(x, 2), 6.0);
    ck_assert_int_eq(nb_last_status(), NB_OK);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

static Suite *anomaly_suite(void)
{
    Suite *s = suite_create("anomaly");
    TCase *tc = tcase_create("detect_anomaly");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, off_by_default);
    tcase_add_test(tc, set_returns_previous);
    tcase_add_test(tc, forward_log_of_zero_names_op_node_and_inputs);
    tcase_add_test(tc, forward_without_recording_says_so);
    tcase_add_test(tc, backward_sqrt_at_zero);
    tcase_add_test(tc, backward_div_by_zero);
    tcase_add_test(tc, backward_without_anomaly_gives_inf_gradient);
    tcase_add_test(tc, finite_computation_is_unaffected);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(anomaly_suite)
