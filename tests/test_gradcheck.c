/* Tests for the gradient checker (src/autograd/gradcheck.c): it passes on
 * chains of correct ops, fails on a wrong backward and names the input and
 * the element, reports bad arguments, and prints its verdict. */
#include <math.h>
#include <stdlib.h>

#include "nb_test.h"

static nb_tensor *random_input(int rank, const int64_t *shape, double low, double high,
                               uint64_t seed)
{
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    nb_tensor *t = nb_tensor_rand_uniform(NB_F64, rank, shape, low, high, &rng);
    ck_assert_ptr_nonnull(t);
    nb_tensor_set_requires_grad(t, true);
    return t;
}

/* The report must say passed, every input checked, with small errors. */
static void assert_report_passed(const nb_gradcheck_report *r, int n_inputs)
{
    if (!r->passed)
        nb_gradcheck_print(r, stderr);
    ck_assert(r->passed);
    ck_assert_int_eq(r->n_inputs, n_inputs);
    for (int i = 0; i < n_inputs; i++) {
        ck_assert_msg(r->inputs[i].checked && r->inputs[i].passed, "input %d", i);
        ck_assert_msg(r->inputs[i].max_abs_error < 1e-6, "input %d: max abs error %g", i,
                      r->inputs[i].max_abs_error);
    }
}

/* ---- chains of correct ops pass ----------------------------------------- */

/* log(x^2 + 1) + tanh(x) * sigmoid(y) */
static nb_tensor *chain_unary(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    nb_tensor *x = in[0], *y = in[1];
    return nb_add(tape, nb_log(tape, nb_add_scalar(tape, nb_square(tape, x), 1)),
                  nb_mul(tape, nb_tanh(tape, x), nb_sigmoid(tape, y)));
}

/* x used by several branches: x * x + tanh(x) / (x^2 + 1) - sqrt(exp(x / 2)) */
static nb_tensor *chain_fan_out(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    nb_tensor *x = in[0];
    nb_tensor *q = nb_div(tape, nb_tanh(tape, x), nb_add_scalar(tape, nb_square(tape, x), 1));
    nb_tensor *r = nb_sqrt(tape, nb_exp(tape, nb_scale(tape, x, 0.5)));
    return nb_sub(tape, nb_add(tape, nb_mul(tape, x, x), q), r);
}

/* Cross-entropy of a linear classifier on flattened images:
 * -mean(sum_axis(t * log_softmax(flatten(x) W + b), 1)), then also the mean
 * of the softmax probabilities' log, through clip. */
static nb_tensor *chain_classifier(nb_tape *tape, nb_tensor *const in[], void *user)
{
    nb_tensor *targets = user;
    nb_tensor *logits = nb_add_bias(tape, nb_matmul(tape, nb_flatten(tape, in[0]), in[1]), in[2]);
    nb_tensor *ce = nb_neg(tape, nb_mean(tape, nb_sum_axis(tape, nb_mul(tape, targets,
                                                                        nb_log_softmax(tape, logits)),
                                                           1, false)));
    nb_tensor *p = nb_clip(tape, nb_softmax(tape, logits), 1e-7, 1.0);
    nb_tensor *lp = nb_mean_axis(tape, nb_log(tape, p), -1, true);
    return nb_add(tape, nb_reshape(tape, ce, NB_SHAPE(1, 1)), nb_sum_axis(tape, lp, 0, true));
}

START_TEST(chains_of_correct_ops_pass)
{
    nb_gradcheck_report r;
    nb_tensor *x = random_input(NB_SHAPE(3, 4), -2, 2, 1);
    nb_tensor *y = random_input(NB_SHAPE(3, 4), -2, 2, 2);
    ck_assert_int_eq(nb_gradcheck(chain_unary, 2, (nb_tensor *[]){x, y}, NULL, NULL, &r), NB_OK);
    assert_report_passed(&r, 2);
    ck_assert_int_eq(nb_gradcheck(chain_fan_out, 1, (nb_tensor *[]){x}, NULL, NULL, &r), NB_OK);
    assert_report_passed(&r, 1);

    nb_tensor *images = random_input(NB_SHAPE(2, 2, 1, 3), -1, 1, 3);
    nb_tensor *w = random_input(NB_SHAPE(6, 4), -1, 1, 4);
    nb_tensor *b = random_input(NB_SHAPE(4), -1, 1, 5);
    nb_tensor *targets = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 4),
                                                (double[]){0, 0, 1, 0, 1, 0, 0, 0});
    ck_assert_int_eq(nb_gradcheck(chain_classifier, 3, (nb_tensor *[]){images, w, b}, targets,
                                  NULL, &r),
                     NB_OK);
    assert_report_passed(&r, 3);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(images);
    nb_tensor_free(w);
    nb_tensor_free(b);
    nb_tensor_free(targets);
}
END_TEST

START_TEST(inputs_without_grad_are_not_checked)
{
    nb_gradcheck_report r;
    nb_tensor *x = random_input(NB_SHAPE(2, 2), -1, 1, 6);
    nb_tensor *y = random_input(NB_SHAPE(2, 2), -1, 1, 7);
    nb_tensor_set_requires_grad(y, false);
    ck_assert_int_eq(nb_gradcheck(chain_unary, 2, (nb_tensor *[]){x, y}, NULL, NULL, &r), NB_OK);
    ck_assert(r.passed);
    ck_assert(r.inputs[0].checked);
    ck_assert(!r.inputs[1].checked);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

START_TEST(input_values_are_restored_after_the_check)
{
    nb_gradcheck_report r;
    nb_tensor *x = random_input(NB_SHAPE(3, 3), -1, 1, 8);
    nb_tensor *before = nb_tensor_copy(x, NB_F64);
    ck_assert_int_eq(nb_gradcheck(chain_fan_out, 1, (nb_tensor *[]){x}, NULL, NULL, &r), NB_OK);
    ck_assert_mem_eq(x->data, before->data, 9 * sizeof(double));
    nb_tensor_free(x);
    nb_tensor_free(before);
}
END_TEST

/* ---- a deliberately wrong op fails -------------------------------------- */

/* y = a + 2 b, whose backward is wrong on one element of b: it gives
 * 3 g instead of 2 g there. f64 only. */
enum { WRONG_INDEX = 3 };

static nb_status wrong_infer(const nb_node *node, nb_dtype *dtype, int *rank,
                             int64_t shape[NB_MAX_RANK])
{
    if (node->inputs[0]->dtype != NB_F64 || !nb_same_shape(node->inputs[0], node->inputs[1]))
        return nb_error(NB_ERR_SHAPE, "wrong_op: expected two f64 inputs of one shape");
    return nb_infer_same_as_input(node, dtype, rank, shape);
}

static nb_status wrong_forward(nb_node *node)
{
    const double *a = node->inputs[0]->data, *b = node->inputs[1]->data;
    double *y = node->output->data;
    for (int64_t i = 0; i < node->output->size; i++)
        y[i] = a[i] + 2 * b[i];
    return NB_OK;
}

static nb_status wrong_backward(nb_node *node)
{
    const double *g = node->output->grad;
    double *da = nb_node_input_grad(node, 0), *db = nb_node_input_grad(node, 1);
    for (int64_t i = 0; i < node->output->size; i++) {
        if (da)
            da[i] += g[i];
        if (db)
            db[i] += (i == WRONG_INDEX ? 3 : 2) * g[i]; /* the bug */
    }
    return NB_OK;
}

static const nb_op wrong_op = {
    .name = "wrong_op",
    .n_inputs = 2,
    .infer = wrong_infer,
    .forward = wrong_forward,
    .backward = wrong_backward,
};

/* user: non-NULL swaps the inputs, so the wrong one is inputs[0] */
static nb_tensor *apply_wrong_op(nb_tape *tape, nb_tensor *const in[], void *user)
{
    nb_tensor *a = user ? in[1] : in[0], *b = user ? in[0] : in[1];
    return nb_op_apply(tape, &wrong_op, 2, (nb_tensor *[]){a, b}, NULL, 0);
}

START_TEST(wrong_backward_fails_and_names_input_and_element)
{
    static int swap_flag;
    for (int swap = 0; swap < 2; swap++) {
        nb_gradcheck_report r;
        nb_tensor *a = random_input(NB_SHAPE(2, 3), -1, 1, 9);
        nb_tensor *b = random_input(NB_SHAPE(2, 3), -1, 1, 10);
        int wrong = swap ? 0 : 1, right = 1 - wrong;
        ck_assert_int_eq(nb_gradcheck(apply_wrong_op, 2, (nb_tensor *[]){a, b},
                                      swap ? &swap_flag : NULL, NULL, &r),
                         NB_OK);
        ck_assert(!r.passed);
        ck_assert(r.inputs[right].checked && r.inputs[right].passed);
        ck_assert(r.inputs[wrong].checked && !r.inputs[wrong].passed);
        ck_assert_int_eq(r.inputs[wrong].worst_index, WRONG_INDEX);
        /* analytic 3 R[3], numeric 2 R[3] for the projection's weight R[3] */
        double ratio = r.inputs[wrong].worst_analytic / r.inputs[wrong].worst_numeric;
        ck_assert_msg(fabs(ratio - 1.5) < 1e-6, "analytic / numeric is %.9g", ratio);
        ck_assert_msg(fabs(r.inputs[wrong].max_rel_error - 1.0 / 3) < 1e-6,
                      "max rel error %.9g", r.inputs[wrong].max_rel_error);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}
END_TEST

START_TEST(options_set_the_tolerances)
{
    /* the wrong element is off by R[3] = a third of the analytic value,
     * which a relative tolerance of 1 accepts */
    nb_gradcheck_report r;
    nb_tensor *a = random_input(NB_SHAPE(2, 3), -1, 1, 11);
    nb_tensor *b = random_input(NB_SHAPE(2, 3), -1, 1, 12);
    nb_gradcheck_options loose = {.eps = 1e-5, .atol = 1e-5, .rtol = 1.0, .seed = 3};
    ck_assert_int_eq(nb_gradcheck(apply_wrong_op, 2, (nb_tensor *[]){a, b}, NULL, &loose, &r),
                     NB_OK);
    ck_assert(r.passed);
    nb_gradcheck_options strict = loose;
    strict.rtol = 1e-3;
    ck_assert_int_eq(nb_gradcheck(apply_wrong_op, 2, (nb_tensor *[]){a, b}, NULL, &strict, &r),
                     NB_OK);
    ck_assert(!r.passed);
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

START_TEST(print_says_failed_and_names_the_worst_element)
{
    nb_gradcheck_report r;
    nb_tensor *a = random_input(NB_SHAPE(2, 3), -1, 1, 13);
    nb_tensor *b = random_input(NB_SHAPE(2, 3), -1, 1, 14);
    ck_assert_int_eq(nb_gradcheck(apply_wrong_op, 2, (nb_tensor *[]){a, b}, NULL, NULL, &r), NB_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    nb_gradcheck_print(&r, out);
    fclose(out);
    ck_assert_msg(strstr(buf, "gradcheck: FAILED") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "input 0: ok") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "input 1: FAILED") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "worst at element 3") != NULL, "%s", buf);
    free(buf);
    nb_tensor_free(a);
    nb_tensor_free(b);
}
END_TEST

START_TEST(print_says_passed_and_not_checked)
{
    nb_gradcheck_report r;
    nb_tensor *x = random_input(NB_SHAPE(2), -1, 1, 15);
    nb_tensor *y = random_input(NB_SHAPE(2), -1, 1, 16);
    nb_tensor_set_requires_grad(y, false);
    ck_assert_int_eq(nb_gradcheck(chain_unary, 2, (nb_tensor *[]){x, y}, NULL, NULL, &r), NB_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    nb_gradcheck_print(&r, out);
    fclose(out);
    ck_assert_msg(strstr(buf, "gradcheck: passed") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "FAILED") == NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "input 1: not checked (requires no gradient)") != NULL, "%s", buf);
    free(buf);
    nb_tensor_free(x);
    nb_tensor_free(y);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

/* a correct function for the argument checks */
static nb_tensor *scale_by_three(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_scale(tape, in[0], 3.0);
}

START_TEST(bad_arguments_are_errors)
{
    nb_gradcheck_report r;
    nb_tensor *x = random_input(NB_SHAPE(2), -1, 1, 17);
    nb_tensor *inputs[NB_GRADCHECK_MAX_INPUTS + 1];
    for (int i = 0; i <= NB_GRADCHECK_MAX_INPUTS; i++)
        inputs[i] = x;
    ck_assert_int_eq(nb_gradcheck(NULL, 1, inputs, NULL, NULL, &r), NB_ERR_NULL);
    ck_assert_error_contains("nb_gradcheck: f is NULL");
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 1, NULL, NULL, NULL, &r), NB_ERR_NULL);
    ck_assert_error_contains("nb_gradcheck: inputs is NULL");
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 1, inputs, NULL, NULL, NULL), NB_ERR_NULL);
    ck_assert_error_contains("nb_gradcheck: report is NULL");
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 0, inputs, NULL, NULL, &r), NB_ERR_ARG);
    ck_assert_error_contains("nb_gradcheck: n_inputs is 0: expected 1 to 16");
    ck_assert_int_eq(nb_gradcheck(scale_by_three, NB_GRADCHECK_MAX_INPUTS + 1, inputs, NULL, NULL,
                                  &r),
                     NB_ERR_ARG);
    ck_assert_error_contains("nb_gradcheck: n_inputs is 17: expected 1 to 16");
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 2, (nb_tensor *[]){x, NULL}, NULL, NULL, &r),
                     NB_ERR_NULL);
    ck_assert_error_contains("nb_gradcheck: input 1 is NULL");
    nb_tensor_free(x);
}
END_TEST

START_TEST(non_positive_eps_is_an_error)
{
    nb_gradcheck_report r;
    nb_tensor *x = random_input(NB_SHAPE(2), -1, 1, 18);
    nb_gradcheck_options o = {.eps = 0, .atol = 1e-5, .rtol = 1e-3, .seed = 0};
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 1, (nb_tensor *[]){x}, NULL, &o, &r), NB_ERR_ARG);
    ck_assert_error_contains("nb_gradcheck: eps is 0: expected > 0");
    o.eps = -1e-3;
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 1, (nb_tensor *[]){x}, NULL, &o, &r), NB_ERR_ARG);
    ck_assert_error_contains("nb_gradcheck: eps is -0.001: expected > 0");
    o.eps = NAN;
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 1, (nb_tensor *[]){x}, NULL, &o, &r), NB_ERR_ARG);
    ck_assert_error_contains("expected > 0");
    nb_tensor_free(x);
}
END_TEST

START_TEST(input_on_a_tape_is_an_error)
{
    nb_gradcheck_report r;
    nb_tape *tape = nb_tape_new();
    nb_tensor *x = random_input(NB_SHAPE(2), -1, 1, 19);
    nb_tensor *on_tape = nb_scale(tape, x, 2.0);
    ck_assert_int_eq(nb_gradcheck(scale_by_three, 2, (nb_tensor *[]){x, on_tape}, NULL, NULL, &r),
                     NB_ERR_ARG);
    ck_assert_error_contains("nb_gradcheck: input 1 lives on a tape: expected a caller-owned tensor");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

static nb_tensor *returns_null(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)tape, (void)in, (void)user;
    return NULL;
}

/* matmul of a [2] vector: the op reports its own error */
static nb_tensor *fails_in_an_op(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    return nb_matmul(tape, in[0], in[0]);
}

START_TEST(failing_function_is_reported)
{
    nb_gradcheck_report r;
    nb_tensor *x = random_input(NB_SHAPE(2), -1, 1, 20);
    nb_clear_error();
    ck_assert_int_eq(nb_gradcheck(returns_null, 1, (nb_tensor *[]){x}, NULL, NULL, &r), NB_ERR_NULL);
    ck_assert_error_contains("nb_gradcheck: the checked function returned NULL");
    ck_assert_int_eq(nb_gradcheck(fails_in_an_op, 1, (nb_tensor *[]){x}, NULL, NULL, &r),
                     NB_ERR_SHAPE);
    ck_assert_error_contains("nb_matmul: input 0 has shape [2] (rank 1): expected rank 2");
    nb_tensor_free(x);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("passing");
    tcase_add_test(tc, chains_of_correct_ops_pass);
    tcase_add_test(tc, inputs_without_grad_are_not_checked);
    tcase_add_test(tc, input_values_are_restored_after_the_check);
    suite_add_tcase(s, tc);
    tc = tcase_create("failing");
    tcase_add_test(tc, wrong_backward_fails_and_names_input_and_element);
    tcase_add_test(tc, options_set_the_tolerances);
    tcase_add_test(tc, print_says_failed_and_names_the_worst_element);
    tcase_add_test(tc, print_says_passed_and_not_checked);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, bad_arguments_are_errors);
    tcase_add_test(tc, non_positive_eps_is_an_error);
    tcase_add_test(tc, input_on_a_tape_is_an_error);
    tcase_add_test(tc, failing_function_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(gradcheck_suite)
