/* Tests for src/autograd/trace.c: the forward values and the traced backward. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nb_test.h"

/* Everything written to a FILE, as a string. */
typedef struct capture {
    char *text;
    size_t len;
    FILE *out;
} capture;

static void capture_open(capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->out = open_memstream(&c->text, &c->len);
    ck_assert_ptr_nonnull(c->out);
}

static const char *capture_close(capture *c)
{
    fclose(c->out);
    return c->text;
}

#define ck_assert_contains(text, needle)                                                     \
    ck_assert_msg(strstr((text), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle),    \
                  (text))

static nb_tensor *leaf(const char *name, int64_t n, const double *values, bool param)
{
    nb_tensor *t = nb_tensor_from_doubles(NB_F64, NB_SHAPE(n), values);
    ck_assert_ptr_nonnull(t);
    nb_tensor_set_name(t, name);
    if (param)
        nb_tensor_set_requires_grad(t, true);
    return t;
}

/* loss = sum(x * w): dL/dx = w and dL/dw = x, numbers a reader checks. */
START_TEST(trace_of_a_product_shows_each_input_its_gradient)
{
    nb_tensor *x = leaf("x", 2, (double[]){2, 3}, true);
    nb_tensor *w = leaf("w", 2, (double[]){4, 5}, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *p = nb_mul(tape, x, w);
    nb_tensor_set_name(p, "p");
    nb_tensor *loss = nb_sum(tape, p);
    nb_tensor_set_name(loss, "loss");
    capture c;
    capture_open(&c);
    ck_assert_int_eq(nb_tape_trace_backward(loss, c.out, NULL), NB_OK);
    const char *text = capture_close(&c);
    ck_assert_contains(text, "[1] loss = sum(p)");
    ck_assert_contains(text, "[0] p = mul(x, w)");
    ck_assert_contains(text, "dL/d(p) = [1, 1]");
    ck_assert_contains(text, "local: d(p)/d(x) = [4, 5]");
    ck_assert_contains(text, "sends: dL/d(x) = [4, 5]");
    ck_assert_contains(text, "local: d(p)/d(w) = [2, 3]");
    ck_assert_contains(text, "sends: dL/d(w) = [2, 3]");
    /* the reverse order: node 1 is printed before node 0 */
    ck_assert_msg(strstr(text, "[1] loss") < strstr(text, "[0] p"), "node 1 before node 0");
    ck_assert_double_eq(nb_tensor_grad_get(x, 1), 5);
    ck_assert_double_eq(nb_tensor_grad_get(w, 0), 2);
    free(c.text);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(w);
}
END_TEST

/* The 2-2-1 network of examples/backprop_trace.c and docs/backprop.md. */
typedef struct tiny {
    nb_tensor *x, *target, *w1, *b1, *w2, *b2;
} tiny;

static tiny tiny_new(void)
{
    tiny n;
    n.x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 2), (double[]){1, 2});
    n.target = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 1), (double[]){1});
    n.w1 = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 2), (double[]){0.5, -1, 0.25, 0.25});
    n.b1 = leaf("b1", 2, (double[]){0.1, 0.2}, true);
    n.w2 = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 1), (double[]){0.5, -0.5});
    n.b2 = leaf("b2", 1, (double[]){0.05}, true);
    nb_tensor_set_name(n.w1, "W1");
    nb_tensor_set_name(n.w2, "W2");
    nb_tensor_set_requires_grad(n.w1, true);
    nb_tensor_set_requires_grad(n.w2, true);
    return n;
}

static void tiny_free(tiny *n)
{
    nb_tensor *all[] = {n->x, n->target, n->w1, n->b1, n->w2, n->b2};
    for (int i = 0; i < 6; i++)
        nb_tensor_free(all[i]);
}

/* Unnamed intermediates, to test the "t<i>" and "leaf<k>" names too. */
static nb_tensor *tiny_loss(nb_tape *tape, const tiny *n)
{
    nb_tensor *h = nb_relu(tape, nb_add_bias(tape, nb_matmul(tape, n->x, n->w1), n->b1));
    nb_tensor *y = nb_add_bias(tape, nb_matmul(tape, h, n->w2), n->b2);
    return nb_mean(tape, nb_square(tape, nb_sub(tape, y, n->target)));
}

static void zero_grads(const tiny *n)
{
    nb_tensor_zero_grad(n->w1);
    nb_tensor_zero_grad(n->b1);
    nb_tensor_zero_grad(n->w2);
    nb_tensor_zero_grad(n->b2);
}

/* loss = sum(a b + c): the local factor of a matmul is the other input,
 * transposed, printed row by row; a bias gets 1 from every row. */
START_TEST(matmul_local_is_the_other_factor_transposed)
{
    nb_tensor *c = leaf("c", 2, (double[]){0, 0}, true);
    nb_tensor *a = nb_tensor_from_doubles(NB_F64, NB_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6});
    nb_tensor *b = nb_tensor_from_doubles(NB_F64, NB_SHAPE(3, 2), (double[]){1, 2, 3, 4, 5, 6});
    nb_tensor_set_name(a, "a");
    nb_tensor_set_name(b, "b");
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = nb_sum(tape, nb_add_bias(tape, nb_matmul(tape, a, b), c));
    capture out;
    capture_open(&out);
    ck_assert_int_eq(nb_tape_trace_backward(loss, out.out, NULL), NB_OK);
    const char *text = capture_close(&out);
    ck_assert_contains(text, "local: B^T = b^T [2, 3] = [1, 3, 5, 2, 4, 6]");
    ck_assert_contains(text, "local: A^T = a^T [3, 2] = [1, 4, 2, 5, 3, 6]");
    /* dL/da = 1 B^T: each row of a gets the row sums of b */
    ck_assert_contains(text, "sends: dL/d(a) = [3, 7, 11, 3, 7, 11]");
    ck_assert_contains(text, "local: 1 for each row (2 rows here), summed\n"
                             "                  sends: dL/d(c) = [2, 2]");
    free(out.text);
    nb_tape_free(tape);
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(c);
}
END_TEST

START_TEST(every_node_appears_in_both_traces)
{
    tiny n = tiny_new();
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = tiny_loss(tape, &n);
    ck_assert_uint_eq(nb_tape_size(tape), 8);
    capture c;
    capture_open(&c);
    ck_assert_int_eq(nb_tape_print_values(tape, c.out, NULL), NB_OK);
    ck_assert_int_eq(nb_tape_trace_backward(loss, c.out, NULL), NB_OK);
    const char *text = capture_close(&c);
    const char *backward = strstr(text, "backward:");
    ck_assert_ptr_nonnull(backward);
    const char *heads[] = {"[0] t0 = matmul(leaf0, W1)", "[1] t1 = add_bias(t0, b1)",
                           "[2] t2 = relu(t1)",          "[3] t3 = matmul(t2, W2)",
                           "[4] t4 = add_bias(t3, b2)",  "[5] t5 = sub(t4, leaf1)",
                           "[6] t6 = square(t5)",        "[7] t7 = mean(t6)"};
    for (int i = 0; i < 8; i++) {
        const char *in_forward = strstr(text, heads[i]);
        ck_assert_msg(in_forward && in_forward < backward, "%s missing from the forward trace",
                      heads[i]);
        ck_assert_msg(strstr(backward, heads[i]) != NULL, "%s missing from the backward trace",
                      heads[i]);
    }
    free(c.text);
    nb_tape_free(tape);
    tiny_free(&n);
}
END_TEST

/* The numbers docs/backprop.md computes by hand. */
START_TEST(tiny_network_trace_has_the_hand_computed_numbers)
{
    tiny n = tiny_new();
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = tiny_loss(tape, &n);
    capture c;
    capture_open(&c);
    ck_assert_int_eq(nb_tape_print_values(tape, c.out, NULL), NB_OK);
    ck_assert_int_eq(nb_tape_trace_backward(loss, c.out, NULL), NB_OK);
    const char *text = capture_close(&c);
    ck_assert_contains(text, "out  t1       [1, 2]   = [1.1, -0.3]");
    ck_assert_contains(text, "out  t4       [1, 1]   = [0.6]");
    ck_assert_contains(text, "out  t7       []       = [0.16]");
    ck_assert_contains(text, "local: d(t6)/d(t5) = [-0.8]");
    ck_assert_contains(text, "local: d(t2)/d(t1) = [1, 0]");
    ck_assert_contains(text, "sends: dL/d(t2) = [-0.4, 0.4]");
    ck_assert_contains(text, "sends: dL/d(W2) = [-0.88, 0]");
    ck_assert_contains(text, "sends: dL/d(W1) = [-0.4, 0, -0.8, 0]");
    ck_assert_contains(text, "to leaf0");
    ck_assert_contains(text, "needs no gradient");
    ck_assert_contains(text, "rule:  C = A B, so dA = dC B^T");
    ck_assert_double_eq_tol(nb_tensor_grad_get(n.b1, 0), -0.4, 1e-15);
    ck_assert_double_eq_tol(nb_tensor_grad_get(n.b2, 0), -0.8, 1e-15);
    free(c.text);
    nb_tape_free(tape);
    tiny_free(&n);
}
END_TEST

START_TEST(traced_gradients_equal_nb_backward)
{
    tiny n = tiny_new();
    nb_tape *tape = nb_tape_new();
    ck_assert_int_eq(nb_backward(tiny_loss(tape, &n)), NB_OK);
    double expected[4][4];
    nb_tensor *params[] = {n.w1, n.b1, n.w2, n.b2};
    for (int k = 0; k < 4; k++)
        for (int64_t i = 0; i < params[k]->size; i++)
            expected[k][i] = nb_tensor_grad_get(params[k], i);
    zero_grads(&n);
    nb_tape_reset(tape);
    FILE *sink = fopen("/dev/null", "w");
    ck_assert_int_eq(nb_tape_trace_backward(tiny_loss(tape, &n), sink, NULL), NB_OK);
    fclose(sink);
    for (int k = 0; k < 4; k++)
        for (int64_t i = 0; i < params[k]->size; i++)
            ck_assert_double_eq(nb_tensor_grad_get(params[k], i), expected[k][i]);
    nb_tape_free(tape);
    tiny_free(&n);
}
END_TEST

/* x feeds two ops and one op twice: contributions add up as in nb_backward. */
START_TEST(a_tensor_used_twice_gets_the_sum)
{
    nb_tensor *x = leaf("x", 2, (double[]){3, -1}, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *sq = nb_mul(tape, x, x); /* d/dx = 2x */
    nb_tensor_set_name(sq, "sq");
    nb_tensor *loss = nb_sum(tape, nb_add(tape, sq, nb_scale(tape, sq, 2.0))); /* 3 sq */
    capture c;
    capture_open(&c);
    ck_assert_int_eq(nb_tape_trace_backward(loss, c.out, NULL), NB_OK);
    const char *text = capture_close(&c);
    ck_assert_contains(text, "is input 0 again");
    ck_assert_contains(text, "sends: dL/d(x) = [18, -6]  (for all its uses as an input here)");
    ck_assert_contains(text, "total: dL/d(sq) = [3, 3]");
    ck_assert_double_eq(nb_tensor_grad_get(x, 0), 18);
    ck_assert_double_eq(nb_tensor_grad_get(x, 1), -6);
    free(c.text);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(max_values_and_precision_shorten_the_numbers)
{
    double v[10] = {1.0 / 3, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    nb_tensor *x = leaf("x", 10, v, true);
    nb_tape *tape = nb_tape_new();
    nb_tensor *loss = nb_sum(tape, nb_relu(tape, x));
    capture c;
    capture_open(&c);
    nb_trace_options o = {.max_values = 3, .precision = 3};
    ck_assert_int_eq(nb_tape_print_values(tape, c.out, &o), NB_OK);
    ck_assert_int_eq(nb_tape_trace_backward(loss, c.out, &o), NB_OK);
    const char *text = capture_close(&c);
    ck_assert_contains(text, "[0.333, 2, 3, ... (10 values)]");
    free(c.text);
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

START_TEST(misuse_is_reported)
{
    nb_tensor *x = leaf("x", 2, (double[]){1, 2}, true);
    nb_tensor *c = leaf("c", 2, (double[]){1, 2}, false);
    nb_tape *tape = nb_tape_new();
    FILE *sink = fopen("/dev/null", "w");
    nb_clear_error();
    ck_assert_int_eq(nb_tape_trace_backward(NULL, sink, NULL), NB_ERR_NULL);
    ck_assert_int_eq(nb_tape_print_values(NULL, sink, NULL), NB_ERR_NULL);
    ck_assert_int_eq(nb_tape_trace_backward(nb_relu(tape, x), sink, NULL), NB_ERR_SHAPE);
    ck_assert_error_contains("nb_tape_trace_backward");
    ck_assert_int_eq(nb_tape_trace_backward(nb_sum(tape, c), sink, NULL), NB_ERR_STATE);
    nb_tensor *loss = nb_sum(tape, x);
    ck_assert_int_eq(nb_tape_trace_backward(loss, NULL, NULL), NB_ERR_NULL);
    nb_trace_options bad = {.max_values = -1};
    ck_assert_int_eq(nb_tape_trace_backward(loss, sink, &bad), NB_ERR_ARG);
    ck_assert_int_eq(nb_tape_print_values(tape, sink, &bad), NB_ERR_ARG);
    nb_tape_reset(tape);
    ck_assert_int_eq(nb_tape_trace_backward(loss, sink, NULL), NB_ERR_STATE);
    fclose(sink);
    nb_tape_free(tape);
    nb_tensor_free(x);
    nb_tensor_free(c);
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_test(tc, trace_of_a_product_shows_each_input_its_gradient);
    tcase_add_test(tc, matmul_local_is_the_other_factor_transposed);
    tcase_add_test(tc, every_node_appears_in_both_traces);
    tcase_add_test(tc, tiny_network_trace_has_the_hand_computed_numbers);
    tcase_add_test(tc, traced_gradients_equal_nb_backward);
    tcase_add_test(tc, a_tensor_used_twice_gets_the_sum);
    tcase_add_test(tc, max_values_and_precision_shorten_the_numbers);
    tcase_add_test(tc, misuse_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(trace_suite)
