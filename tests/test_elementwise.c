/* Tests for the elementwise ops (src/ops/elementwise.c, binary.c): add, sub, mul, div
 * on equal shapes (broadcasting: test_binary.c),
 * add_scalar, scale, neg, exp, log, square, sqrt, abs and clip. */
#include <math.h>

#include "nb_test.h"

/* ---- helpers ------------------------------------------------------------ */

static const nb_dtype dtypes[] = {NB_F32, NB_F64};

/* ---- unary ops ---------------------------------------------------------- */

static nb_tensor *add_scalar_0_75(nb_tape *tape, nb_tensor *x) { return nb_add_scalar(tape, x, 0.75); }
static nb_tensor *scale_minus_1_5(nb_tape *tape, nb_tensor *x) { return nb_scale(tape, x, -1.5); }
static nb_tensor *clip_to_half(nb_tape *tape, nb_tensor *x) { return nb_clip(tape, x, -0.5, 0.5); }

START_TEST(add_scalar_shifts_and_passes_gradient)
{
    nb_test_check_unary("add_scalar", add_scalar_0_75, 3, (double[]){1, -2, 3.5},
                        (double[]){1.75, -1.25, 4.25}, (double[]){1, 1, 1});
}
END_TEST

START_TEST(scale_multiplies_value_and_gradient)
{
    nb_test_check_unary("scale", scale_minus_1_5, 3, (double[]){1, -2, 3.5},
                        (double[]){-1.5, 3, -5.25}, (double[]){-1.5, -1.5, -1.5});
}
END_TEST

START_TEST(neg_flips_sign_of_value_and_gradient)
{
    nb_test_check_unary("neg", nb_neg, 3, (double[]){1, -2, 3.5}, (double[]){-1, 2, -3.5},
                        (double[]){-1, -1, -1});
}
END_TEST

START_TEST(exp_grad_is_exp)
{
    const double e = 2.718281828459045, e2 = 7.38905609893065, inv_e = 0.36787944117144233;
    nb_test_check_unary("exp", nb_exp, 4, (double[]){0, 1, -1, 2}, (double[]){1, e, inv_e, e2},
                        (double[]){1, e, inv_e, e2});
}
END_TEST

START_TEST(log_grad_is_reciprocal)
{
    nb_test_check_unary("log", nb_log, 4, (double[]){1, 2.718281828459045, 0.5, 10},
                        (double[]){0, 1, -0.6931471805599453, 2.302585092994046},
                        (double[]){1, 0.36787944117144233, 2, 0.1});
}
END_TEST

START_TEST(square_grad_is_twice_x)
{
    nb_test_check_unary("square", nb_square, 4, (double[]){-3, 0.5, 0, 2},
                        (double[]){9, 0.25, 0, 4}, (double[]){-6, 1, 0, 4});
}
END_TEST

START_TEST(sqrt_grad_is_half_over_root)
{
    nb_test_check_unary("sqrt", nb_sqrt, 4, (double[]){4, 2, 0.25, 9},
                        (double[]){2, 1.4142135623730951, 0.5, 3},
                        (double[]){0.25, 0.35355339059327373, 1, 0.16666666666666666});
}
END_TEST

START_TEST(abs_grad_is_sign_and_zero_at_zero)
{
    nb_test_check_unary("abs", nb_abs, 4, (double[]){-3, 0, 2.5, -0.25},
                        (double[]){3, 0, 2.5, 0.25}, (double[]){-1, 0, 1, -1});
}
END_TEST

START_TEST(clip_grad_passes_only_inside_bounds_inclusive)
{
    nb_test_check_unary("clip", clip_to_half, 5, (double[]){-2, -0.5, 0.25, 0.5, 3},
                        (double[]){-0.5, -0.5, 0.25, 0.5, 0.5}, (double[]){0, 1, 1, 1, 0});
}
END_TEST

START_TEST(clip_with_equal_bounds_gives_a_constant)
{
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3), (double[]){-1, 2, 5});
    nb_tensor *y = nb_clip(NULL, x, 2, 2);
    nb_test_assert_close("clip [2, 2]", y, false, (double[]){2, 2, 2}, 3);
    nb_tensor_free(y);
    nb_tensor_free(x);
}
END_TEST

START_TEST(unary_grad_adds_to_gradients_from_other_uses)
{
    /* y = sum(exp(x) + x * x): exp is recorded first, so it runs backward
     * last, after the product has put 2x into x's gradient; dy/dx must be
     * exp(x) + 2x, which an exp backward that overwrote would lose */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2), (double[]){0, 1});
    nb_tensor_set_requires_grad(x, true);
    nb_tensor *e = nb_exp(tape, x);
    nb_tensor *sq = nb_mul(tape, x, x);
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_add(tape, e, sq))), NB_OK);
    nb_test_assert_close("exp(x) + x * x", x, true, (double[]){1, 2.718281828459045 + 2}, 2);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

/* The unary ops' gradient checks, tape-against-no-tape and error tests are
 * generated from the op table (tests/op_table_unary.c, test_op_table). */

/* ---- binary ops --------------------------------------------------------- */

typedef nb_tensor *(*binary_fn)(nb_tape *tape, nb_tensor *a, nb_tensor *b);

/* y = f(a, b), dy/da and dy/db (backward of sum(y)) against values computed
 * by hand, in f32 and f64. a = [1, -2, 3.5, 0.5], b = [0.5, 2, -1, 4]. */
static void check_binary_by_hand(const char *what, binary_fn f, const double *y,
                                  const double *dyda, const double *dydb)
{
    const double a[] = {1, -2, 3.5, 0.5}, b[] = {0.5, 2, -1, 4};
    for (int d = 0; d < 2; d++) {
        nb_tape *tape = nb_tape_new();
        nb_tensor *at = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2), a);
        nb_tensor *bt = nb_tensor_from_doubles(dtypes[d], NB_SHAPE(2, 2), b);
        nb_tensor_set_requires_grad(at, true);
        nb_tensor_set_requires_grad(bt, true);
        nb_tensor *yt = f(tape, at, bt);
        nb_test_assert_close(what, yt, false, y, 4);
        ck_assert_int_eq(nb_backward(nb_sum(tape, yt)), NB_OK);
        nb_test_assert_close(what, at, true, dyda, 4);
        nb_test_assert_close(what, bt, true, dydb, 4);
        nb_tape_free(tape);
        nb_tensor_free(at);
        nb_tensor_free(bt);
    }
}

START_TEST(add_grad_is_one_for_both)
{
    check_binary_by_hand("add", nb_add, (double[]){1.5, 0, 2.5, 4.5}, (double[]){1, 1, 1, 1},
                         (double[]){1, 1, 1, 1});
}
END_TEST

START_TEST(sub_grad_is_one_and_minus_one)
{
    check_binary_by_hand("sub", nb_sub, (double[]){0.5, -4, 4.5, -3.5}, (double[]){1, 1, 1, 1},
                         (double[]){-1, -1, -1, -1});
}
END_TEST

START_TEST(mul_grad_is_the_other_factor)
{
    /* d(ab)/da = b, d(ab)/db = a */
    check_binary_by_hand("mul", nb_mul, (double[]){0.5, -4, -3.5, 2}, (double[]){0.5, 2, -1, 4},
                         (double[]){1, -2, 3.5, 0.5});
}
END_TEST

START_TEST(div_grad_follows_quotient_rule)
{
    /* d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 */
    check_binary_by_hand("div", nb_div, (double[]){2, -1, -3.5, 0.125}, (double[]){2, 0.5, -1, 0.25},
                         (double[]){-4, 0.5, -3.5, -0.03125});
}
END_TEST

START_TEST(same_tensor_twice_accumulates_both_gradients)
{
    /* y = x * x: both inputs are x, dy/dx = 2x */
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3), (double[]){1, -2, 0.5});
    nb_tensor_set_requires_grad(x, true);
    ck_assert_int_eq(nb_backward(nb_sum(tape, nb_mul(tape, x, x))), NB_OK);
    nb_test_assert_close("mul(x, x)", x, true, (double[]){2, -4, 1}, 3);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

static Suite *elementwise_suite(void)
{
    Suite *s = suite_create("elementwise");
    TCase *tc = tcase_create("unary");
    tcase_add_test(tc, add_scalar_shifts_and_passes_gradient);
    tcase_add_test(tc, scale_multiplies_value_and_gradient);
    tcase_add_test(tc, neg_flips_sign_of_value_and_gradient);
    tcase_add_test(tc, exp_grad_is_exp);
    tcase_add_test(tc, log_grad_is_reciprocal);
    tcase_add_test(tc, square_grad_is_twice_x);
    tcase_add_test(tc, sqrt_grad_is_half_over_root);
    tcase_add_test(tc, abs_grad_is_sign_and_zero_at_zero);
    tcase_add_test(tc, clip_grad_passes_only_inside_bounds_inclusive);
    tcase_add_test(tc, clip_with_equal_bounds_gives_a_constant);
    tcase_add_test(tc, unary_grad_adds_to_gradients_from_other_uses);
    suite_add_tcase(s, tc);
    tc = tcase_create("binary");
    tcase_add_test(tc, add_grad_is_one_for_both);
    tcase_add_test(tc, sub_grad_is_one_and_minus_one);
    tcase_add_test(tc, mul_grad_is_the_other_factor);
    tcase_add_test(tc, div_grad_follows_quotient_rule);
    tcase_add_test(tc, same_tensor_twice_accumulates_both_gradients);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(elementwise_suite)
