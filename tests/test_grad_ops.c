/* Every differentiable built-in op's vjp (its backward written in ops,
 * src/ops/): the first-order gradient it gives equals the fast buffer
 * backward's, and its second derivatives pass nb_gradgradcheck, in f64. */
#include <math.h>

#include "nb_test.h"

typedef struct grad_case {
    const char *name;
    nb_gradcheck_fn f;
    int n_inputs;
    nb_test_shape shapes[3];
    double low, high; /* inputs drawn uniformly in [low, high) */
    double away;      /* kept at least 0.05 from this point (a kink), unless NAN */
    bool first_is_constant; /* input 0 requires no gradient */
} grad_case;

#define FN(name, expr)                                                                       \
    static nb_tensor *f_##name(nb_tape *tape, nb_tensor *const in[], void *user)             \
    {                                                                                        \
        (void)user;                                                                          \
        return (expr);                                                                       \
    }

FN(neg, nb_neg(tape, in[0]))
FN(scale, nb_scale(tape, in[0], 1.5))
FN(add_scalar, nb_add_scalar(tape, in[0], 0.25))
FN(exp, nb_exp(tape, in[0]))
FN(log, nb_log(tape, in[0]))
FN(square, nb_square(tape, in[0]))
FN(sqrt, nb_sqrt(tape, in[0]))
FN(abs, nb_abs(tape, in[0]))
FN(clip, nb_clip(tape, in[0], -0.5, 0.5))
FN(sin, nb_sin(tape, in[0]))
FN(cos, nb_cos(tape, in[0]))
FN(relu, nb_relu(tape, in[0]))
FN(sigmoid, nb_sigmoid(tape, in[0]))
FN(tanh, nb_tanh(tape, in[0]))
FN(leaky_relu, nb_leaky_relu(tape, in[0], 0.2))
FN(elu, nb_elu(tape, in[0], 1.3))
FN(gelu, nb_gelu(tape, in[0]))
FN(softplus, nb_softplus(tape, in[0]))
FN(silu, nb_silu(tape, in[0]))
FN(add, nb_add(tape, in[0], in[1]))
FN(sub, nb_sub(tape, in[0], in[1]))
FN(mul, nb_mul(tape, in[0], in[1]))
FN(div, nb_div(tape, in[0], in[1]))
FN(maximum, nb_maximum(tape, in[0], in[1]))
FN(minimum, nb_minimum(tape, in[0], in[1]))
FN(pow, nb_pow(tape, in[0], in[1]))
FN(where, nb_where(tape, nb_greater_scalar(tape, in[0], 0), in[1], in[2]))
FN(broadcast_to, nb_broadcast_to(tape, in[0], 3, (const int64_t[]){2, 4, 3}))
FN(sum, nb_sum(tape, in[0]))
FN(mean, nb_mean(tape, in[0]))
FN(sum_axis, nb_sum_axis(tape, in[0], 1, false))
FN(mean_axis, nb_mean_axis(tape, in[0], 0, true))
FN(max_axis, nb_max_axis(tape, in[0], 1, false))
FN(min_axis, nb_min_axis(tape, in[0], -1, true))
FN(logsumexp_axis, nb_logsumexp_axis(tape, in[0], 1, false))
FN(var_axis, nb_var_axis(tape, in[0], 0, true))
FN(softmax, nb_softmax(tape, in[0]))
FN(log_softmax, nb_log_softmax(tape, in[0]))
FN(softmax_axis, nb_softmax_axis(tape, in[0], 0))
FN(log_softmax_axis, nb_log_softmax_axis(tape, in[0], 1))
FN(matmul, nb_matmul(tape, in[0], in[1]))
FN(add_bias, nb_add_bias(tape, in[0], in[1]))
FN(reshape, nb_reshape(tape, in[0], 2, (const int64_t[]){3, -1}))
FN(flatten, nb_flatten(tape, in[0]))
FN(transpose, nb_transpose(tape, in[0], (const int[]){2, 0, 1}))
FN(slice, nb_slice(tape, in[0], 1, 1, 3))
FN(concat, nb_concat(tape, 2, in, 1))
FN(stack, nb_stack(tape, 2, in, 0))
FN(squeeze, nb_squeeze(tape, in[0], 1))
FN(expand_dims, nb_expand_dims(tape, in[0], -1))
static nb_tensor *f_take(nb_tape *tape, nb_tensor *const in[], void *user)
{
    (void)user;
    /* on the tape: the take node reads them again in its backward */
    nb_tensor *at = nb_tape_tensor(tape, NB_F64, NB_SHAPE(2, 2));
    const double picks[] = {2, 0, 2, -1};
    for (int i = 0; at && i < 4; i++)
        nb_tensor_set(at, i, picks[i]);
    return nb_take(tape, in[0], at, 1);
}

#define MAT {2, {2, 3}}
#define U(name, lo, hi, kink) {#name, f_##name, 1, {MAT}, lo, hi, kink, false}

static const grad_case cases[] = {
    U(neg, -1, 1, NAN), U(scale, -1, 1, NAN), U(add_scalar, -1, 1, NAN), U(exp, -1, 1, NAN),
    U(log, 0.5, 2, NAN), U(square, -1, 1, NAN), U(sqrt, 0.5, 2, NAN), U(abs, -1, 1, 0),
    U(sin, -2, 2, NAN), U(cos, -2, 2, NAN), U(relu, -1, 1, 0), U(sigmoid, -2, 2, NAN),
    U(tanh, -2, 2, NAN), U(leaky_relu, -1, 1, 0), U(elu, -1, 1, 0), U(gelu, -2, 2, NAN),
    U(softplus, -2, 2, NAN), U(silu, -2, 2, NAN),
    {"clip", f_clip, 1, {MAT}, -0.4, 0.4, NAN, false},
    {"clip outside", f_clip, 1, {MAT}, 0.6, 1, NAN, false},
    {"add", f_add, 2, {{2, {2, 3}}, {1, {3}}}, -1, 1, NAN, false},
    {"sub", f_sub, 2, {{2, {2, 1}}, {2, {1, 3}}}, -1, 1, NAN, false},
    {"mul", f_mul, 2, {{2, {2, 3}}, {0, {1}}}, -1, 1, NAN, false},
    {"div", f_div, 2, {{2, {2, 3}}, {2, {2, 1}}}, 0.5, 2, NAN, false},
    {"maximum", f_maximum, 2, {{2, {2, 3}}, {1, {3}}}, -1, 1, NAN, false},
    {"minimum", f_minimum, 2, {{2, {2, 1}}, {2, {2, 3}}}, -1, 1, NAN, false},
    {"pow", f_pow, 2, {{2, {2, 3}}, {1, {3}}}, 0.5, 2, NAN, false},
    {"where", f_where, 3, {MAT, MAT, {1, {3}}}, -1, 1, 0, true},
    {"broadcast_to", f_broadcast_to, 1, {{2, {1, 3}}}, -1, 1, NAN, false},
    U(sum, -1, 1, NAN), U(mean, -1, 1, NAN), U(sum_axis, -1, 1, NAN), U(mean_axis, -1, 1, NAN),
    U(max_axis, -1, 1, NAN), U(min_axis, -1, 1, NAN), U(logsumexp_axis, -1, 1, NAN),
    U(var_axis, -1, 1, NAN), U(softmax, -1, 1, NAN), U(log_softmax, -1, 1, NAN),
    U(softmax_axis, -1, 1, NAN),
    {"log_softmax_axis", f_log_softmax_axis, 1, {{3, {2, 3, 2}}}, -1, 1, NAN, false},
    {"matmul", f_matmul, 2, {{2, {2, 3}}, {2, {3, 4}}}, -1, 1, NAN, false},
    {"matmul batched", f_matmul, 2, {{3, {2, 2, 3}}, {2, {3, 2}}}, -1, 1, NAN, false},
    {"matmul broadcast batch", f_matmul, 2, {{4, {2, 1, 2, 3}}, {3, {3, 3, 2}}}, -1, 1, NAN,
     false},
    {"add_bias", f_add_bias, 2, {{2, {2, 3}}, {1, {3}}}, -1, 1, NAN, false},
    {"add_bias row", f_add_bias, 2, {MAT, {2, {1, 3}}}, -1, 1, NAN, false},
    U(reshape, -1, 1, NAN), {"flatten", f_flatten, 1, {{3, {2, 3, 2}}}, -1, 1, NAN, false},
    {"transpose", f_transpose, 1, {{3, {2, 3, 2}}}, -1, 1, NAN, false},
    {"slice", f_slice, 1, {{2, {2, 4}}}, -1, 1, NAN, false},
    {"concat", f_concat, 2, {{2, {2, 1}}, {2, {2, 3}}}, -1, 1, NAN, false},
    {"stack", f_stack, 2, {MAT, MAT}, -1, 1, NAN, false}, {"squeeze", f_squeeze, 1, {{3, {2, 1, 3}}}, -1, 1, NAN, false},
    U(expand_dims, -1, 1, NAN), U(take, -1, 1, NAN),
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void make_inputs(const grad_case *c, nb_tensor *in[])
{
    for (int i = 0; i < c->n_inputs; i++) {
        const nb_test_shape *s = &c->shapes[i];
        bool constant = i == 0 && c->first_is_constant;
        in[i] = constant ? nb_test_uniform(NB_F64, s->rank, s->shape, c->low, c->high, 7 + i)
                         : nb_test_uniform_param(NB_F64, s->rank, s->shape, c->low, c->high,
                                                 7 + i);
        if (!isnan(c->away))
            nb_test_keep_away(in[i], c->away, 0.05);
    }
}

static void free_inputs(const grad_case *c, nb_tensor *in[])
{
    for (int i = 0; i < c->n_inputs; i++)
        nb_tensor_free(in[i]);
}

/* The gradients of sum(f * R) by the buffer backward and by the vjps. */
START_TEST(vjp_first_order_equals_buffer_backward)
{
    const grad_case *c = &cases[_i];
    nb_tensor *in[3];
    make_inputs(c, in);
    nb_tape *tape = nb_tape_new();
    nb_tensor *y = c->f(tape, in, NULL);
    ck_assert_msg(y, "%s: %s", c->name, nb_last_error());
    nb_tensor *r = nb_test_uniform(NB_F64, y->rank, y->shape, 0.5, 1.5, 3);
    nb_tensor *loss = nb_sum(tape, nb_mul(tape, y, r));
    int k = c->first_is_constant ? 1 : 0;
    nb_tensor *by_buffers[3], *by_vjps[3];
    ck_assert_msg(nb_grad(tape, loss, c->n_inputs - k, in + k, by_buffers, false) == NB_OK,
                  "%s: %s", c->name, nb_last_error());
    ck_assert_msg(nb_grad(tape, loss, c->n_inputs - k, in + k, by_vjps, true) == NB_OK, "%s: %s",
                  c->name, nb_last_error());
    for (int i = 0; i < c->n_inputs - k; i++) {
        ck_assert_msg(nb_same_shape(by_vjps[i], in[i + k]), "%s: input %d shape", c->name, i);
        for (int64_t j = 0; j < in[i + k]->size; j++) {
            double a = nb_tensor_get(by_buffers[i], j), b = nb_tensor_get(by_vjps[i], j);
            ck_assert_msg(fabs(a - b) <= 1e-12 * fmax(1, fabs(a)),
                          "%s: input %d element %d: buffer backward %.17g, vjp %.17g", c->name,
                          i + k, (int)j, a, b);
        }
        ck_assert_msg(in[i + k]->grad == NULL, "%s: nb_grad wrote ->grad", c->name);
    }
    nb_tensor_free(r);
    nb_tape_free(tape);
    free_inputs(c, in);
}
END_TEST

/* squared, so that the linear ops' vjps are differentiated too */
static nb_tensor *squared_case(nb_tape *tape, nb_tensor *const in[], void *user)
{
    const grad_case *c = user;
    return nb_square(tape, c->f(tape, in, NULL));
}

START_TEST(second_derivatives_pass_gradgradcheck)
{
    const grad_case *c = &cases[_i];
    nb_tensor *in[3];
    make_inputs(c, in);
    for (int squared = 0; squared < 2; squared++) {
        nb_gradcheck_report report;
        nb_status s = squared ? nb_gradgradcheck(squared_case, c->n_inputs, in, (void *)c, NULL,
                                                 &report)
                              : nb_gradgradcheck(c->f, c->n_inputs, in, NULL, NULL, &report);
        ck_assert_msg(s == NB_OK, "%s: %s", c->name, nb_last_error());
        if (!report.passed) {
            fprintf(stderr, "%s%s:\n", c->name, squared ? " squared" : "");
            nb_gradcheck_print(&report, stderr);
        }
        ck_assert_msg(report.passed, "%s%s: second derivatives wrong (report on stderr)",
                      c->name, squared ? " squared" : "");
    }
    free_inputs(c, in);
}
END_TEST

static Suite *grad_ops_suite(void)
{
    Suite *s = suite_create("grad_ops");
    TCase *tc = tcase_create("every_op");
    tcase_add_loop_test(tc, vjp_first_order_equals_buffer_backward, 0, N_CASES);
    tcase_add_loop_test(tc, second_derivatives_pass_gradgradcheck, 0, N_CASES);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(grad_ops_suite)
