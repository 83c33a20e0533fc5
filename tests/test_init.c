/* Tests for the activations and weight initializers (src/nn/init.c):
 * activation names, nb_activate against each activation's op, and each
 * initializer's bounds or variance, reproducibility, names and errors. */
#include <math.h>

#include "nb_test.h"

/* ---- activations ------------------------------------------------------------- */

START_TEST(activation_names_round_trip)
{
    nb_activation all[] = {NB_LINEAR, NB_RELU,     NB_SIGMOID, NB_TANH, NB_SOFTMAX,
                           NB_ELU,    NB_GELU,     NB_SOFTPLUS, NB_SILU, NB_LEAKY_RELU};
    const char *names[] = {"linear", "relu", "sigmoid", "tanh", "softmax",
                           "elu",    "gelu", "softplus", "silu", "leaky_relu"};
    ck_assert_int_eq(NB_ACTIVATION_COUNT, 10);
    for (int i = 0; i < 10; i++) {
        ck_assert_str_eq(nb_activation_name(all[i]), names[i]);
        nb_activation parsed = NB_LINEAR;
        ck_assert_int_eq(nb_activation_from_name(names[i], &parsed), NB_OK);
        ck_assert_int_eq(parsed, all[i]);
    }
    ck_assert_str_eq(nb_activation_name((nb_activation)42), "?");
    nb_activation swish = NB_LINEAR; /* Keras's other name for silu */
    ck_assert_int_eq(nb_activation_from_name("swish", &swish), NB_OK);
    ck_assert_int_eq(swish, NB_SILU);
}
END_TEST

START_TEST(unknown_activation_name_is_an_error)
{
    nb_activation a = NB_RELU;
    ck_assert_int_eq(nb_activation_from_name("selu", &a), NB_ERR_ARG);
    ck_assert_error_contains("unknown activation 'selu': expected linear, relu, sigmoid, tanh, "
                             "softmax, elu, gelu, softplus, silu, swish or leaky_relu");
    ck_assert_int_eq(a, NB_RELU);
    ck_assert_int_eq(nb_activation_from_name(NULL, &a), NB_ERR_ARG);
    ck_assert_int_eq(nb_activation_from_name("ReLU", &a), NB_ERR_ARG);
}
END_TEST

START_TEST(activate_applies_each_activation_as_its_op)
{
    nb_tensor *x = nb_tensor_from_doubles(NB_F64, NB_SHAPE(1, 3), (double[]){-1, 0, 2});
    nb_tape *tape = nb_tape_new();
    ck_assert_ptr_eq(nb_activate(tape, x, NB_LINEAR), x);
    nb_tensor *r = nb_activate(tape, x, NB_RELU);
    ck_assert_double_eq(nb_tensor_get(r, 0), 0.0);
    ck_assert_double_eq(nb_tensor_get(r, 2), 2.0);
    nb_tensor *s = nb_activate(tape, x, NB_SIGMOID);
    ck_assert_double_eq_tol(nb_tensor_get(s, 0), 1.0 / (1.0 + exp(1.0)), 1e-15);
    nb_tensor *t = nb_activate(tape, x, NB_TANH);
    ck_assert_double_eq_tol(nb_tensor_get(t, 2), tanh(2.0), 1e-15);
    nb_tensor *p = nb_activate(tape, x, NB_SOFTMAX);
    double z = exp(-1.0) + 1.0 + exp(2.0);
    ck_assert_double_eq_tol(nb_tensor_get(p, 2), exp(2.0) / z, 1e-15);
    /* the Keras 3 parameters: elu's alpha 1, leaky_relu's slope 0.2 */
    ck_assert_double_eq_tol(nb_tensor_get(nb_activate(tape, x, NB_ELU), 0), exp(-1.0) - 1, 1e-15);
    ck_assert_double_eq_tol(nb_tensor_get(nb_activate(tape, x, NB_LEAKY_RELU), 0), -0.2, 1e-15);
    ck_assert_double_eq_tol(nb_tensor_get(nb_activate(tape, x, NB_GELU), 2),
                            2 * 0.5 * (1 + erf(2 / sqrt(2.0))), 1e-15);
    ck_assert_double_eq_tol(nb_tensor_get(nb_activate(tape, x, NB_SOFTPLUS), 1), log(2.0), 1e-15);
    ck_assert_double_eq_tol(nb_tensor_get(nb_activate(tape, x, NB_SILU), 2),
                            2 / (1 + exp(-2.0)), 1e-15);
    ck_assert_ptr_null(nb_activate(tape, x, (nb_activation)19));
    ck_assert_error_contains("nb_activate: activation 19 is not an nb_activation");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

/* found by fuzz_api: NB_LINEAR returned the reset tensor as if it were live */
START_TEST(activate_linear_refuses_a_tensor_from_before_a_reset)
{
    nb_tensor *x = nb_tensor_ones(NB_F32, NB_SHAPE(2));
    nb_tape *tape = nb_tape_new();
    nb_tensor *h = nb_relu(tape, x);
    nb_tensor_set_name(h, "hidden");
    nb_tape_reset(tape);
    ck_assert_ptr_null(nb_activate(tape, h, NB_LINEAR));
    ck_assert_int_eq(nb_last_status(), NB_ERR_STATE);
    ck_assert_error_contains("nb_activate: tensor 'hidden' was freed by nb_tape_reset");
    nb_tape_free(tape);
    nb_tensor_free(x);
}
END_TEST

/* ---- initializers --------------------------------------------------------------- */

typedef struct stats {
    double mean, var, max_abs;
} stats;

static stats stats_of(const nb_tensor *t)
{
    stats s = {0, 0, 0};
    for (int64_t i = 0; i < t->size; i++)
        s.mean += nb_tensor_get(t, i);
    s.mean /= (double)t->size;
    for (int64_t i = 0; i < t->size; i++) {
        double v = nb_tensor_get(t, i);
        s.var += (v - s.mean) * (v - s.mean);
        s.max_abs = fmax(s.max_abs, fabs(v));
    }
    s.var /= (double)t->size;
    return s;
}

enum { FAN_IN = 300, FAN_OUT = 500 }; /* 150,000 draws */

/* Draw a big [FAN_IN, FAN_OUT] tensor and check its variance (within 2%, the
 * estimate's relative error is about 0.4%), a mean near 0 and that every
 * value lies within `bound` (the uniform limit, or the truncation at two
 * standard deviations); a bounded initializer also comes close to it. */
static void check_initializer(nb_initializer init, double variance, double bound, bool bounded)
{
    nb_rng rng;
    nb_rng_seed(&rng, 42);
    nb_tensor *t = nb_initialize(init, NB_F64, FAN_IN, FAN_OUT, &rng);
    ck_assert_msg(t != NULL, "%s: %s", nb_initializer_name(init), nb_last_error());
    ck_assert_int_eq(t->rank, 2);
    ck_assert_int_eq(t->shape[0], FAN_IN);
    ck_assert_int_eq(t->shape[1], FAN_OUT);
    stats s = stats_of(t);
    double sd_of_mean = sqrt(variance / (double)t->size);
    ck_assert_msg(fabs(s.mean) < 5 * sd_of_mean, "%s: mean %g, expected about 0",
                  nb_initializer_name(init), s.mean);
    ck_assert_msg(fabs(s.var / variance - 1) < 0.02, "%s: variance %g, expected %g",
                  nb_initializer_name(init), s.var, variance);
    ck_assert_msg(s.max_abs <= bound, "%s: |value| up to %g, expected at most %g",
                  nb_initializer_name(init), s.max_abs, bound);
    ck_assert_msg(!bounded || s.max_abs > 0.95 * bound, "%s: |value| only up to %g, expected close to %g",
                  nb_initializer_name(init), s.max_abs, bound);
    nb_tensor_free(t);
}

/* Keras cuts its truncated normals at two standard deviations */
static double truncated_bound(double variance) { return 2.0 * sqrt(variance) / 0.87962566103423978; }

START_TEST(glorot_uniform_is_bounded_by_sqrt_6_over_fans)
{
    double limit = sqrt(6.0 / (FAN_IN + FAN_OUT));
    check_initializer(NB_GLOROT_UNIFORM, 2.0 / (FAN_IN + FAN_OUT), limit, true);
}
END_TEST

START_TEST(glorot_normal_has_variance_2_over_fans)
{
    double v = 2.0 / (FAN_IN + FAN_OUT);
    check_initializer(NB_GLOROT_NORMAL, v, truncated_bound(v), true);
}
END_TEST

START_TEST(he_uniform_is_bounded_by_sqrt_6_over_fan_in)
{
    check_initializer(NB_HE_UNIFORM, 2.0 / FAN_IN, sqrt(6.0 / FAN_IN), true);
}
END_TEST

START_TEST(he_normal_has_variance_2_over_fan_in)
{
    check_initializer(NB_HE_NORMAL, 2.0 / FAN_IN, truncated_bound(2.0 / FAN_IN), true);
}
END_TEST

START_TEST(lecun_uniform_is_bounded_by_sqrt_3_over_fan_in)
{
    check_initializer(NB_LECUN_UNIFORM, 1.0 / FAN_IN, sqrt(3.0 / FAN_IN), true);
}
END_TEST

START_TEST(lecun_normal_has_variance_1_over_fan_in)
{
    check_initializer(NB_LECUN_NORMAL, 1.0 / FAN_IN, truncated_bound(1.0 / FAN_IN), true);
}
END_TEST

START_TEST(random_normal_has_standard_deviation_0_05)
{
    /* not truncated: about 1 in 1.7 million draws passes 5 sd */
    check_initializer(NB_RANDOM_NORMAL, 0.05 * 0.05, 0.05 * 5.5, false);
}
END_TEST

/* W^T W = I for a tall or square W, W W^T = I for a wide one (Keras's
 * recurrent kernel [units, 4 units]). */
static void check_orthonormal(int64_t rows, int64_t cols)
{
    nb_rng rng;
    nb_rng_seed(&rng, 3);
    nb_tensor *w = nb_initialize(NB_ORTHOGONAL, NB_F64, rows, cols, &rng);
    ck_assert_ptr_nonnull(w);
    bool tall = rows >= cols;
    int64_t m = tall ? cols : rows, n = tall ? rows : cols;
    for (int64_t a = 0; a < m; a++)
        for (int64_t b = 0; b < m; b++) {
            double dot = 0;
            for (int64_t k = 0; k < n; k++)
                dot += tall ? nb_tensor_get(w, k * cols + a) * nb_tensor_get(w, k * cols + b)
                            : nb_tensor_get(w, a * cols + k) * nb_tensor_get(w, b * cols + k);
            ck_assert_msg(fabs(dot - (a == b ? 1.0 : 0.0)) < 1e-12,
                          "[%lld, %lld]: (%lld, %lld) of the Gram matrix is %g",
                          (long long)rows, (long long)cols, (long long)a, (long long)b, dot);
        }
    nb_tensor_free(w);
}

START_TEST(orthogonal_gives_orthonormal_columns_or_rows)
{
    check_orthonormal(6, 6);
    check_orthonormal(9, 4);  /* W^T W = I */
    check_orthonormal(3, 12); /* W W^T = I, as an LSTM's [3, 4 * 3] recurrent kernel */
    check_orthonormal(1, 1);
}
END_TEST

START_TEST(zeros_and_ones_are_constant)
{
    nb_rng rng;
    nb_rng_seed(&rng, 1);
    nb_tensor *z = nb_initialize(NB_ZEROS, NB_F32, 7, 3, &rng);
    nb_tensor *o = nb_initialize(NB_ONES, NB_F32, 7, 3, &rng);
    for (int64_t i = 0; i < 21; i++) {
        ck_assert_double_eq(nb_tensor_get(z, i), 0.0);
        ck_assert_double_eq(nb_tensor_get(o, i), 1.0);
    }
    nb_tensor_free(z);
    nb_tensor_free(o);
}
END_TEST

START_TEST(initializers_are_reproducible_from_the_seed)
{
    for (int init = NB_GLOROT_UNIFORM; init <= NB_ORTHOGONAL; init++) {
        nb_rng a, b, c;
        nb_rng_seed(&a, 5);
        nb_rng_seed(&b, 5);
        nb_rng_seed(&c, 6);
        nb_tensor *ta = nb_initialize((nb_initializer)init, NB_F32, 20, 10, &a);
        nb_tensor *tb = nb_initialize((nb_initializer)init, NB_F32, 20, 10, &b);
        nb_tensor *tc = nb_initialize((nb_initializer)init, NB_F32, 20, 10, &c);
        ck_assert_int_eq(memcmp(ta->data, tb->data, 200 * sizeof(float)), 0);
        bool constant = init == NB_ZEROS || init == NB_ONES;
        ck_assert_msg(constant == (memcmp(ta->data, tc->data, 200 * sizeof(float)) == 0),
                      "%s: another seed should %s", nb_initializer_name((nb_initializer)init),
                      constant ? "give the same constant" : "give other values");
        nb_tensor_free(ta);
        nb_tensor_free(tb);
        nb_tensor_free(tc);
    }
}
END_TEST

START_TEST(initializer_names_round_trip)
{
    const char *names[] = {"default",       "glorot_uniform", "glorot_normal",
                           "he_uniform",    "he_normal",      "lecun_uniform",
                           "lecun_normal",  "zeros",          "ones",
                           "random_normal", "orthogonal"};
    for (int i = 0; i < 11; i++) {
        ck_assert_str_eq(nb_initializer_name((nb_initializer)i), names[i]);
        nb_initializer parsed = NB_ONES;
        ck_assert_int_eq(nb_initializer_from_name(names[i], &parsed), NB_OK);
        ck_assert_int_eq(parsed, (nb_initializer)i);
    }
    ck_assert_str_eq(nb_initializer_name((nb_initializer)99), "?");
}
END_TEST

START_TEST(initializer_errors_name_the_problem)
{
    nb_initializer out;
    ck_assert_int_eq(nb_initializer_from_name("identity", &out), NB_ERR_ARG);
    ck_assert_error_contains("unknown initializer 'identity': expected glorot_uniform");
    ck_assert_error_contains("random_normal or orthogonal");
    nb_rng rng;
    nb_rng_seed(&rng, 0);
    ck_assert_ptr_null(nb_initialize((nb_initializer)99, NB_F32, 2, 2, &rng));
    ck_assert_error_contains("nb_initialize: initializer 99 is not an nb_initializer");
    ck_assert_ptr_null(nb_initialize(NB_ZEROS, NB_F32, 2, 2, NULL));
    ck_assert_error_contains("nb_initialize: rng is NULL");
    ck_assert_ptr_null(nb_initialize(NB_GLOROT_UNIFORM, NB_F32, 0, 2, &rng));
    ck_assert_int_eq(nb_last_status(), NB_ERR_SHAPE);
}
END_TEST

static Suite *init_suite(void)
{
    Suite *s = suite_create("init");
    TCase *tc = tcase_create("activations");
    tcase_add_test(tc, activation_names_round_trip);
    tcase_add_test(tc, unknown_activation_name_is_an_error);
    tcase_add_test(tc, activate_applies_each_activation_as_its_op);
    tcase_add_test(tc, activate_linear_refuses_a_tensor_from_before_a_reset);
    suite_add_tcase(s, tc);
    tc = tcase_create("initializers");
    tcase_add_test(tc, glorot_uniform_is_bounded_by_sqrt_6_over_fans);
    tcase_add_test(tc, glorot_normal_has_variance_2_over_fans);
    tcase_add_test(tc, he_uniform_is_bounded_by_sqrt_6_over_fan_in);
    tcase_add_test(tc, he_normal_has_variance_2_over_fan_in);
    tcase_add_test(tc, lecun_uniform_is_bounded_by_sqrt_3_over_fan_in);
    tcase_add_test(tc, lecun_normal_has_variance_1_over_fan_in);
    tcase_add_test(tc, random_normal_has_standard_deviation_0_05);
    tcase_add_test(tc, orthogonal_gives_orthonormal_columns_or_rows);
    tcase_add_test(tc, zeros_and_ones_are_constant);
    tcase_add_test(tc, initializers_are_reproducible_from_the_seed);
    tcase_add_test(tc, initializer_names_round_trip);
    tcase_add_test(tc, initializer_errors_name_the_problem);
    suite_add_tcase(s, tc);
    return s;
}

NB_TEST_MAIN(init_suite)
